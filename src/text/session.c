/*
 * proto_text: sessions, formatting and delivery for the text protocol.
 */
#include "text/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "event/conn.h"
#include "event/outq.h"
#include "core/batch.h"
#include "core/history.h"
#include "core/oper.h"
#include "core/room.h"
#include "lib/sanitize.h"
#include "lib/xmalloc.h"
#include "text/term.h"

/* Index of the text protocol in chat_event.wire. */
#define TEXT_WIRE 0

static struct text_config text_cfg = {.history_replay = 20, .quiet_above = 64};
static struct tbuf text_wire_buf;  /* cached event bytes */
static struct tbuf text_line_buf;  /* per-recipient lines */
static struct tbuf text_clean_buf; /* sanitized input */

void text_configure(const struct text_config *cfg)
{
    text_cfg = *cfg;
}

const struct text_config *text_get_config(void)
{
    return &text_cfg;
}

/*
 * Appends text that may come from an IRC user: its formatting codes
 * (bold, colours, CTCP's \x01) are removed, as a terminal would show them
 * as garbage.
 */
static void text_buf_clean(struct tbuf *b, const char *s, size_t n)
{
    size_t k;
    const char *p = sanitize_strip_format(s, n, tbuf_reserve(b, n), &k);
    if (p == s)
        tbuf_put(b, s, n);
    else
        b->n += k;
}

/*
 * Returns true if an IRC user's message is a CTCP request or reply other
 * than ACTION (e.g. "\x01VERSION\x01"): nothing a person reads, so text
 * users never see it (ACTION reaches them as an action event).
 */
static bool text_is_ctcp(const char *text, size_t len)
{
    return len > 0 && text[0] == '\x01';
}

const char *text_people(size_t n)
{
    return n == 1 ? "person" : "people";
}

/* Formats one line into the line buffer, CRLF added. */
__attribute__((format(printf, 1, 0))) static void text_vformat(const char *fmt,
                                                               va_list ap)
{
    struct tbuf *b = &text_line_buf;
    b->n = 0;
    tbuf_vprintf(b, fmt, ap);
    tbuf_put(b, "\r\n", 2);
}

void text_write(struct text_session *s, const void *p, size_t n)
{
    if (s->term)
        term_hide(s);
    conn_write(s->conn, p, n);
}

void text_reply(struct text_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    text_vformat(fmt, ap);
    va_end(ap);
    if (text_line_buf.n > 0)
        text_write(s, text_line_buf.p, text_line_buf.n);
}

/* ------------------------------------------------------------------------
 * Formatting chat events. Events the same for every recipient are formatted
 * once and cached in the event; the few that differ for the person
 * concerned (their own join or nick change) are written directly.
 * ------------------------------------------------------------------------ */

/*
 * Appends a line a user wrote and CRLF: "[NICK]: TEXT", "[NICK -> TO]: TEXT"
 * or, for an action, "[* NICK] TEXT". Every such line starts with '[' and
 * server lines never do, so nothing typed can pass for a server notice.
 * The hot path.
 */
static void text_format_line(const struct chat_event *ev, const char *text,
                             size_t len, struct tbuf *b)
{
    bool action = ev->kind == CHAT_ACTION || ev->action;
    tbuf_put(b, action ? "[* " : "[", action ? 3 : 1);
    tbuf_put(b, ev->nick, ev->nick_len);
    if (ev->kind == CHAT_PRIVATE) {
        tbuf_put(b, " -> ", 4);
        tbuf_put(b, ev->to->nick, ev->to->nick_len);
    } else if (ev->min_status) { /* to a room's operators (or voiced) */
        tbuf_str(b, ev->min_status == CHAT_OP ? " -> @#" : " -> +#");
        tbuf_str(b, ev->room->name);
    }
    tbuf_put(b, action ? "] " : "]: ", action ? 2 : 3);
    text_buf_clean(b, text, len);
    tbuf_put(b, "\r\n", 2);
}

