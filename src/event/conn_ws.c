/*
 * conn_ws: WebSocket framing as a layer of the transport, above plain TCP
 * or TLS and below the line framer (ws.h does the frames).
 *
 * - Input: each read decodes the frames that came into the bytes of their
 *   messages, "\r\n" after each, so the protocol above sees lines and the
 *   line limit, the flood budget and everything else of conn apply as on
 *   any connection. A frame that breaks the protocol cuts the connection
 *   off with the close code ws.h gives; the peer's close frame ends it.
 * - Output: the queue still holds lines. At flush time, the lines of the
 *   round are framed, one message each, into one buffer, and sent as one
 *   write. Nothing is kept per connection unless the kernel takes only
 *   part of it: then the rest waits (framed) for the next write, and the
 *   lines it holds stay in the queue, counted against the sendq, until it
 *   is all out.
 * - The answer to the upgrade and whatever was queued before it leave as
 *   they are (raw_left).
 */
#include "event/conn_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "event/ws.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

/* Framed output gathered for one write: a TLS record's worth over TLS. */
#define CONN_WS_WRITE (64 * 1024)
#define CONN_WS_WRITE_TLS (16 * 1024)
/* The longest output line framed whole when it spans queue blocks. */
#define CONN_WS_LINE (16 * 1024)

/* A connection's WebSocket layer. */
struct conn_ws {
    struct ws w;
    size_t raw_left;   /* queued bytes to send unframed (the 101 answer) */
    uint8_t *pend;     /* framed bytes the kernel did not take yet */
    size_t pend_n;     /* their length */
    size_t pend_off;   /* how much of them went out */
    size_t pend_plain; /* the queued bytes they stand for */
    char *stash;       /* input that came right behind the upgrade */
    size_t stash_n, stash_off;
    bool peer_closed; /* its close frame came: end of input */
};

static uint8_t conn_ws_wbuf[CONN_WS_WRITE + CONN_WS_LINE + WS_HEADER_MAX];
static char conn_ws_line[CONN_WS_LINE];

static struct log_rate conn_ws_fail_rate =
    LOG_RATE_INIT(LOG_INFO, "event=ws-fail");

void conn_upgrade_ws(struct conn *c, const struct conn_proto *proto,
                     bool binary)
{
    c->ws = xcalloc(1, sizeof *c->ws);
    c->ws->w.binary = binary;
    c->ws->raw_left = c->out.bytes;
    c->proto = proto;
    c->data = NULL;
    frame_reset(&c->frame);
    c->frame.max_line = proto->max_line ? proto->max_line : conn_lim.max_line;
    c->frame.raw = proto->raw;
    c->ws_fresh = true;
    ev_timer_stop(conn_loop, &c->timer);
    proto->open(c);
}

bool conn_is_ws(const struct conn *c)
{
    return c->ws != NULL;
}

void conn_ws_stash(struct conn *c, const char *p, size_t n)
{
    struct conn_ws *ws = c->ws;
    ws->stash = xreallocarray(ws->stash, ws->stash_n + n, 1);
    memcpy(ws->stash + ws->stash_n, p, n);
    ws->stash_n += n;
    conn_xp_mark_ready(c);
}

bool conn_ws_pending(const struct conn *c)
{
    return c->ws->stash_off < c->ws->stash_n || c->ws->peer_closed;
}

/* ------------------------------------------------------------------------
 * Input
 * ------------------------------------------------------------------------ */

/* One read's state, for the decoder's callback. */
struct conn_ws_io {
    struct conn *c;
    int err;  /* errno of a failed read; 0: none */
    bool eof; /* the peer closed its side */
};

/* The decoder reads: what followed the upgrade first, then the socket. */
static size_t conn_ws_rd(void *arg, uint8_t *buf, size_t n)
{
    struct conn_ws_io *io = arg;
    struct conn_ws *ws = io->c->ws;
    if (ws->stash_off < ws->stash_n) {
        size_t take = ws->stash_n - ws->stash_off;
        take = take < n ? take : n;
        memcpy(buf, ws->stash + ws->stash_off, take);
        ws->stash_off += take;
        if (ws->stash_off == ws->stash_n) {
            free(ws->stash);
            ws->stash = NULL;
            ws->stash_n = ws->stash_off = 0;
        }
        return take;
    }
    if (io->eof || io->err)
        return 0;
    ssize_t r = conn_raw_read(io->c, buf, n);
    if (r > 0)
        return (size_t)r;
    if (r == 0)
        io->eof = true;
    else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        io->err = errno;
    return 0;
}

