/*
 * readmarker: IRCv3 read markers (extensions/read-marker.md), the MARKREAD
 * command.
 *
 * parley has no accounts, so a read marker belongs to the connection that
 * set it and dies with it: it lets a client tell the server what it has
 * read and get it back (after a rejoin too), never another user. A marker
 * only ever moves forward, and never past the server's clock. One
 * connection keeps at most IRC_READ_MARKERS; setting one more forgets the
 * one set first.
 */
#include <stdio.h>
#include <string.h>

#include "core/meta.h"
#include "core/nick.h"
#include "core/room.h"
#include "irc/irc.h"
#include "irc/tags.h"

/* "timestamp=" and the longest timestamp kept. */
#define IRC_MARK_PREFIX "timestamp="
#define IRC_MARK_PREFIX_LEN 10

/*
 * Folds the target (len bytes) into key (NICK_MAX + ROOM_NAME_MAX + 2
 * bytes) as ASCII case-mapping compares names. Returns false if it is
 * neither a channel name nor a nick.
 */
static bool irc_mark_key(const char *target, size_t len, char *key)
{
    bool chan = len > 1 && target[0] == '#';
    if (chan ? !room_name_valid(target + 1, len - 1)
             : !chat_nick_valid(target, len))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = target[i];
        key[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    key[len] = '\0';
    return true;
}

/* Sends "MARKREAD target timestamp=..." (or "*") of key to s. */
static void irc_mark_tell(struct irc_session *s, const char *target, size_t len,
                          const char *key)
{
    const struct meta_entry *e = meta_get(s->markers, key, strlen(key));
    irc_send(s, ":%s MARKREAD %.*s %s%s", irc_conf.server_name, (int)len,
             target, e ? IRC_MARK_PREFIX : "*", e ? e->value : "");
}

/*
 * Parses "timestamp=YYYY-MM-DDThh:mm:ss.sssZ" into *ms. Returns false if
 * it is not one ("*" included: only the server may say that).
 */
static bool irc_mark_parse(const struct irc_slice *p, int64_t *ms)
{
    return p->n > IRC_MARK_PREFIX_LEN &&
           memcmp(p->p, IRC_MARK_PREFIX, IRC_MARK_PREFIX_LEN) == 0 &&
           irc_parse_time(p->p + IRC_MARK_PREFIX_LEN,
                          p->n - IRC_MARK_PREFIX_LEN, ms) &&
           *ms >= 0;
}

/* Stores ms as key's marker unless the stored one is as new or newer. */
static void irc_mark_store(struct irc_session *s, const char *key, int64_t ms)
{
    size_t klen = strlen(key);
    const struct meta_entry *e = meta_get(s->markers, key, klen);
    int64_t now = chat_wall_ms(), old;
    if (ms > now)
        ms = now; /* no marker past what can have been said */
    if (e && irc_parse_time(e->value, e->value_len, &old) && old >= ms)
        return;
    if (e == NULL && meta_count(s->markers) >= IRC_READ_MARKERS)
        meta_del(&s->markers, s->markers->e[0].key, s->markers->e[0].key_len);
    char when[32];
    meta_set(&s->markers, key, klen, when, irc_time(ms, when, sizeof when),
             IRC_READ_MARKERS);
}

/* MARKREAD <target> [timestamp=...]: gets, or sets then gets, a marker. */
void irc_cmd_markread(struct irc_session *s, struct irc_msg *m)
{
    if (m->nparams < 1) {
        irc_reply(s, "FAIL", "MARKREAD", "NEED_MORE_PARAMS", NULL,
                  "Missing parameters");
        return;
    }
    const struct irc_slice *t = &m->params[0];
    char key[NICK_MAX + ROOM_NAME_MAX + 2];
    if (t->n > NICK_MAX + ROOM_NAME_MAX || !irc_mark_key(t->p, t->n, key)) {
        irc_reply(s, "FAIL", "MARKREAD", "INVALID_PARAMS", "*",
                  "Invalid target");
        return;
    }
    int64_t ms;
    if (m->nparams >= 2) {
        if (!irc_mark_parse(&m->params[1], &ms)) {
            irc_reply(s, "FAIL", "MARKREAD", "INVALID_PARAMS", "*",
                      "Invalid timestamp");
            return;
        }
        irc_mark_store(s, key, ms);
    }
    irc_mark_tell(s, t->p, t->n, key);
}

void irc_markread_joined(struct irc_session *s, const struct room *r)
{
    if (!(s->caps & IRC_CAP_READ_MARKER))
        return;
    char target[ROOM_NAME_MAX + 2], key[NICK_MAX + ROOM_NAME_MAX + 2];
    size_t len = (size_t)snprintf(target, sizeof target, "#%s", r->name);
    if (irc_mark_key(target, len, key))
        irc_mark_tell(s, target, len, key);
}
