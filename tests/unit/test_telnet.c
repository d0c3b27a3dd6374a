/*
 * Unit tests for telnet.c: the offers, what Debian's telnet answers, the
 * window size and terminal type, refusals, no loops, commands split across
 * reads.
 */
#include "text/telnet.h"

#include <stdlib.h>

#include "lib/tbuf.h"
#include "unit.h"

/* Feeds the n bytes at in; returns the data, answers in *reply. */
static size_t feed(struct telnet *t, const char *in, size_t n, char *data,
                   struct tbuf *reply, unsigned *events)
{
    reply->n = 0;
    *events = 0;
    return telnet_feed(t, (const uint8_t *)in, n, (uint8_t *)data, reply,
                       events);
}

TEST(offers_then_what_telnet_answers)
{
    struct telnet t = {0};
    struct tbuf out = {0};
    telnet_start(&t, &out);
    static const char offers[] = "\xff\xfb\x01\xff\xfb\x03\xff\xfb\x00"
                                 "\xff\xfd\x00\xff\xfd\x1f\xff\xfd\x18";
    CHECK_EQ_MEM(out.p, out.n, offers, sizeof offers - 1);
    CHECK(!telnet_echoing(&t));
    /* Debian's telnet, as seen on the wire (docs/terminal.md). */
    static const char answer[] =
        "\xff\xfd\x01\xff\xfd\x03\xff\xfb\x1f\xff\xfa\x1f\x00\x64\x00\x14"
        "\xff\xf0\xff\xfb\x18\xff\xfd\x00\xff\xfb\x00";
    char data[64];
    unsigned ev;
    CHECK_EQ(feed(&t, answer, sizeof answer - 1, data, &out, &ev), 0);
    CHECK(telnet_echoing(&t));
    CHECK(ev & TELNET_EV_ECHO);
    CHECK(ev & TELNET_EV_SIZE);
    CHECK_EQ(t.width, 100);
    CHECK_EQ(t.height, 20);
    /* Only WILL TTYPE is answered: with the request for the type. */
    CHECK_MEM(out.p, out.n, "\xff\xfa\x18\x01\xff\xf0");
    static const char type[] = "\xff\xfa\x18\x00TMUX-256COLOR\xff\xf0hi";
    CHECK_EQ(feed(&t, type, sizeof type - 1, data, &out, &ev), 2);
    CHECK_MEM(data, 2, "hi");
    CHECK(ev & TELNET_EV_TTYPE);
    CHECK_STR(t.ttype, "tmux-256color");
    CHECK_EQ(out.n, 0);
    free(out.p);
}

TEST(refusals_and_no_loops)
{
    struct telnet t = {0};
    struct tbuf out = {0};
    char data[16];
    unsigned ev;
    /* Unknown options are refused; TIMING-MARK acknowledged. */
    feed(&t, "\xff\xfd\x05\xff\xfb\x05\xff\xfd\x06", 9, data, &out, &ev);
    CHECK_MEM(out.p, out.n, "\xff\xfc\x05\xff\xfe\x05\xff\xfb\x06");
    /* Refusing what is off already says nothing. */
    feed(&t, "\xff\xfc\x05\xff\xfe\x01", 6, data, &out, &ev);
    CHECK_EQ(out.n, 0);
    /* Unasked DO ECHO turns it on, acknowledged once; again: nothing. */
    feed(&t, "\xff\xfd\x01", 3, data, &out, &ev);
    CHECK_MEM(out.p, out.n, "\xff\xfb\x01");
    CHECK(telnet_echoing(&t));
    feed(&t, "\xff\xfd\x01", 3, data, &out, &ev);
    CHECK_EQ(out.n, 0);
    feed(&t, "\xff\xfe\x01", 3, data, &out, &ev);
    CHECK_MEM(out.p, out.n, "\xff\xfc\x01");
    CHECK(!telnet_echoing(&t));
    CHECK(ev & TELNET_EV_ECHO);
    free(out.p);
}

TEST(split_commands_and_data)
{
    struct telnet t = {0};
    struct tbuf out = {0};
    char data[16];
    unsigned ev;
    CHECK_EQ(feed(&t, "a\xff", 2, data, &out, &ev), 1);
    CHECK_EQ(feed(&t, "\xff" "b\xff\xfa\x1f\x00", 6, data, &out, &ev), 2);
    CHECK_MEM(data, 2, "\xff" "b");
    CHECK_EQ(feed(&t, "\x50\x00\x18\xff", 4, data, &out, &ev), 0);
    CHECK_EQ(feed(&t, "\xf0" "c\xff\xf6", 4, data, &out, &ev), 1);
    CHECK(ev & TELNET_EV_SIZE);
    CHECK_EQ(t.width, 80);
    CHECK_MEM(out.p, out.n, "* yes, parley is here\r\n");
    free(out.p);
}

UNIT_MAIN()
