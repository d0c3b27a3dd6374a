/*
 * Unit tests for mode.c and the moderation in chat.c: operators and
 * voice, the flag modes, bans, invitations, keys, limits and kicks, as
 * the core enforces them for every protocol.
 *
 * The clients are fakes (fake.h) that log every event they get. Each test
 * names its people: alice (the operator, first into the room), bob and
 * carol (members), and dave, who is elsewhere; each has a host of its own.
 */
#include "core/chat.h"

#include "core/room.h"
#include "fake.h"
#include "lib/log.h"
#include "unit.h"

/* The people of a test and #dev, which alice made and bob and carol joined. */
struct cast {
    struct fake alice, bob, carol, dave;
    struct room *dev;
};

/* Starts the core with c, registers the cast and fills #dev; logs empty. */
static void cast_start(struct cast *k, const struct chat_config *c)
{
    static const char *const names[] = {"alice", "bob", "carol", "dave"};
    struct fake *fs[] = {&k->alice, &k->bob, &k->carol, &k->dave};
    log_set_level(LOG_WARN); /* no line per mode change or kick */
    chat_init(c);
    for (size_t i = 0; i < 4; i++) {
        char host[32];
        snprintf(host, sizeof host, "192.0.2.%zu", i + 1);
        reg_nick(fs[i], i + 1, names[i]);
        chat_set_user_host(&fs[i]->c, "~u", host);
    }
    k->dev = join(&k->alice, "dev");
    join(&k->bob, "dev");
    join(&k->carol, "dev");
    join(&k->dave, "lobby");
    clear_all((struct fake *[]){&k->alice, &k->bob, &k->carol, &k->dave, NULL});
}

/* Unregisters the cast and ends the core. */
static void cast_end(struct cast *k)
{
    fini((struct fake *[]){&k->alice, &k->bob, &k->carol, &k->dave, NULL});
}

/* Returns f's status in r (CHAT_OP, CHAT_VOICE), or -1 if not a member. */
static int status(const struct fake *f, const struct room *r)
{
    const struct chat_membership *m = chat_membership(&f->c, r);
    return m ? (int)m->status : -1;
}

/* Applies one mode change as f; returns its error. */
static enum chat_error mode1(struct fake *f, struct room *r, const char *m,
                             const char *arg)
{
    struct chat_mode_change ch = {.add = m[0] == '+',
                                  .mode = m[1],
                                  .arg = arg,
                                  .arg_len = arg ? strlen(arg) : 0};
    size_t applied = chat_set_modes(&f->c, r, &ch, 1);
    CHECK_EQ(applied, ch.err == CHAT_OK);
    return ch.err;
}

/* Returns r's modes as chat_room_modes writes them (with arguments). */
static const char *modes_of(const struct room *r)
{
    static char out[128];
    chat_room_modes(r, true, out, sizeof out);
    return out;
}

/* ------------------------------------------------------------------------
 * Operators
 * ------------------------------------------------------------------------ */

TEST(first_into_an_empty_room_is_its_operator)
{
    struct chat_config c = cfg();
    struct cast k;
    cast_start(&k, &c);
    CHECK_EQ(status(&k.alice, k.dev), CHAT_OP);
    CHECK_EQ(status(&k.bob, k.dev), 0);
    CHECK_EQ(status(&k.carol, k.dev), 0);
    CHECK_EQ(status(&k.dave, k.dev), -1);
    CHECK_EQ(status(&k.dave, chat_find_room("lobby", 5)), CHAT_OP);
    /* The operator leaving makes nobody else one. */
    chat_part(&k.alice.c, k.dev, NULL, 0);
    CHECK_EQ(status(&k.bob, k.dev), 0);
    /* A room emptied but kept (it has history) goes to the next comer. */
    k.bob.room = k.dev;
    CHECK_EQ(say(&k.bob, "kept"), CHAT_OK);
    chat_part(&k.bob.c, k.dev, NULL, 0);
    chat_part(&k.carol.c, k.dev, NULL, 0);
    REQUIRE(chat_find_room("dev", 3) == k.dev);
    join(&k.carol, "dev");
    CHECK_EQ(status(&k.carol, k.dev), CHAT_OP);
    join(&k.alice, "dev");
    CHECK_EQ(status(&k.alice, k.dev), 0);
    cast_end(&k);
}

