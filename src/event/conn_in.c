/*
 * conn_in: the input side of a connection: the probe time before a
 * protocol opens, reads, the flood budget (flood.h) and the round's
 * budget, framing (frame.h) and handing lines to the protocol, pauses,
 * the receive queue of a paused client, and the end of its input.
 */
#include "event/conn_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event/ev.h"
#include "event/flood.h"
#include "event/frame.h"
#include "event/outq.h"
#include "event/sniff.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/metrics.h"

/* Bytes taken from the kernel per read; shared by all connections. */
#define CONN_READ_CHUNK (64 * 1024)
/*
 * Bytes taken per read while a flood budget applies: what a client sends
 * past its budget then waits in the kernel (which pushes back), and what
 * the server holds for it unhandled stays under this, as the receive
 * queue limit of an IRC server does.
 */
#define CONN_RECVQ (8 * 1024)

/*
 * Output bytes one loop round may cause before the rest of the input waits
 * for the next round, so that one room's fan-out cannot hold up everyone
 * else: other connections are read and all output is flushed in between.
 * A single line may cause more; it is then the round's only work.
 */
#define CONN_ROUND_OUT (2 * 1024 * 1024)
/*
 * A connection whose lines lately caused less output than this is cheap:
 * it is served even when the round's budget is spent (a line in a small
 * room never waits behind a big room's traffic). Others, and connections
 * that have not said anything yet, wait their turn in a queue.
 */
#define CONN_CHEAP_OUT (64 * 1024)
/*
 * A line that took longer than this to handle (a /rooms over ten thousand
 * rooms, a message to a big room) ends its connection's turn: the rest of
 * its input waits for the next round, so everyone else is served between
 * two expensive commands of one client.
 */
#define CONN_SLOW_LINE_NS 100000
/* Handling time per line that the flood budget does not charge. */
#define CONN_FREE_LINE_NS 50000
/* How many times over the rest is charged (1000: 1 ms of work a second). */
#define CONN_WORK_WEIGHT 1000
/* How long the first line may take once it starts like an HTTP request. */
#define CONN_PROBE_LINE_MS 1000

static struct conn_list conn_deferred; /* input waiting for a round's budget */
static size_t conn_def_head;           /* first entry of conn_deferred */
static char conn_rbuf[CONN_READ_CHUNK];

static void conn_on_resume(struct ev_loop *loop, struct ev_timer *t);
static void conn_resume(struct conn *c);

/* Runs the protocol's open hook, once. */
void conn_open(struct conn *c)
{
    if (c->opened)
        return;
    c->opened = true;
    c->proto->open(c);
}

/* The probe time passed in silence: a person waiting for the welcome. */
static void conn_on_probe_end(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct conn *c = (struct conn *)((char *)t - offsetof(struct conn, timer));
    if (c->state == CS_OPEN)
        conn_open(c);
}

void conn_start(struct conn *c)
{
    /* HTTP and TLS clients speak first; a person waits to be greeted. */
    if (conn_lim.probe_ms == 0)
        conn_open(c);
    else
        ev_timer_start(conn_loop, &c->timer, conn_lim.probe_ms,
                       conn_on_probe_end);
}

/* ------------------------------------------------------------------------
 * Input: probes, flood budget, round budget, framing, dispatch.
 * ------------------------------------------------------------------------ */

/* Returns the flood rules from the limits. */
static struct flood_rules conn_flood_rules(void)
{
    return (struct flood_rules){conn_lim.flood_burst, conn_lim.flood_rate,
                                conn_lim.flood_bytes};
}

/* Returns true if a flood budget applies at all. */
static bool conn_flood_limited(void)
{
    struct flood_rules r = conn_flood_rules();
    return flood_limited(&r);
}

/* Returns 0 if c's next line fits its flood budget now, else the wait. */
static uint64_t conn_flood_wait(const struct conn *c)
{
    struct flood_rules r = conn_flood_rules();
    return flood_wait(&r, c->flood_t, ev_now(conn_loop) * 1000u);
}

/*
 * Charges c's budget for lines (0 or 1), the output they caused and the
 * time they took: handling time past CONN_FREE_LINE_NS counts
 * CONN_WORK_WEIGHT times over, so a client whose commands are costly (a
 * /rooms over ten thousand rooms) may keep the loop busy for about a
 * millisecond a second, while ordinary lines cost nothing extra.
 */
static void conn_flood_charge(struct conn *c, unsigned lines, uint64_t out,
                              uint64_t took_ns)
{
    struct flood_rules r = conn_flood_rules();
    uint64_t work_us =
        took_ns > CONN_FREE_LINE_NS
            ? (took_ns - CONN_FREE_LINE_NS) / 1000u * CONN_WORK_WEIGHT
            : 0;
    flood_charge(&r, &c->flood_t, ev_now(conn_loop) * 1000u, lines, out,
                 work_us);
}

