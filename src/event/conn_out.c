/*
 * conn_out: a connection's output. Writes are queued (outq.h) and flushed
 * before the loop sleeps: connections that got output this round first,
 * then those a round had no time for, a slice of CONN_FLUSH_ROUND bytes
 * per round. When the kernel refuses more, what is queued here and what it
 * holds count against --sendq-max; all connections' output against
 * --out-mem-max.
 */
#include "event/conn_int.h"

#include <errno.h>
#include <linux/sockios.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/xmalloc.h"

/* How often the allocator is asked to give freed memory back to the OS. */
#define CONN_SWEEP_MS 1000
/* Free heap worth a trim: less is not worth the walk over the heap. */
#define CONN_TRIM_SLACK (1024 * 1024)
/*
 * Bytes one round sends before the connections it did not get to wait for
 * the next round. Connections with new output go first, so a line in a
 * small room is not stuck behind a big room's fan-out; the rest follows
 * in slices, one per round, with the loop coming back to everyone between.
 */
#define CONN_FLUSH_ROUND (4 * 1024 * 1024)

static struct ev_timer conn_sweep; /* gives memory back after a peak */
static size_t conn_trim_floor;     /* heap bytes free after the last trim */

/* Puts c on the list of connections to flush before sleeping. */
void conn_schedule_flush(struct conn *c)
{
    if (!c->pending) {
        c->pending = true;
        c->carried = false;
        c->fq_slot = conn_flushq.n;
        conn_list_push(&conn_flushq, c);
    }
}

/*
 * Once a second, gives memory that an attack or a crowd left behind back
 * to the system: the blocks kept for reuse once no output is queued, and
 * the heap's free pages (malloc_trim) once more than CONN_TRIM_SLACK more
 * of it lies free than after the last trim.
 */
static void conn_on_sweep(struct ev_loop *loop, struct ev_timer *t)
{
    if (outq_memory() == 0) {
        outq_pool_drain();
        buf_pool_drain();
    }
    size_t free_now = mallinfo2().fordblks;
    if (free_now > conn_trim_floor + CONN_TRIM_SLACK) {
        malloc_trim(0);
        conn_trim_floor = mallinfo2().fordblks;
    } else if (free_now < conn_trim_floor) {
        conn_trim_floor = free_now;
    }
    ev_timer_start(loop, t, CONN_SWEEP_MS, conn_on_sweep);
}

void conn_out_init(void)
{
    ev_timer_start(conn_loop, &conn_sweep, CONN_SWEEP_MS, conn_on_sweep);
}

/* Accounts n bytes queued to c and puts it on the flush list. */
void conn_queued(struct conn *c, size_t n)
{
    conn_out_total += n;
    conn_schedule_flush(c);
}

void conn_write(struct conn *c, const void *p, size_t n)
{
    if (c->state != CS_OPEN || n == 0)
        return;
    outq_append(&c->out, p, n);
    conn_queued(c, n);
}

void conn_write_block(struct conn *c, struct outq_block *b)
{
    if (c->state != CS_OPEN)
        return;
    size_t before = c->out.bytes;
    outq_append_block(&c->out, b);
    conn_queued(c, c->out.bytes - before);
}

void conn_try_send(struct conn *c, const char *text)
{
    if (c->io.fd < 0)
        return;
    char line[512];
    int n =
        snprintf(line, sizeof line, "%s%s", c->mid_line ? "\r\n" : "", text);
    if (n > 0 && (size_t)n < sizeof line &&
        conn_xport_try_send(c, line, (size_t)n))
        c->mid_line = false;
}

void conn_last_words(struct conn *c, const char *text)
{
    if (!c->flush_on_close) {
        conn_try_send(c, text);
        return;
    }
    if (c->mid_line)
        outq_append(&c->out, "\r\n", 2);
    outq_append(&c->out, text, strlen(text));
    c->mid_line = false;
}

/* Returns the bytes the kernel still holds unsent for c's socket. */
static size_t conn_kernel_queue(const struct conn *c)
{
    int n = 0;
    if (ioctl(c->io.fd, SIOCOUTQ, &n) < 0 || n < 0)
        return 0;
    return (size_t)n;
}

/*
 * The kernel refused more output: wait for EPOLLOUT, unless what is queued
 * here and in the kernel passes --sendq-max, which cuts the connection off.
 */