TEST(op_and_voice)
{
    struct chat_config c = cfg();
    struct cast k;
    cast_start(&k, &c);
    CHECK_EQ(mode1(&k.alice, k.dev, "+o", "BOB"), CHAT_OK);
    CHECK_EQ(status(&k.bob, k.dev), CHAT_OP);
    /* The event names the person as they spell their nick. */
    CHECK_STR(k.carol.log, "MODE alice #dev +o bob|");
    CHECK_STR(k.bob.log, "MODE alice #dev +o bob|");
    CHECK_STR(k.alice.log, "MODE alice #dev +o bob|");
    CHECK_STR(k.dave.log, "");
    /* bob may now do it too; voice adds to the status. */
    CHECK_EQ(mode1(&k.bob, k.dev, "+v", "carol"), CHAT_OK);
    CHECK_EQ(mode1(&k.bob, k.dev, "+v", "bob"), CHAT_OK);
    CHECK_EQ(status(&k.bob, k.dev), CHAT_OP | CHAT_VOICE);
    CHECK_EQ(mode1(&k.bob, k.dev, "-o", "bob"), CHAT_OK);
    CHECK_EQ(status(&k.bob, k.dev), CHAT_VOICE);
    CHECK_EQ(mode1(&k.bob, k.dev, "+o", "bob"), CHAT_ERR_NOT_OP);
    CHECK_EQ(mode1(&k.alice, k.dev, "-v", "carol"), CHAT_OK);
    CHECK_EQ(status(&k.carol, k.dev), 0);
    /* What changes nothing is refused, and told to nobody. */
    clear_all((struct fake *[]){&k.alice, &k.bob, &k.carol, NULL});
    CHECK_EQ(mode1(&k.alice, k.dev, "-v", "carol"), CHAT_ERR_ALREADY);
    CHECK_EQ(mode1(&k.alice, k.dev, "+o", "alice"), CHAT_ERR_ALREADY);
    CHECK_STR(k.carol.log, "");
    cast_end(&k);
}

TEST(mode_event_text_gathers_the_changes)
{
    struct chat_config c = cfg();
    struct cast k;
    cast_start(&k, &c);
    CHECK_EQ(mode1(&k.alice, k.dev, "+v", "carol"), CHAT_OK);
    clear_all((struct fake *[]){&k.alice, &k.bob, &k.carol, NULL});
    struct chat_mode_change ch[] = {
        {.add = true, .mode = 'o', .arg = "bob", .arg_len = 3},
        {.add = false, .mode = 'v', .arg = "Carol", .arg_len = 5},
        {.add = true, .mode = 'x'}, /* unknown: left out */
        {.add = true, .mode = 'n'},
        {.add = true, .mode = 't'},
        {.add = true, .mode = 'k', .arg = "sesame", .arg_len = 6},
        {.add = true, .mode = 'l', .arg = "10", .arg_len = 2},
        {.add = true, .mode = 'b', .arg = "spam", .arg_len = 4},
    };
    CHECK_EQ(chat_set_modes(&k.alice.c, k.dev, ch, 8), 6);
    CHECK_EQ(ch[2].err, CHAT_ERR_UNKNOWN_MODE);
    CHECK_EQ(ch[3].err, CHAT_ERR_ALREADY); /* rooms are made +n */
    const char *want = "MODE alice #dev +o-v+tklb bob carol sesame 10 "
                       "spam!*@*|";
    CHECK_STR(k.bob.log, want);
    CHECK_STR(k.alice.log, want);
    CHECK_EQ(k.bob.nids, 1); /* one event */
    CHECK_STR(modes_of(k.dev), "+ntkl sesame 10");
    char out[64];
    CHECK_EQ(chat_room_modes(k.dev, false, out, sizeof out), 5);
    CHECK_STR(out, "+ntkl");
    /* The example of chat.h. */
    clear(&k.bob);
    CHECK_EQ(mode1(&k.alice, k.dev, "-o", "bob"), CHAT_OK);
    CHECK_EQ(mode1(&k.alice, k.dev, "+v", "bob"), CHAT_OK);
    struct chat_mode_change two[] = {
        {.add = true, .mode = 'o', .arg = "bob", .arg_len = 3},
        {.add = false, .mode = 'v', .arg = "bob", .arg_len = 3},
    };
    clear(&k.bob);
    CHECK_EQ(chat_set_modes(&k.alice.c, k.dev, two, 2), 2);
    CHECK_STR(k.bob.log, "MODE alice #dev +o-v bob bob|");
    cast_end(&k);
}

