/*
 * Unit tests for dict.c: set, get, replace, delete, case-insensitive keys,
 * growth to many entries, and foreach.
 */
#include "lib/dict.h"

#include "unit.h"

/* dict_get on a NUL-terminated key. */
static void *get(struct dict *d, const char *k)
{
    return dict_get(d, k, strlen(k));
}

/* dict_set on a NUL-terminated key. */
static void set(struct dict *d, const char *k, void *v)
{
    dict_set(d, k, strlen(k), v);
}

/* dict_del on a NUL-terminated key. */
static bool del(struct dict *d, const char *k)
{
    return dict_del(d, k, strlen(k));
}

static int v1, v2, v3;

TEST(empty_table)
{
    struct dict *d = dict_new();
    CHECK_EQ(dict_count(d), 0);
    CHECK(get(d, "x") == NULL);
    CHECK(get(d, "") == NULL);
    CHECK(!del(d, "x"));
    dict_free(d);
    dict_free(NULL);
}

TEST(set_get_del)
{
    struct dict *d = dict_new();
    set(d, "alice", &v1);
    set(d, "bob", &v2);
    CHECK_EQ(dict_count(d), 2);
    CHECK(get(d, "alice") == &v1);
    CHECK(get(d, "bob") == &v2);
    CHECK(get(d, "carol") == NULL);
    CHECK(del(d, "alice"));
    CHECK(!del(d, "alice"));
    CHECK(get(d, "alice") == NULL);
    CHECK(get(d, "bob") == &v2);
    CHECK_EQ(dict_count(d), 1);
    dict_free(d);
}

TEST(keys_are_case_insensitive)
{
    struct dict *d = dict_new();
    set(d, "Alice", &v1);
    CHECK(get(d, "alice") == &v1);
    CHECK(get(d, "ALICE") == &v1);
    CHECK(get(d, "aLiCe") == &v1);
    set(d, "ALICE", &v2); /* the same key: replaces */
    CHECK_EQ(dict_count(d), 1);
    CHECK(get(d, "alice") == &v2);
    CHECK(del(d, "aLICE"));
    CHECK_EQ(dict_count(d), 0);
    dict_free(d);
}

TEST(only_ascii_letters_fold)
{
    struct dict *d = dict_new();
    set(d, "[x]", &v1);
    CHECK(get(d, "{x}") == NULL);
    set(d, "\xc3\xa9", &v2);
    CHECK(get(d, "\xc3\x89") == NULL);
    CHECK(get(d, "\xc3\xa9") == &v2);
    dict_free(d);
}

TEST(replace_keeps_count)
{
    struct dict *d = dict_new();
    set(d, "k", &v1);
    set(d, "k", &v2);
    set(d, "k", &v3);
    CHECK_EQ(dict_count(d), 1);
    CHECK(get(d, "k") == &v3);
    dict_free(d);
}

TEST(keys_are_copied_and_length_counts)
{
    struct dict *d = dict_new();
    char key[8] = "room";
    dict_set(d, key, 4, &v1);
    key[0] = 'X'; /* the table has its own copy */
    CHECK(get(d, "room") == &v1);
    /* Keys are byte strings of a length: prefixes and NULs are distinct. */
    dict_set(d, "roo", 3, &v2);
    dict_set(d, "a\0b", 3, &v3);
    CHECK(get(d, "room") == &v1);
    CHECK(get(d, "roo") == &v2);
    CHECK(dict_get(d, "a\0b", 3) == &v3);
    CHECK(dict_get(d, "a\0c", 3) == NULL);
    CHECK(dict_get(d, "a", 1) == NULL);
    dict_set(d, "", 0, &v1);
    CHECK(dict_get(d, "", 0) == &v1);
    CHECK_EQ(dict_count(d), 4);
    dict_free(d);
}

TEST(null_value_is_stored)
{
    struct dict *d = dict_new();
    set(d, "k", NULL);
    CHECK_EQ(dict_count(d), 1);
    CHECK(get(d, "k") == NULL);
    CHECK(del(d, "k"));
    dict_free(d);
}

#define MANY 20000

/* Writes the key of entry i, in a case that depends on upper. */
static size_t many_key(char *out, size_t i, bool upper)
{
    return (size_t)snprintf(out, 32, upper ? "KEY-%zu-X" : "key-%zu-x", i);
}

TEST(growth_past_many_entries)
{
    struct dict *d = dict_new();
    static int vals[MANY];
    char k[32];
    for (size_t i = 0; i < MANY; i++) {
        dict_set(d, k, many_key(k, i, false), &vals[i]);
        CHECK_EQ(dict_count(d), i + 1);
    }
    size_t bad = 0;
    for (size_t i = 0; i < MANY; i++)
        if (dict_get(d, k, many_key(k, i, true)) != &vals[i])
            bad++;
    CHECK_EQ(bad, 0);
    /* Delete every other entry; the rest stay findable. */
    for (size_t i = 0; i < MANY; i += 2)
        if (!dict_del(d, k, many_key(k, i, i % 4 == 0)))
            bad++;
    CHECK_EQ(bad, 0);
    CHECK_EQ(dict_count(d), MANY / 2);
    for (size_t i = 0; i < MANY; i++) {
        void *v = dict_get(d, k, many_key(k, i, false));
        if (v != (i % 2 ? &vals[i] : NULL))
            bad++;
    }
    CHECK_EQ(bad, 0);
    dict_free(d);
}

/* foreach helper: counts visits per value (an int in an array). */
static void count_visit(void *value, void *arg)
{
    int *base = arg;
    base[(int *)value - base]++;
}

TEST(foreach_visits_each_entry_once)
{
    struct dict *d = dict_new();
    static int slots[1000]; /* values point here; visits are counted here */
    char k[32];
    for (size_t i = 0; i < 1000; i++)
        dict_set(d, k, (size_t)snprintf(k, sizeof k, "n%zu", i), &slots[i]);
    for (size_t i = 0; i < 1000; i += 3)
        CHECK(dict_del(d, k, (size_t)snprintf(k, sizeof k, "N%zu", i)));
    dict_foreach(d, count_visit, slots);
    size_t wrong = 0;
    for (size_t i = 0; i < 1000; i++)
        if (slots[i] != (i % 3 ? 1 : 0))
            wrong++;
    CHECK_EQ(wrong, 0);
    dict_free(d);
}

TEST(foreach_on_empty_table)
{
    struct dict *d = dict_new();
    int n = 0;
    dict_foreach(d, count_visit, &n);
    CHECK_EQ(n, 0);
    dict_free(d);
}

TEST(seed_changes_nothing_visible)
{
    dict_seed(12345);
    struct dict *d = dict_new();
    set(d, "Alice", &v1);
    CHECK(get(d, "ALICE") == &v1);
    dict_free(d);
    dict_seed(0);
    d = dict_new();
    set(d, "x", &v2);
    CHECK(get(d, "X") == &v2);
    dict_free(d);
}

UNIT_MAIN()
