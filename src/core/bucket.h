/*
 * bucket: token buckets for rare actions (creating a room), one number each,
 * and a table of them by key (a client's address) that forgets full buckets.
 *
 * A bucket allows `burst` actions at once, then one per `interval_ms`. It is
 * kept as the time at which it is full again (the generic cell rate
 * algorithm): an action at `now` is allowed while that time is at most
 * (burst - 1) intervals ahead, and moves it one interval later. A time that
 * has passed, such as 0, is a full bucket, so a new bucket is just 0.
 */
#ifndef PARLEY_BUCKET_H
#define PARLEY_BUCKET_H

#include <stddef.h>
#include <stdint.h>

/* A rate: burst actions at once, then one per interval_ms. */
struct bucket_rate {
    unsigned burst;       /* at least 1 */
    uint64_t interval_ms; /* 0: no limit */
};

/* Returns the rate of burst actions, then per_minute a minute (0: none). */
struct bucket_rate bucket_rate_per_minute(unsigned burst, unsigned per_minute);

/*
 * Returns how many milliseconds from now the bucket full_at allows one
 * action under rate r: 0 if it allows one now.
 */
uint64_t bucket_wait(uint64_t full_at, const struct bucket_rate *r,
                     uint64_t now);

/* Spends one action of *full_at; bucket_wait must have returned 0. */
void bucket_take(uint64_t *full_at, const struct bucket_rate *r, uint64_t now);

/*
 * A table of buckets of one rate by key (compared without ASCII case). It
 * holds only buckets that are not full: two generations of keys, the older
 * dropped whole once every burst * interval_ms, which is when any bucket
 * not touched since is full again. So it holds at most the keys that acted
 * in the last two such windows, and each action costs O(1) amortized.
 */
struct bucket_table;

/* Returns a new, empty table for rate r (copied). */
struct bucket_table *bucket_table_new(const struct bucket_rate *r);

/* Frees the table; bucket_table_free(NULL) is a no-op. */
void bucket_table_free(struct bucket_table *t);

/* Returns bucket_wait for key's bucket (len bytes) at now. */
uint64_t bucket_table_wait(struct bucket_table *t, const char *key, size_t len,
                           uint64_t now);

/* Spends one action of key's bucket; bucket_table_wait must have said 0. */
void bucket_table_take(struct bucket_table *t, const char *key, size_t len,
                       uint64_t now);

/* Returns how many keys the table holds (both generations). */
size_t bucket_table_count(const struct bucket_table *t);

#endif
