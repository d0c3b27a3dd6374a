/*
 * history: CHATHISTORY, from IRCv3's draft/chathistory
 * (extensions/chathistory.md). A room's remembered messages, read through
 * the core's one history query (core/history.h), go back to the client as
 * they first arrived: same msgid, same time, PRIVMSG or NOTICE, actions
 * as CTCP ACTION, inside a chathistory batch if the client took batch.
 *
 * Who may read a channel's history is the core's rule
 * (chat_history_may_read). Private conversations come from the store
 * (chat_history_private: --db), for any valid nick, online or not;
 * without a store history with a nick is an empty batch. TARGETS lists
 * the channels one is in and, with a store, the people one talked with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/history.h"
#include "core/room.h"
#include "irc/irc.h"
#include "irc/tags.h"
#include "lib/xmalloc.h"

/* The longest parameter quoted back in a FAIL. */
#define IRC_HIST_QUOTE 64

/* One CHATHISTORY being answered. */
struct irc_hist {
    struct irc_session *s;
    char sub[16];                              /* the subcommand, upper case */
    char target[ROOM_NAME_MAX + NICK_MAX + 2]; /* canonical */
    char batch[16];                            /* "": not in a batch */
    bool private; /* target is a person: a message goes to one of the two */
};

/* ------------------------------------------------------------------------
 * Parameters
 * ------------------------------------------------------------------------ */

/*
 * Copies parameter p into out (IRC_HIST_QUOTE + 1 bytes) to be quoted as a
 * middle parameter of a reply: "*" if it could not be one (empty, holding
 * a space, starting with ':'), cut if long.
 */
static const char *irc_hist_quote(const struct irc_slice *p, char *out)
{
    size_t n = p->n < IRC_HIST_QUOTE ? p->n : IRC_HIST_QUOTE;
    if (n == 0 || p->p[0] == ':' || memchr(p->p, ' ', n))
        return "*";
    memcpy(out, p->p, n);
    out[n] = '\0';
    return out;
}

/* FAIL CHATHISTORY code SUB [param] :text */
static void irc_hist_fail(const struct irc_hist *h, const char *code,
                          const struct irc_slice *param, const char *text)
{
    char ctx[16 + IRC_HIST_QUOTE + 2], q[IRC_HIST_QUOTE + 1];
    snprintf(ctx, sizeof ctx, "%s%s%s", h->sub, param ? " " : "",
             param ? irc_hist_quote(param, q) : "");
    irc_reply(h->s, "FAIL", "CHATHISTORY", code, ctx, text);
}

/* What a reference parameter turned out to be. */
enum irc_ref { IRC_REF_OK, IRC_REF_BAD, IRC_REF_FOREIGN };

/*
 * Reads a reference parameter: "timestamp=...", "msgid=..." (not if
 * times_only) or "*" (if star). IRC_REF_FOREIGN: a msgid we never issued.
 */
static enum irc_ref irc_hist_ref(const struct irc_slice *p, bool star,
                                 bool times_only, struct chat_hist_ref *ref)
{
    *ref = (struct chat_hist_ref){.kind = CHAT_REF_NONE};
    if (star && p->n == 1 && p->p[0] == '*')
        return IRC_REF_OK;
    if (p->n > 10 && memcmp(p->p, "timestamp=", 10) == 0) {
        ref->kind = CHAT_REF_TIME;
        return irc_parse_time(p->p + 10, p->n - 10, &ref->time_ms)
                   ? IRC_REF_OK
                   : IRC_REF_BAD;
    }
    if (times_only || p->n <= 6 || memcmp(p->p, "msgid=", 6) != 0)
        return IRC_REF_BAD;
    ref->kind = CHAT_REF_ID;
    return irc_parse_msgid(p->p + 6, p->n - 6, &ref->id) ? IRC_REF_OK
                                                         : IRC_REF_FOREIGN;
}

/*
 * Reads the nref references of h's subcommand, from parameter first on,
 * into refs (times only for TARGETS). Answers FAIL and returns false if
 * one is not valid.
 */
