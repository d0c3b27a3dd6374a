/*
 * Unit tests for sanitize.c: valid UTF-8 passes, each maximal invalid
 * subsequence becomes one U+FFFD, control characters other than TAB go,
 * so do bidi embeddings, overrides and isolates, line and paragraph
 * separators become spaces, trailing blanks are trimmed, and clean input is
 * returned as is.
 */
#include "lib/sanitize.h"

#include "unit.h"

#define FFFD "\xef\xbf\xbd"

/* The result of one sanitize_line call. */
struct san {
    const char *p; /* what sanitize_line returned */
    size_t n;
    bool same;     /* it returned the input pointer */
};

/*
 * Sanitizes n bytes at s, copied into a buffer of exactly n bytes and with
 * an output buffer of exactly SANITIZE_MAX(n) bytes, so the sanitizers see
 * any access out of bounds. The result lives until the next call.
 */
static struct san san(const char *s, size_t n)
{
    static char *in, *out;
    free(in);
    free(out);
    in = malloc(n ? n : 1);
    out = malloc(n ? SANITIZE_MAX(n) : 1);
    if (n)
        memcpy(in, s, n);
    struct san r;
    r.n = (size_t)-1;
    r.p = sanitize_line(in, n, out, &r.n);
    r.same = r.p == in;
    return r;
}

/* Sanitizes a string literal (which may hold NULs). */
#define SAN(lit) san(lit, sizeof lit - 1)

/* Checks the result of sanitizing lit against the literal want. */
#define CHECK_SAN(lit, want)                                                \
    do {                                                                    \
        struct san r_ = SAN(lit);                                           \
        CHECK_EQ_MEM(r_.p, r_.n, want, sizeof want - 1);                    \
    } while (0)

/* Checks that each of the n strings is clean and returned as it is. */
static void check_kept(const char *const *ok, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct san r = san(ok[i], strlen(ok[i]));
        CHECK(r.same);
        CHECK_MEM(r.p, r.n, ok[i]);
        CHECK(sanitize_is_clean(ok[i], strlen(ok[i])));
    }
}

/* ------------------------------------------------------------------------
 * Valid input and the fast path
 * ------------------------------------------------------------------------ */

TEST(ascii_returns_input_pointer)
{
    struct san r = SAN("hello, world");
    CHECK(r.same);
    CHECK_MEM(r.p, r.n, "hello, world");
}

TEST(valid_utf8_kept_on_fast_path)
{
    static const char *const ok[] = {
        "caf\xc3\xa9",              /* U+00E9 */
        "\xc2\xa0",                 /* U+00A0, first after the C1 block */
        "\xdf\xbf",                 /* U+07FF */
        "\xe0\xa0\x80",             /* U+0800 */
        "\xe2\x82\xac",             /* U+20AC */
        "\xed\x9f\xbf",             /* U+D7FF, last before surrogates */
        "\xee\x80\x80",             /* U+E000 */
        "\xef\xbf\xbf",             /* U+FFFF */
        FFFD,                       /* U+FFFD itself */
        "\xf0\x90\x80\x80",         /* U+10000 */
        "\xf0\x9f\x98\x80 smile",   /* U+1F600, 4 bytes */
        "\xf4\x8f\xbf\xbf",         /* U+10FFFF, the last code point */
        "x\xf3\xa0\x80\x81y",       /* U+E0001 */
    };
    check_kept(ok, sizeof ok / sizeof ok[0]);
}

TEST(tab_kept)
{
    struct san r = SAN("a\tb\tc");
    CHECK(r.same);
    CHECK_MEM(r.p, r.n, "a\tb\tc");
    CHECK(sanitize_is_clean("\t", 1));
}

TEST(trailing_spaces_and_tabs_trimmed_on_fast_path)
{
    struct san r = SAN("hi there \t \t  ");
    CHECK(r.same);
    CHECK_MEM(r.p, r.n, "hi there");
}

