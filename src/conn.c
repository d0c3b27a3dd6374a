/*
 * conn: one client connection, seen as bytes.
 *
 * Life of a connection: OPEN (reading, dispatching lines, queueing output)
 * -> CLOSING (conn_close was called; the protocol's close hook runs before
 * the loop sleeps) -> DRAINING (queued output is still being sent) ->
 * LINGER (our side is shut down; we wait briefly for the peer's EOF so that
 * unread input does not turn our last words into a reset) -> DEAD (freed
 * before the loop sleeps). Every step after OPEN is bounded in time.
 */
#include "conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "ev.h"
#include "frame.h"
#include "log.h"
#include "net.h"
#include "xmalloc.h"

/* Bytes taken from the kernel per read; shared by all connections. */
#define CONN_READ_CHUNK (64 * 1024)

/* How often drained output buffers of quiet connections are given back. */
#define CONN_SWEEP_MS 1000
/*
 * Drained output buffers up to this size are freed at once: malloc hands
 * small blocks back without touching new pages, and an idle connection
 * then holds nothing. Bigger ones belong to busy connections and are kept
 * until a sweep finds them quiet.
 */
#define CONN_OUT_KEEP 4096
/*
 * The output queue limit is checked after each flush, against what the
 * kernel did not take, so a fast reader that got a burst in one round is
 * not cut off. Within a round a queue may grow to this many times the
 * limit before it is cut off at once.
 */
#define CONN_SENDQ_ROUND 4

enum conn_state { CS_OPEN, CS_CLOSING, CS_DRAINING, CS_LINGER, CS_DEAD };

struct conn {
    struct ev_io io;
    struct ev_timer timer; /* flood resume, or drain/linger deadline */
    uint64_t id;
    uint64_t flood_t; /* flood budget clock, microseconds */
    const struct conn_proto *proto;
    void *data;
    struct frame frame;
    struct buf in;  /* input not yet taken while flood-paused */
    struct buf out; /* output the kernel has not taken yet */
    size_t slot;    /* index in conn_all */
    enum conn_state state;
    enum conn_reason reason;
    bool flush_on_close;
    bool paused;     /* out of flood budget: not reading */
    bool eof;        /* the peer will send no more */
    bool want_write; /* the kernel refused output; wait for EPOLLOUT */
    bool pending;    /* on the flush list */
    bool mid_line;   /* the last byte sent was not a line end */
    bool got_bytes;  /* the first read was checked for a TLS handshake */
    bool sniffed;    /* the first line was checked for HTTP */
    bool out_used;   /* output was queued since the last idle sweep */
    char host[46];
    char addr[56];
};

/* A growable array of connections. */
struct conn_list {
    struct conn **v;
    size_t n, cap;
};

static struct ev_loop *conn_loop;
static struct conn_limits conn_lim;
static void (*conn_on_free)(const struct conn *c);
static uint64_t conn_next_id = 1;
static struct conn_list conn_all;     /* every live connection */
static struct conn_list conn_flushq;  /* connections with output to send */
static struct conn_list conn_closing; /* close hooks still to run */
static struct conn_list conn_dead;    /* to free before sleeping */
static struct ev_timer conn_sweep;    /* gives back idle output buffers */
static char conn_rbuf[CONN_READ_CHUNK];

static const char *const conn_reasons[] = {
    [CONN_QUIT] = "quit",         [CONN_EOF] = "eof",
    [CONN_ERROR] = "error",       [CONN_SENDQ] = "sendq",
    [CONN_SHUTDOWN] = "shutdown", [CONN_HTTP] = "http",
    [CONN_TLS] = "tls",           [CONN_TIMEOUT] = "timeout",
};

static void conn_on_io(struct ev_loop *loop, struct ev_io *io, uint32_t ev);
static void conn_kill(struct conn *c);
static void conn_fail(struct conn *c);
static void conn_fail_errno(struct conn *c, int err);