TEST(flag_modes_each)
{
    struct chat_config c = cfg();
    struct cast k;
    cast_start(&k, &c);
    static const struct {
        char mode;
        unsigned bit;
    } flags[] = {{'i', ROOM_INVITE_ONLY},
                 {'m', ROOM_MODERATED},
                 {'n', ROOM_NO_OUTSIDE},
                 {'s', ROOM_SECRET},
                 {'t', ROOM_TOPIC_LOCK}};
    CHECK_EQ(k.dev->modes, ROOM_NO_OUTSIDE); /* as rooms are made */
    CHECK_EQ(mode1(&k.alice, k.dev, "-n", NULL), CHAT_OK);
    for (size_t i = 0; i < 5; i++) {
        char plus[3] = {'+', flags[i].mode, 0},
             minus[3] = {'-', flags[i].mode, 0};
        char shown[3] = {'+', flags[i].mode, 0}, event[32];
        clear(&k.bob);
        CHECK_EQ(mode1(&k.alice, k.dev, plus, NULL), CHAT_OK);
        CHECK_EQ(k.dev->modes, flags[i].bit);
        CHECK_STR(modes_of(k.dev), shown);
        snprintf(event, sizeof event, "MODE alice #dev %s|", plus);
        CHECK_STR(k.bob.log, event);
        CHECK_EQ(mode1(&k.alice, k.dev, plus, NULL), CHAT_ERR_ALREADY);
        CHECK_EQ(mode1(&k.alice, k.dev, minus, NULL), CHAT_OK);
        CHECK_EQ(k.dev->modes, 0);
        CHECK_EQ(mode1(&k.alice, k.dev, minus, NULL), CHAT_ERR_ALREADY);
    }
    CHECK_STR(modes_of(k.dev), "+");
    cast_end(&k);
}