static bool irc_hist_refs(const struct irc_hist *h, const struct irc_msg *m,
                          size_t first, size_t nref, struct chat_hist_ref *refs)
{
    bool targets = strcmp(h->sub, "TARGETS") == 0;
    for (size_t i = 0; i < nref; i++) {
        const struct irc_slice *p = &m->params[first + i];
        bool star = i == 0 && strcmp(h->sub, "LATEST") == 0;
        switch (irc_hist_ref(p, star, targets, &refs[i])) {
        case IRC_REF_OK:
            break;
        case IRC_REF_FOREIGN:
            irc_hist_fail(h, "MESSAGE_ERROR", &m->params[1],
                          "Unknown message ID");
            return false;
        default:
            irc_hist_fail(h, "INVALID_PARAMS", p,
                          refs[i].kind == CHAT_REF_TIME ? "Invalid timestamp"
                                                        : "Invalid reference");
            return false;
        }
    }
    return true;
}

/* Reads the limit parameter (1 or more; cut to CHATHISTORY=); 0 if bad. */
static size_t irc_hist_limit(const struct irc_slice *p)
{
    size_t v = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (p->p[i] < '0' || p->p[i] > '9')
            return 0;
        if (v <= IRC_HISTORY_MAX) /* past it, the exact number is moot */
            v = v * 10 + (size_t)(p->p[i] - '0');
    }
    return v > IRC_HISTORY_MAX ? IRC_HISTORY_MAX : v;
}

/* ------------------------------------------------------------------------
 * Replies
 * ------------------------------------------------------------------------ */

/* Opens a batch of this type for h's reply, if h's client took batch. */
static void irc_hist_open(struct irc_hist *h, const char *type,
                          const char *param)
{
    h->batch[0] = '\0';
    if (!(h->s->caps & IRC_CAP_BATCH))
        return;
    irc_batch_ref(h->batch);
    irc_send(h->s, ":%s BATCH +%s %s%s%s", irc_conf.server_name, h->batch, type,
             param ? " " : "", param ? param : "");
}

/* Closes h's batch, if it opened one. */
static void irc_hist_close(const struct irc_hist *h)
{
    if (h->batch[0])
        irc_send(h->s, ":%s BATCH -%s", irc_conf.server_name, h->batch);
}

/* chat_history callback: sends one remembered message as it arrived. */
static void irc_hist_send(const struct room_msg *m, void *arg)
{
    const struct irc_hist *h = arg;
    char from[256];
    memcpy(from, m->data, m->src_len);
    from[m->src_len] = '\0';
    const struct client *me = &h->s->client;
    /* In a private conversation, what the other one said was sent to me. */
    bool to_me = h->private && !(m->nick_len == me->nick_len &&
                                 name_eq(m->data, me->nick, me->nick_len));
    struct irc_message msg = {
        .cmd = m->kind == ROOM_MSG_NOTICE ? "NOTICE" : "PRIVMSG",
        .id = m->id,
        .time_ms = m->time_ms,
        .from = from,
        .target = to_me ? me->nick : h->target,
        .text = m->data + m->src_len,
        .len = m->text_len,
        .action = m->kind == ROOM_MSG_ACTION,
        .batch = h->batch[0] ? h->batch : NULL,
    };
    irc_send_message(h->s, &msg);
}

/*
 * Finds the target t of a history query: a channel s may read (*r set), or
 * a person (*r NULL, h->private set): someone here, or, with a store, any
 * valid nick (the conversation may be older than their connection).
 * Writes its canonical name into h. Returns false if there is no such
 * target for s.
 */
static bool irc_hist_target(struct irc_hist *h, const struct irc_slice *t,
                            struct room **r)
{
    *r = irc_find_channel(t->p, t->n);
    if (*r) {
        snprintf(h->target, sizeof h->target, "#%s", (*r)->name);
        return chat_history_may_read(&h->s->client, *r);
    }
    if (t->n == 0 || t->p[0] == '#')
        return false;
    const struct client *c = chat_find_nick(t->p, t->n);
    if (c)
        snprintf(h->target, sizeof h->target, "%s", c->nick);
    else if (chat_history_on_disk() && chat_nick_valid(t->p, t->n))
        snprintf(h->target, sizeof h->target, "%.*s", (int)t->n, t->p);
    else
        return false;
    h->private = true;
    return true;
}

