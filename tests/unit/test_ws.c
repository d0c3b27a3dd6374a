/*
 * Unit tests for event/ws.c: decoding client frames into lines (masks,
 * fragments, control frames, the message cap, UTF-8), the close codes of
 * what breaks the protocol, frames cut anywhere by the network, the
 * encoder, and that a stream between frames holds no receiving context.
 */
#include "event/ws.h"

#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* Input handed to the decoder in pieces of at most `piece` bytes. */
struct src {
    const uint8_t *p;
    size_t n, piece;
};

static size_t src_read(void *arg, uint8_t *buf, size_t n)
{
    struct src *s = arg;
    size_t k = s->n < n ? s->n : n;
    if (s->piece && k > s->piece)
        k = s->piece;
    memcpy(buf, s->p, k);
    s->p += k;
    s->n -= k;
    return k;
}

/* What the decoder sent back (pongs). */
static uint8_t sent[1024];
static size_t nsent;

static void on_send(void *arg, const uint8_t *p, size_t n)
{
    (void)arg;
    memcpy(sent + nsent, p, n);
    nsent += n;
}

/* Appends a client frame (masked with key unless mask is false) to buf. */
static size_t client_frame(uint8_t *buf, int fin, int op, const char *p,
                           size_t n, bool mask)
{
    static const uint8_t key[4] = {0x12, 0x34, 0x56, 0x78};
    size_t h = 0;
    buf[h++] = (uint8_t)((fin ? 0x80 : 0) | op);
    uint8_t m = mask ? 0x80 : 0;
    if (n < 126) {
        buf[h++] = (uint8_t)(m | n);
    } else {
        buf[h++] = m | 126;
        buf[h++] = (uint8_t)(n >> 8);
        buf[h++] = (uint8_t)n;
    }
    if (mask) {
        memcpy(buf + h, key, 4);
        h += 4;
    }
    for (size_t i = 0; i < n; i++)
        buf[h + i] = (uint8_t)(p[i] ^ (mask ? key[i % 4] : 0));
    return h + n;
}

/* Decodes all of in (n bytes, in pieces) through w; returns the status. */
static enum ws_status decode(struct ws *w, const uint8_t *in, size_t n,
                             size_t piece, char *out, size_t *outn)
{
    struct src s = {in, n, piece};
    enum ws_status st = WS_GOING;
    *outn = 0;
    nsent = 0;
    while (st == WS_GOING && s.n > 0) {
        size_t got;
        st = ws_recv(w, src_read, &s, out + *outn, 65536, &got, on_send, NULL);
        *outn += got;
    }
    return st;
}

static char out[1 << 20];

TEST(masked_text_becomes_a_line)
{
    uint8_t in[64];
    size_t n = client_frame(in, 1, WS_OP_TEXT, "NICK alice", 10, true);
    struct ws w = {0};
    size_t got;
    CHECK_EQ(decode(&w, in, n, 0, out, &got), WS_GOING);
    CHECK_MEM(out, got, "NICK alice\r\n");
    CHECK(w.rx == NULL); /* between frames: no context held */
    ws_free(&w);
}

TEST(frames_cut_anywhere)
{
    uint8_t in[4096];
    size_t n = 0;
    char big[300];
    memset(big, 'b', sizeof big);
    n += client_frame(in + n, 1, WS_OP_TEXT, "PING a", 6, true);
    n += client_frame(in + n, 0, WS_OP_TEXT, "PRIVMSG x :", 11, true);
    n += client_frame(in + n, 1, WS_OP_PING, "hi", 2, true);
    n += client_frame(in + n, 1, WS_OP_CONT, big, sizeof big, true);
    n += client_frame(in + n, 1, WS_OP_BINARY, "", 0, true);
    for (size_t piece = 1; piece <= 8; piece++) {
        struct ws w = {0};
        size_t got;
        CHECK_EQ(decode(&w, in, n, piece, out, &got), WS_GOING);
        REQUIRE(got == 6 + 2 + 11 + 300 + 2 + 2);
        CHECK_MEM(out, 8, "PING a\r\n");
        CHECK_MEM(out + 8, 11, "PRIVMSG x :");
        CHECK_MEM(out + got - 5, 5, "b\r\n\r\n");
        CHECK(w.rx == NULL);
        /* The ping was answered with a pong carrying its payload. */
        CHECK_EQ(nsent, 4);
        CHECK_MEM((char *)sent, 4, "\x8a\x02hi");
        ws_free(&w);
    }
}

TEST(a_cut_frame_holds_a_context_until_it_ends)
{
    uint8_t in[64];
    size_t n = client_frame(in, 1, WS_OP_TEXT, "NICK bob", 8, true);
    struct ws w = {0};
    size_t got;
    CHECK_EQ(decode(&w, in, 5, 0, out, &got), WS_GOING);
    CHECK(w.rx != NULL);
    CHECK_EQ(decode(&w, in + 5, n - 5, 0, out, &got), WS_GOING);
    CHECK_MEM(out, got, "NICK bob\r\n");
    CHECK(w.rx == NULL);
    ws_free(&w);
}

