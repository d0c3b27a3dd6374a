/*
 * conn_xport: the transport under a connection, plain TCP or TLS.
 *
 * conn.c and conn_out.c read, write and shut down through here and get
 * what recv and send would give them; the TLS specifics stay in this file
 * and in tls.c:
 *
 * - A TLS connection starts in a handshake state: the protocol does not
 *   exist for it yet (no probe time, no open). The handshake has a
 *   deadline counted from the accept, and only --tls-handshakes of them
 *   run at once; the others wait in a queue, unread, holding no OpenSSL
 *   state, so a flood of handshakes costs little memory and bounded CPU.
 * - TLS may need to write to read (or the reverse): the interest mask
 *   follows what it waits for, and the event that comes is turned into
 *   the call that waits for it.
 * - OpenSSL may hold decrypted input after a read (a record bigger than
 *   the read, or data that came with the handshake); epoll knows nothing
 *   of it, so such connections are read again before the loop sleeps.
 * - Output leaves in one SSL_write per connection per loop round, of at
 *   most one record: what is queued in a round is still coalesced.
 */
#include "event/conn_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "event/tls.h"
#include "event/ws.h"
#include "lib/log.h"
#include "lib/metrics.h"

/* The most plaintext one TLS record carries: one SSL_write's worth. */
#define CONN_TLS_RECORD (16 * 1024)

static size_t conn_hs_inflight;        /* handshakes running now */
static struct conn_list conn_hs_wait;  /* waiting for a slot, oldest first */
static size_t conn_hs_head;            /* first live entry of conn_hs_wait */
static struct conn_list conn_xp_ready; /* input buffered inside OpenSSL */
static size_t conn_xp_head;            /* first live entry of it */
static char conn_tls_wbuf[CONN_TLS_RECORD]; /* one record, gathered */

static struct log_rate conn_tls_fail_rate =
    LOG_RATE_INIT(LOG_INFO, "event=tls-fail");

/* ------------------------------------------------------------------------
 * The handshake
 * ------------------------------------------------------------------------ */

/* The handshake took too long (or never got a slot): drop the peer. */
static void conn_hs_on_deadline(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct conn *c = (struct conn *)((char *)t - offsetof(struct conn, timer));
    log_rated(&conn_tls_fail_rate,
              "event=tls-fail id=%llu addr=%s error=timeout queued=%s",
              (unsigned long long)c->id, c->addr, c->hs_queued ? "yes" : "no");
    metrics_tls_handshake(false);
    conn_close(c, CONN_TIMEOUT, false);
}

/* Puts c on the list of connections whose input OpenSSL holds. */
void conn_xp_mark_ready(struct conn *c)
{
    if (c->xp_ready)
        return;
    c->xp_ready = true;
    c->xp_slot = conn_xp_ready.n;
    conn_list_push(&conn_xp_ready, c);
    ev_no_sleep(conn_loop);
}

/* The handshake is through: log it and let the protocol's wait begin. */
static void conn_hs_done(struct conn *c)
{
    conn_xport_release(c);
    metrics_tls_handshake(true);
    c->handshaking = false;
    c->xp_read_on_write = false;
    ev_timer_stop(conn_loop, &c->timer);
    const char *fp = tls_fingerprint(c->tls);
    log_info("event=tls id=%llu version=%s cipher=%s certfp=%s",
             (unsigned long long)c->id, tls_version(c->tls), tls_cipher(c->tls),
             fp ? fp : "-");
    conn_start(c);
    if (c->state == CS_OPEN && tls_pending(c->tls))
        conn_xp_mark_ready(c); /* data came with the last flight */
    conn_update_mask(c);
}

/* Runs one step of c's handshake and sets what it waits for. */
static void conn_hs_step(struct conn *c)
{
    int st = tls_handshake(c->tls);
    if (st == TLS_OK) {
        conn_hs_done(c);
        return;
    }
    if (st == TLS_WANT_READ || st == TLS_WANT_WRITE) {
        c->xp_read_on_write = st == TLS_WANT_WRITE;
        conn_update_mask(c);
        return;
    }
    char q[200];
    const char *why = tls_error(c->tls);
    log_rated(&conn_tls_fail_rate, "event=tls-fail id=%llu addr=%s error=%s",
              (unsigned long long)c->id, c->addr,
              log_quote(q, sizeof q, why, strlen(why)));
    metrics_tls_handshake(false);
    conn_close(c, CONN_TLS_FAIL, false);
}

/* Gives c a handshake slot and its OpenSSL session, and begins. */
static void conn_hs_begin(struct conn *c)
{
    c->hs_queued = false;
    c->hs_holding = true;
    conn_hs_inflight++;
    c->tls = tls_session_new(c->tls_srv, c->io.fd);
    conn_hs_step(c);
}

void conn_xport_start_tls(struct conn *c, struct tls_server *ts)
{
    c->tls_srv = ts;
    c->handshaking = true;
    ev_timer_start(conn_loop, &c->timer, conn_lim.tls_handshake_ms,
                   conn_hs_on_deadline);
    if (conn_hs_inflight < conn_lim.tls_handshakes) {
        conn_hs_begin(c);
        return;
    }
    c->hs_queued = true;
    c->hs_slot = conn_hs_wait.n;
    conn_list_push(&conn_hs_wait, c);
    conn_update_mask(c); /* nothing is read until its turn */
}

