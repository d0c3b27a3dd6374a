/*
 * outq: a connection's output, as a queue of references to blocks.
 */
#include "event/outq.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"

/*
 * Blocks come in power-of-two sizes from OUTQ_BLOCK_MIN to OUTQ_BLOCK_MAX,
 * and freed ones are kept for reuse per size, because a message to a big
 * room fills a thousand small queues that all drain in the same round. A
 * queue's next private block is twice its last, up to OUTQ_BLOCK_MAX, so a
 * busy recipient's output lies in a few big blocks (a few iovecs per send)
 * while an idle one's first line takes only the smallest.
 */
#define OUTQ_BLOCK_MIN 512
#define OUTQ_BLOCK_MAX (16 * 1024)
#define OUTQ_CLASSES 6 /* 512, 1K, 2K, 4K, 8K, 16K */
#define OUTQ_POOL_MAX 256
/* The first ring of segments; it doubles as needed. */
#define OUTQ_RING_MIN 8
#define OUTQ_RINGS_MAX 1024

struct outq_block {
    uint32_t refs;
    bool shared; /* read-only: never appended to */
    size_t cap, len;
    char data[];
};

static struct outq_block *outq_pool[OUTQ_CLASSES][OUTQ_POOL_MAX];
static size_t outq_npool[OUTQ_CLASSES];
static struct outq_seg *outq_rings[OUTQ_RINGS_MAX]; /* of OUTQ_RING_MIN */
static size_t outq_nrings;
static size_t outq_allocated; /* bytes of blocks and rings in use */

/* Returns the size class of a block of cap bytes, or -1 if it has none. */
static int outq_class(size_t cap)
{
    int k = 0;
    for (size_t c = OUTQ_BLOCK_MIN; c <= OUTQ_BLOCK_MAX; c *= 2, k++)
        if (c == cap)
            return k;
    return -1;
}

/* Returns the block size for at least n bytes: a class, or n itself. */
static size_t outq_round(size_t n)
{
    size_t c = OUTQ_BLOCK_MIN;
    while (c < n && c < OUTQ_BLOCK_MAX)
        c *= 2;
    return c >= n ? c : n;
}

/* Returns a block with room for at least n bytes and no references yet. */
static struct outq_block *outq_block_alloc(size_t n)
{
    size_t cap = outq_round(n);
    int k = outq_class(cap);
    struct outq_block *b;
    if (k >= 0 && outq_npool[k] > 0) {
        b = outq_pool[k][--outq_npool[k]];
    } else {
        b = xmalloc(sizeof *b + cap);
        b->cap = cap;
    }
    outq_allocated += sizeof *b + b->cap;
    b->refs = 0;
    b->len = 0;
    b->shared = false;
    return b;
}

struct outq_block *outq_block_new(const void *p, size_t n)
{
    struct outq_block *b = outq_block_alloc(n);
    memcpy(b->data, p, n);
    b->len = n;
    b->shared = true;
    b->refs = 1;
    return b;
}

void outq_block_unref(struct outq_block *b)
{
    if (b == NULL || --b->refs > 0)
        return;
    outq_allocated -= sizeof *b + b->cap;
    int k = outq_class(b->cap);
    if (k >= 0 && outq_npool[k] < OUTQ_POOL_MAX)
        outq_pool[k][outq_npool[k]++] = b;
    else
        free(b);
}

void outq_pool_drain(void)
{
    for (int k = 0; k < OUTQ_CLASSES; k++)
        while (outq_npool[k] > 0)
            free(outq_pool[k][--outq_npool[k]]);
    while (outq_nrings > 0)
        free(outq_rings[--outq_nrings]);
}

size_t outq_memory(void)
{
    return outq_allocated;
}

/* Returns the i-th queued segment (i < q->n). */
static struct outq_seg *outq_at(const struct outq *q, uint32_t i)
{
    return &q->v[(q->head + i) & (q->cap - 1)]; /* cap: a power of two */
}

/* Appends a segment for [off, off + len) of b, which gains a reference. */
static void outq_push(struct outq *q, struct outq_block *b, size_t off,
                      size_t len)
{
    if (q->n == q->cap) {
        uint32_t cap = q->cap ? q->cap * 2 : OUTQ_RING_MIN;
        struct outq_seg *v = cap == OUTQ_RING_MIN && outq_nrings > 0
                                 ? outq_rings[--outq_nrings]
                                 : xreallocarray(NULL, cap, sizeof *v);
        for (uint32_t i = 0; i < q->n; i++)
            v[i] = *outq_at(q, i);
        free(q->v); /* only a ring that was full grows */
        outq_allocated += (size_t)(cap - q->cap) * sizeof *v;
        q->v = v;
        q->head = 0;
        q->cap = cap;
    }
    b->refs++;
    *outq_at(q, q->n++) = (struct outq_seg){b, off, len};
    q->bytes += len;
}

void outq_append(struct outq *q, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (q->n > 0) {
        /* Fill the private block at the tail while it has room. */
        struct outq_seg *s = outq_at(q, q->n - 1);
        struct outq_block *b = s->b;
        if (!b->shared && s->off + s->len == b->len && b->cap - b->len >= n) {
            memcpy(b->data + b->len, p, n);
            b->len += n;
            s->len += n;
            q->bytes += n;
            return;
        }
    }
    /* The next private block is twice the last one, so a busy queue
     * gathers its bytes in few blocks. */
    size_t want = n;
    if (q->n > 0 && !outq_at(q, q->n - 1)->b->shared) {
        size_t next = 2 * outq_at(q, q->n - 1)->b->cap;
        next = next < OUTQ_BLOCK_MAX ? next : OUTQ_BLOCK_MAX;
        want = n > next ? n : next;
    }
    struct outq_block *b = outq_block_alloc(want);
    memcpy(b->data, p, n);
    b->len = n;
    outq_push(q, b, 0, n);
}

void outq_append_block(struct outq *q, struct outq_block *b)
{
    if (b->len > 0)
        outq_push(q, b, 0, b->len);
}

size_t outq_iov(const struct outq *q, struct iovec *iov, size_t max)
{
    size_t k = 0;
    for (uint32_t i = 0; i < q->n && k < max; i++, k++) {
        const struct outq_seg *s = outq_at(q, i);
        iov[k].iov_base = s->b->data + s->off;
        iov[k].iov_len = s->len;
    }
    return k;
}

/* Frees the ring once the queue is empty. */
static void outq_release_ring(struct outq *q)
{
    outq_allocated -= (size_t)q->cap * sizeof *q->v;
    if (q->cap == OUTQ_RING_MIN && outq_nrings < OUTQ_RINGS_MAX)
        outq_rings[outq_nrings++] = q->v;
    else
        free(q->v);
    q->v = NULL;
    q->head = q->n = q->cap = 0;
}

char outq_consume(struct outq *q, size_t n)
{
    char last = 0;
    q->bytes -= n;
    while (n > 0) {
        struct outq_seg *s = outq_at(q, 0);
        size_t k = n < s->len ? n : s->len;
        last = s->b->data[s->off + k - 1];
        s->off += k;
        s->len -= k;
        n -= k;
        if (s->len > 0)
            break;
        outq_block_unref(s->b);
        q->head = (q->head + 1) & (q->cap - 1);
        q->n--;
    }
    if (q->n == 0 && q->v != NULL)
        outq_release_ring(q);
    return last;
}

void outq_clear(struct outq *q)
{
    for (uint32_t i = 0; i < q->n; i++)
        outq_block_unref(outq_at(q, i)->b);
    q->n = 0;
    q->bytes = 0;
    if (q->v != NULL)
        outq_release_ring(q);
}
