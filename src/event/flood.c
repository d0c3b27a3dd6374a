/*
 * flood: one client's flood budget, as a clock that runs ahead of time.
 */
#include "event/flood.h"

/* Microseconds one line costs, before its output. */
static uint64_t flood_line_cost(const struct flood_rules *r)
{
    return r->rate ? 1000000u / r->rate : 0;
}

/* Microseconds the clock may run ahead of real time. */
static uint64_t flood_window(const struct flood_rules *r)
{
    if (r->rate)
        return (uint64_t)r->burst * flood_line_cost(r);
    return FLOOD_WINDOW_US;
}

bool flood_limited(const struct flood_rules *r)
{
    return r->rate > 0 || r->bytes > 0;
}

uint64_t flood_wait(const struct flood_rules *r, uint64_t t, uint64_t now_us)
{
    if (!flood_limited(r))
        return 0;
    uint64_t start = t > now_us ? t : now_us;
    uint64_t limit = now_us + flood_window(r);
    uint64_t end = start + flood_line_cost(r);
    return end <= limit ? 0 : (end - limit + 999) / 1000;
}

void flood_charge(const struct flood_rules *r, uint64_t *t, uint64_t now_us,
                  unsigned lines, uint64_t out, uint64_t extra_us)
{
    if (!flood_limited(r))
        return;
    uint64_t cost = lines * flood_line_cost(r) + extra_us;
    if (r->bytes)
        cost += out * 1000000u / r->bytes;
    *t = (*t > now_us ? *t : now_us) + cost;
}
