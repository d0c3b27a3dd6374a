/*
 * Unit tests for the text protocol (proto_text.c, text_cmd.c): the exact
 * lines of docs/protocol.md, through the real conn module over socketpairs
 * (no listener, no server): each person is one end of a socketpair handed
 * to conn_new, and the test reads and writes the other end.
 */
#include "text/text.h"

#include <sys/socket.h>
#include <unistd.h>

#include "core/chat.h"
#include "event/conn.h"
#include "event/ev.h"
#include "lib/log.h"
#include "unit.h"

#define MAX_PEERS 32

/* The test's end of one connection and what it has received. */
struct peer {
    int fd;
    char got[65536];
    size_t n;
};

static struct ev_loop *loop;
static struct peer peers[MAX_PEERS];
static size_t npeers;

/* Loop hook: what the server does before sleeping. */
static void before_sleep(struct ev_loop *l, void *arg)
{
    (void)l;
    (void)arg;
    conn_before_sleep();
}

/* Timer callback: ends a spin of the loop. */
static void on_spin_end(struct ev_loop *l, struct ev_timer *t)
{
    (void)t;
    ev_stop(l);
}

/* Reads whatever each peer has been sent so far. */
static void collect(void)
{
    for (size_t i = 0; i < npeers; i++) {
        struct peer *p = &peers[i];
        for (;;) {
            ssize_t k = recv(p->fd, p->got + p->n, sizeof p->got - 1 - p->n,
                             MSG_DONTWAIT);
            if (k <= 0)
                break;
            p->n += (size_t)k;
        }
        p->got[p->n] = '\0';
    }
}

/* Runs the loop for a moment, so input is handled and output flushed. */
static void spin(void)
{
    struct ev_timer t = {0};
    ev_timer_start(loop, &t, 40, on_spin_end);
    ev_run(loop);
    ev_timer_stop(loop, &t);
    conn_before_sleep(); /* flush what the last round queued */
    collect();
}

/* Sets up the loop, conn and the chat core with the default settings. */
static void setup(void)
{
    log_set_level(LOG_ERROR); /* no connect/disconnect lines */
    loop = ev_loop_new();
    const struct conn_limits lim = {
        .max_line = 4096,
        .sendq_max = 1 << 20,
        .recvq_max = 16 * 1024,
        .flood_burst = 1000,
        .flood_rate = 0,
        .linger_ms = 50,
    };
    conn_init(loop, &lim, NULL);
    ev_set_before_sleep(loop, before_sleep, NULL);
    const struct chat_config cfg = {
        .history_keep = 100,
        .topic_max = 300,
        .max_rooms = 10000,
        .max_bans = 100,
    };
    chat_init(&cfg);
    const struct text_config tcfg = {.history_replay = 20, .quiet_above = 64};
    text_configure(&tcfg);
    npeers = 0;
}

/* Connects a new person; returns its peer (ids are 1, 2, ...). */
static struct peer *connect_peer(void)
{
    int sv[2];
    if (npeers == MAX_PEERS ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   sv) != 0)
        abort();
    struct peer *p = &peers[npeers++];
    p->fd = sv[1];
    p->n = 0;
    conn_new(sv[0], "127.0.0.1:40000", &text_proto);
    return p;
}

/* Connects n people and forgets what they were sent while connecting. */
static void connect_many(size_t n)
{
    for (size_t i = 0; i < n; i++)
        connect_peer();
    spin();
    for (size_t i = 0; i < npeers; i++)
        peers[i].n = 0;
}

/* Sends raw bytes from p. */
static void send_raw(struct peer *p, const void *s, size_t n)
{
    if (send(p->fd, s, n, MSG_NOSIGNAL) != (ssize_t)n)
        abort();
}

/* Sends one line (CRLF added) from p and lets the server handle it. */
static void say(struct peer *p, const char *line)
{
    send_raw(p, line, strlen(line));
    send_raw(p, "\r\n", 2);
    spin();
}

/* Returns what p received since the last call, and forgets it. */
static const char *take(struct peer *p)
{
    static char last[65536];
    memcpy(last, p->got, p->n + 1);
    p->n = 0;
    p->got[0] = '\0';
    return last;
}

