/*
 * ev: a small epoll reactor with timers and a before-sleep hook.
 *
 * The loop knows nothing about clients or protocols. It watches file
 * descriptors (level-triggered), runs timers from one binary heap whose
 * earliest deadline becomes epoll_wait's timeout, and calls one hook just
 * before it sleeps, which is where pending output is flushed.
 */
#ifndef PARLEY_EV_H
#define PARLEY_EV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EV_READ 0x001u  /* EPOLLIN */
#define EV_WRITE 0x004u /* EPOLLOUT */
#define EV_ERROR 0x018u /* EPOLLERR | EPOLLHUP: reported, never asked for */
#define EV_HUP 0x2000u  /* EPOLLRDHUP: the peer sent FIN (no more input) */

struct ev_loop;
struct ev_io;
struct ev_timer;

typedef void (*ev_io_cb)(struct ev_loop *loop, struct ev_io *io,
                         uint32_t events);
typedef void (*ev_timer_cb)(struct ev_loop *loop, struct ev_timer *t);
typedef void (*ev_hook_cb)(struct ev_loop *loop, void *arg);

/* A watched descriptor; embed it in the owner and recover the owner. */
struct ev_io {
    int fd;
    uint32_t mask; /* EV_READ | EV_WRITE as registered */
    ev_io_cb cb;
};

/* A one-shot timer; embed it in the owner. */
struct ev_timer {
    uint64_t when; /* deadline in loop milliseconds */
    size_t slot;   /* heap index + 1; 0 when not running */
    ev_timer_cb cb;
};

/* Returns a new loop, or NULL with errno set. */
struct ev_loop *ev_loop_new(void);

/* Frees the loop; watched descriptors are not closed. NULL is a no-op. */
void ev_loop_free(struct ev_loop *loop);

/*
 * Starts watching fd for mask, calling cb with the epoll event bits (which
 * may include EPOLLERR and EPOLLHUP even if not asked for). Returns 0 or a
 * negative errno.
 */
int ev_io_start(struct ev_loop *loop, struct ev_io *io, int fd, uint32_t mask,
                ev_io_cb cb);

/* Changes the watched events; a no-op if mask is unchanged. */
void ev_io_set(struct ev_loop *loop, struct ev_io *io, uint32_t mask);

/* Stops watching io's descriptor (which the caller then closes). */
void ev_io_stop(struct ev_loop *loop, struct ev_io *io);

/* (Re)starts t to fire once, delay_ms from the loop's current time. */
void ev_timer_start(struct ev_loop *loop, struct ev_timer *t, uint64_t delay_ms,
                    ev_timer_cb cb);

/* Stops t if it is running. */
void ev_timer_stop(struct ev_loop *loop, struct ev_timer *t);

/* Returns true if t is waiting to fire. */
static inline bool ev_timer_active(const struct ev_timer *t)
{
    return t->slot != 0;
}

/* Sets the hook called after each round of events, before sleeping. */
void ev_set_before_sleep(struct ev_loop *loop, ev_hook_cb cb, void *arg);

/* Returns the loop's monotonic time in milliseconds, as of this round. */
uint64_t ev_now(const struct ev_loop *loop);

/* Makes the next sleep return at once (there is work the hook left over). */
void ev_no_sleep(struct ev_loop *loop);

/* Runs until ev_stop is called; returns 0 or a negative errno. */
int ev_run(struct ev_loop *loop);

/* Makes ev_run return after the current round. */
void ev_stop(struct ev_loop *loop);

#endif
