/*
 * Unit tests for chat.c, the core: people, nicks, rooms, and who hears what.
 *
 * The clients are fakes (fake.h) that log every event they get, so a test
 * states exactly who heard what, and that nobody else heard it. Moderation
 * (core/mode.c) is tested in test_mode.c, the (client, room) table in
 * test_member.c. What left the core for the text protocol (the room a text
 * user talks in, --quiet-above) is tested from outside, in
 * tests/e2e/test_chat.py (quiet_above, join_and_leave_notices) and
 * tests/e2e/test_moderation.py (the room of a kicked user).
 */
#include "core/chat.h"

#include <sys/mman.h>
#include <unistd.h>

#include "core/room.h"
#include "fake.h"
#include "unit.h"

/* Changes f's nick; returns the result. */
static enum chat_error nick(struct fake *f, const char *name)
{
    return chat_set_nick(&f->c, name, strlen(name));
}

/* Checks that r's member array and each member's slot record agree. */
static void check_slots(const struct room *r)
{
    for (size_t i = 0; i < r->nmembers; i++) {
        const struct client *c = r->members[i];
        bool found = false;
        for (size_t k = 0; k < c->nrooms; k++)
            if (c->rooms[k].room == r) {
                CHECK_EQ(c->rooms[k].slot, i);
                found = true;
            }
        CHECK(found);
    }
}

/* ------------------------------------------------------------------------
 * Registering
 * ------------------------------------------------------------------------ */

TEST(init_makes_lobby)
{
    struct chat_config c = cfg();
    chat_init(&c);
    CHECK_EQ(chat_room_count(), 1);
    struct room *lobby = chat_find_room("lobby", 5);
    REQUIRE(lobby != NULL);
    CHECK(chat_find_room("LOBBY", 5) == lobby);
    CHECK_STR(lobby->name, "lobby");
    CHECK_EQ(chat_get_config()->topic_max, 300);
    CHECK_EQ(chat_get_config()->max_rooms, 100);
    chat_fini();
}

TEST(register_gives_default_nick)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a, b;
    reg(&a, 1);
    reg(&b, 4242);
    CHECK_STR(a.c.nick, "user1");
    CHECK_EQ(a.c.nick_len, 5);
    CHECK_STR(b.c.nick, "user4242");
    CHECK_EQ(a.c.id, 1);
    CHECK(a.c.ops == &fake_ops);
    CHECK(a.c.owner == &a);
    CHECK_EQ(a.c.nrooms, 0);
    CHECK(chat_find_nick("user1", 5) == &a.c);
    CHECK(chat_find_nick("USER4242", 8) == &b.c);
    CHECK(chat_find_nick("user2", 5) == NULL);
    CHECK_STR(a.log, ""); /* registering tells nobody anything */
    fini((struct fake *[]){&a, &b, NULL});
}

TEST(register_zeroes_the_client)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a;
    memset(&a, 0x5a, sizeof a);
    reg(&a, 3);
    CHECK(a.c.rooms == NULL);
    CHECK_EQ(a.c.nrooms, 0);
    CHECK(a.c.realname == NULL);
    CHECK(a.c.away == NULL);
    CHECK_STR(a.c.user, "");
    CHECK_STR(a.c.host, "");
    struct room *r = join(&a, "lobby");
    CHECK(r != NULL);
    fini((struct fake *[]){&a, NULL});
}

TEST(unregister_frees_nick)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a;
    reg(&a, 1);
    CHECK_EQ(nick(&a, "alice"), CHAT_OK);
    chat_unregister(&a.c, NULL, 0, true);
    CHECK(chat_find_nick("alice", 5) == NULL);
    CHECK(chat_find_nick("user1", 5) == NULL);
    chat_fini();
}

TEST(register_with_chosen_nick)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a, b;
    reg_nick(&a, 1, "alice");
    CHECK_STR(a.c.nick, "alice");
    CHECK_EQ(a.c.nick_len, 5);
    CHECK(chat_find_nick("ALICE", 5) == &a.c);
    CHECK(chat_find_nick("user1", 5) == NULL);
    CHECK_EQ(chat_client_count(), 1);
    /* Refused: b stays unregistered, and nothing is left behind. */
    CHECK_EQ(chat_register(&b.c, 2, &fake_ops, &b, "Alice", 5), CHAT_ERR_TAKEN);
    CHECK_EQ(chat_register(&b.c, 2, &fake_ops, &b, "user7", 5),
             CHAT_ERR_RESERVED);
    CHECK_EQ(chat_register(&b.c, 2, &fake_ops, &b, "9lives", 6),
             CHAT_ERR_INVALID);
    CHECK_EQ(chat_register(&b.c, 2, &fake_ops, &b, "", 0), CHAT_ERR_INVALID);
    CHECK_EQ(chat_client_count(), 1);
    /* One's own default nick, spelled out, is fine; only bytes of the
     * slice count ("user2x" cut to 5 bytes is "user2"). */
    CHECK_EQ(chat_register(&b.c, 2, &fake_ops, &b, "user2x", 5), CHAT_OK);
    CHECK_STR(b.c.nick, "user2");
    CHECK_EQ(chat_client_count(), 2);
    fini((struct fake *[]){&a, &b, NULL});
}

TEST(user_host_and_prefix)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a;
    reg_nick(&a, 1, "alice");
    char p[CHAT_PREFIX_MAX + 1];
    CHECK_EQ(chat_prefix(&a.c, p, sizeof p), 7);
    CHECK_STR(p, "alice!@");
    chat_set_user_host(&a.c, "~text", "192.0.2.1");
    CHECK_EQ(chat_prefix(&a.c, p, sizeof p), 21);
    CHECK_STR(p, "alice!~text@192.0.2.1");
    /* Both are cut to their maximum; the prefix to the space given. */
    char user[64], host[128];
    memset(user, 'u', sizeof user - 1);
    user[sizeof user - 1] = '\0';
    memset(host, 'h', sizeof host - 1);
    host[sizeof host - 1] = '\0';
    chat_set_user_host(&a.c, user, host);
    CHECK_EQ(strlen(a.c.user), CHAT_USER_MAX);
    CHECK_EQ(strlen(a.c.host), CHAT_HOST_MAX);
    CHECK_EQ(chat_prefix(&a.c, p, sizeof p),
             5 + 2 + CHAT_USER_MAX + CHAT_HOST_MAX);
    CHECK_EQ(chat_prefix(&a.c, p, 6), 5);
    CHECK_STR(p, "alice");
    fini((struct fake *[]){&a, NULL});
}

/* ------------------------------------------------------------------------
 * Joining and leaving
 * ------------------------------------------------------------------------ */

