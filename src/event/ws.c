/*
 * ws: WebSocket frames over libwslay's frame API (see ws.h).
 *
 * libwslay parses what clients send: it reads through our callback into
 * its own buffer and returns a frame's payload in chunks. To know when its
 * context holds nothing of a stream (so that it can serve another one), we
 * count: the bytes it was given, minus each frame's header and payload as it
 * reports them. When that is zero between frames, the context is as good as
 * new.
 */
#include "event/ws.h"

#include <stdlib.h>
#include <string.h>
#include <wslay/wslay.h>

/* The receiving side of one stream, while it needs one. */
struct ws_rx {
    wslay_frame_context_ptr ctx;
    size_t held;      /* bytes given to ctx and not yet reported */
    uint64_t got;     /* payload bytes of the current frame so far */
    bool in_frame;    /* a frame's header was reported, not its end */
    uint8_t op;       /* the current frame's opcode */
    bool fin;         /* it ends its message */
    uint8_t ctl_len;  /* payload of a control frame so far */
    uint8_t ctl[125]; /* that payload */
    /* The current call's reading. */
    ws_read_fn rd;
    void *arg;
    size_t budget; /* bytes rd may still give in this call */
};

static struct ws_rx *ws_spare; /* a context holding nothing */

/* libwslay reads: from rd, within the call's budget. */
static ssize_t ws_on_recv(uint8_t *buf, size_t len, int flags, void *user)
{
    (void)flags;
    struct ws_rx *rx = user;
    if (len > rx->budget)
        len = rx->budget;
    size_t got = len > 0 ? rx->rd(rx->arg, buf, len) : 0;
    rx->budget -= got;
    rx->held += got;
    return got > 0 ? (ssize_t)got : WSLAY_ERR_WOULDBLOCK;
}

/* Nothing is sent through libwslay (ws_frame writes server frames). */
static ssize_t ws_on_send(const uint8_t *data, size_t len, int flags,
                          void *user)
{
    (void)data;
    (void)len;
    (void)flags;
    (void)user;
    return WSLAY_ERR_WOULDBLOCK;
}

/* Nor is a mask ever asked for. */
static int ws_on_genmask(uint8_t *buf, size_t len, void *user)
{
    (void)buf;
    (void)len;
    (void)user;
    return -1;
}

static const struct wslay_frame_callbacks ws_callbacks = {
    .send_callback = ws_on_send,
    .recv_callback = ws_on_recv,
    .genmask_callback = ws_on_genmask,
};

/* Returns a receiving context holding nothing: the spare, or a new one. */
static struct ws_rx *ws_rx_take(void)
{
    struct ws_rx *rx = ws_spare;
    if (rx != NULL) {
        ws_spare = NULL;
        return rx;
    }
    rx = calloc(1, sizeof *rx);
    if (rx != NULL && wslay_frame_context_init(&rx->ctx, &ws_callbacks, rx)) {
        free(rx);
        rx = NULL;
    }
    return rx;
}

/* Gives back a context that holds nothing (or frees it, one is enough). */
static void ws_rx_give(struct ws_rx *rx)
{
    if (rx == NULL)
        return;
    if (ws_spare == NULL && rx->held == 0 && !rx->in_frame) {
        ws_spare = rx;
        return;
    }
    wslay_frame_context_free(rx->ctx);
    free(rx);
}

uint8_t ws_utf8_check(uint8_t st, const uint8_t *p, size_t n)
{
    /* st: continuation bytes still needed (high nibble) and which range
     * the next one must be in (low nibble; overlong forms, surrogates and
     * code points past U+10FFFF are refused by the second byte's range). */
    static const uint8_t lo[5] = {0x80, 0xa0, 0x80, 0x90, 0x80};
    static const uint8_t hi[5] = {0xbf, 0xbf, 0x9f, 0xbf, 0x8f};
    unsigned need = st >> 4, kind = st & 0xf;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[i];
        if (need > 0) {
            if (b < lo[kind] || b > hi[kind])
                return WS_UTF8_BAD;
            need--;
            kind = 0;
        } else if (b < 0x80) {
            continue;
        } else if (b < 0xc2) {
            return WS_UTF8_BAD;
        } else if (b < 0xe0) {
            need = 1;
        } else if (b < 0xf0) {
            need = 2;
            kind = b == 0xe0 ? 1 : b == 0xed ? 2 : 0;
        } else if (b < 0xf5) {
            need = 3;
            kind = b == 0xf0 ? 3 : b == 0xf4 ? 4 : 0;
        } else {
            return WS_UTF8_BAD;
        }
    }
    return (uint8_t)(need << 4 | kind);
}

