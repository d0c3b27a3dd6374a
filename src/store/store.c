/*
 * store: durable history in SQLite. The batch, and its one commit per
 * loop iteration; retention. (Opening, the schema and the statements are
 * in store_open.c, reads in store_read.c.)
 *
 * The batch is a byte buffer of records (a message, a room's state),
 * appended as the core hands them over. Writing it is
 * two steps: store_write_pending inserts the records not yet inserted
 * into an open transaction (a history read does this first, so it sees
 * them), and store_commit commits that transaction. Only a successful
 * commit empties the batch: a failed one is rolled back and the whole
 * batch written again on the next try.
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/dict.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/tbuf.h"
#include "lib/xmalloc.h"
#include "store/store_int.h"

sqlite3 *store_db;
sqlite3_stmt *store_st[ST_COUNT];

/* A target's id and message count, cached from the targets table. */
struct store_target {
    int64_t id;
    int64_t count;
    bool dirty; /* count changed since the last commit: on store_dirty */
};

static struct store_config store_cfg;
static char *store_path;
static struct tbuf store_batch;   /* records */
static size_t store_written;      /* batch bytes in the open transaction */
static uint64_t store_batch_recs; /* records in the batch */
static bool store_in_txn;         /* a transaction is open */
static bool store_failing;        /* in a failing episode */
static uint64_t store_retry_at;   /* when a failing commit is tried again */
static uint64_t store_prune_at;   /* when the next retention step runs */
static int64_t store_prune_next;  /* the target retention visits next */
static uint64_t store_last;       /* highest id stored */
static struct store_target **store_dirty; /* counts to write at commit */
static size_t store_ndirty, store_capdirty;
static uint64_t store_episode_failures;
static struct store_stats store_stat;
static struct dict *store_targets; /* key -> struct store_target */

static void store_tick(void);
static void store_metrics(struct metrics_store *out);

/* How often retention runs, in milliseconds. */
#define STORE_PRUNE_MS 1000
/* Targets one retention step looks at, at most. */
#define STORE_PRUNE_TARGETS 64

