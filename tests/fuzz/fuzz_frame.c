/*
 * fuzz_frame: the line framer against a byte-at-a-time reference model.
 *
 * Input: byte 0 picks max_line (1, 8, 64 or 4096) with its low two bits
 * and raw mode (no telnet: IAC is data) with bit 2; byte 1 gives the number
 * of extra cut points (0-15), each of the next 2-byte pairs one cut point
 * (taken modulo the stream length); the rest is the stream. The stream is
 * framed in one read, at the fuzzer's cut points, and (when short) one byte
 * per read; each must produce exactly the lines, too-long reports and final
 * line that a straightforward reference state machine produces, and the
 * same telnet command reports at the same places (none in raw mode, where
 * the reference takes 255 as a data byte). No line may exceed
 * max_line or hold a CR or LF, and nothing may stay pending after the end.
 * Every report gets an answer from frame_telnet_answer that fits
 * FRAME_ANSWER_MAX, answers no WONT or DONT (that could loop), and refuses
 * every option but DO TIMING-MARK. Every read is copied into a buffer of
 * exactly its size so that the sanitizers catch any access outside it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event/frame.h"
#include "fuzz_check.h"

#define FUZZ_MAX_INPUT (64 * 1024)
#define BYTEWISE_MAX 2048 /* streams up to this long are also fed bytewise */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A growable log of framer results: kind byte, 4-byte length, bytes. */
struct rlog {
    uint8_t *p;
    size_t n, cap;
};

/* Appends one result to the log. */
static void rlog_add(struct rlog *l, char kind, const void *bytes, size_t n)
{
    size_t need = l->n + 5 + n;
    if (need > l->cap) {
        l->cap = need * 2;
        l->p = realloc(l->p, l->cap);
        if (l->p == NULL)
            abort();
    }
    uint32_t len = (uint32_t)n;
    l->p[l->n] = (uint8_t)kind;
    memcpy(l->p + l->n + 1, &len, 4);
    if (n)
        memcpy(l->p + l->n + 5, bytes, n);
    l->n += 5 + n;
}

/* ------------------------------------------------------------------------
 * The reference: one byte at a time, by the letter of docs/protocol.md.
 * ------------------------------------------------------------------------ */

enum ref_state { R_DATA, R_CR, R_IAC, R_OPT, R_SB, R_SB_IAC };

struct ref {
    size_t max_line;
    bool raw;
    uint8_t *line;
    size_t len;
    enum ref_state state;
    bool discarding;
    struct rlog *log;
};

/* A data byte of the current line. */
static void ref_data(struct ref *r, uint8_t c)
{
    if (r->discarding)
        return;
    if (r->len == r->max_line) {
        r->discarding = true;
        rlog_add(r->log, 'T', NULL, 0);
        return;
    }
    r->line[r->len++] = c;
}

/* A telnet command was completed: log it as kind 'C', command and option. */
static void ref_report(struct ref *r, uint8_t cmd, uint8_t opt)
{
    uint8_t b[2] = {cmd, opt};
    rlog_add(r->log, 'C', b, 2);
}

/* The current line ended. */
static void ref_end(struct ref *r)
{
    if (!r->discarding)
        rlog_add(r->log, 'L', r->line, r->len);
    r->discarding = false;
    r->len = 0;
}

/* Frames the whole stream the reference way. */
static void ref_run(size_t max_line, bool raw, const uint8_t *s, size_t n,
                    struct rlog *log)
{
    struct ref r = {.max_line = max_line, .raw = raw, .log = log};
    r.line = malloc(max_line + 1);
    uint8_t verb = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (r.state == R_CR) {
            r.state = R_DATA;
            ref_end(&r);
            if (c == '\n' || c == '\0')
                continue;
        }
        /* A CR or LF cuts a command short and is read as in a line. */
        if ((r.state == R_IAC || r.state == R_OPT) && (c == '\r' || c == '\n'))
            r.state = R_DATA;
        switch (r.state) {
        case R_DATA:
            if (c == 255 && !r.raw)
                r.state = R_IAC;
            else if (c == '\r')
                r.state = R_CR;
            else if (c == '\n')
                ref_end(&r);
            else
                ref_data(&r, c);
            break;
        case R_IAC:
            r.state = c == 250 ? R_SB : (c >= 251 && c <= 254) ? R_OPT : R_DATA;
            if (c == 255)
                ref_data(&r, c);
            else if (c >= 241 && c <= 249)
                ref_report(&r, c, 0);
            verb = c;
            break;
        case R_OPT:
            r.state = R_DATA;
            ref_report(&r, verb, c);
            break;
        case R_SB:
            if (c == 255)
                r.state = R_SB_IAC;
            break;
        case R_SB_IAC:
            r.state = c == 240 ? R_DATA : R_SB;
            break;
        case R_CR:
            abort(); /* handled above */
        }
    }
    if (!r.discarding && (r.len > 0 || r.state == R_CR))
        rlog_add(log, 'E', r.line, r.len);
    free(r.line);
}

/* ------------------------------------------------------------------------
 * The framer under test
 * ------------------------------------------------------------------------ */

/* Checks one line the framer handed out and logs it. */
static void check_line(const struct frame *f, struct rlog *log, char kind,
                       const char *line, size_t len)
{
    if (len > f->max_line)
        fuzz_fail("line longer than max_line", line, len);
    if (memchr(line, '\r', len) || memchr(line, '\n', len))
        fuzz_fail("line holds CR or LF", line, len);
    rlog_add(log, kind, line, len);
}

