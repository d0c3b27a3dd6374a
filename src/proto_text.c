/*
 * proto_text: sessions, formatting and delivery for the text protocol.
 */
#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conn.h"
#include "room.h"
#include "sanitize.h"
#include "xmalloc.h"

/* Index of the text protocol in chat_event.wire. */
#define TEXT_WIRE 0

/* Scratch space for formatting; grows to the largest line seen. */
struct text_scratch {
    char *p;
    size_t cap;
};

static struct text_scratch text_wire_buf;  /* cached event bytes */
static struct text_scratch text_line_buf;  /* per-recipient lines */
static struct text_scratch text_clean_buf; /* sanitized input */

/* Returns scratch space of at least n bytes. */
static char *text_scratch_get(struct text_scratch *s, size_t n)
{
    if (s->cap < n) {
        free(s->p);
        s->cap = n < 1024 ? 1024 : n;
        s->p = xmalloc(s->cap);
    }
    return s->p;
}

const char *text_people(size_t n)
{
    return n == 1 ? "person" : "people";
}

/* Formats into the line scratch; returns the length (CRLF included). */
__attribute__((format(printf, 1, 0))) static size_t
text_vformat(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return 0;
    char *p = text_scratch_get(&text_line_buf, (size_t)n + 3);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    p[n] = '\r';
    p[n + 1] = '\n';
    return (size_t)n + 2;
}

void text_reply(struct text_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = text_vformat(fmt, ap);
    va_end(ap);
    conn_write(s->conn, text_line_buf.p, n);
}

/* ------------------------------------------------------------------------
 * Formatting chat events. Events the same for every recipient are formatted
 * once and cached in the event; the few that differ for the person
 * concerned (their own join or nick change) are written directly.
 * ------------------------------------------------------------------------ */

/*
 * Builds "[NICK]: TEXT\r\n" (or "[NICK -> TO]: TEXT\r\n") at p without
 * printf: the hot path. Returns the length.
 */
static size_t text_format_line(const struct chat_event *ev, const char *text,
                               size_t len, char *p)
{
    size_t n = 0;
    p[n++] = '[';
    memcpy(p + n, ev->nick, ev->nick_len);
    n += ev->nick_len;
    if (ev->kind == CHAT_PRIVATE) {
        memcpy(p + n, " -> ", 4);
        n += 4;
        memcpy(p + n, ev->to->nick, ev->to->nick_len);
        n += ev->to->nick_len;
    }
    memcpy(p + n, "]: ", 3);
    n += 3;
    memcpy(p + n, text, len);
    n += len;
    p[n++] = '\r';
    p[n++] = '\n';
    return n;
}

/* Returns the bytes an event's text (all its lines) takes at most. */
static size_t text_event_size(const struct chat_event *ev)
{
    size_t n = ev->text_len + 2 * NICK_MAX + ROOM_NAME_MAX + 64;
    for (size_t i = 0; i < ev->nlines; i++)
        n += ev->lines[i].len + NICK_MAX + 8;
    return n;
}

/* Formats a notice event for everyone but the person concerned. */
static size_t text_format_notice(const struct chat_event *ev, char *p,
                                 size_t cap)
{
    const struct room *r = ev->room;
    int nick = (int)ev->nick_len, tl = (int)ev->text_len;
    int n = 0;
    switch (ev->kind) {
    case CHAT_ACTION:
        n = snprintf(p, cap, "* %.*s %.*s", nick, ev->nick, tl, ev->text);
        break;
    case CHAT_JOIN:
        n = snprintf(p, cap, "* %.*s joined #%s", nick, ev->nick, r->name);
        break;
    case CHAT_PART:
        n = snprintf(p, cap, "* %.*s left #%s", nick, ev->nick, r->name);
        break;
    case CHAT_QUIT:
        n = tl ? snprintf(p, cap, "* %.*s quit (%.*s)", nick, ev->nick, tl,
                          ev->text)
               : snprintf(p, cap, "* %.*s quit", nick, ev->nick);
        break;
    case CHAT_NICK:
        n = snprintf(p, cap, "* %.*s is now %.*s", nick, ev->nick, tl,
                     ev->text);
        break;
    case CHAT_TOPIC:
        n = tl ? snprintf(p, cap, "* %.*s set the topic of #%s: %.*s", nick,
                          ev->nick, r->name, tl, ev->text)
               : snprintf(p, cap, "* %.*s cleared the topic of #%s", nick,
                          ev->nick, r->name);
        break;
    default:
        return 0;
    }
    memcpy(p + n, "\r\n", 2);
    return (size_t)n + 2;
}