void conn_xport_handshake_io(struct conn *c, uint32_t ev)
{
    if (c->tls != NULL && (ev & (EV_READ | EV_WRITE)))
        conn_hs_step(c);
    else if (ev & EV_ERROR)
        conn_close(c, CONN_EOF, false); /* reset before its turn came */
}

void conn_xport_release(struct conn *c)
{
    if (c->hs_holding) {
        c->hs_holding = false;
        conn_hs_inflight--;
        /* The slot goes to the next in the queue before the loop sleeps. */
        if (conn_hs_head < conn_hs_wait.n)
            ev_no_sleep(conn_loop);
    }
    if (c->hs_queued && conn_hs_wait.v[c->hs_slot] == c)
        conn_hs_wait.v[c->hs_slot] = NULL;
    c->hs_queued = false;
}

/* Starts queued handshakes while slots are free; compacts the queue. */
static void conn_hs_start_queued(void)
{
    while (conn_hs_head < conn_hs_wait.n &&
           conn_hs_inflight < conn_lim.tls_handshakes) {
        struct conn *c = conn_hs_wait.v[conn_hs_head++];
        if (c != NULL && c->state == CS_OPEN)
            conn_hs_begin(c);
    }
    conn_list_compact(&conn_hs_wait, &conn_hs_head,
                      offsetof(struct conn, hs_slot));
}

/* ------------------------------------------------------------------------
 * Reading, writing, shutting down
 * ------------------------------------------------------------------------ */

/* Maps a TLS failure st of c to errno, logging what OpenSSL said. */
static ssize_t conn_tls_fail(struct conn *c, long st)
{
    if (st == TLS_CLOSED)
        return 0;
    char q[200];
    const char *why = tls_error(c->tls);
    log_rated(&conn_tls_fail_rate, "event=tls-fail id=%llu addr=%s error=%s",
              (unsigned long long)c->id, c->addr,
              log_quote(q, sizeof q, why, strlen(why)));
    errno = st == TLS_RESET ? ECONNRESET : EPROTO;
    return -1;
}

ssize_t conn_raw_read(struct conn *c, void *buf, size_t n)
{
    /* After our goodbye, input is only awaited to end, and discarded. */
    if (c->tls == NULL || c->state == CS_LINGER)
        return recv(c->io.fd, buf, n, 0);
    bool waited = c->xp_read_on_write;
    c->xp_read_on_write = false;
    long got = tls_read(c->tls, buf, n);
    if (got > 0) {
        if (waited)
            conn_update_mask(c); /* reading waits for EPOLLIN again */
        if (tls_pending(c->tls))
            conn_xp_mark_ready(c);
        return got;
    }
    if (got == TLS_WANT_READ || got == TLS_WANT_WRITE) {
        c->xp_read_on_write = got == TLS_WANT_WRITE;
        if (c->xp_read_on_write)
            conn_update_mask(c);
        errno = EAGAIN;
        return -1;
    }
    return conn_tls_fail(c, got);
}

/* Gathers up to one record of iov's bytes: a pointer to them and a size. */
static const void *conn_tls_gather(const struct iovec *iov, size_t k, size_t *n)
{
    if (k == 1 || iov[0].iov_len >= CONN_TLS_RECORD) {
        *n =
            iov[0].iov_len < CONN_TLS_RECORD ? iov[0].iov_len : CONN_TLS_RECORD;
        return iov[0].iov_base;
    }
    size_t used = 0;
    for (size_t i = 0; i < k && used < CONN_TLS_RECORD; i++) {
        size_t take = iov[i].iov_len;
        if (take > CONN_TLS_RECORD - used)
            take = CONN_TLS_RECORD - used;
        memcpy(conn_tls_wbuf + used, iov[i].iov_base, take);
        used += take;
    }
    *n = used;
    return conn_tls_wbuf;
}

ssize_t conn_raw_write(struct conn *c, struct iovec *iov, size_t k)
{
    if (c->tls == NULL) {
        if (k == 1) /* the common case: a plain send, no iovec import */
            return send(c->io.fd, iov[0].iov_base, iov[0].iov_len,
                        MSG_NOSIGNAL);
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = k};
        return sendmsg(c->io.fd, &msg, MSG_NOSIGNAL);
    }
    if (c->handshaking) { /* last words before it could hear any */
        errno = EPIPE;
        return -1;
    }
    size_t n;
    const void *p = conn_tls_gather(iov, k, &n);
    c->xp_write_on_read = false;
    long put = tls_write(c->tls, p, n);
    c->xp_retry = put == TLS_WANT_READ || put == TLS_WANT_WRITE;
    if (put > 0)
        return put;
    if (c->xp_retry) {
        c->xp_write_on_read = put == TLS_WANT_READ;
        errno = EAGAIN;
        return -1;
    }
    if (put == TLS_CLOSED) {
        errno = EPIPE;
        return -1;
    }
    return conn_tls_fail(c, put);
}

