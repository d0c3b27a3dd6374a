/*
 * out: everything parley writes to IRC clients. Numerics, standard
 * replies, labeled responses, and chat events in IRC's form.
 *
 * Messages (PRIVMSG and NOTICE to a channel or a person) are the hot path:
 * each is formatted once per variant a recipient may need (no tags, time
 * only, every tag) and cached in the event, as the text protocol does;
 * big ones become a shared block. Other events are rare and differ per
 * recipient (its own JOIN brings the topic and names, extended-join adds
 * the real name), so they are formatted for each.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/room.h"
#include "event/conn.h"
#include "event/outq.h"
#include "irc/irc.h"
#include "lib/tbuf.h"

static struct tbuf irc_line;       /* one line being built for one client */
static struct tbuf irc_msgbuf;     /* a message for one client */
static struct tbuf irc_wirebuf[4]; /* a message event, per variant */

/* The labeled command being answered: its session, label and replies. */
static struct {
    struct irc_session *s; /* NULL: none */
    char label[IRC_LABEL_MAX + 1];
    struct tbuf out;
    size_t lines;
} irc_lab;

static unsigned long irc_batches; /* batch references handed out */

const char *irc_nick(const struct irc_session *s)
{
    if (s->registered)
        return s->client.nick;
    return s->pending && s->pending->nick[0] ? s->pending->nick : "*";
}

/* Counts the lines (CRLF ends) in n bytes at p. */
static size_t irc_count_lines(const char *p, size_t n)
{
    size_t k = 0;
    for (const char *q = p; (q = memchr(q, '\n', (size_t)(p + n - q))); q++)
        k++;
    return k;
}

void irc_write(struct irc_session *s, const char *p, size_t n)
{
    if (irc_lab.s == s) {
        tbuf_put(&irc_lab.out, p, n);
        irc_lab.lines += irc_count_lines(p, n);
        return;
    }
    conn_write(s->conn, p, n);
}

void irc_send(struct irc_session *s, const char *fmt, ...)
{
    struct tbuf *b = &irc_line;
    b->n = 0;
    va_list ap;
    va_start(ap, fmt);
    tbuf_vprintf(b, fmt, ap);
    va_end(ap);
    tbuf_put(b, "\r\n", 2);
    irc_write(s, b->p, b->n);
}

void irc_num(struct irc_session *s, const char *num, const char *fmt, ...)
{
    struct tbuf *b = &irc_line;
    b->n = 0;
    tbuf_printf(b, ":%s %s %s ", irc_conf.server_name, num, irc_nick(s));
    va_list ap;
    va_start(ap, fmt);
    tbuf_vprintf(b, fmt, ap);
    va_end(ap);
    tbuf_put(b, "\r\n", 2);
    irc_write(s, b->p, b->n);
}

void irc_fail(struct irc_session *s, const char *cmd, const char *code,
              const char *num, const char *text)
{
    if (s->caps & IRC_CAP_STANDARD_REPLIES)
        irc_reply(s, "FAIL", cmd, code, NULL, text);
    else if (num)
        irc_num(s, num, "%s :%s", cmd, text);
    else
        irc_send(s, ":%s NOTICE %s :%s: %s", irc_conf.server_name, irc_nick(s),
                 cmd, text);
}

/* ------------------------------------------------------------------------
 * Tags
 * ------------------------------------------------------------------------ */

