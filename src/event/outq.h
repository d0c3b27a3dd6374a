/*
 * outq: a connection's output, as a queue of references to blocks.
 *
 * Small writes are copied into a private block at the tail of the queue
 * (consecutive writes fill the same block). A big message meant for many
 * connections is made once into a shared, read-only block, and each queue
 * holds a reference to it: ten thousand recipients of a 4 KB line cost one
 * 4 KB block and ten thousand small segments, not 40 MB of copies. The
 * module counts every byte it allocates, so the server can bound the
 * output memory of all connections together.
 */
#ifndef PARLEY_OUTQ_H
#define PARLEY_OUTQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct outq_block;

/* One stretch of a block waiting to be sent. */
struct outq_seg {
    struct outq_block *b;
    size_t off, len;
};

/* A queue of segments; zero-initialise. Holds no memory while empty. */
struct outq {
    struct outq_seg *v; /* ring of cap segments */
    uint32_t head, n, cap;
    size_t bytes; /* bytes queued, counting shared ones in full */
};

/*
 * Returns a new shared block holding a copy of the n bytes at p, with one
 * reference, owned by the caller. Its bytes never change.
 */
struct outq_block *outq_block_new(const void *p, size_t n);

/* Drops one reference to b, freeing it with the last; NULL is a no-op. */
void outq_block_unref(struct outq_block *b);

/* Appends a copy of the n bytes at p. */
void outq_append(struct outq *q, const void *p, size_t n);

/* Appends a reference to all of b's bytes (b gains a reference). */
void outq_append_block(struct outq *q, struct outq_block *b);

/*
 * Fills up to max entries of iov with the queue's first bytes; returns the
 * number of entries filled (0 when the queue is empty).
 */
size_t outq_iov(const struct outq *q, struct iovec *iov, size_t max);

/*
 * Drops the first n bytes (n <= q->bytes) and returns the last of them;
 * blocks no longer referenced are freed.
 */
char outq_consume(struct outq *q, size_t n);

/* Drops everything queued and frees the queue's memory. */
void outq_clear(struct outq *q);

/* Returns the bytes allocated for all queues and blocks together. */
size_t outq_memory(void);

/* Frees the blocks kept for reuse (at exit, so leak checkers see none). */
void outq_pool_drain(void);

#endif