/* Returns the event's bytes for text clients, formatting them once. */
static const struct chat_wire *text_wire(struct chat_event *ev)
{
    struct chat_wire *w = &ev->wire[TEXT_WIRE];
    if (w->p != NULL)
        return w;
    size_t cap = text_event_size(ev);
    char *p = text_scratch_get(&text_wire_buf, cap);
    size_t n = 0;
    if (ev->kind == CHAT_MESSAGE) {
        for (size_t i = 0; i < ev->nlines; i++)
            n += text_format_line(ev, ev->lines[i].text, ev->lines[i].len,
                                  p + n);
    } else if (ev->kind == CHAT_PRIVATE) {
        n = text_format_line(ev, ev->text, ev->text_len, p);
    } else {
        n = text_format_notice(ev, p, cap - 2);
    }
    w->p = p;
    w->n = n;
    return w;
}

/* Replays the last messages of r, framed by notice lines. */
static void text_replay(struct text_session *s, const struct room *r)
{
    size_t want = chat_get_config()->history_replay;
    size_t k = r->hist_count < want ? r->hist_count : want;
    if (k == 0)
        return;
    text_reply(s, "* --- last %zu message%s in #%s ---", k, k == 1 ? "" : "s",
               r->name);
    for (size_t i = r->hist_count - k; i < r->hist_count; i++) {
        const struct room_msg *m = room_history(r, i);
        struct tm tm;
        gmtime_r(&m->when, &tm);
        text_reply(s, "%02d:%02d [%.*s]: %.*s", tm.tm_hour, tm.tm_min,
                   (int)m->nick_len, m->data, (int)m->text_len,
                   m->data + m->nick_len);
    }
    text_reply(s, "* --- end of history ---");
}

/* Tells a person about their own join: the welcome or the /join reply. */
static void text_self_join(struct text_session *s, const struct room *r)
{
    if (!s->welcomed) {
        text_reply(s, "* you are in #%s (%zu %s here)", r->name, r->nmembers,
                   text_people(r->nmembers));
        text_reply(s, "* type to talk; /help lists commands; "
                      "/quit or $exit leaves");
        return;
    }
    text_reply(s, "* you joined #%s (%zu %s here)", r->name, r->nmembers,
               text_people(r->nmembers));
    if (r->topic)
        text_reply(s, "* topic: %s", r->topic);
    text_replay(s, r);
}

/* Delivers one chat event to a text client. */
static void text_deliver(struct client *to, struct chat_event *ev)
{
    struct text_session *s = (struct text_session *)to;
    if (ev->from == to) {
        if (ev->kind == CHAT_JOIN) {
            text_self_join(s, ev->room);
            return;
        }
        if (ev->kind == CHAT_NICK) {
            text_reply(s, "* you are now %.*s", (int)ev->text_len, ev->text);
            return;
        }
        if (ev->kind == CHAT_PART)
            return; /* the /join reply says it all */
    }
    const struct chat_wire *w = text_wire(ev);
    conn_write(s->conn, w->p, w->n);
}

static const struct client_ops text_client_ops = {
    .proto = TEXT_WIRE,
    .deliver = text_deliver,
};

