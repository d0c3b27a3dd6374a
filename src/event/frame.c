/*
 * frame: splits a byte stream into lines, the way a telnet client sends them.
 *
 * Data bytes of a line are compacted in place at the front of the input as
 * they are scanned, so a line that arrives whole in one read is handed out
 * without a copy. Only a line that straddles reads, or one that a reported
 * telnet command interrupts, is copied, into carry.
 */
#include "event/frame.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"

enum frame_state {
    FS_DATA,   /* inside a line */
    FS_CR,     /* just after a CR that ended the line */
    FS_IAC,    /* after IAC */
    FS_OPT,    /* after IAC WILL/WONT/DO/DONT (in tel_cmd): the option */
    FS_SB,     /* inside a subnegotiation, until IAC SE */
    FS_SB_IAC, /* after IAC inside a subnegotiation */
};

/* What one input byte turned out to be. */
enum frame_step {
    STEP_DATA,   /* a data byte of the line (IAC IAC gives 255) */
    STEP_SKIP,   /* part of a line end or of a telnet command: dropped */
    STEP_END,    /* the line ends here */
    STEP_REPORT, /* it completed a telnet command to report */
};

/* The answer to AYT: a line that shows the connection is alive. */
static const char frame_ayt_answer[] = "* yes, parley is here\r\n";
_Static_assert(sizeof frame_ayt_answer - 1 <= FRAME_ANSWER_MAX,
               "the AYT answer fits FRAME_ANSWER_MAX");