/* Appends c to list l. */
static void conn_list_push(struct conn_list *l, struct conn *c)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
    }
    l->v[l->n++] = c;
}

void conn_init(struct ev_loop *loop, const struct conn_limits *limits,
               void (*on_free)(const struct conn *c))
{
    conn_loop = loop;
    conn_lim = *limits;
    conn_on_free = on_free;
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
}

struct conn *conn_new(int fd, const char *addr, const struct conn_proto *proto)
{
    struct conn *c = xcalloc(1, sizeof *c);
    c->id = conn_next_id++;
    c->proto = proto;
    c->frame.max_line = conn_lim.max_line;
    conn_set_addr(c, addr);
    c->slot = conn_all.n;
    conn_list_push(&conn_all, c);
    if (ev_io_start(conn_loop, &c->io, fd, EV_READ, conn_on_io) < 0) {
        close(fd);
        c->io.fd = -1;
        c->state = CS_DEAD;
        conn_list_push(&conn_dead, c);
        return c;
    }
    log_info("event=connect id=%llu addr=%s proto=%s",
             (unsigned long long)c->id, c->addr, proto->name);
    proto->open(c);
    return c;
}

uint64_t conn_id(const struct conn *c)
{
    return c->id;
}

const char *conn_addr(const struct conn *c)
{
    return c->addr;
}

