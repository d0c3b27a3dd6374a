/*
 * Unit tests for sban.c: what an operator may type as a ban (addresses,
 * networks, masks, durations), the list (add, replace, remove, limit),
 * matching an address at accept, expiry by the clock, the observer a
 * durable store would use, and the config file's bans.
 */
#include "core/sban.h"

#include "core/chat.h"

#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* Parses target into b; returns false if it is refused. */
static bool parse(const char *target, struct sban *b)
{
    memset(b, 0, sizeof *b);
    return sban_parse(target, strlen(target), b);
}

/* Adds a ban on target with a reason and expiry (0: never). */
static enum sban_result ban(const char *target, const char *reason,
                            int64_t expires)
{
    struct sban b;
    if (!parse(target, &b))
        abort(); /* a test's own ban must parse */
    snprintf(b.reason, sizeof b.reason, "%s", reason);
    snprintf(b.by, sizeof b.by, "boss");
    b.expires = expires;
    return sban_add(&b);
}

static int64_t fake_now = 1000000;

static int64_t fake_clock(void)
{
    return fake_now;
}

TEST(addresses_and_networks_are_canonical)
{
    struct sban b;
    CHECK(parse("192.0.2.7", &b) && b.kind == SBAN_ADDR);
    CHECK_STR(b.mask, "192.0.2.7");
    CHECK(parse("10.1.2.3/8", &b));
    CHECK_STR(b.mask, "10.0.0.0/8");
    CHECK(parse("10.1.2.3/20", &b));
    CHECK_STR(b.mask, "10.1.0.0/20");
    CHECK(parse("2001:DB8:0:0::1/32", &b));
    CHECK_STR(b.mask, "2001:db8::/32");
    CHECK(parse("::1", &b) && b.bits == 128);
    CHECK(!parse("10.0.0.0/33", &b));
    CHECK(!parse("10.0.0.0/", &b));
    CHECK(!parse("10.0.0.0/+8", &b));
    CHECK(!parse("0.0.0.0/0", &b)); /* everyone */
    CHECK(!parse("::/0", &b));
}

TEST(masks_are_normalized)
{
    struct sban b;
    CHECK(parse("bob@host.example", &b) && b.kind == SBAN_MASK);
    CHECK_STR(b.mask, "*!bob@host.example");
    CHECK(parse("spammer", &b));
    CHECK_STR(b.mask, "spammer!*@*");
    CHECK(parse("*!*@10.0.0.*", &b));
    CHECK_STR(b.mask, "*!*@10.0.0.*");
    CHECK(!parse("*!*@*", &b)); /* everyone */
    CHECK(!parse("*", &b));
    CHECK(!parse("a b", &b));
    CHECK(!parse("", &b));
}

TEST(durations)
{
    int64_t s = 0;
    CHECK(sban_parse_duration("90", 2, &s) && s == 90 * 60); /* minutes */
    CHECK(sban_parse_duration("30s", 3, &s) && s == 30);
    CHECK(sban_parse_duration("2h", 2, &s) && s == 7200);
    CHECK(sban_parse_duration("7d", 2, &s) && s == 7 * 86400);
    CHECK(sban_parse_duration("1W", 2, &s) && s == 604800);
    CHECK(!sban_parse_duration("0", 1, &s));
    CHECK(!sban_parse_duration("h", 1, &s));
    CHECK(!sban_parse_duration("5x", 2, &s));
    CHECK(!sban_parse_duration("5hh", 3, &s));
    CHECK(!sban_parse_duration("999999999999w", 13, &s));
    CHECK(!sban_parse_duration("spam", 4, &s));
}

