/*
 * Unit tests for net.c: listen URLs, address formatting, loopback checks,
 * per-address keys, keepalive options, and listening on a loopback port.
 */
#include "event/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "unit.h"

/* ------------------------------------------------------------------------
 * net_parse_url
 * ------------------------------------------------------------------------ */

/* Parses s, expecting success with the given parts. */
static void parse_ok(const char *s, const char *scheme, const char *host,
                     const char *port)
{
    struct net_url u;
    char err[256] = "";
    int rc = net_parse_url(s, &u, err, sizeof err);
    if (rc != 0)
        printf("    \"%s\": %s\n", s, err);
    CHECK_EQ(rc, 0);
    CHECK_STR(u.scheme, scheme);
    CHECK_STR(u.host, host);
    CHECK_STR(u.port, port);
}

/* Parses s, expecting -EINVAL and a message that quotes the URL. */
static void parse_bad(const char *s)
{
    struct net_url u;
    char err[512] = "";
    int rc = net_parse_url(s, &u, err, sizeof err);
    if (rc != -EINVAL)
        printf("    accepted: \"%s\" -> host \"%s\" port \"%s\"\n", s, u.host,
               u.port);
    CHECK_EQ(rc, -EINVAL);
    CHECK(err[0] != '\0');
    CHECK(strstr(err, s) != NULL);
}

TEST(url_v4_port_zero)
{
    parse_ok("text://127.0.0.1:0", "text", "127.0.0.1", "0");
}

TEST(url_v6_in_brackets)
{
    parse_ok("text://[::1]:3030", "text", "::1", "3030");
    parse_ok("text://[::]:3030", "text", "::", "3030");
    parse_ok("text://[fe80::1%lo]:1", "text", "fe80::1%lo", "1");
}

TEST(url_any_address)
{
    parse_ok("text://0.0.0.0:3030", "text", "0.0.0.0", "3030");
    parse_ok("text://*:3030", "text", "", "3030");
    parse_ok("text://:3030", "text", "", "3030");
}

TEST(url_port_range_and_other_schemes)
{
    parse_ok("text://h:65535", "text", "h", "65535");
    parse_ok("irc://localhost:6667", "irc", "localhost", "6667");
    /* A bare v6 address: the last colon starts the port. */
    parse_ok("text://::1:3030", "text", "::1", "3030");
}

TEST(url_errors)
{
    parse_bad("");
    parse_bad("127.0.0.1:3030");
    parse_bad("://127.0.0.1:3030");
    parse_bad("text:/127.0.0.1:3030");
    parse_bad("text://127.0.0.1");
    parse_bad("text://127.0.0.1:");
    parse_bad("text://127.0.0.1:abc");
    parse_bad("text://127.0.0.1:80x");
    parse_bad("text://127.0.0.1:65536");
    parse_bad("text://127.0.0.1:-1");
    parse_bad("text://127.0.0.1:99999999999999999999999");
    parse_bad("text://[::1]");
    parse_bad("text://[::1");
    parse_bad("text://[::1]3030");
    parse_bad("text://[::1]:");
    parse_bad("averyveryverylongscheme://h:1"); /* scheme over 15 bytes */
}

TEST(url_host_too_long)
{
    char s[200];
    char host[NET_ADDR_MAX + 1];
    memset(host, 'h', sizeof host - 1);
    host[sizeof host - 1] = '\0';
    snprintf(s, sizeof s, "text://%s:1", host);
    parse_bad(s);
    /* One byte shorter fits (the host field keeps a NUL). */
    host[NET_ADDR_MAX - 1] = '\0';
    snprintf(s, sizeof s, "text://%s:1", host);
    parse_ok(s, "text", host, "1");
}

TEST(url_error_message_is_truncated_safely)
{
    struct net_url u;
    char err[8];
    memset(err, 'x', sizeof err);
    CHECK_EQ(net_parse_url("nonsense", &u, err, sizeof err), -EINVAL);
    CHECK(memchr(err, '\0', sizeof err) != NULL);
}

/* ------------------------------------------------------------------------
 * Addresses
 * ------------------------------------------------------------------------ */

/* Fills a v4 socket address. */
static struct sockaddr_in v4(const char *ip, unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

/* Fills a v6 socket address. */
static struct sockaddr_in6 v6(const char *ip, unsigned port)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6,
                             .sin6_port = htons((uint16_t)port)};
    inet_pton(AF_INET6, ip, &a.sin6_addr);
    return a;
}