TEST(join_tells_joiner_then_room)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a, b, x;
    reg(&a, 1);
    reg(&b, 2);
    reg(&x, 3);
    struct room *lobby = join(&a, "lobby");
    join(&x, "elsewhere");
    CHECK_STR(a.log, "JOIN user1 #lobby|");
    CHECK(chat_is_member(&a.c, lobby));
    CHECK_EQ(lobby->nmembers, 1);
    clear(&a);
    clear(&x);
    CHECK(join(&b, "LOBBY") == lobby); /* names ignore case */
    CHECK_STR(b.log, "JOIN user2 #lobby|");
    CHECK_STR(a.log, "JOIN user2 #lobby|");
    CHECK_STR(x.log, "");
    CHECK_EQ(lobby->nmembers, 2);
    check_slots(lobby);
    fini((struct fake *[]){&a, &b, &x, NULL});
}

TEST(join_errors)
{
    struct chat_config c = cfg();
    c.max_rooms = 2;
    chat_init(&c);
    struct fake a;
    reg(&a, 1);
    struct room *r = NULL;
    CHECK_EQ(chat_join(&a.c, "", 0, NULL, 0, &r), CHAT_ERR_INVALID);
    CHECK_EQ(chat_join(&a.c, "#dev", 4, NULL, 0, &r), CHAT_ERR_INVALID);
    CHECK_EQ(chat_join(&a.c, "a b", 3, NULL, 0, &r), CHAT_ERR_INVALID);
    CHECK_EQ(
        chat_join(&a.c, "abcdefghijklmnopqrstuvwxyz0123456", 33, NULL, 0, &r),
        CHAT_ERR_INVALID);
    CHECK_STR(a.log, "");
    join(&a, "lobby");
    CHECK_EQ(chat_join(&a.c, "Lobby", 5, NULL, 0, &r), CHAT_ERR_ALREADY);
    join(&a, "dev");
    CHECK_EQ(chat_room_count(), 2);
    CHECK_EQ(chat_join(&a.c, "ops", 3, NULL, 0, &r), CHAT_ERR_TOO_MANY);
    CHECK(chat_find_room("ops", 3) == NULL);
    CHECK_EQ(chat_room_count(), 2);
    fini((struct fake *[]){&a, NULL});
}

TEST(join_existing_room_at_room_limit)
{
    struct chat_config c = cfg();
    c.max_rooms = 2;
    chat_init(&c);
    struct fake a, b;
    reg(&a, 1);
    reg(&b, 2);
    join(&a, "dev");
    struct room *r = NULL;
    CHECK_EQ(chat_join(&b.c, "DEV", 3, NULL, 0, &r), CHAT_OK);
    fini((struct fake *[]){&a, &b, NULL});
}

TEST(room_keeps_first_spelling)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a, b;
    reg(&a, 1);
    reg(&b, 2);
    struct room *r = join(&a, "DeV-Ops");
    REQUIRE(r != NULL);
    CHECK(join(&b, "dev-ops") == r);
    CHECK_STR(r->name, "DeV-Ops");
    CHECK_STR(b.log, "JOIN user2 #DeV-Ops|");
    fini((struct fake *[]){&a, &b, NULL});
}

TEST(part_tells_room_and_leaver)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a, b, x;
    reg(&a, 1);
    reg(&b, 2);
    reg(&x, 3);
    struct room *lobby = join(&a, "lobby");
    struct room *dev = join(&a, "dev");
    join(&b, "dev");
    join(&x, "lobby");
    clear_all((struct fake *[]){&a, &b, &x, NULL});
    chat_part(&a.c, dev, NULL, 0);
    CHECK_STR(a.log, "PART user1 #dev|");
    CHECK_STR(b.log, "PART user1 #dev|");
    CHECK_STR(x.log, "");
    CHECK(!chat_is_member(&a.c, dev));
    CHECK(chat_is_member(&a.c, lobby));
    CHECK_EQ(dev->nmembers, 1);
    check_slots(dev);
    fini((struct fake *[]){&a, &b, &x, NULL});
}

TEST(part_last_room_leaves_no_room)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a;
    reg(&a, 1);
    struct room *dev = join(&a, "dev");
    chat_part(&a.c, dev, NULL, 0);
    CHECK_EQ(a.c.nrooms, 0);
    CHECK(a.c.rooms == NULL); /* the membership array is freed */
    fini((struct fake *[]){&a, NULL});
}

TEST(leaving_fixes_moved_member_slot)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake f[6];
    for (int i = 0; i < 6; i++)
        reg(&f[i], (uint64_t)i + 1);
    struct room *dev = NULL;
    for (int i = 0; i < 6; i++) {
        join(&f[i], "lobby");
        dev = join(&f[i], "dev");
    }
    REQUIRE(dev != NULL);
    /* Leave from the front, the middle and the end; the swaps must keep
     * every member's slot record right, or a later leave corrupts. */
    static const int order[] = {0, 3, 5, 1, 2};
    for (size_t k = 0; k < 5; k++) {
        chat_part(&f[order[k]].c, dev, NULL, 0);
        check_slots(dev);
        check_slots(chat_find_room("lobby", 5));
    }
    CHECK_EQ(dev->nmembers, 1);
    CHECK(dev->members[0] == &f[4].c);
    for (int i = 0; i < 6; i++)
        chat_unregister(&f[i].c, NULL, 0, true);
    CHECK_EQ(chat_find_room("lobby", 5)->nmembers, 0);
    chat_fini();
}

TEST(empty_room_disappears)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a;
    reg(&a, 1);
    struct room *tmp = join(&a, "tmp");
    CHECK_EQ(chat_room_count(), 2);
    chat_part(&a.c, tmp, NULL, 0);
    CHECK(chat_find_room("tmp", 3) == NULL);
    CHECK_EQ(chat_room_count(), 1);
    fini((struct fake *[]){&a, NULL});
}

TEST(room_with_history_stays)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a;
    reg(&a, 1);
    struct room *r = join(&a, "kept");
    say(&a, "remember me");
    chat_part(&a.c, r, NULL, 0);
    REQUIRE(chat_find_room("kept", 4) == r);
    CHECK_EQ(r->nmembers, 0);
    CHECK_EQ(r->hist_count, 1);
    /* An action is history too: that room stays. */
    struct room *q = join(&a, "acted");
    CHECK_EQ(chat_act(&a.c, q, "waves", 5, NULL, NULL), CHAT_OK);
    chat_part(&a.c, q, NULL, 0);
    REQUIRE(chat_find_room("acted", 5) == q);
    CHECK_EQ(q->hist_count, 1);
    /* So does one with a topic and no history. */
    struct room *t = join(&a, "topical");
    CHECK_EQ(chat_set_topic(&a.c, t, "kept", 4), CHAT_OK);
    chat_part(&a.c, t, NULL, 0);
    REQUIRE(chat_find_room("topical", 7) == t);
    CHECK_STR(t->topic, "kept");
    fini((struct fake *[]){&a, NULL});
}