TEST(mode_errors)
{
    struct chat_config c = cfg();
    struct cast k;
    cast_start(&k, &c);
    struct room *dev = k.dev;
    /* Who may. */
    CHECK_EQ(mode1(&k.dave, dev, "+m", NULL), CHAT_ERR_NOT_MEMBER);
    CHECK_EQ(mode1(&k.bob, dev, "+m", NULL), CHAT_ERR_NOT_OP);
    CHECK_EQ(mode1(&k.bob, dev, "+x", NULL), CHAT_ERR_UNKNOWN_MODE);
    /* Whom. */
    CHECK_EQ(mode1(&k.alice, dev, "+o", "nobody"), CHAT_ERR_NO_NICK);
    CHECK_EQ(mode1(&k.alice, dev, "+v", "dave"), CHAT_ERR_TARGET_OUT);
    /* What. */
    CHECK_EQ(mode1(&k.alice, dev, "+x", NULL), CHAT_ERR_UNKNOWN_MODE);
    CHECK_EQ(mode1(&k.alice, dev, "+O", "bob"), CHAT_ERR_UNKNOWN_MODE);
    struct chat_mode_change nul = {.add = true, .mode = '\0'};
    CHECK_EQ(chat_set_modes(&k.alice.c, dev, &nul, 1), 0);
    CHECK_EQ(nul.err, CHAT_ERR_UNKNOWN_MODE);
    static const char *const need[] = {"+o", "-o", "+v", "-v",
                                       "+b", "-b", "+k", "+l"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        CHECK_EQ(mode1(&k.alice, dev, need[i], NULL), CHAT_ERR_NEED_ARG);
        CHECK_EQ(mode1(&k.alice, dev, need[i], ""), CHAT_ERR_NEED_ARG);
    }
    static const char *const bad_keys[] = {"a b", "a,b", "a:b", "tab\there",
                                           "012345678901234567890123456789012"};
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++)
        CHECK_EQ(mode1(&k.alice, dev, "+k", bad_keys[i]), CHAT_ERR_BAD_ARG);
    CHECK_EQ(mode1(&k.alice, dev, "+k", "01234567890123456789012345678901"),
             CHAT_OK); /* 32 bytes: the longest */
    CHECK_EQ(mode1(&k.alice, dev, "+l", "0"), CHAT_ERR_BAD_ARG);
    CHECK_EQ(mode1(&k.alice, dev, "+l", "x"), CHAT_ERR_BAD_ARG);
    CHECK_EQ(mode1(&k.alice, dev, "+l", "-3"), CHAT_ERR_BAD_ARG);
    CHECK_EQ(mode1(&k.alice, dev, "+b", "a b"), CHAT_ERR_BAD_ARG);
    char huge[200];
    memset(huge, 'x', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    CHECK_EQ(mode1(&k.alice, dev, "+b", huge), CHAT_ERR_BAD_ARG);
    /* Nothing that failed changed anything or told anyone. */
    CHECK_EQ(dev->modes, ROOM_NO_OUTSIDE);
    CHECK_EQ(dev->nbans, 0);
    CHECK_EQ(dev->limit, 0);
    CHECK_STR(k.bob.log,
              "MODE alice #dev +k 01234567890123456789012345678901|");
    cast_end(&k);
}

/* ------------------------------------------------------------------------
 * Bans
 * ------------------------------------------------------------------------ */

TEST(ban_blocks_speech_and_join)
{
    struct chat_config c = cfg();
    struct cast k;
    cast_start(&k, &c);
    CHECK_EQ(mode1(&k.alice, k.dev, "+b", "*!*@192.0.2.2"), CHAT_OK);
    CHECK(chat_is_banned(&k.bob.c, k.dev));
    CHECK(!chat_is_banned(&k.carol.c, k.dev));
    REQUIRE(k.dev->nbans == 1);
    CHECK_STR(k.dev->bans[0].mask, "*!*@192.0.2.2");
    CHECK_STR(k.dev->bans[0].setter, "alice!~u@192.0.2.1");
    CHECK(k.dev->bans[0].when > 0);
    /* Inside, bob may no longer talk; nobody hears, nothing is kept. */
    clear_all((struct fake *[]){&k.alice, &k.carol, NULL});
    CHECK_EQ(chat_may_speak(&k.bob.c, k.dev), CHAT_ERR_MODERATED);
    CHECK_EQ(say(&k.bob, "spam"), CHAT_ERR_MODERATED);
    CHECK_EQ(chat_act(&k.bob.c, k.dev, "spams", 5, NULL, NULL), CHAT_ERR_MODERATED);
    CHECK_STR(k.carol.log, "");
    CHECK_EQ(k.dev->hist_count, 0);
    CHECK_EQ(say(&k.carol, "fine"), CHAT_OK);
    /* Out, he may not come back, with or without a key. */
    chat_part(&k.bob.c, k.dev, NULL, 0);
    CHECK_EQ(try_join_key(&k.bob, "dev", NULL), CHAT_ERR_BANNED);
    CHECK_EQ(try_join_key(&k.bob, "DEV", "x"), CHAT_ERR_BANNED);
    CHECK(!chat_is_member(&k.bob.c, k.dev));
    /* A nick ban follows the nick, in any case; a ban is removed by its
     * mask in any case. */
    CHECK_EQ(mode1(&k.alice, k.dev, "+b", "CAROL"), CHAT_OK);
    CHECK_STR(k.dev->bans[1].mask, "CAROL!*@*");
    CHECK(chat_is_banned(&k.carol.c, k.dev));
    CHECK_EQ(mode1(&k.alice, k.dev, "+b", "carol!*@*"), CHAT_ERR_ALREADY);
    CHECK_EQ(mode1(&k.alice, k.dev, "-b", "carol!*@*"), CHAT_OK);
    CHECK(!chat_is_banned(&k.carol.c, k.dev));
    CHECK_EQ(mode1(&k.alice, k.dev, "-b", "carol"), CHAT_ERR_ALREADY);
    /* Unbanned, bob is welcome again. */
    CHECK_EQ(mode1(&k.alice, k.dev, "-b", "*!*@192.0.2.2"), CHAT_OK);
    CHECK_EQ(k.dev->nbans, 0);
    CHECK_EQ(try_join_key(&k.bob, "dev", NULL), CHAT_OK);
    cast_end(&k);
}

