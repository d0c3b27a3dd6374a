/*
 * flood: one client's flood budget, as a clock that runs ahead of time.
 *
 * Each line a client sends costs time (1/rate seconds), and so does the
 * output it causes, to everyone (bytes / bytes-per-second): a line in a
 * room of 1000 costs 1000 times its size. The budget's clock is moved
 * ahead by every cost; a line may start while the clock is less than a
 * window (the burst) ahead of real time. The module is pure: it is told
 * the time and keeps no state but the clock, so it is tested on its own.
 */
#ifndef PARLEY_FLOOD_H
#define PARLEY_FLOOD_H

#include <stdbool.h>
#include <stdint.h>

/* The flood window when only the byte rate is limited, microseconds. */
#define FLOOD_WINDOW_US 2000000u

/* The limits every budget shares. */
struct flood_rules {
    unsigned burst; /* lines allowed at once */
    unsigned rate;  /* lines per second after that; 0 = no line limit */
    uint64_t bytes; /* output bytes per second; 0 = no byte limit */
};

/* Returns true if the rules limit anything at all. */
bool flood_limited(const struct flood_rules *r);

/*
 * Returns 0 if one more line fits the budget whose clock is *t at time
 * now_us, else how many milliseconds to wait until it does.
 */
uint64_t flood_wait(const struct flood_rules *r, uint64_t t, uint64_t now_us);

/*
 * Moves the clock *t ahead, at time now_us, by the cost of lines (0 or 1),
 * of out bytes of output they caused, and of extra_us more microseconds
 * (the charge for work, see conn.c).
 */
void flood_charge(const struct flood_rules *r, uint64_t *t, uint64_t now_us,
                  unsigned lines, uint64_t out, uint64_t extra_us);

#endif
