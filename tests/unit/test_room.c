/*
 * Unit tests for room.c: members added and removed by swapping, topics, the
 * history ring that keeps the last N messages in order, and the bytes it
 * counts for them.
 */
#include "core/room.h"

#include <stdio.h>

#include "unit.h"

/* Stand-ins for clients: room.c only stores the pointers. */
static char people[100];
#define P(i) ((struct client *)&people[i])

TEST(new_room)
{
    struct room *r = room_new("Dev", 3, 10);
    REQUIRE(r != NULL);
    CHECK_STR(r->name, "Dev");
    CHECK_EQ(r->name_len, 3);
    CHECK_EQ(r->nmembers, 0);
    CHECK(r->topic == NULL);
    CHECK_EQ(r->hist_count, 0);
    CHECK_EQ(r->hist_cap, 10);
    room_free(r);
    room_free(NULL);
}

TEST(long_name_truncated_to_max)
{
    char name[64];
    memset(name, 'x', sizeof name);
    struct room *r = room_new(name, sizeof name, 0);
    CHECK_EQ(r->name_len, ROOM_NAME_MAX);
    CHECK_EQ(strlen(r->name), ROOM_NAME_MAX);
    room_free(r);
}

TEST(add_returns_slots_in_order)
{
    struct room *r = room_new("a", 1, 0);
    for (size_t i = 0; i < 50; i++)
        CHECK_EQ(room_add(r, P(i)), i);
    CHECK_EQ(r->nmembers, 50);
    for (size_t i = 0; i < 50; i++)
        CHECK(r->members[i] == P(i));
    room_free(r);
}

TEST(remove_swaps_last_into_hole)
{
    struct room *r = room_new("a", 1, 0);
    for (size_t i = 0; i < 4; i++)
        room_add(r, P(i));
    /* Remove slot 1: member 3 moves there and is returned. */
    CHECK(room_remove(r, 1) == P(3));
    CHECK_EQ(r->nmembers, 3);
    CHECK(r->members[0] == P(0));
    CHECK(r->members[1] == P(3));
    CHECK(r->members[2] == P(2));
    /* Remove the last slot: nobody moves. */
    CHECK(room_remove(r, 2) == NULL);
    CHECK_EQ(r->nmembers, 2);
    CHECK(room_remove(r, 0) == P(3));
    CHECK(r->members[0] == P(3));
    CHECK(room_remove(r, 0) == NULL);
    CHECK_EQ(r->nmembers, 0);
    /* The room can fill again. */
    CHECK_EQ(room_add(r, P(7)), 0);
    room_free(r);
}

TEST(topic_set_replace_clear)
{
    struct room *r = room_new("a", 1, 0);
    room_set_topic(r, "hello there", 5, "alice!~a@h", 100);
    REQUIRE(r->topic != NULL);
    CHECK_STR(r->topic, "hello");
    CHECK_EQ(r->topic_len, 5);
    CHECK_STR(r->topic_by, "alice!~a@h");
    CHECK_EQ(r->topic_at, 100);
    room_set_topic(r, "second topic", 12, "bob!~b@h", 200);
    CHECK_STR(r->topic, "second topic");
    CHECK_STR(r->topic_by, "bob!~b@h");
    CHECK_EQ(r->topic_at, 200);
    room_set_topic(r, "", 0, "carol!~c@h", 300);
    CHECK(r->topic == NULL);
    CHECK_EQ(r->topic_len, 0);
    room_free(r);
}

/* Remembers message i ("m<i>" by "n<i>", id i) at time i ms. */
static void remember(struct room *r, int i)
{
    char nick[16], text[16];
    int nl = snprintf(nick, sizeof nick, "n%d", i);
    int tl = snprintf(text, sizeof text, "m%d", i);
    room_remember(r, (uint64_t)i, i, ROOM_MSG_SAY, nick, (size_t)nl, (size_t)nl,
                  text, (size_t)tl);
}

/* Checks that message k of r is message number want. */
static void check_msg(const struct room *r, size_t k, int want)
{
    const struct room_msg *m = room_history(r, k);
    char nick[16], text[16];
    int nl = snprintf(nick, sizeof nick, "n%d", want);
    int tl = snprintf(text, sizeof text, "m%d", want);
    CHECK_EQ(m->id, want);
    CHECK_EQ(m->time_ms, want);
    CHECK_EQ(m->kind, ROOM_MSG_SAY);
    CHECK_EQ_MEM(m->data, m->nick_len, nick, (size_t)nl);
    CHECK_EQ_MEM(m->data + m->src_len, m->text_len, text, (size_t)tl);
}