/* ------------------------------------------------------------------------
 * Batching: the messages a client sends in one read (a paste, or a fast
 * client) become one event, formatted into one block and queued with one
 * append per recipient instead of one per line and recipient. The batch is
 * said before anything else the session does (a command, the end of its
 * input, its close), so order is as typed.
 * ------------------------------------------------------------------------ */

/* Most lines, and bytes of text, gathered into one event. */
#define TEXT_BATCH_LINES 64
#define TEXT_BATCH_BYTES (16 * 1024)

static struct {
    struct text_session *s; /* whose lines these are; NULL when empty */
    struct chat_line lines[TEXT_BATCH_LINES];
    size_t n;
    char bytes[TEXT_BATCH_BYTES];
    size_t used;
} text_batch;

/* Says the gathered messages, if any. */
static void text_batch_flush(void)
{
    struct text_session *s = text_batch.s;
    if (s == NULL)
        return;
    if (s->client.room)
        chat_say(&s->client, s->client.room, text_batch.lines, text_batch.n);
    text_batch.s = NULL;
    text_batch.n = 0;
    text_batch.used = 0;
}

/* Adds one message of s to the batch, saying earlier ones as needed. */
static void text_batch_add(struct text_session *s, const char *text, size_t n)
{
    if (text_batch.s != s || text_batch.n == TEXT_BATCH_LINES ||
        TEXT_BATCH_BYTES - text_batch.used < n)
        text_batch_flush();
    if (n > TEXT_BATCH_BYTES) { /* a huge line goes out on its own */
        struct chat_line line = {text, n};
        if (s->client.room)
            chat_say(&s->client, s->client.room, &line, 1);
        return;
    }
    char *p = text_batch.bytes + text_batch.used;
    memcpy(p, text, n);
    text_batch.used += n;
    text_batch.lines[text_batch.n].text = p;
    text_batch.lines[text_batch.n].len = n;
    text_batch.n++;
    text_batch.s = s;
}

/* ------------------------------------------------------------------------
 * Connection hooks
 * ------------------------------------------------------------------------ */

/* A new connection: a new person in #lobby. */
static void text_open(struct conn *c)
{
    struct text_session *s = xcalloc(1, sizeof *s);
    s->conn = c;
    conn_set_data(c, s);
    chat_register(&s->client, conn_id(c), &text_client_ops, s);
    s->client.origin = conn_host(c); /* lives as long as the session */
    text_reply(s, "* welcome to parley, %s", s->client.nick);
    struct room *lobby;
    chat_join(&s->client, "lobby", 5, &lobby);
    s->welcomed = true;
}

/* One line from the client: sanitize, then a message or a command. */
static void text_line(struct conn *c, const char *line, size_t len)
{
    struct text_session *s = conn_data(c);
    size_t n;
    const char *clean = sanitize_line(
        line, len, text_scratch_get(&text_clean_buf, SANITIZE_MAX(len) + 1),
        &n);
    if (n == 0)
        return;
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
    case CONN_HTTP:
    case CONN_TLS:
        return "not a chat client";
    default:
        return "connection error";
    }
}

/* The connection ended: the person leaves, unless they quit already. */
static void text_close(struct conn *c, enum conn_reason reason)
{
    struct text_session *s = conn_data(c);
    if (text_batch.s == s)
        text_batch_flush();
    if (reason == CONN_SENDQ) {
        char line[128];
        snprintf(line, sizeof line,
                 "! output queue full (max %zu bytes), closing\r\n",
                 conn_get_limits()->sendq_max);
        conn_try_send(c, line);
    }
    if (!s->gone) {
        const char *why = text_reason(reason);
        chat_unregister(&s->client, why, strlen(why), reason != CONN_SHUTDOWN);
    }
    free(s);
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

const struct conn_proto text_proto = {
    .name = "text",
    .open = text_open,
    .line = text_line,
    .too_long = text_too_long,
    .input_done = text_input_done,
    .close = text_close,
    .label = text_label,
};