bool conn_raw_try_send(struct conn *c, const void *p, size_t n)
{
    if (c->tls == NULL)
        return send(c->io.fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL) > 0;
    /* A record half sent must be finished with the same bytes first. */
    if (c->handshaking || c->xp_retry)
        return false;
    long put = tls_write(c->tls, p, n);
    c->xp_retry = put == TLS_WANT_READ || put == TLS_WANT_WRITE;
    return put > 0;
}

bool conn_xport_one_write(const struct conn *c)
{
    return c->tls != NULL;
}

ssize_t conn_xport_read(struct conn *c, void *buf, size_t n)
{
    if (c->ws != NULL && c->state != CS_LINGER)
        return conn_ws_read(c, buf, n);
    return conn_raw_read(c, buf, n);
}

ssize_t conn_xport_write(struct conn *c, struct iovec *iov, size_t k)
{
    return c->ws != NULL ? conn_ws_write(c, iov, k) : conn_raw_write(c, iov, k);
}

bool conn_xport_try_send(struct conn *c, const void *p, size_t n)
{
    return c->ws != NULL ? conn_ws_try_send(c, p, n)
                         : conn_raw_try_send(c, p, n);
}

void conn_xport_shutdown(struct conn *c)
{
    if (c->ws != NULL)
        conn_ws_shutdown(c);
    if (c->tls != NULL && !c->handshaking && !c->xp_retry)
        tls_shutdown(c->tls);
}

/* ------------------------------------------------------------------------
 * Interest and events
 * ------------------------------------------------------------------------ */

uint32_t conn_xport_mask(struct conn *c, uint32_t mask, bool reading)
{
    if (c->tls == NULL && !c->handshaking) {
        /* Input the WebSocket layer holds is read once reading resumes. */
        if (reading && c->ws != NULL && conn_ws_pending(c))
            conn_xp_mark_ready(c);
        return mask;
    }
    if (c->handshaking) {
        if (c->hs_queued || c->state != CS_OPEN)
            return 0; /* unread until its turn; errors still come */
        return c->xp_read_on_write ? EV_WRITE : EV_READ;
    }
    /* Waiting for the other direction: asking for this one would spin. */
    if (reading && c->xp_read_on_write)
        mask = (mask & ~EV_READ) | EV_WRITE;
    if ((mask & EV_WRITE) && c->xp_write_on_read && !c->xp_read_on_write)
        mask = (mask & ~EV_WRITE) | EV_READ;
    if (reading && !c->xp_read_on_write && tls_pending(c->tls))
        conn_xp_mark_ready(c);
    return mask;
}

uint32_t conn_xport_events(struct conn *c, uint32_t ev)
{
    if (c->tls == NULL)
        return ev;
    uint32_t out = ev;
    if ((ev & EV_WRITE) && c->xp_read_on_write)
        out |= EV_READ;
    if ((ev & EV_READ) && c->xp_write_on_read)
        out |= EV_WRITE;
    return out;
}

/* ------------------------------------------------------------------------
 * Before sleeping, and the end
 * ------------------------------------------------------------------------ */

/* Returns true if input waits for c above the socket (TLS, WebSocket). */
static bool conn_xport_pending(struct conn *c)
{
    return (c->tls != NULL && tls_pending(c->tls)) ||
           (c->ws != NULL && conn_ws_pending(c));
}

void conn_xport_before_sleep(void)
{
    conn_hs_start_queued();
    /* Those marked while this runs are read in the next round. */
    size_t end = conn_xp_ready.n;
    while (conn_xp_head < end) {
        struct conn *c = conn_xp_ready.v[conn_xp_head++];
        if (c == NULL)
            continue; /* freed while it waited */
        c->xp_ready = false;
        if (c->state == CS_OPEN && (c->io.mask & EV_READ) &&
            conn_xport_pending(c))
            conn_read(c);
    }
    if (conn_list_compact(&conn_xp_ready, &conn_xp_head,
                          offsetof(struct conn, xp_slot)) > 0)
        ev_no_sleep(conn_loop);
}

void conn_xport_free(struct conn *c)
{
    conn_ws_free(c);
    conn_xport_release(c);
    if (c->xp_ready && c->xp_slot >= conn_xp_head &&
        c->xp_slot < conn_xp_ready.n && conn_xp_ready.v[c->xp_slot] == c)
        conn_xp_ready.v[c->xp_slot] = NULL;
    tls_session_free(c->tls);
    c->tls = NULL;
}

void conn_xport_fini(void)
{
    free(conn_hs_wait.v);
    free(conn_xp_ready.v);
    memset(&conn_hs_wait, 0, sizeof conn_hs_wait);
    memset(&conn_xp_ready, 0, sizeof conn_xp_ready);
    conn_hs_head = 0;
    conn_xp_head = 0;
    conn_hs_inflight = 0;
    ws_fini();
}

const char *conn_certfp(const struct conn *c)
{
    return c->tls ? tls_fingerprint(c->tls) : NULL;
}

bool conn_is_tls(const struct conn *c)
{
    return c->tls_srv != NULL;
}