/* Appends a notice event, as everyone but the person concerned sees it. */
static void text_format_notice(const struct chat_event *ev, struct tbuf *b)
{
    const char *room = ev->room ? ev->room->name : "";
    bool text = ev->text_len > 0;
    tbuf_put(b, "* ", 2);
    tbuf_put(b, ev->nick, ev->nick_len);
    switch (ev->kind) {
    case CHAT_JOIN:
        tbuf_str(b, " joined #");
        tbuf_str(b, room);
        break;
    case CHAT_PART:
        tbuf_str(b, " left #");
        tbuf_str(b, room);
        break;
    case CHAT_QUIT:
        tbuf_str(b, text ? " quit (" : " quit");
        text_buf_clean(b, ev->text, ev->text_len);
        tbuf_str(b, text ? ")" : "");
        break;
    case CHAT_KICK:
        tbuf_str(b, " kicked ");
        tbuf_put(b, ev->to->nick, ev->to->nick_len);
        tbuf_str(b, " from #");
        tbuf_str(b, room);
        tbuf_str(b, text ? " (" : "");
        text_buf_clean(b, ev->text, ev->text_len);
        tbuf_str(b, text ? ")" : "");
        break;
    case CHAT_MODE: /* an IRC user's ban mask may hold formatting */
        tbuf_str(b, " set mode ");
        text_buf_clean(b, ev->text, ev->text_len);
        tbuf_str(b, " in #");
        tbuf_str(b, room);
        break;
    case CHAT_INVITE:
        tbuf_str(b, " invited ");
        tbuf_put(b, ev->to->nick, ev->to->nick_len);
        tbuf_str(b, " to #");
        tbuf_str(b, room);
        break;
    case CHAT_NICK:
        tbuf_str(b, " is now ");
        tbuf_put(b, ev->text, ev->text_len);
        break;
    case CHAT_TOPIC:
        tbuf_str(b, text ? " set the topic of #" : " cleared the topic of #");
        tbuf_str(b, room);
        tbuf_str(b, text ? ": " : "");
        text_buf_clean(b, ev->text, ev->text_len);
        break;
    default:
        break;
    }
    tbuf_put(b, "\r\n", 2);
}

/* chat_wire release hook: drops the event's reference to its block. */
static void text_wire_release(void *ref)
{
    outq_block_unref(ref);
}

/*
 * Returns the event's bytes for text clients, formatting them once. Big
 * ones go into a shared block that every recipient's queue references.
 */
static const struct chat_wire *text_wire(struct chat_event *ev)
{
    struct chat_wire *w = &ev->wire[TEXT_WIRE];
    if (w->p != NULL)
        return w;
    struct tbuf *b = &text_wire_buf;
    b->n = 0;
    if (ev->kind == CHAT_MESSAGE) {
        for (size_t i = 0; i < ev->nlines; i++)
            if (!text_is_ctcp(ev->lines[i].text, ev->lines[i].len))
                text_format_line(ev, ev->lines[i].text, ev->lines[i].len, b);
    } else if (ev->kind == CHAT_PRIVATE || ev->kind == CHAT_ACTION) {
        text_format_line(ev, ev->text, ev->text_len, b);
    } else {
        text_format_notice(ev, b);
    }
    w->p = b->p;
    w->n = b->n;
    if (w->n >= CONN_SHARE_MIN) {
        w->ref = outq_block_new(w->p, w->n);
        w->release = text_wire_release;
    }
    return w;
}

void text_private_echo(struct text_session *s, const struct client *to,
                       const char *text, size_t len)
{
    struct chat_event ev = {
        .kind = CHAT_PRIVATE,
        .from = &s->client,
        .nick = s->client.nick,
        .nick_len = s->client.nick_len,
        .to = to,
        .text = text,
        .text_len = len,
    };
    struct tbuf *b = &text_line_buf;
    b->n = 0;
    text_format_line(&ev, text, len, b);
    text_write(s, b->p, b->n);
}

bool text_format_history(struct tbuf *b, const struct room_msg *m, bool dated)
{
    if (text_is_ctcp(m->data + m->src_len, m->text_len))
        return false;
    struct tm tm;
    time_t when = (time_t)(m->time_ms / 1000);
    gmtime_r(&when, &tm);
    if (dated)
        tbuf_printf(b, "%04d-%02d-%02d ", tm.tm_year + 1900, tm.tm_mon + 1,
                    tm.tm_mday);
    tbuf_printf(b, "%02d:%02d ", tm.tm_hour % 24, tm.tm_min % 60);
    bool action = m->kind == ROOM_MSG_ACTION;
    tbuf_put(b, action ? "[* " : "[", action ? 3 : 1);
    tbuf_put(b, m->data, m->nick_len);
    tbuf_put(b, action ? "] " : "]: ", action ? 2 : 3);
    text_buf_clean(b, m->data + m->src_len, m->text_len);
    tbuf_put(b, "\r\n", 2);
    return true;
}

