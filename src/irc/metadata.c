/*
 * metadata: IRCv3 metadata (extensions/metadata.md), the METADATA command
 * and its notifications.
 *
 * A user's keys live on its IRC session and die with it; a channel's live
 * on its room (core) and die with it. A user sets its own keys, a
 * channel's operators set the channel's. Everything is bounded: keys per
 * target (IRC_META_MAX_KEYS), bytes per value (IRC_META_MAX_VALUE), bytes
 * per key name (IRC_META_KEY_MAX) and subscriptions (IRC_META_MAX_SUBS).
 *
 * Two drafts are offered: draft/metadata-3 tells subscribers of a change
 * with RPL_KEYVALUE (761) and RPL_KEYNOTSET (766), draft/metadata-2 with a
 * METADATA message; the command is the same. A subscriber hears of changes
 * to the channels it is in and to the people it shares one with, for the
 * keys it subscribed to. On JOIN it gets those keys of the channel and its
 * members (a channel of many members: RPL_METADATASYNCLATER, then SYNC).
 * A client that took the capability may set its own keys ("*") before it
 * registers (before-connect); they come back to it in the welcome.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/meta.h"
#include "core/room.h"
#include "irc/irc.h"
#include "lib/tbuf.h"

/* Members a joiner is told the keys of at once; beyond: SYNCLATER. */
#define IRC_META_SYNC_NOW 50

/* Bytes of keys on one line of 770, 771 or 772. */
#define IRC_META_KEYS_LINE 400

/* What a METADATA target turned out to be. */
struct meta_target {
    char name[NICK_MAX + ROOM_NAME_MAX + 2]; /* as replies show it */
    struct client *client;                   /* a user, or NULL */
    struct irc_session *user;                /* that user, if it speaks IRC */
    struct room *room;                       /* a channel, or NULL */
    struct meta **store; /* where its keys live; NULL: it has none */
};

/* A metadata batch, opened when its first line goes out. */
struct meta_batch {
    struct irc_session *s;
    const char *type;  /* "metadata" or "metadata-subs" */
    const char *param; /* the target, or NULL */
    char ref[16];      /* "" until opened */
    char tag[32];      /* "@batch=REF " once opened, "" without batch */
    bool open;
};

/* Counts metadata changes, so that each subscriber hears of one once. */
static uint64_t irc_meta_changes;

/* Returns the IRC session of c, or NULL if c speaks another protocol. */
static struct irc_session *irc_meta_session(struct client *c)
{
    if (c == NULL || c->ops == NULL || c->ops->deliver != irc_deliver)
        return NULL;
    return (struct irc_session *)c;
}

/* Returns true if s took either metadata capability. */
static bool irc_meta_cap(const struct irc_session *s)
{
    return s->caps & (IRC_CAP_METADATA | IRC_CAP_METADATA_2);
}

/* Returns true if the len bytes at key are a valid key name. */
static bool irc_meta_key_valid(const char *key, size_t len)
{
    if (len == 0 || len > IRC_META_KEY_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = key[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '/' || c == '-'))
            return false;
    }
    return true;
}

/*
 * Returns param as a FAIL may echo it: itself, or "*" if it would not read
 * as one parameter (empty, a space in it, or a leading ':').
 */
static const char *irc_meta_shown(const char *param)
{
    return param[0] && param[0] != ':' && !strchr(param, ' ') ? param : "*";
}

/* Opens b now if it is not open yet (nothing to open without batch). */
static void irc_meta_open(struct meta_batch *b)
{
    if (b->open)
        return;
    b->open = true;
    if (!(b->s->caps & IRC_CAP_BATCH))
        return;
    irc_batch_ref(b->ref);
    snprintf(b->tag, sizeof b->tag, "@batch=%s ", b->ref);
    irc_send(b->s, ":%s BATCH +%s %s%s%s", irc_conf.server_name, b->ref,
             b->type, b->param ? " " : "", b->param ? b->param : "");
}

/* Closes b if it was opened. */
static void irc_meta_close(struct meta_batch *b)
{
    if (b->ref[0])
        irc_send(b->s, ":%s BATCH -%s", irc_conf.server_name, b->ref);
}

