/*
 * pb_conn.c - the sockets of parley-bench.
 *
 * Opens non-blocking connections, spreading them over source addresses
 * 127.0.0.1, 127.0.0.2, ... when one address would run out of ephemeral
 * ports (bind before connect, with IP_BIND_ADDRESS_NO_PORT so the port is
 * picked per destination at connect time). Reads land in one shared buffer;
 * the incomplete last line of a read is kept per connection. Writes go
 * straight to the kernel and only what it refuses is buffered.
 */
#include "pb.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Returns CLOCK_MONOTONIC in nanoseconds. */
uint64_t pb_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Aborts on allocation failure; the load generator has no way around it. */
static void *pb_realloc(void *p, size_t n)
{
    void *q = realloc(p, n);

    if (!q) {
        fprintf(stderr, "parley-bench: out of memory\n");
        abort();
    }
    return q;
}

/* Registers or updates the epoll interest of c from its flags. */
static void conn_update(struct pb_run *r, struct pb_conn *c, int op)
{
    struct epoll_event ev = {0};

    ev.events = (c->reading ? EPOLLIN : 0u) | (c->epout ? EPOLLOUT : 0u);
    ev.data.ptr = c;
    if (epoll_ctl(r->ep, op, c->fd, &ev) < 0)
        pb_fail(r, "epoll_ctl: %s", strerror(errno));
}

/* Turns reading on or off for c (slow readers stop reading once joined). */
void pb_conn_set_reading(struct pb_run *r, struct pb_conn *c, bool on)
{
    if (c->state == PB_ST_CLOSED || c->reading == on)
        return;
    c->reading = on;
    conn_update(r, c, EPOLL_CTL_MOD);
}

/* Returns how many source addresses the run's connections need. */
uint32_t pb_conn_src_count(const struct pb_run *r)
{
    if (r->o.src_addrs)
        return r->o.src_addrs;
    return (r->nconns + r->o.per_addr - 1) / r->o.per_addr;
}

/* Binds fd to source address number k (127.0.0.1 + k), port picked later. */
static int conn_bind_source(int fd, uint32_t k)
{
    struct sockaddr_in sa = {0};
    int one = 1;

    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK + k);
    return bind(fd, (struct sockaddr *)&sa, sizeof sa);
}

/*
 * Starts a non-blocking connect for connection number index. Returns 0 when
 * it is under way (or done), -1 with r->why set when it could not start.
 */
int pb_conn_start(struct pb_run *r, struct pb_conn *c, uint32_t index)
{
    struct sockaddr_in sa = {0};
    uint32_t nsrc = pb_conn_src_count(r);
    int one = 1, fd;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        pb_fail(r, "socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (c->role == PB_ROLE_SLOW && r->o.slow_rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &r->o.slow_rcvbuf,
                   sizeof r->o.slow_rcvbuf);
    if (nsrc > 1 && conn_bind_source(fd, index % nsrc) < 0) {
        pb_fail(r, "bind 127.0.0.%u: %s", 1 + index % nsrc, strerror(errno));
        close(fd);
        return -1;
    }
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)r->o.port);
    inet_pton(AF_INET, r->o.host, &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 &&
        errno != EINPROGRESS) {
        pb_fail(r, "connect: %s", strerror(errno));
        close(fd);
        return -1;
    }
    c->fd = fd;
    c->state = PB_ST_CONNECTING;
    c->epout = 1;
    c->reading = 0;
    conn_update(r, c, EPOLL_CTL_ADD);
    c->pending = 1;
    r->inflight++;
    return 0;
}

/* Stops counting c among the handshakes in progress. */
static void conn_release(struct pb_run *r, struct pb_conn *c)
{
    if (c->pending) {
        c->pending = 0;
        r->inflight--;
    }
}

/*
 * Closes c. A close counts as an error when it was not expected: a member
 * or publisher losing its connection before the run is done.
 */
void pb_conn_close(struct pb_run *r, struct pb_conn *c, bool error)
{
    if (c->state == PB_ST_CLOSED)
        return;
    conn_release(r, c);
    if (c->state == PB_ST_CONNECTING || c->state == PB_ST_HANDSHAKE) {
        r->refused++;
        r->t_settle = pb_now();
    }
    if (c->state == PB_ST_JOINED && c->role == PB_ROLE_MEMBER)
        r->rooms[c->room].members--;
    if (c->state == PB_ST_JOINED && c->role == PB_ROLE_SLOW)
        r->rooms[c->room].slow--;
    epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    pb_tls_free(c);
    pb_ws_free(c);
    c->fd = -1;
    c->state = PB_ST_CLOSED;
    c->cut = 1;
    c->err = error;
    r->closed++;
    free(c->out);
    c->out = NULL;
    c->olen = c->ooff = c->ocap = 0;
}

