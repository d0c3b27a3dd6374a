/*
 * store_read: reading the store back. History queries by position (the
 * same directions and references as the in-memory ring, core/history.c),
 * and rooms' lasting state.
 *
 * Every query works on ids: a reference becomes the id of the first
 * message at or after it, and each direction is then one range scan of
 * the primary key (target, id), so its cost is O(log n + limit).
 */
#include <stdlib.h>
#include <string.h>

#include "core/room.h"
#include "lib/tbuf.h"
#include "lib/xmalloc.h"
#include "store/store_int.h"

/* The bound past every id (SQLite integers are signed). */
#define STORE_ID_END INT64_MAX

/* Rows read by one query, as struct room_msg records 8-byte aligned. */
struct store_rows {
    struct tbuf buf;
    size_t *off; /* where each record starts */
    size_t n, cap;
};

/* Appends the row st stands on to rows. */
static void store_row_add(struct store_rows *rows, sqlite3_stmt *st)
{
    const char *src = (const char *)sqlite3_column_text(st, 3);
    size_t src_len = (size_t)sqlite3_column_bytes(st, 3);
    const char *text = (const char *)sqlite3_column_text(st, 4);
    size_t text_len = (size_t)sqlite3_column_bytes(st, 4);
    if (src_len > UINT8_MAX)
        src_len = UINT8_MAX;
    size_t size =
        (sizeof(struct room_msg) + src_len + text_len + 7) & ~(size_t)7;
    if (rows->n == rows->cap) {
        rows->cap = rows->cap ? rows->cap * 2 : 32;
        rows->off = xreallocarray(rows->off, rows->cap, sizeof *rows->off);
    }
    rows->off[rows->n++] = rows->buf.n;
    struct room_msg *m = (struct room_msg *)tbuf_reserve(&rows->buf, size);
    rows->buf.n += size;
    m->id = (uint64_t)sqlite3_column_int64(st, 0);
    m->time_ms = sqlite3_column_int64(st, 1);
    m->kind = (uint8_t)sqlite3_column_int(st, 2);
    const char *bang = src_len ? memchr(src, '!', src_len) : NULL;
    m->nick_len = (uint8_t)(bang ? (size_t)(bang - src) : src_len);
    m->src_len = (uint8_t)src_len;
    m->text_len = (uint32_t)text_len;
    if (src_len)
        memcpy(m->data, src, src_len);
    if (text_len)
        memcpy(m->data + src_len, text, text_len);
}

/* Returns the i-th row read. */
static const struct room_msg *store_row(const struct store_rows *rows, size_t i)
{
    return (const struct room_msg *)(rows->buf.p + rows->off[i]);
}

/* Frees what rows holds. */
static void store_rows_free(struct store_rows *rows)
{
    free(rows->buf.p);
    free(rows->off);
}

/*
 * Reads up to limit messages of target tid with ids in [lo, hi) into rows:
 * the oldest of them, or the newest (then newest first) if newest.
 */
static void store_range(int64_t tid, int64_t lo, int64_t hi, size_t limit,
                        bool newest, struct store_rows *rows)
{
    if (hi <= lo || limit == 0)
        return;
    sqlite3_stmt *st = store_stmt(newest ? ST_HIST_DESC : ST_HIST_ASC);
    sqlite3_bind_int64(st, 1, tid);
    sqlite3_bind_int64(st, 2, lo);
    sqlite3_bind_int64(st, 3, hi);
    sqlite3_bind_int64(st, 4, limit > INT32_MAX ? INT32_MAX : (int64_t)limit);
    while (sqlite3_step(st) == SQLITE_ROW)
        store_row_add(rows, st);
    sqlite3_reset(st);
}

/*
 * Returns the id of the first message of tid at or after ref (past: after
 * ref), or unbound when ref gives no bound. A time finds the first
 * message at or after that time: its id is at least the time times 1000.
 */