/* Sends ":SERVER NUM NICK " + the formatted rest to b's session, in b. */
static void irc_meta_num(struct meta_batch *b, const char *num, const char *fmt,
                         ...) __attribute__((format(printf, 3, 4)));

static void irc_meta_num(struct meta_batch *b, const char *num, const char *fmt,
                         ...)
{
    char rest[IRC_BODY_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rest, sizeof rest, fmt, ap);
    va_end(ap);
    irc_meta_open(b);
    irc_send(b->s, "%s:%s %s %s %s", b->tag, irc_conf.server_name, num,
             irc_nick(b->s), rest);
}

/* Sends "FAIL METADATA CODE [context] :text" to s, in b if b is open. */
static void irc_meta_fail(struct irc_session *s, const struct meta_batch *b,
                          const char *code, const char *context,
                          const char *text)
{
    irc_send(s, "%s:%s FAIL METADATA %s %s%s:%s", b ? b->tag : "",
             irc_conf.server_name, code, context ? context : "",
             context ? " " : "", text);
}

/*
 * Tells b's session the value of key on target (NULL: not set), as its
 * capability has changes told: 761 or 766 (metadata-3, and answers to
 * GET), or a METADATA message (metadata-2) if as_change.
 */
static void irc_meta_tell(struct meta_batch *b, const char *target,
                          const char *key, const char *value, bool as_change)
{
    struct irc_session *s = b->s;
    bool message = as_change && !(s->caps & IRC_CAP_METADATA);
    if (message) {
        irc_meta_open(b);
        irc_send(s, "%s:%s METADATA %s %s *%s%s", b->tag, irc_conf.server_name,
                 target, key, value ? " :" : "", value ? value : "");
    } else if (value) {
        irc_meta_num(b, "761", "%s %s * :%s", target, key, value);
    } else {
        irc_meta_num(b, "766", "%s %s :key not set", target, key);
    }
}

/* Tells s of the keys of m it subscribed to, in b, as changes. */
static void irc_meta_tell_subscribed(struct meta_batch *b, const char *target,
                                     const struct meta *m)
{
    for (size_t i = 0; m && i < m->n; i++)
        if (meta_get(b->s->meta_subs, m->e[i].key, m->e[i].key_len))
            irc_meta_tell(b, target, m->e[i].key, m->e[i].value, true);
}

/*
 * Finds the target named by the len bytes at name ("*": s itself) into t.
 * Returns false, after FAIL INVALID_TARGET, if there is no such target.
 */
static bool irc_meta_find(struct irc_session *s, const char *name, size_t len,
                          struct meta_target *t)
{
    memset(t, 0, sizeof *t);
    bool self = len == 1 && name[0] == '*';
    if (self || !s->registered) {
        t->client = self ? &s->client : NULL; /* before-connect: "*" only */
    } else if (len > 0 && name[0] == '#') {
        t->room = irc_find_channel(name, len);
    } else {
        t->client = chat_find_nick(name, len);
    }
    if (t->room) {
        snprintf(t->name, sizeof t->name, "#%s", t->room->name);
        t->store = &t->room->meta;
    } else if (t->client) {
        snprintf(t->name, sizeof t->name, "%s",
                 self ? irc_nick(s) : t->client->nick);
        t->user = self ? s : irc_meta_session(t->client);
        t->store = t->user ? &t->user->meta : NULL;
    } else {
        char shown[IRC_BODY_MAX + 1];
        snprintf(shown, sizeof shown, "%.*s", (int)len, name);
        irc_meta_fail(s, NULL, "INVALID_TARGET", shown,
                      "invalid metadata target");
        return false;
    }
    return true;
}

/* Returns t's keys (NULL: none). */
static const struct meta *irc_meta_of(const struct meta_target *t)
{
    return t->store ? *t->store : NULL;
}

/*
 * Returns true if s may read t's keys: a user's, always; a channel's, if s
 * is in it or it is neither invite-only nor secret. Else FAIL
 * KEY_NO_PERMISSION.
 */