TEST(format_addr)
{
    char out[NET_ADDR_MAX];
    struct sockaddr_in a = v4("192.0.2.7", 80);
    net_format_addr((struct sockaddr *)&a, out, sizeof out);
    CHECK_STR(out, "192.0.2.7:80");
    struct sockaddr_in6 b = v6("2001:db8::1", 443);
    net_format_addr((struct sockaddr *)&b, out, sizeof out);
    CHECK_STR(out, "[2001:db8::1]:443");
    /* The longest text inet_ntop makes, plus brackets and port, fits. */
    struct sockaddr_in6 c =
        v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
    net_format_addr((struct sockaddr *)&c, out, sizeof out);
    CHECK_STR(out, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
    struct sockaddr_in6 m = v6("::ffff:192.0.2.1", 1);
    net_format_addr((struct sockaddr *)&m, out, sizeof out);
    CHECK_STR(out, "[::ffff:192.0.2.1]:1");
    struct sockaddr u = {.sa_family = AF_UNIX};
    net_format_addr(&u, out, sizeof out);
    CHECK_STR(out, "unknown");
}

TEST(loopback)
{
    struct sockaddr_in a = v4("127.0.0.1", 1), b = v4("127.9.8.7", 1),
                       c = v4("10.0.0.1", 1), d = v4("128.0.0.1", 1);
    CHECK(net_is_loopback((struct sockaddr *)&a));
    CHECK(net_is_loopback((struct sockaddr *)&b));
    CHECK(!net_is_loopback((struct sockaddr *)&c));
    CHECK(!net_is_loopback((struct sockaddr *)&d));
    struct sockaddr_in6 e = v6("::1", 1), f = v6("::ffff:127.0.0.1", 1),
                        g = v6("::ffff:10.0.0.1", 1), h = v6("2001:db8::1", 1),
                        i = v6("::", 1);
    CHECK(net_is_loopback((struct sockaddr *)&e));
    CHECK(net_is_loopback((struct sockaddr *)&f));
    CHECK(!net_is_loopback((struct sockaddr *)&g));
    CHECK(!net_is_loopback((struct sockaddr *)&h));
    CHECK(!net_is_loopback((struct sockaddr *)&i));
    struct sockaddr u = {.sa_family = AF_UNIX};
    CHECK(!net_is_loopback(&u));
}

/* ------------------------------------------------------------------------
 * net_host_key
 * ------------------------------------------------------------------------ */

/* One net_host_key case: host, the two prefix lengths, the key wanted. */
struct key_case {
    const char *host;
    unsigned v4_bits, v6_bits;
    const char *want;
};

static const struct key_case key_cases[] = {
    /* Every address of one /64 shares a key; the next /64 does not. */
    {"2001:db8:a:1::1", 32, 64, "2001:db8:a:1::/64"},
    {"2001:db8:a:1:ffff:ffff:ffff:ffff", 32, 64, "2001:db8:a:1::/64"},
    {"2001:db8:a:1:1234:5678:9abc:def0", 32, 64, "2001:db8:a:1::/64"},
    {"2001:db8:a:2::1", 32, 64, "2001:db8:a:2::/64"},
    /* Canonical text, whatever the spelling of the input. */
    {"2001:DB8:A:1:0:0:0:1", 32, 64, "2001:db8:a:1::/64"},
    {"2001:0db8:000a:0001::1", 32, 64, "2001:db8:a:1::/64"},
    {"::1", 32, 64, "::/64"},
    {"fe80::1:2:3:4", 32, 64, "fe80::/64"},
    /* Other IPv6 prefixes; one ending inside a byte keeps only its bits. */
    {"2001:db8:a:1::1", 32, 128, "2001:db8:a:1::1"},
    {"2001:db8:a:1::1", 32, 48, "2001:db8:a::/48"},
    {"2001:db8:a:2::1", 32, 48, "2001:db8:a::/48"},
    {"2001:db8:abcd:ffff::1", 32, 52, "2001:db8:abcd:f000::/52"},
    {"2001:db8:abcd:ffff::1", 32, 57, "2001:db8:abcd:ff80::/57"},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 32, 127,
     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"},
    {"2001:db8::1", 32, 0, "::/0"},
    {"2001:db8::1", 32, 200, "2001:db8::1"}, /* past the end: all of it */
    /* IPv4 counts per address by default, whatever the v6 prefix. */
    {"192.0.2.7", 32, 64, "192.0.2.7"},
    {"192.0.2.8", 32, 64, "192.0.2.8"},
    {"192.0.2.7", 24, 64, "192.0.2.0/24"},
    {"192.0.2.255", 20, 64, "192.0.0.0/20"},
    {"192.0.2.7", 0, 64, "0.0.0.0/0"},
    {"192.0.2.7", 99, 64, "192.0.2.7"},
    /* An IPv4-mapped IPv6 address counts as the IPv4 address. */
    {"::ffff:192.0.2.7", 32, 64, "192.0.2.7"},
    {"::ffff:192.0.2.7", 24, 128, "192.0.2.0/24"},
    {"::ffff:c000:207", 32, 64, "192.0.2.7"},
    /* What does not parse is its own key. */
    {"unknown", 32, 64, "unknown"},
    {"", 32, 64, ""},
    {"192.0.2.7:80", 32, 64, "192.0.2.7:80"},
};

TEST(host_keys)
{
    for (size_t i = 0; i < sizeof key_cases / sizeof key_cases[0]; i++) {
        const struct key_case *k = &key_cases[i];
        char out[NET_KEY_MAX];
        memset(out, 'x', sizeof out);
        net_host_key(k->host, k->v4_bits, k->v6_bits, out, sizeof out);
        if (strcmp(out, k->want) != 0)
            printf("    key of %s (/%u, /%u)\n", k->host, k->v4_bits,
                   k->v6_bits);
        CHECK_STR(out, k->want);
    }
}

TEST(host_key_bounded)
{
    char small[8];
    net_host_key("2001:db8:a:1::1", 32, 64, small, sizeof small);
    CHECK_STR(small, "2001:db");
    /* The longest key fits NET_KEY_MAX. */
    CHECK(strlen("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127") <
          NET_KEY_MAX);
}

/* ------------------------------------------------------------------------
 * net_keepalive
 * ------------------------------------------------------------------------ */

/* Returns an int socket option of fd (or -1 if it cannot be read). */
static int sockopt(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof v;
    if (getsockopt(fd, level, name, &v, &len) < 0)
        return -1;
    return v;
}

/* Sets keepalive idle on a fresh TCP socket and checks what the kernel has. */
static void keepalive_is(unsigned idle, int interval, int user_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    net_keepalive(fd, idle);
    if (sockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE) != (int)idle)
        printf("    keepalive %u\n", idle);
    CHECK_EQ(sockopt(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
    CHECK_EQ(sockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE), (int)idle);
    CHECK_EQ(sockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL), interval);
    CHECK_EQ(sockopt(fd, IPPROTO_TCP, TCP_KEEPCNT), NET_KEEPALIVE_PROBES);
    CHECK_EQ(sockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT), user_ms);
    close(fd);
}

