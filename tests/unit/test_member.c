/*
 * Unit tests for member.c, the (client, room) -> index hash table.
 *
 * White-box: the table's own source is compiled in here under other names
 * (so it does not clash with the copy the test is linked with), which lets
 * the tests pick keys that collide on purpose, look at the slots, and
 * check the invariant linear probing lives by: every pair sits at its home
 * slot or after it, with no empty slot in between. Keys are made-up
 * pointers: the table only compares them, never follows them.
 */
#define member_table_new wb_member_table_new
#define member_table_free wb_member_table_free
#define member_put wb_member_put
#define member_get wb_member_get
#define member_del wb_member_del
#define member_count wb_member_count
#include "core/member.c"

#include "unit.h"

/* A made-up pointer: never followed. */
static const void *key(uintptr_t i)
{
    return (const void *)(i * 64 + 8);
}

/* Returns the home slot of (a, b) in a table of cap slots. */
static size_t home(const void *a, const void *b, size_t cap)
{
    return member_hash(a, b) & (cap - 1);
}

/* Checks the probing invariant and the count; returns the pairs seen. */
static size_t check_table(const struct member_table *t)
{
    size_t mask = t->cap - 1, seen = 0;
    for (size_t i = 0; i < t->cap; i++) {
        const struct member_slot *s = &t->slots[i];
        if (s->a == NULL) {
            CHECK(s->b == NULL);
            continue;
        }
        seen++;
        for (size_t j = home(s->a, s->b, t->cap); j != i; j = (j + 1) & mask)
            if (t->slots[j].a == NULL) {
                unit_fail_at(__FILE__, __LINE__, "hole between home and pair");
                return seen;
            }
    }
    CHECK_EQ(seen, t->count);
    return seen;
}

TEST(empty_table)
{
    struct member_table *t = member_table_new();
    CHECK_EQ(member_count(t), 0);
    CHECK(member_get(t, key(1), key(2)) == NULL);
    member_del(t, key(1), key(2)); /* absent: nothing happens */
    CHECK_EQ(member_count(t), 0);
    member_table_free(t);
    member_table_free(NULL);
}

TEST(put_replaces_and_get_is_writable)
{
    struct member_table *t = member_table_new();
    member_put(t, key(1), key(2), 7);
    member_put(t, key(2), key(1), 8); /* the pair is ordered */
    CHECK_EQ(member_count(t), 2);
    size_t *v = member_get(t, key(1), key(2));
    REQUIRE(v != NULL);
    CHECK_EQ(*v, 7);
    member_put(t, key(1), key(2), 9);
    CHECK_EQ(member_count(t), 2);
    CHECK_EQ(*member_get(t, key(1), key(2)), 9);
    *member_get(t, key(2), key(1)) = 42;
    CHECK_EQ(*member_get(t, key(2), key(1)), 42);
    CHECK(member_get(t, key(1), key(1)) == NULL);
    member_table_free(t);
}

TEST(many_pairs_against_a_model)
{
    enum { C = 400, R = 250 }; /* 100,000 pairs */
    static bool in[C][R];
    struct member_table *t = member_table_new();
    for (uintptr_t c = 0; c < C; c++)
        for (uintptr_t r = 0; r < R; r++) {
            member_put(t, key(c + 1), key(C + r + 1), c * R + r);
            in[c][r] = true;
        }
    CHECK_EQ(member_count(t), (size_t)C * R);
    check_table(t);
    /* Take out a pseudo-random two thirds, then check every pair. */
    uint64_t x = 12345;
    for (size_t k = 0; k < (size_t)C * R * 2 / 3; k++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t c = (x >> 33) % C, r = (x >> 17) % R;
        member_del(t, key(c + 1), key(C + r + 1));
        in[c][r] = false;
    }
    size_t want = 0;
    for (uintptr_t c = 0; c < C; c++)
        for (uintptr_t r = 0; r < R; r++) {
            size_t *v = member_get(t, key(c + 1), key(C + r + 1));
            CHECK(in[c][r] == (v != NULL));
            if (v)
                CHECK_EQ(*v, c * R + r);
            want += in[c][r];
        }
    CHECK_EQ(member_count(t), want);
    check_table(t);
    member_table_free(t);
}