TEST(room_without_history_keep_disappears)
{
    struct chat_config c = cfg();
    c.history_keep = 0;
    chat_init(&c);
    struct fake a;
    reg(&a, 1);
    struct room *r = join(&a, "dev");
    say(&a, "gone");
    CHECK_EQ(r->hist_count, 0);
    chat_part(&a.c, r, NULL, 0);
    CHECK(chat_find_room("dev", 3) == NULL);
    fini((struct fake *[]){&a, NULL});
}

TEST(lobby_never_disappears)
{
    struct chat_config c = cfg();
    c.history_keep = 0;
    chat_init(&c);
    struct fake a;
    reg(&a, 1);
    struct room *lobby = join(&a, "lobby");
    chat_part(&a.c, lobby, NULL, 0);
    CHECK(chat_find_room("lobby", 5) == lobby);
    join(&a, "lobby");
    chat_unregister(&a.c, "bye", 3, true);
    CHECK(chat_find_room("lobby", 5) == lobby);
    CHECK_EQ(chat_room_count(), 1);
    chat_fini();
}

/* chat_foreach_room helper: counts rooms. */
static void count_room(struct room *r, void *arg)
{
    (void)r;
    (*(size_t *)arg)++;
}

TEST(foreach_room_visits_all)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a;
    reg(&a, 1);
    join(&a, "r1");
    join(&a, "r2");
    join(&a, "r3");
    size_t n = 0;
    chat_foreach_room(count_room, &n);
    CHECK_EQ(n, 4);
    CHECK_EQ(chat_room_count(), 4);
    fini((struct fake *[]){&a, NULL});
}

/* ------------------------------------------------------------------------
 * Talking
 * ------------------------------------------------------------------------ */

TEST(say_goes_to_others_in_room_only)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a, b, d, x;
    reg(&a, 1);
    reg(&b, 2);
    reg(&d, 3);
    reg(&x, 4);
    join(&a, "lobby");
    join(&b, "lobby");
    join(&d, "lobby");
    join(&x, "dev");
    clear_all((struct fake *[]){&a, &b, &d, &x, NULL});
    fake_formats = 0;
    say(&a, "hello all");
    CHECK_STR(a.log, ""); /* nothing a user types is echoed */
    CHECK_STR(b.log, "MSG user1 #lobby: hello all|");
    CHECK_STR(d.log, "MSG user1 #lobby: hello all|");
    CHECK_STR(x.log, "");
    CHECK_EQ(fake_formats, 1); /* one event, shared by both recipients */
    fini((struct fake *[]){&a, &b, &d, &x, NULL});
}

TEST(act_goes_to_others_in_room_only)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a, b, x;
    reg(&a, 1);
    reg(&b, 2);
    reg(&x, 3);
    struct room *lobby = join(&a, "lobby");
    join(&b, "lobby");
    join(&x, "dev");
    clear_all((struct fake *[]){&a, &b, &x, NULL});
    CHECK_EQ(chat_act(&a.c, lobby, "waves", 5, NULL, NULL), CHAT_OK);
    CHECK_STR(a.log, "");
    CHECK_STR(b.log, "ACT user1 #lobby: waves|");
    CHECK_STR(x.log, "");
    REQUIRE(lobby->hist_count == 1); /* actions are history too */
    CHECK_EQ(room_history(lobby, 0)->kind, ROOM_MSG_ACTION);
    fini((struct fake *[]){&a, &b, &x, NULL});
}

TEST(privmsg_to_one_person)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a, b, d;
    reg(&a, 1);
    reg(&b, 2);
    reg(&d, 3);
    join(&a, "lobby");
    join(&b, "dev");
    join(&d, "lobby");
    clear_all((struct fake *[]){&a, &b, &d, NULL});
    struct client *to = chat_find_nick("USER2", 5);
    REQUIRE(to == &b.c);
    CHECK_EQ(chat_privmsg(&a.c, to, "psst", 4, false, false, NULL, NULL), CHAT_OK);
    CHECK_STR(b.log, "PRIV user1->user2: psst|");
    CHECK_STR(a.log, "");
    CHECK_STR(d.log, "");
    /* Finding the recipient is the protocol's: the core takes a person. */
    CHECK(chat_find_nick("nobody", 6) == NULL);
    /* Actions and notices are flagged as such. */
    clear(&b);
    CHECK_EQ(chat_privmsg(&a.c, to, "waves", 5, true, false, NULL, NULL), CHAT_OK);
    CHECK_EQ(chat_privmsg(&a.c, to, "fyi", 3, false, true, NULL, NULL), CHAT_OK);
    CHECK_STR(b.log, "PACT user1->user2: waves|NOTICE user1->user2: fyi|");
    /* Private messages need no shared room, nor any room. */
    struct fake e;
    reg(&e, 9);
    CHECK_EQ(chat_privmsg(&e.c, &a.c, "hi", 2, false, false, NULL, NULL), CHAT_OK);
    CHECK_STR(a.log, "PRIV user9->user1: hi|");
    fini((struct fake *[]){&a, &b, &d, &e, NULL});
}

TEST(history_kept_in_order)
{
    struct chat_config c = cfg();
    c.history_keep = 3;
    chat_init(&c);
    struct fake a, b;
    reg(&a, 1);
    reg(&b, 2);
    struct room *r = join(&a, "lobby");
    join(&b, "lobby");
    say(&a, "one");
    say(&b, "two");
    CHECK_EQ(nick(&a, "alice"), CHAT_OK);
    say(&a, "three");
    say(&b, "four");
    say(&a, "five");
    CHECK_EQ(r->hist_count, 3);
    static const char *const want[][2] = {
        {"alice", "three"}, {"user2", "four"}, {"alice", "five"}};
    for (size_t i = 0; i < 3; i++) {
        const struct room_msg *m = room_history(r, i);
        /* The source is "nick!user@host"; fakes have no user or host. */
        CHECK_EQ(m->src_len, strlen(want[i][0]) + 2);
        CHECK_EQ_MEM(m->data, m->nick_len, want[i][0], strlen(want[i][0]));
        CHECK_EQ_MEM(m->data + m->nick_len, 2, "!@", 2);
        CHECK_EQ_MEM(m->data + m->src_len, m->text_len, want[i][1],
                     strlen(want[i][1]));
        CHECK_EQ(m->kind, ROOM_MSG_SAY);
        CHECK(m->time_ms > 0);
    }
    fini((struct fake *[]){&a, &b, NULL});
}

/* Says the NULL-terminated lines at once in f's room; returns the id. */
static uint64_t say_lines(struct fake *f, const char *const *texts)
{
    struct chat_line lines[8];
    size_t n = 0;
    for (; texts[n]; n++)
        lines[n] = (struct chat_line){texts[n], strlen(texts[n])};
    uint64_t id = 0;
    CHECK_EQ(chat_say(&f->c, f->room, lines, n, false, &id, NULL), CHAT_OK);
    return id;
}