TEST(ops_and_voiced_talk_through_a_ban)
{
    struct chat_config c = cfg();
    struct cast k;
    cast_start(&k, &c);
    CHECK_EQ(mode1(&k.alice, k.dev, "+b", "*!*@*"), CHAT_OK);
    CHECK_EQ(mode1(&k.alice, k.dev, "+v", "bob"), CHAT_OK);
    CHECK(chat_is_banned(&k.alice.c, k.dev));
    CHECK_EQ(chat_may_speak(&k.alice.c, k.dev), CHAT_OK);
    CHECK_EQ(chat_may_speak(&k.bob.c, k.dev), CHAT_OK);
    CHECK_EQ(chat_may_speak(&k.carol.c, k.dev), CHAT_ERR_MODERATED);
    CHECK_EQ(chat_may_speak(&k.dave.c, k.dev), CHAT_ERR_NOT_MEMBER);
    cast_end(&k);
}

TEST(ban_list_is_bounded_and_keeps_an_empty_room)
{
    struct chat_config c = cfg();
    c.max_bans = 3;
    struct cast k;
    cast_start(&k, &c);
    CHECK_EQ(mode1(&k.alice, k.dev, "+b", "a"), CHAT_OK);
    CHECK_EQ(mode1(&k.alice, k.dev, "+b", "b"), CHAT_OK);
    CHECK_EQ(mode1(&k.alice, k.dev, "+b", "c"), CHAT_OK);
    CHECK_EQ(mode1(&k.alice, k.dev, "+b", "d"), CHAT_ERR_LIST_FULL);
    CHECK_EQ(k.dev->nbans, 3);
    CHECK_EQ(mode1(&k.alice, k.dev, "-b", "b"), CHAT_OK);
    CHECK_STR(k.dev->bans[0].mask, "a!*@*"); /* the order is kept */
    CHECK_STR(k.dev->bans[1].mask, "c!*@*");
    CHECK_EQ(mode1(&k.alice, k.dev, "+b", "d"), CHAT_OK);
    /* With no history and no topic, the bans alone keep the room. */
    chat_part(&k.alice.c, k.dev, NULL, 0);
    chat_part(&k.bob.c, k.dev, NULL, 0);
    chat_part(&k.carol.c, k.dev, NULL, 0);
    REQUIRE(chat_find_room("dev", 3) == k.dev);
    CHECK_EQ(k.dev->nbans, 3);
    cast_end(&k);
}

/* ------------------------------------------------------------------------
 * Moderated rooms, topics
 * ------------------------------------------------------------------------ */