/* Decodes one frame and returns its close code (0: none). */
static unsigned code_of(int fin, int op, const char *p, size_t n, bool mask)
{
    static uint8_t in[70000];
    size_t k = client_frame(in, fin, op, p, n, mask);
    struct ws w = {0};
    size_t got;
    enum ws_status st = decode(&w, in, k, 0, out, &got);
    ws_free(&w);
    return st == WS_GOING ? 0 : w.code;
}

TEST(protocol_errors_have_their_codes)
{
    CHECK_EQ(code_of(1, WS_OP_TEXT, "x", 1, false), WS_PROTOCOL);
    CHECK_EQ(code_of(1, WS_OP_CONT, "x", 1, true), WS_PROTOCOL);
    CHECK_EQ(code_of(0, WS_OP_PING, "x", 1, true), WS_PROTOCOL);
    CHECK_EQ(code_of(1, 3, "x", 1, true), WS_PROTOCOL);
    CHECK_EQ(code_of(1, WS_OP_TEXT, "\xff", 1, true), WS_BAD_DATA);
    CHECK_EQ(code_of(1, WS_OP_TEXT, "\xed\xa0\x80", 3, true), WS_BAD_DATA);
    CHECK_EQ(code_of(1, WS_OP_TEXT, "\xc3", 1, true), WS_BAD_DATA);
    CHECK_EQ(code_of(1, WS_OP_BINARY, "\xff", 1, true), 0);
    static char big[WS_MESSAGE_MAX + 1];
    memset(big, 'a', sizeof big);
    CHECK_EQ(code_of(1, WS_OP_TEXT, big, WS_MESSAGE_MAX, true), 0);
    CHECK_EQ(code_of(1, WS_OP_TEXT, big, WS_MESSAGE_MAX + 1, true), WS_TOO_BIG);
}

TEST(fragments_count_toward_the_cap)
{
    static uint8_t in[20 * 1100];
    static char chunk[1000];
    memset(chunk, 'c', sizeof chunk);
    size_t n = client_frame(in, 0, WS_OP_TEXT, chunk, sizeof chunk, true);
    for (int i = 0; i < 19; i++)
        n += client_frame(in + n, 0, WS_OP_CONT, chunk, sizeof chunk, true);
    struct ws w = {0};
    size_t got;
    CHECK_EQ(decode(&w, in, n, 0, out, &got), WS_FAILED);
    CHECK_EQ(w.code, WS_TOO_BIG);
    CHECK(got <= WS_MESSAGE_MAX);
    ws_free(&w);
}

TEST(close_frames)
{
    uint8_t in[64];
    struct ws w = {0};
    size_t got;
    size_t n = client_frame(in, 1, WS_OP_CLOSE, "\x03\xe9", 2, true);
    CHECK_EQ(decode(&w, in, n, 0, out, &got), WS_CLOSED);
    CHECK_EQ(w.code, 1001);
    ws_free(&w);
    struct ws e = {0};
    n = client_frame(in, 1, WS_OP_CLOSE, "", 0, true);
    CHECK_EQ(decode(&e, in, n, 0, out, &got), WS_CLOSED);
    CHECK_EQ(e.code, WS_NORMAL);
    ws_free(&e);
    CHECK_EQ(code_of(1, WS_OP_CLOSE, "\x03", 1, true), WS_PROTOCOL);
    CHECK_EQ(code_of(1, WS_OP_CLOSE, "\x03\xed", 2, true), WS_PROTOCOL);
    CHECK_EQ(code_of(1, WS_OP_CLOSE, "\x03\xe8\xff", 3, true), WS_BAD_DATA);
}

TEST(encoder_frames)
{
    uint8_t f[300];
    CHECK_EQ(ws_frame(f, WS_OP_TEXT, "hi", 2), 4);
    CHECK_MEM((char *)f, 4, "\x81\x02hi");
    CHECK_EQ(ws_frame(f, WS_OP_BINARY, "", 0), 2);
    CHECK_EQ_MEM((char *)f, 2, "\x82\x00", 2);
    static char p[200];
    CHECK_EQ(ws_frame(f, WS_OP_TEXT, p, 200), 204);
    CHECK_EQ(f[1], 126);
    CHECK_EQ(f[3], 200);
    CHECK_EQ(ws_close_frame(f, 1008), 4);
    CHECK_MEM((char *)f, 4, "\x88\x02\x03\xf0");
}

TEST(utf8_check)
{
    const char *good[] = {"abc", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                          "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        CHECK_EQ(ws_utf8_check(0, (const uint8_t *)good[i], strlen(good[i])),
                 0);
    const char *bad[] = {"\xc0\x80", "\xe0\x80\x80", "\xed\xa0\x80",
                         "\xf4\x90\x80\x80", "\xf5", "\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_EQ(ws_utf8_check(0, (const uint8_t *)bad[i], strlen(bad[i])),
                 WS_UTF8_BAD);
    /* A character split between two chunks. */
    uint8_t st = ws_utf8_check(0, (const uint8_t *)"\xf0\x9f", 2);
    CHECK(st != 0 && st != WS_UTF8_BAD);
    CHECK_EQ(ws_utf8_check(st, (const uint8_t *)"\x98\x80", 2), 0);
}

UNIT_MAIN()
