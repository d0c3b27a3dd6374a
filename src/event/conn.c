/*
 * conn: one client connection, seen as bytes.
 *
 * Life of a connection: OPEN (reading, dispatching lines, queueing output)
 * -> CLOSING (conn_close was called; the protocol's close hook runs before
 * the loop sleeps) -> DRAINING (queued output is still being sent) ->
 * LINGER (our side is shut down; we wait briefly for the peer's EOF so that
 * unread input does not turn our last words into a reset) -> DEAD (freed
 * before the loop sleeps). Every step after OPEN is bounded in time.
 *
 * This file holds that life; conn_in.c holds the input side (probes, the
 * flood and round budgets, framing and dispatch), conn_out.c the output
 * side, conn_xport.c the transports.
 */
#include "event/conn_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/buf.h"
#include "event/ev.h"
#include "event/frame.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "event/net.h"
#include "event/outq.h"
#include "lib/xmalloc.h"

/*
 * A connection with more output than this waiting is not read: what it
 * asks for would only queue behind what it has not taken yet.
 */
#define CONN_READ_STOP (64 * 1024)

struct ev_loop *conn_loop;
struct conn_limits conn_lim;
static void (*conn_on_free)(const struct conn *c);
/* What runs right before each flush (conn_add_before_flush), in order. */
#define CONN_BEFORE_FLUSH_MAX 4
static void (*conn_before_flush[CONN_BEFORE_FLUSH_MAX])(void);
static size_t conn_nbefore_flush;
static uint64_t conn_next_id = 1;
struct conn_list conn_all;            /* every live connection */
struct conn_list conn_flushq;         /* connections with new output */
struct conn_list conn_carry;          /* output a round had no time for */
struct conn_list conn_spare;          /* the next conn_carry, being built */
static struct conn_list conn_closing; /* close hooks still to run */
static struct conn_list conn_dead;    /* to free before sleeping */
uint64_t conn_out_total;              /* output bytes ever queued */
uint64_t conn_round_start;            /* conn_out_total when the round began */
size_t conn_round_sent;               /* bytes sent in this round's flush */

static const char *const conn_reasons[] = {
    [CONN_QUIT] = "quit",         [CONN_EOF] = "eof",
    [CONN_ERROR] = "error",       [CONN_SENDQ] = "sendq",
    [CONN_SHUTDOWN] = "shutdown", [CONN_HTTP] = "http",
    [CONN_TLS] = "tls",           [CONN_MEMORY] = "memory",
    [CONN_TIMEOUT] = "timeout",   [CONN_FLOOD] = "flood",
    [CONN_KILLED] = "killed",     [CONN_TLS_FAIL] = "handshake",
};

static void conn_on_io(struct ev_loop *loop, struct ev_io *io, uint32_t ev);
void conn_kill(struct conn *c);
static void conn_fail(struct conn *c);
void conn_fail_errno(struct conn *c, int err);

/* Appends c to list l. */
void conn_list_push(struct conn_list *l, struct conn *c)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
    }
    l->v[l->n++] = c;
}

size_t conn_list_compact(struct conn_list *l, size_t *head, size_t slot_off)
{
    size_t left = l->n - *head;
    if (*head > 0 && *head >= left) {
        memmove(l->v, l->v + *head, left * sizeof *l->v);
        for (size_t i = 0; i < left; i++)
            if (l->v[i])
                *(size_t *)(void *)((char *)l->v[i] + slot_off) = i;
        l->n = left;
        *head = 0;
    }
    return left;
}

void conn_init(struct ev_loop *loop, const struct conn_limits *limits,
               void (*on_free)(const struct conn *c))
{
    conn_loop = loop;
    conn_lim = *limits;
    conn_on_free = on_free;
    conn_out_init();
}

void conn_set_limits(const struct conn_limits *limits)
{
    conn_lim = *limits;
}

const struct conn_limits *conn_get_limits(void)
{
    return &conn_lim;
}

const char *conn_reason_name(enum conn_reason reason)
{
    return conn_reasons[reason];
}

