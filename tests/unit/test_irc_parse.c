/*
 * Unit tests for irc/parse.c: the parts of a line (tags, source, command,
 * parameters, the trailing one and the 15th), spaces, the length limits,
 * NUL bytes as data, the tag iterator and tag value escapes.
 */
#include "irc/parse.h"

#include "unit.h"

/* ------------------------------------------------------------------------
 * Helpers: parse a literal and show the result as one readable string.
 * ------------------------------------------------------------------------ */

/* A readable rendering of a parse: "@tags :source CMD [p1] [p2]". */
struct shown {
    char s[4096];
    size_t n;
};

/* Appends n bytes, writing unprintable bytes and '[', ']' as \xNN. */
static void shown_put(struct shown *o, const char *p, size_t n)
{
    for (size_t i = 0; i < n && o->n + 5 < sizeof o->s; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c >= 0x7f || c == '[' || c == ']')
            o->n += (size_t)snprintf(o->s + o->n, 5, "\\x%02x", c);
        else
            o->s[o->n++] = (char)c;
    }
    o->s[o->n] = '\0';
}

/* Checks that a slice lies within the line [line, line + len]. */
static void check_within(struct irc_slice sl, const char *line, size_t len)
{
    CHECK(sl.p != NULL);
    CHECK(sl.p >= line && sl.p + sl.n <= line + len);
}

/* Checks the slices of *m against the line (on any result). */
static void check_slices(const struct irc_msg *m, const char *line, size_t len)
{
    CHECK(m->nparams <= IRC_MAX_PARAMS);
    check_within(m->tags, line, len);
    check_within(m->source, line, len);
    check_within(m->cmd, line, len);
    for (size_t i = 0; i < m->nparams && i < IRC_MAX_PARAMS; i++)
        check_within(m->params[i], line, len);
}

/*
 * Parses the len bytes at line (copied into a buffer of exactly that size,
 * so the sanitizers see any read past it) and renders the result: the
 * name of a failure, or the parts of the message.
 */
static const char *show(const char *line, size_t len)
{
    static struct shown o;
    static const char *const fail[] = {
        [IRC_PARSE_EMPTY] = "EMPTY",
        [IRC_PARSE_TAGS_TOO_LONG] = "TAGS_TOO_LONG",
        [IRC_PARSE_TOO_LONG] = "TOO_LONG",
        [IRC_PARSE_NO_COMMAND] = "NO_COMMAND",
    };
    char *copy = malloc(len ? len : 1);
    memcpy(copy, line, len);
    struct irc_msg m;
    enum irc_parse r = irc_parse(copy, len, &m);
    check_slices(&m, copy, len);
    o.n = 0;
    o.s[0] = '\0';
    if (r != IRC_PARSE_OK) {
        CHECK_EQ(m.nparams, 0);
        CHECK(m.tags.n == 0 && m.source.n == 0 && m.cmd.n == 0);
        shown_put(&o, fail[r], strlen(fail[r]));
    } else {
        CHECK(m.cmd.n > 0);
        if (m.tags.n) {
            shown_put(&o, "@", 1);
            shown_put(&o, m.tags.p, m.tags.n);
            shown_put(&o, " ", 1);
        }
        if (m.source.n) {
            shown_put(&o, ":", 1);
            shown_put(&o, m.source.p, m.source.n);
            shown_put(&o, " ", 1);
        }
        shown_put(&o, m.cmd.p, m.cmd.n);
        for (size_t i = 0; i < m.nparams; i++) {
            o.n += (size_t)snprintf(o.s + o.n, sizeof o.s - o.n, " [");
            shown_put(&o, m.params[i].p, m.params[i].n);
            o.n += (size_t)snprintf(o.s + o.n, sizeof o.s - o.n, "]");
        }
    }
    free(copy);
    return o.s;
}

/* Parses a string literal (which may hold NULs) and renders the result. */
#define SHOW(lit) show(lit, sizeof lit - 1)

