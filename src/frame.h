/*
 * frame: splits a byte stream into lines, the way a telnet client sends them.
 *
 * Lines end with LF, CRLF or CR NUL; a CR followed by any other byte ends the
 * line too, and a CR that is the last byte so far waits for the next byte.
 * Telnet IAC sequences are removed (IAC IAC is one data byte 255). A line
 * longer than the limit is reported once, as soon as it passes the limit,
 * and then discarded up to its end. The framer is pure: it does no I/O and
 * knows nothing about connections, so it is tested and fuzzed on its own.
 */
#ifndef PARLEY_FRAME_H
#define PARLEY_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Framing state of one stream. Zero-initialise, then set max_line. */
struct frame {
    size_t max_line;  /* longest accepted line, in data bytes */
    char *carry;      /* a line begun in earlier input (lazily allocated) */
    size_t carry_len; /* data bytes of that line so far */
    size_t carry_cap; /* bytes allocated at carry (grows up to max_line) */
    size_t line_len;  /* data bytes of the current line, carried or not */
    uint8_t state;    /* enum frame_state, internal */
    bool discarding;  /* the current line passed the limit */
    bool carry_done;  /* carry was handed out as a line; drop it next call */
};

/* What frame_next found. */
enum frame_result {
    FRAME_MORE,     /* the input is used up; no complete line */
    FRAME_LINE,     /* *line holds one complete line, without its end */
    FRAME_TOO_LONG, /* the current line just passed max_line */
};

/* A writable byte range that frame_next consumes from the front. */
struct frame_input {
    char *p;
    size_t n;
};

/*
 * Consumes bytes from in until one line is complete, a line passes the
 * limit, or the input is used up. On FRAME_LINE, *line and *len describe the
 * line; they point into in's bytes (which are rewritten in place to remove
 * IAC sequences) or into the framer's carry buffer, and stay valid until the
 * next call. Bytes of an unfinished line are kept in the carry buffer.
 */
enum frame_result frame_next(struct frame *f, struct frame_input *in,
                             const char **line, size_t *len);

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