TEST(event_ids_rise_one_per_line)
{
    struct chat_config c = cfg();
    struct fake a, b;
    start(&c, (struct fake *[]){&a, &b, NULL});
    struct room *r = join(&a, "dev");
    join(&b, "dev");
    clear_all((struct fake *[]){&a, &b, NULL});
    int64_t before = chat_wall_ms();
    uint64_t id = say_lines(&a, (const char *const[]){"1", "2", "3", NULL});
    CHECK_STR(b.log, "MSG user1 #dev: 1|MSG user1 #dev: 2|MSG user1 #dev: 3|");
    REQUIRE(b.nids == 1); /* one event for the three lines */
    CHECK_EQ(b.ids[0], id);
    /* Each line has its own id, as history shows. */
    REQUIRE(r->hist_count == 3);
    for (size_t i = 0; i < 3; i++) {
        CHECK_EQ(room_history(r, i)->id, id + i);
        CHECK(room_history(r, i)->time_ms >= before);
        CHECK(room_history(r, i)->time_ms <= chat_wall_ms());
    }
    /* The next event, whatever it is, comes after the last line (right
     * after it, or at its own millisecond times 1000 if the clock moved
     * on: ids never fall below that). */
    uint64_t next = 0;
    int64_t then = chat_wall_ms();
    CHECK_EQ(chat_act(&a.c, r, "waves", 5, &next, NULL), CHAT_OK);
    CHECK(next >= id + 3);
    CHECK(next == id + 3 || next >= (uint64_t)then * 1000);
    CHECK_EQ(room_history(r, 3)->id, next);
    CHECK_EQ(chat_set_topic(&a.c, r, "t", 1), CHAT_OK);
    CHECK_EQ(chat_privmsg(&b.c, &a.c, "x", 1, false, false, &id, NULL), CHAT_OK);
    REQUIRE(b.nids == 3);
    CHECK_EQ(b.ids[1], next);
    CHECK(b.ids[2] > next);
    CHECK(id > b.ids[2]);
    CHECK_EQ(a.nids, 2); /* the topic, then the private message */
    CHECK_EQ(a.ids[1], id);
    /* A notice is said and kept as one. */
    clear(&b);
    struct chat_line line = {"note", 4};
    CHECK_EQ(chat_say(&a.c, r, &line, 1, true, NULL, NULL), CHAT_OK);
    CHECK_STR(b.log, "NOTE user1 #dev: note|");
    CHECK_EQ(room_history(r, r->hist_count - 1)->kind, ROOM_MSG_NOTICE);
    fini((struct fake *[]){&a, &b, NULL});
}

TEST(away_and_realname_told_to_neighbours)
{
    struct chat_config c = cfg();
    struct fake a, b, x;
    start(&c, (struct fake *[]){&a, &b, &x, NULL});
    join(&a, "dev");
    join(&b, "dev");
    join(&x, "lobby");
    clear_all((struct fake *[]){&a, &b, &x, NULL});
    chat_set_away(&a.c, "lunch", 5);
    CHECK_STR(a.c.away, "lunch");
    chat_set_away(&a.c, NULL, 0);
    CHECK(a.c.away == NULL);
    chat_set_realname(&a.c, "Alice Liddell", 13);
    CHECK_STR(a.c.realname, "Alice Liddell");
    const char *want = "AWAY user1: lunch|AWAY user1: |"
                       "SETNAME user1: Alice Liddell|";
    CHECK_STR(a.log, want);
    CHECK_STR(b.log, want);
    CHECK_STR(x.log, "");
    /* A real name is cut to its maximum. */
    char longname[CHAT_REALNAME_MAX + 10];
    memset(longname, 'n', sizeof longname);
    chat_set_realname(&a.c, longname, sizeof longname);
    CHECK_EQ(strlen(a.c.realname), CHAT_REALNAME_MAX);
    fini((struct fake *[]){&a, &b, &x, NULL});
}

/* ------------------------------------------------------------------------
 * Membership: status per room, found from the pair
 * ------------------------------------------------------------------------ */

/* Checks that chat_membership agrees with c's own list of rooms. */
static void check_memberships(const struct client *c)
{
    for (size_t i = 0; i < c->nrooms; i++) {
        const struct chat_membership *m = &c->rooms[i];
        CHECK(chat_membership(c, m->room) == m);
        CHECK(chat_is_member(c, m->room));
    }
}

TEST(membership_status_follows_its_room)
{
    enum { N = 300 };
    struct chat_config c = cfg();
    c.max_rooms = N + 1;
    struct fake a, b;
    start(&c, (struct fake *[]){&a, &b, NULL});
    static struct room *rooms[N];
    for (size_t i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof name, "r%zu", i);
        rooms[i] = join(&a, name); /* a made each: its operator */
        join(&b, name);
        REQUIRE(rooms[i] != NULL);
        /* b is voiced where i is a multiple of 3. */
        if (i % 3 == 0)
            chat_membership(&b.c, rooms[i])->status = CHAT_VOICE;
    }
    /* Leaving moves the last membership into the hole: every status must
     * stay with its room, and every lookup find the moved one. */
    for (size_t i = 0; i < N; i += 2)
        chat_part(&b.c, rooms[(i * 7) % N], NULL, 0);
    check_memberships(&b.c);
    check_memberships(&a.c);
    size_t left = 0;
    for (size_t i = 0; i < N; i++) {
        const struct chat_membership *ma = chat_membership(&a.c, rooms[i]);
        const struct chat_membership *mb = chat_membership(&b.c, rooms[i]);
        REQUIRE(ma != NULL);
        CHECK(ma->room == rooms[i]);
        CHECK_EQ(ma->status, CHAT_OP);
        if (mb == NULL)
            continue;
        left++;
        CHECK(mb->room == rooms[i]);
        CHECK_EQ(mb->status, i % 3 == 0 ? CHAT_VOICE : 0u);
        CHECK_EQ(mb->slot, 1);
    }
    CHECK_EQ(left, b.c.nrooms);
    CHECK(chat_membership(&b.c, chat_find_room("lobby", 5)) == NULL);
    /* Leaving everything leaves no trace. */
    chat_unregister(&b.c, NULL, 0, false);
    for (size_t i = 0; i < N; i++)
        CHECK(!chat_is_member(&b.c, rooms[i]));
    fini((struct fake *[]){&a, NULL});
}

/* ------------------------------------------------------------------------
 * WHOWAS: who had a nick before
 * ------------------------------------------------------------------------ */

/* chat_whowas helper: appends "nick!user@host (realname)|" to a fake. */
static void log_was(const struct chat_was *w, void *arg)
{
    fake_log(arg, "%s!%s@%s (%s)|", w->nick, w->user, w->host, w->realname);
    CHECK(w->when > 0);
}