/* Tears everything down (LeakSanitizer checks that nothing is left). */
static void teardown(void)
{
    conn_fini();
    chat_fini();
    for (size_t i = 0; i < npeers; i++)
        close(peers[i].fd);
    ev_loop_free(loop);
}

/* ------------------------------------------------------------------------
 * The line builder
 * ------------------------------------------------------------------------ */

TEST(tbuf_grows_before_writing)
{
    struct tbuf b = {0};
    static char big[5000];
    memset(big, 'b', sizeof big);
    tbuf_str(&b, "[");
    for (size_t i = 0; i < 3; i++) /* crosses the first allocation */
        tbuf_put(&b, big, sizeof big);
    tbuf_put(&b, "]", 1);
    CHECK_EQ(b.n, 2 + 3 * sizeof big);
    CHECK(b.cap >= b.n);
    CHECK(b.p[0] == '[' && b.p[b.n - 1] == ']' && b.p[b.n - 2] == 'b');
    b.n = 0; /* reuse keeps the memory */
    size_t cap = b.cap;
    tbuf_str(&b, "again");
    CHECK_MEM(b.p, b.n, "again");
    CHECK_EQ(b.cap, cap);
    char *at = tbuf_reserve(&b, 0);
    CHECK(at == b.p + 5);
    free(b.p);
}

/* ------------------------------------------------------------------------
 * Connecting
 * ------------------------------------------------------------------------ */

TEST(welcome_lines)
{
    setup();
    struct peer *a = connect_peer();
    spin();
    CHECK_STR(take(a), "* welcome to parley, user1\r\n"
                       "* you are in #lobby (1 person here)\r\n"
                       "* type to talk; /help lists commands; /quit or $exit "
                       "leaves\r\n");
    struct peer *b = connect_peer();
    spin();
    CHECK_STR(take(b), "* welcome to parley, user2\r\n"
                       "* you are in #lobby (2 people here)\r\n"
                       "* type to talk; /help lists commands; /quit or $exit "
                       "leaves\r\n");
    CHECK_STR(take(a), "* user2 joined #lobby\r\n");
    teardown();
}

TEST(welcome_shows_topic_and_history)
{
    setup();
    connect_many(1);
    struct peer *a = &peers[0];
    say(a, "/topic ship it");
    say(a, "hi");
    take(a);
    struct peer *b = connect_peer();
    spin();
    const char *got = take(b);
    /* The history line's time "HH:MM" is the only variable part. */
    const char *h = strstr(got, "---\r\n");
    char hhmm[6] = "";
    if (h && strlen(h) > 10)
        memcpy(hhmm, h + 5, 5);
    char want[512];
    snprintf(want, sizeof want,
             "* welcome to parley, user2\r\n"
             "* you are in #lobby (2 people here)\r\n"
             "* topic: ship it\r\n"
             "* --- last 1 message in #lobby (times in UTC) ---\r\n"
             "%s [user1]: hi\r\n"
             "* --- end of history ---\r\n"
             "* type to talk; /help lists commands; /quit or $exit "
             "leaves\r\n",
             hhmm);
    CHECK_STR(got, want);
    teardown();
}

/* ------------------------------------------------------------------------
 * Messages
 * ------------------------------------------------------------------------ */

TEST(message_formats)
{
    setup();
    connect_many(3);
    struct peer *a = &peers[0], *b = &peers[1], *c = &peers[2];
    say(a, "hello there");
    CHECK_STR(take(a), ""); /* nothing typed is echoed */
    CHECK_STR(take(b), "[user1]: hello there\r\n");
    CHECK_STR(take(c), "[user1]: hello there\r\n");
    say(a, "//slash at the start");
    CHECK_STR(take(b), "[user1]: /slash at the start\r\n");
    CHECK_STR(take(c), "[user1]: /slash at the start\r\n");
    say(a, "/me waves");
    CHECK_STR(take(b), "[* user1] waves\r\n");
    CHECK_STR(take(c), "[* user1] waves\r\n");
    CHECK_STR(take(a), "");
    say(a, "/msg USER2 just you");
    CHECK_STR(take(b), "[user1 -> user2]: just you\r\n");
    CHECK_STR(take(c), "");
    CHECK_STR(take(a), "[user1 -> user2]: just you\r\n"); /* the echo */
    say(a, "/msg user1 to me");
    CHECK_STR(take(a), "[user1 -> user1]: to me\r\n"); /* once */
    CHECK_STR(take(b), "");
    teardown();
}