TEST(networks_match_their_addresses)
{
    CHECK_EQ(ban("192.0.2.0/24", "spam", 0), SBAN_ADDED);
    CHECK_EQ(ban("2001:db8::/32", "", 0), SBAN_ADDED);
    CHECK_EQ(ban("*!*@198.51.100.*", "by mask", 0), SBAN_ADDED);
    CHECK_EQ(ban("bob!*@*", "a nick", 0), SBAN_ADDED);
    const struct sban *b = sban_match_host("192.0.2.200");
    REQUIRE(b != NULL);
    CHECK_STR(b->reason, "spam");
    CHECK(sban_match_host("192.0.3.1") == NULL);
    CHECK(sban_match_host("::ffff:192.0.2.9") != NULL);
    CHECK(sban_match_host("2001:db8:ffff::1") != NULL);
    CHECK(sban_match_host("2001:db9::1") == NULL);
    b = sban_match_host("198.51.100.4");
    REQUIRE(b != NULL);
    CHECK_STR(b->reason, "by mask");
    CHECK(sban_match_host("127.0.0.1") == NULL); /* a nick is not a host */
    sban_fini();
}

TEST(same_mask_replaces_and_removal)
{
    CHECK_EQ(ban("10.1.2.3/8", "first", 0), SBAN_ADDED);
    CHECK_EQ(ban("10.0.0.0/8", "second", 0), SBAN_UPDATED);
    CHECK_EQ(sban_count(), 1);
    CHECK_STR(sban_match_host("10.9.9.9")->reason, "second");
    CHECK(!sban_del("10.0.0.0/9", 10));
    CHECK(sban_del("10.200.0.0/8", 12)); /* the same network */
    CHECK_EQ(sban_count(), 0);
    CHECK(!sban_del("junk here", 9));
    sban_fini();
}

TEST(at_most_sban_max)
{
    char target[32];
    for (int i = 0; i < SBAN_MAX; i++) {
        snprintf(target, sizeof target, "10.%d.%d.1", i / 256, i % 256);
        REQUIRE(ban(target, "", 0) == SBAN_ADDED);
    }
    CHECK_EQ(ban("192.0.2.1", "", 0), SBAN_FULL);
    CHECK_EQ(ban("10.0.0.1", "again", 0), SBAN_UPDATED);
    sban_fini();
}

/* Records what the observer was told. */
static char told[256];

static void observe(const struct sban *b, bool added, void *arg)
{
    (void)arg;
    size_t n = strlen(told);
    snprintf(told + n, sizeof told - n, "%c%s ", added ? '+' : '-', b->mask);
}

TEST(bans_expire_and_the_observer_hears)
{
    sban_set_clock(fake_clock);
    sban_set_observer(observe, NULL);
    CHECK_EQ(ban("192.0.2.1", "short", fake_now + 60), SBAN_ADDED);
    CHECK_EQ(ban("bob", "forever", 0), SBAN_ADDED);
    CHECK(sban_match_host("192.0.2.1") != NULL);
    fake_now += 59;
    CHECK(sban_match_host("192.0.2.1") != NULL);
    fake_now += 1;
    CHECK(sban_match_host("192.0.2.1") == NULL);
    CHECK_EQ(sban_count(), 1);
    CHECK(sban_del("bob", 3));
    CHECK_STR(told, "+192.0.2.1 +bob!*@* -192.0.2.1 -bob!*@* ");
    sban_set_observer(NULL, NULL);
    sban_set_clock(NULL);
    sban_fini();
}

TEST(nick_masks_hold_for_a_new_nick)
{
    CHECK_EQ(ban("spam*", "spammers", 0), SBAN_ADDED);
    CHECK_EQ(ban("*!~text@192.0.2.1", "that host's text users", 0),
             SBAN_ADDED);
    struct client c = {0};
    strcpy(c.nick, "alice");
    c.nick_len = 5;
    strcpy(c.user, "~alice");
    strcpy(c.host, "198.51.100.1");
    const struct sban *b = sban_match_nick(&c, "spammer", 7);
    REQUIRE(b != NULL);
    CHECK_STR(b->reason, "spammers");
    CHECK(sban_match_nick(&c, "bob", 3) == NULL);
    CHECK(sban_match_person(&c) == NULL);
    strcpy(c.user, "~text");
    strcpy(c.host, "192.0.2.1");
    CHECK(sban_match_nick(&c, "bob", 3) != NULL);
    CHECK(sban_match_person(&c) != NULL);
    c.oper = "boss"; /* operators take any nick */
    CHECK(sban_match_nick(&c, "spammer", 7) == NULL);
    sban_fini();
}