static int64_t store_pos(int64_t tid, const struct chat_hist_ref *ref,
                         bool past, int64_t unbound)
{
    if (ref == NULL || ref->kind == CHAT_REF_NONE)
        return unbound;
    if (ref->kind == CHAT_REF_ID) {
        int64_t id = ref->id > (uint64_t)STORE_ID_END - 1 ? STORE_ID_END - 1
                                                          : (int64_t)ref->id;
        return past ? id + 1 : id;
    }
    int64_t t = ref->time_ms + (past ? 1 : 0);
    if (t < 0)
        t = 0;
    if (t > STORE_ID_END / 1000 - 1)
        return STORE_ID_END;
    sqlite3_stmt *st = store_stmt(ST_TIME_POS);
    sqlite3_bind_int64(st, 1, tid);
    sqlite3_bind_int64(st, 2, t * 1000);
    sqlite3_bind_int64(st, 3, t);
    int64_t pos = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0)
                                                 : STORE_ID_END;
    sqlite3_reset(st);
    return pos;
}

/* Gives fn rows [from, to) (oldest first if they were read so), or in
 * reverse if reverse. Returns how many. */
static size_t store_emit(const struct store_rows *rows, size_t from, size_t to,
                         bool reverse, chat_hist_fn fn, void *arg)
{
    for (size_t i = from; i < to; i++)
        fn(store_row(rows, reverse ? to - 1 - (i - from) : i), arg);
    return to > from ? to - from : 0;
}

/* AROUND: as hist_around in core/history.c. */
static size_t store_around(int64_t tid, const struct chat_hist_ref *a,
                           size_t limit, chat_hist_fn fn, void *arg)
{
    int64_t p = store_pos(tid, a, false, STORE_ID_END);
    struct store_rows before = {0}, after = {0};
    store_range(tid, 0, p, limit, true, &before);
    store_range(tid, p, STORE_ID_END, limit, false, &after);
    size_t nb = before.n < limit / 2 ? before.n : limit / 2;
    size_t na = after.n < limit - nb ? after.n : limit - nb;
    nb = before.n < limit - na ? before.n : limit - na;
    size_t n = store_emit(&before, 0, nb, true, fn, arg);
    n += store_emit(&after, 0, na, false, fn, arg);
    store_rows_free(&before);
    store_rows_free(&after);
    return n;
}

size_t store_history(const char *target, size_t tlen, enum chat_hist_dir dir,
                     const struct chat_hist_ref *a,
                     const struct chat_hist_ref *b, size_t limit,
                     chat_hist_fn fn, void *arg)
{
    if (store_db == NULL || limit == 0)
        return 0;
    store_write_pending(); /* on failure, what is written so far is read */
    int64_t tid = store_target_id(target, tlen, false);
    if (tid <= 0)
        return 0;
    if (dir == CHAT_HIST_AROUND)
        return store_around(tid, a, limit, fn, arg);
    struct store_rows rows = {0};
    bool newest = true;
    int64_t e = STORE_ID_END;
    switch (dir) {
    case CHAT_HIST_LATEST:
        store_range(tid, store_pos(tid, a, true, 0), e, limit, true, &rows);
        break;
    case CHAT_HIST_BEFORE:
        store_range(tid, 0, store_pos(tid, a, false, e), limit, true, &rows);
        break;
    case CHAT_HIST_AFTER:
        newest = false;
        store_range(tid, store_pos(tid, a, true, 0), e, limit, false, &rows);
        break;
    default: {
        int64_t fa = store_pos(tid, a, false, 0);
        int64_t fb = store_pos(tid, b, false, e);
        newest = fa > fb;
        if (newest)
            store_range(tid, store_pos(tid, b, true, 0), fa, limit, true,
                        &rows);
        else
            store_range(tid, store_pos(tid, a, true, 0), fb, limit, false,
                        &rows);
    }
    }
    size_t n = store_emit(&rows, 0, rows.n, newest, fn, arg);
    store_rows_free(&rows);
    return n;
}

/* ------------------------------------------------------------------------
 * Rooms
 * ------------------------------------------------------------------------ */

/* Returns column i of st as a string, or NULL if it is NULL. */
static const char *store_col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* A room's bans as read: their strings live in strs. */
struct store_bans {
    struct store_ban *v;
    size_t n;
    struct tbuf strs; /* "mask\0setter\0" for each ban */
};

