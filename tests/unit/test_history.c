/*
 * Unit tests for history.c: chat_history's directions, references by id
 * and by time (excluded, found by place even when not in the room), limits
 * that keep the messages nearest the reference, and a ring that wrapped;
 * who may read a room's history.
 */
#include "core/history.h"

#include <stdio.h>

#include "core/chat.h"
#include "core/room.h"
#include "unit.h"

/* What a query returned: the ids, in the order fn got them. */
struct got {
    uint64_t ids[64];
    size_t n;
};

static void collect(const struct room_msg *m, void *arg)
{
    struct got *g = arg;
    if (g->n < 64)
        g->ids[g->n++] = m->id;
}

/* A room with messages of ids 10, 20, ... 100 at times 1000, 2000, ... */
static struct room *ten(void)
{
    struct room *r = room_new("dev", 3, 16);
    for (int i = 1; i <= 10; i++) {
        char text[16];
        int n = snprintf(text, sizeof text, "msg %d", i);
        room_remember(r, (uint64_t)i * 10, (int64_t)i * 1000, ROOM_MSG_SAY,
                      "a!~a@h", 6, 1, text, (size_t)n);
    }
    return r;
}

static struct chat_hist_ref id(uint64_t v)
{
    return (struct chat_hist_ref){.kind = CHAT_REF_ID, .id = v};
}

static struct chat_hist_ref at(int64_t ms)
{
    return (struct chat_hist_ref){.kind = CHAT_REF_TIME, .time_ms = ms};
}

/* Runs a query and returns its ids as "10 20 30" for easy comparison. */
static const char *q(const struct room *r, enum chat_hist_dir dir,
                     struct chat_hist_ref a, struct chat_hist_ref b,
                     size_t limit)
{
    static char out[512];
    struct got g = {0};
    size_t n = chat_history(r, dir, &a, &b, limit, collect, &g);
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < g.n; i++)
        k += (size_t)snprintf(out + k, sizeof out - k, "%s%llu", i ? " " : "",
                              (unsigned long long)g.ids[i]);
    if (n != g.n)
        snprintf(out, sizeof out, "count %zu != %zu calls", n, g.n);
    return out;
}

static const struct chat_hist_ref none = {.kind = CHAT_REF_NONE};

TEST(latest)
{
    struct room *r = ten();
    CHECK_STR(q(r, CHAT_HIST_LATEST, none, none, 100),
              "10 20 30 40 50 60 70 80 90 100");
    CHECK_STR(q(r, CHAT_HIST_LATEST, none, none, 3), "80 90 100");
    CHECK_STR(q(r, CHAT_HIST_LATEST, id(50), none, 100), "60 70 80 90 100");
    CHECK_STR(q(r, CHAT_HIST_LATEST, at(5000), none, 2), "90 100");
    CHECK_STR(q(r, CHAT_HIST_LATEST, id(100), none, 5), "");
    CHECK_STR(q(r, CHAT_HIST_LATEST, none, none, 0), "");
    struct got g = {0};
    CHECK_EQ(chat_history(r, CHAT_HIST_LATEST, NULL, NULL, 1, collect, &g), 1);
    CHECK_EQ(g.ids[0], 100);
    room_free(r);
}

TEST(before_keeps_the_nearest)
{
    struct room *r = ten();
    CHECK_STR(q(r, CHAT_HIST_BEFORE, id(70), none, 100), "10 20 30 40 50 60");
    CHECK_STR(q(r, CHAT_HIST_BEFORE, id(70), none, 2), "50 60");
    CHECK_STR(q(r, CHAT_HIST_BEFORE, at(7000), none, 2), "50 60");
    CHECK_STR(q(r, CHAT_HIST_BEFORE, id(10), none, 5), "");
    /* An id that is not in the room has its place all the same. */
    CHECK_STR(q(r, CHAT_HIST_BEFORE, id(65), none, 2), "50 60");
    CHECK_STR(q(r, CHAT_HIST_BEFORE, at(6500), none, 1), "60");
    room_free(r);
}

TEST(after_keeps_the_nearest)
{
    struct room *r = ten();
    CHECK_STR(q(r, CHAT_HIST_AFTER, id(40), none, 100), "50 60 70 80 90 100");
    CHECK_STR(q(r, CHAT_HIST_AFTER, id(40), none, 3), "50 60 70");
    CHECK_STR(q(r, CHAT_HIST_AFTER, at(4000), none, 3), "50 60 70");
    CHECK_STR(q(r, CHAT_HIST_AFTER, id(5), none, 2), "10 20");
    CHECK_STR(q(r, CHAT_HIST_AFTER, id(1000), none, 2), "");
    room_free(r);
}

TEST(around_centres_on_the_reference)
{
    struct room *r = ten();
    CHECK_STR(q(r, CHAT_HIST_AROUND, id(80), none, 1), "80");
    CHECK_STR(q(r, CHAT_HIST_AROUND, id(80), none, 3), "70 80 90");
    CHECK_STR(q(r, CHAT_HIST_AROUND, at(8000), none, 4), "60 70 80 90");
    /* Near an end, the other side gets what this one lacks. */
    CHECK_STR(q(r, CHAT_HIST_AROUND, id(100), none, 4), "70 80 90 100");
    CHECK_STR(q(r, CHAT_HIST_AROUND, id(10), none, 3), "10 20 30");
    CHECK_STR(q(r, CHAT_HIST_AROUND, id(500), none, 2), "90 100");
    room_free(r);
}