/* Fails the stream with code. */
static enum ws_status ws_fail(struct ws *w, uint16_t code)
{
    w->code = code;
    return WS_FAILED;
}

/* The size of the header of a masked frame of payload n. */
static size_t ws_header_len(uint64_t n)
{
    return 2 + 4 + (n < 126 ? 0 : n < 65536 ? 2 : 8);
}

/* A frame's header came with its first chunk: checks it. */
static enum ws_status ws_frame_start(struct ws *w, struct ws_rx *rx,
                                     const struct wslay_frame_iocb *io)
{
    if (!io->mask || io->rsv != 0)
        return ws_fail(w, WS_PROTOCOL);
    rx->held -= ws_header_len(io->payload_length);
    rx->in_frame = true;
    rx->got = 0;
    rx->op = io->opcode;
    rx->fin = io->fin;
    rx->ctl_len = 0;
    switch (io->opcode) {
    case WS_OP_CLOSE:
    case WS_OP_PING:
    case WS_OP_PONG:
        return WS_GOING; /* libwslay checked: short, not fragmented */
    case WS_OP_CONT:
        if (w->msg_op == 0)
            return ws_fail(w, WS_PROTOCOL);
        break;
    case WS_OP_TEXT:
    case WS_OP_BINARY:
        if (w->msg_op != 0)
            return ws_fail(w, WS_PROTOCOL);
        w->msg_op = io->opcode;
        w->msg_len = 0;
        w->utf8 = 0;
        break;
    default:
        return ws_fail(w, WS_PROTOCOL);
    }
    if (io->payload_length > WS_MESSAGE_MAX - w->msg_len)
        return ws_fail(w, WS_TOO_BIG);
    return WS_GOING;
}

/* Returns true if code may be sent in a close frame (RFC 6455, 7.4). */
static bool ws_code_valid(unsigned code)
{
    if (code >= 3000 && code <= 4999)
        return true;
    return code >= 1000 && code <= 1011 && code != 1004 && code != 1005 &&
           code != 1006;
}

/* A control frame is complete: answers it. */
static enum ws_status ws_control(struct ws *w, struct ws_rx *rx,
                                 ws_send_fn send, void *sarg)
{
    if (rx->op == WS_OP_PING && send != NULL) {
        uint8_t pong[125 + WS_HEADER_MAX];
        send(sarg, pong, ws_frame(pong, WS_OP_PONG, rx->ctl, rx->ctl_len));
    }
    if (rx->op != WS_OP_CLOSE)
        return WS_GOING;
    if (rx->ctl_len == 0) {
        w->code = WS_NORMAL;
        return WS_CLOSED;
    }
    unsigned code = (unsigned)rx->ctl[0] << 8 | rx->ctl[1];
    if (rx->ctl_len == 1 || !ws_code_valid(code))
        return ws_fail(w, WS_PROTOCOL);
    if (ws_utf8_check(0, rx->ctl + 2, rx->ctl_len - 2u) != 0)
        return ws_fail(w, WS_BAD_DATA);
    w->code = (uint16_t)code;
    return WS_CLOSED;
}