size_t irc_msgid(uint64_t id, unsigned k, char *out, size_t cap)
{
    int n = k ? snprintf(out, cap, "%llu.%u", (unsigned long long)id, k)
              : snprintf(out, cap, "%llu", (unsigned long long)id);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

size_t irc_time(int64_t ms, char *out, size_t cap)
{
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    int k = snprintf(out + n, cap - n, ".%03dZ", (int)(ms % 1000));
    return k < 0 ? n : n + (size_t)k < cap ? n + (size_t)k : cap - 1;
}

/*
 * Appends the tags of one variant (IRC_WIRE_*) to b: extra (a tag list
 * without '@', e.g. "batch=b1"; may be NULL), then time, msgid (part k's)
 * and the client-only tags ctags (clen bytes) as the variant allows. The
 * server's tags come first, as message-tags asks. Appends nothing if no
 * tag is left, else "@...;... ".
 */
static void irc_put_tags(struct tbuf *b, unsigned variant, const char *extra,
                         uint64_t id, unsigned k, int64_t ms, const char *ctags,
                         size_t clen)
{
    size_t start = b->n;
    char v[64];
    if (extra && extra[0]) {
        tbuf_put(b, "@", 1);
        tbuf_str(b, extra);
    }
    if (variant != IRC_WIRE_PLAIN) {
        tbuf_str(b, b->n > start ? ";time=" : "@time=");
        tbuf_put(b, v, irc_time(ms, v, sizeof v));
    }
    if (variant == IRC_WIRE_TAGS && id) {
        tbuf_str(b, b->n > start ? ";msgid=" : "@msgid=");
        tbuf_put(b, v, irc_msgid(id, k, v, sizeof v));
    }
    if (variant == IRC_WIRE_TAGS && clen > 0) {
        tbuf_put(b, b->n > start ? ";" : "@", 1);
        tbuf_put(b, ctags, clen);
    }
    if (b->n > start)
        tbuf_put(b, " ", 1);
}

/* Returns the variant of tags s takes. */
static unsigned irc_variant(const struct irc_session *s)
{
    if (s->caps & IRC_CAP_MESSAGE_TAGS)
        return IRC_WIRE_TAGS;
    return s->caps & IRC_CAP_SERVER_TIME ? IRC_WIRE_TIME : IRC_WIRE_PLAIN;
}

size_t irc_tags(const struct irc_session *s, uint64_t id, int64_t time_ms,
                const char *extra, char *out)
{
    struct tbuf *b = &irc_msgbuf;
    b->n = 0;
    irc_put_tags(b, irc_variant(s), extra, id, 0, time_ms, NULL, 0);
    size_t n = b->n < IRC_TAGS_OUT ? b->n : 0; /* never half a tag */
    memcpy(out, b->p ? b->p : "", n);
    out[n] = '\0';
    return n;
}

void irc_batch_ref(char out[16])
{
    snprintf(out, 16, "b%lu", ++irc_batches % 100000000ul);
}

void irc_reply(struct irc_session *s, const char *type, const char *cmd,
               const char *code, const char *context, const char *text)
{
    irc_send(s, ":%s %s %s %s %s%s:%s", irc_conf.server_name, type, cmd, code,
             context ? context : "", context ? " " : "", text);
}

/* ------------------------------------------------------------------------
 * Labeled responses
 * ------------------------------------------------------------------------ */

void irc_label_begin(struct irc_session *s, const char *label, size_t len)
{
    if (len > IRC_LABEL_MAX)
        len = IRC_LABEL_MAX;
    memcpy(irc_lab.label, label, len);
    irc_lab.label[len] = '\0';
    irc_lab.s = s;
    irc_lab.out.n = 0;
    irc_lab.lines = 0;
}

/* Writes line (n bytes, CRLF included) to s with tag added to its tags. */
static void irc_write_tagged(struct irc_session *s, const char *tag,
                             const char *line, size_t n)
{
    struct tbuf *b = &irc_line;
    b->n = 0;
    tbuf_put(b, "@", 1);
    tbuf_str(b, tag);
    if (n > 0 && line[0] == '@') {
        tbuf_put(b, ";", 1);
        tbuf_put(b, line + 1, n - 1);
    } else {
        tbuf_put(b, " ", 1);
        tbuf_put(b, line, n);
    }
    conn_write(s->conn, b->p, b->n);
}

/* Returns the length of the line at p (end at most), CRLF included. */
static size_t irc_line_len(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return (size_t)((nl ? nl + 1 : end) - p);
}

/* Returns true if the line (n bytes) has a batch tag: it is in a batch. */
static bool irc_in_batch(const char *line, size_t n)
{
    if (n == 0 || line[0] != '@')
        return false;
    const char *end = memchr(line, ' ', n);
    for (const char *p = line + 1; end && p < end;) {
        if (end - p > 6 && memcmp(p, "batch=", 6) == 0)
            return true;
        const char *semi = memchr(p, ';', (size_t)(end - p));
        p = semi ? semi + 1 : end;
    }
    return false;
}

/*
 * Returns the length of the first of the n bytes of lines at p if they are
 * one batch of ours from its start to its end (":SERVER BATCH +REF ...",
 * lines in a batch, ":SERVER BATCH -REF"), else 0.
 */
static size_t irc_one_batch(const char *p, size_t n)
{
    char head[128], ref[32];
    int h = snprintf(head, sizeof head, ":%s BATCH +", irc_conf.server_name);
    size_t first = irc_line_len(p, p + n), r = 0;
    if (h < 0 || first < (size_t)h || memcmp(p, head, (size_t)h) != 0)
        return 0;
    while (h + r < first && r < sizeof ref - 1 && p[h + r] != ' ')
        r++;
    memcpy(ref, p + h, r);
    ref[r] = '\0';
    snprintf(head, sizeof head, ":%s BATCH -%s\r\n", irc_conf.server_name, ref);
    size_t k = strlen(head);
    if (n < first + k || memcmp(p + n - k, head, k) != 0)
        return 0;
    for (const char *q = p + first, *end = p + n - k; q < end;) {
        size_t len = irc_line_len(q, end);
        if (!irc_in_batch(q, len))
            return 0;
        q += len;
    }
    return first;
}

/*
 * Sends the lines at p (n bytes) to s inside a labeled-response batch
 * whose start carries tag: each line not yet in a batch (a nested batch's
 * own lines are) gets the new batch's tag.
 */
static void irc_label_batch(struct irc_session *s, const char *tag,
                            const char *p, size_t n)
{
    char ref[16], open[64], btag[32];
    irc_batch_ref(ref);
    int k = snprintf(open, sizeof open, ":%s BATCH +%s labeled-response\r\n",
                     irc_conf.server_name, ref);
    irc_write_tagged(s, tag, open, (size_t)k);
    snprintf(btag, sizeof btag, "batch=%s", ref);
    for (const char *end = p + n; p < end;) {
        size_t len = irc_line_len(p, end);
        if (irc_in_batch(p, len))
            conn_write(s->conn, p, len);
        else
            irc_write_tagged(s, btag, p, len);
        p += len;
    }
    irc_send(s, ":%s BATCH -%s", irc_conf.server_name, ref);
}

bool irc_label_running(void)
{
    return irc_lab.s != NULL;
}

void irc_label_end(void)
{
    struct irc_session *s = irc_lab.s;
    if (s == NULL)
        return;
    irc_lab.s = NULL;
    char tag[IRC_LABEL_MAX * 2 + 16];
    char escaped[2 * IRC_LABEL_MAX + 1];
    size_t e = irc_tag_escape(irc_lab.label, strlen(irc_lab.label), escaped);
    snprintf(tag, sizeof tag, "label=%.*s", (int)e, escaped);
    const char *p = irc_lab.out.p;
    size_t n = irc_lab.out.n, first;
    if (irc_lab.lines == 0) {
        char ack[IRC_LABEL_MAX * 2 + 64];
        int k = snprintf(ack, sizeof ack, ":%s ACK\r\n", irc_conf.server_name);
        irc_write_tagged(s, tag, ack, (size_t)k);
    } else if (irc_lab.lines == 1) {
        irc_write_tagged(s, tag, p, n);
    } else if (!(s->caps & IRC_CAP_BATCH)) {
        conn_write(s->conn, p, n); /* no batch: no label either */
    } else if ((first = irc_one_batch(p, n)) > 0) {
        irc_write_tagged(s, tag, p, first); /* the batch is the response */
        conn_write(s->conn, p + first, n - first);
    } else {
        irc_label_batch(s, tag, p, n);
    }
}

/* ------------------------------------------------------------------------
 * Messages
 * ------------------------------------------------------------------------ */

size_t irc_fit_utf8(const char *p, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t k = max;
    while (k > 0 && ((unsigned char)p[k] & 0xc0) == 0x80)
        k--;
    return k > 0 ? k : max;
}

/*
 * Appends m to b as IRC lines in variant v, split as below, each part with
 * its own msgid ("id", "id.1", ...) and the same tags otherwise.
 */
static void irc_format_message(struct tbuf *b, unsigned v,
                               const struct irc_message *m)
{
    char extra[40];
    const char *x = NULL;
    bool bot = m->bot && v == IRC_WIRE_TAGS; /* bot-mode: message-tags only */
    if (m->batch || bot) { /* rare: no printf on the common path */
        snprintf(extra, sizeof extra, "%s%s%s%s", m->batch ? "batch=" : "",
                 m->batch ? m->batch : "", m->batch && bot ? ";" : "",
                 bot ? "bot" : "");
        x = extra;
    }
    if (m->text == NULL) { /* TAGMSG */
        irc_put_tags(b, v, x, m->id, 0, m->time_ms, m->client_tags,
                     m->client_tags_len);
        tbuf_printf(b, ":%s %s %s\r\n", m->from, m->cmd, m->target);
        return;
    }
    /*
     * A part holds what an IRC client could have sent in one line to this
     * target ("PRIVMSG target " and the text within 510 bytes), so what
     * an IRC user said is relayed whole, as modern servers do, even when
     * the source makes the line longer than 512; only longer text (a text
     * user's line may be 4096 bytes) is split.
     */
    size_t head = strlen(m->cmd) + 1 + strlen(m->target) + 1;
    size_t room = IRC_BODY_MAX - head - (m->action ? 9 : 0);
    const char *text = m->text;
    size_t len = m->len;
    unsigned part = 0;
    do {
        size_t k = irc_fit_utf8(text, len, room);
        irc_put_tags(b, v, x, m->id, part, m->time_ms, m->client_tags,
                     m->client_tags_len);
        tbuf_put(b, ":", 1); /* no printf: this runs once per message */
        tbuf_str(b, m->from);
        tbuf_put(b, " ", 1);
        tbuf_str(b, m->cmd);
        tbuf_put(b, " ", 1);
        tbuf_str(b, m->target);
        tbuf_str(b, m->action ? " :\x01"
                                "ACTION "
                              : " :");
        tbuf_put(b, text, k);
        tbuf_str(b, m->action ? "\x01\r\n" : "\r\n");
        text += k;
        len -= k;
        part++;
    } while (len > 0);
}

void irc_send_message(struct irc_session *s, const struct irc_message *m)
{
    if (m->text == NULL && !(s->caps & IRC_CAP_MESSAGE_TAGS))
        return; /* TAGMSG only to those who took message-tags */
    struct tbuf *b = &irc_msgbuf;
    b->n = 0;
    irc_format_message(b, irc_variant(s), m);
    irc_write(s, b->p, b->n);
}

/* chat_wire release hook: drops the event's reference to its block. */
static void irc_wire_release(void *ref)
{
    outq_block_unref(ref);
}

void irc_status_target(unsigned min_status, const struct room *r, char *out,
                       size_t cap)
{
    const char *sigil = min_status == CHAT_OP      ? "@"
                        : min_status == CHAT_VOICE ? "+"
                                                   : "";
    snprintf(out, cap, "%s#%s", sigil, r->name);
}

/* Returns the message event ev in variant v, formatting it once. */
static const struct chat_wire *irc_message_wire(struct chat_event *ev,
                                                unsigned v)
{
    struct chat_wire *w = &ev->wire[v];
    if (w->p != NULL)
        return w;
    char from[CHAT_PREFIX_MAX + 1], target[ROOM_NAME_MAX + NICK_MAX + 3];
    chat_prefix(ev->from, from, sizeof from);
    if (ev->room)
        irc_status_target(ev->min_status, ev->room, target, sizeof target);
    else
        snprintf(target, sizeof target, "%s", ev->to->nick);
    struct irc_message m = {
        .cmd = ev->kind == CHAT_TAGMSG ? "TAGMSG"
               : ev->notice            ? "NOTICE"
                                       : "PRIVMSG",
        .id = ev->id,
        .time_ms = ev->time_ms,
        .from = from,
        .target = target,
        .text = ev->text ? ev->text : "",
        .len = ev->text_len,
        .action = ev->kind == CHAT_ACTION || ev->action,
        .client_tags = ev->client_tags,
        .client_tags_len = ev->client_tags_len,
        .bot = irc_is_bot(ev->from),
    };
    struct tbuf *b = &irc_wirebuf[v];
    b->n = 0;
    if (ev->kind == CHAT_TAGMSG)
        m.text = NULL;
    for (size_t i = 0; ev->kind == CHAT_MESSAGE && i < ev->nlines; i++) {
        m.id = ev->id + i;
        m.text = ev->lines[i].text;
        m.len = ev->lines[i].len;
        irc_format_message(b, v, &m);
    }
    if (ev->kind != CHAT_MESSAGE)
        irc_format_message(b, v, &m);
    w->p = b->p;
    w->n = b->n;
    if (w->n >= CONN_SHARE_MIN) {
        w->ref = outq_block_new(w->p, w->n);
        w->release = irc_wire_release;
    }
    return w;
}

/*
 * Delivers a message event to s from the cache. Never part of a labeled
 * response: what s sends itself comes back labeled as its echo only.
 */
static void irc_deliver_message(struct irc_session *s, struct chat_event *ev)
{
    const struct chat_wire *w = irc_message_wire(ev, irc_variant(s));
    if (w->ref)
        conn_write_block(s->conn, w->ref);
    else
        conn_write(s->conn, w->p, w->n);
}

/* ------------------------------------------------------------------------
 * Other events
 * ------------------------------------------------------------------------ */

void irc_topic_reply(struct irc_session *s, const struct room *r, bool say_none)
{
    if (r->topic == NULL) {
        if (say_none)
            irc_num(s, "331", "#%s :No topic is set", r->name);
        return;
    }
    irc_num(s, "332", "#%s :%s", r->name, r->topic);
    irc_num(s, "333", "#%s %s %lld", r->name,
            r->topic_by ? r->topic_by : irc_conf.server_name,
            (long long)r->topic_at);
}

/* Appends the status prefixes of a member: all with multi-prefix. */
static void irc_prefix_chars(struct tbuf *b, unsigned status, bool all)
{
    if (status & CHAT_OP)
        tbuf_put(b, "@", 1);
    if ((status & CHAT_VOICE) && (all || !(status & CHAT_OP)))
        tbuf_put(b, "+", 1);
}

void irc_names_replies(struct irc_session *s, const struct room *r)
{
    bool all = s->caps & IRC_CAP_MULTI_PREFIX;
    bool uhnames = s->caps & IRC_CAP_USERHOST_IN_NAMES;
    static struct tbuf names;
    names.n = 0;
    char head[128];
    int h =
        snprintf(head, sizeof head, ":%s 353 %s %c #%s :", irc_conf.server_name,
                 irc_nick(s), (r->modes & ROOM_SECRET) ? '@' : '=', r->name);
    for (size_t i = 0; i <= r->nmembers; i++) {
        const struct client *c = i < r->nmembers ? r->members[i] : NULL;
        if (names.n > 0 &&
            (c == NULL || (size_t)h + names.n + CHAT_PREFIX_MAX + 4 > 510)) {
            names.n--; /* the space after the last name */
            irc_send(s, "%s%.*s", head, (int)names.n, names.p);
            names.n = 0;
        }
        if (c == NULL)
            break;
        const struct chat_membership *m = chat_membership(c, r);
        irc_prefix_chars(&names, m ? m->status : 0, all);
        if (uhnames) {
            char who[CHAT_PREFIX_MAX + 1];
            tbuf_put(&names, who, chat_prefix(c, who, sizeof who));
        } else {
            tbuf_put(&names, c->nick, c->nick_len);
        }
        tbuf_put(&names, " ", 1);
    }
}

void irc_names(struct irc_session *s, const struct room *r)
{
    irc_names_replies(s, r);
    irc_num(s, "366", "#%s :End of /NAMES list", r->name);
}

/* Writes the line of a non-message event for s into irc_line. */
static bool irc_event_line(struct irc_session *s, const struct chat_event *ev)
{
    struct tbuf *b = &irc_line;
    b->n = 0;
    const struct client *f = ev->from;
    unsigned v = irc_variant(s);
    const char *bot = v == IRC_WIRE_TAGS && irc_is_bot(f) ? "bot" : NULL;
    irc_put_tags(b, v, bot, ev->id, 0, ev->time_ms, NULL, 0);
    tbuf_printf(b, ":%.*s!%s@%s ", (int)ev->nick_len, ev->nick, f->user,
                f->host);
    const char *room = ev->room ? ev->room->name : "";
    int tl = (int)ev->text_len;
    const char *text = ev->text ? ev->text : "";
    switch (ev->kind) {
    case CHAT_JOIN:
        if (s->caps & IRC_CAP_EXTENDED_JOIN)
            tbuf_printf(b, "JOIN #%s * :%s", room,
                        f->realname ? f->realname : "");
        else
            tbuf_printf(b, "JOIN #%s", room);
        break;
    case CHAT_PART:
        tbuf_printf(b, tl ? "PART #%s :%.*s" : "PART #%s", room, tl, text);
        break;
    case CHAT_QUIT:
        tbuf_printf(b, "QUIT :%.*s", tl, text);
        break;
    case CHAT_NICK:
        tbuf_printf(b, "NICK :%.*s", tl, text);
        break;
    case CHAT_TOPIC:
        tbuf_printf(b, "TOPIC #%s :%.*s", room, tl, text);
        break;
    case CHAT_KICK:
        tbuf_printf(b, "KICK #%s %s :%.*s", room, ev->to->nick, tl, text);
        break;
    case CHAT_MODE:
        tbuf_printf(b, "MODE #%s %.*s", room, tl, text);
        break;
    case CHAT_INVITE:
        if (ev->to != &s->client && !(s->caps & IRC_CAP_INVITE_NOTIFY))
            return false;
        tbuf_printf(b, "INVITE %s #%s", ev->to->nick, room);
        break;
    case CHAT_AWAY:
        if (!(s->caps & IRC_CAP_AWAY_NOTIFY) || f == &s->client)
            return false;
        tbuf_printf(b, tl ? "AWAY :%.*s" : "AWAY", tl, text);
        break;
    case CHAT_SETNAME:
        if (!(s->caps & IRC_CAP_SETNAME))
            return false;
        tbuf_printf(b, "SETNAME :%.*s", tl, text);
        break;
    default:
        return false;
    }
    tbuf_put(b, "\r\n", 2);
    return true;
}

bool irc_deliver(struct client *to, struct chat_event *ev)
{
    struct irc_session *s = (struct irc_session *)to;
    switch (ev->kind) {
    case CHAT_TAGMSG:
        if (!(s->caps & IRC_CAP_MESSAGE_TAGS))
            return false;
        irc_deliver_message(s, ev);
        return true;
    case CHAT_MESSAGE:
    case CHAT_ACTION:
    case CHAT_PRIVATE:
        irc_deliver_message(s, ev);
        return true;
    default:
        break;
    }
    /* What comes only because s watches its sender needs extended-monitor. */
    if (ev->watched && !(s->caps & IRC_CAP_EXTENDED_MONITOR))
        return false;
    if (!irc_event_line(s, ev))
        return false;
    irc_write(s, irc_line.p, irc_line.n);
    const struct client *f = ev->from;
    if (ev->kind == CHAT_JOIN && f != to && f->away &&
        (s->caps & IRC_CAP_AWAY_NOTIFY)) { /* away-notify: who joins away */
        char tags[IRC_TAGS_OUT];
        bool bot = (s->caps & IRC_CAP_MESSAGE_TAGS) && irc_is_bot(f);
        irc_tags(s, 0, ev->time_ms, bot ? "bot" : NULL, tags);
        irc_send(s, "%s:%s!%s@%s AWAY :%s", tags, f->nick, f->user, f->host,
                 f->away);
    }
    if (ev->kind == CHAT_JOIN && ev->from == to) {
        irc_topic_reply(s, ev->room, false);
        irc_names_replies(s, ev->room);
        irc_markread_joined(s, ev->room); /* read-marker: before 366 */
        irc_num(s, "366", "#%s :End of /NAMES list", ev->room->name);
        irc_meta_joined(s, ev->room);
    }
    return true;
}
