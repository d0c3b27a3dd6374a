/*
 * buf: a growable byte queue.
 *
 * Bytes are appended at the tail and consumed from the head. The storage is
 * allocated on first use and kept when the queue drains (a busy queue is
 * reused without allocating); owners call buf_reset to give it back, so an
 * idle connection holds no buffer at all.
 */
#ifndef PARLEY_BUF_H
#define PARLEY_BUF_H

#include <stddef.h>

struct buf {
    char *data;  /* NULL until the first append */
    size_t head; /* offset of the first unconsumed byte */
    size_t len;  /* offset one past the last byte */
    size_t cap;  /* bytes allocated at data */
};

/* Returns the number of unconsumed bytes. */
static inline size_t buf_used(const struct buf *b)
{
    return b->len - b->head;
}

/* Returns a pointer to the first unconsumed byte (valid if buf_used > 0). */
static inline const char *buf_peek(const struct buf *b)
{
    return b->data + b->head;
}

/* Appends n bytes from p, growing the storage as needed. */
void buf_append(struct buf *b, const void *p, size_t n);

/*
 * Reserves room for n more bytes and returns where they go; the caller
 * writes at most n bytes there and then calls buf_commit with the count.
 */
char *buf_reserve(struct buf *b, size_t n);

/* Marks n bytes written after buf_reserve as part of the queue. */
void buf_commit(struct buf *b, size_t n);

/* Drops n bytes from the head; an emptied queue keeps its storage. */
void buf_consume(struct buf *b, size_t n);

/* Frees the storage and empties the queue. */
void buf_reset(struct buf *b);

/* Frees the blocks kept for reuse (at exit, so leak checkers see none). */
void buf_pool_drain(void);

#endif
