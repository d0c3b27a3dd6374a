/*
 * Unit tests for frame.c: line ends, telnet IAC removal, the line limit,
 * the end of the stream, and that the way input is split into reads never
 * changes the lines that come out.
 */
#include "frame.h"

#include "unit.h"

/* ------------------------------------------------------------------------
 * Helpers: feed chunks, log what the framer hands out as readable text.
 * ------------------------------------------------------------------------ */

/* A readable record of framer results: "L:abc|T|E:def|". */
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

/* Frames n bytes fed at the given cut points (sorted, within 0..n). */
static void frame_cuts(size_t max_line, const char *p, size_t n,
                       const size_t *cuts, size_t ncuts, struct flog *l)
{
    struct frame f = {.max_line = max_line};
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
static const char *frame_str(size_t max_line, const char *s, size_t n)
{
    static struct flog l;
    frame_cuts(max_line, s, n, NULL, 0, &l);
    return l.s;
}

/* Frames a string literal (which may contain NULs) in one read. */
#define FRAME(max, lit) frame_str(max, lit, sizeof lit - 1)

/*
 * Checks that feeding s split at every single point, at every pair of
 * points, and one byte at a time logs the same as one read.
 */
static void check_splits(size_t max_line, const char *s, size_t n)
{
    struct flog whole, part;
    frame_cuts(max_line, s, n, NULL, 0, &whole);
    for (size_t i = 1; i < n; i++) {
        frame_cuts(max_line, s, n, &i, 1, &part);
        if (strcmp(whole.s, part.s) != 0) {
            printf("    split at %zu:\n", i);
            CHECK_STR(part.s, whole.s);
            return;
        }
        for (size_t j = i + 1; j < n; j++) {
            size_t cuts[2] = {i, j};
            frame_cuts(max_line, s, n, cuts, 2, &part);
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
    frame_cuts(max_line, s, n, all, n ? n - 1 : 0, &part);
    free(all);
    CHECK_STR(part.s, whole.s);
}

#define SPLITS(max, lit) check_splits(max, lit, sizeof lit - 1)

/* ------------------------------------------------------------------------
 * Line ends
 * ------------------------------------------------------------------------ */

TEST(lf_ends_lines)
{
    CHECK_STR(FRAME(64, "abc\ndef\n"), "L:abc|L:def|");
}

TEST(crlf_ends_lines)
{
    CHECK_STR(FRAME(64, "abc\r\ndef\r\n"), "L:abc|L:def|");
}

TEST(cr_nul_ends_lines)
{
    CHECK_STR(FRAME(64, "abc\r\0def\r\0"), "L:abc|L:def|");
}

TEST(cr_then_other_byte_starts_next_line)
{
    CHECK_STR(FRAME(64, "abc\rdef\n"), "L:abc|L:def|");
    CHECK_STR(FRAME(64, "a\rb\rc\r\n"), "L:a|L:b|L:c|");
}

TEST(empty_lines_of_every_kind)
{
    /* LF, CRLF, CR NUL, CR followed by CR, CRLF: five empty lines. */
    CHECK_STR(FRAME(64, "\n\r\n\r\0\r\r\n"), "L:|L:|L:|L:|L:|");
}

TEST(nul_inside_a_line_is_data)
{
    CHECK_STR(FRAME(64, "a\0b\n"), "L:a\\x00b|");
}

TEST(lf_cr_is_two_line_ends)
{
    /* LF ends "a"; the CR then ends an empty line at the end of input. */
    CHECK_STR(FRAME(64, "a\n\rb\n"), "L:a|L:|L:b|");
}

TEST(cr_at_end_of_input_waits_for_next_byte)
{
    struct frame f = {.max_line = 64};
    struct flog l = {.n = 0};
    feed(&f, &l, "abc\r", 4);
    CHECK_STR(l.s, "");
    CHECK(frame_pending(&f));
    feed(&f, &l, "\n", 1); /* the LF belongs to the CR: no empty line */
    CHECK_STR(l.s, "L:abc|");
    feed(&f, &l, "x\n", 2);
    CHECK_STR(l.s, "L:abc|L:x|");
    CHECK(!frame_pending(&f));
    frame_reset(&f);
}

TEST(cr_at_end_then_nul_or_other)
{
    struct frame f = {.max_line = 64};
    struct flog l = {.n = 0};
    feed(&f, &l, "abc\r", 4);
    feed(&f, &l, "\0x\n", 3);
    CHECK_STR(l.s, "L:abc|L:x|");
    feed(&f, &l, "d\r", 2);
    feed(&f, &l, "e\n", 2);
    CHECK_STR(l.s, "L:abc|L:x|L:d|L:e|");
    frame_reset(&f);
}

TEST(cr_at_end_of_stream_is_a_line)
{
    CHECK_STR(FRAME(64, "abc\r"), "E:abc|");
    /* A lone CR at the end is an empty final line (conn ignores it). */
    CHECK_STR(FRAME(64, "\r"), "E:|");
}

/* ------------------------------------------------------------------------
 * Telnet
 * ------------------------------------------------------------------------ */

TEST(iac_iac_is_byte_255)
{
    CHECK_STR(FRAME(64, "a\xff\xff"
                        "b\n"),
              "L:a\\xffb|");
    CHECK_STR(FRAME(64, "\xff\xff\xff\xff\n"), "L:\\xff\\xff|");
}

TEST(iac_will_wont_do_dont_removed)
{
    CHECK_STR(FRAME(64, "a\xff\xfb\x01"
                        "b\xff\xfc\x01"
                        "c\xff\xfd\x03"
                        "d\xff\xfe\x18"
                        "e\n"),
              "L:abcde|");
}

TEST(option_byte_is_never_data)
{
    /* The option byte may be LF, CR or IAC: it is still swallowed. */
    CHECK_STR(FRAME(64, "a\xff\xfd\nb\n"), "L:ab|");
    CHECK_STR(FRAME(64, "a\xff\xfd\rb\n"), "L:ab|");
    CHECK_STR(FRAME(64, "a\xff\xfd\xff"
                        "b\n"),
              "L:ab|");
}

TEST(iac_sb_se_removed)
{
    /* IAC SB TTYPE IS "xterm" IAC SE */
    CHECK_STR(FRAME(64, "a\xff\xfa\x18\x00xterm\xff\xf0"
                        "b\n"),
              "L:ab|");
    /* NAWS with an escaped 255 and a LF inside the subnegotiation. */
    CHECK_STR(FRAME(64, "\xff\xfa\x1f\x00\xff\xff\x00\n\xff\xf0ok\n"),
              "L:ok|");
    /* IAC followed by something other than SE inside SB stays in SB. */
    CHECK_STR(FRAME(64, "\xff\xfa\x01\xff\x01x\n\xff\xf0y\n"), "L:y|");
}

TEST(two_byte_commands_removed)
{
    /* NOP, AYT, GA, and a CR used as a command byte. */
    CHECK_STR(FRAME(64, "a\xff\xf1"
                        "b\xff\xf6"
                        "c\xff\xf9"
                        "d\xff\re\n"),
              "L:abcde|");
}

TEST(iac_at_end_of_stream)
{
    CHECK_STR(FRAME(64, "abc\xff"), "E:abc|");
    CHECK_STR(FRAME(64, "\xff"), "");
    CHECK_STR(FRAME(64, "\xff\xfa"
                        "abc"),
              "");
}

/* ------------------------------------------------------------------------
 * Splitting
 * ------------------------------------------------------------------------ */

TEST(splits_line_ends)
{
    SPLITS(64, "abc\ndef\r\nghi\r\0jkl\rmno\r\r\n\n\rx");
    SPLITS(64, "\r\r\r\0\r\n\n\n\r");
}

TEST(splits_telnet)
{
    SPLITS(64, "a\xff\xff"
               "b\xff\xfb\x01"
               "c\xff\xfa\x18\x00xt\xff\xff\n\xff\xf0"
               "d\r\n\xff\xf1"
               "e\xff\xfd\n\n");
    SPLITS(64, "\xff\xfa\xff\xf0\xff\xfe\r\r\xff\xff\r\0");
}

TEST(splits_limit)
{
    SPLITS(8, "12345678\n123456789\nok\r\n");
    SPLITS(8, "1234567890123456789012\r\nok\r1234\xff\xff"
              "5678\rx\n");
    SPLITS(4, "abcd\rabcde\r\0abc\xff\xfb\x01"
              "d\r");
    SPLITS(4, "abcdefgh");
}

/* ------------------------------------------------------------------------
 * The line limit
 * ------------------------------------------------------------------------ */

TEST(limit_exactly_max_line_accepted)
{
    CHECK_STR(FRAME(8, "12345678\n"), "L:12345678|");
    CHECK_STR(FRAME(8, "12345678\r\n"), "L:12345678|");
    CHECK_STR(FRAME(8, "12345678"), "E:12345678|");
}

TEST(limit_one_over_reported_once_then_next_line_fine)
{
    CHECK_STR(FRAME(8, "123456789\nok\n"), "T|L:ok|");
    CHECK_STR(FRAME(8, "123456789012345678901234567890\r\nok\n"),
              "T|L:ok|");
    CHECK_STR(FRAME(8, "123456789\rok\r\0"), "T|L:ok|");
}

TEST(limit_report_comes_when_the_line_passes_it)
{
    struct frame f = {.max_line = 8};
    struct flog l = {.n = 0};
    feed(&f, &l, "12345678", 8);
    CHECK_STR(l.s, "");
    feed(&f, &l, "9", 1);
    CHECK_STR(l.s, "T|");
    feed(&f, &l, "more and more bytes", 19);
    CHECK_STR(l.s, "T|");
    CHECK(frame_pending(&f));
    feed(&f, &l, "end\nnext\n", 9);
    CHECK_STR(l.s, "T|L:next|");
    frame_reset(&f);
}

TEST(limit_counts_bytes_after_iac_removal)
{
    /* Nine data bytes (one of them an escaped 255): too long. */
    CHECK_STR(FRAME(8, "1234\xff\xff"
                       "5678\n"),
              "T|");
    /* Eight data bytes around a 3-byte option command: fine. */
    CHECK_STR(FRAME(8, "1234\xff\xfb\x01"
                       "5678\n"),
              "L:12345678|");
}

TEST(limit_too_long_final_line_is_dropped)
{
    CHECK_STR(FRAME(8, "ok\n123456789"), "L:ok|T|");
}

/* ------------------------------------------------------------------------
 * End of stream and the carry buffer
 * ------------------------------------------------------------------------ */

TEST(finish_hands_out_final_line)
{
    struct frame f = {.max_line = 64};
    struct flog l = {.n = 0};
    feed(&f, &l, "abc\ndef", 7);
    CHECK_STR(l.s, "L:abc|");
    CHECK(frame_pending(&f));
    const char *line;
    size_t len;
    REQUIRE(frame_finish(&f, &line, &len));
    CHECK_MEM(line, len, "def");
    CHECK(!frame_pending(&f));
    CHECK(!frame_finish(&f, &line, &len));
    frame_reset(&f);
    CHECK(f.carry == NULL);
}

TEST(finish_without_pending_line)
{
    struct frame f = {.max_line = 64};
    const char *line;
    size_t len;
    CHECK(!frame_finish(&f, &line, &len));
    struct flog l = {.n = 0};
    feed(&f, &l, "abc\n", 4);
    CHECK(!frame_pending(&f));
    CHECK(!frame_finish(&f, &line, &len));
    frame_reset(&f);
}

TEST(carried_line_is_copied_and_freed)
{
    struct frame f = {.max_line = 64};
    char a[] = "hel", b[] = "lo\nrest";
    struct frame_input in = {a, 3};
    const char *line;
    size_t len;
    CHECK_EQ(frame_next(&f, &in, &line, &len), FRAME_MORE);
    CHECK(f.carry != NULL);
    CHECK(frame_pending(&f));
    in.p = b;
    in.n = 7;
    REQUIRE(frame_next(&f, &in, &line, &len) == FRAME_LINE);
    CHECK_MEM(line, len, "hello");
    CHECK(line == f.carry); /* a line that straddles reads lives in carry */
    CHECK_EQ(in.n, 4);
    CHECK_EQ(frame_next(&f, &in, &line, &len), FRAME_MORE);
    /* "rest" is pending in a fresh carry; the old one was freed. */
    CHECK_EQ(f.carry_len, 4);
    char c[] = "\n";
    in.p = c;
    in.n = 1;
    REQUIRE(frame_next(&f, &in, &line, &len) == FRAME_LINE);
    CHECK_MEM(line, len, "rest");
    char d[] = "x";
    in.p = d;
    in.n = 0;
    CHECK_EQ(frame_next(&f, &in, &line, &len), FRAME_MORE);
    CHECK(f.carry == NULL);
    CHECK(!frame_pending(&f));
    frame_reset(&f);
}

TEST(whole_line_is_handed_out_in_place)
{
    struct frame f = {.max_line = 64};
    char a[] = "one\ntwo\n";
    struct frame_input in = {a, 8};
    const char *line;
    size_t len;
    REQUIRE(frame_next(&f, &in, &line, &len) == FRAME_LINE);
    CHECK(line == a);
    CHECK_MEM(line, len, "one");
    REQUIRE(frame_next(&f, &in, &line, &len) == FRAME_LINE);
    CHECK(line == a + 4);
    CHECK_EQ(frame_next(&f, &in, &line, &len), FRAME_MORE);
    CHECK(f.carry == NULL);
    frame_reset(&f);
}

TEST(carry_freed_after_final_line)
{
    struct frame f = {.max_line = 64};
    struct flog l = {.n = 0};
    feed(&f, &l, "tail", 4);
    CHECK(f.carry != NULL);
    const char *line;
    size_t len;
    REQUIRE(frame_finish(&f, &line, &len));
    CHECK_MEM(line, len, "tail");
    /* Reuse after the end: the handed-out carry goes at the next call. */
    feed(&f, &l, "x\n", 2);
    CHECK(f.carry == NULL);
    CHECK_STR(l.s, "L:x|");
    frame_reset(&f);
}

TEST(carry_freed_after_discarded_long_line)
{
    /*
     * A long line that straddles reads is copied into the carry buffer,
     * then discarded. Once its end has passed nothing is pending, so the
     * idle stream should hold no buffer (as after any other line).
     */
    struct frame f = {.max_line = 8};
    struct flog l = {.n = 0};
    feed(&f, &l, "12345", 5);
    feed(&f, &l, "67890\n", 6);
    feed(&f, &l, "ok\n", 3);
    CHECK_STR(l.s, "T|L:ok|");
    CHECK(!frame_pending(&f));
    CHECK(f.carry == NULL);
    frame_reset(&f);
}

TEST(reset_makes_framer_reusable)
{
    struct frame f = {.max_line = 8};
    struct flog l = {.n = 0};
    feed(&f, &l, "abc\r", 4);
    frame_reset(&f);
    CHECK(f.carry == NULL);
    CHECK(!frame_pending(&f));
    feed(&f, &l, "123456789", 9);
    frame_reset(&f);
    CHECK(!frame_pending(&f));
    feed(&f, &l, "\nxy\n", 4);
    /* After reset the LF is an empty line of its own, not the CR's. */
    CHECK_STR(l.s, "T|L:|L:xy|");
    frame_reset(&f);
}

UNIT_MAIN()
