/*
 * Unit tests for edit.c: typing and moving, words, history, escape
 * sequences split anywhere, UTF-8 assembly and widths, the line limit.
 */
#include "text/edit.h"

#include <string.h>

#include "unit.h"

/* Feeds the NUL-terminated keys; returns the last action. */
static enum edit_action keys(struct edit *e, const char *s)
{
    enum edit_action a = EDIT_NONE;
    for (; *s; s++)
        a = edit_key(e, (uint8_t)*s);
    return a;
}

TEST(typing_moving_erasing)
{
    struct edit e;
    edit_init(&e, 100);
    keys(&e, "hello world");
    keys(&e, "\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D"); /* before "world" */
    keys(&e, "big ");
    CHECK_MEM(e.buf, e.len, "hello big world");
    CHECK_EQ(e.cur, 10);
    keys(&e, "\x17"); /* Ctrl-W */
    CHECK_MEM(e.buf, e.len, "hello world");
    keys(&e, "\x01\x1b[3~\x05\x7f"); /* Home, Delete, End, Backspace */
    CHECK_MEM(e.buf, e.len, "ello worl");
    keys(&e, "\x1bOH\x1b[1;5C\x0b"); /* Home, Ctrl-Right, Ctrl-K */
    CHECK_MEM(e.buf, e.len, "ello");
    CHECK_EQ(keys(&e, "\x1b[C"), EDIT_BELL); /* nothing to the right */
    keys(&e, "\x15");
    CHECK_EQ(e.len, 0);
    edit_free(&e);
}

TEST(enter_and_history)
{
    struct edit e;
    edit_init(&e, 100);
    const char *line;
    size_t len;
    CHECK_EQ(keys(&e, "one\r"), EDIT_LINE);
    edit_take(&e, &line, &len);
    CHECK_MEM(line, len, "one");
    CHECK_EQ(edit_key(&e, '\n'), EDIT_NONE); /* the rest of CR LF */
    CHECK_EQ(edit_key(&e, '\0'), EDIT_NONE);  /* a NUL alone: ignored */
    CHECK_EQ(keys(&e, "two\r"), EDIT_LINE);
    edit_take(&e, &line, &len);
    CHECK_MEM(line, len, "two");
    keys(&e, "dra");
    keys(&e, "\x1b[A");
    CHECK_MEM(e.buf, e.len, "two");
    keys(&e, "\x10");
    CHECK_MEM(e.buf, e.len, "one");
    CHECK_EQ(keys(&e, "\x1b[A"), EDIT_BELL);
    keys(&e, "\x1b[B\x0e");
    CHECK_MEM(e.buf, e.len, "dra");
    CHECK_EQ(keys(&e, "\x1b[B"), EDIT_BELL);
    edit_free(&e);
}

TEST(sequences_split_and_broken)
{
    struct edit e;
    edit_init(&e, 100);
    keys(&e, "ab");
    CHECK_EQ(edit_key(&e, 0x1b), EDIT_NONE);
    CHECK_EQ(edit_key(&e, '['), EDIT_NONE);
    CHECK_EQ(edit_key(&e, 'D'), EDIT_REDRAW);
    CHECK_EQ(e.cur, 1);
    keys(&e, "\x1bq"); /* a bare ESC, then q */
    keys(&e, "\x1b[99999999999999Z"); /* unknown, whole */
    keys(&e, "\x1b[1\r"); /* cut short by Enter */
    CHECK_MEM(e.buf, e.len, "aqb");
    edit_free(&e);
}

TEST(utf8_assembly_and_widths)
{
    struct edit e;
    edit_init(&e, 100);
    keys(&e, "\xc3\xa9\xe6\x9c\xac\xf0\x9f\x98\x80");
    CHECK_MEM(e.buf, e.len, "é本😀");
    CHECK_EQ(edit_width(e.buf, e.len), 5);
    keys(&e, "\x1b[D");
    CHECK_EQ(e.cur, 5);
    /* A lead byte cut short by another, a lone continuation, C1. */
    keys(&e, "\x1b[F\xe6\xf0\x9f\x98\x80\x80\xc2\x85");
    CHECK_MEM(e.buf, e.len, "é本😀\xef\xbf\xbd😀\xef\xbf\xbd\xef\xbf\xbd");
    CHECK_EQ(edit_cp_width(0x301), 0);
    CHECK_EQ(edit_cp_width(0x2713), 1);
    CHECK_EQ(edit_cp_width(0xac00), 2);
    edit_free(&e);
}

TEST(line_limit)
{
    struct edit e;
    edit_init(&e, 4);
    keys(&e, "abcd");
    CHECK_EQ(keys(&e, "e"), EDIT_BELL);
    CHECK_EQ(keys(&e, "\x08\xc3\xa9"), EDIT_BELL); /* 2 bytes, 1 free */
    CHECK_MEM(e.buf, e.len, "abc");
    CHECK(!edit_insert(&e, "xy", 2));
    edit_free(&e);
}

UNIT_MAIN()