/* A control frame's answer (a pong): after what waits, else at once. */
static void conn_ws_send_ctl(void *arg, const uint8_t *p, size_t n)
{
    struct conn *c = arg;
    struct conn_ws *ws = c->ws;
    if (ws->pend_n == 0 && ws->raw_left == 0 && conn_raw_try_send(c, p, n))
        return;
    if (ws->pend_n == 0)
        return; /* no room now: a pong may be lost, like a ping */
    ws->pend = xreallocarray(ws->pend, ws->pend_n + n, 1);
    memcpy(ws->pend + ws->pend_n, p, n);
    ws->pend_n += n;
}

/* The peer broke the protocol: cut it off; the close frame says why. */
static void conn_ws_failed(struct conn *c)
{
    log_rated(&conn_ws_fail_rate, "event=ws-fail id=%llu addr=%s code=%u",
              (unsigned long long)c->id, c->addr, (unsigned)c->ws->w.code);
    conn_cut_off(c, CONN_ERROR);
}

ssize_t conn_ws_read(struct conn *c, void *buf, size_t n)
{
    struct conn_ws *ws = c->ws;
    if (ws->peer_closed)
        return 0;
    struct conn_ws_io io = {.c = c};
    size_t got;
    enum ws_status st =
        ws_recv(&ws->w, conn_ws_rd, &io, buf, n, &got, conn_ws_send_ctl, c);
    if (st == WS_FAILED) {
        conn_ws_failed(c);
        errno = EAGAIN;
        return -1;
    }
    if (st == WS_CLOSED) {
        ws->peer_closed = true; /* the next read says so */
        conn_xp_mark_ready(c);
    }
    if (got > 0)
        return (ssize_t)got;
    if (io.err) {
        errno = io.err;
        return -1;
    }
    if (io.eof || ws->peer_closed)
        return 0;
    errno = EAGAIN;
    return -1;
}

/* ------------------------------------------------------------------------
 * Output
 * ------------------------------------------------------------------------ */

/* Frames one line (without its line end) at dst; returns the bytes. */
static size_t conn_ws_frame_line(const struct conn_ws *ws, uint8_t *dst,
                                 const char *p, size_t n)
{
    if (n > 0 && p[n - 1] == '\r')
        n--;
    return ws_frame(dst, ws->w.binary ? WS_OP_BINARY : WS_OP_TEXT, p, n);
}

/*
 * Frames the complete lines of iov (k entries) into conn_ws_wbuf, up to
 * cap bytes (one line at least); all of it if all is true (the queue's
 * end has no line end: it is framed too). Sets *plain to the queued bytes
 * used; returns the framed length.
 */
static size_t conn_ws_build(const struct conn_ws *ws, const struct iovec *iov,
                            size_t k, size_t cap, bool all, size_t *plain)
{
    size_t fn = 0, used = 0, part = 0; /* part: bytes in conn_ws_line */
    for (size_t i = 0; i < k; i++) {
        const char *p = iov[i].iov_base, *end = p + iov[i].iov_len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            bool last = all && i + 1 == k;
            size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
            if (nl == NULL && !last) { /* the line goes on in the next */
                size_t take =
                    len < CONN_WS_LINE - part ? len : CONN_WS_LINE - part;
                memcpy(conn_ws_line + part, p, take);
                part += take;
                break;
            }
            size_t total = part + len;
            if (fn > 0 && fn + total + WS_HEADER_MAX > cap) {
                *plain = used;
                return fn;
            }
            if (part > 0) {
                size_t take =
                    len < CONN_WS_LINE - part ? len : CONN_WS_LINE - part;
                memcpy(conn_ws_line + part, p, take);
                fn += conn_ws_frame_line(ws, conn_ws_wbuf + fn, conn_ws_line,
                                         part + take);
            } else { /* a longer line (none should be) is cut */
                fn +=
                    conn_ws_frame_line(ws, conn_ws_wbuf + fn, p,
                                       len < CONN_WS_LINE ? len : CONN_WS_LINE);
            }
            used += total + (nl != NULL);
            part = 0;
            p += len + (nl != NULL);
        }
    }
    *plain = used;
    return fn;
}

/* Keeps the n framed bytes at p (standing for plain queued bytes). */
static void conn_ws_keep(struct conn_ws *ws, const uint8_t *p, size_t n,
                         size_t plain)
{
    ws->pend = xmalloc(n);
    memcpy(ws->pend, p, n);
    ws->pend_n = n;
    ws->pend_off = 0;
    ws->pend_plain = plain;
}

/*
 * Sends what waits framed. Returns the queued bytes it stood for once it
 * is all out (perhaps 0), or -1 (errno EAGAIN while some remains).
 */
