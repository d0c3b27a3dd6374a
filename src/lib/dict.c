/*
 * dict: a hash table from case-insensitive byte-string keys to pointers.
 *
 * Separate chaining with a power-of-two bucket array that doubles when the
 * table holds more entries than buckets. Each entry stores its key and hash,
 * so a resize never hashes again.
 */
#include "lib/dict.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"

struct dict_entry {
    struct dict_entry *next;
    uint64_t hash;
    void *value;
    size_t len;
    char key[]; /* len bytes, as given */
};

struct dict {
    struct dict_entry **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
};

#define DICT_MIN_BUCKETS 16

static uint64_t dict_hash_seed = 0x9e3779b97f4a7c15ULL;

void dict_seed(unsigned long long seed)
{
    dict_hash_seed = seed | 1;
}

/* Returns ASCII c in lower case; other bytes unchanged. */
static inline unsigned char dict_fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* Hashes the case-folded key: seeded FNV-1a with a final avalanche. */
static uint64_t dict_hash(const char *key, size_t len)
{
    uint64_t h = dict_hash_seed ^ 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= dict_fold((unsigned char)key[i]);
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* Returns true if the two keys are equal ignoring ASCII case. */
static bool dict_key_eq(const char *a, const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (dict_fold((unsigned char)a[i]) != dict_fold((unsigned char)b[i]))
            return false;
    return true;
}

struct dict *dict_new(void)
{
    struct dict *d = xcalloc(1, sizeof *d);
    d->nbuckets = DICT_MIN_BUCKETS;
    d->buckets = xcalloc(d->nbuckets, sizeof *d->buckets);
    return d;
}

void dict_free(struct dict *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->nbuckets; i++) {
        struct dict_entry *e = d->buckets[i];
        while (e) {
            struct dict_entry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(d->buckets);
    free(d);
}

size_t dict_count(const struct dict *d)
{
    return d->count;
}

/* Returns the link that points at key's entry, or at the chain's NULL end. */
static struct dict_entry **dict_find(const struct dict *d, const char *key,
                                     size_t len, uint64_t hash)
{
    struct dict_entry **link = &d->buckets[hash & (d->nbuckets - 1)];
    while (*link) {
        struct dict_entry *e = *link;
        if (e->hash == hash && e->len == len && dict_key_eq(e->key, key, len))
            break;
        link = &e->next;
    }
    return link;
}

void *dict_get(const struct dict *d, const char *key, size_t len)
{
    struct dict_entry *e = *dict_find(d, key, len, dict_hash(key, len));
    return e ? e->value : NULL;
}

/* Doubles the bucket array and moves every entry to its new chain. */
static void dict_grow(struct dict *d)
{
    size_t n = d->nbuckets * 2;
    struct dict_entry **buckets = xcalloc(n, sizeof *buckets);
    for (size_t i = 0; i < d->nbuckets; i++) {
        struct dict_entry *e = d->buckets[i];
        while (e) {
            struct dict_entry *next = e->next;
            e->next = buckets[e->hash & (n - 1)];
            buckets[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(d->buckets);
    d->buckets = buckets;
    d->nbuckets = n;
}

void dict_set(struct dict *d, const char *key, size_t len, void *value)
{
    uint64_t hash = dict_hash(key, len);
    struct dict_entry **link = dict_find(d, key, len, hash);
    if (*link) {
        (*link)->value = value;
        return;
    }
    struct dict_entry *e = xmalloc(sizeof *e + len);
    e->next = NULL;
    e->hash = hash;
    e->value = value;
    e->len = len;
    memcpy(e->key, key, len);
    *link = e;
    if (++d->count > d->nbuckets)
        dict_grow(d);
}

bool dict_del(struct dict *d, const char *key, size_t len)
{
    struct dict_entry **link = dict_find(d, key, len, dict_hash(key, len));
    struct dict_entry *e = *link;
    if (e == NULL)
        return false;
    *link = e->next;
    free(e);
    d->count--;
    return true;
}

void dict_foreach(const struct dict *d, void (*fn)(void *value, void *arg),
                  void *arg)
{
    for (size_t i = 0; i < d->nbuckets; i++)
        for (struct dict_entry *e = d->buckets[i]; e; e = e->next)
            fn(e->value, arg);
}