/* Checks the answer to a reported command and logs the report. */
static void check_report(const struct frame *f, struct rlog *log)
{
    uint8_t cmd = f->tel_cmd, opt = f->tel_opt;
    uint8_t b[2] = {cmd, opt};
    if (cmd <= FRAME_TEL_SE || cmd == FRAME_TEL_SB || cmd == FRAME_TEL_IAC ||
        (cmd < FRAME_TEL_WILL && opt != 0))
        fuzz_fail("impossible report", b, 2);
    char out[FRAME_ANSWER_MAX + 1];
    out[FRAME_ANSWER_MAX] = 0x55;
    bool is_line = true;
    size_t n = frame_telnet_answer(cmd, opt, out, &is_line);
    if (n > FRAME_ANSWER_MAX || out[FRAME_ANSWER_MAX] != 0x55)
        fuzz_fail("answer longer than FRAME_ANSWER_MAX", b, 2);
    bool refusal = n == 3 && (uint8_t)out[0] == FRAME_TEL_IAC &&
                   (uint8_t)out[2] == opt &&
                   (uint8_t)out[1] ==
                       (cmd == FRAME_TEL_DO ? FRAME_TEL_WONT : FRAME_TEL_DONT);
    bool tm = cmd == FRAME_TEL_DO && opt == FRAME_TELOPT_TM;
    if (cmd == FRAME_TEL_WONT || cmd == FRAME_TEL_DONT) {
        if (n != 0)
            fuzz_fail("WONT or DONT answered (a loop)", b, 2);
    } else if ((cmd == FRAME_TEL_DO && !tm) || cmd == FRAME_TEL_WILL) {
        if (!refusal || is_line)
            fuzz_fail("option request not refused", b, 2);
    } else if (tm) {
        if (n != 3 || memcmp(out, "\xff\xfb\x06", 3) != 0)
            fuzz_fail("DO TIMING-MARK not answered WILL", b, 2);
    } else if (is_line != (cmd == FRAME_TEL_AYT) ||
               (is_line && (n < 2 || memcmp(out + n - 2, "\r\n", 2) != 0))) {
        fuzz_fail("wrong answer to a two-byte command", b, 2);
    }
    rlog_add(log, 'C', b, 2);
}

/* Feeds one read of n bytes (copied to an exact-size buffer). */
static void feed(struct frame *f, const uint8_t *p, size_t n, struct rlog *log)
{
    char *copy = malloc(n);
    memcpy(copy, p, n);
    struct frame_input in = {copy, n};
    for (;;) {
        const char *line;
        size_t len;
        enum frame_result r = frame_next(f, &in, &line, &len);
        if (r == FRAME_MORE)
            break;
        if (r == FRAME_TOO_LONG)
            rlog_add(log, 'T', NULL, 0);
        else if (r == FRAME_TELNET && f->raw)
            fuzz_fail("telnet reported in raw mode", p, n);
        else if (r == FRAME_TELNET)
            check_report(f, log);
        else if (r == FRAME_LINE)
            check_line(f, log, 'L', line, len);
        else
            fuzz_fail("unknown frame result", p, n);
    }
    if (in.n != 0)
        fuzz_fail("frame_next left input unconsumed", p, n);
    free(copy);
}

/* Frames the stream read by read, ending at the given sorted cut points. */
static void frame_run(size_t max_line, bool raw, const uint8_t *s, size_t n,
                      const size_t *cuts, size_t ncuts, struct rlog *log)
{
    struct frame f = {.max_line = max_line, .raw = raw};
    size_t at = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : n;
        if (to > at)
            feed(&f, s + at, to - at, log);
        at = to;
    }
    const char *line;
    size_t len;
    if (frame_finish(&f, &line, &len))
        check_line(&f, log, 'E', line, len);
    if (frame_pending(&f))
        fuzz_fail("bytes pending after frame_finish", s, n);
    frame_reset(&f);
}

/* qsort comparator for cut points. */
static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* Aborts unless two logs are identical. */
static void same(const struct rlog *want, const struct rlog *got,
                 const char *what, const uint8_t *s, size_t n)
{
    if (want->n != got->n ||
        (want->n > 0 && memcmp(want->p, got->p, want->n) != 0)) {
        fprintf(stderr, "framing differs: %s\n", what);
        fuzz_fail(what, s, n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t max_lines[4] = {1, 8, 64, 4096};
    if (size < 2 || size > FUZZ_MAX_INPUT)
        return 0;
    size_t max_line = max_lines[data[0] & 3];
    bool raw = data[0] & 4;
    size_t ncuts = data[1] & 15;
    data += 2;
    size -= 2;
    if (size < 2 * ncuts)
        ncuts = size / 2;
    size_t cuts[16];
    const uint8_t *s = data + 2 * ncuts;
    size_t n = size - 2 * ncuts;
    for (size_t i = 0; i < ncuts; i++)
        cuts[i] = (size_t)(data[2 * i] | data[2 * i + 1] << 8) % (n + 1);
    qsort(cuts, ncuts, sizeof cuts[0], cmp_size);

    struct rlog want = {0}, whole = {0}, split = {0};
    ref_run(max_line, raw, s, n, &want);
    frame_run(max_line, raw, s, n, NULL, 0, &whole);
    same(&want, &whole, "one read vs reference", s, n);
    frame_run(max_line, raw, s, n, cuts, ncuts, &split);
    same(&want, &split, "fuzzer's cut points vs reference", s, n);
    if (n <= BYTEWISE_MAX && n > 1) {
        size_t *all = malloc((n - 1) * sizeof *all);
        for (size_t i = 0; i < n - 1; i++)
            all[i] = i + 1;
        split.n = 0;
        frame_run(max_line, raw, s, n, all, n - 1, &split);
        free(all);
        same(&want, &split, "one byte per read vs reference", s, n);
    }
    free(want.p);
    free(whole.p);
    free(split.p);
    return 0;
}
