/*
 * Unit tests for ev.c: timers fire in deadline order, stopped timers never
 * fire, the heap stays ordered with many timers, descriptors are watched,
 * and the before-sleep hook runs.
 */
#include "event/ev.h"

#include <fcntl.h>
#include <unistd.h>

#include "unit.h"

/* A timer that records when it fired. */
struct tick {
    struct ev_timer t;
    int id;
    uint64_t delay;
};

static int fired[4096];
static size_t nfired;
static size_t stop_after; /* ev_stop once this many timers fired */

/* Timer callback: records the id and stops the loop when all are in. */
static void on_tick(struct ev_loop *loop, struct ev_timer *t)
{
    struct tick *k = (struct tick *)t;
    CHECK(!ev_timer_active(t));
    CHECK(ev_now(loop) >= t->when);
    if (nfired < sizeof fired / sizeof fired[0])
        fired[nfired] = k->id;
    nfired++;
    if (nfired == stop_after)
        ev_stop(loop);
}

/* Timer callback: stops the loop. */
static void on_stop(struct ev_loop *loop, struct ev_timer *t)
{
    (void)t;
    ev_stop(loop);
}

TEST(loop_new_free)
{
    struct ev_loop *loop = ev_loop_new();
    REQUIRE(loop != NULL);
    CHECK(ev_now(loop) > 0);
    ev_loop_free(loop);
    ev_loop_free(NULL);
}

TEST(timers_fire_in_deadline_order)
{
    struct ev_loop *loop = ev_loop_new();
    REQUIRE(loop != NULL);
    static const uint64_t delays[] = {30, 5, 20, 0, 15, 10, 25};
    struct tick ticks[7];
    memset(ticks, 0, sizeof ticks);
    for (int i = 0; i < 7; i++) {
        ticks[i].id = i;
        ev_timer_start(loop, &ticks[i].t, delays[i], on_tick);
        CHECK(ev_timer_active(&ticks[i].t));
    }
    nfired = 0;
    stop_after = 7;
    CHECK_EQ(ev_run(loop), 0);
    CHECK_EQ(nfired, 7);
    static const int want[] = {3, 1, 5, 4, 2, 6, 0};
    for (size_t i = 0; i < 7; i++)
        CHECK_EQ(fired[i], want[i]);
    ev_loop_free(loop);
}

TEST(stopped_timer_never_fires)
{
    struct ev_loop *loop = ev_loop_new();
    REQUIRE(loop != NULL);
    struct tick a = {.id = 1}, b = {.id = 2}, c = {.id = 3};
    struct ev_timer end = {0};
    ev_timer_start(loop, &a.t, 1, on_tick);
    ev_timer_start(loop, &b.t, 2, on_tick);
    ev_timer_start(loop, &c.t, 3, on_tick);
    ev_timer_start(loop, &end, 20, on_stop);
    ev_timer_stop(loop, &b.t);
    CHECK(!ev_timer_active(&b.t));
    ev_timer_stop(loop, &b.t); /* a second stop is a no-op */
    nfired = 0;
    stop_after = 0;
    CHECK_EQ(ev_run(loop), 0);
    CHECK_EQ(nfired, 2);
    CHECK_EQ(fired[0], 1);
    CHECK_EQ(fired[1], 3);
    ev_loop_free(loop);
}

TEST(restart_moves_the_deadline)
{
    struct ev_loop *loop = ev_loop_new();
    REQUIRE(loop != NULL);
    struct tick a = {.id = 1}, b = {.id = 2};
    ev_timer_start(loop, &a.t, 1, on_tick);
    ev_timer_start(loop, &b.t, 5, on_tick);
    ev_timer_start(loop, &a.t, 10, on_tick); /* restart: now after b */
    nfired = 0;
    stop_after = 2;
    CHECK_EQ(ev_run(loop), 0);
    CHECK_EQ(nfired, 2);
    CHECK_EQ(fired[0], 2);
    CHECK_EQ(fired[1], 1);
    ev_loop_free(loop);
}

