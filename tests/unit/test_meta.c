/*
 * Unit tests for meta.c: keys kept in the order first set, values
 * replaced in place, the limit on new keys, removal keeping the order, and
 * an emptied list freed back to NULL.
 */
#include "core/meta.h"

#include "unit.h"

TEST(empty_list_is_null)
{
    struct meta *m = NULL;
    CHECK_EQ(meta_count(m), 0);
    CHECK(meta_get(m, "a", 1) == NULL);
    CHECK(!meta_del(&m, "a", 1));
    meta_free(m);
}

TEST(set_get_replace_keeps_order)
{
    struct meta *m = NULL;
    CHECK(meta_set(&m, "avatar", 6, "a.png", 5, 10));
    CHECK(meta_set(&m, "display-name", 12, "Alice", 5, 10));
    CHECK(meta_set(&m, "avatar", 6, "", 0, 10)); /* empty is a value */
    REQUIRE(m != NULL);
    CHECK_EQ(meta_count(m), 2);
    CHECK_STR(m->e[0].key, "avatar");
    CHECK_STR(m->e[0].value, "");
    CHECK_EQ(m->e[0].value_len, 0);
    const struct meta_entry *e = meta_get(m, "display-name", 12);
    REQUIRE(e != NULL);
    CHECK_STR(e->value, "Alice");
    CHECK(meta_get(m, "display", 7) == NULL); /* a prefix is not the key */
    CHECK(meta_get(m, "Avatar", 6) == NULL);  /* keys compare exactly */
    meta_free(m);
}

TEST(limit_refuses_new_keys_only)
{
    struct meta *m = NULL;
    char key[8];
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof key, "k%d", i);
        CHECK(meta_set(&m, key, strlen(key), "v", 1, 3));
    }
    CHECK(!meta_set(&m, "k3", 2, "v", 1, 3));
    CHECK(meta_set(&m, "k1", 2, "new", 3, 3)); /* replacing is fine */
    CHECK_EQ(meta_count(m), 3);
    CHECK(meta_get(m, "k3", 2) == NULL);
    meta_free(m);
}

TEST(del_keeps_order_and_frees_when_empty)
{
    struct meta *m = NULL;
    meta_set(&m, "a", 1, "1", 1, 10);
    meta_set(&m, "b", 1, "2", 1, 10);
    meta_set(&m, "c", 1, "3", 1, 10);
    CHECK(meta_del(&m, "b", 1));
    CHECK(!meta_del(&m, "b", 1));
    REQUIRE(m != NULL);
    CHECK_EQ(meta_count(m), 2);
    CHECK_STR(m->e[0].key, "a");
    CHECK_STR(m->e[1].key, "c");
    CHECK(meta_del(&m, "a", 1));
    CHECK(meta_del(&m, "c", 1));
    CHECK(m == NULL);
}

UNIT_MAIN()
