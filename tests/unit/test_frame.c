/*
 * Unit tests for frame.c: line ends, telnet IAC removal, the line limit,
 * the end of the stream, and that the way input is split into reads never
 * changes the lines that come out.
 */
#include "event/frame.h"

#include "frame_log.h"

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

TEST(iac_will_wont_do_dont_reported_and_removed)
{
    CHECK_STR(FRAME(64, "a\xff\xfb\x01"
                        "b\xff\xfc\x01"
                        "c\xff\xfd\x03"
                        "d\xff\xfe\x18"
                        "e\n"),
              "@will1|@wont1|@do3|@dont24|L:abcde|");
}

TEST(real_telnet_check_mark_and_ctrl_c)
{
    /* What Debian's telnet sends for "✓" and for ^C in its default mode. */
    CHECK_STR(FRAME(64, "x\xe2\xff\xf3\xff\xfd\x06\x93y\r\n"),
              "@brk|@do6|L:x\\xe2\\x93y|");
    CHECK_STR(FRAME(64, "\xff\xf4\xff\xfd\x06/who\r\n"), "@ip|@do6|L:/who|");
}

TEST(option_byte_may_be_any_byte_but_cr_lf)
{
    /* IAC and NUL as option bytes are options, not data. */
    CHECK_STR(FRAME(64, "a\xff\xfd\xff"
                        "b\n"),
              "@do255|L:ab|");
    CHECK_STR(FRAME(64, "a\xff\xfb\x00"
                        "b\n"),
              "@will0|L:ab|");
    /* A CR or LF as the option byte ends the line; no command is seen. */
    CHECK_STR(FRAME(64, "a\xff\xfd\nb\n"), "L:a|L:b|");
    CHECK_STR(FRAME(64, "a\xff\xfd\rb\n"), "L:a|L:b|");
    CHECK_STR(FRAME(64, "a\xff\xfe\r\nb\n"), "L:a|L:b|");
    CHECK_STR(FRAME(64, "a\xff\xfc\r\0b\n"), "L:a|L:b|");
}

TEST(iac_then_cr_or_lf_ends_the_line)
{
    CHECK_STR(FRAME(64, "one\xff\ntwo\n"), "L:one|L:two|");
    CHECK_STR(FRAME(64, "one\xff\r\ntwo\n"), "L:one|L:two|");
    CHECK_STR(FRAME(64, "one\xff\rtwo\r\0"), "L:one|L:two|");
    /* IAC CR at the end of input: the CR waits for its LF as ever. */
    struct frame f = {.max_line = 64};
    struct flog l = {.n = 0};
    feed(&f, &l, "one\xff", 4);
    feed(&f, &l, "\r", 1);
    CHECK_STR(l.s, "");
    feed(&f, &l, "\ntwo\n", 5);
    CHECK_STR(l.s, "L:one|L:two|");
    frame_reset(&f);
}