void text_replay_line(const struct room_msg *m, void *arg)
{
    struct text_replay *rp = arg;
    if (rp->shown == 0 || m->id < rp->oldest)
        rp->oldest = m->id;
    rp->shown += text_format_history(rp->lines, m, rp->dated);
}

/*
 * Replays the last messages of r, framed by notice lines, through the
 * core's one history query (the same one IRC's CHATHISTORY uses).
 */
static void text_replay(struct text_session *s, const struct room *r)
{
    static struct tbuf lines;
    lines.n = 0;
    struct text_replay rp = {.lines = &lines};
    chat_history(r, CHAT_HIST_LATEST, NULL, NULL, text_cfg.history_replay,
                 text_replay_line, &rp);
    text_history_mark(s, r, rp.oldest);
    size_t k = rp.shown;
    if (k == 0)
        return;
    text_reply(s, "* --- last %zu message%s in #%s (times in UTC) ---", k,
               k == 1 ? "" : "s", r->name);
    text_write(s, lines.p, lines.n);
    text_reply(s, "* --- end of history ---");
}

/*
 * Tells a person about their own join: the welcome or the /join reply. Both
 * show the room's topic and recent history; the welcome ends with the hint,
 * so it is the last line a newcomer sees before typing.
 */
static void text_self_join(struct text_session *s, struct room *r)
{
    s->room = r;
    text_reply(s, "* you %s #%s (%zu %s here)",
               s->welcomed ? "joined" : "are in", r->name, r->nmembers,
               text_people(r->nmembers));
    if (r->topic) {
        struct tbuf *b = &text_line_buf;
        b->n = 0;
        tbuf_str(b, "* topic: ");
        text_buf_clean(b, r->topic, r->topic_len);
        tbuf_put(b, "\r\n", 2);
        text_write(s, b->p, b->n);
    }
    text_replay(s, r);
    if (!s->welcomed)
        text_reply(s, "* type to talk; /help lists commands; "
                      "/quit or $exit leaves");
}

struct room *text_room(struct text_session *s)
{
    const struct client *c = &s->client;
    if (s->room == NULL && c->nrooms > 0)
        s->room = c->rooms[c->nrooms - 1].room;
    return s->room;
}

/*
 * Tells s it is being put out of ev's room: "* NICK kicked you from #ROOM
 * (REASON)". Its talking room, if that one, is picked anew once the kick
 * is done (text_room): the room it joined before, if it is still there.
 */
static void text_kicked(struct text_session *s, const struct chat_event *ev)
{
    if (s->room == ev->room)
        s->room = NULL;
    struct tbuf *b = &text_line_buf;
    b->n = 0;
    tbuf_str(b, "* ");
    tbuf_put(b, ev->nick, ev->nick_len);
    tbuf_str(b, " kicked you from #");
    tbuf_str(b, ev->room->name);
    if (ev->text_len > 0) { /* an IRC user's reason may hold formatting */
        tbuf_str(b, " (");
        text_buf_clean(b, ev->text, ev->text_len);
        tbuf_str(b, ")");
    }
    tbuf_put(b, "\r\n", 2);
    text_write(s, b->p, b->n);
}

/*
 * Tells s about something it did or that was done to it, where it reads
 * differently than for everyone else. Returns false if ev is not such.
 */
static bool text_deliver_own(struct text_session *s, struct chat_event *ev)
{
    struct client *me = &s->client;
    if (ev->kind == CHAT_KICK && ev->to == me) {
        text_kicked(s, ev);
        return true;
    }
    if (ev->kind == CHAT_INVITE && ev->to == me) {
        text_reply(s, "* %.*s invites you to #%s: /join #%s", (int)ev->nick_len,
                   ev->nick, ev->room->name, ev->room->name);
        return true;
    }
    if (ev->from != me)
        return false;
    switch (ev->kind) {
    case CHAT_JOIN:
        text_self_join(s, ev->room);
        return true;
    case CHAT_NICK:
        text_reply(s, "* you are now %.*s", (int)ev->text_len, ev->text);
        return true;
    case CHAT_PART: /* the /join reply says it all */
        if (s->room == ev->room)
            s->room = NULL;
        return true;
    case CHAT_AWAY:
    case CHAT_SETNAME:
        return true;
    default:
        return false;
    }
}

/* Returns true if ev is an arrival or departure text users do not see. */
static bool text_quiet(const struct chat_event *ev)
{
    switch (ev->kind) {
    case CHAT_AWAY:
    case CHAT_SETNAME:
        return true;
    case CHAT_JOIN:
    case CHAT_PART:
    case CHAT_QUIT:
    case CHAT_NICK:
        return ev->room && ev->room->nmembers > text_cfg.quiet_above;
    case CHAT_PRIVATE:
        return text_is_ctcp(ev->text, ev->text_len);
    default:
        return false;
    }
}

