/*
 * store_sban: server bans on disk, so that they survive a restart.
 *
 * A change (a ban set, replaced or removed) is a record of the batch like
 * a message, committed with it once per loop iteration: its kind is 1 for
 * a ban put, 0 for a removal; time_ms is when it was set, id its expiry;
 * its data is the mask, reason and setter (store_put_field).
 */
#include <stdlib.h>
#include <string.h>

#include "lib/tbuf.h"
#include "store/store_int.h"

/* Adds a server ban record: b's fields, kind 1 if put else 0. */
static void store_sban_rec(const struct store_sban *b, bool put)
{
    if (store_db == NULL)
        return;
    struct tbuf f = {0};
    store_put_field(&f, b->mask, strlen(b->mask));
    store_put_field(&f, b->reason, b->reason ? strlen(b->reason) : 0);
    store_put_field(&f, b->setter, b->setter ? strlen(b->setter) : 0);
    struct store_rec *r = store_rec_new(REC_SBAN, f.n);
    r->kind = put;
    r->text_len = (uint32_t)f.n;
    r->id = (uint64_t)b->expires;
    r->time_ms = b->set_at;
    memcpy(r->data, f.p, f.n);
    free(f.p);
}

void store_sban_put(const struct store_sban *b)
{
    store_sban_rec(b, true);
}

void store_sban_del(const char *mask)
{
    const struct store_sban b = {.mask = mask};
    store_sban_rec(&b, false);
}

int store_write_sban(const struct store_rec *r)
{
    const char *p = r->data;
    size_t mlen, rlen, slen;
    const char *mask = store_get_field(&p, &mlen);
    const char *reason = store_get_field(&p, &rlen);
    const char *setter = store_get_field(&p, &slen);
    enum store_stmt k = r->kind ? ST_SBAN_PUT : ST_SBAN_DEL;
    sqlite3_stmt *st = store_stmt(k);
    sqlite3_bind_text(st, 1, mask, (int)mlen, SQLITE_STATIC);
    if (r->kind) {
        sqlite3_bind_text(st, 2, reason ? reason : "", (int)rlen,
                          SQLITE_STATIC);
        sqlite3_bind_text(st, 3, setter ? setter : "", (int)slen,
                          SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, r->time_ms);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)r->id);
    }
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

/* Returns column i of st as a string, "" if it is NULL. */
static const char *store_sban_col(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? s : "";
}

long store_sban_each(void (*fn)(const struct store_sban *b, void *arg),
                     void *arg)
{
    if (store_db == NULL)
        return 0;
    store_write_pending();
    /* Copied out first: fn may add records to the batch, and a read
     * writes the batch into the open transaction. */
    sqlite3_stmt *st = store_stmt(ST_SBAN_LIST);
    struct tbuf strs = {0}, times = {0};
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < 3; i++) {
            const char *s = store_sban_col(st, i);
            tbuf_put(&strs, s, strlen(s) + 1);
        }
        int64_t t[2] = {sqlite3_column_int64(st, 3),
                        sqlite3_column_int64(st, 4)};
        tbuf_put(&times, (const char *)t, sizeof t);
    }
    sqlite3_reset(st);
    long n = 0;
    const char *p = strs.p;
    for (size_t off = 0; off < times.n; off += 2 * sizeof(int64_t), n++) {
        int64_t t[2];
        memcpy(t, times.p + off, sizeof t);
        struct store_sban b = {.set_at = t[0], .expires = t[1]};
        b.mask = p;
        p += strlen(p) + 1;
        b.reason = p;
        p += strlen(p) + 1;
        b.setter = p;
        p += strlen(p) + 1;
        fn(&b, arg);
    }
    free(strs.p);
    free(times.p);
    return rc == SQLITE_DONE ? n : -1;
}