static bool irc_meta_may_read(struct irc_session *s,
                              const struct meta_target *t)
{
    const struct room *r = t->room;
    if (r == NULL || chat_is_member(&s->client, r) ||
        !(r->modes & (ROOM_INVITE_ONLY | ROOM_SECRET)))
        return true;
    char context[sizeof t->name + 4];
    snprintf(context, sizeof context, "%s *", t->name);
    irc_meta_fail(s, NULL, "KEY_NO_PERMISSION", context, "permission denied");
    return false;
}

/* Returns true if s may change t's keys: its own, or a channel it ops. */
static bool irc_meta_may_write(struct irc_session *s,
                               const struct meta_target *t)
{
    if (t->room) {
        const struct chat_membership *m = chat_membership(&s->client, t->room);
        return m && (m->status & CHAT_OP);
    }
    return t->user == s;
}

/* Tells one subscriber c, if it speaks IRC and is not told yet, of a change. */
static void irc_meta_notify_one(struct client *c, const struct meta_target *t,
                                const char *key, const char *value)
{
    struct irc_session *r = irc_meta_session(c);
    if (r == NULL || r->meta_mark == irc_meta_changes)
        return;
    r->meta_mark = irc_meta_changes;
    if (!irc_meta_cap(r) || !meta_get(r->meta_subs, key, strlen(key)))
        return;
    struct meta_batch b = {.s = r, .open = true};
    irc_meta_tell(&b, t->name, key, value, true);
}

/*
 * Tells everyone subscribed to key of its change on t (value NULL:
 * removed), except s who made it: a channel's members, or the people who
 * share a channel with a user.
 */
static void irc_meta_notify(struct irc_session *s, const struct meta_target *t,
                            const char *key, const char *value)
{
    s->meta_mark = ++irc_meta_changes;
    if (t->room) {
        for (size_t i = 0; i < t->room->nmembers; i++)
            irc_meta_notify_one(t->room->members[i], t, key, value);
        return;
    }
    struct client *c = t->client;
    irc_meta_notify_one(c, t, key, value);
    for (size_t i = 0; i < c->nrooms; i++) {
        const struct room *r = c->rooms[i].room;
        for (size_t j = 0; j < r->nmembers; j++)
            irc_meta_notify_one(r->members[j], t, key, value);
    }
}

/* METADATA <target> GET key...: each key's value, in a batch. */
static void irc_meta_get(struct irc_session *s, const struct meta_target *t,
                         const struct irc_msg *m)
{
    if (m->nparams < 3) {
        irc_num(s, "461", "METADATA :Not enough parameters");
        return;
    }
    struct meta_batch b = {.s = s, .type = "metadata", .param = t->name};
    irc_meta_open(&b);
    for (size_t i = 2; i < m->nparams; i++) {
        char key[IRC_BODY_MAX + 1];
        irc_arg(m, i, key, sizeof key);
        size_t n = strlen(key);
        const struct meta_entry *e = meta_get(irc_meta_of(t), key, n);
        if (!irc_meta_key_valid(key, n))
            irc_meta_fail(s, &b, "KEY_INVALID", irc_meta_shown(key),
                          "invalid key");
        else
            irc_meta_tell(&b, t->name, key, e ? e->value : NULL, false);
    }
    irc_meta_close(&b);
}

/* METADATA <target> LIST: every key and value, in a batch. */
static void irc_meta_list(struct irc_session *s, const struct meta_target *t)
{
    struct meta_batch b = {.s = s, .type = "metadata", .param = t->name};
    irc_meta_open(&b);
    const struct meta *md = irc_meta_of(t);
    for (size_t i = 0; md && i < md->n; i++)
        irc_meta_tell(&b, t->name, md->e[i].key, md->e[i].value, false);
    irc_meta_close(&b);
}

/*
 * Checks a value for SET: valid UTF-8 as sent (the line had none
 * replaced), and at most IRC_META_MAX_VALUE bytes. Returns false after
 * the FAIL.
 */