/* A tiny deterministic random generator (xorshift). */
static uint64_t rnd_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

#define NTICKS 2000

/* Timer callback for the heap test: checks deadlines never go backwards. */
static uint64_t last_when;
static size_t order_errors;
static void on_heap_tick(struct ev_loop *loop, struct ev_timer *t)
{
    if (t->when < last_when)
        order_errors++;
    last_when = t->when;
    on_tick(loop, t);
}

TEST(heap_with_many_timers)
{
    struct ev_loop *loop = ev_loop_new();
    REQUIRE(loop != NULL);
    static struct tick ticks[NTICKS];
    memset(ticks, 0, sizeof ticks);
    for (int i = 0; i < NTICKS; i++) {
        ticks[i].id = i;
        ev_timer_start(loop, &ticks[i].t, rnd() % 40, on_heap_tick);
    }
    /* Restart a quarter at new deadlines and stop another quarter. */
    size_t stopped = 0;
    static bool is_stopped[NTICKS];
    for (int i = 0; i < NTICKS; i++) {
        uint64_t r = rnd() % 4;
        if (r == 0) {
            ev_timer_start(loop, &ticks[i].t, rnd() % 40, on_heap_tick);
        } else if (r == 1) {
            ev_timer_stop(loop, &ticks[i].t);
            is_stopped[i] = true;
            stopped++;
        }
    }
    nfired = 0;
    last_when = 0;
    order_errors = 0;
    stop_after = NTICKS - stopped;
    CHECK_EQ(ev_run(loop), 0);
    CHECK_EQ(nfired, NTICKS - stopped);
    CHECK_EQ(order_errors, 0);
    size_t wrong = 0;
    static int count[NTICKS];
    for (size_t i = 0; i < nfired && i < sizeof fired / sizeof fired[0]; i++)
        count[fired[i]]++;
    for (int i = 0; i < NTICKS; i++)
        if (count[i] != (is_stopped[i] ? 0 : 1))
            wrong++;
    CHECK_EQ(wrong, 0);
    ev_loop_free(loop);
}

/* Timer callback: starts its own follow-up from inside a callback. */
static void on_chain(struct ev_loop *loop, struct ev_timer *t)
{
    struct tick *k = (struct tick *)t;
    fired[nfired++] = k->id;
    if (k->id < 5) {
        k->id++;
        ev_timer_start(loop, t, 1, on_chain);
    } else {
        ev_stop(loop);
    }
}

TEST(timer_restarted_from_its_callback)
{
    struct ev_loop *loop = ev_loop_new();
    REQUIRE(loop != NULL);
    struct tick a = {.id = 1};
    ev_timer_start(loop, &a.t, 0, on_chain);
    nfired = 0;
    CHECK_EQ(ev_run(loop), 0);
    CHECK_EQ(nfired, 5);
    CHECK_EQ(fired[4], 5);
    ev_loop_free(loop);
}

TEST(timer_waits_at_least_its_delay)
{
    struct ev_loop *loop = ev_loop_new();
    REQUIRE(loop != NULL);
    struct ev_timer t = {0};
    uint64_t start = ev_now(loop);
    ev_timer_start(loop, &t, 50, on_stop);
    CHECK_EQ(t.when, start + 50);
    CHECK_EQ(ev_run(loop), 0);
    CHECK(ev_now(loop) >= start + 50);
    ev_loop_free(loop);
}

/* A watched pipe end and what its callback saw. */
struct pipe_io {
    struct ev_io io;
    char got[16];
    size_t n;
    uint32_t events;
};

/* I/O callback: reads what is there and stops the loop. */
static void on_readable(struct ev_loop *loop, struct ev_io *io, uint32_t ev)
{
    struct pipe_io *p = (struct pipe_io *)io;
    p->events = ev;
    ssize_t n = read(io->fd, p->got + p->n, sizeof p->got - p->n);
    if (n > 0)
        p->n += (size_t)n;
    ev_stop(loop);
}

