/*
 * buf: a growable byte queue.
 */
#include "lib/buf.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"

/* The first allocation; small, because most queues hold a line or two. */
#define BUF_MIN_CAP 512
/*
 * Freed first-size blocks kept for reuse. A message to a big room fills a
 * thousand small queues that all drain in the same round; reusing their
 * blocks from this stack is cheaper than a thousand malloc/free pairs.
 */
#define BUF_POOL_MAX 1024

static char *buf_pool[BUF_POOL_MAX];
static size_t buf_npool;

/* Returns a block of cap bytes, from the pool when it has one. */
static char *buf_alloc(size_t cap)
{
    if (cap == BUF_MIN_CAP && buf_npool > 0)
        return buf_pool[--buf_npool];
    return xmalloc(cap);
}

/* Frees a block of cap bytes, or keeps it in the pool. */
static void buf_release(char *data, size_t cap)
{
    if (cap == BUF_MIN_CAP && buf_npool < BUF_POOL_MAX)
        buf_pool[buf_npool++] = data;
    else
        free(data);
}

void buf_pool_drain(void)
{
    while (buf_npool > 0)
        free(buf_pool[--buf_npool]);
}

char *buf_reserve(struct buf *b, size_t n)
{
    if (b->data != NULL && b->cap - b->len >= n)
        return b->data + b->len;
    size_t used = buf_used(b);
    if (b->head > 0 && b->cap - used >= n && b->head >= used) {
        /* Enough room once consumed bytes are dropped; slide down. */
        memcpy(b->data, b->data + b->head, used);
    } else {
        size_t cap = b->cap ? b->cap : BUF_MIN_CAP;
        while (cap - used < n)
            cap *= 2;
        char *data = buf_alloc(cap);
        if (used)
            memcpy(data, b->data + b->head, used);
        if (b->data)
            buf_release(b->data, b->cap);
        b->data = data;
        b->cap = cap;
    }
    b->head = 0;
    b->len = used;
    return b->data + b->len;
}

void buf_commit(struct buf *b, size_t n)
{
    b->len += n;
}

void buf_append(struct buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    memcpy(buf_reserve(b, n), p, n);
    b->len += n;
}

void buf_consume(struct buf *b, size_t n)
{
    b->head += n;
    if (b->head >= b->len)
        b->head = b->len = 0;
}

void buf_reset(struct buf *b)
{
    if (b->data)
        buf_release(b->data, b->cap);
    b->data = NULL;
    b->head = b->len = b->cap = 0;
}