/* Parses the NUL-terminated string s into *m. */
static enum irc_parse parse_str(const char *s, struct irc_msg *m)
{
    return irc_parse(s, strlen(s), m);
}

/* ------------------------------------------------------------------------
 * The parts of a line
 * ------------------------------------------------------------------------ */

TEST(examples_from_modern_irc)
{
    CHECK_STR(SHOW(":irc.example.com CAP LS * :multi-prefix extended-join "
                   "sasl"),
              ":irc.example.com CAP [LS] [*] [multi-prefix extended-join "
              "sasl]");
    CHECK_STR(SHOW("@id=234AB :dan!d@localhost PRIVMSG #chan :Hey what's up!"),
              "@id=234AB :dan!d@localhost PRIVMSG [#chan] [Hey what's up!]");
    CHECK_STR(SHOW("CAP REQ :sasl"), "CAP [REQ] [sasl]");
    CHECK_STR(SHOW(":irc.example.com CAP * LIST :"),
              ":irc.example.com CAP [*] [LIST] []");
    CHECK_STR(SHOW("CAP * LS :multi-prefix sasl"),
              "CAP [*] [LS] [multi-prefix sasl]");
    CHECK_STR(SHOW("CAP REQ :sasl message-tags foo"),
              "CAP [REQ] [sasl message-tags foo]");
    CHECK_STR(SHOW(":dan!d@localhost PRIVMSG #chan :Hey!"),
              ":dan!d@localhost PRIVMSG [#chan] [Hey!]");
    CHECK_STR(SHOW(":dan!d@localhost PRIVMSG #chan Hey!"),
              ":dan!d@localhost PRIVMSG [#chan] [Hey!]");
    CHECK_STR(SHOW(":dan!d@localhost PRIVMSG #chan ::-)"),
              ":dan!d@localhost PRIVMSG [#chan] [:-)]");
}

TEST(command_alone_and_case_kept)
{
    CHECK_STR(SHOW("PING"), "PING");
    CHECK_STR(SHOW("privMsg #c hi"), "privMsg [#c] [hi]");
    CHECK_STR(SHOW(":srv 001 alice :Welcome"), ":srv 001 [alice] [Welcome]");
    /* Any word is a command; checking it is the caller's job. */
    CHECK_STR(SHOW(":src :x y"), ":src :x [y]");
}

TEST(ctcp_action_is_an_ordinary_trailing_parameter)
{
    CHECK_STR(SHOW("PRIVMSG #c :\x01"
                   "ACTION waves \x01"),
              "PRIVMSG [#c] [\\x01ACTION waves \\x01]");
}

TEST(colon_inside_a_middle_parameter)
{
    CHECK_STR(SHOW("CMD a:b c: :d:e f"), "CMD [a:b] [c:] [d:e f]");
    CHECK_STR(SHOW("CMD ::"), "CMD [:]");
}

TEST(trailing_may_be_empty_or_hold_spaces)
{
    CHECK_STR(SHOW("TOPIC #c :"), "TOPIC [#c] []");
    CHECK_STR(SHOW("TOPIC #c :  two  spaces  "),
              "TOPIC [#c] [  two  spaces  ]");
    CHECK_STR(SHOW("TOPIC #c : "), "TOPIC [#c] [ ]");
    CHECK_STR(SHOW("AWAY :"), "AWAY []");
}

TEST(runs_of_spaces_separate_and_end_nothing)
{
    CHECK_STR(SHOW("  :src   PRIVMSG   #c    hi   "), ":src PRIVMSG [#c] [hi]");
    CHECK_STR(SHOW("@a=1   :src   NICK   bob"), "@a=1 :src NICK [bob]");
    CHECK_STR(SHOW("@a=1  NICK bob  "), "@a=1 NICK [bob]");
    CHECK_STR(SHOW("NICK "), "NICK");
    CHECK_STR(SHOW("   PING   x"), "PING [x]");
}