/* Reads config ban spec into b; returns false (why in err) if refused. */
static bool config_ban(const char *spec, struct sban *b, char err[200])
{
    return sban_parse_config(spec, b, err, 200);
}

TEST(config_bans_are_read_as_mask_then_reason)
{
    struct sban b;
    char err[200];
    CHECK(config_ban("10.1.2.3/8 spam bots", &b, err));
    CHECK_STR(b.mask, "10.0.0.0/8");
    CHECK_STR(b.reason, "spam bots");
    CHECK_STR(b.by, "config");
    CHECK(b.config && b.expires == 0);
    CHECK(config_ban("*!*@*.example.net", &b, err) && b.reason[0] == '\0');
    CHECK(!config_ban("0.0.0.0/0 everyone", &b, err));
    CHECK(strstr(err, "\"0.0.0.0/0\" is not an address") != NULL);
    CHECK(!config_ban("10.0.0.0/8 2h spam", &b, err));
    CHECK(strstr(err, "do not expire") != NULL);
    CHECK(!config_ban("10.0.0.0/8 a\x1b[2Jb", &b, err));
    CHECK(!config_ban("10.0.0.0/8 \xff", &b, err));
    CHECK(config_ban("10.0.0.0/8 h\xc3\xa9llo", &b, err));
    char long_reason[SBAN_REASON_MAX + 16] = "10.0.0.0/8 ";
    memset(long_reason + 11, 'x', SBAN_REASON_MAX + 1);
    CHECK(!config_ban(long_reason, &b, err));
}

TEST(config_bans_follow_the_file_and_operators_cannot_touch_them)
{
    struct sban v[2];
    char err[200];
    /* A new config ban puts out those it matches: here, nobody. */
    struct chat_config cc = {.topic_max = 300, .max_rooms = 100};
    chat_init(&cc);
    told[0] = '\0';
    sban_set_observer(observe, NULL);
    CHECK_EQ(ban("192.0.2.1", "by hand", 0), SBAN_ADDED);
    CHECK_EQ(ban("198.51.100.0/24", "by hand too", 0), SBAN_ADDED);
    REQUIRE(config_ban("192.0.2.1 from the file", &v[0], err));
    REQUIRE(config_ban("bob spammer", &v[1], err));
    sban_config_apply(v, 2);
    CHECK_EQ(sban_count(), 3);
    CHECK(sban_from_config("192.0.2.1") && sban_from_config("bob!*@*"));
    CHECK(!sban_from_config("198.51.100.0/24"));
    /* The operator's ban on 192.0.2.1 gave way; the store heard that only. */
    CHECK_STR(told, "+192.0.2.1 +198.51.100.0/24 -192.0.2.1 ");
    CHECK_EQ(ban("192.0.2.1", "mine again", 0), SBAN_CONFIG);
    CHECK(!sban_del("bob", 3));
    CHECK_STR(sban_match_host("192.0.2.1")->reason, "from the file");
    /* A reload with one reason changed and one line gone. */
    REQUIRE(config_ban("192.0.2.1 new reason", &v[0], err));
    sban_config_apply(v, 1);
    CHECK_STR(sban_match_host("192.0.2.1")->reason, "new reason");
    CHECK(!sban_from_config("bob!*@*"));
    CHECK_EQ(sban_count(), 2);
    sban_config_apply(NULL, 0);
    CHECK(sban_match_host("192.0.2.1") == NULL);
    CHECK(sban_match_host("198.51.100.7") != NULL); /* the operator's stays */
    CHECK_STR(told, "+192.0.2.1 +198.51.100.0/24 -192.0.2.1 ");
    sban_set_observer(NULL, NULL);
    sban_fini();
    chat_fini();
}

UNIT_MAIN()
