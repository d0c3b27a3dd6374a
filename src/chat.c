/*
 * chat: the core. People, nicks, rooms, and who hears what.
 *
 * Membership is kept twice, on purpose: each room has an array of members
 * (broadcast walks it), and each client has an array of (room, slot) pairs
 * (leaving finds its slot without a search). room_remove's swap moves one
 * other member, whose pair is fixed up here.
 */
#include "chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dict.h"
#include "log.h"
#include "room.h"
#include "xmalloc.h"

#define CHAT_LOBBY "lobby"

static struct chat_config chat_cfg;
static struct dict *chat_nicks; /* nick -> struct client */
static struct dict *chat_rooms; /* room name -> struct room */
static struct room *chat_lobby;
static uint64_t chat_epoch; /* stamps deliveries to dedupe across rooms */

void chat_init(const struct chat_config *cfg)
{
    chat_cfg = *cfg;
    chat_nicks = dict_new();
    chat_rooms = dict_new();
    chat_lobby = room_new(CHAT_LOBBY, strlen(CHAT_LOBBY), cfg->history_keep);
    dict_set(chat_rooms, chat_lobby->name, chat_lobby->name_len, chat_lobby);
}

/* dict_foreach helper: frees one room. */
static void chat_free_room(void *value, void *arg)
{
    (void)arg;
    room_free(value);
}

void chat_fini(void)
{
    dict_foreach(chat_rooms, chat_free_room, NULL);
    dict_free(chat_rooms);
    dict_free(chat_nicks);
    chat_rooms = chat_nicks = NULL;
    chat_lobby = NULL;
}

const struct chat_config *chat_get_config(void)
{
    return &chat_cfg;
}

struct room *chat_find_room(const char *name, size_t len)
{
    return dict_get(chat_rooms, name, len);
}

struct client *chat_find_nick(const char *nick, size_t len)
{
    return dict_get(chat_nicks, nick, len);
}

size_t chat_room_count(void)
{
    return dict_count(chat_rooms);
}

/* Adapts a room callback to dict_foreach. */
struct chat_room_iter {
    void (*fn)(struct room *r, void *arg);
    void *arg;
};

/* dict_foreach helper: calls the room callback. */
static void chat_room_visit(void *value, void *arg)
{
    struct chat_room_iter *it = arg;
    it->fn(value, it->arg);
}

void chat_foreach_room(void (*fn)(struct room *r, void *arg), void *arg)
{
    struct chat_room_iter it = {fn, arg};
    dict_foreach(chat_rooms, chat_room_visit, &it);
}

/* ------------------------------------------------------------------------
 * Delivery
 * ------------------------------------------------------------------------ */

/* Starts a new event: recipients are marked so each gets it only once. */
static void chat_event_init(struct chat_event *ev, enum chat_kind kind,
                            const struct client *from)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->from = from;
    if (from) {
        ev->nick = from->nick;
        ev->nick_len = from->nick_len;
    }
    chat_epoch++;
}

/* Hands ev to c unless c already got it. */
static void chat_deliver(struct client *c, struct chat_event *ev)
{
    if (c->mark == chat_epoch)
        return;
    c->mark = chat_epoch;
    c->ops->deliver(c, ev);
}

/* Hands ev to every member of r except skip (which may be NULL). */
static void chat_broadcast(struct room *r, struct chat_event *ev,
                           const struct client *skip)
{
    ev->room = r;
    for (size_t i = 0; i < r->nmembers; i++)
        if (r->members[i] != skip)
            chat_deliver(r->members[i], ev);
}

/* Returns true if r is small enough to hear arrivals and departures. */
static bool chat_room_chatty(const struct room *r)
{
    return r->nmembers <= chat_cfg.quiet_above;
}

/* ------------------------------------------------------------------------
 * People
 * ------------------------------------------------------------------------ */