TEST(tags_only_at_the_first_byte)
{
    /* After leading spaces an '@' word is the command. */
    CHECK_STR(SHOW(" @a=1 PING"), "@a=1 [PING]");
    /* An empty tag block or source is as good as none. */
    CHECK_STR(SHOW("@ PING"), "PING");
    CHECK_STR(SHOW(": PING"), "PING");
    CHECK_STR(SHOW("@ : PING x"), "PING [x]");
}

TEST(fifteenth_parameter_takes_the_rest)
{
    CHECK_STR(SHOW("C 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15"),
              "C [1] [2] [3] [4] [5] [6] [7] [8] [9] [10] [11] [12] [13] "
              "[14] [15]");
    /* Without ':' the 15th holds the spaces and words after it. */
    CHECK_STR(SHOW("C 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16  17 "),
              "C [1] [2] [3] [4] [5] [6] [7] [8] [9] [10] [11] [12] [13] "
              "[14] [15 16  17 ]");
    /* With ':' the 15th loses the colon, as any trailing one. */
    CHECK_STR(SHOW("C 1 2 3 4 5 6 7 8 9 10 11 12 13 14 :a b"),
              "C [1] [2] [3] [4] [5] [6] [7] [8] [9] [10] [11] [12] [13] "
              "[14] [a b]");
    /* Spaces after the 14th are no 15th. */
    CHECK_STR(SHOW("C 1 2 3 4 5 6 7 8 9 10 11 12 13 14   "),
              "C [1] [2] [3] [4] [5] [6] [7] [8] [9] [10] [11] [12] [13] "
              "[14]");
    struct irc_msg m;
    REQUIRE(parse_str("C 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", &m) ==
            IRC_PARSE_OK);
    CHECK_EQ(m.nparams, IRC_MAX_PARAMS);
}

TEST(empty_lines)
{
    CHECK_STR(SHOW(""), "EMPTY");
    CHECK_STR(SHOW(" "), "EMPTY");
    CHECK_STR(SHOW("       "), "EMPTY");
    /* A blank line is empty at any length, not too long. */
    char spaces[2000];
    memset(spaces, ' ', sizeof spaces);
    CHECK_STR(show(spaces, sizeof spaces), "EMPTY");
}

TEST(tags_or_source_without_command)
{
    CHECK_STR(SHOW("@a=b"), "NO_COMMAND");
    CHECK_STR(SHOW("@a=b   "), "NO_COMMAND");
    CHECK_STR(SHOW(":src"), "NO_COMMAND");
    CHECK_STR(SHOW(":src   "), "NO_COMMAND");
    CHECK_STR(SHOW("@a :src"), "NO_COMMAND");
    CHECK_STR(SHOW(":"), "NO_COMMAND");
    CHECK_STR(SHOW("@"), "NO_COMMAND");
    CHECK_STR(SHOW("@ "), "NO_COMMAND");
}

TEST(nul_bytes_are_data)
{
    CHECK_STR(SHOW("PRIVMSG #c :a\0b"), "PRIVMSG [#c] [a\\x00b]");
    CHECK_STR(SHOW("@k=\0 :s\0rc P\0NG \0 :\0"),
              "@k=\\x00 :s\\x00rc P\\x00NG [\\x00] [\\x00]");
    CHECK_STR(SHOW("\0"), "\\x00");
    struct irc_msg m;
    REQUIRE(irc_parse("PI\0NG", 5, &m) == IRC_PARSE_OK);
    CHECK_EQ(m.cmd.n, 5);
    CHECK(!irc_cmd_is(&m, "PI"));
    CHECK(!irc_cmd_is(&m, "PING"));
}

