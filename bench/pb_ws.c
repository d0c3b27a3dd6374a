/*
 * pb_ws.c - IRC over WebSocket for parley-bench (--ws, with --proto irc).
 *
 * After the TCP connect (and TLS with --tls) a connection asks for
 * GET /irc with the text.ircv3.net subprotocol and waits for the 101;
 * then its protocol logs in as usual. Every line it sends becomes one
 * masked text frame, as a browser sends it (a fresh mask per frame);
 * every frame it receives is turned back into a line, in place (a
 * server frame's header is at least as long as the CR LF that replaces
 * it). A frame cut by the network waits in a buffer of its own, which is
 * freed as soon as it is whole, so idle clients hold none.
 */
#include "pb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char pb_ws_req[512]; /* the upgrade request; "" without --ws */
static size_t pb_ws_reqlen;
static uint64_t pb_ws_rng = 0x9e3779b97f4a7c15u; /* masks: xorshift64 */

void pb_ws_init(const char *host, int port)
{
    int n = snprintf(pb_ws_req, sizeof pb_ws_req,
                     "GET /irc HTTP/1.1\r\nHost: %s:%d\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Protocol: text.ircv3.net\r\n\r\n",
                     host, port);
    pb_ws_reqlen = n > 0 && (size_t)n < sizeof pb_ws_req ? (size_t)n : 0;
}

bool pb_ws_on(void)
{
    return pb_ws_reqlen > 0;
}

void pb_ws_start(struct pb_run *r, struct pb_conn *c)
{
    c->ws_hs = 1;
    pb_conn_send(r, c, pb_ws_req, pb_ws_reqlen);
}

size_t pb_ws_frame(char *dst, const char *data, size_t len)
{
    size_t out = 0;
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *next = p + n + (nl != NULL);
        if (n > 0 && p[n - 1] == '\r')
            n--;
        if (n == 0) {
            p = next;
            continue;
        }
        dst[out++] = (char)0x81; /* a whole text message */
        if (n < 126) {
            dst[out++] = (char)(0x80 | n);
        } else {
            dst[out++] = (char)(0x80 | 126);
            dst[out++] = (char)(n >> 8);
            dst[out++] = (char)n;
        }
        pb_ws_rng ^= pb_ws_rng << 13;
        pb_ws_rng ^= pb_ws_rng >> 7;
        pb_ws_rng ^= pb_ws_rng << 17;
        uint8_t key[4];
        memcpy(key, &pb_ws_rng, 4);
        memcpy(dst + out, key, 4);
        out += 4;
        for (size_t i = 0; i < n; i++)
            dst[out + i] = (char)(p[i] ^ key[i & 3]);
        out += n;
        p = next;
    }
    return out;
}

/* Keeps the n bytes at p (a frame not yet whole) for the next read. */
static void ws_keep(struct pb_conn *c, const char *p, size_t n)
{
    if (n == 0) {
        free(c->wpart);
        c->wpart = NULL;
        c->wlen = 0;
        return;
    }
    char *k = malloc(n);
    if (k == NULL) {
        fprintf(stderr, "parley-bench: out of memory\n");
        exit(1);
    }
    memcpy(k, p, n);
    free(c->wpart);
    c->wpart = k;
    c->wlen = (uint32_t)n;
}

/*
 * Takes the 101 answer off the n bytes at buf; returns the bytes after
 * it, 0 if it is not all there (they are kept), -1 if it is no 101.
 */
static ssize_t ws_handshake(struct pb_run *r, struct pb_conn *c, char *buf,
                            size_t n)
{
    char *end = memmem(buf, n, "\r\n\r\n", 4);
    if (end == NULL) {
        ws_keep(c, buf, n);
        return 0;
    }
    if (n < 12 || memcmp(buf, "HTTP/1.1 101", 12) != 0) {
        pb_note(r, "websocket: ", buf, n < 40 ? n : 40);
        return -1;
    }
    size_t rest = n - (size_t)(end + 4 - buf);
    memmove(buf, end + 4, rest);
    c->ws_hs = 0;
    c->ws_up = 1;
    r->proto->on_connect(r, c);
    return (ssize_t)rest;
}

/*
 * Turns the whole frames of the n bytes at buf into lines, in place;
 * keeps a cut one. Returns the bytes of lines, or -1 at a close frame.
 */
static ssize_t ws_decode(struct pb_run *r, struct pb_conn *c, char *buf,
                         size_t n)
{
    size_t in = 0, out = 0;
    while (n - in >= 2) {
        const uint8_t *h = (const uint8_t *)buf + in;
        size_t len = h[1] & 0x7f, hl = 2;
        if (len == 126 && n - in >= 4) {
            len = (size_t)h[2] << 8 | h[3];
            hl = 4;
        } else if (len == 127 && n - in >= 10) {
            len = 0;
            for (int i = 0; i < 8; i++)
                len = len << 8 | h[2 + i];
            hl = 10;
        } else if (len >= 126) {
            break;
        }
        if (n - in < hl + len)
            break;
        int op = h[0] & 0x0f;
        if (op == 8)
            return -1;
        if (op == 9) {
            char pong[16 + 125];
            pong[0] = (char)0x8a;
            pong[1] = (char)0x80; /* empty payload, a zero mask */
            memset(pong + 2, 0, 4);
            pb_conn_send(r, c, pong, 6);
        } else if (op == 1 || op == 2 || op == 0) {
            memmove(buf + out, buf + in + hl, len);
            out += len;
            buf[out++] = '\r';
            buf[out++] = '\n';
        }
        in += hl + len;
    }
    ws_keep(c, buf + in, n - in);
    return (ssize_t)out;
}

ssize_t pb_ws_recv(struct pb_run *r, struct pb_conn *c, char *buf, size_t cap)
{
    size_t kept = c->wlen;
    if (kept > cap)
        kept = 0; /* cannot happen: frames are smaller than a read */
    memcpy(buf, c->wpart, kept);
    ssize_t n = pb_io_recv(c, buf + kept, cap - kept);
    if (n <= 0)
        return n;
    size_t total = kept + (size_t)n;
    if (c->ws_hs) {
        ssize_t rest = ws_handshake(r, c, buf, total);
        if (rest <= 0) {
            if (rest == 0)
                errno = EAGAIN;
            else
                errno = EPROTO;
            return -1;
        }
        total = (size_t)rest;
    }
    ssize_t out = ws_decode(r, c, buf, total);
    if (out < 0)
        return 0; /* the server's close frame: the end */
    if (out == 0) {
        errno = EAGAIN;
        return -1;
    }
    return out;
}

void pb_ws_free(struct pb_conn *c)
{
    free(c->wpart);
    c->wpart = NULL;
    c->wlen = 0;
}