TEST(whowas_remembers_left_and_renamed)
{
    struct chat_config c = cfg();
    struct fake a, b, out;
    start(&c, (struct fake *[]){&a, &b, NULL});
    clear(&out);
    CHECK_EQ(chat_whowas("alice", 5, 10, log_was, &out), 0);
    CHECK_EQ(nick(&a, "alice"), CHAT_OK);
    chat_set_user_host(&a.c, "~a", "192.0.2.1");
    chat_set_realname(&a.c, "Alice", 5);
    CHECK_EQ(nick(&a, "al"), CHAT_OK); /* alice was a */
    chat_set_user_host(&b.c, "~b", "192.0.2.2");
    CHECK_EQ(nick(&b, "ALICE"), CHAT_OK);
    chat_unregister(&b.c, NULL, 0, true); /* then b */
    /* Newest first, any case; user1 was a too, before "alice". */
    CHECK_EQ(chat_whowas("Alice", 5, 10, log_was, &out), 2);
    CHECK_STR(out.log, "ALICE!~b@192.0.2.2 ()|alice!~a@192.0.2.1 (Alice)|");
    clear(&out);
    CHECK_EQ(chat_whowas("alice", 5, 1, log_was, &out), 1);
    CHECK_STR(out.log, "ALICE!~b@192.0.2.2 ()|");
    clear(&out);
    CHECK_EQ(chat_whowas("user1", 5, 10, log_was, &out), 1);
    CHECK_EQ(chat_whowas("al", 2, 10, log_was, &out), 0); /* still here */
    CHECK_EQ(chat_whowas("alic", 4, 10, log_was, &out), 0);
    fini((struct fake *[]){&a, NULL});
}

TEST(whowas_keeps_the_newest)
{
    struct chat_config c = cfg();
    struct fake a, out;
    start(&c, (struct fake *[]){&a, NULL});
    clear(&out);
    /* Far more renames than are remembered: the oldest are forgotten. */
    for (int i = 0; i < 1000; i++) {
        char name[16];
        snprintf(name, sizeof name, "n%d", i);
        CHECK_EQ(nick(&a, name), CHAT_OK);
    }
    CHECK_EQ(chat_whowas("n998", 4, 10, log_was, &out), 1);
    CHECK_EQ(chat_whowas("n0", 2, 10, log_was, &out), 0);
    CHECK_EQ(chat_whowas("user1", 5, 10, log_was, &out), 0);
    fini((struct fake *[]){&a, NULL});
}

/* ------------------------------------------------------------------------
 * Nicks
 * ------------------------------------------------------------------------ */

TEST(nick_change_told_to_self_and_room)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a, b, x;
    reg(&a, 1);
    reg(&b, 2);
    reg(&x, 3);
    join(&a, "lobby");
    join(&b, "lobby");
    join(&x, "dev");
    clear_all((struct fake *[]){&a, &b, &x, NULL});
    CHECK_EQ(nick(&a, "alice"), CHAT_OK);
    CHECK_STR(a.c.nick, "alice");
    CHECK_EQ(a.c.nick_len, 5);
    CHECK_STR(a.log, "NICK user1 -> alice|");
    CHECK_STR(b.log, "NICK user1 -> alice|");
    CHECK_STR(x.log, "");
    CHECK(chat_find_nick("ALICE", 5) == &a.c);
    CHECK(chat_find_nick("user1", 5) == NULL);
    fini((struct fake *[]){&a, &b, &x, NULL});
}

TEST(nick_change_told_once_across_shared_rooms)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a, b;
    reg(&a, 1);
    reg(&b, 2);
    join(&a, "lobby");
    join(&a, "dev");
    join(&b, "lobby");
    join(&b, "dev");
    clear_all((struct fake *[]){&a, &b, NULL});
    CHECK_EQ(nick(&a, "alice"), CHAT_OK);
    CHECK_STR(a.log, "NICK user1 -> alice|");
    CHECK_STR(b.log, "NICK user1 -> alice|");
    fini((struct fake *[]){&a, &b, NULL});
}

TEST(nick_without_room)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a;
    reg(&a, 1);
    CHECK_EQ(nick(&a, "alice"), CHAT_OK);
    CHECK_STR(a.log, "NICK user1 -> alice|");
    fini((struct fake *[]){&a, NULL});
}

TEST(nick_errors)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a, b;
    reg(&a, 1);
    reg(&b, 2);
    join(&a, "lobby");
    join(&b, "lobby");
    CHECK_EQ(nick(&a, "alice"), CHAT_OK);
    clear_all((struct fake *[]){&a, &b, NULL});
    CHECK_EQ(nick(&b, "alice"), CHAT_ERR_TAKEN);
    CHECK_EQ(nick(&b, "ALICE"), CHAT_ERR_TAKEN);
    CHECK_EQ(nick(&a, "alice"), CHAT_ERR_ALREADY);
    CHECK_EQ(nick(&b, "user2"), CHAT_ERR_ALREADY);
    CHECK_EQ(nick(&b, ""), CHAT_ERR_INVALID);
    CHECK_EQ(nick(&b, "1abc"), CHAT_ERR_INVALID);
    CHECK_EQ(nick(&b, "-abc"), CHAT_ERR_INVALID);
    CHECK_EQ(nick(&b, "a b"), CHAT_ERR_INVALID);
    CHECK_EQ(nick(&b, "abcdefghijklmnopqrstuvwxyz0123456"), CHAT_ERR_INVALID);
    /* user<digits> is reserved, even when nobody holds it right now. */
    CHECK_EQ(nick(&b, "user1"), CHAT_ERR_RESERVED);
    CHECK_EQ(nick(&b, "user99"), CHAT_ERR_RESERVED);
    CHECK_EQ(nick(&b, "USER3"), CHAT_ERR_RESERVED);
    CHECK_EQ(nick(&b, "user02"), CHAT_ERR_RESERVED);
    CHECK_EQ(nick(&b, "user0"), CHAT_ERR_RESERVED);
    CHECK_STR(b.c.nick, "user2");
    CHECK_STR(a.log, ""); /* failed changes tell nobody */
    CHECK_STR(b.log, "");
    fini((struct fake *[]){&a, &b, NULL});
}

TEST(nick_case_only_change)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a, b;
    reg(&a, 1);
    reg(&b, 2);
    join(&a, "lobby");
    join(&b, "lobby");
    CHECK_EQ(nick(&a, "alice"), CHAT_OK);
    clear_all((struct fake *[]){&a, &b, NULL});
    CHECK_EQ(nick(&a, "Alice"), CHAT_OK);
    CHECK_STR(a.c.nick, "Alice");
    CHECK_STR(a.log, "NICK alice -> Alice|");
    CHECK_STR(b.log, "NICK alice -> Alice|");
    CHECK(chat_find_nick("alice", 5) == &a.c);
    fini((struct fake *[]){&a, &b, NULL});
}