TEST(slices_point_into_the_line)
{
    static const char line[] = "@t=1 :src CMD a :b c";
    struct irc_msg m;
    REQUIRE(parse_str(line, &m) == IRC_PARSE_OK);
    CHECK(m.tags.p == line + 1 && m.tags.n == 3);
    CHECK(m.source.p == line + 6 && m.source.n == 3);
    CHECK(m.cmd.p == line + 10 && m.cmd.n == 3);
    REQUIRE(m.nparams == 2);
    CHECK(m.params[0].p == line + 14 && m.params[0].n == 1);
    CHECK(m.params[1].p == line + 17 && m.params[1].n == 3);
    /* An empty trailing parameter points at the end of the line. */
    REQUIRE(parse_str("TOPIC #c :", &m) == IRC_PARSE_OK);
    CHECK_EQ(m.params[1].n, 0);
    CHECK(m.params[1].p != NULL);
}

TEST(cmd_is_ignores_ascii_case_only)
{
    struct irc_msg m;
    REQUIRE(parse_str("privMSG #c :hi", &m) == IRC_PARSE_OK);
    CHECK(irc_cmd_is(&m, "PRIVMSG"));
    CHECK(!irc_cmd_is(&m, "PRIVMS"));
    CHECK(!irc_cmd_is(&m, "PRIVMSGX"));
    CHECK(!irc_cmd_is(&m, "NOTICE"));
    REQUIRE(parse_str(":srv 001 a :w", &m) == IRC_PARSE_OK);
    CHECK(irc_cmd_is(&m, "001"));
    /* Only ASCII letters fold: "pİng" is not "PING". */
    REQUIRE(parse_str("p\xc4\xb0ng", &m) == IRC_PARSE_OK);
    CHECK(!irc_cmd_is(&m, "PING"));
}

/* ------------------------------------------------------------------------
 * Length limits
 * ------------------------------------------------------------------------ */

/*
 * Builds, in buf, a line of tags_n tag bytes after '@' (none if 0) and a
 * body "PRIVMSG #c :xxx..." of body_n bytes (at least 12), and parses it.
 */
static enum irc_parse parse_sized(char *buf, size_t tags_n, size_t body_n)
{
    size_t at = 0;
    if (tags_n) {
        buf[at++] = '@';
        buf[at] = 'k';
        buf[at + 1] = '=';
        memset(buf + at + 2, 'v', tags_n - 2);
        at += tags_n;
        buf[at++] = ' ';
    }
    memcpy(buf + at, "PRIVMSG #c :", 12);
    memset(buf + at + 12, 'x', body_n - 12);
    struct irc_msg m;
    char *copy = malloc(at + body_n);
    memcpy(copy, buf, at + body_n);
    enum irc_parse r = irc_parse(copy, at + body_n, &m);
    check_slices(&m, copy, at + body_n);
    if (r == IRC_PARSE_OK) {
        CHECK_EQ(m.tags.n, tags_n);
        CHECK_EQ(m.nparams, 2);
        CHECK_EQ(m.params[1].n, body_n - 12);
    }
    free(copy);
    return r;
}

TEST(body_of_510_bytes_accepted_511_too_long)
{
    static char buf[16384];
    CHECK_EQ(parse_sized(buf, 0, IRC_BODY_MAX), IRC_PARSE_OK);
    CHECK_EQ(parse_sized(buf, 0, IRC_BODY_MAX + 1), IRC_PARSE_TOO_LONG);
    /* The tags do not count against the body. */
    CHECK_EQ(parse_sized(buf, 100, IRC_BODY_MAX), IRC_PARSE_OK);
    CHECK_EQ(parse_sized(buf, 100, IRC_BODY_MAX + 1), IRC_PARSE_TOO_LONG);
    /* Leading spaces are bytes of the body. */
    memset(buf, ' ', 10);
    memcpy(buf + 10, "PING :", 6);
    memset(buf + 16, 'x', IRC_BODY_MAX - 16);
    struct irc_msg m;
    REQUIRE(irc_parse(buf, IRC_BODY_MAX, &m) == IRC_PARSE_OK);
    CHECK(irc_cmd_is(&m, "PING") && m.nparams == 1);
    CHECK_EQ(m.params[0].n, IRC_BODY_MAX - 16);
    buf[IRC_BODY_MAX] = 'x';
    CHECK_STR(show(buf, IRC_BODY_MAX + 1), "TOO_LONG");
}