static void conn_flush_blocked(struct conn *c)
{
    if (c->state == CS_OPEN &&
        c->out.bytes + conn_kernel_queue(c) > conn_lim.sendq_max) {
        metrics.sendq_cutoffs++;
        conn_close(c, CONN_SENDQ, false);
        return;
    }
    c->want_write = true;
    conn_update_mask(c);
}

/*
 * Keeps c's output for the next round: it stays pending, on the list being
 * built (conn_flush_all then makes sure the loop does not sleep).
 */
static void conn_carry_over(struct conn *c)
{
    c->pending = true;
    c->carried = true;
    c->fq_slot = conn_spare.n;
    conn_list_push(&conn_spare, c);
}

/*
 * Sends as much queued output as the kernel takes; over TLS, one record
 * a round (conn_xport.c).
 */
static void conn_flush(struct conn *c)
{
    struct iovec iov[64];
    while (c->out.bytes > 0) {
        size_t k = outq_iov(&c->out, iov, sizeof iov / sizeof iov[0]);
        ssize_t n = conn_xport_write(c, iov, k);
        if (n > 0) {
            conn_round_sent += (size_t)n;
            metrics.bytes_out += (size_t)n;
            c->mid_line = outq_consume(&c->out, (size_t)n) != '\n';
            /* A closing peer that still reads may take its time: the
             * deadline counts from the last progress, not from the close. */
            if (c->state == CS_DRAINING)
                ev_timer_start(conn_loop, &c->timer, conn_lim.linger_ms,
                               conn_on_deadline);
            if (c->out.bytes > 0 && conn_xport_one_write(c)) {
                conn_carry_over(c); /* its next record goes next round */
                return;
            }
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            conn_flush_blocked(c);
        else
            conn_fail_errno(c, errno);
        return;
    }
    c->want_write = false;
    conn_update_mask(c); /* reading may resume */
    if (c->state == CS_DRAINING)
        conn_finish(c);
}

/* qsort comparator: connections by queued output, most first. */
static int conn_cmp_queued(const void *a, const void *b)
{
    size_t x = (*(struct conn *const *)a)->out.bytes;
    size_t y = (*(struct conn *const *)b)->out.bytes;
    return (x < y) - (x > y);
}

/*
 * Output memory passed --out-mem-max: cuts off the connections that hold
 * the most output (the slowest readers) until it is back under the limit.
 * Readers that keep up hold little and are never chosen while slower ones
 * remain. Runs only when over the limit, so its scan costs nothing
 * otherwise.
 */
void conn_enforce_memory(void)
{
    if (conn_lim.out_mem_max == 0 || outq_memory() <= conn_lim.out_mem_max)
        return;
    struct conn **v = xcalloc(conn_all.n, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < conn_all.n; i++)
        if (conn_all.v[i]->state == CS_OPEN && conn_all.v[i]->out.bytes > 0)
            v[n++] = conn_all.v[i];
    qsort(v, n, sizeof *v, conn_cmp_queued);
    size_t cut = 0;
    for (size_t i = 0; i < n && outq_memory() > conn_lim.out_mem_max; i++) {
        conn_close(v[i], CONN_MEMORY, false);
        metrics.memory_cutoffs++;
        cut++;
    }
    free(v);
    log_warn("event=out-memory-limit cut=%zu bytes=%zu max=%zu", cut,
             outq_memory(), conn_lim.out_mem_max);
}

/*
 * Flushes c, or keeps it for the next round if this round's flush budget
 * is spent (it stays pending, on the list being built).
 */
static void conn_flush_or_carry(struct conn *c)
{
    if (c == NULL)
        return; /* freed while carried */
    if (conn_round_sent >= CONN_FLUSH_ROUND) {
        conn_carry_over(c);
        return;
    }
    c->pending = false;
    if (c->state == CS_OPEN || c->state == CS_DRAINING)
        conn_flush(c);
}

/*
 * Flushes connections with output waiting: first those that got output
 * this round, then those carried over, until the round's budget is spent.
 */
void conn_flush_all(void)
{
    for (size_t i = 0; i < conn_flushq.n; i++)
        conn_flush_or_carry(conn_flushq.v[i]);
    conn_flushq.n = 0;
    for (size_t i = 0; i < conn_carry.n; i++)
        conn_flush_or_carry(conn_carry.v[i]);
    conn_carry.n = 0;
    struct conn_list t = conn_carry;
    conn_carry = conn_spare;
    conn_spare = t;
    if (conn_carry.n > 0)
        ev_no_sleep(conn_loop);
}

void conn_out_fini(void)
{
    ev_timer_stop(conn_loop, &conn_sweep);
    outq_pool_drain();
}
