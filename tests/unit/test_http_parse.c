/*
 * Unit tests for http/parse.c: request lines, header fields, keep-alive,
 * bodies, and the refusals (400, 414, 431, 505) of what smuggling and
 * sloppy clients send.
 */
#include "http/parse.h"

#include <string.h>

#include "unit.h"

/* Feeds the head's lines (separated by '\n') to a fresh request. */
static enum http_result feed(struct http_request *r, const char *head)
{
    http_request_init(r);
    enum http_result res = HTTP_MORE;
    while (res == HTTP_MORE) {
        const char *nl = strchr(head, '\n');
        size_t n = nl ? (size_t)(nl - head) : strlen(head);
        res = http_parse_line(r, head, n);
        if (!nl)
            break;
        head = nl + 1;
    }
    return res;
}

TEST(get_with_host)
{
    struct http_request r = {0};
    CHECK_EQ(feed(&r, "GET /metrics?x=1 HTTP/1.1\nHost: a\n\n"), HTTP_DONE);
    CHECK_EQ(r.method, HTTP_GET);
    CHECK_STR(r.target, "/metrics?x=1");
    CHECK_EQ(r.path_len, 8);
    CHECK(r.keep_alive);
    CHECK(!r.has_body);
}

TEST(versions_and_keep_alive)
{
    struct http_request r = {0};
    CHECK_EQ(feed(&r, "HEAD / HTTP/1.0\n\n"), HTTP_DONE);
    CHECK_EQ(r.method, HTTP_HEAD);
    CHECK(!r.keep_alive);
    CHECK_EQ(feed(&r, "GET / HTTP/1.0\nConnection: Keep-Alive\n\n"),
             HTTP_DONE);
    CHECK(r.keep_alive);
    CHECK_EQ(feed(&r, "GET / HTTP/1.1\nHost: a\nConnection: x, close\n\n"),
             HTTP_DONE);
    CHECK(!r.keep_alive);
    CHECK_EQ(feed(&r, "GET / HTTP/2.0\n"), HTTP_BAD_VERSION);
    CHECK_EQ(feed(&r, "GET / HTTP/0.9\n"), HTTP_BAD);
    CHECK_EQ(feed(&r, "GET / HTTP/1.10\n"), HTTP_BAD);
    CHECK_EQ(feed(&r, "GET /\n"), HTTP_BAD);
}

TEST(leading_empty_lines_skipped)
{
    struct http_request r = {0};
    CHECK_EQ(feed(&r, "\n\nGET / HTTP/1.1\nHost: a\n\n"), HTTP_DONE);
}

TEST(malformed_request_lines)
{
    struct http_request r = {0};
    CHECK_EQ(feed(&r, "GET  / HTTP/1.1\n"), HTTP_BAD);
    CHECK_EQ(feed(&r, "GET http://a/ HTTP/1.1\n"), HTTP_BAD);
    CHECK_EQ(feed(&r, "G(T / HTTP/1.1\n"), HTTP_BAD);
    CHECK_EQ(feed(&r, "GET /\x01 HTTP/1.1\n"), HTTP_BAD);
    CHECK_EQ(feed(&r, "hello\n"), HTTP_BAD);
    CHECK_EQ(feed(&r, "ABCDEFGHIJKLMNOPQ / HTTP/1.1\n"), HTTP_BAD);
}

TEST(long_target_is_414)
{
    static char line[HTTP_TARGET_MAX + 64];
    strcpy(line, "GET /");
    memset(line + 5, 'a', HTTP_TARGET_MAX);
    strcpy(line + 5 + HTTP_TARGET_MAX, " HTTP/1.1");
    struct http_request r = {0};
    http_request_init(&r);
    CHECK_EQ(http_parse_line(&r, line, strlen(line)), HTTP_URI_TOO_LONG);
    CHECK_EQ(http_result_status(HTTP_URI_TOO_LONG), 414);
}

TEST(smuggling_shapes_refused)
{
    struct http_request r = {0};
    CHECK_EQ(feed(&r, "GET / HTTP/1.1\nHost : a\n"), HTTP_BAD);
    CHECK_EQ(feed(&r, "GET / HTTP/1.1\nHost: a\n folded\n"), HTTP_BAD);
    CHECK_EQ(feed(&r, "GET / HTTP/1.1\nHost: a\nHost: b\n"), HTTP_BAD);
    CHECK_EQ(feed(&r, "GET / HTTP/1.1\nHost: a\nContent-Length: 1\n"
                      "Content-Length: 1\n"),
             HTTP_BAD);
    CHECK_EQ(feed(&r, "GET / HTTP/1.1\nHost: a\nContent-Length: 1, 1\n"),
             HTTP_BAD);
    CHECK_EQ(feed(&r, "GET / HTTP/1.1\nHost: a\nX: a\rb\n"), HTTP_BAD);
    CHECK_EQ(feed(&r, "GET / HTTP/1.1\n\n"), HTTP_BAD); /* no Host */
}

TEST(bodies_are_seen)
{
    struct http_request r = {0};
    CHECK_EQ(feed(&r, "GET / HTTP/1.1\nHost: a\nContent-Length: 0\n\n"),
             HTTP_DONE);
    CHECK(!r.has_body);
    CHECK_EQ(feed(&r, "POST / HTTP/1.1\nHost: a\nContent-Length: 5\n\n"),
             HTTP_DONE);
    CHECK(r.has_body);
    CHECK_EQ(r.method, HTTP_OTHER);
    CHECK_EQ(feed(&r, "GET / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n"),
             HTTP_DONE);
    CHECK(r.has_body);
}

TEST(too_many_fields_is_431)
{
    struct http_request r = {0};
    http_request_init(&r);
    CHECK_EQ(http_parse_line(&r, "GET / HTTP/1.1", 14), HTTP_MORE);
    enum http_result res = HTTP_MORE;
    for (int i = 0; i <= HTTP_FIELDS_MAX && res == HTTP_MORE; i++)
        res = http_parse_line(&r, "X-A: b", 6);
    CHECK_EQ(res, HTTP_FIELDS_TOO_BIG);
    CHECK_EQ(http_result_status(res), 431);
}

/* Counts the fields a callback saw, checking one of them. */
static void count_field(void *arg, const char *name, size_t nlen,
                        const char *value, size_t vlen)
{
    int *n = arg;
    if (nlen == 7 && memcmp(name, "Upgrade", 7) == 0)
        CHECK_EQ_MEM(value, vlen, "websocket", 9);
    (*n)++;
}

TEST(fields_reach_the_callback_trimmed)
{
    int n = 0;
    struct http_request r = {.on_field = count_field, .arg = &n};
    CHECK_EQ(feed(&r, "GET / HTTP/1.1\nHost: a\nUpgrade: \t websocket \t\n\n"),
             HTTP_DONE);
    CHECK_EQ(n, 2);
}

UNIT_MAIN()