/* Marks c as joined: in its room, or ready to publish. */
void pb_conn_joined(struct pb_run *r, struct pb_conn *c)
{
    if (c->state != PB_ST_HANDSHAKE)
        return;
    c->state = PB_ST_JOINED;
    conn_release(r, c);
    r->joined++;
    r->t_settle = pb_now();
    if (c->role == PB_ROLE_MEMBER) {
        r->joined_members++;
        r->rooms[c->room].members++;
    }
    if (c->role == PB_ROLE_SLOW) {
        r->rooms[c->room].slow++;
        pb_conn_set_reading(r, c, false);
    }
}

/* Writes as much of c's buffered output as the kernel takes. */
static void conn_flush(struct pb_run *r, struct pb_conn *c)
{
    while (c->ooff < c->olen) {
        ssize_t w = pb_io_send(c, c->out + c->ooff, c->olen - c->ooff);
        if (w > 0) {
            c->ooff += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            break;
        pb_conn_close(r, c, true);
        return;
    }
    if (c->ooff == c->olen)
        c->ooff = c->olen = 0;
    if (c->epout != (c->olen > 0)) {
        c->epout = c->olen > 0;
        conn_update(r, c, EPOLL_CTL_MOD);
    }
}

static void pb_conn_send_raw(struct pb_run *r, struct pb_conn *c,
                             const char *data, size_t len);

/* Sends len bytes on c, buffering what the kernel does not take now. */
void pb_conn_send(struct pb_run *r, struct pb_conn *c, const char *data,
                  size_t len)
{
    if (c->state == PB_ST_CLOSED || c->state == PB_ST_CONNECTING)
        return;
    char *framed = NULL;
    if (c->ws_up) { /* each line one masked frame: 14 bytes more at most */
        framed = pb_realloc(NULL, len + 14 * (len / 2 + 1));
        len = pb_ws_frame(framed, data, len);
        data = framed;
    }
    pb_conn_send_raw(r, c, data, len);
    free(framed);
}

/* Sends len bytes on c as they are (pb_conn_send frames them first). */
static void pb_conn_send_raw(struct pb_run *r, struct pb_conn *c,
                             const char *data, size_t len)
{
    if (c->olen == 0) {
        ssize_t w = pb_io_send(c, data, len);

        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            pb_conn_close(r, c, true);
            return;
        }
        if (w > 0) {
            data += w;
            len -= (size_t)w;
        }
        if (len == 0)
            return;
    }
    if (c->ooff && c->olen + len > c->ocap) {
        memmove(c->out, c->out + c->ooff, c->olen - c->ooff);
        c->olen -= c->ooff;
        c->ooff = 0;
    }
    if (c->olen + len > c->ocap) {
        c->ocap = c->olen + len + 4096;
        c->out = pb_realloc(c->out, c->ocap);
    }
    memcpy(c->out + c->olen, data, len);
    c->olen += len;
    if (!c->epout) {
        c->epout = 1;
        conn_update(r, c, EPOLL_CTL_MOD);
    }
}

static void conn_login(struct pb_run *r, struct pb_conn *c);

/* Advances c's TLS handshake; at its end, the login begins. */
static void conn_tls_step(struct pb_run *r, struct pb_conn *c)
{
    bool want_write = false;
    int rc = pb_tls_handshake(c, &want_write);
    if (rc < 0) {
        pb_note(r, "tls handshake: ", "failed", 6);
        pb_conn_close(r, c, true);
        return;
    }
    if (rc == 0) {
        if (c->epout != want_write) {
            c->epout = want_write;
            conn_update(r, c, EPOLL_CTL_MOD);
        }
        return;
    }
    if (c->epout) {
        c->epout = 0;
        conn_update(r, c, EPOLL_CTL_MOD);
    }
    conn_login(r, c);
}

/* Finishes a non-blocking connect: reports errors, starts the handshake. */
static void conn_connected(struct pb_run *r, struct pb_conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;

    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
        pb_note(r, "connect: ", strerror(err), strlen(strerror(err)));
        pb_conn_close(r, c, true);
        return;
    }
    c->state = PB_ST_HANDSHAKE;
    c->epout = 0;
    c->reading = 1;
    conn_update(r, c, EPOLL_CTL_MOD);
    if (pb_tls_on()) {
        pb_tls_start(c);
        conn_tls_step(r, c);
        return;
    }
    conn_login(r, c);
}