/* Keeps the peer's printable address and its host part. */
static void conn_set_addr(struct conn *c, const char *addr)
{
    snprintf(c->addr, sizeof c->addr, "%s", addr);
    net_addr_host(c->addr, c->host, sizeof c->host);
    net_host_key(c->host, conn_lim.v4_bits, conn_lim.v6_bits, c->origin,
                 sizeof c->origin);
}

struct conn *conn_new(int fd, const char *addr, const struct conn_proto *proto)
{
    return conn_new_tls(fd, addr, proto, NULL);
}

struct conn *conn_new_tls(int fd, const char *addr,
                          const struct conn_proto *proto, struct tls_server *ts)
{
    struct conn *c = xcalloc(1, sizeof *c);
    c->id = conn_next_id++;
    c->proto = proto;
    c->frame.max_line = proto->max_line ? proto->max_line : conn_lim.max_line;
    c->frame.raw = proto->raw;
    conn_set_addr(c, addr);
    c->slot = conn_all.n;
    conn_list_push(&conn_all, c);
    if (ev_io_start(conn_loop, &c->io, fd, EV_READ | EV_HUP, conn_on_io) < 0) {
        close(fd);
        c->io.fd = -1;
        c->state = CS_DEAD;
        conn_list_push(&conn_dead, c);
        return c;
    }
    log_info("event=connect id=%llu addr=%s proto=%s%s",
             (unsigned long long)c->id, c->addr, proto->name,
             ts ? " transport=tls" : "");
    if (ts)
        conn_xport_start_tls(c, ts);
    else
        conn_start(c);
    return c;
}

uint64_t conn_id(const struct conn *c)
{
    return c->id;
}

const struct conn_proto *conn_proto_of(const struct conn *c)
{
    return c->proto;
}

const char *conn_addr(const struct conn *c)
{
    return c->addr;
}

const char *conn_host(const struct conn *c)
{
    return c->host;
}

const char *conn_origin(const struct conn *c)
{
    return c->origin;
}

void *conn_data(const struct conn *c)
{
    return c->data;
}

void conn_set_data(struct conn *c, void *data)
{
    c->data = data;
}

size_t conn_count(void)
{
    return conn_all.n;
}

/* Sets the epoll interest from the connection's state. */
void conn_update_mask(struct conn *c)
{
    if (c->state == CS_DEAD)
        return;
    uint32_t mask = 0;
    /* A connection waiting for its flood budget is still read (its input
     * is queued, conn_queue_input); one waiting for a round's budget, or
     * with too much output waiting, is not. */
    bool reading = c->state == CS_OPEN && !c->deferred && !c->eof &&
                   c->out.bytes <= CONN_READ_STOP;
    if (reading || c->state == CS_LINGER)
        mask |= EV_READ;
    if (c->state == CS_OPEN && !c->hup)
        mask |= EV_HUP;
    if (c->want_write)
        mask |= EV_WRITE;
    ev_io_set(conn_loop, &c->io, conn_xport_mask(c, mask, reading));
}

void conn_close(struct conn *c, enum conn_reason reason, bool flush)
{
    if (c->state != CS_OPEN)
        return;
    c->state = CS_CLOSING;
    c->reason = reason;
    c->flush_on_close = flush;
    c->paused = false;
    ev_timer_stop(conn_loop, &c->timer);
    /* Input buffers may be in use by the caller (a line handler); they are
     * freed with the connection. Output thrown away is thrown away in the
     * kernel too: the socket is reset, not left to drain on its own. */
    if (!flush) {
        c->abort = c->abort || c->out.bytes > 0;
        outq_clear(&c->out);
    }
    conn_update_mask(c);
    conn_list_push(&conn_closing, c);
}

void conn_cut_off(struct conn *c, enum conn_reason reason)
{
    if (c->state != CS_OPEN)
        return;
    outq_clear(&c->out);
    if (c->ws != NULL)
        conn_ws_dropped(c);
    conn_close(c, reason, true);
}

void conn_close_with(struct conn *c, enum conn_reason reason, const char *text)
{
    if (c->state == CS_OPEN || c->state == CS_DRAINING) {
        size_t n = strlen(text);
        outq_append(&c->out, text, n);
        conn_queued(c, n);
    }
    conn_close(c, reason, true);
}

