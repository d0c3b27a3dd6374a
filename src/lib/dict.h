/*
 * dict: a hash table from case-insensitive byte-string keys to pointers.
 *
 * Nicks, room names and peer addresses are all looked up by key, and all of
 * them compare without regard to ASCII case, so that is the only kind of key
 * this table knows. The hash is seeded per process so that clients cannot
 * choose keys that collide.
 */
#ifndef PARLEY_DICT_H
#define PARLEY_DICT_H

#include <stdbool.h>
#include <stddef.h>

struct dict;

/* Returns a new, empty table. */
struct dict *dict_new(void);

/* Frees the table and its keys (not the values); dict_free(NULL) is a no-op. */
void dict_free(struct dict *d);

/* Returns the number of entries. */
size_t dict_count(const struct dict *d);

/* Returns the value stored under key (len bytes), or NULL. */
void *dict_get(const struct dict *d, const char *key, size_t len);

/* Stores value under key, replacing any value there. The key is copied. */
void dict_set(struct dict *d, const char *key, size_t len, void *value);

/* Removes key; returns true if it was there. */
bool dict_del(struct dict *d, const char *key, size_t len);

/*
 * Calls fn(value, arg) for every entry, in no particular order. fn must not
 * add or remove entries.
 */
void dict_foreach(const struct dict *d, void (*fn)(void *value, void *arg),
                  void *arg);

/* Sets the process-wide hash seed; call once before any table is used. */
void dict_seed(unsigned long long seed);

#endif