void conn_slow_line(struct conn *c, unsigned cost_ms, unsigned hold_ms)
{
    struct flood_rules r = conn_flood_rules();
    uint64_t now = ev_now(conn_loop);
    c->excused = true;
    flood_charge(&r, &c->flood_t, now * 1000u, 0, 0, cost_ms * 1000ull);
    if (hold_ms && now + hold_ms > c->hold_by)
        c->hold_by = now + hold_ms;
}

void conn_hold_input(struct conn *c)
{
    c->held = true;
    c->paused = true;
    conn_update_mask(c);
}

void conn_release_input(struct conn *c, unsigned hold_ms)
{
    uint64_t now = ev_now(conn_loop);
    c->held = false;
    if (hold_ms && now + hold_ms > c->hold_by)
        c->hold_by = now + hold_ms;
    if (c->state != CS_OPEN || !c->paused || c->deferred)
        return;
    ev_timer_stop(conn_loop, &c->timer);
    conn_resume(c);
}

struct conn *conn_by_id(uint64_t id)
{
    for (size_t i = 0; i < conn_all.n; i++)
        if (conn_all.v[i]->id == id && conn_all.v[i]->state == CS_OPEN)
            return conn_all.v[i];
    return NULL;
}

void conn_line_free(struct conn *c)
{
    c->line_free = true;
}

/* Returns 0 if c may handle a line now, else the milliseconds to wait. */
static uint64_t conn_input_wait(const struct conn *c)
{
    uint64_t wait = conn_flood_wait(c), now = ev_now(conn_loop);
    uint64_t hold = c->hold_by > now ? c->hold_by - now : 0;
    return wait > hold ? wait : hold;
}

/* Returns true if the round's output budget is spent. */
static bool conn_round_spent(void)
{
    return conn_out_total - conn_round_start >= CONN_ROUND_OUT;
}

/*
 * Hands one complete line to the protocol. The first line is checked
 * first: an HTTP request closes the connection (unseen, if it spoke before
 * it was greeted); anything else opens it, if it was not yet.
 */
static void conn_dispatch(struct conn *c, const char *line, size_t len)
{
    if (!c->sniffed) {
        c->sniffed = true;
        if (sniff_http_line(line, len) && !c->proto->http) {
            conn_close(c, CONN_HTTP, false);
            return;
        }
    }
    if (!c->opened) {
        ev_timer_stop(conn_loop, &c->timer);
        conn_open(c);
        if (c->state != CS_OPEN)
            return;
    }
    c->proto->line(c, line, len);
}

/*
 * Stops handling input for now: until the flood budget refills (wait_ms),
 * or until the next round. A peer that has sent its FIN is not waited for
 * past its deadline: what it sent is then dropped.
 */
static void conn_pause(struct conn *c, uint64_t wait_ms)
{
    metrics.flood_pauses++;
    c->paused = true;
    ev_timer_start(conn_loop, &c->timer, wait_ms, conn_on_resume);
    conn_update_mask(c);
}

/*
 * The peer sent its FIN and its remaining input (bytes left) would have to
 * wait past the deadline: nobody may be there to see its effect, so it is
 * dropped, and the connection ends.
 */
static void conn_drop_input(struct conn *c, size_t left)
{
    log_info("event=input-dropped id=%llu bytes=%zu reason=peer-gone",
             (unsigned long long)c->id, left);
    conn_close(c, CONN_EOF, true);
}

/* Returns clock id's time in nanoseconds. */
static uint64_t conn_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Returns a monotonic clock in nanoseconds, for timing one line. */
static uint64_t conn_clock_ns(void)
{
    return conn_clock(CLOCK_MONOTONIC);
}

/*
 * Returns the work a line that took `wall` nanoseconds may be charged:
 * the wall time, unless the thread used less CPU than that since cpu0 (the
 * start of the read), because the server was descheduled meanwhile (a
 * busy machine). The CPU clock is a system call, so it is read only for a
 * line slow enough to be charged at all.
 */
