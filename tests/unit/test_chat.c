/*
 * Unit tests for chat.c, the core: people, nicks, rooms, and who hears what.
 *
 * Clients here are fakes whose deliver function writes each event it gets
 * as one readable record ("MSG alice #dev: hi|") into a per-client log, so
 * a test states exactly who heard what, and that nobody else heard it.
 */
#include "core/chat.h"

#include <stdarg.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/room.h"
#include "unit.h"

/* ------------------------------------------------------------------------
 * Fake clients
 * ------------------------------------------------------------------------ */

struct fake {
    struct client c; /* first, so a struct client * is a struct fake * */
    char log[4096];
    size_t n;
};

static size_t formats; /* events formatted (the wire slot was empty) */

/* Appends printf-formatted text to f's log (silently truncating). */
__attribute__((format(printf, 2, 3))) static void fake_log(struct fake *f,
                                                           const char *fmt,
                                                           ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(f->log + f->n, sizeof f->log - f->n, fmt, ap);
    va_end(ap);
    if (n > 0)
        f->n += (size_t)n < sizeof f->log - f->n ? (size_t)n
                                                 : sizeof f->log - f->n - 1;
}

/* Records one event as "KIND fields|". */
static void fake_deliver(struct client *to, struct chat_event *ev)
{
    struct fake *f = (struct fake *)to;
    int nl = (int)ev->nick_len, tl = (int)ev->text_len;
    const char *room = ev->room ? ev->room->name : "?";
    /* The event is shared by all recipients: format it once. */
    if (ev->wire[1].p == NULL) {
        formats++;
        ev->wire[1].p = "formatted";
        ev->wire[1].n = 9;
    }
    CHECK(ev->from != NULL);
    CHECK(ev->text_len == 0 || ev->text != NULL);
    switch (ev->kind) {
    case CHAT_MESSAGE:
        for (size_t i = 0; i < ev->nlines; i++)
            fake_log(f, "MSG %.*s #%s: %.*s|", nl, ev->nick, room,
                     (int)ev->lines[i].len, ev->lines[i].text);
        break;
    case CHAT_ACTION:
        fake_log(f, "ACT %.*s #%s: %.*s|", nl, ev->nick, room, tl, ev->text);
        break;
    case CHAT_PRIVATE:
        fake_log(f, "PRIV %.*s->%s: %.*s|", nl, ev->nick,
                 ev->to ? ev->to->nick : "?", tl, ev->text);
        CHECK(ev->to == to);
        break;
    case CHAT_JOIN:
        fake_log(f, "JOIN %.*s #%s|", nl, ev->nick, room);
        break;
    case CHAT_PART:
        fake_log(f, "PART %.*s #%s|", nl, ev->nick, room);
        break;
    case CHAT_QUIT:
        fake_log(f, "QUIT %.*s (%.*s)|", nl, ev->nick, tl, ev->text);
        break;
    case CHAT_NICK:
        fake_log(f, "NICK %.*s -> %.*s|", nl, ev->nick, tl, ev->text);
        break;
    case CHAT_TOPIC:
        fake_log(f, "TOPIC %.*s #%s: %.*s|", nl, ev->nick, room, tl,
                 ev->text);
        break;
    }
}

static const struct client_ops fake_ops = {.proto = 1,
                                           .deliver = fake_deliver};

/* Registers f as person id. */
static void reg(struct fake *f, uint64_t id)
{
    chat_register(&f->c, id, &fake_ops, f);
    f->n = 0;
    f->log[0] = '\0';
}

/* Empties f's log. */
static void clear(struct fake *f)
{
    f->n = 0;
    f->log[0] = '\0';
}

/* Empties the logs of a NULL-terminated list of fakes. */
static void clear_all(struct fake *const *fs)
{
    for (; *fs; fs++)
        clear(*fs);
}

/* Joins the room called name; returns it (NULL on error). */
static struct room *join(struct fake *f, const char *name)
{
    struct room *r = NULL;
    enum chat_error e = chat_join(&f->c, name, strlen(name), &r);
    CHECK_EQ(e, CHAT_OK);
    return e == CHAT_OK ? r : NULL;
}

/* Changes f's nick; returns the result. */
static enum chat_error nick(struct fake *f, const char *name)
{
    return chat_set_nick(&f->c, name, strlen(name));
}

/* Says text in f's current room. */
static void say(struct fake *f, const char *text)
{
    struct chat_line line = {text, strlen(text)};
    chat_say(&f->c, f->c.room, &line, 1);
}

/* The default configuration of the tests. */
static struct chat_config cfg(void)
{
    return (struct chat_config){
        .history_replay = 20,
        .history_keep = 100,
        .quiet_above = 64,
        .topic_max = 300,
        .max_rooms = 100,
    };
}

