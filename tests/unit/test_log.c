/*
 * Unit tests for log.c: lines never block on a full pipe, lost lines are
 * counted and reported, repeated events are rate-limited with a summary,
 * the exit flush is bounded, and values are quoted.
 */
#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

/* A pipe for the log: the test holds the read end (non-blocking). */
static int log_pipe(void)
{
    int p[2];
    if (pipe(p) != 0)
        abort();
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    log_open(p[1]);
    close(p[1]); /* log_open has its own descriptor for the pipe */
    return p[0];
}

/* Reads what the pipe holds now, appending to out (size cap); returns it. */
static size_t drain(int fd, char *out, size_t used, size_t cap)
{
    ssize_t k;
    while (used < cap - 1 && (k = read(fd, out + used, cap - 1 - used)) > 0)
        used += (size_t)k;
    out[used] = '\0';
    return used;
}

/* Counts the lines of text that contain what. */
static unsigned long count_lines(const char *text, const char *what)
{
    unsigned long n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p++)
        n++;
    return n;
}

/* Sums N over "key=N" in text. */
static unsigned long sum_field(const char *text, const char *key)
{
    unsigned long n = 0;
    for (const char *p = text; (p = strstr(p, key)) != NULL; p++)
        n += strtoul(p + strlen(key), NULL, 10);
    return n;
}

static char text[1 << 20];

TEST(full_pipe_drops_and_counts)
{
    int rd = log_pipe();
    const unsigned long lines = 3000; /* about 300 KB: pipe + buffer x2 */
    for (unsigned long i = 0; i < lines; i++)
        log_info("event=test n=%lu pad=%s", i,
                 "................................................");
    /* Nothing blocked. Now read until the log has nothing left. */
    size_t used = drain(rd, text, 0, sizeof text);
    int wait;
    while ((wait = log_tick()) >= 0) {
        poll(NULL, 0, wait);
        used = drain(rd, text, used, sizeof text);
    }
    used = drain(rd, text, used, sizeof text);
    unsigned long seen = count_lines(text, "event=test ");
    unsigned long lost = sum_field(text, "event=log-dropped count=");
    CHECK(seen < lines);
    CHECK(lost > 0);
    CHECK_EQ(seen + lost, lines);
    CHECK_EQ(text[used - 1], '\n');
    log_close();
    close(rd);
}

TEST(rate_limit_writes_a_burst_then_a_summary)
{
    int rd = log_pipe();
    static struct log_rate rate = LOG_RATE_INIT(LOG_WARN, "event=x why=y");
    for (int i = 0; i < 20; i++)
        log_rated(&rate, "event=x why=y n=%d", i);
    size_t used = drain(rd, text, 0, sizeof text);
    CHECK_EQ(count_lines(text, "event=x why=y n="), LOG_RATE_BURST);
    CHECK(strstr(text, "suppressed") == NULL);
    int wait = log_tick();
    CHECK(wait > 0 && wait <= LOG_RATE_WINDOW_MS);
    poll(NULL, 0, wait);
    CHECK_EQ(log_tick(), -1);
    used = drain(rd, text, used, sizeof text);
    CHECK(strstr(text, "level=warn event=x why=y suppressed=15\n") != NULL);
    /* A new window writes in full again. */
    log_rated(&rate, "event=x why=y n=%d", 20);
    drain(rd, text, used, sizeof text);
    CHECK(strstr(text, "event=x why=y n=20\n") != NULL);
    log_close();
    close(rd);
}

TEST(rate_limit_below_level_writes_nothing)
{
    int rd = log_pipe();
    static struct log_rate rate = LOG_RATE_INIT(LOG_DEBUG, "event=quiet");
    for (int i = 0; i < 20; i++)
        log_rated(&rate, "event=quiet n=%d", i);
    CHECK_EQ(log_tick(), -1);
    CHECK_EQ(drain(rd, text, 0, sizeof text), 0);
    log_close();
    close(rd);
}

TEST(close_waits_a_bounded_time_for_a_full_pipe)
{
    int rd = log_pipe();
    for (int i = 0; i < 2000; i++)
        log_info("event=fill n=%d pad=%s", i,
                 "................................................");
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    log_close();
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
    CHECK(s >= LOG_EXIT_WAIT_MS / 1000.0 * 0.9);
    CHECK(s < LOG_EXIT_WAIT_MS / 1000.0 + 1.0);
    close(rd);
}

TEST(quote_plain_and_escaped)
{
    char out[64];
    CHECK_STR(log_quote(out, sizeof out, "alice", 5), "alice");
    CHECK_STR(log_quote(out, sizeof out, "a b\"c\\", 6), "\"a b\\\"c\\\\\"");
    CHECK_STR(log_quote(out, sizeof out, "x\ny", 3), "\"x\\x0ay\"");
    CHECK_STR(log_quote(out, sizeof out, "", 0), "\"\"");
    CHECK_STR(log_q("fr\"ob", 5), "\"fr\\\"ob\"");
}

UNIT_MAIN()