const char *conn_host(const struct conn *c)
{
    return c->host;
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
static void conn_update_mask(struct conn *c)
{
    if (c->state == CS_DEAD)
        return;
    uint32_t mask = 0;
    if ((c->state == CS_OPEN && !c->paused && !c->eof) || c->state == CS_LINGER)
        mask |= EV_READ;
    if (c->want_write)
        mask |= EV_WRITE;
    ev_io_set(conn_loop, &c->io, mask);
}

/* Puts c on the list of connections to flush before sleeping. */
static void conn_schedule_flush(struct conn *c)
{
    if (!c->pending) {
        c->pending = true;
        conn_list_push(&conn_flushq, c);
    }
}

/*
 * Gives back the output storage of connections that had nothing queued
 * since the last sweep. Busy connections keep theirs, so they do not
 * allocate per flush; idle ones hold none. Re-arms while any is kept.
 */
static void conn_on_sweep(struct ev_loop *loop, struct ev_timer *t)
{
    bool kept = false;
    for (size_t i = 0; i < conn_all.n; i++) {
        struct conn *c = conn_all.v[i];
        if (c->out.cap > 0 && buf_used(&c->out) == 0 && !c->out_used)
            buf_reset(&c->out);
        c->out_used = false;
        kept |= c->out.cap > 0;
    }
    if (kept)
        ev_timer_start(loop, t, CONN_SWEEP_MS, conn_on_sweep);
}

void conn_write(struct conn *c, const void *p, size_t n)
{
    if (c->state != CS_OPEN || n == 0)
        return;
    buf_append(&c->out, p, n);
    c->out_used = true;
    if (!ev_timer_active(&conn_sweep))
        ev_timer_start(conn_loop, &conn_sweep, CONN_SWEEP_MS, conn_on_sweep);
    conn_schedule_flush(c);
    /* The limit is enforced when the kernel refuses more (conn_flush); this
     * only bounds what one loop round may queue before it gets the chance. */
    if (buf_used(&c->out) > CONN_SENDQ_ROUND * conn_lim.sendq_max)
        conn_close(c, CONN_SENDQ, false);
}

void conn_try_send(struct conn *c, const char *text)
{
    if (c->io.fd < 0)
        return;
    char line[512];
    int n =
        snprintf(line, sizeof line, "%s%s", c->mid_line ? "\r\n" : "", text);
    if (n > 0 &&
        send(c->io.fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
        c->mid_line = false;
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
     * freed with the connection. */
    if (!flush)
        buf_reset(&c->out);
    conn_update_mask(c);
    conn_list_push(&conn_closing, c);
}

void conn_close_with(struct conn *c, enum conn_reason reason, const char *text)
{
    if (c->state == CS_OPEN || c->state == CS_DRAINING) {
        buf_append(&c->out, text, strlen(text));
        conn_schedule_flush(c);
    }
    conn_close(c, reason, true);
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
 * Input: flood budget, framing, dispatch.
 * ------------------------------------------------------------------------ */

/* Microseconds one line costs from the flood budget. */
static uint64_t conn_flood_cost(void)
{
    return 1000000u / conn_lim.flood_rate;
}

/*
 * Returns 0 if one more line fits the flood budget now, else how many
 * milliseconds to wait until it does. The budget is a clock that runs ahead
 * of real time by the cost of each line; it may run at most a burst ahead.
 */
static uint64_t conn_flood_wait(const struct conn *c)
{
    if (conn_lim.flood_rate == 0)
        return 0;
    uint64_t now = ev_now(conn_loop) * 1000u;
    uint64_t t = c->flood_t > now ? c->flood_t : now;
    uint64_t limit = now + (uint64_t)conn_lim.flood_burst * conn_flood_cost();
    if (t + conn_flood_cost() <= limit)
        return 0;
    return (t + conn_flood_cost() - limit + 999) / 1000;
}

/* Charges one line to the flood budget. */
static void conn_flood_charge(struct conn *c)
{
    if (conn_lim.flood_rate == 0)
        return;
    uint64_t now = ev_now(conn_loop) * 1000u;
    c->flood_t = (c->flood_t > now ? c->flood_t : now) + conn_flood_cost();
}

/* Returns true if the line is the start of an HTTP request. */
static bool conn_is_http(const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && i < 10 && line[i] >= 'A' && line[i] <= 'Z')
        i++;
    if (i < 3 || i >= len || line[i] != ' ')
        return false;
    for (size_t k = i + 1; k + 6 <= len; k++)
        if (memcmp(line + k, " HTTP/", 6) == 0)
            return true;
    return false;
}

/* Hands one complete line to the protocol, after the HTTP check. */
static void conn_dispatch(struct conn *c, const char *line, size_t len)
{
    if (!c->sniffed) {
        c->sniffed = true;
        if (conn_is_http(line, len)) {
            conn_close(c, CONN_HTTP, false);
            return;
        }
    }
    c->proto->line(c, line, len);
}

static void conn_on_flood_timer(struct ev_loop *loop, struct ev_timer *t);

/*
 * Feeds n bytes at p through the framer and the protocol until they are used
 * up, the flood budget runs out (the connection pauses) or it closes.
 * Returns the number of bytes consumed.
 */
static size_t conn_process(struct conn *c, char *p, size_t n)
{
    struct frame_input in = {p, n};
    while (c->state == CS_OPEN && in.n > 0) {
        uint64_t wait = conn_flood_wait(c);
        if (wait > 0) {
            c->paused = true;
            ev_timer_start(conn_loop, &c->timer, wait, conn_on_flood_timer);
            conn_update_mask(c);
            break;
        }
        const char *line;
        size_t len;
        enum frame_result r = frame_next(&c->frame, &in, &line, &len);
        if (r == FRAME_MORE)
            break;
        conn_flood_charge(c);
        if (r == FRAME_TOO_LONG)
            c->proto->too_long(c, conn_lim.max_line);
        else
            conn_dispatch(c, line, len);
    }
    if (c->proto->input_done)
        c->proto->input_done(c);
    return n - in.n;
}

/* Handles the end of the peer's input: the last line, then close. */
static void conn_on_eof(struct conn *c)
{
    const char *line;
    size_t len;
    c->eof = true;
    if (frame_finish(&c->frame, &line, &len) && len > 0) {
        conn_dispatch(c, line, len);
        if (c->proto->input_done)
            c->proto->input_done(c);
    }
    conn_close(c, CONN_EOF, true);
}

/* Resumes a flood-paused connection: first its saved input, then reading. */
static void conn_on_flood_timer(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct conn *c = (struct conn *)((char *)t - offsetof(struct conn, timer));
    c->paused = false;
    if (buf_used(&c->in) > 0) {
        size_t done =
            conn_process(c, c->in.data + c->in.head, buf_used(&c->in));
        if (c->state != CS_OPEN)
            return;
        buf_consume(&c->in, done);
        if (buf_used(&c->in) == 0)
            buf_reset(&c->in);
    }
    if (!c->paused && c->eof)
        conn_on_eof(c);
    else
        conn_update_mask(c);
}

/* Reads one chunk and processes it; keeps what a flood pause left over. */
static void conn_read(struct conn *c)
{
    ssize_t n = recv(c->io.fd, conn_rbuf, sizeof conn_rbuf, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        conn_fail_errno(c, errno);
        return;
    }
    if (c->state == CS_LINGER) {
        if (n == 0)
            conn_kill(c);
        return; /* input after our goodbye is discarded */
    }
    if (n == 0) {
        conn_on_eof(c);
        return;
    }
    if (!c->got_bytes) {
        c->got_bytes = true;
        if ((uint8_t)conn_rbuf[0] == 0x16) {
            /* A TLS handshake record: a TLS client on a plain-text port. */
            conn_close(c, CONN_TLS, false);
            return;
        }
    }
    size_t done = conn_process(c, conn_rbuf, (size_t)n);
    if (c->state == CS_OPEN && c->paused && done < (size_t)n)
        buf_append(&c->in, conn_rbuf + done, (size_t)n - done);
}

/* ------------------------------------------------------------------------
 * Output and the end of a connection.
 * ------------------------------------------------------------------------ */

/* Closes the socket and puts c on the list to free before sleeping. */
static void conn_kill(struct conn *c)
{
    if (c->state == CS_DEAD)
        return;
    c->state = CS_DEAD;
    ev_timer_stop(conn_loop, &c->timer);
    if (c->io.fd >= 0) {
        ev_io_stop(conn_loop, &c->io);
        close(c->io.fd);
        c->io.fd = -1;
    }
    conn_list_push(&conn_dead, c);
}

/* Ends a connection whose socket failed, whatever state it is in. */
static void conn_fail(struct conn *c)
{
    buf_reset(&c->out);
    if (c->state == CS_OPEN)
        conn_close(c, CONN_ERROR, false);
    else if (c->state != CS_CLOSING)
        conn_kill(c);
}

/* Ends a connection after a failed read or write with error err. */
static void conn_fail_errno(struct conn *c, int err)
{
    /* A client that closes with our output unread resets the connection,
     * and a write to it fails: to its user that is an ordinary close. */
    if ((err == ECONNRESET || err == EPIPE) && c->state == CS_OPEN)
        conn_close(c, CONN_EOF, false);
    /* The kernel gave up on a peer that stopped answering (keepalive or
     * user timeout); the error names the last ICMP report heard, if any. */
    else if ((err == ETIMEDOUT || err == EHOSTUNREACH || err == ENETUNREACH) &&
             c->state == CS_OPEN)
        conn_close(c, CONN_TIMEOUT, false);
    else
        conn_fail(c);
}

/* Deadline of a draining or lingering connection: give up on the peer. */
static void conn_on_deadline(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    conn_kill((struct conn *)((char *)t - offsetof(struct conn, timer)));
}

/* All output is out after close: shut our side down and await the peer. */
static void conn_finish(struct conn *c)
{
    if (c->eof || c->io.fd < 0 || shutdown(c->io.fd, SHUT_WR) < 0) {
        conn_kill(c);
        return;
    }
    c->state = CS_LINGER;
    c->want_write = false;
    conn_update_mask(c);
    ev_timer_start(conn_loop, &c->timer, conn_lim.linger_ms, conn_on_deadline);
}

/* Sends as much queued output as the kernel takes, in one call. */
static void conn_flush(struct conn *c)
{
    while (buf_used(&c->out) > 0) {
        ssize_t n =
            send(c->io.fd, buf_peek(&c->out), buf_used(&c->out), MSG_NOSIGNAL);
        if (n > 0) {
            c->mid_line = buf_peek(&c->out)[n - 1] != '\n';
            buf_consume(&c->out, (size_t)n);
            /* A closing peer that still reads may take its time: the
             * deadline counts from the last progress, not from the close. */
            if (c->state == CS_DRAINING)
                ev_timer_start(conn_loop, &c->timer, conn_lim.linger_ms,
                               conn_on_deadline);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* What the kernel would not take is what --sendq-max caps. */
            if (c->state == CS_OPEN && buf_used(&c->out) > conn_lim.sendq_max) {
                conn_close(c, CONN_SENDQ, false);
                return;
            }
            c->want_write = true;
            conn_update_mask(c);
            return;
        }
        conn_fail_errno(c, errno);
        return;
    }
    if (c->out.cap <= CONN_OUT_KEEP)
        buf_reset(&c->out);
    if (c->want_write) {
        c->want_write = false;
        conn_update_mask(c);
    }
    if (c->state == CS_DRAINING)
        conn_finish(c);
}

/* Handles epoll events for a connection. */
static void conn_on_io(struct ev_loop *loop, struct ev_io *io, uint32_t ev)
{
    (void)loop;
    struct conn *c = (struct conn *)io;
    if (c->state == CS_DEAD || c->state == CS_CLOSING)
        return;
    if (ev & EV_WRITE)
        conn_schedule_flush(c);
    if ((ev & EV_READ) && (c->state == CS_OPEN || c->state == CS_LINGER))
        conn_read(c);
    else if (ev & EV_ERROR)
        conn_fail(c);
}

/* Runs the close hooks of connections closed since the last round. */
static void conn_run_close_hooks(void)
{
    /* A hook may close more connections, which appends to the list. */
    for (size_t i = 0; i < conn_closing.n; i++) {
        struct conn *c = conn_closing.v[i];
        const char *label = c->proto->label ? c->proto->label(c) : NULL;
        char quoted[80];
        log_info("event=disconnect id=%llu nick=%s addr=%s reason=%s",
                 (unsigned long long)c->id,
                 label ? log_quote(quoted, sizeof quoted, label, strlen(label))
                       : "-",
                 c->addr, conn_reason_name(c->reason));
        c->proto->close(c, c->reason);
        c->data = NULL;
        if (c->flush_on_close && buf_used(&c->out) > 0) {
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

/* Flushes every connection that has output waiting. */
static void conn_flush_all(void)
{
    for (size_t i = 0; i < conn_flushq.n; i++) {
        struct conn *c = conn_flushq.v[i];
        c->pending = false;
        if (c->state == CS_OPEN || c->state == CS_DRAINING)
            conn_flush(c);
    }
    conn_flushq.n = 0;
}

/* Frees the connections that died this round. */
static void conn_free_dead(void)
{
    for (size_t i = 0; i < conn_dead.n; i++) {
        struct conn *c = conn_dead.v[i];
        struct conn *last = conn_all.v[--conn_all.n];
        conn_all.v[c->slot] = last;
        last->slot = c->slot;
        if (conn_on_free)
            conn_on_free(c);
        buf_reset(&c->in);
        buf_reset(&c->out);
        frame_reset(&c->frame);
        free(c);
    }
    conn_dead.n = 0;
}

void conn_before_sleep(void)
{
    do {
        conn_run_close_hooks();
        conn_flush_all();
    } while (conn_closing.n > 0);
    conn_free_dead();
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
    ev_timer_stop(conn_loop, &conn_sweep);
    free(conn_all.v);
    free(conn_flushq.v);
    free(conn_closing.v);
    free(conn_dead.v);
    memset(&conn_all, 0, sizeof conn_all);
    memset(&conn_flushq, 0, sizeof conn_flushq);
    memset(&conn_closing, 0, sizeof conn_closing);
    memset(&conn_dead, 0, sizeof conn_dead);
}
