/*
 * Unit tests for config.c: defaults, every flag, and bad values.
 */
#include "config.h"
#include "config_int.h"

#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#include "unit.h"

#define MAX_ARGS 64

/* What one config_parse call returned and printed. */
struct parsed {
    enum config_result rc;
    char out[8192]; /* stdout */
    char err[2048]; /* stderr */
};

/* Reads what fd holds (from the start) into buf, NUL-terminated. */
static void slurp(int fd, char *buf, size_t size)
{
    size_t n = 0;
    lseek(fd, 0, SEEK_SET);
    for (;;) {
        ssize_t k = read(fd, buf + n, size - 1 - n);
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    buf[n] = '\0';
}

/*
 * Runs config_parse on "parleyd" plus the NULL-terminated arguments, with
 * stdout and stderr captured into p.
 */
static void parse(struct config *cfg, struct parsed *p, ...)
{
    char *argv[MAX_ARGS + 2], *owned[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = strdup("parleyd");
    va_list ap;
    va_start(ap, p);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && argc <= MAX_ARGS)
        argv[argc++] = strdup(a);
    va_end(ap);
    argv[argc] = NULL;
    memcpy(owned, argv, sizeof argv[0] * (size_t)argc);

    char outname[] = "/tmp/unit-config-out-XXXXXX";
    char errname[] = "/tmp/unit-config-err-XXXXXX";
    int outfd = mkstemp(outname), errfd = mkstemp(errname);
    unlink(outname);
    unlink(errname);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    dup2(outfd, 1);
    dup2(errfd, 2);
    p->rc = config_parse(cfg, argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    slurp(outfd, p->out, sizeof p->out);
    slurp(errfd, p->err, sizeof p->err);
    close(outfd);
    close(errfd);
    for (int i = 0; i < argc; i++)
        free(owned[i]);
}

/* Expects CONFIG_ERROR and a message on stderr that mentions what. */
static void check_error(struct parsed *p, const char *what)
{
    CHECK_EQ(p->rc, CONFIG_ERROR);
    CHECK(p->err[0] != '\0');
    if (strstr(p->err, what) == NULL) {
        printf("    stderr does not mention \"%s\":\n", what);
        CHECK_STR(p->err, what);
    }
}

TEST(defaults)
{
    struct config cfg;
    struct parsed p;
    parse(&cfg, &p, NULL);
    CHECK_EQ(p.rc, CONFIG_RUN);
    CHECK_STR(p.err, "");
    CHECK_STR(p.out, "");
    CHECK_EQ(cfg.max_line, CONFIG_MAX_LINE);
    CHECK_EQ(cfg.max_line, 4096);
    CHECK_EQ(cfg.history, 20);
    CHECK_EQ(cfg.history_keep, 100);
    CHECK_EQ(cfg.flood_burst, 20);
    CHECK_EQ(cfg.flood_rate, 10);
    CHECK_EQ(cfg.sendq_max, 1024 * 1024);
    CHECK_EQ(cfg.max_clients, 0);
    CHECK_EQ(cfg.max_per_ip, 16);
    CHECK_EQ(cfg.ipv4_prefix, 32);
    CHECK_EQ(cfg.ipv6_prefix, 64);
    CHECK(!cfg.limit_loopback);
    CHECK_EQ(cfg.quiet_above, 64);
    CHECK_EQ(cfg.topic_max, 300);
    CHECK_EQ(cfg.max_rooms, CONFIG_MAX_ROOMS);
    CHECK_EQ(cfg.history_mem, 64 * 1024 * 1024);
    CHECK_EQ(cfg.room_burst, 5);
    CHECK_EQ(cfg.room_rate, 2);
    CHECK_EQ(cfg.room_burst_ip, 20);
    CHECK_EQ(cfg.room_rate_ip, 10);
    CHECK_EQ(cfg.shutdown_timeout, 3);
    CHECK_EQ(cfg.keepalive, 60);
    CHECK_EQ(cfg.log_level, LOG_INFO);
    CHECK_EQ(cfg.ping_interval, 120);
    CHECK_EQ(cfg.max_bans, 100);
    REQUIRE(cfg.nlisten == 8);
    static const char *const want[8][3] = {
        {"telnet", "0.0.0.0", "3030"}, {"telnet", "::", "3030"},
        {"text", "0.0.0.0", "3031"},   {"text", "::", "3031"},
        {"irc", "0.0.0.0", "6667"},    {"irc", "::", "6667"},
        {"http", "0.0.0.0", "8080"},   {"http", "::", "8080"},
    };
    CHECK_STR(cfg.web_root, "web");
    for (size_t i = 0; i < 8; i++) {
        CHECK_STR(cfg.listen[i].scheme, want[i][0]);
        CHECK_STR(cfg.listen[i].host, want[i][1]);
        CHECK_STR(cfg.listen[i].port, want[i][2]);
    }
}

TEST(each_numeric_flag)
{
    struct config cfg;
    struct parsed p;
    parse(&cfg, &p, "--max-line", "100", "--history", "5", "--history-keep",
          "7", "--flood-burst", "3", "--flood-rate", "0", "--sendq-max",
          "2048", "--max-clients", "10", "--max-per-ip", "0", "--quiet-above",
          "9", "--topic-max", "42", "--max-rooms", "11", "--shutdown-timeout",
          "0", "--ipv4-prefix", "24", "--ipv6-prefix", "48", "--keepalive",
          "0", "--history-mem", "0", "--room-burst", "2", "--room-rate", "3",
          "--room-burst-per-ip", "4", "--room-rate-per-ip", "0", NULL);
    CHECK_EQ(p.rc, CONFIG_RUN);
    CHECK_STR(p.err, "");
    CHECK_EQ(cfg.max_line, 100);
    CHECK_EQ(cfg.history, 5);
    CHECK_EQ(cfg.history_keep, 7);
    CHECK_EQ(cfg.flood_burst, 3);
    CHECK_EQ(cfg.flood_rate, 0);
    CHECK_EQ(cfg.sendq_max, 2048);
    CHECK_EQ(cfg.max_clients, 10);
    CHECK_EQ(cfg.max_per_ip, 0);
    CHECK_EQ(cfg.quiet_above, 9);
    CHECK_EQ(cfg.topic_max, 42);
    CHECK_EQ(cfg.max_rooms, 11);
    CHECK_EQ(cfg.shutdown_timeout, 0);
    CHECK_EQ(cfg.ipv4_prefix, 24);
    CHECK_EQ(cfg.ipv6_prefix, 48);
    CHECK_EQ(cfg.keepalive, 0);
    CHECK_EQ(cfg.history_mem, 0);
    CHECK_EQ(cfg.room_burst, 2);
    CHECK_EQ(cfg.room_rate, 3);
    CHECK_EQ(cfg.room_burst_ip, 4);
    CHECK_EQ(cfg.room_rate_ip, 0);
    CHECK_EQ(cfg.nlisten, 8); /* the default listeners */
}

TEST(equals_form_and_bounds)
{
    struct config cfg;
    struct parsed p;
    parse(&cfg, &p, "--max-line=16", "--sendq-max=1099511627776",
          "--max-rooms=100000000", "--topic-max=65536",
          "--shutdown-timeout=3600", "--flood-burst=1",
          "--history-mem=1099511627776", "--room-rate=60000",
          "--room-burst-per-ip=1000000", NULL);
    CHECK_EQ(p.rc, CONFIG_RUN);
    CHECK_EQ(cfg.max_line, 16);
    CHECK_EQ(cfg.sendq_max, (size_t)1 << 40);
    CHECK_EQ(cfg.max_rooms, 100000000);
    CHECK_EQ(cfg.topic_max, 65536);
    CHECK_EQ(cfg.shutdown_timeout, 3600);
    CHECK_EQ(cfg.flood_burst, 1);
    CHECK_EQ(cfg.history_mem, (size_t)1 << 40);
    CHECK_EQ(cfg.room_rate, 60000);
    CHECK_EQ(cfg.room_burst_ip, 1000000);
    parse(&cfg, &p, "--max-line", "1048576", NULL);
    CHECK_EQ(p.rc, CONFIG_RUN);
    CHECK_EQ(cfg.max_line, 1 << 20);
    parse(&cfg, &p, "--ipv4-prefix=0", "--ipv6-prefix=128",
          "--keepalive=32767", NULL);
    CHECK_EQ(p.rc, CONFIG_RUN);
    CHECK_EQ(cfg.ipv4_prefix, 0);
    CHECK_EQ(cfg.ipv6_prefix, 128);
    CHECK_EQ(cfg.keepalive, 32767);
    parse(&cfg, &p, "--ipv4-prefix=32", "--ipv6-prefix=0", "--keepalive=1",
          NULL);
    CHECK_EQ(p.rc, CONFIG_RUN);
    CHECK_EQ(cfg.ipv4_prefix, 32);
    CHECK_EQ(cfg.ipv6_prefix, 0);
    CHECK_EQ(cfg.keepalive, 1);
}

TEST(later_flag_wins)
{
    struct config cfg;
    struct parsed p;
    parse(&cfg, &p, "--history", "1", "--history", "2", NULL);
    CHECK_EQ(p.rc, CONFIG_RUN);
    CHECK_EQ(cfg.history, 2);
}

TEST(limit_loopback_and_log_level)
{
    struct config cfg;
    struct parsed p;
    parse(&cfg, &p, "--limit-loopback", "--log-level", "debug", NULL);
    CHECK_EQ(p.rc, CONFIG_RUN);
    CHECK(cfg.limit_loopback);
    CHECK_EQ(cfg.log_level, LOG_DEBUG);
    static const char *const names[] = {"debug", "info", "warn", "error"};
    static const enum log_level levels[] = {LOG_DEBUG, LOG_INFO, LOG_WARN,
                                            LOG_ERROR};
    for (size_t i = 0; i < 4; i++) {
        parse(&cfg, &p, "--log-level", names[i], NULL);
        CHECK_EQ(p.rc, CONFIG_RUN);
        CHECK_EQ(cfg.log_level, levels[i]);
    }
}

TEST(listen_replaces_defaults)
{
    struct config cfg;
    struct parsed p;
    parse(&cfg, &p, "--listen", "text://127.0.0.1:0", "--listen",
          "text://[::1]:3031", NULL);
    CHECK_EQ(p.rc, CONFIG_RUN);
    REQUIRE(cfg.nlisten == 2);
    CHECK_STR(cfg.listen[0].host, "127.0.0.1");
    CHECK_STR(cfg.listen[0].port, "0");
    CHECK_STR(cfg.listen[1].host, "::1");
    CHECK_STR(cfg.listen[1].port, "3031");
    parse(&cfg, &p, "--listen=text://*:4000", NULL);
    CHECK_EQ(p.rc, CONFIG_RUN);
    REQUIRE(cfg.nlisten == 1);
    CHECK_STR(cfg.listen[0].host, "");
    CHECK_STR(cfg.listen[0].port, "4000");
}

TEST(listen_at_most_sixteen)
{
    struct config cfg;
    struct parsed p;
    const char *u = "--listen=text://127.0.0.1:0";
    parse(&cfg, &p, u, u, u, u, u, u, u, u, u, u, u, u, u, u, u, u, NULL);
    CHECK_EQ(p.rc, CONFIG_RUN);
    CHECK_EQ(cfg.nlisten, 16);
    parse(&cfg, &p, u, u, u, u, u, u, u, u, u, u, u, u, u, u, u, u, u, NULL);
    check_error(&p, "16");
}

TEST(help_and_version_exit)
{
    struct config cfg;
    struct parsed p;
    parse(&cfg, &p, "--help", NULL);
    CHECK_EQ(p.rc, CONFIG_EXIT);
    CHECK(strstr(p.out, "usage: parleyd") != NULL);
    /* Every flag is in the help text. */
    static const char *const flags[] = {
        "--listen", "--max-line", "--history", "--history-keep",
        "--flood-burst", "--flood-rate", "--sendq-max", "--max-clients",
        "--max-per-ip", "--limit-loopback", "--quiet-above", "--topic-max",
        "--max-rooms", "--shutdown-timeout", "--log-level", "--help",
        "--version", "--ipv4-prefix", "--ipv6-prefix", "--keepalive",
        "--history-mem", "--room-burst", "--room-rate",
        "--room-burst-per-ip", "--room-rate-per-ip",
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (strstr(p.out, flags[i]) == NULL) {
            printf("    --help does not list %s\n", flags[i]);
            CHECK(!"flag missing from --help");
        }
    parse(&cfg, &p, "--version", NULL);
    CHECK_EQ(p.rc, CONFIG_EXIT);
    CHECK_STR(p.out, "parleyd " PARLEY_VERSION "\n");
    /* -h and -V are the same, anywhere on the line. */
    static char help[sizeof p.out];
    parse(&cfg, &p, "--help", NULL);
    memcpy(help, p.out, sizeof help);
    parse(&cfg, &p, "-h", NULL);
    CHECK_EQ(p.rc, CONFIG_EXIT);
    CHECK_STR(p.out, help);
    parse(&cfg, &p, "--listen", "text://127.0.0.1:0", "-V", NULL);
    CHECK_EQ(p.rc, CONFIG_EXIT);
    CHECK_STR(p.out, "parleyd " PARLEY_VERSION "\n");
}

TEST(bad_numbers)
{
    static const char *const bad[][2] = {
        {"--max-line", "15"},          {"--max-line", "1048577"},
        {"--max-line", "abc"},         {"--max-line", ""},
        {"--max-line", "-1"},          {"--max-line", "12x"},
        {"--max-line", "0x100"},       {"--max-line", "99999999999999999999999"},
        {"--history", "100001"},       {"--history-keep", "100001"},
        {"--flood-burst", "0"},        {"--flood-rate", "1000001"},
        {"--sendq-max", "1023"},       {"--sendq-max", "1099511627777"},
        {"--max-clients", "0"},        {"--max-per-ip", "-5"},
        {"--quiet-above", "100000001"}, {"--topic-max", "0"},
        {"--topic-max", "65537"},      {"--max-rooms", "0"},
        {"--shutdown-timeout", "3601"}, {"--ipv4-prefix", "33"},
        {"--ipv6-prefix", "129"},      {"--ipv6-prefix", "-1"},
        {"--keepalive", "32768"},      {"--keepalive", "1m"},
        {"--shutdown-timeout", "3601"}, {"--history-mem", "1099511627777"},
        {"--room-burst", "0"},         {"--room-rate", "60001"},
        {"--room-burst-per-ip", "0"},  {"--room-rate-per-ip", "-1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct config cfg;
        struct parsed p;
        parse(&cfg, &p, bad[i][0], bad[i][1], NULL);
        if (p.rc != CONFIG_ERROR)
            printf("    accepted: %s %s\n", bad[i][0], bad[i][1]);
        check_error(&p, bad[i][0] + 2);
    }
}

TEST(bad_log_level)
{
    struct config cfg;
    struct parsed p;
    parse(&cfg, &p, "--log-level", "verbose", NULL);
    check_error(&p, "verbose");
    parse(&cfg, &p, "--log-level", "DEBUG", NULL);
    CHECK_EQ(p.rc, CONFIG_ERROR);
}

TEST(bad_listen)
{
    struct config cfg;
    struct parsed p;
    parse(&cfg, &p, "--listen", "127.0.0.1:3030", NULL);
    check_error(&p, "127.0.0.1:3030");
    parse(&cfg, &p, "--listen", "gopher://127.0.0.1:70", NULL);
    check_error(&p, "gopher");
    parse(&cfg, &p, "--listen", "text://127.0.0.1:70000", NULL);
    check_error(&p, "70000");
}

TEST(unknown_option_missing_value_extra_argument)
{
    struct config cfg;
    struct parsed p;
    parse(&cfg, &p, "--nope", NULL);
    check_error(&p, "--nope");
    parse(&cfg, &p, "--max-line", NULL);
    check_error(&p, "--max-line");
    parse(&cfg, &p, "extra", NULL);
    check_error(&p, "extra");
    parse(&cfg, &p, "--history", "3", "extra", NULL);
    check_error(&p, "extra");
    parse(&cfg, &p, "-x", NULL);
    check_error(&p, "-x");
    parse(&cfg, &p, "--help=yes", NULL);
    CHECK_EQ(p.rc, CONFIG_ERROR);
}

TEST(parse_after_error_starts_fresh)
{
    struct config cfg;
    struct parsed p;
    parse(&cfg, &p, "--topic-max", "0", NULL);
    CHECK_EQ(p.rc, CONFIG_ERROR);
    parse(&cfg, &p, NULL);
    CHECK_EQ(p.rc, CONFIG_RUN);
    CHECK_EQ(cfg.topic_max, 300); /* defaults again */
}

/* Parses text (len bytes) as a config file over the defaults. */
static bool parse_text(struct config *cfg, const char *text, size_t len,
                       char *err, size_t cap)
{
    err[0] = '\0';
    config_defaults(cfg);
    return config_parse_text(cfg, "t.conf", text, len, err, cap);
}

TEST(file_keys_are_the_flags)
{
    struct config cfg;
    char err[512];
    const char *text =
        "; comment\n# comment\n\nhistory = 7\n  topic-max=9 ; c\n"
        "limit-loopback = yes\nlog-level = debug\n"
        "listen = text://127.0.0.1:0\nlisten = irc://[::1]:7\n";
    CHECK(parse_text(&cfg, text, strlen(text), err, sizeof err));
    CHECK_STR(err, "");
    CHECK_EQ(cfg.history, 7);
    CHECK_EQ(cfg.topic_max, 9);
    CHECK(cfg.limit_loopback);
    CHECK_EQ(cfg.log_level, LOG_DEBUG);
    REQUIRE(cfg.nlisten == 2);
    CHECK_STR(cfg.listen[1].host, "::1");
    /* A text without a final newline, and an empty one. */
    CHECK(parse_text(&cfg, "history = 3", 11, err, sizeof err));
    CHECK_EQ(cfg.history, 3);
    CHECK(parse_text(&cfg, "", 0, err, sizeof err));
}

TEST(file_errors_name_the_line)
{
    static const struct {
        const char *text;
        size_t len;
        const char *want;
    } bad[] = {
        {"history = 1\nnope = 2\n", 21, "t.conf:2: unknown key \"nope\""},
        {"history = x\n", 12, "t.conf:1: history: expected a number"},
        {"\n\njunk\n", 7, "t.conf:3: expected NAME = VALUE"},
        {"[s]\n", 4, "t.conf:1: sections are not used"},
        {"topic-max = 5\ntopic-max = 6\n", 28,
         "t.conf:2: topic-max is set twice (first on line 1)"},
        {"history = 1\nhistory\0 = 2\n", 24, "t.conf:2: a NUL byte"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct config cfg;
        char err[512];
        CHECK(!parse_text(&cfg, bad[i].text, bad[i].len, err, sizeof err));
        if (strstr(err, bad[i].want) == NULL)
            CHECK_STR(err, bad[i].want);
    }
}

TEST(flags_override_the_file)
{
    char path[] = "/tmp/unit-config-file-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    const char *text = "history = 7\ntopic-max = 9\n"
                       "listen = text://127.0.0.1:1\n";
    REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    struct config cfg;
    struct parsed p;
    parse(&cfg, &p, "--history", "8", "-c", path, "--listen",
          "text://127.0.0.1:2", NULL);
    CHECK_EQ(p.rc, CONFIG_RUN);
    CHECK_EQ(cfg.history, 8);   /* the flag, though it came before -c */
    CHECK_EQ(cfg.topic_max, 9); /* the file */
    REQUIRE(cfg.nlisten == 1);  /* the flag's list replaced the file's */
    CHECK_STR(cfg.listen[0].port, "2");
    unlink(path);
    parse(&cfg, &p, "-c", path, NULL);
    check_error(&p, "No such file");
}

/* Appends "server-ban = 10.0.I.0/24 REASON\n" to text (cap bytes). */
static void add_ban(char *text, size_t cap, int i, const char *reason)
{
    size_t n = strlen(text);
    snprintf(text + n, cap - n, "server-ban = 10.0.%d.0/24 %s\n", i, reason);
}

TEST(reload_sees_a_change_anywhere_in_a_list)
{
    static struct config cur, next;
    static char a[16384], b[16384];
    char err[512];
    /* Thirty long bans show as more than CONFIG_SHOW_MAX bytes; only the
     * last one's reason differs. */
    char reason[160];
    memset(reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    a[0] = b[0] = '\0';
    for (int i = 0; i < 30; i++) {
        add_ban(a, sizeof a, i, reason);
        add_ban(b, sizeof b, i, i == 29 ? "changed" : reason);
    }
    REQUIRE(parse_text(&cur, a, strlen(a), err, sizeof err));
    REQUIRE(parse_text(&next, b, strlen(b), err, sizeof err));
    CHECK_EQ(config_update(&cur, &next), 1);
    CHECK_STR(cur.server_bans[29], "10.0.29.0/24 changed");
    /* Values with spaces, joined by spaces, read the same: still two. */
    const char *x = "server-ban = 10.0.0.1 x\nserver-ban = 10.0.0.2\n";
    const char *y = "server-ban = 10.0.0.1\nserver-ban = x 10.0.0.2\n";
    REQUIRE(parse_text(&cur, x, strlen(x), err, sizeof err));
    REQUIRE(parse_text(&next, y, strlen(y), err, sizeof err));
    CHECK_EQ(config_update(&cur, &next), 1);
    CHECK_STR(cur.server_bans[1], "x 10.0.0.2");
    CHECK_EQ(config_update(&cur, &next), 0);
}

UNIT_MAIN()