/* Delivers one chat event to a text client. */
static bool text_deliver(struct client *to, struct chat_event *ev)
{
    struct text_session *s = (struct text_session *)to;
    if (text_deliver_own(s, ev))
        return true;
    if (text_quiet(ev))
        return false;
    const struct chat_wire *w = text_wire(ev);
    if (s->term && term_deliver(s, ev, w))
        return true;
    if (w->ref)
        conn_write_block(s->conn, w->ref);
    else
        conn_write(s->conn, w->p, w->n);
    return true;
}

static const struct client_ops text_client_ops = {
    .proto = TEXT_WIRE,
    .deliver = text_deliver,
    .killed = text_killed,
};

/* ------------------------------------------------------------------------
 * Batching (core/batch.h): the messages a client sends in one read become
 * one event. The batch is said before anything else the session does (a
 * command, the end of its input, its close), so order is as typed.
 * ------------------------------------------------------------------------ */

static struct chat_batch text_batch;

/* Says lines in s's room; tells s if it may not, or is in none. */
static void text_say(struct text_session *s, const struct chat_line *lines,
                     size_t n)
{
    struct room *r = text_here(s);
    enum chat_error e =
        r ? chat_say(&s->client, r, lines, n, false, NULL, NULL) : CHAT_OK;
    if (e != CHAT_OK)
        text_speak_error(s, r, e);
}

/* Says the gathered messages, if any. */
static void text_batch_flush(void)
{
    struct text_session *s = text_batch.owner;
    if (s == NULL)
        return;
    size_t n = text_batch.n;
    chat_batch_clear(&text_batch); /* its lines stay until the next add */
    text_say(s, text_batch.lines, n);
}

/* Adds one message of s to the batch, saying earlier ones as needed. */
static void text_batch_add(struct text_session *s, const char *text, size_t n)
{
    struct room *r = text_room(s);
    if (text_batch.owner && !chat_batch_fits(&text_batch, s, r, false, n))
        text_batch_flush();
    if (n > CHAT_BATCH_BYTES) { /* a huge line goes out on its own */
        struct chat_line line = {text, n};
        text_say(s, &line, 1);
        return;
    }
    if (chat_batch_add(&text_batch, s, r, false, text, n,
                       conn_get_limits()->flood_bytes))
        text_batch_flush();
}

/* ------------------------------------------------------------------------
 * Connection hooks
 * ------------------------------------------------------------------------ */

/*
 * A new connection: a new person in #lobby; on telnet:// (telnet true),
 * with a terminal, whose offers go out first.
 */
static void text_open_session(struct conn *c, bool telnet)
{
    struct text_session *s = xcalloc(1, sizeof *s);
    s->conn = c;
    conn_set_data(c, s);
    chat_register(&s->client, conn_id(c), &text_client_ops, s, NULL, 0);
    chat_set_user_host(&s->client, "~text", conn_host(c));
    if (text_ban_refused(s))
        return;
    /* What IRC's WHO, WHOIS, WHOWAS and extended-join show as its name. */
    s->client.realname = xstrndup("text user", 9);
    s->client.origin = conn_origin(c); /* lives as long as the session */
    if (telnet)
        term_new(s);
    text_reply(s, "* welcome to parley, %s", s->client.nick);
    struct room *lobby;
    enum chat_error e = chat_join(&s->client, "lobby", 5, NULL, 0, &lobby);
    if (e != CHAT_OK)
        text_join_error(s, e, "lobby", 5);
    s->welcomed = true;
}

/*
 * One line from the client: sanitize, then a message or a command. The
 * limit on line length holds for what is relayed and stored, not only for
 * what arrived: cleaning turns invalid UTF-8 into 3-byte U+FFFDs, so a line
 * may grow (4096 bytes of 0x80 become 12,288), and one that grew past the
 * limit is refused whole, like an over-long line, never cut.
 */