sqlite3_stmt *store_stmt(enum store_stmt k)
{
    sqlite3_stmt *st = store_st[k];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* Runs one statement that returns no rows; returns its result code. */
static int store_run(enum store_stmt k)
{
    sqlite3_stmt *st = store_st[k];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

/* Returns the time on CLOCK_MONOTONIC in milliseconds. */
static uint64_t store_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

enum store_open_error store_open(const struct store_config *cfg, char *err,
                                 size_t cap)
{
    store_cfg = *cfg;
    store_path = xstrndup(cfg->path, strlen(cfg->path));
    store_cfg.path = store_path;
    enum store_open_error e = store_open_db(&store_cfg, &store_last, err, cap);
    if (e != STORE_OPEN_OK) {
        store_close();
        return e;
    }
    if (store_ckpt_start(store_path) < 0)
        log_warn("event=store-checkpointer error=start-failed "
                 "action=checkpoints-in-commits");
    store_targets = dict_new();
    store_prune_at = store_now() + STORE_PRUNE_MS;
    metrics_set_store(store_metrics);
    log_info("event=store-open path=%s sync=%s last_id=%llu",
             log_q(store_path, strlen(store_path)),
             cfg->sync_full ? "full" : "normal",
             (unsigned long long)store_last);
    return STORE_OPEN_OK;
}

/* dict_foreach helper: frees one cached target. */
static void store_free_target(void *value, void *arg)
{
    (void)arg;
    free(value);
}

void store_close(void)
{
    if (store_db && store_batch.n > 0 && store_commit() < 0)
        log_error("event=store-close lost=%zu reason=commit-failed",
                  store_batch.n);
    if (store_db)
        store_tick(); /* the counts */
    store_ckpt_stop_thread();
    metrics_set_store(NULL);
    for (int k = 0; k < ST_COUNT; k++) {
        sqlite3_finalize(store_st[k]);
        store_st[k] = NULL;
    }
    if (store_db)
        sqlite3_close(store_db);
    store_db = NULL;
    store_unlock(); /* after SQLite closed the file: see store_open.c */
    if (store_targets) {
        dict_foreach(store_targets, store_free_target, NULL);
        dict_free(store_targets);
    }
    store_targets = NULL;
    free(store_batch.p);
    memset(&store_batch, 0, sizeof store_batch);
    store_written = 0;
    store_batch_recs = 0;
    store_in_txn = store_failing = false;
    free(store_path);
    store_path = NULL;
    store_last = 0;
    free(store_dirty);
    store_dirty = NULL;
    store_ndirty = store_capdirty = 0;
    memset(&store_stat, 0, sizeof store_stat);
}

bool store_on(void)
{
    return store_db != NULL;
}

uint64_t store_last_id(void)
{
    return store_last;
}

void store_get_stats(struct store_stats *out)
{
    *out = store_stat;
    out->pending = store_batch.n;
}

/* The metrics module's reader of the store's counters. */
static void store_metrics(struct metrics_store *out)
{
    *out = (struct metrics_store){store_stat.commits, store_stat.rows,
                                  store_stat.failures, store_stat.lost};
}

/* ------------------------------------------------------------------------
 * Keys
 * ------------------------------------------------------------------------ */

/* Appends len bytes of s in lower case to out at *n, if they fit. */
static bool store_put_lower(char *out, size_t *n, const char *s, size_t len)
{
    if (*n + len >= STORE_TARGET_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        out[(*n)++] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
    }
    out[*n] = '\0';
    return true;
}

size_t store_room_target(const char *name, size_t len, char *out)
{
    size_t n = 1;
    out[0] = '#';
    return store_put_lower(out, &n, name, len) ? n : 0;
}

size_t store_mailbox(const char *owner, size_t olen, const char *host,
                     const char *peer, size_t plen, char *out)
{
    size_t n = 1;
    out[0] = '~';
    bool ok = store_put_lower(out, &n, owner, olen) &&
              store_put_lower(out, &n, "@", 1) &&
              store_put_lower(out, &n, host, strlen(host)) &&
              store_put_lower(out, &n, " ", 1) &&
              store_put_lower(out, &n, peer, plen);
    return ok ? n : 0;
}

/* ------------------------------------------------------------------------
 * The batch
 * ------------------------------------------------------------------------ */

struct store_rec *store_rec_new(enum store_rec_type type, size_t data)
{
    size_t size = (sizeof(struct store_rec) + data + 7) & ~(size_t)7;
    struct store_rec *r = (struct store_rec *)tbuf_reserve(&store_batch, size);
    memset(r, 0, sizeof *r);
    r->size = (uint32_t)size;
    r->type = (uint8_t)type;
    store_batch.n += size;
    store_batch_recs++;
    return r;
}

/* Gives up the oldest records while the batch is over its bound. */
static void store_bound_backlog(void)
{
    if (store_batch.n <= STORE_BACKLOG_MAX)
        return;
    size_t cut = 0;
    while (cut < store_batch.n / 2) {
        const struct store_rec *r =
            (const struct store_rec *)(store_batch.p + cut);
        store_stat.lost += r->type == REC_MSG;
        store_batch_recs--;
        cut += r->size;
    }
    memmove(store_batch.p, store_batch.p + cut, store_batch.n - cut);
    store_batch.n -= cut;
}

void store_append(const char *target, size_t tlen, const struct store_msg *m)
{
    if (store_db == NULL || tlen == 0 || tlen >= STORE_TARGET_MAX)
        return;
    struct store_rec *r =
        store_rec_new(REC_MSG, tlen + m->src_len + m->text_len);
    r->kind = (uint8_t)m->kind;
    r->tlen = (uint16_t)tlen;
    r->src_len = (uint32_t)m->src_len;
    r->text_len = (uint32_t)m->text_len;
    r->id = m->id;
    r->time_ms = m->time_ms;
    memcpy(r->data, target, tlen);
    if (m->src_len)
        memcpy(r->data + tlen, m->src, m->src_len);
    if (m->text_len) /* a cleared topic may have no text at all */
        memcpy(r->data + tlen + m->src_len, m->text, m->text_len);
    if (m->id > store_last)
        store_last = m->id;
    if (store_failing)
        store_bound_backlog();
}

void store_put_field(struct tbuf *b, const char *s, size_t len)
{
    uint32_t n = s ? (uint32_t)len : UINT32_MAX;
    tbuf_put(b, (const char *)&n, sizeof n);
    if (s)
        tbuf_put(b, s, len);
}

const char *store_get_field(const char **p, size_t *len)
{
    uint32_t n;
    memcpy(&n, *p, sizeof n);
    *p += sizeof n;
    if (n == UINT32_MAX) {
        *len = 0;
        return NULL;
    }
    const char *s = *p;
    *p += n;
    *len = n;
    return s;
}

void store_room_put(const struct store_room *room)
{
    if (store_db == NULL)
        return;
    struct tbuf f = {0};
    tbuf_put(&f, (const char *)&room->topic_at, sizeof room->topic_at);
    store_put_field(&f, room->name, room->name_len);
    store_put_field(&f, room->key, room->key ? strlen(room->key) : 0);
    store_put_field(&f, room->topic, room->topic_len);
    store_put_field(&f, room->topic_by,
                    room->topic_by ? strlen(room->topic_by) : 0);
    for (size_t i = 0; i < room->nbans; i++) {
        const struct store_ban *b = &room->bans[i];
        store_put_field(&f, b->mask, strlen(b->mask));
        store_put_field(&f, b->setter, strlen(b->setter));
        tbuf_put(&f, (const char *)&b->when, sizeof b->when);
    }
    struct store_rec *r = store_rec_new(REC_ROOM, f.n);
    r->src_len = (uint32_t)room->nbans;
    r->text_len = (uint32_t)f.n;
    r->id = ((uint64_t)room->modes << 32) | (uint32_t)room->limit;
    r->time_ms = room->created;
    memcpy(r->data, f.p, f.n);
    free(f.p);
}

/* ------------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------------ */

/* Returns target's cache entry, reading or creating its row; NULL on error. */
static struct store_target *store_target(const char *target, size_t tlen,
                                         bool create)
{
    struct store_target *t = dict_get(store_targets, target, tlen);
    if (t)
        return t;
    sqlite3_stmt *st = store_stmt(ST_GET_TARGET);
    sqlite3_bind_text(st, 1, target, (int)tlen, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t id = 0, count = 0;
    if (rc == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        count = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return NULL;
    if (rc == SQLITE_DONE) {
        if (!create)
            return NULL;
        st = store_stmt(ST_NEW_TARGET);
        sqlite3_bind_text(st, 1, target, (int)tlen, SQLITE_STATIC);
        if (store_run(ST_NEW_TARGET) != SQLITE_DONE)
            return NULL;
        id = sqlite3_last_insert_rowid(store_db);
    }
    t = xcalloc(1, sizeof *t);
    t->id = id;
    t->count = count;
    dict_set(store_targets, target, tlen, t);
    return t;
}

int64_t store_target_id(const char *target, size_t tlen, bool create)
{
    if (!create && dict_get(store_targets, target, tlen) == NULL) {
        /* Not cached: a read does not fill the cache with strangers. */
        sqlite3_stmt *st = store_stmt(ST_GET_TARGET);
        sqlite3_bind_text(st, 1, target, (int)tlen, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
        return rc == SQLITE_ROW || rc == SQLITE_DONE ? id : -1;
    }
    struct store_target *t = store_target(target, tlen, create);
    return t ? t->id : -1;
}

/*
 * Deletes the oldest messages of t beyond history_max, up to
 * STORE_PRUNE_CHUNK more than were just added (so it catches up with a
 * lowered limit without one long delete). Returns an SQLite result code.
 */
static int store_trim(struct store_target *t)
{
    int64_t over = t->count - (int64_t)store_cfg.history_max;
    if (store_cfg.history_max == 0 || over <= 0)
        return SQLITE_DONE;
    sqlite3_stmt *st = store_stmt(ST_TRIM);
    sqlite3_bind_int64(st, 1, t->id);
    sqlite3_bind_int64(
        st, 2, over < STORE_PRUNE_CHUNK * 2 ? over : STORE_PRUNE_CHUNK * 2);
    int rc = store_run(ST_TRIM);
    if (rc == SQLITE_DONE) {
        int n = sqlite3_changes(store_db);
        t->count -= n;
        store_stat.pruned += (uint64_t)n;
    }
    return rc;
}

/* Inserts one message record; returns an SQLite result code. */
static int store_write_msg(const struct store_rec *r)
{
    struct store_target *t = store_target(r->data, r->tlen, true);
    if (t == NULL)
        return sqlite3_errcode(store_db);
    sqlite3_stmt *st = store_stmt(ST_INS_MSG);
    sqlite3_bind_int64(st, 1, t->id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)r->id);
    sqlite3_bind_int64(st, 3, r->time_ms);
    sqlite3_bind_int(st, 4, r->kind);
    sqlite3_bind_text(st, 5, r->data + r->tlen, (int)r->src_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->data + r->tlen + r->src_len, (int)r->text_len,
                      SQLITE_STATIC);
    int rc = store_run(ST_INS_MSG);
    if (rc != SQLITE_DONE)
        return rc;
    t->count++;
    if (!t->dirty) {
        if (store_ndirty == store_capdirty) {
            store_capdirty = store_capdirty ? store_capdirty * 2 : 16;
            store_dirty =
                xreallocarray(store_dirty, store_capdirty, sizeof *store_dirty);
        }
        store_dirty[store_ndirty++] = t;
        t->dirty = true;
    }
    return store_trim(t);
}

/* Writes the counts of the targets written to since the last commit. */
static int store_write_counts(void)
{
    int rc = SQLITE_DONE;
    for (size_t i = 0; i < store_ndirty && rc == SQLITE_DONE; i++) {
        struct store_target *t = store_dirty[i];
        sqlite3_stmt *st = store_stmt(ST_SET_COUNT);
        sqlite3_bind_int64(st, 1, t->id);
        sqlite3_bind_int64(st, 2, t->count);
        rc = store_run(ST_SET_COUNT);
        t->dirty = false;
    }
    store_ndirty = 0;
    return rc;
}

/* Writes one room record: the row, then its bans. */
static int store_write_room(const struct store_rec *r)
{
    const char *p = r->data;
    int64_t topic_at;
    memcpy(&topic_at, p, sizeof topic_at);
    p += sizeof topic_at;
    size_t nlen, klen, tlen, blen;
    const char *name = store_get_field(&p, &nlen);
    const char *key = store_get_field(&p, &klen);
    const char *topic = store_get_field(&p, &tlen);
    const char *by = store_get_field(&p, &blen);
    sqlite3_stmt *st = store_stmt(ST_ROOM_PUT);
    sqlite3_bind_text(st, 2, name, (int)nlen, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, r->time_ms);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)(r->id >> 32));
    if (key)
        sqlite3_bind_text(st, 5, key, (int)klen, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)(r->id & 0xffffffffu));
    if (topic)
        sqlite3_bind_text(st, 7, topic, (int)tlen, SQLITE_STATIC);
    if (by)
        sqlite3_bind_text(st, 8, by, (int)blen, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, topic_at);
    int rc = store_run(ST_ROOM_PUT);
    st = store_stmt(ST_BANS_DEL);
    sqlite3_bind_text(st, 1, name, (int)nlen, SQLITE_STATIC);
    if (rc == SQLITE_DONE)
        rc = store_run(ST_BANS_DEL);
    for (uint32_t i = 0; i < r->src_len && rc == SQLITE_DONE; i++) {
        size_t mlen, slen;
        const char *mask = store_get_field(&p, &mlen);
        const char *setter = store_get_field(&p, &slen);
        int64_t when;
        memcpy(&when, p, sizeof when);
        p += sizeof when;
        st = store_stmt(ST_BAN_INS);
        sqlite3_bind_text(st, 1, name, (int)nlen, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, i);
        sqlite3_bind_text(st, 3, mask, (int)mlen, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, setter, (int)slen, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, when);
        rc = store_run(ST_BAN_INS);
    }
    return rc;
}

/* Writes one record of the batch; returns an SQLite result code. */
static int store_write_rec(const struct store_rec *r)
{
    switch (r->type) {
    case REC_MSG:
        return store_write_msg(r);
    case REC_ROOM:
        return store_write_room(r);
    default:
        return store_write_sban(r);
    }
}

/* Forgets the cached targets: after a rollback their counts are off. */
static void store_forget_targets(void)
{
    store_ndirty = 0;
    dict_foreach(store_targets, store_free_target, NULL);
    dict_free(store_targets);
    store_targets = dict_new();
}

/*
 * A write or commit failed with rc: rolls back, so the whole batch is
 * written again on the next try; starts (and logs) a failing episode, or
 * counts one more failure of the current one. Returns -1.
 */
static int store_fail(int rc)
{
    if (!sqlite3_get_autocommit(store_db))
        store_run(ST_ROLLBACK);
    store_in_txn = false;
    store_written = 0;
    store_forget_targets();
    store_stat.failures++;
    store_episode_failures++;
    store_retry_at = store_now() + STORE_RETRY_MS;
    if (!store_failing) {
        store_failing = true;
        store_episode_failures = 1;
        log_error("event=store-error error=%s code=%d pending=%zu "
                  "action=retrying",
                  log_q(sqlite3_errstr(rc), strlen(sqlite3_errstr(rc))), rc,
                  store_batch.n);
    }
    store_bound_backlog();
    return -1;
}

int store_write_pending(void)
{
    if (store_db == NULL || store_written == store_batch.n)
        return 0;
    if (store_failing && store_now() < store_retry_at)
        return -1;
    if (!store_in_txn) {
        int rc = store_run(ST_BEGIN);
        if (rc != SQLITE_DONE)
            return store_fail(rc);
        store_in_txn = true;
    }
    while (store_written < store_batch.n) {
        const struct store_rec *r =
            (const struct store_rec *)(store_batch.p + store_written);
        int rc = store_write_rec(r);
        if (rc != SQLITE_DONE)
            return store_fail(rc);
        store_written += r->size;
    }
    return 0;
}

/* A failing episode is over: says so, with what it cost. */
static void store_recovered(void)
{
    store_failing = false;
    log_warn("event=store-recovered failures=%llu lost=%llu",
             (unsigned long long)store_episode_failures,
             (unsigned long long)store_stat.lost);
}

/*
 * Deletes messages older than history_days from up to STORE_PRUNE_TARGETS
 * targets, STORE_PRUNE_CHUNK rows in all at most, going round the targets
 * from where the last step stopped, inside the caller's transaction. A
 * message's id is at least its time in milliseconds times 1000 (the core
 * makes it so), so "id below the cut-off's" finds old ones by the primary
 * key. Returns how many it deleted.
 */
static int64_t store_prune_old(void)
{
    int64_t cutoff_ms =
        (int64_t)time(NULL) * 1000 - (int64_t)store_cfg.history_days * 86400000;
    int64_t deleted = 0;
    for (int i = 0; i < STORE_PRUNE_TARGETS && deleted < STORE_PRUNE_CHUNK;
         i++) {
        sqlite3_stmt *st = store_stmt(ST_NEXT_TARGET);
        sqlite3_bind_int64(st, 1, store_prune_next);
        if (sqlite3_step(st) != SQLITE_ROW) {
            store_prune_next = 0; /* round again next time */
            break;
        }
        int64_t id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        store_prune_next = id + 1;
        st = store_stmt(ST_PRUNE_OLD);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, cutoff_ms * 1000);
        sqlite3_bind_int64(st, 3, STORE_PRUNE_CHUNK - deleted);
        if (store_run(ST_PRUNE_OLD) != SQLITE_DONE)
            break;
        int n = sqlite3_changes(store_db);
        if (n > 0) {
            deleted += n;
            st = store_stmt(ST_SUB_COUNT);
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_int64(st, 2, n);
            store_run(ST_SUB_COUNT);
        }
    }
    return deleted;
}