TEST(moderated_room_hears_ops_and_voiced_only)
{
    struct chat_config c = cfg();
    struct cast k;
    cast_start(&k, &c);
    CHECK_EQ(mode1(&k.alice, k.dev, "+m", NULL), CHAT_OK);
    CHECK_EQ(mode1(&k.alice, k.dev, "+v", "bob"), CHAT_OK);
    clear_all((struct fake *[]){&k.alice, &k.bob, &k.carol, NULL});
    CHECK_EQ(say(&k.alice, "op"), CHAT_OK);
    CHECK_EQ(say(&k.bob, "voiced"), CHAT_OK);
    CHECK_EQ(say(&k.carol, "nobody"), CHAT_ERR_MODERATED);
    CHECK_EQ(chat_act(&k.carol.c, k.dev, "waves", 5, NULL, NULL), CHAT_ERR_MODERATED);
    CHECK_STR(k.carol.log, "MSG alice #dev: op|MSG bob #dev: voiced|");
    CHECK_STR(k.alice.log, "MSG bob #dev: voiced|");
    CHECK_EQ(k.dev->hist_count, 2);
    CHECK_EQ(mode1(&k.alice, k.dev, "-m", NULL), CHAT_OK);
    CHECK_EQ(say(&k.carol, "free"), CHAT_OK);
    cast_end(&k);
}

TEST(topic_lock)
{
    struct chat_config c = cfg();
    struct cast k;
    cast_start(&k, &c);
    CHECK_EQ(chat_set_topic(&k.bob.c, k.dev, "anyone", 6), CHAT_OK);
    CHECK_EQ(mode1(&k.alice, k.dev, "+t", NULL), CHAT_OK);
    CHECK_EQ(chat_set_topic(&k.bob.c, k.dev, "mine", 4), CHAT_ERR_NOT_OP);
    CHECK_STR(k.dev->topic, "anyone");
    CHECK_EQ(chat_set_topic(&k.alice.c, k.dev, "ops", 3), CHAT_OK);
    CHECK_STR(k.dev->topic_by, "alice!~u@192.0.2.1");
    CHECK_EQ(chat_set_topic(&k.dave.c, k.dev, "out", 3), CHAT_ERR_NOT_MEMBER);
    cast_end(&k);
}

/* ------------------------------------------------------------------------
 * Keys, limits, invitations
 * ------------------------------------------------------------------------ */

TEST(key_and_limit)
{
    struct chat_config c = cfg();
    struct cast k;
    cast_start(&k, &c);
    CHECK_EQ(mode1(&k.alice, k.dev, "+k", "sesame"), CHAT_OK);
    CHECK_EQ(try_join_key(&k.dave, "dev", NULL), CHAT_ERR_BAD_KEY);
    CHECK_EQ(try_join_key(&k.dave, "dev", "Sesame"), CHAT_ERR_BAD_KEY);
    CHECK_EQ(try_join_key(&k.dave, "dev", "sesam"), CHAT_ERR_BAD_KEY);
    CHECK_EQ(try_join_key(&k.dave, "dev", "sesame"), CHAT_OK);
    chat_part(&k.dave.c, k.dev, NULL, 0);
    /* -k takes an argument, as in IRC, which it ignores. */
    CHECK_EQ(mode1(&k.alice, k.dev, "-k", "whatever"), CHAT_OK);
    CHECK(k.dev->key == NULL);
    CHECK_EQ(mode1(&k.alice, k.dev, "-k", "x"), CHAT_ERR_ALREADY);
    /* A limit counts everyone inside. */
    CHECK_EQ(mode1(&k.alice, k.dev, "+l", "3"), CHAT_OK);
    CHECK_EQ(try_join_key(&k.dave, "dev", NULL), CHAT_ERR_FULL);
    chat_part(&k.carol.c, k.dev, NULL, 0);
    CHECK_EQ(try_join_key(&k.dave, "dev", NULL), CHAT_OK);
    CHECK_EQ(try_join_key(&k.carol, "dev", NULL), CHAT_ERR_FULL);
    CHECK_EQ(mode1(&k.alice, k.dev, "-l", NULL), CHAT_OK);
    CHECK_EQ(mode1(&k.alice, k.dev, "-l", NULL), CHAT_ERR_ALREADY);
    CHECK_EQ(try_join_key(&k.carol, "dev", NULL), CHAT_OK);
    cast_end(&k);
}