static bool irc_meta_value_ok(struct irc_session *s, const char *key,
                              const struct irc_slice *v)
{
    if (s->bad_utf8) {
        irc_meta_fail(s, NULL, "INVALID_UTF8", NULL, "value is not UTF-8");
        return false;
    }
    if (v->n > IRC_META_MAX_VALUE) {
        irc_meta_fail(s, NULL, "INVALID_VALUE", key, "value is too long");
        return false;
    }
    return true;
}

/* METADATA <target> SET key [:value]: sets or removes one key. */
static void irc_meta_set(struct irc_session *s, const struct meta_target *t,
                         const struct irc_msg *m)
{
    char key[IRC_BODY_MAX + 1], context[IRC_BODY_MAX + sizeof t->name + 2];
    irc_arg(m, 2, key, sizeof key);
    size_t klen = strlen(key);
    snprintf(context, sizeof context, "%s %s", t->name, key);
    if (!irc_meta_key_valid(key, klen)) {
        irc_meta_fail(s, NULL, "KEY_INVALID", irc_meta_shown(key),
                      "invalid key");
    } else if (!irc_meta_may_write(s, t) || t->store == NULL) {
        irc_meta_fail(s, NULL, "KEY_NO_PERMISSION", context,
                      "permission denied");
    } else if (m->nparams < 4) {
        if (!meta_del(t->store, key, klen)) {
            irc_meta_fail(s, NULL, "KEY_NOT_SET", context, "key not set");
            return;
        }
        irc_num(s, "766", "%s %s :key not set", t->name, key);
        irc_meta_notify(s, t, key, NULL);
    } else if (irc_meta_value_ok(s, key, &m->params[3])) {
        const struct irc_slice *v = &m->params[3];
        if (!meta_set(t->store, key, klen, v->p, v->n, IRC_META_MAX_KEYS)) {
            irc_meta_fail(s, NULL, "LIMIT_REACHED", t->name,
                          "metadata limit reached");
            return;
        }
        const char *value = meta_get(*t->store, key, klen)->value;
        irc_num(s, "761", "%s %s * :%s", t->name, key, value);
        irc_meta_notify(s, t, key, value);
    }
}

/* METADATA <target> CLEAR: removes every key, one 766 each in a batch. */
static void irc_meta_clear(struct irc_session *s, const struct meta_target *t)
{
    if (!irc_meta_may_write(s, t) || t->store == NULL) {
        char context[sizeof t->name + 4];
        snprintf(context, sizeof context, "%s *", t->name);
        irc_meta_fail(s, NULL, "KEY_NO_PERMISSION", context,
                      "permission denied");
        return;
    }
    struct meta_batch b = {.s = s, .type = "metadata", .param = t->name};
    irc_meta_open(&b);
    struct meta *md = *t->store;
    *t->store = NULL;
    for (size_t i = 0; md && i < md->n; i++) {
        irc_meta_tell(&b, t->name, md->e[i].key, NULL, false);
        irc_meta_notify(s, t, md->e[i].key, NULL);
    }
    irc_meta_close(&b);
    meta_free(md);
}

/* Gathers keys into lines of numeric num (770, 771, 772) of at most
 * IRC_META_KEYS_LINE bytes. */
struct meta_keys {
    struct meta_batch *b;
    const char *num;
    struct tbuf line;
};

/* Sends the keys gathered in k, if any. */
static void irc_meta_keys_flush(struct meta_keys *k)
{
    if (k->line.n > 0)
        irc_meta_num(k->b, k->num, "%.*s", (int)k->line.n, k->line.p);
    k->line.n = 0;
}

/* Adds key (len bytes) to k, sending a full line first. */
static void irc_meta_keys_add(struct meta_keys *k, const char *key, size_t len)
{
    if (k->line.n > 0 && k->line.n + 1 + len > IRC_META_KEYS_LINE)
        irc_meta_keys_flush(k);
    if (k->line.n > 0)
        tbuf_put(&k->line, " ", 1);
    tbuf_put(&k->line, key, len);
}