/*
 * Once a second, in a transaction of its own: writes the message counts
 * of the targets written to since (kept in memory until then, so that a
 * commit touches no page but the messages'), and runs one retention step.
 * After a crash a count may be short by up to a second of messages: that
 * room then keeps as many more than --history-max.
 */
static void store_tick(void)
{
    if (store_in_txn || store_failing ||
        (store_ndirty == 0 && store_cfg.history_days == 0))
        return;
    if (store_run(ST_BEGIN) != SQLITE_DONE)
        return;
    int rc = store_write_counts();
    int64_t deleted = 0;
    if (rc == SQLITE_DONE && store_cfg.history_days > 0)
        deleted = store_prune_old();
    if (rc != SQLITE_DONE || store_run(ST_COMMIT) != SQLITE_DONE) {
        store_run(ST_ROLLBACK);
        store_forget_targets();
        return;
    }
    store_stat.pruned += (uint64_t)deleted;
    if (deleted > 0)
        store_forget_targets(); /* their counts changed on disk */
}

int store_commit(void)
{
    if (store_db == NULL)
        return 0;
    uint64_t now = 0;
    if (store_written < store_batch.n || store_in_txn) {
        if (store_write_pending() < 0)
            return -1;
        int rc = store_run(ST_COMMIT);
        if (rc != SQLITE_DONE)
            return store_fail(rc);
        store_in_txn = false;
        store_written = store_batch.n = 0;
        store_stat.commits++;
        store_stat.rows += store_batch_recs;
        store_batch_recs = 0;
        if (store_failing)
            store_recovered();
    }
    now = store_now();
    if (now >= store_prune_at) {
        store_prune_at = now + STORE_PRUNE_MS;
        store_tick();
    }
    return 0;
}