static void text_line(struct conn *c, const char *line, size_t len)
{
    struct text_session *s = conn_data(c);
    size_t n;
    text_clean_buf.n = 0;
    const char *clean = sanitize_line(
        line, len, tbuf_reserve(&text_clean_buf, SANITIZE_MAX(len) + 1), &n);
    if (n == 0)
        return;
    size_t max = conn_get_limits()->max_line;
    if (n > max) {
        text_reply(s,
                   "! line too long once invalid UTF-8 is replaced "
                   "(max %zu bytes)",
                   max);
        return;
    }
    bool command = clean[0] == '/' && !(n > 1 && clean[1] == '/');
    bool exit = n == 5 && strncasecmp(clean, "$exit", 5) == 0;
    if (command || exit) {
        text_batch_flush(); /* messages typed before it come first */
        if (command)
            text_command(s, clean, n);
        else
            text_quit(s, "", 0);
        return;
    }
    if (clean[0] == '/') { /* "//text" posts "/text" */
        clean++;
        n--;
    }
    text_batch_add(s, clean, n);
}

/* The end of one read: say what it brought. */
static void text_input_done(struct conn *c)
{
    (void)c;
    text_batch_flush();
}

/* A line over the limit: refuse it; the connection stays. */
static void text_too_long(struct conn *c, size_t max_line)
{
    text_reply(conn_data(c), "! line too long (max %zu bytes)", max_line);
}

/* Returns what the room is told when a connection ends without /quit. */
static const char *text_reason(enum conn_reason reason)
{
    switch (reason) {
    case CONN_EOF:
        return "connection closed";
    case CONN_SENDQ:
        return "too slow: output queue full";
    case CONN_MEMORY:
        return "too slow: server output memory full";
    case CONN_FLOOD:
        return "excess flood";
    case CONN_HTTP:
    case CONN_TLS:
        return "not a chat client";
    case CONN_TIMEOUT:
        return "connection timed out";
    default:
        return "connection error";
    }
}

/* The connection ended: the person leaves, unless they quit already. */
static void text_close(struct conn *c, enum conn_reason reason)
{
    struct text_session *s = conn_data(c);
    if (text_batch.owner == s)
        text_batch_flush();
    oper_check_forget(conn_id(c)); /* an /oper it left waiting is not run */
    if (reason == CONN_SENDQ) {
        char line[128];
        snprintf(line, sizeof line,
                 "! output queue full (max %zu bytes), closing\r\n",
                 conn_get_limits()->sendq_max);
        conn_try_send(c, line);
    } else if (reason == CONN_FLOOD) {
        char line[128];
        snprintf(line, sizeof line,
                 "! excess flood: over %zu bytes sent ahead of the flood "
                 "limit, closing\r\n",
                 conn_get_limits()->recvq_max);
        conn_last_words(c, line); /* it lingers: this gets through */
    } else if (reason == CONN_MEMORY) {
        conn_try_send(c, "! server output memory full and you read the "
                         "slowest, closing\r\n");
    }
    if (!s->gone) {
        const char *why = text_reason(reason);
        chat_unregister(&s->client, why, strlen(why), reason != CONN_SHUTDOWN);
    }
    term_free(s);
    free(s);
}

/* A text:// connection opens. */
static void text_open(struct conn *c)
{
    text_open_session(c, false);
}

/* A telnet:// connection opens. */
static void text_telnet_open(struct conn *c)
{
    text_open_session(c, true);
}

/* Names a connection in the log by its nick. */
static const char *text_label(const struct conn *c)
{
    const struct text_session *s = conn_data(c);
    return s ? s->client.nick : NULL;
}

void text_quit(struct text_session *s, const char *reason, size_t len)
{
    text_reply(s, "* bye");
    chat_unregister(&s->client, reason, len, true);
    s->gone = true;
    conn_close(s->conn, CONN_QUIT, true);
}

/* A line from the server itself: "! TEXT" for a refusal, else "* TEXT". */
static size_t text_server_line(bool error, const char *text, char *out,
                               size_t size)
{
    int k = snprintf(out, size, "%c %s\r\n", error ? '!' : '*', text);
    return k < 0 ? 0 : (size_t)k < size ? (size_t)k : size - 1;
}

const struct conn_proto text_proto = {
    .name = "text",
    .server_line = text_server_line,
    .open = text_open,
    .line = text_line,
    .too_long = text_too_long,
    .input_done = text_input_done,
    .close = text_close,
    .label = text_label,
};

const struct conn_proto text_telnet_proto = {
    .name = "telnet",
    .raw = true, /* term_filter takes the telnet commands out */
    .server_line = text_server_line,
    .open = text_telnet_open,
    .filter = term_filter,
    .line = text_line,
    .too_long = text_too_long,
    .input_done = text_input_done,
    .close = text_close,
    .label = text_label,
};