TEST(tag_block_of_8191_bytes_accepted_8192_too_long)
{
    static char buf[16384];
    /* '@', the tags and the space: 8191 bytes in all. */
    CHECK_EQ(parse_sized(buf, IRC_TAGS_MAX - 2, 20), IRC_PARSE_OK);
    CHECK_EQ(parse_sized(buf, IRC_TAGS_MAX - 1, 20), IRC_PARSE_TAGS_TOO_LONG);
    /* The largest tags and the largest body together are fine. */
    CHECK_EQ(parse_sized(buf, IRC_TAGS_MAX - 2, IRC_BODY_MAX), IRC_PARSE_OK);
    CHECK_EQ(parse_sized(buf, IRC_TAGS_MAX - 1, IRC_BODY_MAX + 1),
             IRC_PARSE_TAGS_TOO_LONG);
    /* The space is counted even when the line ends after the tags. */
    buf[0] = '@';
    memset(buf + 1, 'k', IRC_TAGS_MAX - 2);
    CHECK_STR(show(buf, IRC_TAGS_MAX - 1), "NO_COMMAND");
    buf[IRC_TAGS_MAX - 1] = 'k';
    CHECK_STR(show(buf, IRC_TAGS_MAX), "TAGS_TOO_LONG");
}

/* ------------------------------------------------------------------------
 * Tags
 * ------------------------------------------------------------------------ */

/* Lists the tags of a line as "key=value|", values unescaped. */
static const char *tags_of(const char *line)
{
    static struct shown o;
    o.n = 0;
    o.s[0] = '\0';
    struct irc_msg m;
    if (parse_str(line, &m) != IRC_PARSE_OK)
        return "not parsed";
    struct irc_slice rest = m.tags, key, raw;
    while (irc_tag_next(&rest, &key, &raw)) {
        check_within(key, line, strlen(line));
        check_within(raw, line, strlen(line));
        char value[64];
        if (raw.n > sizeof value)
            return "value too long for the test";
        size_t n = irc_tag_unescape(raw.p, raw.n, value);
        shown_put(&o, key.p, key.n);
        shown_put(&o, "=", 1);
        shown_put(&o, value, n);
        shown_put(&o, "|", 1);
    }
    CHECK_EQ(rest.n, 0);
    return o.s;
}

TEST(tags_iterate_key_and_value)
{
    CHECK_STR(tags_of("@id=123AB;rose PING"), "id=123AB|rose=|");
    CHECK_STR(tags_of("@url=;netsplit=tur,ty PING"), "url=|netsplit=tur,ty|");
    CHECK_STR(tags_of("@a;b= PING"), "a=|b=|");
    CHECK_STR(tags_of("@a=1=2 PING"), "a=1=2|");
}

TEST(tags_with_prefixes)
{
    CHECK_STR(tags_of("@+draft/reply=abc;+example.com/x=1;draft/y;"
                      "znc.in/server-time=t :n!u@h TAGMSG #c"),
              "+draft/reply=abc|+example.com/x=1|draft/y=|"
              "znc.in/server-time=t|");
}

TEST(tags_empty_elements_skipped)
{
    CHECK_STR(tags_of("@;a;;b=1;=x;= PING"), "a=|b=1|");
    CHECK_STR(tags_of("@a; PING"), "a=|");
    CHECK_STR(tags_of("@; PING"), "");
    CHECK_STR(tags_of("PING"), "");
}

TEST(tags_keep_duplicates_in_order)
{
    /* The spec says the last one counts; the iterator shows them all. */
    CHECK_STR(tags_of("@a=1;a=2 PING"), "a=1|a=2|");
}