TEST(invite_lets_in_once)
{
    struct chat_config c = cfg();
    struct cast k;
    cast_start(&k, &c);
    CHECK_EQ(mode1(&k.alice, k.dev, "+o", "carol"), CHAT_OK);
    CHECK_EQ(mode1(&k.alice, k.dev, "+i", NULL), CHAT_OK);
    CHECK_EQ(try_join_key(&k.dave, "dev", NULL), CHAT_ERR_INVITE_ONLY);
    /* Only operators invite into a +i room, and only from inside. */
    CHECK_EQ(chat_invite(&k.bob.c, k.dev, &k.dave.c), CHAT_ERR_NOT_OP);
    CHECK_EQ(chat_invite(&k.dave.c, k.dev, &k.dave.c), CHAT_ERR_NOT_MEMBER);
    CHECK_EQ(chat_invite(&k.alice.c, k.dev, &k.bob.c), CHAT_ERR_ALREADY);
    clear_all((struct fake *[]){&k.alice, &k.bob, &k.carol, &k.dave, NULL});
    CHECK_EQ(chat_invite(&k.alice.c, k.dev, &k.dave.c), CHAT_OK);
    /* The invited and the room's operators hear of it, nobody else. */
    CHECK_STR(k.dave.log, "INVITE alice #dev dave|");
    CHECK_STR(k.alice.log, "INVITE alice #dev dave|");
    CHECK_STR(k.carol.log, "INVITE alice #dev dave|");
    CHECK_STR(k.bob.log, "");
    CHECK_EQ(chat_invite(&k.alice.c, k.dev, &k.dave.c), CHAT_OK); /* again */
    CHECK_EQ(k.dev->ninvited, 1);
    CHECK_EQ(try_join_key(&k.dave, "dev", NULL), CHAT_OK);
    CHECK_EQ(k.dev->ninvited, 0);
    chat_part(&k.dave.c, k.dev, NULL, 0);
    CHECK_EQ(try_join_key(&k.dave, "dev", NULL), CHAT_ERR_INVITE_ONLY);
    /* An operator's invitation into a +i room gets past a ban too, but
     * not past a key. */
    CHECK_EQ(mode1(&k.alice, k.dev, "+b", "dave"), CHAT_OK);
    CHECK_EQ(chat_invite(&k.alice.c, k.dev, &k.dave.c), CHAT_OK);
    CHECK_EQ(mode1(&k.alice, k.dev, "+k", "key"), CHAT_OK);
    CHECK_EQ(try_join_key(&k.dave, "dev", NULL), CHAT_ERR_BAD_KEY);
    CHECK_EQ(try_join_key(&k.dave, "dev", "key"), CHAT_OK);
    chat_part(&k.dave.c, k.dev, NULL, 0);
    /* Without +i anyone inside may invite, but that is only a notice: it
     * keeps nothing, so it lets no banned person back in. */
    CHECK_EQ(mode1(&k.alice, k.dev, "-i", NULL), CHAT_OK);
    CHECK_EQ(chat_invite(&k.bob.c, k.dev, &k.dave.c), CHAT_OK);
    CHECK_EQ(k.dev->ninvited, 0);
    CHECK_EQ(try_join_key(&k.dave, "dev", "key"), CHAT_ERR_BANNED);
    cast_end(&k);
}

TEST(empty_invite_only_room_lets_its_next_operator_in)
{
    /* Kept for its topic with nobody inside, a +i room has nobody to
     * invite anyone: the first to come is let in (and is its operator);
     * the room stays invite-only for those after. */
    struct chat_config c = cfg();
    struct cast k;
    cast_start(&k, &c);
    CHECK_EQ(chat_set_topic(&k.alice.c, k.dev, "private", 7), CHAT_OK);
    CHECK_EQ(mode1(&k.alice, k.dev, "+i", NULL), CHAT_OK);
    chat_part(&k.alice.c, k.dev, NULL, 0);
    chat_part(&k.bob.c, k.dev, NULL, 0);
    chat_part(&k.carol.c, k.dev, NULL, 0);
    REQUIRE(chat_find_room("dev", 3) == k.dev);
    CHECK_EQ(try_join_key(&k.dave, "dev", NULL), CHAT_OK);
    CHECK_EQ(status(&k.dave, k.dev), CHAT_OP);
    CHECK(k.dev->modes & ROOM_INVITE_ONLY);
    CHECK_EQ(try_join_key(&k.bob, "dev", NULL), CHAT_ERR_INVITE_ONLY);
    cast_end(&k);
}