void chat_register(struct client *c, uint64_t id, const struct client_ops *ops,
                   void *owner)
{
    memset(c, 0, sizeof *c);
    c->id = id;
    c->ops = ops;
    c->owner = owner;
    int n =
        snprintf(c->nick, sizeof c->nick, "user%llu", (unsigned long long)id);
    c->nick_len = (size_t)n;
    dict_set(chat_nicks, c->nick, c->nick_len, c);
}

/* Returns c's membership record for r, or NULL. */
static struct chat_membership *chat_membership(const struct client *c,
                                               const struct room *r)
{
    for (size_t i = 0; i < c->nrooms; i++)
        if (c->rooms[i].room == r)
            return &c->rooms[i];
    return NULL;
}

bool chat_is_member(const struct client *c, const struct room *r)
{
    return chat_membership(c, r) != NULL;
}

/* Frees r if nobody is in it, it has no history and it is not the lobby. */
static void chat_maybe_drop_room(struct room *r)
{
    if (r->nmembers > 0 || r->hist_count > 0 || r == chat_lobby)
        return;
    dict_del(chat_rooms, r->name, r->name_len);
    room_free(r);
}

/* Removes c from r's members and its own list; may free the room. */
static void chat_leave(struct client *c, struct room *r)
{
    struct chat_membership *m = chat_membership(c, r);
    struct client *moved = room_remove(r, m->slot);
    if (moved)
        chat_membership(moved, r)->slot = m->slot;
    *m = c->rooms[--c->nrooms];
    if (c->room == r)
        c->room = c->nrooms ? c->rooms[c->nrooms - 1].room : NULL;
    if (c->nrooms == 0) {
        free(c->rooms);
        c->rooms = NULL;
        c->caprooms = 0;
    }
    chat_maybe_drop_room(r);
}

void chat_unregister(struct client *c, const char *reason, size_t len,
                     bool announce)
{
    struct chat_event ev;
    chat_event_init(&ev, CHAT_QUIT, c);
    ev.text = reason;
    ev.text_len = len;
    c->mark = chat_epoch; /* the leaver does not hear its own quit */
    while (c->nrooms > 0) {
        struct room *r = c->rooms[c->nrooms - 1].room;
        if (announce && chat_room_chatty(r))
            chat_broadcast(r, &ev, c);
        chat_leave(c, r);
    }
    dict_del(chat_nicks, c->nick, c->nick_len);
}

enum chat_error chat_join(struct client *c, const char *name, size_t len,
                          struct room **out)
{
    if (!room_name_valid(name, len))
        return CHAT_ERR_INVALID;
    struct room *r = chat_find_room(name, len);
    if (r && chat_is_member(c, r))
        return CHAT_ERR_ALREADY;
    if (r == NULL) {
        if (chat_room_count() >= chat_cfg.max_rooms)
            return CHAT_ERR_TOO_MANY;
        r = room_new(name, len, chat_cfg.history_keep);
        dict_set(chat_rooms, r->name, r->name_len, r);
    }
    if (c->nrooms == c->caprooms) {
        c->caprooms = c->caprooms ? c->caprooms * 2 : 1;
        c->rooms = xreallocarray(c->rooms, c->caprooms, sizeof *c->rooms);
    }
    c->rooms[c->nrooms].room = r;
    c->rooms[c->nrooms].slot = room_add(r, c);
    c->nrooms++;
    c->room = r;

    struct chat_event ev;
    chat_event_init(&ev, CHAT_JOIN, c);
    ev.room = r;
    chat_deliver(c, &ev);
    if (chat_room_chatty(r))
        chat_broadcast(r, &ev, c);
    log_debug("event=join id=%llu nick=%s room=%s", (unsigned long long)c->id,
              log_q(c->nick, c->nick_len), log_q(r->name, r->name_len));
    *out = r;
    return CHAT_OK;
}