/* Unregisters everyone in a NULL-terminated list, then ends the core. */
static void fini(struct fake *const *fs)
{
    for (; *fs; fs++)
        chat_unregister(&(*fs)->c, NULL, 0, false);
    chat_fini();
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
    CHECK(a.c.room == NULL);
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
    CHECK(a.c.room == NULL);
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
    CHECK(a.c.room == lobby);
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
    CHECK_EQ(chat_join(&a.c, "", 0, &r), CHAT_ERR_INVALID);
    CHECK_EQ(chat_join(&a.c, "#dev", 4, &r), CHAT_ERR_INVALID);
    CHECK_EQ(chat_join(&a.c, "a b", 3, &r), CHAT_ERR_INVALID);
    CHECK_EQ(chat_join(&a.c, "abcdefghijklmnopqrstuvwxyz0123456", 33, &r),
             CHAT_ERR_INVALID);
    CHECK_STR(a.log, "");
    join(&a, "lobby");
    CHECK_EQ(chat_join(&a.c, "Lobby", 5, &r), CHAT_ERR_ALREADY);
    join(&a, "dev");
    CHECK_EQ(chat_room_count(), 2);
    CHECK_EQ(chat_join(&a.c, "ops", 3, &r), CHAT_ERR_TOO_MANY);
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
    CHECK_EQ(chat_join(&b.c, "DEV", 3, &r), CHAT_OK);
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
    CHECK(a.c.room == dev);
    clear_all((struct fake *[]){&a, &b, &x, NULL});
    chat_part(&a.c, dev, NULL, 0);
    CHECK_STR(a.log, "PART user1 #dev|");
    CHECK_STR(b.log, "PART user1 #dev|");
    CHECK_STR(x.log, "");
    CHECK(!chat_is_member(&a.c, dev));
    CHECK(chat_is_member(&a.c, lobby));
    CHECK(a.c.room == lobby); /* back to the room joined before */
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
    CHECK(a.c.room == NULL);
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
    /* An action leaves no history: that room goes. */
    struct room *q = join(&a, "quiet");
    chat_act(&a.c, q, "waves", 5);
    chat_part(&a.c, q, NULL, 0);
    CHECK(chat_find_room("quiet", 5) == NULL);
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
    formats = 0;
    say(&a, "hello all");
    CHECK_STR(a.log, ""); /* nothing a user types is echoed */
    CHECK_STR(b.log, "MSG user1 #lobby: hello all|");
    CHECK_STR(d.log, "MSG user1 #lobby: hello all|");
    CHECK_STR(x.log, "");
    CHECK_EQ(formats, 1); /* one event, shared by both recipients */
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
    chat_act(&a.c, lobby, "waves", 5);
    CHECK_STR(a.log, "");
    CHECK_STR(b.log, "ACT user1 #lobby: waves|");
    CHECK_STR(x.log, "");
    CHECK_EQ(lobby->hist_count, 0); /* actions are not history */
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
    CHECK_EQ(chat_privmsg(&a.c, "USER2", 5, "psst", 4), CHAT_OK);
    CHECK_STR(b.log, "PRIV user1->user2: psst|");
    CHECK_STR(a.log, "");
    CHECK_STR(d.log, "");
    CHECK_EQ(chat_privmsg(&a.c, "nobody", 6, "x", 1), CHAT_ERR_NO_NICK);
    CHECK_STR(a.log, "");
    /* Private messages need no shared room, nor any room. */
    struct fake e;
    reg(&e, 9);
    CHECK_EQ(chat_privmsg(&e.c, "user1", 5, "hi", 2), CHAT_OK);
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
        CHECK_EQ_MEM(m->data, m->nick_len, want[i][0], strlen(want[i][0]));
        CHECK_EQ_MEM(m->data + m->nick_len, m->text_len, want[i][1],
                     strlen(want[i][1]));
        CHECK(m->when > 0);
    }
    fini((struct fake *[]){&a, &b, NULL});
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
    CHECK_EQ(nick(&a, "user1"), CHAT_ERR_RESERVED);
    CHECK_EQ(nick(&a, "user120"), CHAT_ERR_RESERVED);
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
    CHECK(a.c.room == NULL);
    CHECK_EQ(chat_room_count(), 1);
    chat_fini();
}

/* ------------------------------------------------------------------------
 * Quiet rooms: no join/part/quit/nick notices above quiet_above people
 * ------------------------------------------------------------------------ */

