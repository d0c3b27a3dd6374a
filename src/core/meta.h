/*
 * meta: a small list of keys and their values, in the order they were set.
 *
 * IRC's metadata (a user's keys on its session, a channel's on its room),
 * metadata subscriptions and read markers are each one of these. They are
 * short (tens of entries, bounded by whoever keeps one), so a list walked
 * from the start beats a hash table in memory and in code. A list nobody
 * has set anything in is NULL: it costs a pointer.
 */
#ifndef PARLEY_META_H
#define PARLEY_META_H

#include <stdbool.h>
#include <stddef.h>

/* One key and its value, both NUL-terminated copies. */
struct meta_entry {
    char *key;
    size_t key_len;
    char *value;
    size_t value_len;
};

struct meta {
    struct meta_entry *e; /* in the order the keys were first set */
    size_t n, cap;
};

/* Returns the entry of key (len bytes, compared exactly) in m, or NULL. */
const struct meta_entry *meta_get(const struct meta *m, const char *key,
                                  size_t len);

/*
 * Sets key (klen bytes) to value (vlen bytes; both copied) in *mp,
 * allocating the list if *mp is NULL. A key already there keeps its place.
 * Returns false, changing nothing, if the key is new and the list holds
 * max entries already.
 */
bool meta_set(struct meta **mp, const char *key, size_t klen, const char *value,
              size_t vlen, size_t max);

/*
 * Removes key (len bytes) from *mp, keeping the others in order; frees the
 * list and sets *mp to NULL when it empties. Returns true if key was there.
 */
bool meta_del(struct meta **mp, const char *key, size_t len);

/* Returns the number of keys in m (0 for NULL). */
size_t meta_count(const struct meta *m);

/* Frees m and all it holds; meta_free(NULL) is a no-op. */
void meta_free(struct meta *m);

#endif
