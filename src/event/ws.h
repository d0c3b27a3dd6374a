/*
 * ws: WebSocket frames (RFC 6455), the server's side, over libwslay.
 *
 * The decoder turns what a client sends into the bytes of its messages,
 * each data message followed by "\r\n", so that the line framer above it
 * sees one line per message and never learns it came over WebSocket. It
 * checks what a server must: client frames are masked (else 1002), no
 * reserved bits or unknown opcodes (1002), fragments in order (1002), a
 * message no longer than WS_MESSAGE_MAX (1009), valid UTF-8 in text
 * messages (1007). Fragments are not gathered here: their payloads pass on
 * as they come, and the line framer joins them. Pings are answered with
 * pongs; a close frame ends the stream.
 *
 * libwslay's receiving context holds a 4 KiB buffer. A connection keeps
 * one only while a frame is cut in the middle (by the network); between
 * frames, where an idle client sits, it holds none, and all of them share
 * one spare context. Server frames (one per message, never masked) are
 * simple enough to be written directly (ws_frame).
 *
 * The module is pure: it reads through a callback and does no I/O itself,
 * so it is tested and fuzzed on its own (tests/fuzz/fuzz_ws.c).
 */
#ifndef PARLEY_WS_H
#define PARLEY_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The longest message a client may send: an IRC line with its tags
 * (8191 + 512) and some room; longer closes with 1009. The line framer's
 * own limit (IRC's 512 + tags, answered with 417) is checked after this.
 */
#define WS_MESSAGE_MAX (8191 + 512 + 256)
/* The longest frame header the encoder writes (server frames: unmasked). */
#define WS_HEADER_MAX 10
/*
 * What ws_recv may hand out beyond the bytes it reads in one call (what
 * the previous call left inside libwslay's buffer); the output buffer
 * must be larger than this.
 */
#define WS_RX_HOLD (4096 + 16)

/* Opcodes (RFC 6455, 5.2). */
enum ws_op {
    WS_OP_CONT = 0x0,
    WS_OP_TEXT = 0x1,
    WS_OP_BINARY = 0x2,
    WS_OP_CLOSE = 0x8,
    WS_OP_PING = 0x9,
    WS_OP_PONG = 0xa,
};

/* Close codes (RFC 6455, 7.4.1). */
enum ws_code {
    WS_NORMAL = 1000,     /* the user left (QUIT) */
    WS_GOING_AWAY = 1001, /* the server is stopping, or the peer vanished */
    WS_PROTOCOL = 1002,   /* a frame broke the protocol (unmasked ...) */
    WS_BAD_DATA = 1007,   /* a text message that is not UTF-8 */
    WS_POLICY = 1008,     /* flood, ban, kill */
    WS_TOO_BIG = 1009,    /* a message over WS_MESSAGE_MAX */
    WS_INTERNAL = 1011,   /* the server failed */
};

/* What ws_recv ended with. */
enum ws_status {
    WS_GOING,  /* more may come */
    WS_CLOSED, /* the peer sent its close frame; code holds its code */
    WS_FAILED, /* the peer broke the protocol; code says how */
};

struct ws_rx; /* libwslay's receiving context and a frame's progress */

/* One WebSocket stream's state; zero it, then set binary if wanted. */
struct ws {
    struct ws_rx *rx; /* held only while a frame is cut; NULL: none */
    uint32_t msg_len; /* payload bytes of the message in progress */
    uint8_t msg_op;   /* its opcode (text or binary); 0: none */
    uint8_t utf8;     /* the UTF-8 check's state in a text message */
    uint16_t code;    /* the close code: the failure's or the peer's */
    bool binary;      /* our frames are binary (binary.ircv3.net) */
};

/*
 * Reads up to n raw bytes into buf: returns how many, 0 if none come now
 * (the caller notes why: would block, end of input, error).
 */
typedef size_t (*ws_read_fn)(void *arg, uint8_t *buf, size_t n);
/* Sends a frame the decoder answers with (a pong), n bytes at p. */
typedef void (*ws_send_fn)(void *arg, const uint8_t *p, size_t n);

/*
 * Decodes what rd gives (at most cap - WS_RX_HOLD bytes of it) into out
 * (cap bytes, cap > WS_RX_HOLD): the payload of data frames, "\r\n" after
 * each message. *outn is set to the bytes written. Control frames are
 * answered through send (which may be NULL). Returns WS_GOING, or
 * WS_CLOSED or WS_FAILED with w->code set; after either, stop calling.
 */
enum ws_status ws_recv(struct ws *w, ws_read_fn rd, void *arg, char *out,
                       size_t cap, size_t *outn, ws_send_fn send, void *sarg);

/*
 * Writes one unmasked frame with opcode op and the n bytes at p into dst
 * (room for n + WS_HEADER_MAX bytes). Returns the frame's length.
 */
size_t ws_frame(uint8_t *dst, enum ws_op op, const void *p, size_t n);

/*
 * Writes a close frame with code into dst (room for 4 + WS_HEADER_MAX
 * bytes); returns its length.
 */
size_t ws_close_frame(uint8_t *dst, uint16_t code);

/*
 * Checks n bytes at p as a continuation of UTF-8 text in state st (0 at
 * the start). Returns the new state, 0 at a character boundary, or
 * WS_UTF8_BAD.
 */
uint8_t ws_utf8_check(uint8_t st, const uint8_t *p, size_t n);
#define WS_UTF8_BAD 0xff

/* Frees w's receiving state (the stream ends). */
void ws_free(struct ws *w);

/* Frees the shared spare context (at exit). */
void ws_fini(void);

#endif
