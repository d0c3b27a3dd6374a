/*
 * Unit tests for outq.c: copies fill a private block, shared blocks are
 * referenced not copied, segments come out in order through iovecs,
 * partial consumption, ring growth, and that every byte allocated is given
 * back (outq_memory returns to zero).
 */
#include "event/outq.h"

#include <string.h>

#include "unit.h"

/* Returns everything queued in q, joined, in buf (at most cap bytes). */
static size_t outq_gather(const struct outq *q, char *buf, size_t cap)
{
    struct iovec iov[64];
    size_t n = outq_iov(q, iov, 64), used = 0;
    for (size_t i = 0; i < n && used + iov[i].iov_len <= cap; i++) {
        memcpy(buf + used, iov[i].iov_base, iov[i].iov_len);
        used += iov[i].iov_len;
    }
    return used;
}

TEST(empty_queue_holds_nothing)
{
    struct outq q = {0};
    CHECK_EQ(q.bytes, 0);
    CHECK_EQ(outq_iov(&q, NULL, 0), 0);
    outq_clear(&q);
    CHECK(q.v == NULL);
    CHECK_EQ(outq_memory(), 0);
}

TEST(small_copies_share_one_private_block)
{
    struct outq q = {0};
    outq_append(&q, "hello ", 6);
    outq_append(&q, "world\r\n", 7);
    CHECK_EQ(q.bytes, 13);
    CHECK_EQ(q.n, 1); /* the second write filled the same block */
    char buf[64];
    CHECK_MEM(buf, outq_gather(&q, buf, sizeof buf), "hello world\r\n");
    CHECK_EQ(outq_consume(&q, 13), '\n');
    CHECK_EQ(q.bytes, 0);
    CHECK(q.v == NULL); /* a drained queue keeps no ring */
    CHECK_EQ(outq_memory(), 0);
}

TEST(shared_block_is_referenced_by_many_queues)
{
    char big[3000];
    memset(big, 'x', sizeof big);
    struct outq_block *b = outq_block_new(big, sizeof big);
    size_t one = outq_memory();
    struct outq q[100];
    memset(q, 0, sizeof q);
    for (int i = 0; i < 100; i++)
        outq_append_block(&q[i], b);
    outq_block_unref(b); /* the maker lets go; the queues hold it */
    /* 100 recipients cost the block once plus their rings, not 100 copies. */
    CHECK(outq_memory() < one + 100 * 512);
    for (int i = 0; i < 100; i++) {
        CHECK_EQ(q[i].bytes, sizeof big);
        struct iovec iov;
        CHECK_EQ(outq_iov(&q[i], &iov, 1), 1);
        CHECK(memcmp(iov.iov_base, big, sizeof big) == 0);
        outq_consume(&q[i], sizeof big);
    }
    CHECK_EQ(outq_memory(), 0); /* freed with the last reference */
}

TEST(order_kept_across_private_and_shared)
{
    struct outq q = {0};
    struct outq_block *b = outq_block_new("SHARED", 6);
    outq_append(&q, "a", 1);
    outq_append_block(&q, b);
    outq_append(&q, "b", 1); /* never written into the shared block */
    outq_block_unref(b);
    char buf[16];
    CHECK_MEM(buf, outq_gather(&q, buf, sizeof buf), "aSHAREDb");
    CHECK_EQ(q.n, 3);
    /* Consume across segment boundaries, one partial. */
    CHECK_EQ(outq_consume(&q, 3), 'H');
    CHECK_MEM(buf, outq_gather(&q, buf, sizeof buf), "AREDb");
    CHECK_EQ(outq_consume(&q, 5), 'b');
    CHECK_EQ(outq_memory(), 0);
}

TEST(ring_grows_past_its_first_size)
{
    struct outq q = {0};
    struct outq_block *b = outq_block_new("0123456789", 10);
    for (int i = 0; i < 50; i++)
        outq_append_block(&q, b);
    outq_block_unref(b);
    CHECK_EQ(q.bytes, 500);
    CHECK_EQ(q.n, 50);
    for (int i = 0; i < 50; i++)
        CHECK_EQ(outq_consume(&q, 10), '9');
    CHECK_EQ(outq_memory(), 0);
}

TEST(clear_drops_everything)
{
    struct outq q = {0};
    struct outq_block *b = outq_block_new("shared", 6);
    outq_append(&q, "x", 1);
    outq_append_block(&q, b);
    outq_block_unref(b);
    outq_clear(&q);
    CHECK_EQ(q.bytes, 0);
    CHECK_EQ(q.n, 0);
    CHECK_EQ(outq_memory(), 0);
    outq_pool_drain();
}

UNIT_MAIN()