TEST(leading_and_inner_spaces_kept)
{
    CHECK_SAN("  a  b", "  a  b");
}

TEST(blank_and_empty_lines_become_empty)
{
    CHECK_EQ(SAN("").n, 0);
    CHECK_EQ(SAN("    ").n, 0);
    CHECK_EQ(SAN(" \t ").n, 0);
    CHECK_EQ(SAN("\x01\x02\x1b").n, 0);
    CHECK_EQ(SAN(" \x7f \xc2\x85 ").n, 0);
}

/* ------------------------------------------------------------------------
 * Invalid UTF-8: one U+FFFD per maximal subpart
 * ------------------------------------------------------------------------ */

TEST(overlong_two_byte)
{
    /* C0 and C1 can never start a sequence: each byte is its own subpart. */
    CHECK_SAN("\xc0\x80", FFFD FFFD);
    CHECK_SAN("a\xc1\xbf"
              "b",
              "a" FFFD FFFD "b");
}

TEST(overlong_three_and_four_byte)
{
    /* E0 needs A0..BF next, F0 needs 90..BF: the lead alone is invalid. */
    CHECK_SAN("\xe0\x80\x80", FFFD FFFD FFFD);
    CHECK_SAN("\xe0\x9f\xbf", FFFD FFFD FFFD);
    CHECK_SAN("\xf0\x80\x80\x80", FFFD FFFD FFFD FFFD);
    CHECK_SAN("\xf0\x8f\xbf\xbf", FFFD FFFD FFFD FFFD);
}

TEST(surrogates)
{
    CHECK_SAN("\xed\xa0\x80", FFFD FFFD FFFD);
    CHECK_SAN("\xed\xbf\xbf", FFFD FFFD FFFD);
    /* A CESU-8 pair: six bytes, six replacements. */
    CHECK_SAN("\xed\xa0\xbd\xed\xb8\x80", FFFD FFFD FFFD FFFD FFFD FFFD);
}