/* LATEST, BEFORE, AFTER, AROUND, BETWEEN: the messages, in a batch. */
static void irc_hist_messages(struct irc_hist *h, const struct irc_msg *m,
                              enum chat_hist_dir dir)
{
    size_t nref = dir == CHAT_HIST_BETWEEN ? 2 : 1;
    struct chat_hist_ref refs[2];
    size_t limit = irc_hist_limit(&m->params[2 + nref]);
    if (limit == 0) {
        irc_hist_fail(h, "INVALID_PARAMS", &m->params[2 + nref],
                      "Invalid limit");
        return;
    }
    if (!irc_hist_refs(h, m, 2, nref, refs))
        return;
    struct room *r;
    if (!irc_hist_target(h, &m->params[1], &r)) {
        irc_hist_fail(h, "INVALID_TARGET", &m->params[1],
                      "Messages could not be retrieved");
        return;
    }
    irc_hist_open(h, "chathistory", h->target);
    if (r)
        chat_history(r, dir, &refs[0], &refs[1], limit, irc_hist_send, h);
    else
        chat_history_private(&h->s->client, h->target, strlen(h->target), dir,
                             &refs[0], &refs[1], limit, irc_hist_send, h);
    irc_hist_close(h);
}

/* ------------------------------------------------------------------------
 * TARGETS
 * ------------------------------------------------------------------------ */

/* A channel or a person, and the time of its latest message. */
struct irc_hist_target {
    int64_t time_ms;
    uint64_t id; /* of the latest message: orders equal times */
    char name[ROOM_NAME_MAX + NICK_MAX + 2];
};

/* The targets TARGETS has found so far. */
struct irc_hist_targets {
    struct irc_hist_target *v;
    size_t n;
};

/* chat_history callback: keeps the id and time of the message it is
 * given. */
static void irc_hist_last(const struct room_msg *m, void *arg)
{
    struct irc_hist_target *t = arg;
    t->time_ms = m->time_ms;
    t->id = m->id;
}

/* qsort: by the latest message, oldest first: its time, then its id. */
static int irc_hist_by_time(const void *a, const void *b)
{
    const struct irc_hist_target *x = a, *y = b;
    if (x->time_ms != y->time_ms)
        return (x->time_ms > y->time_ms) - (x->time_ms < y->time_ms);
    return (x->id > y->id) - (x->id < y->id);
}

/*
 * chat_history_peers callback: adds a private conversation, named by the
 * peer's nick as spelled now if they are here, else as kept (lower case).
 */
static void irc_hist_peer(const char *peer, size_t len, uint64_t id,
                          int64_t time_ms, void *arg)
{
    struct irc_hist_targets *ts = arg;
    struct irc_hist_target *t = &ts->v[ts->n++];
    const struct client *c = chat_find_nick(peer, len);
    t->time_ms = time_ms;
    t->id = id;
    if (c)
        snprintf(t->name, sizeof t->name, "%s", c->nick);
    else
        snprintf(t->name, sizeof t->name, "%.*s", (int)len, peer);
}

/*
 * Adds to ts the channels c is in, and (from the store) the people c
 * talked with in private, whose latest message falls strictly between lo
 * and hi; ts->v has room for c->nrooms + limit.
 */
static void irc_hist_gather(const struct client *c, int64_t lo, int64_t hi,
                            size_t limit, struct irc_hist_targets *ts)
{
    for (size_t i = 0; i < c->nrooms; i++) {
        struct irc_hist_target *t = &ts->v[ts->n];
        const struct room *r = c->rooms[i].room;
        if (chat_history(r, CHAT_HIST_LATEST, NULL, NULL, 1, irc_hist_last,
                         t) == 1 &&
            t->time_ms > lo && t->time_ms < hi) {
            snprintf(t->name, sizeof t->name, "#%s", r->name);
            ts->n++;
        }
    }
    chat_history_peers(c, lo, hi, limit, irc_hist_peer, ts);
}