static uint64_t conn_work_ns(uint64_t wall, uint64_t cpu0)
{
    if (wall <= CONN_FREE_LINE_NS)
        return wall;
    uint64_t cpu = conn_clock(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    return cpu < wall ? cpu : wall;
}

/* Returns true if c may go on even when the round's budget is spent. */
static bool conn_cheap(const struct conn *c)
{
    return c->talked && c->last_cost < CONN_CHEAP_OUT;
}

/* Puts c's input in the queue for a later round's budget. */
static void conn_defer(struct conn *c)
{
    c->paused = true;
    c->deferred = true;
    c->def_slot = conn_deferred.n;
    conn_list_push(&conn_deferred, c);
    conn_update_mask(c);
}

/*
 * Answers a telnet command the client sent (frame.h says how). Refusing
 * an option costs nothing; the visible answer to AYT costs a line.
 */
static void conn_telnet(struct conn *c)
{
    char answer[FRAME_ANSWER_MAX];
    bool is_line;
    size_t n = frame_telnet_answer(c->frame.tel_cmd, c->frame.tel_opt, answer,
                                   &is_line);
    conn_write(c, answer, n);
    if (is_line)
        conn_flood_charge(c, 1, n, 0);
}

/*
 * Feeds n bytes at p through the framer and the protocol until they are used
 * up, a budget runs out (the connection pauses) or it closes. Returns the
 * number of bytes consumed.
 */
static size_t conn_process(struct conn *c, char *p, size_t n)
{
    struct frame_input in = {p, n};
    uint64_t t0 = conn_clock_ns(); /* when the current line began */
    uint64_t cpu0 = conn_clock(CLOCK_THREAD_CPUTIME_ID); /* and the read */
    while (c->state == CS_OPEN && in.n > 0 && !c->held) {
        uint64_t wait = conn_input_wait(c);
        if (wait == 0 && conn_round_spent() && !conn_cheap(c)) {
            conn_defer(c);
            break;
        }
        if (wait > 0) {
            if (c->hup && ev_now(conn_loop) + wait > c->hup_by)
                conn_drop_input(c, in.n);
            else
                conn_pause(c, wait);
            break;
        }
        const char *line;
        size_t len;
        enum frame_result r = frame_next(&c->frame, &in, &line, &len);
        if (r == FRAME_MORE)
            break;
        if (r == FRAME_TELNET) {
            conn_telnet(c);
            continue;
        }
        uint64_t before = conn_out_total;
        if (r == FRAME_TOO_LONG && !c->opened) {
            /* Too long for a probe's request line: a client's, opened. */
            ev_timer_stop(conn_loop, &c->timer);
            conn_open(c);
        }
        if (c->state != CS_OPEN)
            break;
        if (r == FRAME_TOO_LONG)
            c->proto->too_long(c, c->frame.max_line);
        else
            conn_dispatch(c, line, len);
        if (c->ws_fresh) { /* upgraded: the rest of the read is frames */
            c->ws_fresh = false;
            if (c->state == CS_OPEN && in.n > 0)
                conn_ws_stash(c, in.p, in.n);
            in.n = 0;
        }
        uint64_t t1 = conn_clock_ns(), work = conn_work_ns(t1 - t0, cpu0);
        c->talked = true;
        c->last_cost = conn_out_total - before;
        conn_flood_charge(c, c->line_free ? 0 : 1, c->last_cost,
                          c->excused ? 0 : work);
        c->excused = false;
        c->line_free = false;
        if (c->state == CS_OPEN && in.n > 0 && work > CONN_SLOW_LINE_NS) {
            conn_defer(c); /* its turn is over */
            break;
        }
        t0 = t1;
    }
    if (c->opened && c->proto->input_done) {
        /* What the protocol gathered from these lines goes out now: it is
         * charged too. */
        uint64_t before = conn_out_total;
        c->proto->input_done(c);
        uint64_t out = conn_out_total - before;
        if (out > c->last_cost)
            c->last_cost = out;
        if (c->state == CS_OPEN)
            conn_flood_charge(c, 0, out, 0);
    }
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
        if (c->opened && c->proto->input_done)
            c->proto->input_done(c);
    }
    if (c->held && c->state == CS_OPEN)
        return; /* conn_release_input ends it, after the line's answer */
    /* A peer that never got as far as its protocol leaves unseen. */
    conn_close(c, CONN_EOF, c->opened);
}

/* Handles saved input of a paused connection; false if it ended. */
static bool conn_process_saved(struct conn *c)
{
    if (buf_used(&c->in) == 0)
        return true;
    size_t done = conn_process(c, c->in.data + c->in.head, buf_used(&c->in));
    if (c->state != CS_OPEN)
        return false;
    buf_consume(&c->in, done);
    if (buf_used(&c->in) == 0)
        buf_reset(&c->in);
    return true;
}

/* Resumes a paused connection: first its saved input, then reading. */
static void conn_resume(struct conn *c)
{
    if (c->held)
        return; /* conn_release_input resumes it */
    c->paused = false;
    if (!conn_process_saved(c))
        return;
    if (!c->paused && c->eof)
        conn_on_eof(c);
    else
        conn_update_mask(c);
}

/* The flood budget refilled (or the peer's deadline came): resume. */
static void conn_on_resume(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    conn_resume((struct conn *)((char *)t - offsetof(struct conn, timer)));
}

/*
 * Serves deferred input, oldest first, while the round's budget lasts;
 * what is left waits for the next round, which then comes at once.
 */