/* Reads the bans of room name (len bytes) into *out (free with free()). */
static void store_read_bans(const char *name, size_t len,
                            struct store_bans *out)
{
    sqlite3_stmt *st = store_stmt(ST_ROOM_BANS);
    sqlite3_bind_text(st, 1, name, (int)len, SQLITE_STATIC);
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : 4;
            out->v = xreallocarray(out->v, cap, sizeof *out->v);
        }
        const char *mask = store_col(st, 0), *setter = store_col(st, 1);
        tbuf_put(&out->strs, mask ? mask : "", mask ? strlen(mask) + 1 : 1);
        tbuf_put(&out->strs, setter ? setter : "",
                 setter ? strlen(setter) + 1 : 1);
        out->v[out->n++].when = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    /* The buffer has stopped moving: point at the strings. */
    const char *p = out->strs.p;
    for (size_t i = 0; i < out->n; i++) {
        out->v[i].mask = p;
        p += strlen(p) + 1;
        out->v[i].setter = p;
        p += strlen(p) + 1;
    }
}

int store_room_get(const char *name, size_t len,
                   void (*fn)(const struct store_room *r, void *arg), void *arg)
{
    if (store_db == NULL)
        return 0;
    store_write_pending();
    struct store_bans bans = {0};
    store_read_bans(name, len, &bans);
    sqlite3_stmt *st = store_stmt(ST_ROOM_GET);
    sqlite3_bind_text(st, 1, name, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *shown = store_col(st, 0);
        const char *topic = store_col(st, 5);
        struct store_room r = {
            .name = shown ? shown : "",
            .name_len = shown ? strlen(shown) : 0,
            .created = sqlite3_column_int64(st, 1),
            .modes = (unsigned)sqlite3_column_int(st, 2),
            .key = store_col(st, 3),
            .limit = (size_t)sqlite3_column_int64(st, 4),
            .topic = topic,
            .topic_len = topic ? (size_t)sqlite3_column_bytes(st, 5) : 0,
            .topic_by = store_col(st, 6),
            .topic_at = sqlite3_column_int64(st, 7),
            .bans = bans.v,
            .nbans = bans.n,
        };
        fn(&r, arg);
    }
    sqlite3_reset(st);
    free(bans.v);
    free(bans.strs.p);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

size_t store_room_each(size_t max,
                       void (*fn)(const struct store_room *r, void *arg),
                       void *arg)
{
    if (store_db == NULL)
        return 0;
    /* The names first: store_room_get runs statements of its own. */
    sqlite3_stmt *st = store_stmt(ST_ROOM_LIST);
    sqlite3_bind_int64(st, 1, max > INT32_MAX ? INT32_MAX : (int64_t)max);
    struct tbuf names = {0};
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = store_col(st, 0);
        if (name)
            tbuf_put(&names, name, strlen(name) + 1);
    }
    sqlite3_reset(st);
    size_t n = 0;
    for (size_t off = 0; off < names.n; off += strlen(names.p + off) + 1)
        n += store_room_get(names.p + off, strlen(names.p + off), fn, arg) == 1;
    free(names.p);
    return n;
}

/* ------------------------------------------------------------------------
 * Mailboxes
 * ------------------------------------------------------------------------ */

size_t store_mailboxes(const char *prefix, size_t plen, int64_t lo, int64_t hi,
                       size_t limit, store_mailbox_fn fn, void *arg)
{
    if (store_db == NULL || plen == 0 || plen >= STORE_TARGET_MAX)
        return 0;
    store_write_pending();
    /* Every key with the prefix sorts from it up to the prefix with its
     * last byte (the space before the peer) raised by one. */
    char end[STORE_TARGET_MAX];
    memcpy(end, prefix, plen);
    end[plen - 1]++;
    sqlite3_stmt *st = store_stmt(ST_MAILBOXES);
    sqlite3_bind_text(st, 1, prefix, (int)plen, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, end, (int)plen, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, lo);
    sqlite3_bind_int64(st, 4, hi);
    sqlite3_bind_int64(st, 5, limit > INT32_MAX ? INT32_MAX : (int64_t)limit);
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        if (name == NULL || len <= plen)
            continue;
        fn(name + plen, len - plen, (uint64_t)sqlite3_column_int64(st, 1),
           sqlite3_column_int64(st, 2), arg);
        n++;
    }
    sqlite3_reset(st);
    return n;
}