void chat_part(struct client *c, struct room *r, const char *reason, size_t len)
{
    struct chat_event ev;
    chat_event_init(&ev, CHAT_PART, c);
    ev.room = r;
    ev.text = reason;
    ev.text_len = len;
    if (chat_room_chatty(r))
        chat_broadcast(r, &ev, NULL);
    else
        chat_deliver(c, &ev);
    log_debug("event=part id=%llu nick=%s room=%s", (unsigned long long)c->id,
              log_q(c->nick, c->nick_len), log_q(r->name, r->name_len));
    chat_leave(c, r);
}

void chat_say(struct client *c, struct room *r, const struct chat_line *lines,
              size_t n)
{
    struct chat_event ev;
    chat_event_init(&ev, CHAT_MESSAGE, c);
    ev.lines = lines;
    ev.nlines = n;
    chat_broadcast(r, &ev, c);
    time_t now = time(NULL);
    for (size_t i = 0; i < n; i++)
        room_remember(r, now, c->nick, c->nick_len, lines[i].text,
                      lines[i].len);
}

void chat_act(struct client *c, struct room *r, const char *text, size_t len)
{
    struct chat_event ev;
    chat_event_init(&ev, CHAT_ACTION, c);
    ev.text = text;
    ev.text_len = len;
    chat_broadcast(r, &ev, c);
}

enum chat_error chat_privmsg(struct client *c, const char *nick,
                             size_t nick_len, const char *text, size_t len)
{
    struct client *to = chat_find_nick(nick, nick_len);
    if (to == NULL)
        return CHAT_ERR_NO_NICK;
    struct chat_event ev;
    chat_event_init(&ev, CHAT_PRIVATE, c);
    ev.to = to;
    ev.text = text;
    ev.text_len = len;
    chat_deliver(to, &ev);
    return CHAT_OK;
}

enum chat_error chat_set_nick(struct client *c, const char *nick, size_t len)
{
    if (!nick_valid(nick, len))
        return CHAT_ERR_INVALID;
    if (len == c->nick_len && memcmp(nick, c->nick, len) == 0)
        return CHAT_ERR_ALREADY;
    struct client *owner = chat_find_nick(nick, len);
    if (owner && owner != c)
        return CHAT_ERR_TAKEN;
    if (nick_reserved(nick, len)) {
        /* Only your own default nick, spelled exactly, may be taken back. */
        char own[NICK_MAX + 1];
        int n =
            snprintf(own, sizeof own, "user%llu", (unsigned long long)c->id);
        if ((size_t)n != len || !name_eq(own, nick, len))
            return CHAT_ERR_RESERVED;
    }

    char old[NICK_MAX + 1];
    size_t old_len = c->nick_len;
    memcpy(old, c->nick, old_len + 1);
    dict_del(chat_nicks, c->nick, c->nick_len);
    memcpy(c->nick, nick, len);
    c->nick[len] = '\0';
    c->nick_len = len;
    dict_set(chat_nicks, c->nick, c->nick_len, c);
    log_debug("event=nick id=%llu old=%s new=%s", (unsigned long long)c->id,
              log_q(old, old_len), log_q(c->nick, c->nick_len));

    struct chat_event ev;
    chat_event_init(&ev, CHAT_NICK, c);
    ev.nick = old;
    ev.nick_len = old_len;
    ev.text = c->nick;
    ev.text_len = c->nick_len;
    chat_deliver(c, &ev);
    for (size_t i = 0; i < c->nrooms; i++)
        if (chat_room_chatty(c->rooms[i].room))
            chat_broadcast(c->rooms[i].room, &ev, c);
    return CHAT_OK;
}

enum chat_error chat_set_topic(struct client *c, struct room *r,
                               const char *text, size_t len)
{
    if (len > chat_cfg.topic_max)
        return CHAT_ERR_TOO_LONG;
    room_set_topic(r, text, len);
    struct chat_event ev;
    chat_event_init(&ev, CHAT_TOPIC, c);
    ev.text = r->topic;
    ev.text_len = r->topic_len;
    chat_broadcast(r, &ev, NULL);
    return CHAT_OK;
}