TEST(above_u10ffff_and_f5_to_ff)
{
    CHECK_SAN("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);
    CHECK_SAN("\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD);
    CHECK_SAN("\xf8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD);
    CHECK_SAN("\xfc\x84\x80\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD FFFD);
    CHECK_SAN("\xfe\xff", FFFD FFFD);
}

TEST(truncated_sequences)
{
    /* A valid prefix cut short is one subpart, however long. */
    CHECK_SAN("\xc3x", FFFD "x");
    CHECK_SAN("\xe2\x82x", FFFD "x");
    CHECK_SAN("\xf0\x9f\x98x", FFFD "x");
    CHECK_SAN("\xf0\x9f\x98\xf0\x9f\x98\x80", FFFD "\xf0\x9f\x98\x80");
    /* ... also at the end of the line. */
    CHECK_SAN("a\xc3", "a" FFFD);
    CHECK_SAN("a\xe2\x82", "a" FFFD);
    CHECK_SAN("a\xf0\x9f\x98", "a" FFFD);
    CHECK_SAN("\xf4\x8f\xbf", FFFD);
}

TEST(stray_continuation_bytes)
{
    CHECK_SAN("\x80", FFFD);
    CHECK_SAN("\xbf", FFFD);
    CHECK_SAN("a\x80\x80"
              "b",
              "a" FFFD FFFD "b");
    CHECK_SAN("\xc3\xa9\xa9", "\xc3\xa9" FFFD);
}

TEST(unicode_maximal_subpart_example)
{
    /* The example of Unicode 15 section 3.9 (U+FFFD substitution). */
    CHECK_SAN("\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64",
              "a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d");
}

TEST(invalid_input_is_not_returned_in_place)
{
    struct san r = SAN("ok\xff");
    CHECK(!r.same);
    CHECK_MEM(r.p, r.n, "ok" FFFD);
}

TEST(worst_case_fits_sanitize_max)
{
    char in[300];
    memset(in, 0xff, sizeof in);
    struct san r = san(in, sizeof in);
    CHECK_EQ(r.n, SANITIZE_MAX(sizeof in));
    for (size_t i = 0; i + 3 <= r.n; i += 3)
        CHECK(memcmp(r.p + i, FFFD, 3) == 0);
}

/* ------------------------------------------------------------------------
 * Control characters
 * ------------------------------------------------------------------------ */

TEST(c0_controls_and_del_removed)
{
    CHECK_SAN("a\x01"
              "b\x1b"
              "c\x7f"
              "d\x1f"
              "e",
              "abcde");
    CHECK_SAN("a\0b", "ab");
    CHECK_SAN("\x1b[31mred\x1b[0m", "[31mred[0m");
    CHECK_SAN("bell\x07\x08\x0b\x0c\r\n", "bell");
}

TEST(c1_controls_removed)
{
    CHECK_SAN("a\xc2\x80"
              "b\xc2\x9f"
              "c\xc2\x9b"
              "d",
              "abcd");
    /* U+00A0 is the first code point after the C1 block. */
    CHECK_SAN("\x01\xc2\xa0x", "\xc2\xa0x");
}

TEST(trim_after_removing_controls)
{
    CHECK_SAN("a \x01", "a");
    CHECK_SAN("a \x01 \t\x7f", "a");
    CHECK_SAN("a\xff ", "a" FFFD);
    CHECK_SAN("\x01  a", "  a");
}

/* ------------------------------------------------------------------------
 * Bidi controls and separators
 * ------------------------------------------------------------------------ */

#define LRE "\xe2\x80\xaa"  /* U+202A */
#define RLE "\xe2\x80\xab"  /* U+202B */
#define PDF "\xe2\x80\xac"  /* U+202C */
#define LRO "\xe2\x80\xad"  /* U+202D */
#define RLO "\xe2\x80\xae"  /* U+202E */
#define LRI "\xe2\x81\xa6"  /* U+2066 */
#define RLI "\xe2\x81\xa7"  /* U+2067 */
#define FSI "\xe2\x81\xa8"  /* U+2068 */
#define PDI "\xe2\x81\xa9"  /* U+2069 */
#define LSEP "\xe2\x80\xa8" /* U+2028 */
#define PSEP "\xe2\x80\xa9" /* U+2029 */

TEST(bidi_embeddings_and_overrides_removed)
{
    /* "Trojan source": RLO makes "txt.exe" show as "exe.txt". */
    CHECK_SAN("invoice" RLO "txt.exe", "invoicetxt.exe");
    CHECK_SAN("a" LRE "b" RLE "c" PDF "d" LRO "e" RLO "f", "abcdef");
    /* Unbalanced, at the end, alone. */
    CHECK_SAN("x" RLO, "x");
    CHECK_EQ(SAN(RLO RLO PDF).n, 0);
}

TEST(bidi_isolates_removed)
{
    CHECK_SAN("a" LRI "b" RLI "c" FSI "d" PDI "e", "abcde");
    CHECK_SAN(RLI "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d" PDI " ok",
              "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d ok");
}

TEST(deprecated_format_controls_removed)
{
    /* U+206A..U+206F: symmetric swapping, Arabic shaping, digit shapes. */
    CHECK_SAN("a\xe2\x81\xaa"
              "b\xe2\x81\xab"
              "c\xe2\x81\xac"
              "d\xe2\x81\xad"
              "e\xe2\x81\xae"
              "f\xe2\x81\xaf"
              "g",
              "abcdefg");
}

TEST(line_and_paragraph_separators_become_spaces)
{
    CHECK_SAN("one" LSEP "two" PSEP "three", "one two three");
    /* A separator at the end becomes a space and is trimmed. */
    CHECK_SAN("end" LSEP PSEP, "end");
    CHECK_SAN(LSEP "lead", " lead");
    CHECK_EQ(SAN(LSEP PSEP " \t").n, 0);
}

TEST(bidi_marks_and_other_invisibles_kept)
{
    /* LRM, RLM and ALM have no scope: kept, as any RTL letter would be. */
    static const char *const ok[] = {
        "a\xe2\x80\x8ez", /* U+200E LEFT-TO-RIGHT MARK */
        "a\xe2\x80\x8fz", /* U+200F RIGHT-TO-LEFT MARK */
        "a\xd8\x9cz",     /* U+061C ARABIC LETTER MARK */
        "a\xef\xbb\xbfz", /* U+FEFF ZERO WIDTH NO-BREAK SP */
        "a\xe2\x80\x8bz", /* U+200B ZERO WIDTH SPACE */
        "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb", /* ZWJ emoji */
        "a\xe2\x81\xa0z",                               /* U+2060 WORD JOINER */
        "a\xe2\x80\xa7\xe2\x80\xafz", /* U+2027, U+202F: next door */
        "a\xe2\x81\xa5\xe2\x81\xb0z", /* U+2065, U+2070: next door */
        "a\xe2\x82\xa8\xe2\x81\x88z", /* other middle byte */
        "a\xe3\x80\xa8\xe1\x80\xaez", /* other lead byte */
    };
    check_kept(ok, sizeof ok / sizeof ok[0]);
}

TEST(every_code_point_from_2000_to_2fff)
{
    /* Exactly U+2028..U+202E and U+2066..U+206F change in this block. */
    for (unsigned cp = 0x2000; cp <= 0x2fff; cp++) {
        char in[5] = {'a', (char)(0xe0 | cp >> 12),
                      (char)(0x80 | (cp >> 6 & 0x3f)),
                      (char)(0x80 | (cp & 0x3f)), 'b'};
        struct san r = san(in, 5);
        bool space = cp == 0x2028 || cp == 0x2029;
        bool drop =
            (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x206f);
        if (space)
            CHECK_MEM(r.p, r.n, "a b");
        else if (drop)
            CHECK_MEM(r.p, r.n, "ab");
        else
            CHECK(r.same && r.n == 5);
        CHECK_EQ(sanitize_is_clean(in, 5), !space && !drop);
    }
}

TEST(is_clean)
{
    CHECK(sanitize_is_clean("", 0));
    CHECK(sanitize_is_clean("abc \xc3\xa9", 6));
    CHECK(!sanitize_is_clean("a\nb", 3));
    CHECK(!sanitize_is_clean("\x7f", 1));
    CHECK(!sanitize_is_clean("\xc2\x85", 2));
    CHECK(!sanitize_is_clean("\xc3", 1));
    CHECK(!sanitize_is_clean("\xed\xa0\x80", 3));
    CHECK(!sanitize_is_clean("\0", 1));
    CHECK(!sanitize_is_clean(RLO, 3));
    CHECK(!sanitize_is_clean("a" PDI, 4));
    CHECK(!sanitize_is_clean(LSEP, 3));
}

TEST(output_is_a_fixed_point)
{
    static const char *const in[] = {
        "a\x01\xff\xc2\x80 \t",
        "\xe0\x80\x80\xf0\x9f\x98 x ",
        "\x1b]0;title\x07 text\xed\xa0\x80",
        "\x80\x80\x80\xc2\xa0\xc2\xa0 ",
        "a" LSEP RLO "b" PSEP " " PDI,
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        struct san r = san(in[i], strlen(in[i]));
        char once[256];
        REQUIRE(r.n <= sizeof once);
        memcpy(once, r.p, r.n);
        size_t n1 = r.n;
        CHECK(sanitize_is_clean(once, n1));
        CHECK(n1 == 0 || (once[n1 - 1] != ' ' && once[n1 - 1] != '\t'));
        struct san again = san(once, n1);
        CHECK(again.same);
        CHECK_EQ_MEM(again.p, again.n, once, n1);
    }
}

UNIT_MAIN()
