/*
 * metrics: the server's counters, kept as plain integers.
 *
 * Every layer bumps them where things happen (`metrics.messages++`), in
 * the loop, with no lock and no lookup: a counter costs one add. Nothing
 * is formatted here; a scrape reads the struct and formats it then
 * (http/prom.c, the Prometheus text format). Gauges that the server can
 * count on demand (connections by state, rooms) are not kept here.
 *
 * A module that gains something to count adds a field and a line in
 * http/prom.c's table; the TLS transport (event/conn_xport.c) counts its
 * handshakes through metrics_tls_handshake. The store, which counts for
 * itself, lends its counters through metrics_set_store.
 */
#ifndef PARLEY_METRICS_H
#define PARLEY_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why an accepted connection was refused at once (see server.c). */
enum metrics_refusal {
    METRICS_REFUSE_MAX_CLIENTS,
    METRICS_REFUSE_MAX_PER_IP,
    METRICS_REFUSE_NO_DESCRIPTORS,
    METRICS_REFUSE_BANNED,
    METRICS_REFUSE_OTHER,
    METRICS_REFUSALS
};

/*
 * Upper bounds of the loop iteration time buckets, in microseconds; the
 * last bucket (+Inf) is implicit.
 */
#define METRICS_LOOP_BOUNDS                                                    \
    {                                                                          \
        50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,      \
            250000, 1000000                                                    \
    }
#define METRICS_LOOP_BUCKETS 14 /* the bounds above, and +Inf */

struct metrics {
    uint64_t accepted;                   /* connections taken in */
    uint64_t refused[METRICS_REFUSALS];  /* refused at accept, by reason */
    uint64_t messages;                   /* lines said: room, action, private */
    uint64_t deliveries;                 /* events handed to a recipient */
    uint64_t bytes_in;                   /* bytes read from clients */
    uint64_t bytes_out;                  /* bytes written to clients */
    uint64_t sendq_cutoffs;              /* closed for a full output queue */
    uint64_t memory_cutoffs;             /* closed when output memory ran out */
    uint64_t flood_pauses;               /* input paused for the flood budget */
    uint64_t tls_handshakes;             /* TLS handshakes completed */
    uint64_t tls_failures;               /* TLS handshakes that failed */
    uint64_t http_requests;              /* HTTP requests answered */
    uint64_t loop[METRICS_LOOP_BUCKETS]; /* iterations by time (not summed) */
    uint64_t loop_us;                    /* the time of all iterations */
};

/* The history store's counters (see store/store.h, store_get_stats). */
struct metrics_store {
    uint64_t commits; /* transactions committed */
    uint64_t rows;    /* records committed: messages, rooms, server bans */
    uint64_t errors;  /* commits that failed */
    uint64_t lost;    /* messages given up while commits failed */
};

/* The counters; zero at start. */
extern struct metrics metrics;

/* Returns the name of a refusal reason as logged ("max-per-ip"). */
const char *metrics_refusal_name(enum metrics_refusal r);

/* Counts a refusal by its logged name; unknown names count as "other". */
void metrics_refused(const char *reason);

/* Counts one loop iteration that took us microseconds. */
void metrics_loop_observe(uint64_t us);

/* Returns the upper bound of loop bucket i in microseconds (0 for +Inf). */
uint64_t metrics_loop_bound(size_t i);

/*
 * Sets the function that reads the store's counters (the store sets it
 * when it opens, NULL when it closes), so that a scrape asks the store
 * once instead of the store counting twice.
 */
void metrics_set_store(void (*fn)(struct metrics_store *out));

/* Fills *out with the store's counters (zeros if none is open). */
void metrics_get_store(struct metrics_store *out);

/*
 * The registration hook of the TLS transport: counts one finished
 * handshake, ok or failed.
 */
static inline void metrics_tls_handshake(bool ok)
{
    if (ok)
        metrics.tls_handshakes++;
    else
        metrics.tls_failures++;
}

#endif