/*
 * Tells s to SYNC each channel it is in (RPL_METADATASYNCLATER): what it
 * subscribed to anew may already be set there.
 */
static void irc_meta_sync_later(struct irc_session *s)
{
    for (size_t i = 0; i < s->client.nrooms; i++)
        irc_num(s, "774", "#%s", s->client.rooms[i].room->name);
}

/* METADATA * SUB key...: subscribes, in order, until the limit. */
static void irc_meta_sub(struct irc_session *s, const struct irc_msg *m)
{
    struct meta_batch b = {.s = s, .open = true};
    struct meta_keys k = {.b = &b, .num = "770"};
    bool added = false;
    for (size_t i = 2; i < m->nparams; i++) {
        char key[IRC_BODY_MAX + 1];
        irc_arg(m, i, key, sizeof key);
        size_t n = strlen(key);
        bool had = meta_get(s->meta_subs, key, n) != NULL;
        if (!irc_meta_key_valid(key, n)) {
            irc_meta_fail(s, NULL, "KEY_INVALID", irc_meta_shown(key),
                          "invalid key");
        } else if (!meta_set(&s->meta_subs, key, n, "", 0, IRC_META_MAX_SUBS)) {
            irc_meta_fail(s, NULL, "TOO_MANY_SUBS", irc_meta_shown(key),
                          "too many subscriptions");
            break;
        } else {
            irc_meta_keys_add(&k, key, n);
            added |= !had;
        }
    }
    irc_meta_keys_flush(&k);
    free(k.line.p);
    if (added)
        irc_meta_sync_later(s);
}

/* METADATA * UNSUB key...: unsubscribes. */
static void irc_meta_unsub(struct irc_session *s, const struct irc_msg *m)
{
    struct meta_batch b = {.s = s, .open = true};
    struct meta_keys k = {.b = &b, .num = "771"};
    for (size_t i = 2; i < m->nparams; i++) {
        char key[IRC_BODY_MAX + 1];
        irc_arg(m, i, key, sizeof key);
        size_t n = strlen(key);
        if (!irc_meta_key_valid(key, n)) {
            irc_meta_fail(s, NULL, "KEY_INVALID", irc_meta_shown(key),
                          "invalid key");
            continue;
        }
        meta_del(&s->meta_subs, key, n);
        irc_meta_keys_add(&k, key, n);
    }
    irc_meta_keys_flush(&k);
    free(k.line.p);
}

/* METADATA * SUBS: the keys s subscribed to, in a metadata-subs batch. */
static void irc_meta_subs(struct irc_session *s)
{
    struct meta_batch b = {.s = s, .type = "metadata-subs"};
    irc_meta_open(&b);
    struct meta_keys k = {.b = &b, .num = "772"};
    const struct meta *subs = s->meta_subs;
    for (size_t i = 0; subs && i < subs->n; i++)
        irc_meta_keys_add(&k, subs->e[i].key, subs->e[i].key_len);
    irc_meta_keys_flush(&k);
    free(k.line.p);
    irc_meta_close(&b);
}

/* Tells b's session the subscribed keys of r and of its members but it. */
static void irc_meta_tell_room(struct meta_batch *b, const struct room *r)
{
    char name[ROOM_NAME_MAX + 2];
    snprintf(name, sizeof name, "#%s", r->name);
    irc_meta_tell_subscribed(b, name, r->meta);
    for (size_t i = 0; i < r->nmembers; i++) {
        const struct irc_session *u = irc_meta_session(r->members[i]);
        if (u && u != b->s)
            irc_meta_tell_subscribed(b, u->client.nick, u->meta);
    }
}

/* METADATA <target> SYNC: t's subscribed keys (a channel's members' too). */
static void irc_meta_sync(struct irc_session *s, const struct meta_target *t)
{
    struct meta_batch b = {.s = s, .type = "metadata", .param = t->name};
    irc_meta_open(&b);
    if (t->room)
        irc_meta_tell_room(&b, t->room);
    else
        irc_meta_tell_subscribed(&b, t->name, irc_meta_of(t));
    irc_meta_close(&b);
}