TEST(quiet_above_join_and_part)
{
    struct chat_config c = cfg();
    c.quiet_above = 2;
    chat_init(&c);
    struct fake a, b, d;
    reg(&a, 1);
    reg(&b, 2);
    reg(&d, 3);
    struct room *dev = join(&a, "dev");
    join(&b, "dev"); /* 2 people: still told */
    CHECK_STR(a.log, "JOIN user1 #dev|JOIN user2 #dev|");
    clear_all((struct fake *[]){&a, &b, &d, NULL});
    join(&d, "dev"); /* 3 people: only the joiner hears of it */
    CHECK_STR(d.log, "JOIN user3 #dev|");
    CHECK_STR(a.log, "");
    CHECK_STR(b.log, "");
    clear(&d);
    /* Messages are not notices: they go to everyone. */
    say(&a, "hi");
    CHECK_STR(b.log, "MSG user1 #dev: hi|");
    CHECK_STR(d.log, "MSG user1 #dev: hi|");
    clear_all((struct fake *[]){&a, &b, &d, NULL});
    chat_part(&d.c, dev, NULL, 0); /* 3 people counting d: quiet */
    CHECK_STR(d.log, "PART user3 #dev|");
    CHECK_STR(a.log, "");
    CHECK_STR(b.log, "");
    chat_part(&b.c, dev, NULL, 0); /* 2 people counting b: told */
    CHECK_STR(a.log, "PART user2 #dev|");
    CHECK_STR(b.log, "PART user2 #dev|");
    fini((struct fake *[]){&a, &b, &d, NULL});
}

TEST(quiet_above_quit_and_nick)
{
    struct chat_config c = cfg();
    c.quiet_above = 2;
    chat_init(&c);
    struct fake a, b, d, e;
    reg(&a, 1);
    reg(&b, 2);
    reg(&d, 3);
    reg(&e, 4);
    join(&a, "big");
    join(&b, "big");
    join(&d, "big");
    join(&d, "small");
    join(&e, "small");
    clear_all((struct fake *[]){&a, &b, &d, &e, NULL});
    CHECK_EQ(nick(&d, "dave"), CHAT_OK);
    CHECK_STR(d.log, "NICK user3 -> dave|");
    CHECK_STR(a.log, "");
    CHECK_STR(b.log, "");
    CHECK_STR(e.log, "NICK user3 -> dave|"); /* the small room hears it */
    clear_all((struct fake *[]){&a, &b, &d, &e, NULL});
    chat_unregister(&d.c, "bye", 3, true);
    CHECK_STR(a.log, "");
    CHECK_STR(b.log, "");
    CHECK_STR(e.log, "QUIT dave (bye)|");
    /* Topics are not in the quiet list: the big room hears them. */
    CHECK_EQ(chat_set_topic(&a.c, chat_find_room("big", 3), "t", 1), CHAT_OK);
    CHECK_STR(b.log, "TOPIC user1 #big: t|");
    fini((struct fake *[]){&a, &b, &e, NULL});
}

TEST(quiet_above_zero_silences_all_notices)
{
    struct chat_config c = cfg();
    c.quiet_above = 0;
    chat_init(&c);
    struct fake a, b;
    reg(&a, 1);
    reg(&b, 2);
    join(&a, "lobby");
    join(&b, "lobby");
    CHECK_STR(a.log, "JOIN user1 #lobby|");
    fini((struct fake *[]){&a, &b, NULL});
}

/* ------------------------------------------------------------------------
 * Rooms nobody is in, history memory, and the rate of new rooms
 * ------------------------------------------------------------------------ */

/* Starts the core with c and registers the NULL-terminated fakes, ids 1... */
static void start(const struct chat_config *c, struct fake *const *fs)
{
    chat_init(c);
    for (uint64_t id = 1; *fs; fs++, id++)
        reg(*fs, id);
}

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

/* The bytes a room of history_keep slots with messages of text holds. */
static size_t hist_cost(size_t keep, size_t nmsgs, size_t nick_len,
                        size_t text_len)
{
    return keep * sizeof(struct room_msg *) +
           nmsgs * room_msg_cost(nick_len, text_len);
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
    CHECK_EQ(chat_join(&a.c, "r5", 2, &r), CHAT_ERR_TOO_MANY);
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
    const size_t line = room_msg_cost(5, 100);
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
    CHECK_EQ_MEM(m->data + m->nick_len, m->text_len, "049", 3);
    m = room_history(r, 0);
    CHECK_EQ_MEM(m->data + m->nick_len, m->text_len, "041", 3);
    check_history_bytes();
    /* A message bigger than the budget is still kept, alone. */
    static char huge[4096];
    memset(huge, 'h', sizeof huge);
    struct chat_line line = {huge, sizeof huge};
    chat_say(&a.c, r, &line, 1);
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
    struct room *r = NULL;
    return chat_join(&f->c, name, strlen(name), &r);
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