TEST(nick_back_to_own_default)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a;
    reg(&a, 12);
    CHECK_EQ(nick(&a, "alice"), CHAT_OK);
    CHECK_EQ(nick(&a, "user12"), CHAT_OK);
    CHECK_STR(a.c.nick, "user12");
    CHECK_EQ(nick(&a, "alice"), CHAT_OK);
    CHECK_EQ(nick(&a, "USER12"), CHAT_OK); /* case of one's own is free */
    CHECK_EQ(nick(&a, "user012"), CHAT_ERR_RESERVED);
    CHECK_EQ(nick(&a, "user120"), CHAT_ERR_RESERVED); /* not given yet */
    /* Given out before (ids rise) to someone who is gone: anyone's. */
    CHECK_EQ(nick(&a, "user1"), CHAT_OK);
    fini((struct fake *[]){&a, NULL});
}

/*
 * chat_set_nick gets a slice (pointer + length) that need not be
 * NUL-terminated: a text command hands it one word of the input line. Whether
 * "user<N>" is the caller's own default must depend on those bytes only, not
 * on digits that happen to follow them in memory (or on reading past the end
 * of the buffer). Here the slice is the first 5 bytes of "user12".
 */
TEST(nick_own_default_ignores_bytes_after_slice)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a;
    reg(&a, 1);
    CHECK_EQ(nick(&a, "alice"), CHAT_OK);
    static const char buf[] = "user12";
    CHECK_EQ(chat_set_nick(&a.c, buf, 5), CHAT_OK);
    CHECK_STR(a.c.nick, "user1");
    fini((struct fake *[]){&a, NULL});
}

TEST(nick_others_default_refused_whatever_follows_slice)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a, b;
    reg(&a, 1);
    reg(&b, 12);
    CHECK_EQ(nick(&a, "alice"), CHAT_OK); /* "user1" is free now */
    CHECK_EQ(nick(&b, "bob"), CHAT_OK);
    static const char buf[] = "user12";
    /* Person 12 must not get "user1", person 1's default nick. */
    CHECK_EQ(chat_set_nick(&b.c, buf, 5), CHAT_ERR_RESERVED);
    CHECK_STR(b.c.nick, "bob");
    fini((struct fake *[]){&a, &b, NULL});
}

/*
 * The crash fuzz_text found: the slice "user1" placed right before an
 * inaccessible page, as a line at the end of a buffer can be. Deciding
 * whether it is one's own default nick must not read the byte after it
 * (chat_set_nick called strtoull, which reads until a non-digit).
 */
TEST(nick_slice_at_end_of_buffer_is_not_overread)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a;
    reg(&a, 1);
    CHECK_EQ(nick(&a, "alice"), CHAT_OK);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(m != MAP_FAILED);
    REQUIRE(mprotect(m + page, page, PROT_NONE) == 0);
    char *slice = m + page - 5;
    memcpy(slice, "user1", 5);
    CHECK_EQ(chat_set_nick(&a.c, slice, 5), CHAT_OK); /* faulted before */
    CHECK_STR(a.c.nick, "user1");
    munmap(m, 2 * page);
    fini((struct fake *[]){&a, NULL});
}

/* ------------------------------------------------------------------------
 * Topics
 * ------------------------------------------------------------------------ */

TEST(topic_told_to_whole_room)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a, b, x;
    reg(&a, 1);
    reg(&b, 2);
    reg(&x, 3);
    struct room *dev = join(&a, "dev");
    join(&b, "dev");
    join(&x, "lobby");
    clear_all((struct fake *[]){&a, &b, &x, NULL});
    CHECK_EQ(chat_set_topic(&a.c, dev, "ship it", 7), CHAT_OK);
    CHECK_STR(dev->topic, "ship it");
    CHECK_STR(a.log, "TOPIC user1 #dev: ship it|"); /* the setter too */
    CHECK_STR(b.log, "TOPIC user1 #dev: ship it|");
    CHECK_STR(x.log, "");
    fini((struct fake *[]){&a, &b, &x, NULL});
}

TEST(topic_limit)
{
    struct chat_config c = cfg();
    c.topic_max = 10;
    chat_init(&c);
    struct fake a;
    reg(&a, 1);
    struct room *dev = join(&a, "dev");
    clear(&a);
    CHECK_EQ(chat_set_topic(&a.c, dev, "0123456789", 10), CHAT_OK);
    CHECK_STR(dev->topic, "0123456789");
    clear(&a);
    CHECK_EQ(chat_set_topic(&a.c, dev, "0123456789x", 11), CHAT_ERR_TOO_LONG);
    CHECK_STR(dev->topic, "0123456789");
    CHECK_STR(a.log, "");
    fini((struct fake *[]){&a, NULL});
}

/* ------------------------------------------------------------------------
 * Quitting
 * ------------------------------------------------------------------------ */

TEST(quit_told_to_rooms_not_leaver)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a, b, d, x;
    reg(&a, 1);
    reg(&b, 2);
    reg(&d, 3);
    reg(&x, 4);
    join(&a, "lobby");
    join(&a, "dev");
    join(&b, "lobby");
    join(&b, "dev"); /* shares two rooms with a: told once */
    join(&d, "dev");
    join(&x, "other");
    clear_all((struct fake *[]){&a, &b, &d, &x, NULL});
    chat_unregister(&a.c, "gone fishing", 12, true);
    CHECK_STR(a.log, "");
    CHECK_STR(b.log, "QUIT user1 (gone fishing)|");
    CHECK_STR(d.log, "QUIT user1 (gone fishing)|");
    CHECK_STR(x.log, "");
    CHECK_EQ(chat_find_room("dev", 3)->nmembers, 2);
    CHECK_EQ(chat_find_room("lobby", 5)->nmembers, 1);
    fini((struct fake *[]){&b, &d, &x, NULL});
}

TEST(quit_without_announce)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a, b;
    reg(&a, 1);
    reg(&b, 2);
    join(&a, "lobby");
    join(&b, "lobby");
    clear_all((struct fake *[]){&a, &b, NULL});
    chat_unregister(&a.c, "shutdown", 8, false);
    CHECK_STR(b.log, "");
    CHECK_EQ(chat_find_room("lobby", 5)->nmembers, 1);
    fini((struct fake *[]){&b, NULL});
}

TEST(quit_leaves_every_room)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a;
    reg(&a, 1);
    join(&a, "lobby");
    join(&a, "r1");
    join(&a, "r2");
    CHECK_EQ(chat_room_count(), 3);
    chat_unregister(&a.c, "", 0, true);
    CHECK_EQ(a.c.nrooms, 0);
    CHECK_EQ(chat_room_count(), 1);
    chat_fini();
}

/* ------------------------------------------------------------------------
 * Refused deliveries: a protocol may decline an event it reached a person
 * through (text does, for notices of rooms over --quiet-above); the same
 * event may then still reach that person through another room.
 * ------------------------------------------------------------------------ */