/*
 * TARGETS timestamp=A timestamp=B LIMIT: the channels s is in and the
 * people s talked with in private whose latest message falls strictly
 * between A and B (either order), oldest first.
 */
static void irc_hist_targets(struct irc_hist *h, const struct irc_msg *m)
{
    struct chat_hist_ref refs[2];
    size_t limit = irc_hist_limit(&m->params[3]);
    if (limit == 0) {
        irc_hist_fail(h, "INVALID_PARAMS", &m->params[3], "Invalid limit");
        return;
    }
    if (!irc_hist_refs(h, m, 1, 2, refs))
        return;
    int64_t lo = refs[0].time_ms, hi = refs[1].time_ms;
    if (lo > hi) {
        lo = refs[1].time_ms;
        hi = refs[0].time_ms;
    }
    const struct client *c = &h->s->client;
    struct irc_hist_targets ts = {xcalloc(c->nrooms + limit + 1, sizeof *ts.v),
                                  0};
    irc_hist_gather(c, lo, hi, limit, &ts);
    if (ts.n > 1)
        qsort(ts.v, ts.n, sizeof *ts.v, irc_hist_by_time);
    irc_hist_open(h, "draft/chathistory-targets", NULL);
    char tag[32], when[40];
    snprintf(tag, sizeof tag, "@batch=%s ", h->batch);
    for (size_t i = 0; i < ts.n && i < limit; i++) {
        irc_time(ts.v[i].time_ms, when, sizeof when);
        irc_send(h->s, "%s:%s CHATHISTORY TARGETS %s %s",
                 h->batch[0] ? tag : "", irc_conf.server_name, ts.v[i].name,
                 when);
    }
    irc_hist_close(h);
    free(ts.v);
}

/* ------------------------------------------------------------------------
 * The command
 * ------------------------------------------------------------------------ */

static const struct {
    const char *name;
    enum chat_hist_dir dir;
    size_t nparams; /* the subcommand's included */
} irc_hist_subs[] = {
    {"AFTER", CHAT_HIST_AFTER, 4},   {"AROUND", CHAT_HIST_AROUND, 4},
    {"BEFORE", CHAT_HIST_BEFORE, 4}, {"BETWEEN", CHAT_HIST_BETWEEN, 5},
    {"LATEST", CHAT_HIST_LATEST, 4}, {"TARGETS", CHAT_HIST_LATEST, 4},
};

/* CHATHISTORY SUBCOMMAND ...: see extensions/chathistory.md. */
void irc_cmd_chathistory(struct irc_session *s, struct irc_msg *m)
{
    struct irc_hist h = {.s = s};
    const struct irc_slice *sub = &m->params[0];
    size_t i = 0, nsubs = sizeof irc_hist_subs / sizeof irc_hist_subs[0];
    while (i < nsubs &&
           !(strlen(irc_hist_subs[i].name) == sub->n &&
             strncasecmp(irc_hist_subs[i].name, sub->p, sub->n) == 0))
        i++;
    if (i == nsubs) {
        char q[IRC_HIST_QUOTE + 1];
        snprintf(h.sub, sizeof h.sub, "%s", irc_hist_quote(sub, q));
        irc_hist_fail(&h, "INVALID_PARAMS", NULL, "Unknown command");
        return;
    }
    snprintf(h.sub, sizeof h.sub, "%s", irc_hist_subs[i].name);
    if (m->nparams != irc_hist_subs[i].nparams) {
        irc_hist_fail(&h, "INVALID_PARAMS", NULL,
                      m->nparams < irc_hist_subs[i].nparams
                          ? "Insufficient parameters"
                          : "Too many parameters");
        return;
    }
    if (strcmp(h.sub, "TARGETS") == 0)
        irc_hist_targets(&h, m);
    else
        irc_hist_messages(&h, m, irc_hist_subs[i].dir);
}
