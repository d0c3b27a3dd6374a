/*
 * pb_proto.c - the wire protocols parley-bench speaks.
 *
 * Each protocol says what a fresh connection sends, how it knows it has
 * joined its room, and how one message is framed. Benchmark messages are
 * recognised by the fixed tail of their body at the end of a line (see
 * pb_msg.c), so a protocol only sees the other lines.
 *
 *   text   parley: "/join ROOM" at once (the welcome comes first), joined at
 *          "* you joined #ROOM"; a message is the body alone on a line and
 *          arrives as "[nick]: BODY".
 *   resp   Redis pub/sub: members SUBSCRIBE to their room and are joined at
 *          the subscribe reply; every sender has its own publisher
 *          connection (PING/+PONG to confirm it) that sends PUBLISH as a
 *          RESP array. A member receives its own sender's messages too.
 *   relay  the reference relay (room_floor --relay): no login, no rooms,
 *          every line goes to every other connection (use one room).
 *          Joining is confirmed by a probe line that connection 0 repeats
 *          until every connection has received one.
 *   irc    IRC (parley's irc:// listener, ngircd, inspircd, room_floor
 *          --irc): NICK/USER, JOIN #ROOM after 001, joined at 366; a
 *          message is "PRIVMSG #ROOM :BODY". In pb_irc.c.
 *   telnet parley's telnet:// listener as a telnet user in character
 *          mode: agrees to the server's echo (IAC DO ECHO, DO SGA), then
 *          as text; every key goes through the server's line editor and
 *          lines may follow a prompt redraw on the same line.
 */
#include "pb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The probe line of the relay barrier. */
#define PB_PROBE "pbsync"
/* Repeat the probe this often until every connection has seen one. */
#define PB_PROBE_NS 50000000u

/* True when line (len bytes) starts with the NUL-terminated prefix. */
static bool has_prefix(const char *line, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);

    return len >= n && memcmp(line, prefix, n) == 0;
}

/* ------------------------------------------------------------ text ---- */

/*
 * A parley connection asks to join at once, as a bot does: a client that
 * speaks first is greeted at once (it does not wait for --probe-wait).
 */
static void text_connect(struct pb_run *r, struct pb_conn *c)
{
    char buf[96];
    int n = snprintf(buf, sizeof buf, "/join %s\n", r->rooms[c->room].name);
    pb_conn_send(r, c, buf, (size_t)n);
}

/* Skips the welcome, waits for the reply to its /join. */
static void text_line(struct pb_run *r, struct pb_conn *c, const char *line,
                      size_t len)
{
    char buf[96];
    if (c->state != PB_ST_HANDSHAKE) {
        r->other_lines++;
        return;
    }
    if (has_prefix(line, len, "! "))
        pb_note(r, "server refused a client: ", line, len);
    int n =
        snprintf(buf, sizeof buf, "* you joined #%s", r->rooms[c->room].name);
    if (has_prefix(line, len, buf) && ((size_t)n == len || line[n] == ' '))
        pb_conn_joined(r, c);
}

/* A parley message is the body on a line of its own. */
static size_t text_format(char *dst, const struct pb_room *room,
                          const char *body, size_t blen)
{
    (void)room;
    memcpy(dst, body, blen);
    dst[blen] = '\n';
    return blen + 1;
}

/* ---------------------------------------------------------- telnet ---- */

/* Agrees to character mode as telnet does, then asks to join. */
static void telnet_connect(struct pb_run *r, struct pb_conn *c)
{
    static const char agree[] = {(char)255, (char)253, 1, (char)255,
                                 (char)253, 3};
    pb_conn_send(r, c, agree, sizeof agree);
    text_connect(r, c);
}

/* As text_line, but the join reply may come after a prompt redraw. */
static void telnet_line(struct pb_run *r, struct pb_conn *c, const char *line,
                        size_t len)
{
    char buf[96];
    if (c->state != PB_ST_HANDSHAKE) {
        r->other_lines++;
        return;
    }
    int n =
        snprintf(buf, sizeof buf, "* you joined #%s ", r->rooms[c->room].name);
    if (memmem(line, len, buf, (size_t)n))
        pb_conn_joined(r, c);
    else if (memmem(line, len, "! ", 2))
        pb_note(r, "server refused a client: ", line, len);
}

/* ------------------------------------------------------------ resp ---- */

/* Members subscribe to their room at once; publishers check with PING. */
static void resp_connect(struct pb_run *r, struct pb_conn *c)
{
    const char *room = r->rooms[c->room].name;
    char buf[128];
    int n;

    c->hs = 0;
    if (c->role == PB_ROLE_PUBLISHER) {
        pb_conn_send(r, c, "PING\r\n", 6);
        return;
    }
    n = snprintf(buf, sizeof buf, "*2\r\n$9\r\nSUBSCRIBE\r\n$%zu\r\n%s\r\n",
                 strlen(room), room);
    pb_conn_send(r, c, buf, (size_t)n);
}