/* Pairs (k, base) whose home slot in a table of 64 is h: *next is the
 * first k to try and moves past those found. */
static size_t pairs_at(size_t h, size_t n, uintptr_t *next, const void **out)
{
    size_t found = 0;
    for (; found < n; (*next)++)
        if (home(key(*next), key(0), MEMBER_MIN_CAP) == h)
            out[found++] = key((*next));
    return found;
}

TEST(backward_shift_under_collisions)
{
    /* A run that wraps past the end of the table: 8 pairs at home 61, 6
     * at 63, 5 at 0 and 3 at 2; 22 pairs, under the 48 that would grow
     * the table. Each is deleted first in turn, then the rest in a
     * scrambled order; the invariant must hold after every delete. */
    enum { N = 22 };
    const void *a[N];
    uintptr_t next = 1;
    size_t n = pairs_at(61, 8, &next, a);
    n += pairs_at(63, 6, &next, a + n);
    n += pairs_at(0, 5, &next, a + n);
    n += pairs_at(2, 3, &next, a + n);
    REQUIRE(n == N);
    for (size_t first = 0; first < N; first++) {
        struct member_table *t = member_table_new();
        for (size_t i = 0; i < N; i++) /* interleave the homes */
            member_put(t, a[(i * 5) % N], key(0), (i * 5) % N);
        REQUIRE(t->cap == MEMBER_MIN_CAP);
        check_table(t);
        /* The run covers 61 to 61 + 22 - 1, wrapped: no hole. */
        for (size_t s = 0; s < N; s++)
            CHECK(t->slots[(61 + s) & 63].a != NULL);
        bool gone[N] = {false};
        for (size_t k = 0; k < N; k++) {
            size_t d = k == 0 ? first : (first + k * 7) % N;
            while (gone[d])
                d = (d + 1) % N;
            member_del(t, a[d], key(0));
            gone[d] = true;
            check_table(t);
            for (size_t i = 0; i < N; i++) {
                size_t *v = member_get(t, a[i], key(0));
                CHECK(gone[i] == (v == NULL));
                if (v)
                    CHECK_EQ(*v, i);
            }
        }
        CHECK_EQ(member_count(t), 0);
        member_table_free(t);
    }
}

TEST(grows_and_shrinks)
{
    enum { N = 5000 };
    struct member_table *t = member_table_new();
    CHECK_EQ(t->cap, MEMBER_MIN_CAP);
    for (uintptr_t i = 0; i < N; i++) {
        member_put(t, key(i + 1), key(7), i);
        CHECK(t->count * 4 <= t->cap * 3); /* at most 3/4 full */
    }
    CHECK_EQ(t->cap, 8192);
    check_table(t);
    /* Shrinking: below 1/8 full it halves, never under the minimum, and
     * every pair left is still found after each move. */
    size_t cap = t->cap, shrinks = 0;
    for (uintptr_t i = N; i-- > 0;) {
        member_del(t, key(i + 1), key(7));
        if (t->cap != cap) {
            CHECK_EQ(t->cap, cap / 2);
            CHECK((t->count + 1) * 8 >= cap); /* not before time */
            cap = t->cap;
            shrinks++;
            check_table(t);
            for (uintptr_t j = 0; j < i; j++)
                CHECK(member_get(t, key(j + 1), key(7)) != NULL);
        }
        CHECK(t->cap == MEMBER_MIN_CAP || t->count * 8 >= t->cap);
    }
    CHECK_EQ(shrinks, 7); /* 8192 down to 64 */
    CHECK_EQ(t->cap, MEMBER_MIN_CAP);
    CHECK_EQ(member_count(t), 0);
    /* And it grows again. */
    for (uintptr_t i = 0; i < 100; i++)
        member_put(t, key(i + 1), key(8), i);
    CHECK_EQ(t->cap, 256);
    CHECK_EQ(check_table(t), 100);
    member_table_free(t);
}

UNIT_MAIN()