TEST(input_is_sanitized)
{
    setup();
    connect_many(2);
    struct peer *a = &peers[0], *b = &peers[1];
    /* (0xff would be telnet IAC, removed before sanitizing.) */
    say(a, "\x1b[31mred\x07 \xfe ok \t ");
    CHECK_STR(take(b), "[user1]: [31mred \xef\xbf\xbd ok\r\n");
    say(a, "   ");
    say(a, "\x01\x02");
    CHECK_STR(take(b), ""); /* empty after cleaning: ignored */
    teardown();
}

TEST(line_too_long)
{
    setup();
    connect_many(2);
    struct peer *a = &peers[0], *b = &peers[1];
    static char big[4097];
    memset(big, 'x', sizeof big);
    send_raw(a, big, sizeof big);
    send_raw(a, "\r\nnext\r\n", 8);
    spin();
    CHECK_STR(take(a), "! line too long (max 4096 bytes)\r\n");
    CHECK_STR(take(b), "[user1]: next\r\n");
    teardown();
}

TEST(line_too_long_once_cleaned)
{
    setup();
    connect_many(2);
    struct peer *a = &peers[0], *b = &peers[1];
    static char bad[4096];
    memset(bad, 0x80, sizeof bad); /* 12,288 bytes once cleaned */
    send_raw(a, bad, sizeof bad);
    send_raw(a, "\r\n", 2);
    send_raw(a, bad, 1366); /* 4098 */
    send_raw(a, "\r\n", 2);
    send_raw(a, bad, 1365); /* 4095: fits */
    send_raw(a, "\r\n", 2);
    spin();
    CHECK_STR(take(a), "! line too long once invalid UTF-8 is replaced (max "
                       "4096 bytes)\r\n"
                       "! line too long once invalid UTF-8 is replaced (max "
                       "4096 bytes)\r\n");
    const char *got = take(b);
    CHECK_EQ(strlen(got), 9 + 1365 * 3 + 2);
    CHECK(strncmp(got, "[user1]: \xef\xbf\xbd", 12) == 0);
    teardown();
}

/* ------------------------------------------------------------------------
 * Commands
 * ------------------------------------------------------------------------ */

