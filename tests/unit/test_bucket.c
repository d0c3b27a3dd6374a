/*
 * Unit tests for bucket.c: a burst, then one action per interval; the wait
 * it reports; no limit at interval 0; and the table by key that forgets
 * buckets once they are full again.
 */
#include "core/bucket.h"

#include "unit.h"

/* Takes one action if the bucket allows it; returns whether it did. */
static bool act(uint64_t *full_at, const struct bucket_rate *r, uint64_t now)
{
    if (bucket_wait(*full_at, r, now) != 0)
        return false;
    bucket_take(full_at, r, now);
    return true;
}

/* The same for key k of table t. */
static bool act_key(struct bucket_table *t, const char *k, uint64_t now)
{
    if (bucket_table_wait(t, k, strlen(k), now) != 0)
        return false;
    bucket_table_take(t, k, strlen(k), now);
    return true;
}

TEST(rate_per_minute)
{
    struct bucket_rate r = bucket_rate_per_minute(5, 6);
    CHECK_EQ(r.burst, 5);
    CHECK_EQ(r.interval_ms, 10000);
    r = bucket_rate_per_minute(0, 7); /* rounds the interval up */
    CHECK_EQ(r.burst, 1);
    CHECK_EQ(r.interval_ms, 8572);
    r = bucket_rate_per_minute(3, 0);
    CHECK_EQ(r.interval_ms, 0);
}

TEST(burst_then_one_per_interval)
{
    struct bucket_rate r = {3, 1000};
    uint64_t b = 0, now = 50000;
    CHECK(act(&b, &r, now));
    CHECK(act(&b, &r, now));
    CHECK(act(&b, &r, now));
    CHECK(!act(&b, &r, now));
    CHECK_EQ(bucket_wait(b, &r, now), 1000);
    CHECK_EQ(bucket_wait(b, &r, now + 999), 1);
    CHECK(!act(&b, &r, now + 999));
    CHECK(act(&b, &r, now + 1000));
    CHECK(!act(&b, &r, now + 1000));
    /* After a long pause the whole burst is back, and no more. */
    now += 100000;
    CHECK_EQ(bucket_wait(b, &r, now), 0);
    CHECK(act(&b, &r, now));
    CHECK(act(&b, &r, now));
    CHECK(act(&b, &r, now));
    CHECK(!act(&b, &r, now));
}

TEST(burst_of_one)
{
    struct bucket_rate r = {1, 500};
    uint64_t b = 0;
    CHECK(act(&b, &r, 10));
    CHECK_EQ(bucket_wait(b, &r, 10), 500);
    CHECK(act(&b, &r, 510));
    CHECK(!act(&b, &r, 1009));
    CHECK(act(&b, &r, 1010));
}

TEST(interval_zero_is_no_limit)
{
    struct bucket_rate r = {1, 0};
    uint64_t b = 0;
    for (int i = 0; i < 1000; i++)
        CHECK(act(&b, &r, 7));
    CHECK_EQ(b, 0);
}

TEST(table_keys_are_separate_and_caseless)
{
    struct bucket_rate r = {2, 1000};
    struct bucket_table *t = bucket_table_new(&r);
    CHECK(act_key(t, "10.0.0.1", 5000));
    CHECK(act_key(t, "10.0.0.1", 5000));
    CHECK(!act_key(t, "10.0.0.1", 5000));
    CHECK_EQ(bucket_table_wait(t, "10.0.0.1", 8, 5000), 1000);
    CHECK(act_key(t, "10.0.0.2", 5000));
    CHECK(act_key(t, "fe80::A", 5000));
    CHECK(act_key(t, "FE80::a", 5000));
    CHECK(!act_key(t, "fe80::a", 5000));
    CHECK_EQ(bucket_table_count(t), 3);
    CHECK(act_key(t, "10.0.0.1", 6000));
    bucket_table_free(t);
    bucket_table_free(NULL);
}

TEST(table_forgets_full_buckets)
{
    struct bucket_rate r = {2, 1000}; /* refills in 2000 ms */
    struct bucket_table *t = bucket_table_new(&r);
    uint64_t now = 1000000;
    for (int i = 0; i < 100; i++) {
        char k[16];
        snprintf(k, sizeof k, "10.0.%d.%d", i / 256, i % 256);
        CHECK(act_key(t, k, now));
    }
    CHECK_EQ(bucket_table_count(t), 100);
    /* Within the window they are remembered, across a generation. */
    CHECK(act_key(t, "other", now + 1999));
    CHECK(act_key(t, "10.0.0.0", now + 1999)); /* full again: 2 more */
    CHECK(act_key(t, "10.0.0.0", now + 1999));
    CHECK(!act_key(t, "10.0.0.0", now + 1999));
    CHECK_EQ(bucket_table_count(t), 101);
    /* The next generation starts; the old one still counts. */
    CHECK_EQ(bucket_table_wait(t, "10.0.0.0", 8, now + 2000), 999);
    CHECK_EQ(bucket_table_count(t), 101);
    /* Two windows later only the keys used since are held. */
    CHECK(act_key(t, "late", now + 4000));
    CHECK(bucket_table_count(t) <= 3);
    CHECK_EQ(bucket_table_wait(t, "late", 4, now + 4000), 0);
    CHECK(act_key(t, "late", now + 4000));
    CHECK(!act_key(t, "late", now + 4000));
    /* Long after, nothing at all is held. */
    CHECK_EQ(bucket_table_wait(t, "late", 4, now + 100000), 0);
    CHECK_EQ(bucket_table_count(t), 0);
    bucket_table_free(t);
}

TEST(table_never_forgets_a_bucket_that_is_not_full)
{
    struct bucket_rate r = {3, 700};
    struct bucket_table *t = bucket_table_new(&r);
    uint64_t now = 0;
    /* Use "a" at every step; whatever the rotations, the rate holds. */
    int allowed = 0;
    for (uint64_t ms = 0; ms < 70000; ms += 50) {
        if (act_key(t, "a", now + ms))
            allowed++;
        if (ms % 3000 == 0)
            act_key(t, "b", now + ms);
    }
    /* 3 at once, then one per 700 ms over 69,950 ms: 3 + 99. */
    CHECK_EQ(allowed, 102);
    bucket_table_free(t);
}

TEST(table_without_limit_holds_nothing)
{
    struct bucket_rate r = {1, 0};
    struct bucket_table *t = bucket_table_new(&r);
    for (int i = 0; i < 10; i++)
        CHECK(act_key(t, "a", 1));
    CHECK_EQ(bucket_table_count(t), 0);
    bucket_table_free(t);
}

UNIT_MAIN()