TEST(invite_list_is_bounded)
{
    struct chat_config c = cfg();
    c.max_bans = 1;
    struct cast k;
    cast_start(&k, &c);
    chat_part(&k.carol.c, k.dev, NULL, 0);
    CHECK_EQ(mode1(&k.alice, k.dev, "+i", NULL), CHAT_OK);
    CHECK_EQ(chat_invite(&k.alice.c, k.dev, &k.dave.c), CHAT_OK);
    CHECK_EQ(chat_invite(&k.alice.c, k.dev, &k.carol.c), CHAT_ERR_LIST_FULL);
    CHECK_EQ(try_join_key(&k.dave, "dev", NULL), CHAT_OK); /* used up */
    CHECK_EQ(chat_invite(&k.alice.c, k.dev, &k.carol.c), CHAT_OK);
    cast_end(&k);
}

/* ------------------------------------------------------------------------
 * Kicks
 * ------------------------------------------------------------------------ */

TEST(kick_puts_out_and_tells_the_room)
{
    struct chat_config c = cfg();
    struct cast k;
    cast_start(&k, &c);
    CHECK_EQ(chat_kick(&k.alice.c, k.dev, &k.bob.c, "spam", 4), CHAT_OK);
    CHECK_STR(k.alice.log, "KICK alice #dev bob (spam)|");
    CHECK_STR(k.bob.log, "KICK alice #dev bob (spam)|");
    CHECK_STR(k.carol.log, "KICK alice #dev bob (spam)|");
    CHECK_STR(k.dave.log, "");
    CHECK(!chat_is_member(&k.bob.c, k.dev));
    CHECK_EQ(k.bob.c.nrooms, 0);
    CHECK_EQ(k.dev->nmembers, 2);
    for (size_t i = 0; i < k.dev->nmembers; i++) {
        const struct client *m = k.dev->members[i];
        CHECK_EQ(chat_membership(m, k.dev)->slot, i);
    }
    /* A kick is no ban: bob may come back. */
    CHECK_EQ(try_join_key(&k.bob, "dev", NULL), CHAT_OK);
    /* Refused kicks tell nobody. */
    clear_all((struct fake *[]){&k.alice, &k.bob, &k.carol, NULL});
    CHECK_EQ(chat_kick(&k.bob.c, k.dev, &k.carol.c, NULL, 0), CHAT_ERR_NOT_OP);
    CHECK_EQ(chat_kick(&k.dave.c, k.dev, &k.carol.c, NULL, 0),
             CHAT_ERR_NOT_MEMBER);
    CHECK_EQ(chat_kick(&k.alice.c, k.dev, &k.dave.c, NULL, 0),
             CHAT_ERR_TARGET_OUT);
    CHECK_STR(k.carol.log, "");
    CHECK_EQ(k.dev->nmembers, 3);
    cast_end(&k);
}

TEST(kicking_the_last_one_out_frees_the_room)
{
    struct chat_config c = cfg();
    struct cast k;
    cast_start(&k, &c);
    chat_part(&k.bob.c, k.dev, NULL, 0);
    chat_part(&k.carol.c, k.dev, NULL, 0);
    clear(&k.alice);
    CHECK_EQ(chat_kick(&k.alice.c, k.dev, &k.alice.c, NULL, 0), CHAT_OK);
    CHECK_STR(k.alice.log, "KICK alice #dev alice ()|");
    CHECK(chat_find_room("dev", 3) == NULL); /* no history: gone */
    CHECK_EQ(chat_room_count(), 1);
    cast_end(&k);
}

UNIT_MAIN()