/* Before-sleep hook: counts calls. */
static void on_before_sleep(struct ev_loop *loop, void *arg)
{
    (void)loop;
    (*(int *)arg)++;
}

TEST(io_readable_and_before_sleep)
{
    struct ev_loop *loop = ev_loop_new();
    REQUIRE(loop != NULL);
    int fds[2];
    REQUIRE(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
    struct pipe_io p = {.n = 0};
    CHECK_EQ(ev_io_start(loop, &p.io, fds[0], EV_READ, on_readable), 0);
    int hooks = 0;
    ev_set_before_sleep(loop, on_before_sleep, &hooks);
    CHECK_EQ(write(fds[1], "ping", 4), 4);
    CHECK_EQ(ev_run(loop), 0);
    CHECK_MEM(p.got, p.n, "ping");
    CHECK(p.events & EV_READ);
    CHECK(hooks >= 1);
    ev_io_stop(loop, &p.io);
    close(fds[0]);
    close(fds[1]);
    ev_loop_free(loop);
}

TEST(io_stop_silences_descriptor)
{
    struct ev_loop *loop = ev_loop_new();
    REQUIRE(loop != NULL);
    int fds[2];
    REQUIRE(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
    struct pipe_io p = {.n = 0};
    CHECK_EQ(ev_io_start(loop, &p.io, fds[0], EV_READ, on_readable), 0);
    ev_io_stop(loop, &p.io);
    CHECK_EQ(write(fds[1], "x", 1), 1);
    struct ev_timer end = {0};
    ev_timer_start(loop, &end, 20, on_stop);
    CHECK_EQ(ev_run(loop), 0);
    CHECK_EQ(p.n, 0);
    close(fds[0]);
    close(fds[1]);
    ev_loop_free(loop);
}

TEST(io_set_changes_interest)
{
    struct ev_loop *loop = ev_loop_new();
    REQUIRE(loop != NULL);
    int fds[2];
    REQUIRE(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
    struct pipe_io p = {.n = 0};
    /* The write end is writable at once. */
    CHECK_EQ(ev_io_start(loop, &p.io, fds[1], 0, on_readable), 0);
    ev_io_set(loop, &p.io, EV_WRITE);
    CHECK_EQ(p.io.mask, EV_WRITE);
    ev_io_set(loop, &p.io, EV_WRITE); /* unchanged: a no-op */
    CHECK_EQ(ev_run(loop), 0);
    CHECK(p.events & EV_WRITE);
    ev_io_stop(loop, &p.io);
    close(fds[0]);
    close(fds[1]);
    ev_loop_free(loop);
}

TEST(io_start_on_bad_descriptor_fails)
{
    struct ev_loop *loop = ev_loop_new();
    REQUIRE(loop != NULL);
    struct ev_io io;
    CHECK(ev_io_start(loop, &io, -1, EV_READ, on_readable) < 0);
    ev_loop_free(loop);
}

/* Before-sleep hook that asks for no sleep a few times, then stops. */
static void on_busy_hook(struct ev_loop *loop, void *arg)
{
    int *n = arg;
    if (++*n < 5)
        ev_no_sleep(loop);
    else
        ev_stop(loop);
}

TEST(no_sleep_makes_the_next_round_immediate)
{
    struct ev_loop *loop = ev_loop_new();
    REQUIRE(loop != NULL);
    int rounds = 0;
    ev_set_before_sleep(loop, on_busy_hook, &rounds);
    /* Without ev_no_sleep this would block forever: no fds, no timers. */
    CHECK_EQ(ev_run(loop), 0);
    CHECK_EQ(rounds, 5);
    ev_loop_free(loop);
}

UNIT_MAIN()
