/*
 * buf: a growable byte queue.
 */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/* The first allocation; small, because most queues hold a line or two. */
#define BUF_MIN_CAP 512

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
        char *data = xmalloc(cap);
        if (used)
            memcpy(data, b->data + b->head, used);
        free(b->data);
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
    free(b->data);
    b->data = NULL;
    b->head = b->len = b->cap = 0;
}
