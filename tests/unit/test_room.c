/*
 * Unit tests for room.c: members added and removed by swapping, topics, and
 * the history ring that keeps the last N messages in order.
 */
#include "room.h"

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
    room_set_topic(r, "hello there", 5);
    REQUIRE(r->topic != NULL);
    CHECK_STR(r->topic, "hello");
    CHECK_EQ(r->topic_len, 5);
    room_set_topic(r, "second topic", 12);
    CHECK_STR(r->topic, "second topic");
    room_set_topic(r, "", 0);
    CHECK(r->topic == NULL);
    CHECK_EQ(r->topic_len, 0);
    room_free(r);
}

/* Remembers message i ("m<i>" by "n<i>") at time i. */
static void remember(struct room *r, int i)
{
    char nick[16], text[16];
    int nl = snprintf(nick, sizeof nick, "n%d", i);
    int tl = snprintf(text, sizeof text, "m%d", i);
    room_remember(r, (time_t)i, nick, (size_t)nl, text, (size_t)tl);
}

/* Checks that message k of r is message number want. */
static void check_msg(const struct room *r, size_t k, int want)
{
    const struct room_msg *m = room_history(r, k);
    char nick[16], text[16];
    int nl = snprintf(nick, sizeof nick, "n%d", want);
    int tl = snprintf(text, sizeof text, "m%d", want);
    CHECK_EQ(m->when, want);
    CHECK_EQ_MEM(m->data, m->nick_len, nick, (size_t)nl);
    CHECK_EQ_MEM(m->data + m->nick_len, m->text_len, text, (size_t)tl);
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
    room_remember(r, 7, "nick", 4, "", 0);
    room_remember(r, 8, "abcdefghijklmnopqrstuvwxyz012345", 32, text,
                  sizeof text);
    const struct room_msg *m = room_history(r, 0);
    CHECK_EQ(m->text_len, 0);
    CHECK_EQ_MEM(m->data, m->nick_len, "nick", 4);
    m = room_history(r, 1);
    CHECK_EQ(m->nick_len, 32);
    CHECK_EQ(m->text_len, sizeof text);
    CHECK_EQ_MEM(m->data + 32, m->text_len, text, sizeof text);
    room_free(r);
}

UNIT_MAIN()