/* The connection is through (TCP, and TLS with --tls): its login begins. */
static void conn_login(struct pb_run *r, struct pb_conn *c)
{
    /* Without a login, a relay connection stops holding up new connects. */
    if (r->proto->barrier)
        conn_release(r, c);
    if (pb_ws_on())
        pb_ws_start(r, c); /* the login follows the 101 (pb_ws.c) */
    else
        r->proto->on_connect(r, c);
}

/* Handles the end of c's input stream (EOF, reset or read error). */
static void conn_eof(struct pb_run *r, struct pb_conn *c, int err)
{
    bool expected = c->role == PB_ROLE_SLOW || r->phase >= PB_PH_DONE;

    if (!expected && c->state != PB_ST_JOINED && r->o.allow_partial)
        expected = true;
    if (!expected)
        pb_fail(r, "connection %u closed by the server%s%s (phase %d)",
                (unsigned)(c - r->conns), err ? ": " : "",
                err ? strerror(err) : "", r->phase);
    pb_conn_close(r, c, !expected);
}

/*
 * Reads once from c; complete lines go to the message parser. Returns true
 * if bytes came (over TLS, more may wait inside OpenSSL).
 */
static bool conn_read(struct pb_run *r, struct pb_conn *c)
{
    size_t keep = c->plen, used;
    ssize_t n;

    if (keep)
        memcpy(r->rbuf, c->part, keep);
    if (c->ws_hs || c->ws_up)
        n = pb_ws_recv(r, c, r->rbuf + keep, PB_READ_SIZE);
    else
        n = pb_io_recv(c, r->rbuf + keep, PB_READ_SIZE);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return false;
    if (n <= 0) {
        conn_eof(r, c, n < 0 ? errno : 0);
        return false;
    }
    c->rx_bytes += (uint64_t)n;
    if (c->role == PB_ROLE_SLOW && c->state == PB_ST_JOINED) {
        /* A slow reader reads again only to learn whether it was cut off. */
        r->slow_bytes += (uint64_t)n;
        c->t_quiet = pb_now();
        return true;
    }
    used = pb_msg_lines(r, c, r->rbuf, keep + (size_t)n, pb_now());
    c->plen = (uint32_t)(keep + (size_t)n - used);
    if (c->plen > PB_LINE_MAX) {
        r->long_lines++;
        c->plen = 0;
    }
    if (c->plen) {
        if (!c->part)
            c->part = pb_realloc(NULL, PB_LINE_MAX);
        memmove(c->part, r->rbuf + used, c->plen);
    }
    return true;
}

/* Dispatches one epoll event for c. */
void pb_conn_event(struct pb_run *r, struct pb_conn *c, uint32_t events)
{
    if (c->state == PB_ST_CLOSED)
        return;
    if (c->state == PB_ST_CONNECTING) {
        conn_connected(r, c);
        return;
    }
    if (c->tls_hs) {
        /* Records that came with the handshake's last flight wait inside
         * OpenSSL: they are read now, as epoll will not announce them. */
        conn_tls_step(r, c);
        if (c->tls_hs || c->state == PB_ST_CLOSED || !pb_io_pending(c))
            return;
        events = EPOLLIN;
    }
    if ((events & EPOLLOUT) && c->olen)
        conn_flush(r, c);
    if (c->state == PB_ST_CLOSED)
        return;
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        if (!c->reading && (events & (EPOLLHUP | EPOLLERR))) {
            /* A slow reader that is not reading was reset. */
            conn_eof(r, c, ECONNRESET);
            return;
        }
        /* A TLS read takes one record: read on while OpenSSL holds more,
         * which epoll cannot see (at most its read buffer's worth). */
        while (conn_read(r, c) && c->state != PB_ST_CLOSED &&
               pb_io_pending(c))
            ;
    }
}

/*
 * Closes every connection with an immediate reset (SO_LINGER 0), so the
 * next run does not find thousands of ports in TIME_WAIT.
 */
void pb_conn_reset_all(struct pb_run *r)
{
    struct linger lg = {1, 0};

    for (uint32_t i = 0; i < r->nconns; i++) {
        struct pb_conn *c = &r->conns[i];

        if (c->state == PB_ST_CLOSED || c->state == PB_ST_NEW)
            continue;
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(c->fd);
        pb_tls_free(c);
        c->fd = -1;
        c->state = PB_ST_CLOSED;
        free(c->out);
        free(c->part);
        c->out = c->part = NULL;
    }
}