static ssize_t conn_ws_send_pend(struct conn *c)
{
    struct conn_ws *ws = c->ws;
    struct iovec v = {ws->pend + ws->pend_off, ws->pend_n - ws->pend_off};
    ssize_t r = conn_raw_write(c, &v, 1);
    if (r < 0)
        return -1;
    ws->pend_off += (size_t)r;
    if (ws->pend_off < ws->pend_n) {
        errno = EAGAIN;
        return -1;
    }
    size_t plain = ws->pend_plain;
    free(ws->pend);
    ws->pend = NULL;
    ws->pend_n = ws->pend_off = ws->pend_plain = 0;
    return (ssize_t)plain;
}

/* Sends the first raw_left queued bytes as they are. */
static ssize_t conn_ws_write_raw(struct conn *c, struct iovec *iov, size_t k)
{
    size_t left = c->ws->raw_left, kk = 0;
    while (kk < k && left > 0) {
        if (iov[kk].iov_len > left)
            iov[kk].iov_len = left;
        left -= iov[kk++].iov_len;
    }
    ssize_t r = conn_raw_write(c, iov, kk);
    if (r > 0)
        c->ws->raw_left -= (size_t)r;
    return r;
}

ssize_t conn_ws_write(struct conn *c, struct iovec *iov, size_t k)
{
    struct conn_ws *ws = c->ws;
    if (ws->pend_n > 0) {
        ssize_t r = conn_ws_send_pend(c);
        if (r != 0)
            return r;
    }
    if (ws->raw_left > 0)
        return conn_ws_write_raw(c, iov, k);
    size_t total = 0, plain;
    for (size_t i = 0; i < k; i++)
        total += iov[i].iov_len;
    size_t cap = c->tls ? CONN_WS_WRITE_TLS : CONN_WS_WRITE;
    size_t fn = conn_ws_build(ws, iov, k, cap, total == c->out.bytes, &plain);
    if (fn == 0) { /* only part of a line so far (cannot happen) */
        errno = EAGAIN;
        return -1;
    }
    struct iovec v = {conn_ws_wbuf, fn};
    ssize_t r = conn_raw_write(c, &v, 1);
    if (r == (ssize_t)fn)
        return (ssize_t)plain;
    if (r > 0 || (r < 0 && c->xp_retry)) { /* TLS retries the same bytes */
        size_t off = r > 0 ? (size_t)r : 0;
        conn_ws_keep(ws, conn_ws_wbuf + off, fn - off, plain);
        errno = EAGAIN;
        return -1;
    }
    return r;
}

bool conn_ws_try_send(struct conn *c, const void *p, size_t n)
{
    struct conn_ws *ws = c->ws;
    if (ws->pend_n > 0 || ws->raw_left > 0)
        return false;
    uint8_t out[1024];
    size_t fn = 0;
    const char *s = p, *end = s + n;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
        if (len > 1 || (len == 1 && s[0] != '\r')) {
            if (fn + len + WS_HEADER_MAX > sizeof out)
                break;
            fn += conn_ws_frame_line(ws, out + fn, s, len);
        }
        s += len + (nl != NULL);
    }
    return fn > 0 && conn_raw_try_send(c, out, fn);
}

/* Returns the close code that tells c's peer why it ends. */
static uint16_t conn_ws_code(const struct conn *c)
{
    if (c->ws->w.code != 0)
        return c->ws->w.code; /* the failure's, or the peer's echoed */
    switch (c->reason) {
    case CONN_QUIT:
    case CONN_EOF:
        return WS_NORMAL;
    case CONN_SHUTDOWN:
    case CONN_TIMEOUT:
        return WS_GOING_AWAY;
    case CONN_KILLED:
    case CONN_FLOOD:
    case CONN_SENDQ:
        return WS_POLICY;
    default:
        return WS_INTERNAL;
    }
}

void conn_ws_shutdown(struct conn *c)
{
    struct conn_ws *ws = c->ws;
    if (ws->pend_n > 0 || ws->raw_left > 0)
        return;
    uint8_t f[4 + WS_HEADER_MAX];
    conn_raw_try_send(c, f, ws_close_frame(f, conn_ws_code(c)));
}

void conn_ws_dropped(struct conn *c)
{
    c->ws->pend_plain = 0;
    c->ws->raw_left = 0;
}

void conn_ws_free(struct conn *c)
{
    if (c->ws == NULL)
        return;
    ws_free(&c->ws->w);
    free(c->ws->pend);
    free(c->ws->stash);
    free(c->ws);
    c->ws = NULL;
}
