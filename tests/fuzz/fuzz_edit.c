/*
 * fuzz_edit: a telnet user's keys, through the negotiation and the editor.
 *
 * Input: byte 0 picks the line limit (8, 64, 512 or 4096) with its low two
 * bits; byte 1 gives a cut step (1-64): the rest, the stream, is fed to
 * telnet_feed in pieces of that many bytes, as reads would bring it, and
 * every data byte that comes out goes to edit_key. An EDIT_LINE takes the
 * line (edit_take); an EDIT_TAB inserts a word, as completion does.
 *
 * After every key: the cursor lies within the line and at the start of a
 * character, the line is within its limit and holds well-formed UTF-8
 * (checked by fuzz_check.h's own decoder) without a control character,
 * and edit_width agrees with a sum over that decoder's code points. Every
 * taken line obeys the same rules. The negotiation never answers more
 * than a bounded amount per input byte (no loop), keeps its terminal type
 * NUL-terminated and printable, and the data it hands out is never more
 * than it got.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "lib/tbuf.h"
#include "text/edit.h"
#include "text/telnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks that the n bytes at s are a line the editor may hold. */
static void check_line(const char *s, size_t n, size_t max)
{
    if (n > max)
        fuzz_fail("line past its limit", s, n);
    size_t width = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t prefix;
        size_t k = fuzz_utf8_next((const uint8_t *)s + i, n - i, &cp, &prefix);
        if (k == 0)
            fuzz_fail("ill-formed UTF-8 in the line", s, n);
        if (cp < 0x20 || fuzz_is_control(cp))
            fuzz_fail("a control character in the line", s, n);
        width += edit_cp_width(cp);
        i += k;
    }
    if (edit_width(s, n) != width)
        fuzz_fail("edit_width disagrees with the code points", s, n);
}

/* Checks the editor's state after a key. */
static void check_edit(const struct edit *e)
{
    if (e->cur > e->len || e->len > e->cap || (e->len > 0 && e->buf == NULL))
        fuzz_fail("cursor or length out of bounds", e->buf, e->len);
    check_line(e->buf, e->len, e->max);
    if (e->cur < e->len && ((uint8_t)e->buf[e->cur] & 0xC0) == 0x80)
        fuzz_fail("cursor inside a character", e->buf, e->len);
    if (e->hpos > e->nhist || e->nhist > EDIT_HISTORY)
        fuzz_fail("history position out of bounds", e->buf, e->len);
}

/* Feeds one data byte to the editor and acts as the terminal would. */
static void key(struct edit *e, uint8_t c)
{
    const char *line;
    size_t len;
    switch (edit_key(e, c)) {
    case EDIT_LINE:
        edit_take(e, &line, &len);
        check_line(line, len, e->max);
        break;
    case EDIT_TAB:
        edit_insert(e, "nick ", 5);
        break;
    default:
        break;
    }
    check_edit(e);
}

/* Checks the negotiation's state after a piece of input. */
static void check_telnet(const struct telnet *t, size_t in, size_t out,
                         size_t reply)
{
    if (out > in)
        fuzz_fail("more data out than in", NULL, 0);
    if (reply > 64 + 23 * in)
        fuzz_fail("answers out of proportion to the input", NULL, 0);
    size_t n = strnlen(t->ttype, sizeof t->ttype);
    if (n == sizeof t->ttype)
        fuzz_fail("terminal type not terminated", t->ttype, n);
    for (size_t i = 0; i < n; i++)
        if (t->ttype[i] <= ' ' || t->ttype[i] >= 127)
            fuzz_fail("terminal type not printable", t->ttype, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t limits[4] = {8, 64, 512, 4096};
    if (size < 2)
        return 0;
    size_t max = limits[data[0] & 3];
    size_t step = (size_t)(data[1] & 63) + 1;
    data += 2;
    size = size - 2;
    struct telnet t = {0};
    struct edit e;
    struct tbuf reply = {0};
    edit_init(&e, max);
    telnet_start(&t, &reply);
    uint8_t piece[64];
    for (size_t at = 0; at < size; at += step) {
        size_t n = size - at < step ? size - at : step;
        unsigned events = 0;
        reply.n = 0;
        size_t k = telnet_feed(&t, data + at, n, piece, &reply, &events);
        check_telnet(&t, n, k, reply.n);
        for (size_t i = 0; i < k; i++)
            key(&e, piece[i]);
    }
    edit_free(&e);
    free(reply.p);
    return 0;
}
