/*
 * metrics: the server's counters, kept as plain integers.
 */
#include "lib/metrics.h"

#include <string.h>

struct metrics metrics;

static void (*metrics_store_fn)(struct metrics_store *out);

static const uint64_t metrics_bounds[] = METRICS_LOOP_BOUNDS;
_Static_assert(sizeof metrics_bounds / sizeof *metrics_bounds + 1 ==
                   METRICS_LOOP_BUCKETS,
               "one bucket per bound, and +Inf");

static const char *const metrics_refusal_names[] = {
    [METRICS_REFUSE_MAX_CLIENTS] = "max-clients",
    [METRICS_REFUSE_MAX_PER_IP] = "max-per-ip",
    [METRICS_REFUSE_NO_DESCRIPTORS] = "no-descriptors",
    [METRICS_REFUSE_BANNED] = "banned",
    [METRICS_REFUSE_OTHER] = "other",
};

const char *metrics_refusal_name(enum metrics_refusal r)
{
    return metrics_refusal_names[r];
}

void metrics_refused(const char *reason)
{
    size_t i = 0;
    while (i < METRICS_REFUSE_OTHER &&
           strcmp(metrics_refusal_names[i], reason) != 0)
        i++;
    metrics.refused[i]++;
}

void metrics_loop_observe(uint64_t us)
{
    size_t i = 0;
    while (i < METRICS_LOOP_BUCKETS - 1 && us > metrics_bounds[i])
        i++;
    metrics.loop[i]++;
    metrics.loop_us += us;
}

uint64_t metrics_loop_bound(size_t i)
{
    return i < METRICS_LOOP_BUCKETS - 1 ? metrics_bounds[i] : 0;
}

void metrics_set_store(void (*fn)(struct metrics_store *out))
{
    metrics_store_fn = fn;
}

void metrics_get_store(struct metrics_store *out)
{
    memset(out, 0, sizeof *out);
    if (metrics_store_fn)
        metrics_store_fn(out);
}
