/*
 * pb_loop.c - the event loop and the phases of a parley-bench run.
 *
 * One thread, one epoll set, level-triggered. A run goes through:
 *
 *   connect   open every connection, at most --connect-window handshakes
 *             (connect + login + join) in progress and at most
 *             --connect-rate new ones per second, until all joined;
 *   warmup    senders send, nothing is measured;
 *   measure   --duration seconds: deliveries, latencies and CPU counted;
 *   drain     senders stop; wait (--drain s at most) for every message;
 *   slowcheck slow readers read again to learn whether the server cut them
 *             off (EOF or reset) or kept them;
 *   done      report.
 *
 * A hard deadline (--timeout) ends the run whatever happens, and alarm()
 * backs it up in case the loop itself is stuck.
 */
#include "pb.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#define PB_EVENTS 1024
/* The loop wakes up at least this often to check phases and the clock. */
#define PB_TICK_NS 10000000u
/* A slow reader that got no byte for this long was not cut off. */
#define PB_QUIET_NS 300000000u

/* Seconds to nanoseconds. */
static uint64_t secs(double s)
{
    return (uint64_t)(s * 1e9);
}

/* Records the first failure of the run; the loop stops after it. */
void pb_fail(struct pb_run *r, const char *fmt, ...)
{
    va_list ap;

    if (r->failed)
        return;
    r->failed = true;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
}

/*
 * Keeps the first reason a connection was refused (what, then the server's
 * line), to be shown in the report; fails the run unless refusals are
 * allowed.
 */
void pb_note(struct pb_run *r, const char *what, const char *line, size_t len)
{
    if (!r->note[0])
        snprintf(r->note, sizeof r->note, "%s%.*s", what, (int)len, line);
    if (!r->o.allow_partial)
        pb_fail(r, "%s", r->note);
}

/* Enters phase ph at time now. */
static void set_phase(struct pb_run *r, int ph, uint64_t now)
{
    r->phase = ph;
    r->t_phase = now;
}

/* Starts new connections within the concurrency and rate bounds. */
static void connect_more(struct pb_run *r, uint64_t now)
{
    double allowed = r->o.connect_rate > 0
                         ? r->o.connect_rate * (double)(now - r->t0) / 1e9 + 1
                         : 1e18;

    while (r->next_connect < r->nconns &&
           r->inflight < r->o.connect_window &&
           (double)r->next_connect < allowed) {
        uint32_t i = r->next_connect++;

        r->t_settle = now;
        if (pb_conn_start(r, &r->conns[i], i) == 0)
            continue;
        if (!r->o.allow_partial)
            return;
        /* Out of descriptors or ports: keep what is connected. */
        pb_note(r, "stopped connecting: ", r->why, strlen(r->why));
        r->failed = false;
        r->why[0] = '\0';
        r->not_started = r->nconns - i;
        r->next_connect = r->nconns;
    }
}

/* Snapshot at the start of the measuring window. */
static void measure_begin(struct pb_run *r, uint64_t now)
{
    r->t_measure = now;
    r->m_sent0 = r->sent;
    r->m_deliv0 = r->delivered;
    memset(&r->hist, 0, sizeof r->hist);
    pb_proc_read(r->o.server_pid, &r->srv_m0);
    r->lg_cpu0 = pb_self_cpu();
    set_phase(r, PB_PH_MEASURE, now);
}

/* Snapshot at the end of the measuring window. */
static void measure_end(struct pb_run *r, uint64_t now)
{
    r->t_measure_end = now;
    r->m_sent1 = r->sent;
    r->m_deliv1 = r->delivered;
    pb_proc_read(r->o.server_pid, &r->srv_m1);
    r->lg_cpu1 = pb_self_cpu();
}

/* Ends the connect phase once everyone joined or the join time is up. */
static void step_connect(struct pb_run *r, uint64_t now)
{
    uint32_t settled = r->joined + r->refused + r->not_started;

    if (r->next_connect == r->nconns && r->inflight == 0 &&
        settled < r->nconns)
        pb_proto_probe(r, now);
    if (settled < r->nconns) {
        /* With --allow-partial, --settle s without progress end the wait. */
        bool stalled = r->o.allow_partial && r->next_connect == r->nconns &&
                       now - r->t_settle > secs(r->o.settle);

        if (now - r->t0 < secs(r->o.join_timeout) && !stalled)
            return;
        if (!r->o.allow_partial) {
            pb_fail(r, "only %u of %u connections joined in %g s", r->joined,
                    r->nconns, r->o.join_timeout);
            return;
        }
        now = r->t_settle;
    }
    if (r->o.senders && r->joined != r->nconns) {
        pb_fail(r, "only %u of %u connections joined", r->joined, r->nconns);
        return;
    }
    r->t_joined = now;
    pb_proc_read(r->o.server_pid, &r->srv_joined);
    r->lg_cpu_joined = pb_self_cpu();
    now = pb_now();
    pb_msg_start(r, now);
    set_phase(r, PB_PH_WARMUP, now);
    if (r->o.warmup <= 0)
        measure_begin(r, now);
}

/* Turns reading back on for slow readers so they can see EOF or reset. */
static void slowcheck_begin(struct pb_run *r, uint64_t now)
{
    for (uint32_t i = 0; i < r->nconns; i++) {
        struct pb_conn *c = &r->conns[i];

        if (c->role == PB_ROLE_SLOW && c->state == PB_ST_JOINED) {
            c->t_quiet = now;
            pb_conn_set_reading(r, c, true);
        }
    }
    set_phase(r, PB_PH_SLOWCHECK, now);
}

