/*
 * Unit tests for http/upgrade.c and web.c's types: the WebSocket opening
 * handshake (the accept key of RFC 6455's example, the checks and their
 * statuses, the Origin rules, the IRCv3 subprotocols) and Content-Type by
 * extension.
 */
#include "http/upgrade.h"

#include <string.h>

#include "http/web.h"
#include "unit.h"

/* Fills f with a valid upgrade request's fields (RFC 6455's key). */
static void valid(struct http_fields *f)
{
    http_fields_init(f);
    static const char *const fields[][2] = {
        {"Host", "chat.example:8080"},
        {"Upgrade", "websocket"},
        {"Connection", "keep-alive, Upgrade"},
        {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
        {"Sec-WebSocket-Version", "13"},
    };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        http_fields_take(f, fields[i][0], strlen(fields[i][0]), fields[i][1],
                         strlen(fields[i][1]));
}

static void take(struct http_fields *f, const char *name, const char *v)
{
    http_fields_take(f, name, strlen(name), v, strlen(v));
}

static int check_up(const struct http_fields *f, bool tls,
                    const char (*origins)[256], size_t n,
                    enum http_ws_sub *sub, bool *offered)
{
    char accept[29];
    int st = http_upgrade_check(f, tls, origins, n, accept, sub, offered);
    if (st == 101)
        CHECK_STR(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    return st;
}

TEST(rfc_example_accepted)
{
    struct http_fields f;
    valid(&f);
    enum http_ws_sub sub;
    bool offered;
    CHECK(http_wants_upgrade(&f));
    CHECK_EQ(check_up(&f, false, NULL, 0, &sub, &offered), 101);
    CHECK_EQ(sub, HTTP_WS_TEXT);
    CHECK(!offered);
}

TEST(malformed_and_old_versions)
{
    struct http_fields f;
    enum http_ws_sub sub;
    bool offered;
    valid(&f);
    take(&f, "Sec-WebSocket-Key", "again");
    CHECK_EQ(check_up(&f, false, NULL, 0, &sub, &offered), 400); /* twice */
    http_fields_init(&f);
    take(&f, "Upgrade", "websocket");
    take(&f, "Connection", "Upgrade");
    take(&f, "Sec-WebSocket-Version", "13");
    take(&f, "Sec-WebSocket-Key", "c2hvcnQ=");
    CHECK_EQ(check_up(&f, false, NULL, 0, &sub, &offered), 400);
    valid(&f);
    f.conn_upgrade = false;
    CHECK_EQ(check_up(&f, false, NULL, 0, &sub, &offered), 400);
    valid(&f);
    f.version = 8;
    CHECK_EQ(check_up(&f, false, NULL, 0, &sub, &offered), 426);
}

TEST(origins)
{
    struct http_fields f;
    enum http_ws_sub sub;
    bool offered;
    valid(&f);
    take(&f, "Origin", "http://chat.example:8080");
    CHECK_EQ(check_up(&f, false, NULL, 0, &sub, &offered), 101);
    CHECK_EQ(check_up(&f, true, NULL, 0, &sub, &offered), 403); /* https */
    valid(&f);
    take(&f, "Origin", "http://evil.example");
    CHECK_EQ(check_up(&f, false, NULL, 0, &sub, &offered), 403);
    static const char list[2][256] = {"https://web.example", "http://evil.example"};
    CHECK_EQ(check_up(&f, false, list, 2, &sub, &offered), 101);
    valid(&f);
    take(&f, "Origin", "http://chat.example:8080");
    CHECK_EQ(check_up(&f, false, list, 1, &sub, &offered), 403);
    static const char any[1][256] = {"*"};
    CHECK_EQ(check_up(&f, false, any, 1, &sub, &offered), 101);
}

TEST(subprotocols)
{
    struct http_fields f;
    enum http_ws_sub sub;
    bool offered;
    valid(&f);
    take(&f, "Sec-WebSocket-Protocol", "chat, binary.ircv3.net");
    take(&f, "Sec-WebSocket-Protocol", "text.ircv3.net");
    CHECK_EQ(check_up(&f, false, NULL, 0, &sub, &offered), 101);
    CHECK_EQ(sub, HTTP_WS_BINARY);
    CHECK(offered);
    valid(&f);
    take(&f, "Sec-WebSocket-Protocol", "text.ircv3.net,binary.ircv3.net");
    CHECK_EQ(check_up(&f, false, NULL, 0, &sub, &offered), 101);
    CHECK_EQ(sub, HTTP_WS_TEXT);
    CHECK(offered);
    valid(&f);
    take(&f, "Sec-WebSocket-Protocol", "xmpp");
    CHECK_EQ(check_up(&f, false, NULL, 0, &sub, &offered), 101);
    CHECK(!offered);
}

TEST(tokens)
{
    CHECK(http_has_token("keep-alive, Upgrade", "upgrade"));
    CHECK(http_has_token(" upgrade ", "upgrade"));
    CHECK(!http_has_token("upgraded", "upgrade"));
    CHECK(!http_has_token("", "upgrade"));
}

TEST(content_types)
{
    CHECK_STR(web_type("/index.html"), "text/html; charset=utf-8");
    CHECK_STR(web_type("/a/app.js"), "text/javascript; charset=utf-8");
    CHECK_STR(web_type("/s.css"), "text/css; charset=utf-8");
    CHECK_STR(web_type("/i.svg"), "image/svg+xml");
    CHECK_STR(web_type("/m.webmanifest"), "application/manifest+json");
    CHECK_STR(web_type("/noext"), "application/octet-stream");
}

UNIT_MAIN()