TEST(refused_event_arrives_through_another_room)
{
    struct chat_config c = cfg();
    struct fake a, b, d;
    start(&c, (struct fake *[]){&a, &b, &d, NULL});
    join(&a, "one");
    join(&a, "two");
    join(&b, "one");
    join(&b, "two");
    join(&d, "one");
    /* Whichever of a's rooms the event comes through first, b gets it
     * once, through the room it does not refuse. */
    for (size_t k = 0; k < 2; k++) {
        b.refuse = a.c.rooms[k].room;
        clear_all((struct fake *[]){&a, &b, &d, NULL});
        CHECK_EQ(nick(&a, k ? "alice" : "al"), CHAT_OK);
        CHECK_STR(b.log, k ? "NICK al -> alice|" : "NICK user1 -> al|");
        CHECK_EQ(b.nids, 1);
    }
    /* Refused in the only room they share: d never hears it, and b, who
     * refuses #one, hears the quit through #two. */
    d.refuse = chat_find_room("one", 3);
    b.refuse = d.refuse;
    clear_all((struct fake *[]){&a, &b, &d, NULL});
    chat_unregister(&a.c, "bye", 3, true);
    CHECK_STR(d.log, "");
    CHECK_STR(b.log, "QUIT alice (bye)|");
    /* A refusal leaves nothing behind: the next event is shown. */
    d.refuse = NULL;
    b.room = chat_find_room("one", 3);
    CHECK_EQ(say(&b, "hi"), CHAT_OK);
    CHECK_STR(d.log, "MSG user2 #one: hi|");
    fini((struct fake *[]){&b, &d, NULL});
}

/* ------------------------------------------------------------------------
 * Rooms nobody is in, history memory, and the rate of new rooms
 * ------------------------------------------------------------------------ */

/* Creates room name with one message said in it, then leaves it. */
static struct room *leave_behind(struct fake *f, const char *name)
{
    struct room *r = join(f, name);
    say(f, "kept");
    chat_part(&f->c, r, NULL, 0);
    return r;
}

/* chat_foreach_room helper: adds up the rooms' history bytes. */
static void sum_history(struct room *r, void *arg)
{
    *(size_t *)arg += r->hist_bytes;
}

/* Checks that the core's count of history bytes is the rooms' sum. */
static void check_history_bytes(void)
{
    size_t sum = 0;
    chat_foreach_room(sum_history, &sum);
    CHECK_EQ(chat_history_bytes(), sum);
}

/* The bytes one message of a fake holds: its source is "nick!@". */
static size_t msg_cost(size_t nick_len, size_t text_len)
{
    return room_msg_cost(nick_len + 2, text_len);
}

/* The bytes a room of history_keep slots with messages of text holds. */
static size_t hist_cost(size_t keep, size_t nmsgs, size_t nick_len,
                        size_t text_len)
{
    return keep * sizeof(struct room_msg *) +
           nmsgs * msg_cost(nick_len, text_len);
}

TEST(rooms_nobody_is_in_give_way_at_max_rooms)
{
    struct chat_config c = cfg();
    c.max_rooms = 3; /* #lobby and two more */
    struct fake a;
    start(&c, (struct fake *[]){&a, NULL});
    leave_behind(&a, "r1");
    leave_behind(&a, "r2");
    CHECK_EQ(chat_room_count(), 3);
    /* The room left longest ago makes way for a new one. */
    join(&a, "r3");
    CHECK(chat_find_room("r1", 2) == NULL);
    REQUIRE(chat_find_room("r2", 2) != NULL);
    CHECK_EQ(chat_find_room("r2", 2)->hist_count, 1);
    check_history_bytes();
    join(&a, "r4");
    CHECK(chat_find_room("r2", 2) == NULL);
    check_history_bytes();
    /* Someone is in every room now: the limit holds. */
    struct room *r = NULL;
    CHECK_EQ(chat_join(&a.c, "r5", 2, NULL, 0, &r), CHAT_ERR_TOO_MANY);
    CHECK_EQ(chat_room_count(), 3);
    fini((struct fake *[]){&a, NULL});
}

TEST(joining_a_room_nobody_is_in_takes_it_off_the_list)
{
    struct chat_config c = cfg();
    c.max_rooms = 3;
    struct fake a, b;
    start(&c, (struct fake *[]){&a, &b, NULL});
    struct room *r1 = leave_behind(&a, "r1");
    leave_behind(&a, "r2");
    CHECK(r1->idle);
    /* b visits r1: it is used again, so r2 is now the one left longest. */
    join(&b, "r1");
    CHECK(!r1->idle);
    CHECK_EQ(r1->nmembers, 1);
    join(&a, "r3"); /* frees r2, the only room nobody is in */
    CHECK(chat_find_room("r2", 2) == NULL);
    CHECK(chat_find_room("r1", 2) == r1);
    chat_part(&b.c, r1, NULL, 0);
    CHECK(r1->idle);
    CHECK_EQ(r1->hist_count, 1);
    fini((struct fake *[]){&a, &b, NULL});
}

TEST(history_budget_frees_the_room_left_longest_ago_first)
{
    struct chat_config c = cfg();
    const size_t old = hist_cost(100, 1, 5, 4); /* one "kept" by user1 */
    const size_t line = msg_cost(5, 100);
    /* Room for old1, old2, and the ring of a third room with one line. */
    c.history_mem = 2 * old + hist_cost(100, 1, 5, 100);
    struct fake a;
    start(&c, (struct fake *[]){&a, NULL});
    leave_behind(&a, "old1");
    leave_behind(&a, "old2");
    struct room *big = join(&a, "big");
    char text[101];
    memset(text, 'x', 100);
    text[100] = '\0';
    say(&a, text);
    CHECK_EQ(chat_history_bytes(), c.history_mem);
    CHECK(chat_find_room("old1", 4) != NULL);
    /* One more line passes the budget by less than old1: old1 alone goes. */
    say(&a, text);
    CHECK(chat_find_room("old1", 4) == NULL);
    CHECK(chat_find_room("old2", 4) != NULL);
    CHECK_EQ(big->hist_count, 2);
    CHECK_EQ(chat_history_bytes(), c.history_mem + line - old);
    check_history_bytes();
    fini((struct fake *[]){&a, NULL});
}

