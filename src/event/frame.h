/*
 * frame: splits a byte stream into lines, the way a telnet client sends them.
 *
 * Lines end with LF, CRLF or CR NUL; a CR followed by any other byte ends the
 * line too, and a CR that is the last byte so far waits for the next byte.
 * Telnet IAC sequences are removed from the data (IAC IAC is one data byte
 * 255); each telnet command outside a subnegotiation is reported to the
 * caller, in stream order, without losing the line around it, and
 * frame_telnet_answer says what the server answers. A CR or LF never
 * belongs to a command: right after IAC, or as the option byte of IAC
 * WILL/WONT/DO/DONT, it cuts the command short and ends the line as usual.
 * A line longer than the limit is reported once, as soon as it passes the
 * limit, and then discarded up to its end.
 *
 * A framer with raw set (how IRC connections are framed) knows no telnet:
 * byte 255 is ordinary data and FRAME_TELNET is never reported; line ends
 * and the limit work exactly as above. The framer is pure: it does no
 * I/O and knows nothing about connections, so it is tested and fuzzed on
 * its own.
 */
#ifndef PARLEY_FRAME_H
#define PARLEY_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Framing state of one stream. Zero-initialise, then set max_line (and raw
 * for a stream without telnet) before the first call; neither changes
 * afterwards.
 */
struct frame {
    size_t max_line;  /* longest accepted line, in data bytes */
    char *carry;      /* a line begun in earlier input (lazily allocated) */
    size_t carry_len; /* data bytes of that line so far */
    size_t carry_cap; /* bytes allocated at carry (grows up to max_line) */
    size_t line_len;  /* data bytes of the current line, carried or not */
    uint8_t state;    /* enum frame_state, internal */
    uint8_t tel_cmd;  /* after FRAME_TELNET: the command (FRAME_TEL_...) */
    uint8_t tel_opt;  /* after FRAME_TELNET for WILL/WONT/DO/DONT: option */
    bool discarding;  /* the current line passed the limit */
    bool carry_done;  /* carry was handed out as a line; drop it next call */
    bool raw;         /* no telnet: IAC (255) is data; see above */
};

/* What frame_next found. */
enum frame_result {
    FRAME_MORE,     /* the input is used up; no complete line */
    FRAME_LINE,     /* *line holds one complete line, without its end */
    FRAME_TOO_LONG, /* the current line just passed max_line */
    FRAME_TELNET,   /* a telnet command: see tel_cmd and tel_opt */
};

/* Telnet command bytes (RFC 854) that follow IAC. */
enum frame_tel {
    FRAME_TEL_SE = 240,   /* end of subnegotiation */
    FRAME_TEL_NOP = 241,  /* no operation */
    FRAME_TEL_DM = 242,   /* data mark */
    FRAME_TEL_BRK = 243,  /* break */
    FRAME_TEL_IP = 244,   /* interrupt process (telnet sends it for ^C) */
    FRAME_TEL_AO = 245,   /* abort output */
    FRAME_TEL_AYT = 246,  /* are you there */
    FRAME_TEL_EC = 247,   /* erase character */
    FRAME_TEL_EL = 248,   /* erase line */
    FRAME_TEL_GA = 249,   /* go ahead */
    FRAME_TEL_SB = 250,   /* start of subnegotiation */
    FRAME_TEL_WILL = 251, /* the sender wants to enable an option */
    FRAME_TEL_WONT = 252, /* the sender refuses or disables an option */
    FRAME_TEL_DO = 253,   /* the sender asks us to enable an option */
    FRAME_TEL_DONT = 254, /* the sender asks us to disable an option */
    FRAME_TEL_IAC = 255,  /* interpret as command */
};

/* The TIMING-MARK option (RFC 860): telnet's "flush output up to here". */
#define FRAME_TELOPT_TM 6

/* The largest answer frame_telnet_answer writes. */
#define FRAME_ANSWER_MAX 32

/* A writable byte range that frame_next consumes from the front. */
struct frame_input {
    char *p;
    size_t n;
};

/*
 * Consumes bytes from in until one line is complete, a line passes the
 * limit, a telnet command is complete, or the input is used up. On
 * FRAME_LINE, *line and *len describe the line; they point into in's bytes
 * (which are rewritten in place to remove IAC sequences) or into the
 * framer's carry buffer, and stay valid until the next call. On
 * FRAME_TELNET, f->tel_cmd holds the command byte (FRAME_TEL_NOP up to
 * FRAME_TEL_DONT, never SB or IAC) and, for WILL/WONT/DO/DONT, f->tel_opt
 * the option (else 0); a line the command interrupted goes on at the next
 * call. Bytes of an unfinished line are kept in the carry buffer.
 */
enum frame_result frame_next(struct frame *f, struct frame_input *in,
                             const char **line, size_t *len);

/*
 * Computes what the server answers to the telnet command cmd (with option
 * opt) that frame_next reported, into out (FRAME_ANSWER_MAX bytes), and
 * returns its length; 0 means no answer. The server enables no option and
 * never starts a negotiation, so by RFC 1143 it refuses every request and
 * acknowledges nothing else: DO TIMING-MARK gets WILL TIMING-MARK (RFC 860:
 * the mark is reached, which telnet awaits before it shows output again);
 * any other DO x gets WONT x, WILL x gets DONT x; WONT and DONT ask for
 * what is already so and get no answer, which rules out loops. AYT gets a
 * visible text line ending in CRLF; *is_line is set to true for that one
 * (the caller may charge it like a line) and to false otherwise. Other
 * commands get no answer. Pure.
 */
size_t frame_telnet_answer(uint8_t cmd, uint8_t opt, char *out, bool *is_line);

/*
 * Ends the stream: if an unfinished line is pending, returns true and hands
 * it out like frame_next does; otherwise returns false.
 */
bool frame_finish(struct frame *f, const char **line, size_t *len);

/* Returns true if the framer holds bytes of an unfinished line. */
bool frame_pending(const struct frame *f);

/* Frees the carry buffer. The framer may be reused after this. */
void frame_reset(struct frame *f);

#endif