TEST(iac_then_other_non_command_byte_dropped)
{
    /* Bytes below SE after IAC are no command: both go, nothing reported;
     * so does an SE outside a subnegotiation. */
    CHECK_STR(FRAME(64, "a\xff"
                        "bc\xff\x00"
                        "d\xff\xf0"
                        "e\n"),
              "L:acde|");
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

TEST(commands_inside_sb_are_not_reported)
{
    /* IAC DO TM and IAC AYT inside a subnegotiation are its bytes. */
    CHECK_STR(FRAME(64, "a\xff\xfa\x18\xff\xfd\x06\xff\xf6\xff\xf0"
                        "b\n"),
              "L:ab|");
    /* After IAC SE, commands are reported again. */
    CHECK_STR(FRAME(64, "\xff\xfa\x18\xff\xf0\xff\xfd\x06ok\n"), "@do6|L:ok|");
}

TEST(two_byte_commands_reported_and_removed)
{
    CHECK_STR(FRAME(64, "a\xff\xf1"
                        "b\xff\xf6"
                        "c\xff\xf9"
                        "d\xff\xf2"
                        "e\xff\xf5\xff\xf7\xff\xf8\n"),
              "@nop|@ayt|@ga|@dm|@ao|@ec|@el|L:abcde|");
    /* A CR right after IAC is no command byte: it ends the line. */
    CHECK_STR(FRAME(64, "d\xff\re\n"), "L:d|L:e|");
}

TEST(command_mid_line_keeps_the_line)
{
    /* A line interrupted by a command goes on at the next call, even when
     * the rest arrives in a later read. */
    struct frame f = {.max_line = 64};
    struct flog l = {.n = 0};
    feed(&f, &l, "hel\xff\xfd\x06lo", 8);
    CHECK_STR(l.s, "@do6|");
    CHECK(frame_pending(&f));
    feed(&f, &l, " there\xff\xf6!\n", 10);
    CHECK_STR(l.s, "@do6|@ayt|L:hello there!|");
    CHECK(!frame_pending(&f));
    frame_reset(&f);
}

TEST(command_mid_line_hands_out_from_carry)
{
    struct frame f = {.max_line = 64};
    char a[] = "ab\xff\xfd\x06"
               "cd\nef\n";
    struct frame_input in = {a, sizeof a - 1};
    const char *line;
    size_t len;
    REQUIRE(frame_next(&f, &in, &line, &len) == FRAME_TELNET);
    CHECK_EQ(f.tel_cmd, FRAME_TEL_DO);
    CHECK_EQ(f.tel_opt, FRAME_TELOPT_TM);
    CHECK_EQ(in.n, 6); /* consumed up to the end of the command */
    REQUIRE(frame_next(&f, &in, &line, &len) == FRAME_LINE);
    CHECK_MEM(line, len, "abcd");
    CHECK(line == f.carry);
    REQUIRE(frame_next(&f, &in, &line, &len) == FRAME_LINE);
    CHECK_MEM(line, len, "ef");
    CHECK(line == a + 8); /* the next line is in place again */
    CHECK_EQ(frame_next(&f, &in, &line, &len), FRAME_MORE);
    CHECK(f.carry == NULL);
    frame_reset(&f);
}

TEST(command_in_a_too_long_line_is_still_reported)
{
    /* Telnet waits for the answer to DO TM whatever the line's fate. */
    CHECK_STR(FRAME(4, "123456\xff\xfd\x06"
                       "789\xff\xf4\nok\n"),
              "T|@do6|@ip|L:ok|");
    CHECK_STR(FRAME(4, "12\xff\xfd\x06"
                       "345\nok\n"),
              "@do6|T|L:ok|");
    /* The command's bytes do not count towards the limit. */
    CHECK_STR(FRAME(4, "12\xff\xfb\x01"
                       "34\n"),
              "@will1|L:1234|");
}

TEST(iac_at_end_of_stream)
{
    CHECK_STR(FRAME(64, "abc\xff"), "E:abc|");
    CHECK_STR(FRAME(64, "abc\xff\xfd"), "E:abc|");
    CHECK_STR(FRAME(64, "\xff"), "");
    CHECK_STR(FRAME(64, "\xff\xfa"
                        "abc"),
              "");
}

/* ------------------------------------------------------------------------
 * Answers to telnet commands
 * ------------------------------------------------------------------------ */

/* Returns the answer to cmd/opt as a string of bytes (static storage). */
static const char *answer(uint8_t cmd, uint8_t opt, bool *is_line)
{
    static char out[FRAME_ANSWER_MAX + 1];
    memset(out, 0x55, sizeof out);
    size_t n = frame_telnet_answer(cmd, opt, out, is_line);
    CHECK(n <= FRAME_ANSWER_MAX);
    CHECK_EQ((unsigned char)out[FRAME_ANSWER_MAX], 0x55); /* no overrun */
    out[n <= FRAME_ANSWER_MAX ? n : 0] = '\0';
    return out;
}

TEST(answer_do_timing_mark_with_will)
{
    bool is_line = true;
    CHECK_STR(answer(FRAME_TEL_DO, FRAME_TELOPT_TM, &is_line), "\xff\xfb\x06");
    CHECK(!is_line);
}

TEST(answer_refuses_every_other_option)
{
    for (unsigned opt = 0; opt < 256; opt++) {
        bool is_line = true;
        const char *a = answer(FRAME_TEL_WILL, (uint8_t)opt, &is_line);
        /* WILL x gets DONT x, even for TIMING-MARK: we never want it. */
        char want[4] = {(char)0xff, (char)0xfe, (char)opt, 0};
        CHECK_EQ_MEM(a, 3, want, 3);
        CHECK(!is_line);
        if (opt == FRAME_TELOPT_TM)
            continue;
        a = answer(FRAME_TEL_DO, (uint8_t)opt, &is_line);
        want[1] = (char)0xfc;
        CHECK_EQ_MEM(a, 3, want, 3);
        CHECK(!is_line);
    }
}

TEST(answer_nothing_to_wont_dont_or_other_commands)
{
    /* WONT and DONT ask for what is already so: answering would loop. */
    bool is_line = true;
    for (unsigned opt = 0; opt < 256; opt++) {
        CHECK_STR(answer(FRAME_TEL_WONT, (uint8_t)opt, &is_line), "");
        CHECK_STR(answer(FRAME_TEL_DONT, (uint8_t)opt, &is_line), "");
    }
    for (unsigned cmd = FRAME_TEL_NOP; cmd <= FRAME_TEL_GA; cmd++) {
        if (cmd == FRAME_TEL_AYT)
            continue;
        is_line = true;
        CHECK_STR(answer((uint8_t)cmd, 0, &is_line), "");
        CHECK(!is_line);
    }
}

TEST(answer_ayt_with_a_line)
{
    bool is_line = false;
    CHECK_STR(answer(FRAME_TEL_AYT, 0, &is_line), "* yes, parley is here\r\n");
    CHECK(is_line);
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

TEST(splits_reports)
{
    SPLITS(64, "ab\xff\xfd\x06"
               "cd\xff\xf4\xff\xfb\x1f\xff\n"
               "e\xff\xfd\r\nf\xff\r\0g\xff\xf6\n");
    SPLITS(4, "123\xff\xfd\x06"
              "45\xff\xf6"
              "6\r\xff\xfd\x06\xff\xfa\xff\xfd\x06\xff\xf0x\xff");
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
              "@will1|L:12345678|");
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