TEST(command_errors)
{
    setup();
    connect_many(2);
    struct peer *a = &peers[0];
    static const char *const cases[][2] = {
        {"/frobnicate now", "! unknown command: /frobnicate (try /help)"},
        {"/nick", "! usage: /nick NAME"},
        {"/nick a b", "! usage: /nick NAME"},
        {"/nick 9lives", "! invalid nick \"9lives\": 1-32 letters, digits or "
                         "_-[]\\^{}|`, not starting with a digit, - or ["},
        {"/nick [alice]", "! invalid nick \"[alice]\": 1-32 letters, digits "
                          "or _-[]\\^{}|`, not starting with a digit, - or ["},
        {"/nick user2", "! nick \"user2\" is taken"},
        {"/nick user7", "! nick \"user7\" is reserved"},
        {"/join", "! usage: /join ROOM [KEY]"},
        {"/join a b c", "! usage: /join ROOM [KEY]"},
        {"/join #no.dots", "! invalid room name \"no.dots\": 1-32 letters, "
                           "digits, _ or -"},
        {"/join #LOBBY", "! you are already in #lobby"},
        {"/who #nope", "! no such room: #nope"},
        {"/msg", "! usage: /msg NICK TEXT"},
        {"/msg user2", "! usage: /msg NICK TEXT"},
        {"/msg nobody hi", "! no such nick: nobody"},
        {"/me", "! usage: /me TEXT"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        say(a, cases[i][0]);
        char want[512];
        snprintf(want, sizeof want, "%s\r\n", cases[i][1]);
        CHECK_STR(take(a), want);
    }
    CHECK_STR(take(&peers[1]), "");
    teardown();
}

TEST(commands_ignore_case)
{
    setup();
    connect_many(2);
    say(&peers[0], "/NICK alice");
    CHECK_STR(take(&peers[0]), "* you are now alice\r\n");
    CHECK_STR(take(&peers[1]), "* user1 is now alice\r\n");
    say(&peers[0], "/Me nods");
    CHECK_STR(take(&peers[1]), "[* alice] nods\r\n");
    teardown();
}

TEST(join_history_and_leave)
{
    setup();
    connect_many(2);
    struct peer *a = &peers[0], *b = &peers[1];
    say(a, "/join #dev");
    CHECK_STR(take(a), "* you joined #dev (1 person here)\r\n");
    CHECK_STR(take(b), "* user1 left #lobby\r\n");
    say(a, "one");
    say(a, "/me acts"); /* history too */
    say(a, "two");
    say(b, "/join DEV");
    const char *got = take(b);
    /* The time of day is the only variable part: "HH:MM ". */
    char want[512];
    char hhmm[3][6] = {"", "", ""};
    const char *p = strstr(got, "---\r\n");
    for (size_t i = 0; i < 3 && p && strlen(p) > 10; i++) {
        p += i == 0 ? 5 : 2;
        memcpy(hhmm[i], p, 5);
        p = strstr(p, "\r\n");
    }
    snprintf(want, sizeof want,
             "* you joined #dev (2 people here)\r\n"
             "* --- last 3 messages in #dev (times in UTC) ---\r\n"
             "%s [user1]: one\r\n"
             "%s [* user1] acts\r\n"
             "%s [user1]: two\r\n"
             "* --- end of history ---\r\n",
             hhmm[0], hhmm[1], hhmm[2]);
    CHECK_STR(got, want);
    CHECK(hhmm[0][2] == ':' && hhmm[0][0] >= '0' && hhmm[0][0] <= '2');
    CHECK_STR(take(a), "* user2 joined #dev\r\n");
    teardown();
}

TEST(topic_rooms_who)
{
    setup();
    connect_many(2);
    struct peer *a = &peers[0], *b = &peers[1];
    say(a, "/topic");
    CHECK_STR(take(a), "* #lobby has no topic\r\n");
    say(a, "/topic  ship it ");
    CHECK_STR(take(a), "* user1 set the topic of #lobby: ship it\r\n");
    CHECK_STR(take(b), "* user1 set the topic of #lobby: ship it\r\n");
    say(b, "/topic");
    CHECK_STR(take(b), "* topic of #lobby: ship it\r\n");
    say(b, "/join zz");
    take(a);
    take(b);
    say(a, "/rooms");
    CHECK_STR(take(a), "* #lobby: 1 person, topic: ship it\r\n"
                       "* #zz: 1 person\r\n");
    say(a, "/list");
    CHECK_STR(take(a), "* #lobby: 1 person, topic: ship it\r\n"
                       "* #zz: 1 person\r\n");
    say(a, "/who #ZZ"); /* operators are marked: each made the room */
    CHECK_STR(take(a), "* #zz (1 person): @user2\r\n");
    say(a, "/who");
    CHECK_STR(take(a), "* #lobby (1 person): @user1\r\n");
    static char longtopic[7 + 301 + 1];
    memset(longtopic, 't', sizeof longtopic - 1);
    memcpy(longtopic, "/topic ", 7);
    say(a, longtopic); /* 301 bytes of topic */
    CHECK_STR(take(a), "! topic too long (max 300 bytes)\r\n");
    teardown();
}

/* The longest notice there can be: every part at its limit, all delivered. */
TEST(longest_notice_whole)
{
    setup();
    connect_many(2);
    struct peer *a = &peers[0], *b = &peers[1];
    const char *nick = "N234567890123456789012345678901x"; /* 32 */
    const char *room = "R234567890123456789012345678901x";
    char cmd[128];
    snprintf(cmd, sizeof cmd, "/nick %s", nick);
    say(a, cmd);
    snprintf(cmd, sizeof cmd, "/join %s", room);
    say(a, cmd);
    say(b, cmd);
    take(a);
    take(b);
    static char topic[7 + 300 + 1];
    memset(topic, 'T', sizeof topic - 1);
    memcpy(topic, "/topic ", 7);
    say(a, topic);
    static char want[512];
    snprintf(want, sizeof want, "* %s set the topic of #%s: %s\r\n", nick, room,
             topic + 7);
    CHECK_STR(take(b), want);
    CHECK_STR(take(a), want);
    teardown();
}

TEST(who_sorted_and_continued)
{
    setup();
    connect_many(20);
    /* 20 people with 30-character nicks: more than one 400-byte line. */
    for (size_t i = 0; i < 20; i++) {
        char cmd[64]; /* letters in reverse order of connection */
        snprintf(cmd, sizeof cmd, "/nick %c_2345678901234567890123456789",
                 (char)('A' + (19 - i)));
        say(&peers[i], cmd);
    }
    for (size_t i = 0; i < 20; i++)
        peers[i].n = 0;
    say(&peers[0], "/who");
    const char *got = take(&peers[0]);
    CHECK(strncmp(got, "* #lobby (20 people): A_2345", 28) == 0);
    /* Every line fits; continuation lines have their own prefix. */
    size_t lines = 0, names = 0;
    char prev = 0;
    for (const char *p = got; *p;) {
        const char *e = strstr(p, "\r\n");
        REQUIRE(e != NULL);
        size_t len = (size_t)(e - p);
        CHECK(len <= 440);
        if (lines > 0)
            CHECK(strncmp(p, "* #lobby: ", 10) == 0);
        for (const char *q = p; q < e; q++)
            if (q[0] == '_' && q[1] == '2') {
                CHECK(q[-1] > prev); /* sorted */
                prev = q[-1];
                names++;
            }
        lines++;
        p = e + 2;
    }
    CHECK(lines >= 2);
    CHECK_EQ(names, 20);
    teardown();
}

TEST(quit_and_exit)
{
    setup();
    connect_many(3);
    say(&peers[0], "/quit gone fishing");
    CHECK_STR(take(&peers[0]), "* bye\r\n");
    CHECK_STR(take(&peers[1]), "* user1 quit (gone fishing)\r\n");
    CHECK_STR(take(&peers[2]), "* user1 quit (gone fishing)\r\n");
    say(&peers[1], "$EXIT");
    CHECK_STR(take(&peers[1]), "* bye\r\n");
    CHECK_STR(take(&peers[2]), "* user2 quit\r\n");
    /* The server closed both: reading gives EOF. */
    char c;
    CHECK_EQ(recv(peers[0].fd, &c, 1, MSG_DONTWAIT), 0);
    teardown();
}

TEST(hangup_is_connection_closed)
{
    setup();
    connect_many(2);
    send_raw(&peers[0], "last words", 10); /* no line end: still a line */
    shutdown(peers[0].fd, SHUT_WR);
    spin();
    CHECK_STR(take(&peers[1]), "[user1]: last words\r\n"
                               "* user1 quit (connection closed)\r\n");
    teardown();
}

/*
 * The nick bug seen over the wire: a line that needs cleaning (here a
 * control character) is sanitized into a scratch buffer that keeps older,
 * longer lines' bytes after the new line. "/nick user12" then "/nick user1"
 * leaves "user1" followed by a stale "2", and chat_set_nick read it as
 * user12: person 12 took person 1's default nick.
 */
TEST(cannot_take_someone_elses_default_nick)
{
    setup();
    connect_many(12);
    struct peer *first = &peers[0], *twelfth = &peers[11];
    say(first, "/nick alice"); /* user1 is free now, but still reserved */
    take(twelfth);
    say(twelfth, "\x01/nick user12");
    CHECK_STR(take(twelfth), "! you are already user12\r\n");
    say(twelfth, "\x01/nick user1");
    CHECK_STR(take(twelfth), "! nick \"user1\" is reserved\r\n");
    say(twelfth, "/who");
    const char *who = take(twelfth);
    CHECK(strstr(who, "user12") != NULL);
    teardown();
}

TEST(can_take_back_own_default_nick)
{
    setup();
    connect_many(1);
    say(&peers[0], "/nick alice");
    take(&peers[0]);
    say(&peers[0], "\x01/nick user12345"); /* leaves digits in the scratch */
    take(&peers[0]);
    say(&peers[0], "\x01/nick user1");
    CHECK_STR(take(&peers[0]), "* you are now user1\r\n");
    teardown();
}

UNIT_MAIN()