/* Checks a PUBLISH reply: the number of subscribers that got the message. */
static void resp_pub_reply(struct pb_run *r, struct pb_conn *c,
                           const char *line, size_t len)
{
    unsigned long got = 0;

    if (len < 2 || line[0] != ':') {
        if (len && line[0] == '-')
            pb_fail(r, "redis error: %.*s", (int)len, line);
        r->other_lines++;
        return;
    }
    for (size_t i = 1; i < len; i++)
        got = got * 10 + (unsigned long)(line[i] - '0');
    r->pub_replies++;
    if (got < r->rooms[c->room].members)
        r->pub_mismatch++;
}

/*
 * Follows the subscribe reply (*3, $9, subscribe, $N, ROOM, :1) and the
 * PONG of publishers. Joined members see push-message headers here, which
 * need no work.
 */
static void resp_line(struct pb_run *r, struct pb_conn *c, const char *line,
                      size_t len)
{
    if (c->role == PB_ROLE_PUBLISHER) {
        if (c->state == PB_ST_HANDSHAKE) {
            if (has_prefix(line, len, "+PONG"))
                pb_conn_joined(r, c);
            else if (len && line[0] == '-')
                pb_note(r, "redis refused a publisher: ", line, len);
            return;
        }
        resp_pub_reply(r, c, line, len);
        return;
    }
    if (c->state != PB_ST_HANDSHAKE)
        return;
    if (len && line[0] == '-')
        pb_note(r, "redis refused a client: ", line, len);
    if (len == 9 && memcmp(line, "subscribe", 9) == 0)
        c->hs = 1;
    else if (c->hs == 1 && len && line[0] == ':')
        pb_conn_joined(r, c);
}

/* A PUBLISH command as a RESP array of bulk strings. */
static size_t resp_format(char *dst, const struct pb_room *room,
                          const char *body, size_t blen)
{
    size_t rlen = strlen(room->name);
    int n;

    n = sprintf(dst, "*3\r\n$7\r\nPUBLISH\r\n$%zu\r\n%s\r\n$%zu\r\n", rlen,
                room->name, blen);
    memcpy(dst + n, body, blen);
    memcpy(dst + (size_t)n + blen, "\r\n", 2);
    return (size_t)n + blen + 2;
}

/* ----------------------------------------------------------- relay ---- */

/* A relay connection has nothing to say; the probe barrier joins it. */
static void relay_connect(struct pb_run *r, struct pb_conn *c)
{
    (void)r;
    c->hs = 0;
}

/*
 * A probe proves that this connection was accepted, and that connection 0,
 * which sends the probes, was accepted too.
 */
static void relay_line(struct pb_run *r, struct pb_conn *c, const char *line,
                       size_t len)
{
    if (len != strlen(PB_PROBE) || memcmp(line, PB_PROBE, len) != 0) {
        r->other_lines++;
        return;
    }
    pb_conn_joined(r, c);
    pb_conn_joined(r, &r->conns[0]);
}

/*
 * Sends a probe from connection 0 every PB_PROBE_NS while some connection
 * has not seen one. Called by the loop once every connect has finished.
 */
void pb_proto_probe(struct pb_run *r, uint64_t now)
{
    struct pb_conn *c0 = &r->conns[0];

    if (!r->proto->barrier || now - r->last_probe < PB_PROBE_NS)
        return;
    if (c0->state != PB_ST_HANDSHAKE && c0->state != PB_ST_JOINED)
        return;
    r->last_probe = now;
    pb_conn_send(r, c0, PB_PROBE "\n", strlen(PB_PROBE) + 1);
}

/* ------------------------------------------------------------ table --- */

/*
 * The protocols: name, on_connect, on_line, format, self_delivery,
 * separate_pub, barrier (see struct pb_proto in pb.h).
 */
static const struct pb_proto pb_protos[] = {
    [PB_PROTO_TEXT] = {"text", text_connect, text_line, text_format, false,
                       false, false},
    [PB_PROTO_RESP] = {"resp", resp_connect, resp_line, resp_format, true,
                       true, false},
    [PB_PROTO_RELAY] = {"relay", relay_connect, relay_line, text_format,
                        false, false, true},
    [PB_PROTO_IRC] = {"irc", pb_irc_connect, pb_irc_line, pb_irc_format,
                      false, false, false},
    [PB_PROTO_TELNET] = {"telnet", telnet_connect, telnet_line, text_format,
                         false, false, false},
};

/* Returns the protocol with the given id. */
const struct pb_proto *pb_proto_get(int id)
{
    return &pb_protos[id];
}

/* Returns the id of the protocol called name, or -1. */
int pb_proto_parse(const char *name)
{
    for (size_t i = 0; i < sizeof pb_protos / sizeof pb_protos[0]; i++)
        if (strcmp(pb_protos[i].name, name) == 0)
            return (int)i;
    return -1;
}