TEST(history_budget_trims_the_written_room_to_its_newest)
{
    struct chat_config c = cfg();
    c.history_mem = hist_cost(100, 10, 5, 3) + hist_cost(100, 0, 0, 0);
    struct fake a, b;
    start(&c, (struct fake *[]){&a, &b, NULL});
    struct room *lobby = join(&b, "lobby");
    say(&b, "old"); /* the lobby is never freed, even with nobody in it */
    chat_part(&b.c, lobby, NULL, 0);
    struct room *r = join(&a, "r");
    for (int i = 0; i < 50; i++) {
        char text[4];
        snprintf(text, sizeof text, "%03d", i);
        say(&a, text);
        CHECK(chat_history_bytes() <= c.history_mem);
    }
    CHECK(chat_find_room("lobby", 5) == lobby);
    CHECK_EQ(lobby->hist_count, 1);
    /* Two rings, and the lobby's message leaves room for 10 - 1. */
    CHECK_EQ(r->hist_count, 9);
    const struct room_msg *m = room_history(r, r->hist_count - 1);
    CHECK_EQ_MEM(m->data + m->src_len, m->text_len, "049", 3);
    m = room_history(r, 0);
    CHECK_EQ_MEM(m->data + m->src_len, m->text_len, "041", 3);
    check_history_bytes();
    /* A message bigger than the budget is still kept, alone. */
    static char huge[4096];
    memset(huge, 'h', sizeof huge);
    struct chat_line line = {huge, sizeof huge};
    CHECK_EQ(chat_say(&a.c, r, &line, 1, false, NULL, NULL), CHAT_OK);
    CHECK_EQ(r->hist_count, 1);
    CHECK_EQ(room_history(r, 0)->text_len, sizeof huge);
    check_history_bytes();
    fini((struct fake *[]){&a, &b, NULL});
}

TEST(history_bytes_go_when_rooms_go)
{
    struct chat_config c = cfg();
    struct fake a;
    start(&c, (struct fake *[]){&a, NULL});
    CHECK_EQ(chat_history_bytes(), 0);
    struct room *r = join(&a, "r");
    say(&a, "one");
    say(&a, "two");
    CHECK_EQ(chat_history_bytes(), hist_cost(100, 2, 5, 3));
    CHECK_EQ(chat_history_bytes(), r->hist_bytes);
    chat_part(&a.c, r, NULL, 0);
    CHECK_EQ(chat_history_bytes(), r->hist_bytes); /* kept, as a cache */
    fini((struct fake *[]){&a, NULL});
    CHECK_EQ(chat_history_bytes(), 0);
}

static uint64_t fake_ms; /* the clock of the rate tests */

/* A clock that moves only when a test says so. */
static uint64_t fake_clock(void)
{
    return fake_ms;
}

/* The test configuration with new-room rates and the fake clock. */
static struct chat_config rate_cfg(unsigned burst, unsigned rate,
                                   unsigned origin_burst, unsigned origin_rate)
{
    struct chat_config c = cfg();
    c.room_burst = burst;
    c.room_rate = rate;
    c.origin_room_burst = origin_burst;
    c.origin_room_rate = origin_rate;
    c.now_ms = fake_clock;
    fake_ms = 1000000;
    return c;
}

/* Tries to join name; returns the result (leaving nothing to clean up). */
static enum chat_error try_join(struct fake *f, const char *name)
{
    return try_join_key(f, name, NULL);
}

TEST(new_rooms_per_client)
{
    struct chat_config c = rate_cfg(2, 60, 1, 0); /* 2, then 1 a second */
    struct fake a, b;
    start(&c, (struct fake *[]){&a, &b, NULL});
    CHECK_EQ(chat_new_room_wait(&a.c), 0);
    CHECK_EQ(try_join(&a, "a1"), CHAT_OK);
    CHECK_EQ(try_join(&a, "a2"), CHAT_OK);
    clear(&a);
    CHECK_EQ(try_join(&a, "a3"), CHAT_ERR_RATE);
    CHECK_STR(a.log, "");
    CHECK(chat_find_room("a3", 2) == NULL);
    CHECK_EQ(chat_new_room_wait(&a.c), 1);
    /* Joining a room that exists is free; another client is not limited. */
    CHECK_EQ(try_join(&a, "lobby"), CHAT_OK);
    CHECK_EQ(try_join(&b, "b1"), CHAT_OK);
    CHECK_EQ(try_join(&a, "b1"), CHAT_OK);
    fake_ms += 999;
    CHECK_EQ(chat_new_room_wait(&a.c), 1);
    CHECK_EQ(try_join(&a, "a3"), CHAT_ERR_RATE);
    fake_ms += 1;
    CHECK_EQ(chat_new_room_wait(&a.c), 0);
    CHECK_EQ(try_join(&a, "a3"), CHAT_OK);
    CHECK_EQ(try_join(&a, "a4"), CHAT_ERR_RATE);
    fini((struct fake *[]){&a, &b, NULL});
}

TEST(new_rooms_per_origin)
{
    struct chat_config c = rate_cfg(5, 0, 3, 6); /* 3, then 1 per 10 s */
    struct fake a, b, d, e;
    start(&c, (struct fake *[]){&a, &b, &d, &e, NULL});
    char host[] = "192.0.2.1", other[] = "192.0.2.2";
    a.c.origin = host;
    b.c.origin = "192.0.2.1"; /* the same origin, spelled elsewhere */
    d.c.origin = other;
    /* e has no origin: only its own bucket applies. */
    CHECK_EQ(try_join(&a, "a1"), CHAT_OK);
    CHECK_EQ(try_join(&a, "a2"), CHAT_OK);
    CHECK_EQ(try_join(&b, "b1"), CHAT_OK);
    CHECK_EQ(try_join(&b, "b2"), CHAT_ERR_RATE);
    CHECK_EQ(try_join(&a, "a3"), CHAT_ERR_RATE);
    CHECK_EQ(chat_new_room_wait(&b.c), 10);
    CHECK_EQ(try_join(&d, "d1"), CHAT_OK);
    for (int i = 0; i < 5; i++) {
        char name[8];
        snprintf(name, sizeof name, "e%d", i);
        CHECK_EQ(try_join(&e, name), CHAT_OK);
    }
    fake_ms += 9500;
    CHECK_EQ(chat_new_room_wait(&a.c), 1);
    fake_ms += 500;
    CHECK_EQ(try_join(&b, "b2"), CHAT_OK);
    CHECK_EQ(try_join(&a, "a3"), CHAT_ERR_RATE);
    fini((struct fake *[]){&a, &b, &d, &e, NULL});
}

TEST(refused_creation_spends_nothing)
{
    struct chat_config c = rate_cfg(1, 60, 5, 60);
    c.max_rooms = 2;
    struct fake a, b;
    start(&c, (struct fake *[]){&a, &b, NULL});
    a.c.origin = b.c.origin = "198.51.100.7";
    join(&b, "full"); /* b's one token; every room has someone in it */
    CHECK_EQ(try_join(&a, "more"), CHAT_ERR_TOO_MANY);
    CHECK_EQ(chat_new_room_wait(&a.c), 0);
    CHECK_EQ(try_join(&b, "more"), CHAT_ERR_TOO_MANY); /* not RATE */
    CHECK_EQ(try_join(&a, "bad name"), CHAT_ERR_INVALID);
    chat_part(&b.c, chat_find_room("full", 4), NULL, 0); /* freed: no hist */
    CHECK_EQ(try_join(&a, "more"), CHAT_OK);
    fini((struct fake *[]){&a, &b, NULL});
}

UNIT_MAIN()