TEST(between_both_ways_counts_from_the_first)
{
    struct room *r = ten();
    CHECK_STR(q(r, CHAT_HIST_BETWEEN, id(10), id(100), 100),
              "20 30 40 50 60 70 80 90");
    CHECK_STR(q(r, CHAT_HIST_BETWEEN, id(100), id(10), 100),
              "20 30 40 50 60 70 80 90");
    CHECK_STR(q(r, CHAT_HIST_BETWEEN, id(10), id(100), 3), "20 30 40");
    CHECK_STR(q(r, CHAT_HIST_BETWEEN, id(100), id(10), 3), "70 80 90");
    CHECK_STR(q(r, CHAT_HIST_BETWEEN, at(1000), at(10000), 3), "20 30 40");
    CHECK_STR(q(r, CHAT_HIST_BETWEEN, at(10000), at(1000), 3), "70 80 90");
    /* A msgid and a time may bound the same query. */
    CHECK_STR(q(r, CHAT_HIST_BETWEEN, id(30), at(6000), 100), "40 50");
    CHECK_STR(q(r, CHAT_HIST_BETWEEN, id(50), id(50), 100), "");
    CHECK_STR(q(r, CHAT_HIST_BETWEEN, id(50), id(60), 100), "");
    room_free(r);
}

TEST(times_shared_by_several_messages)
{
    struct room *r = room_new("dev", 3, 8);
    for (uint64_t i = 1; i <= 4; i++)
        room_remember(r, i, 500, ROOM_MSG_SAY, "a!~a@h", 6, 1, "x", 1);
    CHECK_STR(q(r, CHAT_HIST_AFTER, at(500), none, 10), "");
    CHECK_STR(q(r, CHAT_HIST_BEFORE, at(500), none, 10), "");
    CHECK_STR(q(r, CHAT_HIST_AFTER, at(499), none, 10), "1 2 3 4");
    /* By id, the same messages are told apart. */
    CHECK_STR(q(r, CHAT_HIST_AFTER, id(2), none, 10), "3 4");
    room_free(r);
}

TEST(a_wrapped_ring_is_read_in_order)
{
    struct room *r = room_new("dev", 3, 4);
    for (uint64_t i = 1; i <= 10; i++)
        room_remember(r, i, (int64_t)i, ROOM_MSG_SAY, "a!~a@h", 6, 1, "x", 1);
    CHECK_EQ(r->hist_count, 4);
    CHECK_STR(q(r, CHAT_HIST_LATEST, none, none, 10), "7 8 9 10");
    CHECK_STR(q(r, CHAT_HIST_BEFORE, id(9), none, 10), "7 8");
    CHECK_STR(q(r, CHAT_HIST_AFTER, id(3), none, 2), "7 8");
    CHECK_STR(q(r, CHAT_HIST_BETWEEN, id(10), id(1), 10), "7 8 9");
    room_free(r);
}

TEST(empty_room)
{
    struct room *r = room_new("dev", 3, 4);
    CHECK_STR(q(r, CHAT_HIST_LATEST, none, none, 10), "");
    CHECK_STR(q(r, CHAT_HIST_AROUND, id(5), none, 10), "");
    CHECK_STR(q(r, CHAT_HIST_BETWEEN, id(1), id(9), 10), "");
    room_free(r);
}

/* The chat core's clients here hear nothing. */
static bool deaf(struct client *to, struct chat_event *ev)
{
    (void)to;
    (void)ev;
    return true;
}

static const struct client_ops deaf_ops = {.deliver = deaf};

TEST(members_read_always_others_only_open_rooms)
{
    struct chat_config cfg = {.history_keep = 8, .topic_max = 100,
                              .max_rooms = 10, .max_bans = 10};
    chat_init(&cfg);
    struct client a, b;
    REQUIRE(chat_register(&a, 1, &deaf_ops, NULL, "alice", 5) == CHAT_OK);
    REQUIRE(chat_register(&b, 2, &deaf_ops, NULL, "bob", 3) == CHAT_OK);
    chat_set_user_host(&a, "~a", "h");
    chat_set_user_host(&b, "~b", "h");
    struct room *r;
    REQUIRE(chat_join(&a, "dev", 3, NULL, 0, &r) == CHAT_OK);
    CHECK(chat_history_may_read(&a, r));
    CHECK(chat_history_may_read(&b, r));
    unsigned closed[] = {ROOM_SECRET, ROOM_INVITE_ONLY};
    for (size_t i = 0; i < 2; i++) {
        r->modes = closed[i];
        CHECK(chat_history_may_read(&a, r));
        CHECK(!chat_history_may_read(&b, r));
    }
    r->modes = ROOM_MODERATED | ROOM_TOPIC_LOCK | ROOM_NO_OUTSIDE;
    CHECK(chat_history_may_read(&b, r));
    room_set_key(r, "sesame", 6);
    CHECK(!chat_history_may_read(&b, r));
    CHECK(chat_history_may_read(&a, r));
    room_set_key(r, NULL, 0);
    room_ban_add(r, "BOB!*@*", 7, "alice", 0);
    CHECK(!chat_history_may_read(&b, r));
    CHECK(chat_history_may_read(&a, r));
    chat_unregister(&a, NULL, 0, false);
    chat_unregister(&b, NULL, 0, false);
    chat_fini();
}

UNIT_MAIN()
