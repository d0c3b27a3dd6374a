/*
 * frame: splits a byte stream into lines, the way a telnet client sends them.
 *
 * Data bytes of a line are compacted in place at the front of the input as
 * they are scanned, so a line that arrives whole in one read is handed out
 * without a copy. Only a line that straddles reads is copied, into carry.
 */
#include "frame.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

enum frame_state {
    FS_DATA,   /* inside a line */
    FS_CR,     /* just after a CR that ended the line */
    FS_IAC,    /* after IAC */
    FS_OPT,    /* after IAC WILL/WONT/DO/DONT: one option byte follows */
    FS_SB,     /* inside a subnegotiation, until IAC SE */
    FS_SB_IAC, /* after IAC inside a subnegotiation */
};

#define TEL_SE 240
#define TEL_SB 250
#define TEL_WILL 251
#define TEL_DONT 254
#define TEL_IAC 255

/* Byte classes for the scan: 1 marks bytes that need a closer look. */
static const uint8_t frame_special[256] = {
    ['\n'] = 1,
    ['\r'] = 1,
    [TEL_IAC] = 1,
};

/* The first carry allocation; a typical typed line fits. */
#define FRAME_CARRY_MIN 128

/*
 * Appends n data bytes at p to the carry buffer (the line stays within
 * max_line). The buffer grows on demand, so a client that sends a byte and
 * stops holds a small block, not a whole line's worth.
 */
static void frame_carry(struct frame *f, const char *p, size_t n)
{
    if (n == 0)
        return;
    size_t need = f->carry_len + n;
    if (need > f->carry_cap) {
        size_t cap = f->carry_cap ? f->carry_cap : FRAME_CARRY_MIN;
        while (cap < need)
            cap *= 2;
        f->carry = xreallocarray(f->carry, cap, 1);
        f->carry_cap = cap;
    }
    memcpy(f->carry + f->carry_len, p, n);
    f->carry_len = need;
}

/* Handles one byte of a telnet command sequence; returns a data byte or -1. */
static int frame_telnet(struct frame *f, uint8_t c)
{
    switch (f->state) {
    case FS_IAC:
        if (c == TEL_IAC) {
            f->state = FS_DATA;
            return TEL_IAC;
        }
        f->state = c == TEL_SB                        ? FS_SB
                   : (c >= TEL_WILL && c <= TEL_DONT) ? FS_OPT
                                                      : FS_DATA;
        return -1;
    case FS_OPT:
        f->state = FS_DATA;
        return -1;
    case FS_SB:
        if (c == TEL_IAC)
            f->state = FS_SB_IAC;
        return -1;
    default: /* FS_SB_IAC */
        f->state = c == TEL_SE ? FS_DATA : FS_SB;
        return -1;
    }
}

/* Hands out the finished line: in place at [start, end) or via carry. */
static enum frame_result frame_emit(struct frame *f, const char *start,
                                    const char *end, const char **line,
                                    size_t *len)
{
    bool discarded = f->discarding;
    f->discarding = false;
    f->line_len = 0;
    if (discarded) {
        f->carry_len = 0;
        return FRAME_MORE; /* caller loops on */
    }
    if (f->carry_len == 0) {
        *line = start;
        *len = (size_t)(end - start);
        return FRAME_LINE;
    }
    frame_carry(f, start, (size_t)(end - start));
    *line = f->carry;
    *len = f->carry_len;
    f->carry_done = true;
    return FRAME_LINE;
}

/* Drops a carry buffer that the previous call handed out. */
static void frame_drop_done(struct frame *f)
{
    if (f->carry_done) {
        f->carry_done = false;
        f->carry_len = 0;
        free(f->carry);
        f->carry = NULL;
        f->carry_cap = 0;
    }
}

enum frame_result frame_next(struct frame *f, struct frame_input *in,
                             const char **line, size_t *len)
{
    frame_drop_done(f);
    char *start = in->p, *w = in->p;
    char *p = in->p, *end = in->p + in->n;
    while (p < end) {
        if (f->state == FS_CR) {
            /* The line ended at CR; LF or NUL right after belongs to it. */
            f->state = FS_DATA;
            if (*p == '\n' || *p == '\0')
                p++;
            in->n -= (size_t)(p - in->p);
            in->p = p;
            enum frame_result r = frame_emit(f, start, w, line, len);
            if (r == FRAME_LINE)
                return r;
            start = w = p; /* a discarded line: go on with the next */
            continue;
        }
        uint8_t c = (uint8_t)*p++;
        int data = c;
        if (f->state != FS_DATA) {
            data = frame_telnet(f, c);
        } else if (frame_special[c]) {
            if (c == TEL_IAC) {
                f->state = FS_IAC;
                continue;
            }
            if (c == '\r') {
                f->state = FS_CR;
                continue;
            }
            /* LF: the line ends here. */
            in->n -= (size_t)(p - in->p);
            in->p = p;
            enum frame_result r = frame_emit(f, start, w, line, len);
            if (r == FRAME_LINE)
                return r;
            start = w = p;
            continue;
        }
        if (data < 0 || f->discarding)
            continue;
        if (f->line_len == f->max_line) {
            f->discarding = true;
            f->carry_len = 0;
            free(f->carry); /* nothing of this line is kept */
            f->carry = NULL;
            f->carry_cap = 0;
            in->n -= (size_t)(p - in->p);
            in->p = p;
            return FRAME_TOO_LONG;
        }
        f->line_len++;
        *w++ = (char)data;
    }
    /* Input used up inside a line: keep its bytes for the next read. */
    if (!f->discarding)
        frame_carry(f, start, (size_t)(w - start));
    in->p = end;
    in->n = 0;
    return FRAME_MORE;
}

bool frame_finish(struct frame *f, const char **line, size_t *len)
{
    frame_drop_done(f);
    bool have = !f->discarding && (f->carry_len > 0 || f->state == FS_CR);
    f->state = FS_DATA;
    f->discarding = false;
    f->line_len = 0;
    if (!have)
        return false;
    *line = f->carry ? f->carry : "";
    *len = f->carry_len;
    f->carry_done = true;
    return true;
}

bool frame_pending(const struct frame *f)
{
    return (f->carry_len > 0 && !f->carry_done) || f->state != FS_DATA ||
           f->discarding;
}

void frame_reset(struct frame *f)
{
    free(f->carry);
    f->carry = NULL;
    f->carry_cap = 0;
    f->carry_len = f->line_len = 0;
    f->state = FS_DATA;
    f->discarding = f->carry_done = false;
}