void conn_run_deferred(void)
{
    /* Those deferred again while this runs wait for the next round. */
    size_t end = conn_deferred.n;
    while (conn_def_head < end && !conn_round_spent()) {
        struct conn *c = conn_deferred.v[conn_def_head++];
        if (c == NULL)
            continue; /* freed while it waited */
        c->deferred = false;
        if (c->state != CS_OPEN)
            continue;
        if (c->hup && ev_now(conn_loop) > c->hup_by)
            conn_drop_input(c, buf_used(&c->in)); /* its peer is long gone */
        else
            conn_resume(c);
    }
    if (conn_list_compact(&conn_deferred, &conn_def_head,
                          offsetof(struct conn, def_slot)) > 0)
        ev_no_sleep(conn_loop);
}

/* The peer sent its FIN: no more input will come after what is queued. */
void conn_on_hup(struct conn *c)
{
    c->hup = true;
    c->hup_by = ev_now(conn_loop) + conn_lim.linger_ms;
    conn_update_mask(c);
    /* A paused connection must not sleep past the deadline. */
    if (c->paused && c->timer.when > c->hup_by)
        ev_timer_start(conn_loop, &c->timer, conn_lim.linger_ms,
                       conn_on_resume);
}

/*
 * Input that arrived while c waits for its flood budget: it is queued, up
 * to --recvq-max, and a client that sends more than that ahead of its
 * budget is cut off (an IRC server's "excess flood"). Reading on while
 * paused is what lets the server see a peer's FIN at once, so that input
 * never outlives its client.
 */
static void conn_queue_input(struct conn *c, const char *p, size_t n)
{
    if (n == 0) { /* the peer is done: its backlog has a deadline */
        c->eof = true;
        if (!c->hup)
            conn_on_hup(c);
        conn_update_mask(c);
        return;
    }
    if (!c->deferred && buf_used(&c->in) + n > conn_lim.recvq_max) {
        conn_cut_off(c, CONN_FLOOD);
        return;
    }
    buf_append(&c->in, p, n);
}

/*
 * Passes the n bytes of a read at *p through the protocol's filter, if it
 * has one and c is open (conn_proto.filter): *p and *n then describe what
 * it hands on. Returns false if there is nothing left to do: the filter
 * closed c, or used the bytes up (keys that finished no line).
 */
static bool conn_filter(struct conn *c, char **p, size_t *n)
{
    if (!c->opened || c->proto->filter == NULL || *n == 0)
        return true;
    *n = c->proto->filter(c, *p, *n, p);
    return c->state == CS_OPEN && *n > 0;
}

/* Reads one chunk and processes it; keeps what a pause left over. */
void conn_read(struct conn *c)
{
    size_t want = conn_flood_limited() ? CONN_RECVQ : sizeof conn_rbuf;
    ssize_t n = conn_xport_read(c, conn_rbuf, want);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        conn_fail_errno(c, errno);
        return;
    }
    metrics.bytes_in += (size_t)n;
    if (c->state == CS_LINGER) {
        if (n == 0)
            conn_kill(c);
        return; /* input after our goodbye is discarded */
    }
    char *p = conn_rbuf;
    size_t len = (size_t)n;
    if (c->paused) {
        if (conn_filter(c, &p, &len) || n == 0)
            conn_queue_input(c, p, len);
        return;
    }
    if (n == 0) {
        conn_on_eof(c);
        return;
    }
    if (!c->got_bytes) {
        c->got_bytes = true;
        if (c->tls == NULL && sniff_tls(conn_rbuf, (size_t)n)) {
            conn_close(c, CONN_TLS, false);
            return;
        }
        /* A request line arriving in pieces may take a moment longer; any
         * other first bytes come from a person or a script: greet them. */
        if (!c->opened && sniff_http_start(conn_rbuf, (size_t)n)) {
            ev_timer_start(conn_loop, &c->timer, CONN_PROBE_LINE_MS,
                           conn_on_probe_end);
        } else if (!c->opened) {
            ev_timer_stop(conn_loop, &c->timer);
            conn_open(c);
            if (c->state != CS_OPEN)
                return;
        }
    }
    if (!conn_filter(c, &p, &len)) {
        if (c->state == CS_OPEN && c->proto->input_done)
            c->proto->input_done(c);
        return;
    }
    size_t done = conn_process(c, p, len);
    if (c->state == CS_OPEN && c->paused && done < len)
        buf_append(&c->in, p + done, len - done);
}

void conn_in_forget(struct conn *c)
{
    if (c->deferred && conn_deferred.v[c->def_slot] == c)
        conn_deferred.v[c->def_slot] = NULL;
}

void conn_in_fini(void)
{
    free(conn_deferred.v);
    memset(&conn_deferred, 0, sizeof conn_deferred);
    conn_def_head = 0;
}
