/*
 * bucket: token buckets for rare actions, and a table of them by key.
 */
#include "core/bucket.h"

#include <stdlib.h>

#include "lib/dict.h"
#include "lib/xmalloc.h"

/* A bucket's time is stored in the table as the pointer value itself. */
_Static_assert(sizeof(uintptr_t) >= sizeof(uint64_t),
               "bucket times are stored in pointers");

struct bucket_table {
    struct bucket_rate rate;
    struct dict *cur, *old; /* key -> full-again time, as uintptr_t */
    uint64_t rotate_at;     /* when cur becomes old and old is dropped */
};

struct bucket_rate bucket_rate_per_minute(unsigned burst, unsigned per_minute)
{
    struct bucket_rate r = {burst ? burst : 1, 0};
    if (per_minute > 0)
        r.interval_ms = (60000 + per_minute - 1) / per_minute;
    return r;
}

uint64_t bucket_wait(uint64_t full_at, const struct bucket_rate *r,
                     uint64_t now)
{
    if (r->interval_ms == 0 || full_at <= now)
        return 0;
    uint64_t ahead = full_at - now;
    uint64_t room = (uint64_t)(r->burst - 1) * r->interval_ms;
    return ahead > room ? ahead - room : 0;
}

void bucket_take(uint64_t *full_at, const struct bucket_rate *r, uint64_t now)
{
    if (r->interval_ms == 0)
        return;
    *full_at = (*full_at > now ? *full_at : now) + r->interval_ms;
}

struct bucket_table *bucket_table_new(const struct bucket_rate *r)
{
    struct bucket_table *t = xcalloc(1, sizeof *t);
    t->rate = *r;
    t->cur = dict_new();
    t->old = dict_new();
    return t;
}

void bucket_table_free(struct bucket_table *t)
{
    if (t == NULL)
        return;
    dict_free(t->cur);
    dict_free(t->old);
    free(t);
}

/*
 * Starts a new generation once a window has passed since the last one: the
 * old keys were last touched more than a window ago, so they are full.
 */
static void bucket_table_rotate(struct bucket_table *t, uint64_t now)
{
    if (now < t->rotate_at)
        return;
    uint64_t window = (uint64_t)t->rate.burst * t->rate.interval_ms;
    dict_free(t->old);
    if (now - t->rotate_at >= window) { /* cur is all full, too */
        dict_free(t->cur);
        t->old = dict_new();
    } else {
        t->old = t->cur;
    }
    t->cur = dict_new();
    t->rotate_at = now + window;
}

/* Returns key's full-again time (0 if the table does not hold it). */
static uint64_t bucket_table_get(const struct bucket_table *t, const char *key,
                                 size_t len)
{
    void *v = dict_get(t->cur, key, len);
    if (v == NULL)
        v = dict_get(t->old, key, len);
    return (uint64_t)(uintptr_t)v;
}

uint64_t bucket_table_wait(struct bucket_table *t, const char *key, size_t len,
                           uint64_t now)
{
    if (t->rate.interval_ms == 0)
        return 0;
    bucket_table_rotate(t, now);
    return bucket_wait(bucket_table_get(t, key, len), &t->rate, now);
}

void bucket_table_take(struct bucket_table *t, const char *key, size_t len,
                       uint64_t now)
{
    if (t->rate.interval_ms == 0)
        return;
    bucket_table_rotate(t, now);
    uint64_t full_at = bucket_table_get(t, key, len);
    bucket_take(&full_at, &t->rate, now);
    dict_del(t->old, key, len);
    dict_set(t->cur, key, len, (void *)(uintptr_t)full_at);
}

size_t bucket_table_count(const struct bucket_table *t)
{
    return dict_count(t->cur) + dict_count(t->old);
}