void conn_census(void (*fn)(const struct conn_proto *p, enum conn_phase ph,
                            void *arg),
                 void *arg)
{
    for (size_t i = 0; i < conn_all.n; i++) {
        const struct conn *c = conn_all.v[i];
        enum conn_phase ph = c->state != CS_OPEN ? CONN_PHASE_CLOSING
                             : c->opened         ? CONN_PHASE_OPEN
                                                 : CONN_PHASE_NEW;
        fn(c->proto, ph, arg);
    }
}

void conn_foreach(void (*fn)(struct conn *c, void *arg), void *arg)
{
    /* fn may close connections, which never removes them from conn_all
     * before the loop sleeps, so indexing stays valid. */
    for (size_t i = 0; i < conn_all.n; i++)
        if (conn_all.v[i]->state == CS_OPEN)
            fn(conn_all.v[i], arg);
}

/* ------------------------------------------------------------------------
 * Output and the end of a connection.
 * ------------------------------------------------------------------------ */

/* Closes the socket and puts c on the list to free before sleeping. */
void conn_kill(struct conn *c)
{
    if (c->state == CS_DEAD)
        return;
    c->state = CS_DEAD;
    ev_timer_stop(conn_loop, &c->timer);
    conn_xport_release(c);
    if (c->io.fd >= 0) {
        ev_io_stop(conn_loop, &c->io);
        if (c->abort) {
            /* Reset: the kernel drops what it still holds at once. */
            struct linger lg = {.l_onoff = 1, .l_linger = 0};
            setsockopt(c->io.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        close(c->io.fd);
        c->io.fd = -1;
    }
    conn_list_push(&conn_dead, c);
}

/* Ends a connection whose socket failed, whatever state it is in. */
static void conn_fail(struct conn *c)
{
    c->abort = true;
    outq_clear(&c->out);
    if (c->state == CS_OPEN)
        conn_close(c, CONN_ERROR, false);
    else if (c->state != CS_CLOSING)
        conn_kill(c);
}

/* Ends a connection after a failed read or write with error err. */
void conn_fail_errno(struct conn *c, int err)
{
    /* A client that closes with our output unread resets the connection,
     * and a write to it fails: to its user that is an ordinary close. */
    if ((err == ECONNRESET || err == EPIPE) && c->state == CS_OPEN) {
        c->abort = true;
        conn_close(c, CONN_EOF, false);
    } else if ((err == ETIMEDOUT || err == EHOSTUNREACH ||
                err == ENETUNREACH) &&
               c->state == CS_OPEN) {
        /* The kernel gave up on a peer that stopped answering (keepalive
         * or user timeout); the error names the last ICMP report heard. */
        c->abort = true;
        conn_close(c, CONN_TIMEOUT, false);
    } else {
        conn_fail(c);
    }
}

/* Deadline of a draining or lingering connection: give up on the peer. */
void conn_on_deadline(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct conn *c = (struct conn *)((char *)t - offsetof(struct conn, timer));
    c->abort = c->out.bytes > 0;
    conn_kill(c);
}

/* All output is out after close: shut our side down and await the peer. */
void conn_finish(struct conn *c)
{
    if (c->eof || c->io.fd < 0) {
        conn_kill(c);
        return;
    }
    conn_xport_shutdown(c);
    if (shutdown(c->io.fd, SHUT_WR) < 0) {
        conn_kill(c);
        return;
    }
    c->state = CS_LINGER;
    c->want_write = false;
    conn_update_mask(c);
    ev_timer_start(conn_loop, &c->timer, conn_lim.linger_ms, conn_on_deadline);
}

/* Handles epoll events for a connection. */
static void conn_on_io(struct ev_loop *loop, struct ev_io *io, uint32_t ev)
{
    (void)loop;
    struct conn *c = (struct conn *)io;
    if (c->state == CS_DEAD || c->state == CS_CLOSING)
        return;
    if (c->handshaking) {
        conn_xport_handshake_io(c, ev);
        return;
    }
    ev = conn_xport_events(c, ev);
    if (ev & EV_WRITE)
        conn_schedule_flush(c);
    if ((ev & EV_HUP) && !c->hup && c->state == CS_OPEN)
        conn_on_hup(c);
    if ((ev & EV_READ) && (c->state == CS_OPEN || c->state == CS_LINGER))
        conn_read(c);
    else if (ev & EV_ERROR)
        conn_fail_errno(c, net_socket_error(c->io.fd));
}

/* Runs the close hooks of connections closed since the last round. */
static void conn_run_close_hooks(void)
{
    /* A hook may close more connections, which appends to the list. */
    for (size_t i = 0; i < conn_closing.n; i++) {
        struct conn *c = conn_closing.v[i];
        const char *label =
            c->opened && c->proto->label ? c->proto->label(c) : NULL;
        char quoted[80];
        log_info("event=disconnect id=%llu nick=%s addr=%s reason=%s",
                 (unsigned long long)c->id,
                 label ? log_quote(quoted, sizeof quoted, label, strlen(label))
                       : "-",
                 c->addr, conn_reason_name(c->reason));
        if (c->opened)
            c->proto->close(c, c->reason);
        c->data = NULL;
        if (c->flush_on_close && c->out.bytes > 0) {
            c->state = CS_DRAINING;
            conn_schedule_flush(c);
            ev_timer_start(conn_loop, &c->timer, conn_lim.linger_ms,
                           conn_on_deadline);
        } else if (c->flush_on_close) {
            c->state = CS_DRAINING;
            conn_finish(c);
        } else {
            conn_kill(c);
        }
    }
    conn_closing.n = 0;
}

/* Frees the connections that died this round. */
static void conn_free_dead(void)
{
    for (size_t i = 0; i < conn_dead.n; i++) {
        struct conn *c = conn_dead.v[i];
        struct conn *last = conn_all.v[--conn_all.n];
        conn_all.v[c->slot] = last;
        last->slot = c->slot;
        conn_in_forget(c);
        if (c->pending) { /* carried, so freed before its turn: a hole */
            struct conn_list *l = c->carried ? &conn_carry : &conn_flushq;
            if (c->fq_slot < l->n && l->v[c->fq_slot] == c)
                l->v[c->fq_slot] = NULL;
        }
        if (conn_on_free)
            conn_on_free(c);
        buf_reset(&c->in);
        outq_clear(&c->out);
        frame_reset(&c->frame);
        conn_xport_free(c);
        free(c);
    }
    conn_dead.n = 0;
}

void conn_add_before_flush(void (*fn)(void))
{
    if (conn_nbefore_flush < CONN_BEFORE_FLUSH_MAX)
        conn_before_flush[conn_nbefore_flush++] = fn;
}

void conn_before_sleep(void)
{
    conn_xport_before_sleep();
    conn_run_deferred();
    do {
        conn_run_close_hooks();
        for (size_t i = 0; i < conn_nbefore_flush; i++)
            conn_before_flush[i]();
        conn_flush_all();
        conn_enforce_memory();
    } while (conn_closing.n > 0);
    conn_free_dead();
    conn_round_start = conn_out_total;
    conn_round_sent = 0;
}

void conn_fini(void)
{
    for (size_t i = 0; i < conn_all.n; i++) {
        struct conn *c = conn_all.v[i];
        if (c->state == CS_OPEN)
            conn_close(c, CONN_SHUTDOWN, false);
    }
    conn_run_close_hooks();
    for (size_t i = 0; i < conn_all.n; i++)
        conn_kill(conn_all.v[i]);
    conn_free_dead();
    conn_out_fini();
    conn_xport_fini();
    free(conn_all.v);
    free(conn_flushq.v);
    free(conn_carry.v);
    free(conn_spare.v);
    free(conn_closing.v);
    free(conn_dead.v);
    memset(&conn_all, 0, sizeof conn_all);
    memset(&conn_flushq, 0, sizeof conn_flushq);
    memset(&conn_carry, 0, sizeof conn_carry);
    memset(&conn_spare, 0, sizeof conn_spare);
    conn_in_fini();
    memset(&conn_closing, 0, sizeof conn_closing);
    memset(&conn_dead, 0, sizeof conn_dead);
}
