/*
 * telnet: option negotiation for telnet:// connections.
 */
#include "text/telnet.h"

#include <string.h>

#include "lib/tbuf.h"

/* Telnet command bytes (RFC 854). */
enum {
    TEL_SE = 240,
    TEL_AYT = 246,
    TEL_SB = 250,
    TEL_WILL = 251,
    TEL_WONT = 252,
    TEL_DO = 253,
    TEL_DONT = 254,
    TEL_IAC = 255,
};

/* Subnegotiation verbs of TERMINAL-TYPE. */
enum { TTYPE_IS = 0, TTYPE_SEND = 1 };

enum telnet_state {
    TS_DATA,   /* data bytes */
    TS_IAC,    /* after IAC */
    TS_OPT,    /* after IAC WILL/WONT/DO/DONT (in cmd): the option */
    TS_SB,     /* inside a subnegotiation */
    TS_SB_IAC, /* after IAC inside a subnegotiation */
};

/* Options the server may turn on at its side, and asks the peer for. */
#define TELNET_OURS (1u << 0 | 1u << 1 | 1u << 2)
#define TELNET_HIS (1u << 0 | 1u << 2 | 1u << 3 | 1u << 4)

/* The answer to AYT: a line that shows the connection is alive. */
static const char telnet_ayt[] = "* yes, parley is here\r\n";

/* Returns the state bit of option opt, or 0 for an option not handled. */
static unsigned telnet_bit(uint8_t opt)
{
    switch (opt) {
    case TELNET_BINARY:
        return 1u << 0;
    case TELNET_ECHO:
        return 1u << 1;
    case TELNET_SGA:
        return 1u << 2;
    case TELNET_TTYPE:
        return 1u << 3;
    case TELNET_NAWS:
        return 1u << 4;
    default:
        return 0;
    }
}

/* Appends IAC verb opt to out. */
static void telnet_say(struct tbuf *out, uint8_t verb, uint8_t opt)
{
    char cmd[3] = {(char)TEL_IAC, (char)verb, (char)opt};
    tbuf_put(out, cmd, 3);
}

/* Appends IAC SB TTYPE SEND IAC SE: asks for the terminal type. */
static void telnet_ask_ttype(struct tbuf *out)
{
    static const char ask[] = {(char)TEL_IAC, (char)TEL_SB,  TELNET_TTYPE,
                               TTYPE_SEND,    (char)TEL_IAC, (char)TEL_SE};
    tbuf_put(out, ask, sizeof ask);
}

void telnet_start(struct telnet *t, struct tbuf *out)
{
    telnet_say(out, TEL_WILL, TELNET_ECHO);
    telnet_say(out, TEL_WILL, TELNET_SGA);
    telnet_say(out, TEL_WILL, TELNET_BINARY);
    telnet_say(out, TEL_DO, TELNET_BINARY);
    telnet_say(out, TEL_DO, TELNET_NAWS);
    telnet_say(out, TEL_DO, TELNET_TTYPE);
    t->us_asked |= (uint8_t)(telnet_bit(TELNET_ECHO) | telnet_bit(TELNET_SGA) |
                             telnet_bit(TELNET_BINARY));
    t->him_asked |=
        (uint8_t)(telnet_bit(TELNET_BINARY) | telnet_bit(TELNET_NAWS) |
                  telnet_bit(TELNET_TTYPE));
}

bool telnet_echoing(const struct telnet *t)
{
    return t->us & telnet_bit(TELNET_ECHO);
}

/*
 * Records that the peer asked for option bit to be on or off, in a side's
 * state (its on and asked bits). Returns true if that is a change; *asked
 * says whether it answers a request of ours (then it is not acknowledged).
 */
static bool telnet_change(uint8_t *on_bits, uint8_t *asked_bits, unsigned bit,
                          bool on, bool *asked)
{
    bool was = *on_bits & bit;
    *asked = *asked_bits & bit;
    *asked_bits &= (uint8_t)~bit;
    if (was == on)
        return false;
    *on_bits = (uint8_t)(on ? *on_bits | bit : *on_bits & ~bit);
    return true;
}

/*
 * The peer said DO or DONT about our side of opt (on says which). A
 * change is acknowledged unless it answers our own request; a request for
 * what is already so gets nothing. DO TIMING-MARK is acknowledged (RFC
 * 860: the mark is reached), any other unknown DO refused.
 */