/* Returns true if sub is one of the n names. */
static bool irc_meta_is(const char *sub, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(sub, names[i]) == 0)
            return true;
    return false;
}

/* Runs the sub-command sub (upper case) on t. */
static void irc_meta_run(struct irc_session *s, const char *sub,
                         const struct meta_target *t, const struct irc_msg *m)
{
    static const char *const reads[] = {"GET", "LIST", "SYNC"};
    static const char *const subs[] = {"SUB", "UNSUB", "SUBS"};
    if (irc_meta_is(sub, reads, 3) && !irc_meta_may_read(s, t))
        return;
    if (irc_meta_is(sub, subs, 3) && t->user != s) {
        irc_meta_fail(s, NULL, "INVALID_TARGET", t->name,
                      "invalid metadata target");
        return;
    }
    if (strcmp(sub, "GET") == 0)
        irc_meta_get(s, t, m);
    else if (strcmp(sub, "LIST") == 0)
        irc_meta_list(s, t);
    else if (strcmp(sub, "SYNC") == 0)
        irc_meta_sync(s, t);
    else if (strcmp(sub, "SET") == 0)
        irc_meta_set(s, t, m);
    else if (strcmp(sub, "CLEAR") == 0)
        irc_meta_clear(s, t);
    else if (strcmp(sub, "SUB") == 0)
        irc_meta_sub(s, m);
    else if (strcmp(sub, "UNSUB") == 0)
        irc_meta_unsub(s, m);
    else if (strcmp(sub, "SUBS") == 0)
        irc_meta_subs(s);
    else
        irc_meta_fail(s, NULL, "SUBCOMMAND_INVALID", irc_meta_shown(sub),
                      "invalid subcommand");
}

void irc_cmd_metadata(struct irc_session *s, struct irc_msg *m)
{
    if (!s->registered && !irc_meta_cap(s)) { /* before-connect: with it */
        irc_num(s, "451", ":You have not registered");
        return;
    }
    char sub[16];
    irc_arg(m, 1, sub, sizeof sub);
    for (char *p = sub; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    if (m->nparams < 3 && strcmp(sub, "SET") == 0) {
        irc_num(s, "461", "METADATA :Not enough parameters");
        return;
    }
    struct meta_target t;
    if (irc_meta_find(s, m->params[0].p, m->params[0].n, &t))
        irc_meta_run(s, sub, &t, m);
}

void irc_meta_joined(struct irc_session *s, const struct room *r)
{
    if (!irc_meta_cap(s) || s->meta_subs == NULL)
        return;
    if (r->nmembers > IRC_META_SYNC_NOW) {
        irc_num(s, "774", "#%s", r->name);
        return;
    }
    char name[ROOM_NAME_MAX + 2];
    snprintf(name, sizeof name, "#%s", r->name);
    struct meta_batch b = {.s = s, .type = "metadata", .param = name};
    irc_meta_tell_room(&b, r);
    irc_meta_close(&b);
}

void irc_meta_welcome(struct irc_session *s)
{
    if (!irc_meta_cap(s))
        return;
    struct meta_batch b = {.s = s, .type = "metadata", .param = s->client.nick};
    irc_meta_open(&b);
    for (size_t i = 0; s->meta && i < s->meta->n; i++)
        irc_meta_tell(&b, s->client.nick, s->meta->e[i].key,
                      s->meta->e[i].value, true);
    irc_meta_close(&b);
}

void irc_meta_whois(struct irc_session *s, const struct client *target)
{
    const struct irc_session *u = (const struct irc_session *)target;
    if (!irc_meta_cap(s) || target->ops->deliver != irc_deliver)
        return;
    for (size_t i = 0; u->meta && i < u->meta->n; i++)
        irc_num(s, "760", "%s %s * :%s", target->nick, u->meta->e[i].key,
                u->meta->e[i].value);
}

void irc_meta_free(struct irc_session *s)
{
    meta_free(s->meta);
    meta_free(s->meta_subs);
    meta_free(s->markers);
    s->meta = s->meta_subs = s->markers = NULL;
}
