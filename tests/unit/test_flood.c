/*
 * Unit tests for flood.c: a burst, then the rate; the byte rate charging
 * output; a clock far ahead after a costly line; no limit at all.
 */
#include "event/flood.h"

#include "unit.h"

static const struct flood_rules rules = {.burst = 5, .rate = 10, .bytes = 0};

TEST(burst_then_rate)
{
    uint64_t t = 0, now = 1000000;
    for (int i = 0; i < 5; i++) {
        CHECK_EQ(flood_wait(&rules, t, now), 0);
        flood_charge(&rules, &t, now, 1, 0, 0);
    }
    /* The sixth waits for one line's cost, 100 ms. */
    CHECK_EQ(flood_wait(&rules, t, now), 100);
    CHECK_EQ(flood_wait(&rules, t, now + 100000), 0);
}

TEST(bytes_charge_output_to_everyone)
{
    const struct flood_rules r = {.burst = 20, .rate = 10, .bytes = 1000000};
    uint64_t t = 0, now = 5000000;
    CHECK_EQ(flood_wait(&r, t, now), 0);
    /* A 4000-byte line to 10,000 people: 40 MB, 40 s of budget. */
    flood_charge(&r, &t, now, 1, 40000000, 0);
    CHECK_EQ(t, now + 100000 + 40000000);
    /* The next line waits until the clock is within the 2 s window. */
    CHECK_EQ(flood_wait(&r, t, now), 38200); /* its own 0.1 s too */
}

TEST(bytes_only_has_a_window)
{
    const struct flood_rules r = {.burst = 20, .rate = 0, .bytes = 1000};
    uint64_t t = 0, now = 1000;
    CHECK(flood_limited(&r));
    flood_charge(&r, &t, now, 1, 1000, 0); /* one second */
    CHECK_EQ(flood_wait(&r, t, now), 0);
    flood_charge(&r, &t, now, 1, 1500, 0); /* 2.5 s ahead: past the window */
    CHECK_EQ(flood_wait(&r, t, now), 500);
}

TEST(no_limit_never_waits)
{
    const struct flood_rules r = {.burst = 1, .rate = 0, .bytes = 0};
    uint64_t t = 0;
    CHECK(!flood_limited(&r));
    for (int i = 0; i < 1000; i++)
        flood_charge(&r, &t, 0, 1, 1000000, 0);
    CHECK_EQ(t, 0);
    CHECK_EQ(flood_wait(&r, t, 0), 0);
}

TEST(an_idle_clock_catches_up)
{
    uint64_t t = 0;
    flood_charge(&rules, &t, 1000, 1, 0, 0);
    /* Much later, the clock starts again from now, not from t. */
    flood_charge(&rules, &t, 9000000, 1, 0, 0);
    CHECK_EQ(t, 9000000 + 100000);
}

TEST(work_is_charged_too)
{
    uint64_t t = 0, now = 1000000;
    /* A command that kept the loop busy 1.35 ms, charged 1000 times over:
     * the next line waits until the clock is back within the 0.5 s
     * window (1.45 s ahead, plus its own 0.1 s). */
    flood_charge(&rules, &t, now, 1, 0, 1350000);
    CHECK_EQ(t, now + 100000 + 1350000);
    CHECK_EQ(flood_wait(&rules, t, now), 1050);
}

UNIT_MAIN()
