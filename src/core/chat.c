/*
 * chat: the core. People, nicks, rooms, and who hears what.
 *
 * Membership is kept twice, on purpose: each room has an array of members
 * (broadcast walks it), and each client has an array of (room, slot) pairs
 * (leaving finds its slot without a search). room_remove's swap moves one
 * other member, whose pair is fixed up here.
 *
 * A room nobody is in is a cache of its history: it goes on a list, least
 * recently left first, and is freed from the front of that list when
 * history memory passes its budget or a new room needs its place. So
 * memberless rooms never keep anyone from creating a room, and never hold
 * memory past the budget. #lobby is never freed.
 */
#include "core/chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/bucket.h"
#include "lib/dict.h"
#include "lib/log.h"
#include "core/room.h"
#include "lib/xmalloc.h"

#define CHAT_LOBBY "lobby"

static struct chat_config chat_cfg;
static struct dict *chat_nicks; /* nick -> struct client */
static struct dict *chat_rooms; /* room name -> struct room */
static struct room *chat_lobby;
static uint64_t chat_epoch; /* stamps deliveries to dedupe across rooms */

static size_t chat_hist_bytes; /* see chat_history_bytes */
static struct room *chat_idle_first, *chat_idle_last; /* nobody in them */
static struct bucket_rate chat_room_rate;             /* new rooms per client */
static struct bucket_table *chat_origin_rooms;        /* origin -> its bucket */

void chat_init(const struct chat_config *cfg)
{
    chat_cfg = *cfg;
    chat_hist_bytes = 0;
    chat_idle_first = chat_idle_last = NULL;
    chat_room_rate = bucket_rate_per_minute(cfg->room_burst, cfg->room_rate);
    struct bucket_rate per_origin =
        bucket_rate_per_minute(cfg->origin_room_burst, cfg->origin_room_rate);
    chat_origin_rooms = bucket_table_new(&per_origin);
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
    chat_idle_first = chat_idle_last = NULL;
    chat_hist_bytes = 0;
    bucket_table_free(chat_origin_rooms);
    chat_origin_rooms = NULL;
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

size_t chat_history_bytes(void)
{
    return chat_hist_bytes;
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

/* Lets the protocols release what they made for ev. */
static void chat_event_done(struct chat_event *ev)
{
    for (size_t i = 0; i < CHAT_PROTOS; i++)
        if (ev->wire[i].release)
            ev->wire[i].release(ev->wire[i].ref);
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
 * Rooms nobody is in, history memory, and the rate of new rooms
 * ------------------------------------------------------------------------ */

/* Puts r, which nobody is in, at the young end of the idle list. */
static void chat_idle_add(struct room *r)
{
    r->idle = true;
    r->idle_next = NULL;
    r->idle_prev = chat_idle_last;
    if (chat_idle_last)
        chat_idle_last->idle_next = r;
    else
        chat_idle_first = r;
    chat_idle_last = r;
}

/* Takes r off the idle list: someone joined, or it is being freed. */
static void chat_idle_remove(struct room *r)
{
    if (r->idle_prev)
        r->idle_prev->idle_next = r->idle_next;
    else
        chat_idle_first = r->idle_next;
    if (r->idle_next)
        r->idle_next->idle_prev = r->idle_prev;
    else
        chat_idle_last = r->idle_prev;
    r->idle_prev = r->idle_next = NULL;
    r->idle = false;
}

/* Frees r with its history; nobody may be in it. */
static void chat_drop_room(struct room *r)
{
    if (r->idle)
        chat_idle_remove(r);
    chat_hist_bytes -= r->hist_bytes;
    dict_del(chat_rooms, r->name, r->name_len);
    room_free(r);
}

/*
 * Brings history memory back under its budget after r was written: first
 * by freeing the rooms nobody has been in for longest, then by making r
 * forget its oldest messages, down to its newest one. Each message and
 * room is freed once, so this is O(1) per message stored, amortized.
 */
static void chat_trim_history(struct room *r)
{
    size_t max = chat_cfg.history_mem;
    if (max == 0)
        return;
    while (chat_hist_bytes > max && chat_idle_first && chat_idle_first != r)
        chat_drop_room(chat_idle_first);
    while (chat_hist_bytes > max && r->hist_count > 1) {
        size_t before = r->hist_bytes;
        room_forget_oldest(r);
        chat_hist_bytes -= before - r->hist_bytes;
    }
}

/* Returns the time in milliseconds on the configured monotonic clock. */
static uint64_t chat_now(void)
{
    if (chat_cfg.now_ms)
        return chat_cfg.now_ms();
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Returns the milliseconds until c may create a room (0: now). */
static uint64_t chat_new_room_wait_ms(const struct client *c, uint64_t now)
{
    uint64_t wait = bucket_wait(c->new_rooms_full_at, &chat_room_rate, now);
    if (c->origin) {
        uint64_t o = bucket_table_wait(chat_origin_rooms, c->origin,
                                       strlen(c->origin), now);
        wait = o > wait ? o : wait;
    }
    return wait;
}

unsigned chat_new_room_wait(const struct client *c)
{
    uint64_t ms = chat_new_room_wait_ms(c, chat_now());
    return (unsigned)((ms + 999) / 1000);
}

/* Creates the room name for c if c may and there is space (chat_join). */
static enum chat_error chat_new_room(struct client *c, const char *name,
                                     size_t len, struct room **out)
{
    bool full = chat_room_count() >= chat_cfg.max_rooms;
    if (full && chat_idle_first == NULL)
        return CHAT_ERR_TOO_MANY;
    uint64_t now = chat_now();
    if (chat_new_room_wait_ms(c, now) > 0)
        return CHAT_ERR_RATE;
    bucket_take(&c->new_rooms_full_at, &chat_room_rate, now);
    if (c->origin)
        bucket_table_take(chat_origin_rooms, c->origin, strlen(c->origin), now);
    if (full)
        chat_drop_room(chat_idle_first);
    struct room *r = room_new(name, len, chat_cfg.history_keep);
    dict_set(chat_rooms, r->name, r->name_len, r);
    *out = r;
    return CHAT_OK;
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

/*
 * Once nobody is in r (and it is not the lobby): frees it if it has no
 * history, else keeps it as a cache on the idle list.
 */
static void chat_maybe_drop_room(struct room *r)
{
    if (r->nmembers > 0 || r == chat_lobby)
        return;
    if (r->hist_count > 0)
        chat_idle_add(r);
    else
        chat_drop_room(r);
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
    chat_event_done(&ev);
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
        enum chat_error e = chat_new_room(c, name, len, &r);
        if (e != CHAT_OK)
            return e;
    } else if (r->idle) {
        chat_idle_remove(r);
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
    chat_event_done(&ev);
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
    chat_event_done(&ev);
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
    chat_event_done(&ev);
    time_t now = time(NULL);
    size_t before = r->hist_bytes;
    for (size_t i = 0; i < n; i++)
        room_remember(r, now, c->nick, c->nick_len, lines[i].text,
                      lines[i].len);
    chat_hist_bytes = chat_hist_bytes - before + r->hist_bytes;
    chat_trim_history(r);
}

void chat_act(struct client *c, struct room *r, const char *text, size_t len)
{
    struct chat_event ev;
    chat_event_init(&ev, CHAT_ACTION, c);
    ev.text = text;
    ev.text_len = len;
    chat_broadcast(r, &ev, c);
    chat_event_done(&ev);
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
    chat_event_done(&ev);
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
    chat_event_done(&ev);
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
    chat_event_done(&ev);
    return CHAT_OK;
}
