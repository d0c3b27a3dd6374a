/*
 * Unit tests for lib/metrics.c: refusal reasons by their logged names,
 * and the loop histogram's buckets (each observation lands in the first
 * bucket whose bound it does not pass).
 */
#include "lib/metrics.h"

#include "unit.h"

TEST(refusals_by_name)
{
    metrics_refused("max-per-ip");
    metrics_refused("banned");
    metrics_refused("banned");
    metrics_refused("something new");
    CHECK_EQ(metrics.refused[METRICS_REFUSE_MAX_PER_IP], 1);
    CHECK_EQ(metrics.refused[METRICS_REFUSE_BANNED], 2);
    CHECK_EQ(metrics.refused[METRICS_REFUSE_OTHER], 1);
    CHECK_EQ(metrics.refused[METRICS_REFUSE_MAX_CLIENTS], 0);
    CHECK_STR(metrics_refusal_name(METRICS_REFUSE_NO_DESCRIPTORS),
              "no-descriptors");
}

TEST(loop_buckets)
{
    metrics_loop_observe(0);
    metrics_loop_observe(50);       /* on the first bound: in it */
    metrics_loop_observe(51);       /* just past it: the next */
    metrics_loop_observe(1000000);  /* the last bound */
    metrics_loop_observe(5000000);  /* past every bound: +Inf */
    CHECK_EQ(metrics.loop[0], 2);
    CHECK_EQ(metrics.loop[1], 1);
    CHECK_EQ(metrics.loop[METRICS_LOOP_BUCKETS - 2], 1);
    CHECK_EQ(metrics.loop[METRICS_LOOP_BUCKETS - 1], 1);
    CHECK_EQ(metrics.loop_us, 6000101);
    CHECK_EQ(metrics_loop_bound(0), 50);
    CHECK_EQ(metrics_loop_bound(METRICS_LOOP_BUCKETS - 2), 1000000);
    CHECK_EQ(metrics_loop_bound(METRICS_LOOP_BUCKETS - 1), 0);
}

TEST(tls_hook)
{
    metrics_tls_handshake(true);
    metrics_tls_handshake(false);
    metrics_tls_handshake(false);
    CHECK_EQ(metrics.tls_handshakes, 1);
    CHECK_EQ(metrics.tls_failures, 2);
}

UNIT_MAIN()