/* Takes one chunk of a frame's payload. */
static enum ws_status ws_chunk(struct ws *w, struct ws_rx *rx,
                               const struct wslay_frame_iocb *io, char *out,
                               size_t *n, ws_send_fn send, void *sarg)
{
    if (!rx->in_frame) {
        enum ws_status st = ws_frame_start(w, rx, io);
        if (st != WS_GOING)
            return st;
    }
    rx->held -= io->data_length;
    rx->got += io->data_length;
    if (rx->op >= WS_OP_CLOSE) {
        memcpy(rx->ctl + rx->ctl_len, io->data, io->data_length);
        rx->ctl_len = (uint8_t)(rx->ctl_len + io->data_length);
    } else {
        if (w->msg_op == WS_OP_TEXT) {
            w->utf8 = ws_utf8_check(w->utf8, io->data, io->data_length);
            if (w->utf8 == WS_UTF8_BAD)
                return ws_fail(w, WS_BAD_DATA);
        }
        memcpy(out + *n, io->data, io->data_length);
        *n += io->data_length;
        w->msg_len += (uint32_t)io->data_length;
    }
    if (rx->got < io->payload_length)
        return WS_GOING;
    rx->in_frame = false;
    if (rx->op >= WS_OP_CLOSE)
        return ws_control(w, rx, send, sarg);
    if (!rx->fin)
        return WS_GOING;
    if (w->msg_op == WS_OP_TEXT && w->utf8 != 0)
        return ws_fail(w, WS_BAD_DATA); /* a character cut off at the end */
    out[(*n)++] = '\r';
    out[(*n)++] = '\n';
    w->msg_op = 0;
    return WS_GOING;
}

enum ws_status ws_recv(struct ws *w, ws_read_fn rd, void *arg, char *out,
                       size_t cap, size_t *outn, ws_send_fn send, void *sarg)
{
    *outn = 0;
    struct ws_rx *rx = w->rx != NULL ? w->rx : ws_rx_take();
    if (rx == NULL)
        return ws_fail(w, WS_INTERNAL);
    w->rx = NULL;
    rx->rd = rd;
    rx->arg = arg;
    rx->budget = cap > WS_RX_HOLD ? cap - WS_RX_HOLD : 0;
    enum ws_status st = WS_GOING;
    size_t n = 0;
    while (st == WS_GOING) {
        struct wslay_frame_iocb io;
        ssize_t r = wslay_frame_recv(rx->ctx, &io);
        if (r == WSLAY_ERR_WANT_READ)
            break;
        if (r < 0)
            st = ws_fail(w, WS_PROTOCOL);
        else
            st = ws_chunk(w, rx, &io, out, &n, send, sarg);
    }
    *outn = n;
    if (st == WS_GOING && rx->held == 0 && !rx->in_frame)
        ws_rx_give(rx); /* between frames: nothing of this stream in it */
    else
        w->rx = rx;
    return st;
}

size_t ws_frame(uint8_t *dst, enum ws_op op, const void *p, size_t n)
{
    /* A server frame is one whole unmasked message: its header is two
     * bytes and the length, written here directly, as this runs once per
     * line per recipient (libwslay's encoder, with its callbacks, cost a
     * third more per delivery in bench/web.py's busy room). */
    size_t h = 0;
    dst[h++] = (uint8_t)(0x80 | op);
    if (n < 126) {
        dst[h++] = (uint8_t)n;
    } else if (n < 65536) {
        dst[h++] = 126;
        dst[h++] = (uint8_t)(n >> 8);
        dst[h++] = (uint8_t)n;
    } else {
        dst[h++] = 127;
        for (int i = 7; i >= 0; i--)
            dst[h++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    memcpy(dst + h, p, n);
    return h + n;
}

size_t ws_close_frame(uint8_t *dst, uint16_t code)
{
    uint8_t body[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    return ws_frame(dst, WS_OP_CLOSE, body, sizeof body);
}

void ws_free(struct ws *w)
{
    if (w->rx != NULL) {
        wslay_frame_context_free(w->rx->ctx);
        free(w->rx);
        w->rx = NULL;
    }
}

void ws_fini(void)
{
    if (ws_spare != NULL) {
        wslay_frame_context_free(ws_spare->ctx);
        free(ws_spare);
        ws_spare = NULL;
    }
}
