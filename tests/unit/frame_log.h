/*
 * frame_log: helpers for the framer's unit tests (test_frame.c and
 * test_frame_raw.c). They feed input in chunks and log what the framer
 * hands out as readable text, so a test compares one string.
 */
#ifndef PARLEY_TEST_FRAME_LOG_H
#define PARLEY_TEST_FRAME_LOG_H

#include "event/frame.h"

#include "unit.h"

/* ------------------------------------------------------------------------
 * Helpers: feed chunks, log what the framer hands out as readable text.
 * ------------------------------------------------------------------------ */

/*
 * A readable record of framer results: "L:abc|T|@do6|E:def|", where L is a
 * line, T a too-long report, @ a telnet command (name, then the option of
 * WILL/WONT/DO/DONT in decimal) and E the final line.
 */
struct flog {
    char s[8192];
    size_t n;
};

/* Appends one character to the log (silently truncating). */
static void flog_putc(struct flog *l, char c)
{
    if (l->n + 1 < sizeof l->s) {
        l->s[l->n++] = c;
        l->s[l->n] = '\0';
    }
}

/* Appends a NUL-terminated string to the log. */
static void flog_puts(struct flog *l, const char *s)
{
    while (*s)
        flog_putc(l, *s++);
}

/* Appends n bytes, escaping '|', '\\' and unprintable bytes as \xNN. */
static void flog_bytes(struct flog *l, const char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c >= 0x7f || c == '|' || c == '\\') {
            flog_putc(l, '\\');
            flog_putc(l, 'x');
            flog_putc(l, hex[c >> 4]);
            flog_putc(l, hex[c & 15]);
        } else {
            flog_putc(l, (char)c);
        }
    }
}

/* Logs the telnet command the framer reported, e.g. "@do6|" or "@ayt|". */
static void flog_telnet(struct flog *l, const struct frame *f)
{
    static const char *const names[] = {
        [FRAME_TEL_NOP - FRAME_TEL_SE] = "nop",
        [FRAME_TEL_DM - FRAME_TEL_SE] = "dm",
        [FRAME_TEL_BRK - FRAME_TEL_SE] = "brk",
        [FRAME_TEL_IP - FRAME_TEL_SE] = "ip",
        [FRAME_TEL_AO - FRAME_TEL_SE] = "ao",
        [FRAME_TEL_AYT - FRAME_TEL_SE] = "ayt",
        [FRAME_TEL_EC - FRAME_TEL_SE] = "ec",
        [FRAME_TEL_EL - FRAME_TEL_SE] = "el",
        [FRAME_TEL_GA - FRAME_TEL_SE] = "ga",
        [FRAME_TEL_WILL - FRAME_TEL_SE] = "will",
        [FRAME_TEL_WONT - FRAME_TEL_SE] = "wont",
        [FRAME_TEL_DO - FRAME_TEL_SE] = "do",
        [FRAME_TEL_DONT - FRAME_TEL_SE] = "dont",
    };
    REQUIRE(f->tel_cmd > FRAME_TEL_SE && f->tel_cmd < FRAME_TEL_IAC &&
            f->tel_cmd != FRAME_TEL_SB);
    flog_putc(l, '@');
    flog_puts(l, names[f->tel_cmd - FRAME_TEL_SE]);
    if (f->tel_cmd >= FRAME_TEL_WILL) {
        char num[4];
        snprintf(num, sizeof num, "%u", f->tel_opt);
        flog_puts(l, num);
    } else {
        CHECK_EQ(f->tel_opt, 0);
    }
    flog_putc(l, '|');
}

/*
 * Feeds one chunk (copied into a buffer of exactly its size, so that the
 * sanitizers see any read past it) and logs every result until the framer
 * wants more input.
 */
static void feed(struct frame *f, struct flog *l, const char *p, size_t n)
{
    char *copy = malloc(n ? n : 1);
    REQUIRE(copy != NULL);
    memcpy(copy, p, n);
    struct frame_input in = {copy, n};
    for (;;) {
        const char *line = NULL;
        size_t len = 0;
        enum frame_result r = frame_next(f, &in, &line, &len);
        if (r == FRAME_MORE)
            break;
        if (r == FRAME_TOO_LONG) {
            flog_puts(l, "T|");
            continue;
        }
        if (r == FRAME_TELNET) {
            flog_telnet(l, f);
            continue;
        }
        REQUIRE(r == FRAME_LINE);
        CHECK(len <= f->max_line);
        flog_puts(l, "L:");
        flog_bytes(l, line, len);
        flog_putc(l, '|');
    }
    CHECK_EQ(in.n, 0);
    free(copy);
}

/* Ends the stream: logs a final line if frame_finish hands one out. */
static void finish(struct frame *f, struct flog *l)
{
    const char *line = NULL;
    size_t len = 0;
    if (frame_finish(f, &line, &len)) {
        CHECK(len <= f->max_line);
        flog_puts(l, "E:");
        flog_bytes(l, line, len);
        flog_putc(l, '|');
    }
}

/*
 * Frames n bytes fed at the given cut points (sorted, within 0..n), with
 * telnet or (raw) without.
 */
static void frame_cuts(size_t max_line, bool raw, const char *p, size_t n,
                       const size_t *cuts, size_t ncuts, struct flog *l)
{
    struct frame f = {.max_line = max_line, .raw = raw};
    size_t at = 0;
    l->n = 0;
    l->s[0] = '\0';
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : n;
        if (to > at)
            feed(&f, l, p + at, to - at);
        at = to;
    }
    finish(&f, l);
    frame_reset(&f);
    CHECK(f.carry == NULL);
}

/* Frames the string s in one read and returns the log (static storage). */
static const char *frame_str(size_t max_line, bool raw, const char *s, size_t n)
{
    static struct flog l;
    frame_cuts(max_line, raw, s, n, NULL, 0, &l);
    return l.s;
}

/* Frames a string literal (which may contain NULs) in one read. */
#define FRAME(max, lit) frame_str(max, false, lit, sizeof lit - 1)
/* The same without telnet (struct frame's raw set). */
#define FRAME_RAW(max, lit) frame_str(max, true, lit, sizeof lit - 1)

/*
 * Checks that feeding s split at every single point, at every pair of
 * points, and one byte at a time logs the same as one read.
 */
static void check_splits(size_t max_line, bool raw, const char *s, size_t n)
{
    struct flog whole, part;
    frame_cuts(max_line, raw, s, n, NULL, 0, &whole);
    for (size_t i = 1; i < n; i++) {
        frame_cuts(max_line, raw, s, n, &i, 1, &part);
        if (strcmp(whole.s, part.s) != 0) {
            printf("    split at %zu:\n", i);
            CHECK_STR(part.s, whole.s);
            return;
        }
        for (size_t j = i + 1; j < n; j++) {
            size_t cuts[2] = {i, j};
            frame_cuts(max_line, raw, s, n, cuts, 2, &part);
            if (strcmp(whole.s, part.s) != 0) {
                printf("    split at %zu and %zu:\n", i, j);
                CHECK_STR(part.s, whole.s);
                return;
            }
        }
    }
    size_t *all = malloc((n ? n : 1) * sizeof *all);
    REQUIRE(all != NULL);
    for (size_t i = 0; i < n; i++)
        all[i] = i + 1;
    frame_cuts(max_line, raw, s, n, all, n ? n - 1 : 0, &part);
    free(all);
    CHECK_STR(part.s, whole.s);
}

#define SPLITS(max, lit) check_splits(max, false, lit, sizeof lit - 1)
#define SPLITS_RAW(max, lit) check_splits(max, true, lit, sizeof lit - 1)

#endif