static void telnet_our_side(struct telnet *t, uint8_t opt, bool on,
                            struct tbuf *reply, unsigned *events)
{
    unsigned bit = telnet_bit(opt) & TELNET_OURS;
    bool asked;
    if (bit == 0) {
        if (on)
            telnet_say(reply, opt == TELNET_TM ? TEL_WILL : TEL_WONT, opt);
    } else if (telnet_change(&t->us, &t->us_asked, bit, on, &asked)) {
        if (!asked)
            telnet_say(reply, on ? TEL_WILL : TEL_WONT, opt);
        if (opt == TELNET_ECHO)
            *events |= TELNET_EV_ECHO;
    }
}

/*
 * The peer said WILL or WONT about its side of opt: as above; once it
 * will send its terminal type, it is asked for it.
 */
static void telnet_his_side(struct telnet *t, uint8_t opt, bool on,
                            struct tbuf *reply)
{
    unsigned bit = telnet_bit(opt) & TELNET_HIS;
    bool asked;
    if (bit == 0) {
        if (on)
            telnet_say(reply, TEL_DONT, opt);
    } else if (telnet_change(&t->him, &t->him_asked, bit, on, &asked)) {
        if (!asked)
            telnet_say(reply, on ? TEL_DO : TEL_DONT, opt);
        if (on && opt == TELNET_TTYPE)
            telnet_ask_ttype(reply);
    }
}

/* A subnegotiation ended: takes the window size or the terminal type. */
static void telnet_sub(struct telnet *t, unsigned *events)
{
    const uint8_t *b = t->sb;
    if (t->sb_len == 5 && b[0] == TELNET_NAWS) {
        t->width = (uint16_t)(b[1] << 8 | b[2]);
        t->height = (uint16_t)(b[3] << 8 | b[4]);
        *events |= TELNET_EV_SIZE;
    } else if (t->sb_len >= 2 && b[0] == TELNET_TTYPE && b[1] == TTYPE_IS) {
        size_t n = 0;
        for (size_t i = 2; i < t->sb_len && n < TELNET_TTYPE_MAX; i++) {
            uint8_t c = b[i];
            if (c > ' ' && c < 127) /* a name: no controls, no spaces */
                t->ttype[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        t->ttype[n] = '\0';
        *events |= TELNET_EV_TTYPE;
    }
}

/* Handles the byte c after IAC; returns true if it is a data byte. */
static bool telnet_command(struct telnet *t, uint8_t c, struct tbuf *reply)
{
    t->state = TS_DATA;
    if (c == TEL_IAC)
        return true;
    if (c == TEL_SB) {
        t->state = TS_SB;
        t->sb_len = 0;
    } else if (c >= TEL_WILL) {
        t->cmd = c;
        t->state = TS_OPT;
    } else if (c == TEL_AYT) {
        tbuf_put(reply, telnet_ayt, sizeof telnet_ayt - 1);
    }
    return false; /* other commands (NOP, IP, BRK...) mean nothing here */
}

/* Handles one byte inside a subnegotiation. */
static void telnet_sb_byte(struct telnet *t, uint8_t c, unsigned *events)
{
    if (t->state == TS_SB_IAC) {
        t->state = TS_SB;
        if (c == TEL_SE) {
            t->state = TS_DATA;
            telnet_sub(t, events);
            return;
        }
        if (c != TEL_IAC)
            return; /* a stray command inside: ignored */
    } else if (c == TEL_IAC) {
        t->state = TS_SB_IAC;
        return;
    }
    if (t->sb_len < TELNET_SB_MAX)
        t->sb[t->sb_len++] = c;
}

size_t telnet_feed(struct telnet *t, const uint8_t *in, size_t n, uint8_t *data,
                   struct tbuf *reply, unsigned *events)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        switch (t->state) {
        case TS_DATA:
            if (c == TEL_IAC)
                t->state = TS_IAC;
            else
                data[k++] = c;
            break;
        case TS_IAC:
            if (telnet_command(t, c, reply))
                data[k++] = c;
            break;
        case TS_OPT:
            t->state = TS_DATA;
            if (t->cmd == TEL_DO || t->cmd == TEL_DONT)
                telnet_our_side(t, c, t->cmd == TEL_DO, reply, events);
            else
                telnet_his_side(t, c, t->cmd == TEL_WILL, reply);
            break;
        default:
            telnet_sb_byte(t, c, events);
            break;
        }
    }
    return k;
}
