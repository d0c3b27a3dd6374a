/*
 * Unit tests for frame.c with raw set, the framing of IRC connections: no
 * telnet at all (byte 255 is data, nothing is reported), the same line
 * ends and limit as with telnet, and the same lines however the input is
 * split into reads.
 */
#include "event/frame.h"

#include "frame_log.h"

TEST(raw_keeps_byte_255)
{
    CHECK_STR(FRAME_RAW(64, "a\xff"
                            "b\n"),
              "L:a\\xffb|");
    /* Sequences telnet would take as commands are ordinary bytes. */
    CHECK_STR(FRAME_RAW(64, "\xff\xff\xfd\x06\xff\xf4\xff\xfa\x18\xff\xf0\n"),
              "L:\\xff\\xff\\xfd\\x06\\xff\\xf4\\xff\\xfa\\x18\\xff\\xf0|");
    /* With telnet, IAC IAC is one 255 and IAC IP a report mid-line. */
    CHECK_STR(FRAME(64, "\xff\xff\xfd\x06\xff\xf4\n"),
              "@ip|L:\\xff\\xfd\\x06|");
}

TEST(raw_iac_before_a_line_end_is_data)
{
    /* With telnet, IAC CR and IAC DO LF lose the 255 and the DO. */
    CHECK_STR(FRAME_RAW(64, "a\xff\r\nb\xff\xfd\nc\xff"),
              "L:a\\xff|L:b\\xff\\xfd|E:c\\xff|");
}

TEST(raw_line_ends_unchanged)
{
    CHECK_STR(FRAME_RAW(64, "a\nb\r\nc\r\0d\re\r\r\n\n"),
              "L:a|L:b|L:c|L:d|L:e|L:|L:|");
    CHECK_STR(FRAME_RAW(64, "a\0b\n"), "L:a\\x00b|");
}

TEST(raw_255_counts_against_the_limit)
{
    CHECK_STR(FRAME_RAW(4, "\xff\xff\xff\xff\n\xff\xff\xff\xff\xff\nok\n"),
              "L:\\xff\\xff\\xff\\xff|T|L:ok|");
}

TEST(raw_255_split_across_reads)
{
    struct frame f = {.max_line = 64, .raw = true};
    struct flog l = {.n = 0};
    feed(&f, &l, "PRIVMSG #c :\xff", 13);
    CHECK_STR(l.s, "");
    CHECK(frame_pending(&f));
    feed(&f, &l, "\xff", 1);
    feed(&f, &l, "\xfd\x06!\n", 4);
    CHECK_STR(l.s, "L:PRIVMSG #c :\\xff\\xff\\xfd\\x06!|");
    CHECK(!frame_pending(&f));
    frame_reset(&f);
    CHECK(f.raw); /* reset keeps the mode */
}

TEST(raw_crlf_split_across_reads)
{
    struct frame f = {.max_line = 64, .raw = true};
    struct flog l = {.n = 0};
    feed(&f, &l, "PING x\r", 7);
    CHECK_STR(l.s, "");
    feed(&f, &l, "\n", 1); /* the LF belongs to the CR: no empty line */
    CHECK_STR(l.s, "L:PING x|");
    feed(&f, &l, "NICK \xff\r", 7);
    feed(&f, &l, "\nQUIT\r", 6);
    feed(&f, &l, "\xff\n", 2); /* CR then 255: the 255 starts a line */
    CHECK_STR(l.s, "L:PING x|L:NICK \\xff|L:QUIT|L:\\xff|");
    frame_reset(&f);
}

TEST(raw_splits_anywhere)
{
    SPLITS_RAW(64, "a\xff\xff"
                   "b\xff\xfb\x01"
                   "c\xff\r\n\xff\xfa\x18\xff\xf0"
                   "d\r\n\xff\r\0e\xff");
    SPLITS_RAW(4, "\xff\xff\xff\xff\xff\r\nab\xff\r\xff\xff\n");
}

UNIT_MAIN()
