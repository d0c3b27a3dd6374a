/*
 * ev: a small epoll reactor with timers and a before-sleep hook.
 */
#include "event/ev.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "lib/metrics.h"
#include "lib/xmalloc.h"

/* Events taken from the kernel per epoll_wait call. */
#define EV_BATCH 4096

struct ev_loop {
    int epfd;
    bool stopped;
    bool no_sleep;
    uint64_t now;
    struct ev_timer **heap; /* min-heap on when */
    size_t nheap, capheap;
    ev_hook_cb before_sleep;
    void *before_sleep_arg;
};

/* Reads the monotonic clock in milliseconds. */
static uint64_t ev_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Returns the monotonic clock in microseconds. */
static uint64_t ev_clock_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct ev_loop *ev_loop_new(void)
{
    int fd = epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct ev_loop *loop = xcalloc(1, sizeof *loop);
    loop->epfd = fd;
    loop->now = ev_clock_ms();
    return loop;
}

void ev_loop_free(struct ev_loop *loop)
{
    if (loop == NULL)
        return;
    close(loop->epfd);
    free(loop->heap);
    free(loop);
}

int ev_io_start(struct ev_loop *loop, struct ev_io *io, int fd, uint32_t mask,
                ev_io_cb cb)
{
    struct epoll_event e = {.events = mask, .data.ptr = io};
    io->fd = fd;
    io->mask = mask;
    io->cb = cb;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &e) < 0)
        return -errno;
    return 0;
}

void ev_io_set(struct ev_loop *loop, struct ev_io *io, uint32_t mask)
{
    if (io->mask == mask)
        return;
    struct epoll_event e = {.events = mask, .data.ptr = io};
    io->mask = mask;
    /* Fails only for a descriptor that is not registered: a logic error. */
    int rc = epoll_ctl(loop->epfd, EPOLL_CTL_MOD, io->fd, &e);
    if (rc < 0)
        abort();
}

void ev_io_stop(struct ev_loop *loop, struct ev_io *io)
{
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
    io->mask = 0;
}

/* ------------------------------------------------------------------------
 * Timers: a binary min-heap; each timer remembers its slot so that stopping
 * one is O(log n).
 * ------------------------------------------------------------------------ */

/* Puts t at heap index i and records the slot in t. */
static void ev_heap_place(struct ev_loop *loop, size_t i, struct ev_timer *t)
{
    loop->heap[i] = t;
    t->slot = i + 1;
}

/* Moves the timer at index i up or down until the heap is ordered again. */
static void ev_heap_fix(struct ev_loop *loop, size_t i)
{
    struct ev_timer *t = loop->heap[i];
    while (i > 0 && loop->heap[(i - 1) / 2]->when > t->when) {
        ev_heap_place(loop, i, loop->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= loop->nheap)
            break;
        if (c + 1 < loop->nheap &&
            loop->heap[c + 1]->when < loop->heap[c]->when)
            c++;
        if (loop->heap[c]->when >= t->when)
            break;
        ev_heap_place(loop, i, loop->heap[c]);
        i = c;
    }
    ev_heap_place(loop, i, t);
}

void ev_timer_stop(struct ev_loop *loop, struct ev_timer *t)
{
    if (t->slot == 0)
        return;
    size_t i = t->slot - 1;
    t->slot = 0;
    struct ev_timer *last = loop->heap[--loop->nheap];
    if (i < loop->nheap) {
        loop->heap[i] = last;
        ev_heap_fix(loop, i);
    }
}

void ev_timer_start(struct ev_loop *loop, struct ev_timer *t, uint64_t delay_ms,
                    ev_timer_cb cb)
{
    ev_timer_stop(loop, t);
    t->when = loop->now + delay_ms;
    t->cb = cb;
    if (loop->nheap == loop->capheap) {
        loop->capheap = loop->capheap ? loop->capheap * 2 : 64;
        loop->heap =
            xreallocarray(loop->heap, loop->capheap, sizeof *loop->heap);
    }
    loop->heap[loop->nheap++] = t;
    ev_heap_fix(loop, loop->nheap - 1);
}

/* Fires every timer whose deadline has passed. */
static void ev_run_timers(struct ev_loop *loop)
{
    while (loop->nheap > 0 && loop->heap[0]->when <= loop->now) {
        struct ev_timer *t = loop->heap[0];
        ev_timer_stop(loop, t);
        t->cb(loop, t);
    }
}

/* Returns epoll_wait's timeout: until the next timer, or -1 for none. */
static int ev_timeout(const struct ev_loop *loop)
{
    if (loop->no_sleep)
        return 0;
    if (loop->nheap == 0)
        return -1;
    uint64_t when = loop->heap[0]->when;
    if (when <= loop->now)
        return 0;
    uint64_t wait = when - loop->now;
    return wait > 60000 ? 60000 : (int)wait;
}

void ev_set_before_sleep(struct ev_loop *loop, ev_hook_cb cb, void *arg)
{
    loop->before_sleep = cb;
    loop->before_sleep_arg = arg;
}

uint64_t ev_now(const struct ev_loop *loop)
{
    return loop->now;
}

void ev_no_sleep(struct ev_loop *loop)
{
    loop->no_sleep = true;
}

void ev_stop(struct ev_loop *loop)
{
    loop->stopped = true;
}

int ev_run(struct ev_loop *loop)
{
    struct epoll_event events[EV_BATCH];
    uint64_t woke_us = 0; /* when the round began: its time is measured */
    loop->stopped = false;
    while (!loop->stopped) {
        if (loop->before_sleep)
            loop->before_sleep(loop, loop->before_sleep_arg);
        if (woke_us)
            metrics_loop_observe(ev_clock_us() - woke_us);
        if (loop->stopped)
            break;
        int timeout = ev_timeout(loop);
        loop->no_sleep = false;
        int n = epoll_wait(loop->epfd, events, EV_BATCH, timeout);
        if (n < 0 && errno != EINTR)
            return -errno;
        woke_us = ev_clock_us();
        loop->now = woke_us / 1000u;
        for (int i = 0; i < n; i++) {
            struct ev_io *io = events[i].data.ptr;
            io->cb(loop, io, events[i].events);
        }
        ev_run_timers(loop);
    }
    return 0;
}