TEST(keepalive_timing)
{
    /* The default: probes after 60 s, every 10 s, 6 of them: 2 minutes. */
    keepalive_is(60, 10, 120000);
    /* Short idle times probe every second at least. */
    keepalive_is(1, 1, 7000);
    keepalive_is(7, 2, 19000);
    keepalive_is(32767, 5462, (32767 + 6 * 5462) * 1000);
}

TEST(keepalive_zero_leaves_socket_alone)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    net_keepalive(fd, 0);
    CHECK_EQ(sockopt(fd, SOL_SOCKET, SO_KEEPALIVE), 0);
    CHECK_EQ(sockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
    close(fd);
}

/* ------------------------------------------------------------------------
 * Listening
 * ------------------------------------------------------------------------ */

TEST(listen_on_loopback_port_zero)
{
    char err[256] = "";
    int fd = net_listen("127.0.0.1", "0", AF_UNSPEC, 16, err, sizeof err);
    if (fd < 0)
        printf("    %s\n", err);
    REQUIRE(fd >= 0);
    char addr[NET_ADDR_MAX];
    net_local_addr(fd, addr, sizeof addr);
    CHECK(strncmp(addr, "127.0.0.1:", 10) == 0);
    CHECK(strcmp(addr, "127.0.0.1:0") != 0); /* a real port was picked */
    /* A second listener on the same port fails with a message. */
    const char *port = strrchr(addr, ':') + 1;
    char err2[256] = "";
    int fd2 = net_listen("127.0.0.1", port, AF_UNSPEC, 16, err2, sizeof err2);
    CHECK_EQ(fd2, -EADDRINUSE);
    CHECK(strstr(err2, addr) != NULL);
    if (fd2 >= 0)
        close(fd2);
    close(fd);
}

TEST(local_addr_of_bad_descriptor)
{
    char addr[NET_ADDR_MAX];
    net_local_addr(-1, addr, sizeof addr);
    CHECK_STR(addr, "unknown");
}

TEST(addr_host_parts)
{
    char host[NET_ADDR_MAX];
    net_addr_host("127.0.0.1:5000", host, sizeof host);
    CHECK_STR(host, "127.0.0.1");
    net_addr_host("[::1]:5000", host, sizeof host);
    CHECK_STR(host, "::1");
    net_addr_host("[fe80::1:2]:1", host, sizeof host);
    CHECK_STR(host, "fe80::1:2");
    net_addr_host("unknown", host, sizeof host);
    CHECK_STR(host, "unknown");
    char small[4];
    net_addr_host("127.0.0.1:5000", small, sizeof small);
    CHECK_STR(small, "127");
}

UNIT_MAIN()