/* True when every slow reader is cut off or has been quiet for a while. */
static bool slowcheck_done(const struct pb_run *r, uint64_t now)
{
    if (now - r->t_phase >= secs(r->o.slow_wait))
        return true;
    for (uint32_t i = 0; i < r->nconns; i++) {
        const struct pb_conn *c = &r->conns[i];

        if (c->role == PB_ROLE_SLOW && c->state == PB_ST_JOINED &&
            now - c->t_quiet < PB_QUIET_NS)
            return false;
    }
    return true;
}

/* Moves the run to its next phase when the time or the counts say so. */
static void step_phase(struct pb_run *r, uint64_t now)
{
    switch (r->phase) {
    case PB_PH_CONNECT:
        step_connect(r, now);
        break;
    case PB_PH_WARMUP:
        if (now - r->t_phase >= secs(r->o.warmup))
            measure_begin(r, now);
        break;
    case PB_PH_MEASURE:
        if (now - r->t_phase >= secs(r->o.duration)) {
            measure_end(r, now);
            set_phase(r, PB_PH_DRAIN, now);
        }
        break;
    case PB_PH_DRAIN:
        if (r->delivered < r->expected &&
            now - r->t_phase < secs(r->o.drain))
            break;
        if (r->o.slow)
            slowcheck_begin(r, now);
        else
            set_phase(r, PB_PH_DONE, now);
        break;
    case PB_PH_SLOWCHECK:
        if (slowcheck_done(r, now))
            set_phase(r, PB_PH_DONE, now);
        break;
    default:
        break;
    }
}

/* Prints a progress line on stderr about once a second. */
static void progress(struct pb_run *r, uint64_t now)
{
    static const char *names[] = {"connect", "warmup", "measure",
                                  "drain",   "slowcheck", "done"};
    static uint64_t last_deliv;
    double dt;

    if (now - r->t_progress < 1000000000u)
        return;
    dt = (double)(now - r->t_progress) / 1e9;
    if (r->t_progress && (r->o.progress || (!r->o.quiet &&
                                            now - r->t0 > 2000000000u)))
        fprintf(stderr,
                "pb %6.1fs %-9s joined %u/%u  sent %llu  delivered %llu "
                "(%.0f/s)  behind %lld\n",
                (double)(now - r->t0) / 1e9, names[r->phase], r->joined,
                r->nconns, (unsigned long long)r->sent,
                (unsigned long long)r->delivered,
                (double)(r->delivered - last_deliv) / dt,
                (long long)(r->expected - r->delivered));
    last_deliv = r->delivered;
    r->t_progress = now;
}

/* Returns how long epoll may sleep, in ns. */
static uint64_t sleep_ns(const struct pb_run *r, uint64_t now)
{
    uint64_t due = pb_msg_next_due(r), ns = PB_TICK_NS;

    if (r->nready)
        return 0;
    if ((r->phase == PB_PH_WARMUP || r->phase == PB_PH_MEASURE) &&
        due != UINT64_MAX)
        ns = due <= now ? 0 : due - now < ns ? due - now : ns;
    return ns;
}

/* Runs one iteration of the loop: wait, dispatch, send, change phase. */
static void loop_once(struct pb_run *r, struct epoll_event *evs)
{
    uint64_t now = pb_now(), ns = sleep_ns(r, now);
    struct timespec ts = {(time_t)(ns / 1000000000u),
                          (long)(ns % 1000000000u)};
    int n = epoll_pwait2(r->ep, evs, PB_EVENTS, &ts, NULL);

    if (n < 0 && errno != EINTR)
        pb_fail(r, "epoll_pwait2: %s", strerror(errno));
    for (int i = 0; i < n; i++)
        pb_conn_event(r, evs[i].data.ptr, evs[i].events);
    now = pb_now();
    if (r->phase == PB_PH_CONNECT)
        connect_more(r, now);
    pb_msg_flush_ready(r);
    pb_msg_paced(r, now);
    step_phase(r, now);
    progress(r, now);
}

/*
 * Runs the whole benchmark described by r->o. Returns 0 when it finished
 * (check pb_run_ok for the verdict) and -1 when it could not start.
 */
int pb_loop_run(struct pb_run *r)
{
    struct epoll_event *evs = calloc(PB_EVENTS, sizeof *evs);

    r->ep = epoll_create1(EPOLL_CLOEXEC);
    r->rbuf = malloc(PB_READ_SIZE + PB_LINE_MAX);
    if (r->ep < 0 || !evs || !r->rbuf) {
        fprintf(stderr, "parley-bench: cannot set up: %s\n", strerror(errno));
        return -1;
    }
    /* Readings not taken (a run that fails early) stay unknown. */
    pb_proc_read(0, &r->srv_joined);
    r->srv_m0 = r->srv_m1 = r->srv_end = r->srv_joined;
    pb_proc_read(r->o.server_pid, &r->srv_before);
    r->lg_cpu_t0 = pb_self_cpu();
    r->t0 = pb_now();
    r->deadline = r->t0 + secs(r->o.timeout);
    set_phase(r, PB_PH_CONNECT, r->t0);
    while (r->phase != PB_PH_DONE && !r->failed) {
        loop_once(r, evs);
        if (pb_now() >= r->deadline) {
            r->timed_out = true;
            pb_fail(r, "timed out after %g s", r->o.timeout);
        }
    }
    if (r->phase == PB_PH_MEASURE || r->phase == PB_PH_WARMUP) {
        if (r->phase == PB_PH_WARMUP)
            measure_begin(r, pb_now());
        measure_end(r, pb_now());
    }
    pb_proc_read(r->o.server_pid, &r->srv_end);
    free(evs);
    return 0;
}
