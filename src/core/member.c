/*
 * member: a hash table from (client, room) pairs to an index.
 */
#include "core/member.h"

#include <stdint.h>
#include <stdlib.h>

#include "lib/xmalloc.h"

#define MEMBER_MIN_CAP 64

struct member_slot {
    const void *a, *b; /* a == NULL: empty */
    size_t v;
};

struct member_table {
    struct member_slot *slots;
    size_t cap; /* a power of two */
    size_t count;
};

/* Mixes the two pointers into a hash (a 64-bit finalizer). */
static size_t member_hash(const void *a, const void *b)
{
    uint64_t x = (uint64_t)(uintptr_t)a * 0x9e3779b97f4a7c15ULL;
    x ^= (uint64_t)(uintptr_t)b + (x << 6) + (x >> 2);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

struct member_table *member_table_new(void)
{
    struct member_table *t = xcalloc(1, sizeof *t);
    t->cap = MEMBER_MIN_CAP;
    t->slots = xcalloc(t->cap, sizeof *t->slots);
    return t;
}

void member_table_free(struct member_table *t)
{
    if (t == NULL)
        return;
    free(t->slots);
    free(t);
}

size_t member_count(const struct member_table *t)
{
    return t->count;
}

/* Returns the slot holding (a, b), or the empty slot where it would go. */
static struct member_slot *member_find(const struct member_table *t,
                                       const void *a, const void *b)
{
    size_t mask = t->cap - 1;
    for (size_t i = member_hash(a, b) & mask;; i = (i + 1) & mask) {
        struct member_slot *s = &t->slots[i];
        if (s->a == NULL || (s->a == a && s->b == b))
            return s;
    }
}

/* Moves every pair into a table of cap slots. */
static void member_resize(struct member_table *t, size_t cap)
{
    struct member_slot *old = t->slots;
    size_t old_cap = t->cap;
    t->slots = xcalloc(cap, sizeof *t->slots);
    t->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].a)
            *member_find(t, old[i].a, old[i].b) = old[i];
    free(old);
}

void member_put(struct member_table *t, const void *a, const void *b, size_t v)
{
    struct member_slot *s = member_find(t, a, b);
    if (s->a == NULL) {
        if ((t->count + 1) * 4 > t->cap * 3) {
            member_resize(t, t->cap * 2);
            s = member_find(t, a, b);
        }
        s->a = a;
        s->b = b;
        t->count++;
    }
    s->v = v;
}

size_t *member_get(const struct member_table *t, const void *a, const void *b)
{
    struct member_slot *s = member_find(t, a, b);
    return s->a ? &s->v : NULL;
}

void member_del(struct member_table *t, const void *a, const void *b)
{
    struct member_slot *s = member_find(t, a, b);
    if (s->a == NULL)
        return;
    /* Backward shift: pull later pairs of the run into the hole. */
    size_t mask = t->cap - 1, hole = (size_t)(s - t->slots);
    for (size_t i = (hole + 1) & mask; t->slots[i].a; i = (i + 1) & mask) {
        size_t home = member_hash(t->slots[i].a, t->slots[i].b) & mask;
        /* Move i into the hole unless its home lies in (hole, i]. */
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            t->slots[hole] = t->slots[i];
            hole = i;
        }
    }
    t->slots[hole].a = NULL;
    t->slots[hole].b = NULL;
    t->count--;
    if (t->cap > MEMBER_MIN_CAP && t->count * 8 < t->cap)
        member_resize(t, t->cap / 2);
}