/* Byte classes for the scan: 1 marks bytes that need a closer look. */
static const uint8_t frame_special[256] = {
    ['\n'] = 1,
    ['\r'] = 1,
    [FRAME_TEL_IAC] = 1,
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

/* A CR or LF in a line: LF ends it, CR waits to see the byte after it. */
static enum frame_step frame_eol(struct frame *f, uint8_t c)
{
    if (c == '\n') {
        f->state = FS_DATA;
        return STEP_END;
    }
    f->state = FS_CR;
    return STEP_SKIP;
}

/*
 * Handles one byte c that follows IAC or belongs to a command or a
 * subnegotiation. A CR or LF right after IAC or as an option byte is no
 * part of a command: it cuts the command short and is a line end.
 */
static enum frame_step frame_telnet(struct frame *f, uint8_t c)
{
    bool eol = c == '\r' || c == '\n';
    switch (f->state) {
    case FS_IAC:
        f->state = FS_DATA;
        if (eol)
            return frame_eol(f, c);
        if (c == FRAME_TEL_IAC)
            return STEP_DATA;
        if (c <= FRAME_TEL_SE)
            return STEP_SKIP; /* not a command, or SE outside SB */
        if (c == FRAME_TEL_SB) {
            f->state = FS_SB;
            return STEP_SKIP;
        }
        f->tel_cmd = c;
        f->tel_opt = 0;
        if (c < FRAME_TEL_WILL)
            return STEP_REPORT;
        f->state = FS_OPT;
        return STEP_SKIP;
    case FS_OPT:
        if (eol)
            return frame_eol(f, c);
        f->state = FS_DATA;
        f->tel_opt = c;
        return STEP_REPORT;
    case FS_SB:
        if (c == FRAME_TEL_IAC)
            f->state = FS_SB_IAC;
        return STEP_SKIP;
    default: /* FS_SB_IAC */
        f->state = c == FRAME_TEL_SE ? FS_DATA : FS_SB;
        return STEP_SKIP;
    }
}

/* Classifies one input byte c and moves the state on (not in FS_CR). */
static inline enum frame_step frame_step(struct frame *f, uint8_t c)
{
    if (f->state != FS_DATA)
        return frame_telnet(f, c);
    if (!frame_special[c])
        return STEP_DATA;
    if (c != FRAME_TEL_IAC)
        return frame_eol(f, c);
    if (f->raw)
        return STEP_DATA; /* no telnet: 255 is a byte like any other */
    f->state = FS_IAC;
    return STEP_SKIP;
}

/*
 * The common case, inside a line that is kept: moves the run of plain data
 * bytes at p (up to end, and up to the limit) down to *w, advancing *w.
 * Returns where the run stopped: at end, at a byte that needs a closer
 * look, or at the byte that would pass the limit.
 */
static char *frame_run(struct frame *f, char *p, const char *end, char **w)
{
    char *run = p;
    size_t room = f->max_line - f->line_len;
    size_t avail = (size_t)(end - p);
    const char *stop = p + (avail < room ? avail : room);
    while (p < stop && !frame_special[(uint8_t)*p])
        p++;
    size_t k = (size_t)(p - run);
    if (*w != run)
        memmove(*w, run, k);
    *w += k;
    f->line_len += k;
    return p;
}

/* Marks the input used up to p. */
static void frame_consume(struct frame_input *in, char *p)
{
    in->n -= (size_t)(p - in->p);
    in->p = p;
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

/* The current line just passed the limit: drop what was kept of it. */
static enum frame_result frame_too_long(struct frame *f, struct frame_input *in,
                                        char *p)
{
    f->discarding = true;
    f->carry_len = 0;
    free(f->carry); /* nothing of this line is kept */
    f->carry = NULL;
    f->carry_cap = 0;
    frame_consume(in, p);
    return FRAME_TOO_LONG;
}

/*
 * Reports the telnet command just completed at p: the data bytes of the
 * line so far, at [start, w), go to carry, so the line goes on at the next
 * call (unless it is being discarded).
 */
static enum frame_result frame_report(struct frame *f, struct frame_input *in,
                                      char *p, const char *start, const char *w)
{
    if (!f->discarding)
        frame_carry(f, start, (size_t)(w - start));
    frame_consume(in, p);
    return FRAME_TELNET;
}

enum frame_result frame_next(struct frame *f, struct frame_input *in,
                             const char **line, size_t *len)
{
    frame_drop_done(f);
    char *start = in->p, *w = in->p;
    char *p = in->p, *end = in->p + in->n;
    while (p < end) {
        if (f->state == FS_DATA && !f->discarding) {
            p = frame_run(f, p, end, &w);
            if (p == end)
                break;
        }
        uint8_t c = 0;
        enum frame_step s = STEP_END;
        if (f->state == FS_CR) {
            /* The line ended at CR; LF or NUL right after belongs to it. */
            f->state = FS_DATA;
            if (*p == '\n' || *p == '\0')
                p++;
        } else {
            c = (uint8_t)*p++;
            s = frame_step(f, c);
        }
        if (s == STEP_DATA) {
            if (f->discarding)
                continue;
            if (f->line_len == f->max_line)
                return frame_too_long(f, in, p);
            f->line_len++;
            *w++ = (char)c;
        } else if (s == STEP_REPORT) {
            return frame_report(f, in, p, start, w);
        } else if (s == STEP_END) {
            frame_consume(in, p);
            enum frame_result r = frame_emit(f, start, w, line, len);
            if (r == FRAME_LINE)
                return r;
            start = w = p; /* a discarded line: go on with the next */
        }
    }
    /* Input used up inside a line: keep its bytes for the next read. */
    if (!f->discarding)
        frame_carry(f, start, (size_t)(w - start));
    in->p = end;
    in->n = 0;
    return FRAME_MORE;
}

size_t frame_telnet_answer(uint8_t cmd, uint8_t opt, char *out, bool *is_line)
{
    *is_line = false;
    uint8_t verb;
    switch (cmd) {
    case FRAME_TEL_DO:
        verb = opt == FRAME_TELOPT_TM ? FRAME_TEL_WILL : FRAME_TEL_WONT;
        break;
    case FRAME_TEL_WILL:
        verb = FRAME_TEL_DONT;
        break;
    case FRAME_TEL_AYT:
        *is_line = true;
        memcpy(out, frame_ayt_answer, sizeof frame_ayt_answer - 1);
        return sizeof frame_ayt_answer - 1;
    default:
        return 0; /* WONT, DONT: already so; other commands: nothing */
    }
    out[0] = (char)FRAME_TEL_IAC;
    out[1] = (char)verb;
    out[2] = (char)opt;
    return 3;
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
