/*
 * Unit tests for buf.c: append, consume, reserve/commit, growth, that a
 * drained queue keeps its storage for reuse, and that buf_reset frees it.
 */
#include "lib/buf.h"

#include "unit.h"

TEST(starts_empty_without_storage)
{
    struct buf b = {0};
    CHECK_EQ(buf_used(&b), 0);
    CHECK(b.data == NULL);
    buf_reset(&b);
    CHECK(b.data == NULL);
}

TEST(append_then_consume)
{
    struct buf b = {0};
    buf_append(&b, "hello ", 6);
    buf_append(&b, "world", 5);
    CHECK_EQ(buf_used(&b), 11);
    CHECK_MEM(buf_peek(&b), buf_used(&b), "hello world");
    buf_consume(&b, 6);
    CHECK_MEM(buf_peek(&b), buf_used(&b), "world");
    CHECK(b.data != NULL);
    buf_consume(&b, 5);
    CHECK_EQ(buf_used(&b), 0);
    CHECK_EQ(b.head, 0);
    CHECK_EQ(b.len, 0);
    buf_append(&b, "again", 5);
    CHECK_MEM(buf_peek(&b), buf_used(&b), "again");
    buf_reset(&b);
    CHECK(b.data == NULL);
    CHECK_EQ(b.cap, 0);
    CHECK_EQ(buf_used(&b), 0);
}

TEST(drained_queue_keeps_storage_until_reset)
{
    struct buf b = {0};
    buf_append(&b, "abc", 3);
    char *data = b.data;
    size_t cap = b.cap;
    buf_consume(&b, 3);
    CHECK_EQ(buf_used(&b), 0);
    CHECK(b.data == data); /* kept: a busy queue reuses it */
    CHECK_EQ(b.cap, cap);
    CHECK_EQ(b.head, 0); /* and starts again at the front */
    buf_append(&b, "xyz", 3);
    CHECK(b.data == data);
    CHECK(buf_peek(&b) == data);
    CHECK_MEM(buf_peek(&b), buf_used(&b), "xyz");
    buf_reset(&b); /* gives the storage back (LeakSanitizer checks) */
    CHECK(b.data == NULL);
    CHECK_EQ(b.head, 0);
    CHECK_EQ(b.len, 0);
    CHECK_EQ(b.cap, 0);
}

TEST(consume_in_steps_to_empty)
{
    struct buf b = {0};
    buf_append(&b, "abc", 3);
    buf_consume(&b, 2);
    buf_consume(&b, 1);
    CHECK_EQ(buf_used(&b), 0);
    buf_append(&b, "d", 1);
    CHECK_MEM(buf_peek(&b), buf_used(&b), "d");
    buf_reset(&b);
}

TEST(reserve_and_commit)
{
    struct buf b = {0};
    char *p = buf_reserve(&b, 100);
    REQUIRE(p != NULL);
    CHECK(b.cap >= 100);
    CHECK_EQ(buf_used(&b), 0); /* nothing is queued before commit */
    memcpy(p, "abc", 3);
    buf_commit(&b, 3);
    CHECK_MEM(buf_peek(&b), buf_used(&b), "abc");
    p = buf_reserve(&b, 10);
    memcpy(p, "defgh", 5);
    buf_commit(&b, 5);
    CHECK_MEM(buf_peek(&b), buf_used(&b), "abcdefgh");
    buf_reset(&b);
}

TEST(reserve_more_than_free_space_grows)
{
    struct buf b = {0};
    buf_append(&b, "x", 1);
    size_t cap = b.cap;
    char *p = buf_reserve(&b, cap * 3);
    CHECK(b.cap - b.len >= cap * 3);
    memset(p, 'y', cap * 3);
    buf_commit(&b, cap * 3);
    CHECK_EQ(buf_used(&b), cap * 3 + 1);
    CHECK_EQ(buf_peek(&b)[0], 'x');
    CHECK_EQ(buf_peek(&b)[cap * 3], 'y');
    buf_reset(&b);
}

TEST(consumed_space_is_reused)
{
    struct buf b = {0};
    char chunk[100];
    memset(chunk, 'a', sizeof chunk);
    buf_append(&b, chunk, sizeof chunk);
    size_t cap = b.cap;
    /* Fill to the end, keep the last three bytes, then append one more:
     * the three slide down to the front instead of the storage growing. */
    while (b.len < b.cap)
        buf_append(&b, "b", 1);
    CHECK_EQ(b.cap, cap);
    buf_consume(&b, cap - 3);
    buf_append(&b, "c", 1);
    CHECK_EQ(b.cap, cap);
    CHECK_EQ(b.head, 0);
    CHECK_MEM(buf_peek(&b), buf_used(&b), "bbbc");
    buf_reset(&b);
}

TEST(many_appends_keep_order)
{
    struct buf b = {0};
    size_t total = 0;
    for (unsigned i = 0; i < 20000; i++) {
        unsigned char x = (unsigned char)i;
        buf_append(&b, &x, 1);
        total++;
        if (i % 7 == 0) {
            /* Consume the oldest byte now and then; check what it was. */
            unsigned char first = (unsigned char)buf_peek(&b)[0];
            unsigned char want = (unsigned char)(i + 1 - total);
            CHECK_EQ(first, want);
            buf_consume(&b, 1);
            total--;
        }
    }
    CHECK_EQ(buf_used(&b), total);
    for (size_t i = 1; i < buf_used(&b); i++)
        if ((unsigned char)(buf_peek(&b)[i] - buf_peek(&b)[i - 1]) != 1)
            CHECK(!"bytes out of order");
    buf_consume(&b, buf_used(&b));
    CHECK_EQ(buf_used(&b), 0);
    buf_reset(&b);
}

TEST(large_append)
{
    struct buf b = {0};
    size_t n = 3 * 1024 * 1024 + 17;
    char *big = malloc(n);
    REQUIRE(big != NULL);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(i * 31);
    buf_append(&b, "<", 1);
    buf_append(&b, big, n);
    CHECK_EQ(buf_used(&b), n + 1);
    CHECK(memcmp(buf_peek(&b) + 1, big, n) == 0);
    free(big);
    buf_reset(&b);
}

TEST(append_nothing_to_empty_buffer)
{
    /*
     * buf_append(b, p, 0) on a queue without storage must be a no-op. Under
     * UBSan this catches pointer arithmetic or memcpy on a NULL data.
     */
    struct buf b = {0};
    buf_append(&b, "", 0);
    CHECK_EQ(buf_used(&b), 0);
    buf_consume(&b, 0);
    CHECK_EQ(buf_used(&b), 0);
    buf_reset(&b);
}

UNIT_MAIN()
