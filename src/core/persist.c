/*
 * persist: what the chat core keeps on disk; see persist.h.
 */
#include "core/persist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/chat.h"
#include "core/sban.h"
#include "lib/xmalloc.h"
#include "store/store.h"

/* What persist_load_room gathers. */
struct persist_load {
    struct room *r;
    size_t hist_cap;
};

void persist_room(const struct room *r)
{
    if (!store_on())
        return;
    struct store_ban *bans = xcalloc(r->nbans + 1, sizeof *bans);
    for (size_t i = 0; i < r->nbans; i++)
        bans[i] = (struct store_ban){r->bans[i].mask, r->bans[i].setter,
                                     r->bans[i].when};
    const struct store_room s = {
        .name = r->name,
        .name_len = r->name_len,
        .created = r->created,
        .modes = r->modes,
        .key = r->key,
        .limit = r->limit,
        .topic = r->topic,
        .topic_len = r->topic_len,
        .topic_by = r->topic_by,
        .topic_at = r->topic_at,
        .bans = bans,
        .nbans = r->nbans,
    };
    store_room_put(&s);
    free(bans);
}

bool persist_on(void)
{
    return store_on();
}

uint64_t persist_last_id(void)
{
    return store_last_id();
}

void persist_line(const struct client *c, const struct room *r, uint64_t id,
                  int64_t time_ms, enum room_msg_kind kind, const char *text,
                  size_t len)
{
    if (!store_on())
        return;
    char src[CHAT_PREFIX_MAX + 1], key[STORE_TARGET_MAX];
    size_t n = chat_prefix(c, src, sizeof src);
    const struct store_msg m = {id, time_ms, kind, src, n, text, len};
    store_append(key, store_room_target(r->name, r->name_len, key), &m);
}

void persist_private(const struct client *from, const struct client *to,
                     uint64_t id, int64_t time_ms, enum room_msg_kind kind,
                     const char *text, size_t len)
{
    if (!store_on())
        return;
    char src[CHAT_PREFIX_MAX + 1], key[STORE_TARGET_MAX];
    size_t n = chat_prefix(from, src, sizeof src);
    const struct store_msg m = {id, time_ms, kind, src, n, text, len};
    store_append(key,
                 store_mailbox(from->nick, from->nick_len, from->host, to->nick,
                               to->nick_len, key),
                 &m);
    if (to != from)
        store_append(key,
                     store_mailbox(to->nick, to->nick_len, to->host, from->nick,
                                   from->nick_len, key),
                     &m);
}

/* store_room_get callback: builds the room from its kept state. */
static void persist_build(const struct store_room *s, void *arg)
{
    struct persist_load *l = arg;
    struct room *r = room_new(s->name, s->name_len, l->hist_cap);
    r->created = s->created;
    r->modes = s->modes;
    r->limit = s->limit;
    if (s->key)
        room_set_key(r, s->key, strlen(s->key));
    if (s->topic)
        room_set_topic(r, s->topic, s->topic_len, s->topic_by, s->topic_at);
    for (size_t i = 0; i < s->nbans; i++)
        room_ban_add(r, s->bans[i].mask, strlen(s->bans[i].mask),
                     s->bans[i].setter, s->bans[i].when);
    r->kept = true;
    l->r = r;
}

struct room *persist_load_room(const char *name, size_t len, size_t hist_cap)
{
    if (!store_on())
        return NULL;
    struct persist_load l = {NULL, hist_cap};
    store_room_get(name, len, persist_build, &l);
    return l.r;
}

/* What persist_load_rooms hands on. */
struct persist_each {
    struct persist_load load;
    void (*fn)(struct room *r, void *arg);
    void *arg;
};

/* store_room_each callback: builds one room and hands it to the caller. */
static void persist_each_room(const struct store_room *s, void *arg)
{
    struct persist_each *e = arg;
    persist_build(s, &e->load);
    e->fn(e->load.r, e->arg);
}

size_t persist_load_rooms(size_t max, size_t hist_cap,
                          void (*fn)(struct room *r, void *arg), void *arg)
{
    if (!store_on())
        return 0;
    struct persist_each e = {{NULL, hist_cap}, fn, arg};
    return store_room_each(max, persist_each_room, &e);
}

/* store_sban_each callback: gives one kept ban back, unless it is over. */
static void persist_sban_load(const struct store_sban *s, void *arg)
{
    (void)arg;
    struct sban b = {0};
    if (!sban_parse(s->mask, strlen(s->mask), &b) ||
        (s->expires != 0 && s->expires <= sban_now())) {
        store_sban_del(s->mask);
        return;
    }
    snprintf(b.reason, sizeof b.reason, "%s", s->reason);
    snprintf(b.by, sizeof b.by, "%s", s->setter);
    b.set_at = s->set_at;
    b.expires = s->expires;
    sban_add(&b);
}

/* sban's observer: keeps a change to the server bans. */
static void persist_sban_changed(const struct sban *b, bool added, void *arg)
{
    (void)arg;
    if (!added) {
        store_sban_del(b->mask);
        return;
    }
    const struct store_sban s = {b->mask, b->reason, b->by, b->set_at,
                                 b->expires};
    store_sban_put(&s);
}

void persist_sbans(void)
{
    if (!store_on())
        return;
    store_sban_each(persist_sban_load, NULL);
    sban_set_observer(persist_sban_changed, NULL);
}