TEST(history_keeps_messages_in_order)
{
    struct room *r = room_new("a", 1, 5);
    for (int i = 0; i < 3; i++)
        remember(r, i);
    CHECK_EQ(r->hist_count, 3);
    for (size_t k = 0; k < 3; k++)
        check_msg(r, k, (int)k);
    room_free(r);
}

TEST(history_ring_keeps_last_n)
{
    struct room *r = room_new("a", 1, 5);
    for (int i = 0; i < 23; i++) {
        remember(r, i);
        size_t count = (size_t)(i + 1 < 5 ? i + 1 : 5);
        CHECK_EQ(r->hist_count, count);
        /* Oldest first, always the last `count` messages. */
        for (size_t k = 0; k < count; k++)
            check_msg(r, k, i + 1 - (int)count + (int)k);
    }
    room_free(r); /* frees the five kept messages (LeakSanitizer checks) */
}

TEST(history_of_one)
{
    struct room *r = room_new("a", 1, 1);
    remember(r, 1);
    remember(r, 2);
    CHECK_EQ(r->hist_count, 1);
    check_msg(r, 0, 2);
    room_free(r);
}

TEST(history_disabled)
{
    struct room *r = room_new("a", 1, 0);
    remember(r, 1);
    CHECK_EQ(r->hist_count, 0);
    CHECK(r->hist == NULL);
    room_free(r);
}

TEST(history_keeps_empty_and_long_text)
{
    struct room *r = room_new("a", 1, 3);
    static char text[5000];
    memset(text, 'z', sizeof text);
    room_remember(r, 7, 7, ROOM_MSG_ACTION, "nick!~u@h", 9, 4, "", 0);
    room_remember(r, 8, 8, ROOM_MSG_NOTICE, "abcdefghijklmnopqrstuvwxyz012345",
                  32, 32, text, sizeof text);
    const struct room_msg *m = room_history(r, 0);
    CHECK_EQ(m->text_len, 0);
    CHECK_EQ(m->kind, ROOM_MSG_ACTION);
    CHECK_EQ_MEM(m->data, m->nick_len, "nick", 4);
    CHECK_EQ_MEM(m->data, m->src_len, "nick!~u@h", 9);
    m = room_history(r, 1);
    CHECK_EQ(m->nick_len, 32);
    CHECK_EQ(m->kind, ROOM_MSG_NOTICE);
    CHECK_EQ(m->text_len, sizeof text);
    CHECK_EQ_MEM(m->data + 32, m->text_len, text, sizeof text);
    room_free(r);
}

/* What message i of remember() costs. */
static size_t cost(int i)
{
    char buf[16];
    size_t n = (size_t)snprintf(buf, sizeof buf, "%d", i) + 1;
    return room_msg_cost(n, n);
}

TEST(history_bytes_count_ring_and_messages)
{
    struct room *r = room_new("a", 1, 4);
    CHECK_EQ(r->hist_bytes, 0);
    const size_t ring = 4 * sizeof(struct room_msg *);
    CHECK_EQ(room_msg_cost(3, 10),
             sizeof(struct room_msg) + 13 + ROOM_MSG_OVERHEAD);
    remember(r, 1);
    CHECK_EQ(r->hist_bytes, ring + cost(1));
    size_t want = ring;
    for (int i = 1; i <= 4; i++)
        want += cost(i);
    for (int i = 2; i <= 4; i++)
        remember(r, i);
    CHECK_EQ(r->hist_bytes, want);
    /* A full ring replaces the oldest: its cost goes, the new one comes. */
    remember(r, 100);
    CHECK_EQ(r->hist_bytes, want - cost(1) + cost(100));
    room_free(r);
}

TEST(forget_oldest_until_empty)
{
    struct room *r = room_new("a", 1, 3);
    for (int i = 0; i < 5; i++)
        remember(r, i); /* keeps 2, 3, 4 */
    const size_t ring = 3 * sizeof(struct room_msg *);
    room_forget_oldest(r);
    CHECK_EQ(r->hist_count, 2);
    check_msg(r, 0, 3);
    check_msg(r, 1, 4);
    CHECK_EQ(r->hist_bytes, ring + cost(3) + cost(4));
    room_forget_oldest(r);
    room_forget_oldest(r);
    CHECK_EQ(r->hist_count, 0);
    CHECK_EQ(r->hist_bytes, ring);
    /* The ring works on from wherever its head is. */
    for (int i = 10; i < 14; i++)
        remember(r, i);
    CHECK_EQ(r->hist_count, 3);
    for (size_t k = 0; k < 3; k++)
        check_msg(r, k, 11 + (int)k);
    CHECK_EQ(r->hist_bytes, ring + cost(11) + cost(12) + cost(13));
    room_free(r);
}

UNIT_MAIN()
