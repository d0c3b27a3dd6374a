/*
 * Unit tests for sniff.c: HTTP request lines, the start of one in pieces,
 * TLS records, and what must not be taken for either (a person typing).
 */
#include "event/sniff.h"

#include <string.h>

#include "unit.h"

#define S(x) x, strlen(x)

TEST(http_lines)
{
    CHECK(sniff_http_line(S("GET / HTTP/1.1")));
    CHECK(sniff_http_line(S("POST /api HTTP/1.0")));
    CHECK(sniff_http_line(S("OPTIONS * HTTP/1.1")));
    CHECK(!sniff_http_line(S("GET / HTTP")));
    CHECK(!sniff_http_line(S("get / HTTP/1.1")));
    CHECK(!sniff_http_line(S("GO HTTP/1.1")));
    CHECK(!sniff_http_line(S("hello HTTP/1.1")));
    CHECK(!sniff_http_line(S("GET")));
    CHECK(!sniff_http_line(S("")));
}

TEST(http_start_in_pieces)
{
    CHECK(sniff_http_start(S("G")));
    CHECK(sniff_http_start(S("GET")));
    CHECK(sniff_http_start(S("GET / HT")));
    CHECK(sniff_http_start(S("GET / HTTP/1.1\r\nHost: x\r\n")));
    CHECK(!sniff_http_start(S("hello\n")));
    CHECK(!sniff_http_start(S("/nick bob\n")));
    CHECK(!sniff_http_start(S("GO on")));
    CHECK(!sniff_http_start(S("HI\n")));
}

TEST(tls_needs_three_bytes)
{
    CHECK(sniff_tls("\x16\x03\x01\x00", 4));
    CHECK(sniff_tls("\x16\x03\x03", 3));
    CHECK(sniff_tls("\x16\x03\x00", 3));
    CHECK(!sniff_tls("\x16", 1));            /* Ctrl-V typed first */
    CHECK(!sniff_tls("\x16hello\r\n", 8));   /* and then text */
    CHECK(!sniff_tls("\x16\x03\x05", 3));
    CHECK(!sniff_tls("\x17\x03\x01", 3));
}

UNIT_MAIN()