TEST(tags_with_escaped_values)
{
    CHECK_STR(tags_of("@k=a\\:b\\sc\\\\d\\re\\nf PING"),
              "k=a;b c\\d\\x0de\\x0af|");
    CHECK_STR(tags_of("@k=x\\;y=\\ PING"), "k=x|y=|");
}

TEST(tag_next_at_the_end_leaves_outputs_alone)
{
    struct irc_slice rest = {"", 0};
    struct irc_slice key = {"k", 1}, raw = {"v", 1};
    CHECK(!irc_tag_next(&rest, &key, &raw));
    CHECK(key.n == 1 && raw.n == 1);
    struct irc_slice semis = {";;;", 3};
    CHECK(!irc_tag_next(&semis, &key, &raw));
    CHECK_EQ(semis.n, 0);
}

/* Unescapes a string literal and returns the result (static storage). */
static const char *unescaped(const char *in, size_t n, size_t *len)
{
    static char out[64];
    *len = irc_tag_unescape(in, n, out);
    return out;
}

/* Checks that unescaping the literal lit gives the literal want. */
#define UNESCAPES_TO(lit, want)                                                \
    do {                                                                       \
        size_t got_n;                                                          \
        const char *got = unescaped(lit, sizeof lit - 1, &got_n);              \
        CHECK_EQ_MEM(got, got_n, want, sizeof want - 1);                       \
    } while (0)

TEST(unescape_table)
{
    UNESCAPES_TO("\\:", ";");
    UNESCAPES_TO("\\s", " ");
    UNESCAPES_TO("\\\\", "\\");
    UNESCAPES_TO("\\r", "\r");
    UNESCAPES_TO("\\n", "\n");
    UNESCAPES_TO("plain", "plain");
    UNESCAPES_TO("", "");
}

TEST(unescape_lone_and_unknown_backslashes)
{
    UNESCAPES_TO("test\\", "test");
    UNESCAPES_TO("\\", "");
    UNESCAPES_TO("\\\\\\", "\\");
    UNESCAPES_TO("\\b", "b");
    UNESCAPES_TO("\\S\\N\\;", "SN;");
    UNESCAPES_TO("a\\\0b", "a\0b");
}

TEST(unescape_in_place)
{
    char buf[] = "a\\sb\\:c\\";
    size_t n = irc_tag_unescape(buf, sizeof buf - 1, buf);
    CHECK_MEM(buf, n, "a b;c");
}

TEST(escape_table)
{
    char out[64];
    static const char in[] = "a; b\\\r\nc\0d";
    size_t n = irc_tag_escape(in, sizeof in - 1, out);
    static const char want[] = "a\\:\\sb\\\\\\r\\nc\0d";
    CHECK_EQ_MEM(out, n, want, sizeof want - 1);
    CHECK_EQ(irc_tag_escape("", 0, out), 0);
}

TEST(escape_then_unescape_gives_every_byte_back)
{
    char in[512], esc[1024], back[1024];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (char)(i * 7 % 256);
    size_t n = irc_tag_escape(in, sizeof in, esc);
    CHECK(n <= 2 * sizeof in);
    CHECK(memchr(esc, ' ', n) == NULL && memchr(esc, ';', n) == NULL);
    CHECK(memchr(esc, '\r', n) == NULL && memchr(esc, '\n', n) == NULL);
    size_t m = irc_tag_unescape(esc, n, back);
    CHECK_EQ_MEM(back, m, in, sizeof in);
    /* Twice over, as a value relayed through two servers would be. */
    char esc2[2048];
    n = irc_tag_escape(esc, n, esc2);
    m = irc_tag_unescape(esc2, n, back);
    m = irc_tag_unescape(back, m, back);
    CHECK_EQ_MEM(back, m, in, sizeof in);
}

UNIT_MAIN()
