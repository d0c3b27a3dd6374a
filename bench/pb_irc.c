/*
 * pb_irc.c - the IRC client side of parley-bench (--proto irc).
 *
 * A connection registers with "NICK pbN" and "USER pbN 0 * :pb" (N is its
 * index), waits for 001 RPL_WELCOME, sends "JOIN #ROOM" and counts as
 * joined at the end of the NAMES list (366) for that channel. With
 * --register-only it counts as joined at 001 and joins nothing (the idle
 * and registration scenarios). A message is "PRIVMSG #ROOM :BODY" and
 * arrives as ":nick!user@host PRIVMSG #ROOM :BODY", the body at the line
 * end, where pb_msg.c finds it; this file sees only the other lines.
 *
 * A PING is answered with a PONG at any time: while registering, joining
 * and measuring. A line may start with IRCv3 tags ("@time=...;msgid=...
 * :src CMD ..."); they are skipped, and the body stays at the line end.
 * No capability is requested unless --irc-cap names some: then "CAP REQ"
 * goes first and "CAP END" after NICK and USER, in one write, as many
 * clients do (servers handle a connection's lines in order).
 *
 * While registering or joining, ERROR and the numerics that refuse a nick,
 * a connection or a join end the run (or are counted with
 * --allow-partial); once joined, any error numeric is noted, because it
 * means a message was refused.
 */
#include "pb.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Handshake progress of an IRC connection (pb_conn.hs). */
enum { IRC_HS_REGISTERING, IRC_HS_JOINING };

/* One parsed server line: slices of the line, not NUL-terminated. */
struct irc_msg {
    const char *cmd; /* command or three-digit numeric */
    size_t cmdlen;
    const char *params; /* everything after the command and its spaces */
    size_t plen;
};

/* Returns p advanced past the word at p and the spaces after it. */
static const char *skip_word(const char *p, const char *end)
{
    while (p < end && *p != ' ')
        p++;
    while (p < end && *p == ' ')
        p++;
    return p;
}

/* Splits line (len bytes) into command and parameters, skipping tags. */
static void irc_parse(const char *line, size_t len, struct irc_msg *m)
{
    const char *p = line, *end = line + len;

    while (p < end && *p == ' ')
        p++;
    if (p < end && *p == '@') /* IRCv3 message tags */
        p = skip_word(p, end);
    if (p < end && *p == ':') /* source */
        p = skip_word(p, end);
    m->cmd = p;
    while (p < end && *p != ' ')
        p++;
    m->cmdlen = (size_t)(p - m->cmd);
    while (p < end && *p == ' ')
        p++;
    m->params = p;
    m->plen = (size_t)(end - p);
}

/* True when m's command is the NUL-terminated name (case-insensitive). */
static bool is_cmd(const struct irc_msg *m, const char *name)
{
    return m->cmdlen == strlen(name) &&
           strncasecmp(m->cmd, name, m->cmdlen) == 0;
}

/* Returns m's numeric (100-999), or 0 when its command is not one. */
static int numeric(const struct irc_msg *m)
{
    if (m->cmdlen != 3)
        return 0;
    for (int i = 0; i < 3; i++)
        if (m->cmd[i] < '0' || m->cmd[i] > '9')
            return 0;
    return (m->cmd[0] - '0') * 100 + (m->cmd[1] - '0') * 10 + (m->cmd[2] - '0');
}

/* True when the parameters of m hold the word "#ROOM" (case-insensitive). */
static bool has_channel(const struct irc_msg *m, const char *room)
{
    size_t n = strlen(room);

    for (const char *p = m->params; p + n < m->params + m->plen; p++)
        if (*p == '#' && (p == m->params || p[-1] == ' ' || p[-1] == ':') &&
            strncasecmp(p + 1, room, n) == 0 &&
            (p + 1 + n == m->params + m->plen || p[1 + n] == ' '))
            return true;
    return false;
}

/*
 * Registers c: optional CAP REQ, NICK, USER, CAP END, in one write. See
 * the header comment of this file.
 */
void pb_irc_connect(struct pb_run *r, struct pb_conn *c)
{
    unsigned id = (unsigned)(c - r->conns);
    char buf[512];
    int n = 0;

    c->hs = IRC_HS_REGISTERING;
    if (r->o.irc_caps)
        n = snprintf(buf, sizeof buf, "CAP REQ :%s\r\n", r->o.irc_caps);
    n += snprintf(buf + n, sizeof buf - (size_t)n,
                  "NICK pb%u\r\nUSER pb%u 0 * :pb\r\n%s", id, id,
                  r->o.irc_caps ? "CAP END\r\n" : "");
    pb_conn_send(r, c, buf, (size_t)n);
}

/* True for the numerics that refuse a registration or a join. */
static bool refusal(int num)
{
    /* 422 ERR_NOMOTD is part of a normal registration. */
    return num >= 400 && num < 600 && num != 422;
}

/* Follows registration and the join; see the header comment. */
static void irc_handshake(struct pb_run *r, struct pb_conn *c,
                          const struct irc_msg *m, const char *line, size_t len)
{
    const char *room = r->rooms[c->room].name;
    int num = numeric(m);
    char buf[96];
    int n;

    if (refusal(num) || is_cmd(m, "ERROR")) {
        pb_note(r, "server refused a client: ", line, len);
        return;
    }
    if (num == 1 && c->hs == IRC_HS_REGISTERING) {
        if (r->o.register_only) {
            pb_conn_joined(r, c);
            return;
        }
        c->hs = IRC_HS_JOINING;
        n = snprintf(buf, sizeof buf, "JOIN #%s\r\n", room);
        pb_conn_send(r, c, buf, (size_t)n);
    } else if (num == 366 && c->hs == IRC_HS_JOINING && has_channel(m, room))
        pb_conn_joined(r, c);
}

/*
 * Handles a line that is not a benchmark message: answers PING, follows
 * the handshake, notes errors once joined, counts the rest.
 */
void pb_irc_line(struct pb_run *r, struct pb_conn *c, const char *line,
                 size_t len)
{
    struct irc_msg m;
    char buf[PB_LINE_MAX + 8];

    irc_parse(line, len, &m);
    if (is_cmd(&m, "PING")) {
        memcpy(buf, "PONG ", 5);
        memcpy(buf + 5, m.params, m.plen);
        memcpy(buf + 5 + m.plen, "\r\n", 2);
        pb_conn_send(r, c, buf, m.plen + 7);
        return;
    }
    if (c->state == PB_ST_HANDSHAKE) {
        irc_handshake(r, c, &m, line, len);
        return;
    }
    r->other_lines++;
    if (refusal(numeric(&m)) || is_cmd(&m, "ERROR"))
        pb_note(r, "server error: ", line, len);
}

/* A message is "PRIVMSG #ROOM :BODY". */
size_t pb_irc_format(char *dst, const struct pb_room *room, const char *body,
                     size_t blen)
{
    size_t rlen = strlen(room->name);

    memcpy(dst, "PRIVMSG #", 9);
    memcpy(dst + 9, room->name, rlen);
    memcpy(dst + 9 + rlen, " :", 2);
    memcpy(dst + 11 + rlen, body, blen);
    memcpy(dst + 11 + rlen + blen, "\r\n", 2);
    return 13 + rlen + blen;
}
