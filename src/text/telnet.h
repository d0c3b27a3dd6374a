/*
 * telnet: option negotiation for telnet:// connections (RFC 854, 855).
 *
 * The server offers to echo and to suppress go-ahead (which puts a telnet
 * client in character mode), offers and asks for BINARY both ways (which
 * makes the client pass every byte, UTF-8 included, untouched and stops it
 * from turning 8-bit bytes into commands), and asks for the window size
 * (NAWS, RFC 1073) and the terminal type (RFC 1091). The negotiation
 * follows RFC 1143's rule in a simple form: an option's state changes
 * only when the peer asks for a different one, and only a change is
 * answered, so two sides never loop.
 *
 * telnet_feed takes the commands out of a byte stream and keeps the data;
 * it is pure (no I/O: answers go to a caller's buffer), so it is tested
 * and fuzzed on its own.
 */
#ifndef PARLEY_TELNET_H
#define PARLEY_TELNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tbuf;

/* Option codes. */
#define TELNET_BINARY 0
#define TELNET_ECHO 1
#define TELNET_SGA 3
#define TELNET_TM 6
#define TELNET_TTYPE 24
#define TELNET_NAWS 31

/* The longest terminal type kept; longer names are cut. */
#define TELNET_TTYPE_MAX 23
/* The longest subnegotiation kept; longer ones are cut. */
#define TELNET_SB_MAX 32

/* What a call to telnet_feed saw, as bits of its *events. */
#define TELNET_EV_ECHO 0x01  /* the server's echo was turned on or off */
#define TELNET_EV_SIZE 0x02  /* the window size changed */
#define TELNET_EV_TTYPE 0x04 /* the terminal type arrived */

/* Negotiation state of one connection. Zero-initialise. */
struct telnet {
    uint8_t state;     /* internal */
    uint8_t cmd;       /* the command being read */
    uint8_t sb_len;    /* bytes in sb */
    uint8_t us;        /* options on at our side (bit per option index) */
    uint8_t us_asked;  /* options we asked to turn on, not yet answered */
    uint8_t him;       /* options on at the peer's side */
    uint8_t him_asked; /* options we asked the peer to turn on */
    uint16_t width;    /* columns from NAWS; 0: unknown */
    uint16_t height;   /* rows from NAWS; 0: unknown */
    char ttype[TELNET_TTYPE_MAX + 1]; /* lower case; "" until known */
    uint8_t sb[TELNET_SB_MAX];        /* the subnegotiation being read */
};

/*
 * Appends the server's opening offers to out (WILL ECHO, WILL SGA, WILL and
 * DO BINARY, DO NAWS, DO TTYPE) and records them as asked.
 */
void telnet_start(struct telnet *t, struct tbuf *out);

/*
 * Takes the n bytes at in through the negotiation: data bytes (IAC IAC
 * gives one 255) are written to data, which has room for n bytes, and
 * their count is returned; answers (acknowledgements, refusals, the
 * terminal type request, "* yes, parley is here" for AYT) are appended to
 * reply; *events gets the TELNET_EV_ bits of what changed (or-ed in). A
 * command split across calls is finished by the next call. Pure.
 */
size_t telnet_feed(struct telnet *t, const uint8_t *in, size_t n, uint8_t *data,
                   struct tbuf *reply, unsigned *events);

/* Returns true if the server echoes (the client is in character mode). */
bool telnet_echoing(const struct telnet *t);

#endif
