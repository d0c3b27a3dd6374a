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
#include "core/chat_int.h"
#include "core/mask.h"
#include "core/member.h"
#include "core/oper.h"
#include "core/persist.h"
#include "lib/dict.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "core/room.h"
#include "core/sban.h"
#include "core/watch.h"
#include "lib/xmalloc.h"

#define CHAT_LOBBY "lobby"

/* People who left or changed nick, remembered for WHOWAS. */
#define CHAT_WHOWAS_KEEP 256

struct chat_config chat_cfg;
static struct dict *chat_nicks;           /* nick -> struct client */
static struct member_table *chat_members; /* (client, room) -> index */
static uint64_t chat_next_id;             /* the id of the next event */
static struct chat_was chat_was[CHAT_WHOWAS_KEEP]; /* a ring */
static size_t chat_was_next;
static size_t chat_most_clients; /* see chat_client_max */
static uint64_t chat_max_id;     /* the highest id registered */
static struct dict *chat_ids;    /* decimal id -> the person, if here */
static struct dict *chat_rooms;  /* room name -> struct room */
static struct room *chat_lobby;
static uint64_t chat_epoch; /* stamps deliveries to dedupe across rooms */
static void chat_load_rooms(void);
static void chat_adopt_room(struct room *r, void *arg);
static void chat_drop_room(struct room *r);

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
    chat_members = member_table_new();
    chat_ids = dict_new();
    /* Rising across restarts too: above every id kept, and each at least
     * its time in milliseconds times 1000 (see chat_event_init). */
    chat_next_id = (uint64_t)chat_wall_ms() * 1000;
    if (persist_last_id() >= chat_next_id)
        chat_next_id = persist_last_id() + 1;
    memset(chat_was, 0, sizeof chat_was);
    chat_was_next = 0;
    chat_most_clients = 0;
    chat_max_id = 0;
    chat_load_rooms();
    persist_sbans();
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
    member_table_free(chat_members);
    dict_free(chat_ids);
    watch_fini();
    chat_ids = NULL;
    chat_members = NULL;
    chat_rooms = chat_nicks = NULL;
    chat_lobby = NULL;
    chat_idle_first = chat_idle_last = NULL;
    chat_hist_bytes = 0;
    bucket_table_free(chat_origin_rooms);
    chat_origin_rooms = NULL;
}

void chat_set_limits(const struct chat_config *cfg)
{
    chat_cfg.topic_max = cfg->topic_max;
    chat_cfg.max_rooms = cfg->max_rooms;
    chat_cfg.history_mem = cfg->history_mem;
    chat_cfg.max_bans = cfg->max_bans;
    chat_cfg.room_burst = cfg->room_burst;
    chat_cfg.room_rate = cfg->room_rate;
    chat_room_rate = bucket_rate_per_minute(cfg->room_burst, cfg->room_rate);
}

const struct chat_config *chat_get_config(void)
{
    return &chat_cfg;
}

struct room *chat_find_room(const char *name, size_t len)
{
    struct room *r = dict_get(chat_rooms, name, len);
    if (r || !persist_on() || !room_name_valid(name, len))
        return r;
    /* Not in memory: the store may keep it (nobody was in it for long). */
    bool full = chat_room_count() >= chat_cfg.max_rooms;
    if (full && chat_idle_first == NULL)
        return NULL;
    r = persist_load_room(name, len, chat_cfg.history_keep);
    if (r) {
        if (full)
            chat_drop_room(chat_idle_first);
        chat_adopt_room(r, NULL);
    }
    return r;
}

struct client *chat_find_nick(const char *nick, size_t len)
{
    return dict_get(chat_nicks, nick, len);
}

size_t chat_client_count(void)
{
    return dict_count(chat_nicks);
}

size_t chat_client_max(void)
{
    return chat_most_clients;
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

void chat_foreach_client(void (*fn)(struct client *c, void *arg), void *arg)
{
    dict_foreach(chat_nicks, (void (*)(void *, void *))fn, arg);
}

int64_t chat_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

size_t chat_prefix(const struct client *c, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s!%s@%s", c->nick, c->user, c->host);
    if (n < 0)
        return 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* ------------------------------------------------------------------------
 * Delivery
 * ------------------------------------------------------------------------ */

void chat_event_init(struct chat_event *ev, enum chat_kind kind,
                     const struct client *from)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->from = from;
    if (from) {
        ev->nick = from->nick;
        ev->nick_len = from->nick_len;
    }
    ev->time_ms = chat_wall_ms();
    /* An id is never below its time in milliseconds times 1000, so that
     * the store finds messages older than a time by their id. */
    if (chat_next_id < (uint64_t)ev->time_ms * 1000)
        chat_next_id = (uint64_t)ev->time_ms * 1000;
    ev->id = chat_next_id++;
    chat_epoch++;
}

void chat_event_done(struct chat_event *ev)
{
    for (size_t i = 0; i < CHAT_PROTOS; i++)
        if (ev->wire[i].release)
            ev->wire[i].release(ev->wire[i].ref);
}

void chat_deliver(struct client *c, struct chat_event *ev)
{
    if (c->mark == chat_epoch || (ev->kind == CHAT_TAGMSG && !c->ops->tagmsg))
        return;
    if (c->ops->deliver(c, ev)) {
        c->mark = chat_epoch;
        metrics.deliveries++;
    }
}

void chat_broadcast(struct room *r, struct chat_event *ev,
                    const struct client *skip)
{
    ev->room = r;
    for (size_t i = 0; i < r->nmembers; i++) {
        struct client *m = r->members[i];
        if (m == skip || (ev->min_status &&
                          !chat_status_reaches(chat_membership(m, r)->status,
                                               ev->min_status)))
            continue;
        chat_deliver(m, ev);
    }
}

bool chat_status_reaches(unsigned status, unsigned min)
{
    if (min & CHAT_OP)
        return (status & CHAT_OP) != 0;
    if (min & CHAT_VOICE)
        return (status & (CHAT_OP | CHAT_VOICE)) != 0;
    return true;
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

/* Puts r, which nobody is in, among the rooms (an idle one, or the lobby). */
static void chat_adopt_room(struct room *r, void *arg)
{
    (void)arg;
    dict_set(chat_rooms, r->name, r->name_len, r);
    bool lobby = r->name_len == strlen(CHAT_LOBBY) &&
                 name_eq(r->name, CHAT_LOBBY, r->name_len);
    if (r->nmembers == 0 && !lobby)
        chat_idle_add(r);
}

/* Brings back the rooms the store keeps, then makes #lobby if need be. */
static void chat_load_rooms(void)
{
    persist_load_rooms(chat_cfg.max_rooms - 1, chat_cfg.history_keep,
                       chat_adopt_room, NULL);
    chat_lobby = chat_find_room(CHAT_LOBBY, strlen(CHAT_LOBBY));
    if (chat_lobby == NULL) {
        chat_lobby =
            room_new(CHAT_LOBBY, strlen(CHAT_LOBBY), chat_cfg.history_keep);
        chat_lobby->modes = ROOM_NO_OUTSIDE;
        dict_set(chat_rooms, chat_lobby->name, chat_lobby->name_len,
                 chat_lobby);
    }
}

void chat_keep_room(struct room *r, bool changed)
{
    if ((!r->kept || changed) && persist_on()) {
        r->kept = true;
        persist_room(r);
    }
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
    r->modes = ROOM_NO_OUTSIDE;
    dict_set(chat_rooms, r->name, r->name_len, r);
    *out = r;
    return CHAT_OK;
}

/* ------------------------------------------------------------------------
 * People
 * ------------------------------------------------------------------------ */

/* Copies up to max bytes of the NUL-terminated src into dst (max + 1). */
static void chat_copy(char *dst, const char *src, size_t max)
{
    size_t n = src ? strnlen(src, max) : 0;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

void chat_set_user_host(struct client *c, const char *user, const char *host)
{
    bool first = c->user[0] == '\0';
    chat_copy(c->user, user, CHAT_USER_MAX);
    /* A host never starts with ':' ("::1"), which IRC would take for the
     * start of a last parameter: "0::1" is the same address. */
    if (host && host[0] == ':') {
        c->host[0] = '0';
        chat_copy(c->host + 1, host, CHAT_HOST_MAX - 1);
    } else {
        chat_copy(c->host, host, CHAT_HOST_MAX);
    }
    /* Now the person has a full nick!user@host: its watchers may see it. */
    if (first && c->user[0] != '\0')
        watch_came(c);
}

bool chat_nick_valid(const char *nick, size_t len)
{
    return nick_valid(nick, len);
}

/*
 * Returns true if the default nick user<N> (nick, len bytes) is nobody's to
 * keep: N is not above the highest id registered so far (ids rise, so it
 * will not be handed out again) and nobody here was given it (its person
 * left, or chose a nick of its own from the start, as IRC users do).
 * A higher one stays reserved for the person who will get it, a lower one
 * for its owner while connected.
 */
static bool chat_default_was_given(const char *nick, size_t len)
{
    if (len > 4 && nick[4] == '0')
        return false; /* "user01" is no one's default: reserved as ever */
    uint64_t n = 0;
    for (size_t i = 4; i < len; i++) {
        if (n > (UINT64_MAX - 9) / 10)
            return false;
        n = n * 10 + (uint64_t)(nick[i] - '0');
    }
    return n <= chat_max_id && dict_get(chat_ids, nick + 4, len - 4) == NULL;
}

/* Returns CHAT_OK if c may take nick (len bytes) now, or why not. */
static enum chat_error chat_nick_free(const struct client *c, uint64_t id,
                                      const char *nick, size_t len)
{
    if (!nick_valid(nick, len))
        return CHAT_ERR_INVALID;
    struct client *owner = chat_find_nick(nick, len);
    if (owner && owner != c)
        return CHAT_ERR_TAKEN;
    if (nick_reserved(nick, len) && !chat_default_was_given(nick, len)) {
        /* Only your own default nick, spelled exactly, may be taken. */
        char own[NICK_MAX + 1];
        int n = snprintf(own, sizeof own, "user%llu", (unsigned long long)id);
        if ((size_t)n != len || !name_eq(own, nick, len))
            return CHAT_ERR_RESERVED;
    }
    return CHAT_OK;
}

enum chat_error chat_register(struct client *c, uint64_t id,
                              const struct client_ops *ops, void *owner,
                              const char *nick, size_t len)
{
    if (nick) {
        enum chat_error e = chat_nick_free(NULL, id, nick, len);
        if (e != CHAT_OK)
            return e;
    }
    memset(c, 0, sizeof *c);
    c->id = id;
    c->ops = ops;
    c->owner = owner;
    c->signon = (int64_t)time(NULL);
    c->last_spoke = c->signon;
    if (nick) {
        memcpy(c->nick, nick, len);
        c->nick[len] = '\0';
        c->nick_len = len;
    } else {
        /* user<id>, or, if someone took it while this person was being
         * greeted, user<id>_1 (_2, ...): among more names than people,
         * one is free. */
        int n = snprintf(c->nick, sizeof c->nick, "user%llu",
                         (unsigned long long)id);
        for (size_t k = 1; chat_find_nick(c->nick, (size_t)n); k++)
            n = snprintf(c->nick, sizeof c->nick, "user%llu_%zu",
                         (unsigned long long)id, k);
        c->nick_len = (size_t)n < sizeof c->nick ? (size_t)n : NICK_MAX;
    }
    if (id > chat_max_id)
        chat_max_id = id;
    if (nick == NULL) { /* keeps its default nick while it is here */
        char key[24];
        int k = snprintf(key, sizeof key, "%llu", (unsigned long long)id);
        dict_set(chat_ids, key, (size_t)k, c);
    }
    dict_set(chat_nicks, c->nick, c->nick_len, c);
    if (dict_count(chat_nicks) > chat_most_clients)
        chat_most_clients = dict_count(chat_nicks);
    return CHAT_OK;
}

struct chat_membership *chat_membership(const struct client *c,
                                        const struct room *r)
{
    size_t *i = member_get(chat_members, c, r);
    return i ? &c->rooms[*i] : NULL;
}

bool chat_is_member(const struct client *c, const struct room *r)
{
    return member_get(chat_members, c, r) != NULL;
}

bool chat_is_banned(const struct client *c, const struct room *r)
{
    if (r->nbans == 0)
        return false;
    char who[CHAT_PREFIX_MAX + 1];
    size_t n = chat_prefix(c, who, sizeof who);
    for (size_t i = 0; i < r->nbans; i++)
        if (mask_match(r->bans[i].mask, strlen(r->bans[i].mask), who, n))
            return true;
    return false;
}

/*
 * Once nobody is in r (and it is not the lobby): frees it if it holds
 * nothing (history, bans, a topic, metadata), else keeps it as a cache on
 * the idle list.
 */
static void chat_maybe_drop_room(struct room *r)
{
    if (r->nmembers > 0 || r == chat_lobby)
        return;
    if (r->hist_count > 0 || r->nbans > 0 || r->topic || r->meta || r->kept)
        chat_idle_add(r);
    else
        chat_drop_room(r);
}

void chat_leave(struct client *c, struct room *r)
{
    size_t *ip = member_get(chat_members, c, r);
    size_t i = *ip;
    struct chat_membership *m = &c->rooms[i];
    struct client *moved = room_remove(r, m->slot);
    if (moved)
        chat_membership(moved, r)->slot = m->slot;
    member_del(chat_members, c, r);
    if (i != c->nrooms - 1) {
        *m = c->rooms[c->nrooms - 1];
        *member_get(chat_members, c, m->room) = i;
    }
    c->nrooms--;
    if (c->nrooms == 0) {
        free(c->rooms);
        c->rooms = NULL;
        c->caprooms = 0;
    }
    chat_maybe_drop_room(r);
}

/* Remembers c as a past user of its nick, for WHOWAS. */
static void chat_remember_was(const struct client *c)
{
    struct chat_was *w = &chat_was[chat_was_next];
    chat_was_next = (chat_was_next + 1) % CHAT_WHOWAS_KEEP;
    chat_copy(w->nick, c->nick, NICK_MAX);
    chat_copy(w->user, c->user, CHAT_USER_MAX);
    chat_copy(w->host, c->host, CHAT_HOST_MAX);
    chat_copy(w->realname, c->realname, CHAT_REALNAME_MAX);
    w->when = (int64_t)time(NULL);
}

size_t chat_whowas(const char *nick, size_t len, size_t max,
                   void (*fn)(const struct chat_was *w, void *arg), void *arg)
{
    size_t found = 0;
    for (size_t k = 1; k <= CHAT_WHOWAS_KEEP && found < max; k++) {
        const struct chat_was *w =
            &chat_was[(chat_was_next + CHAT_WHOWAS_KEEP - k) %
                      CHAT_WHOWAS_KEEP];
        if (w->nick[0] && strlen(w->nick) == len &&
            name_eq(w->nick, nick, len)) {
            fn(w, arg);
            found++;
        }
    }
    return found;
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
        if (announce)
            chat_broadcast(r, &ev, c);
        chat_leave(c, r);
    }
    chat_event_done(&ev);
    oper_set(c, NULL);
    watch_clear(c);
    chat_remember_was(c);
    dict_del(chat_nicks, c->nick, c->nick_len);
    watch_went(c->nick, c->nick_len);
    char key[24];
    int k = snprintf(key, sizeof key, "%llu", (unsigned long long)c->id);
    dict_del(chat_ids, key, (size_t)k);
    free(c->realname);
    free(c->away);
    c->realname = c->away = NULL;
}

/* Returns why c may not enter r (which exists) with key, or CHAT_OK. */
static enum chat_error chat_may_enter(const struct client *c,
                                      const struct room *r, const char *key,
                                      size_t klen)
{
    bool invited = false;
    for (size_t i = 0; i < r->ninvited && !invited; i++)
        invited = r->invited[i] == c->id;
    /* In a room nobody is in, nobody could invite: its first comer, who
     * becomes its operator, gets past +i (as the room's maker would). */
    if ((r->modes & ROOM_INVITE_ONLY) && !invited && r->nmembers > 0)
        return CHAT_ERR_INVITE_ONLY;
    if (chat_is_banned(c, r) && !invited)
        return CHAT_ERR_BANNED;
    if (r->key && (key == NULL || strlen(r->key) != klen ||
                   memcmp(r->key, key, klen) != 0))
        return CHAT_ERR_BAD_KEY;
    if (r->limit > 0 && r->nmembers >= r->limit)
        return CHAT_ERR_FULL;
    return CHAT_OK;
}

/* Adds c to r's members and r to c's rooms, with a status. */
static void chat_enter(struct client *c, struct room *r, unsigned status)
{
    if (c->nrooms == c->caprooms) {
        c->caprooms = c->caprooms ? c->caprooms * 2 : 1;
        c->rooms = xreallocarray(c->rooms, c->caprooms, sizeof *c->rooms);
    }
    c->rooms[c->nrooms].room = r;
    c->rooms[c->nrooms].slot = room_add(r, c);
    c->rooms[c->nrooms].status = status;
    member_put(chat_members, c, r, c->nrooms);
    c->nrooms++;
}

enum chat_error chat_join(struct client *c, const char *name, size_t len,
                          const char *key, size_t klen, struct room **out)
{
    if (!room_name_valid(name, len))
        return CHAT_ERR_INVALID;
    struct room *r = chat_find_room(name, len);
    *out = r;
    if (r && chat_is_member(c, r))
        return CHAT_ERR_ALREADY;
    if (r == NULL) {
        enum chat_error e = chat_new_room(c, name, len, &r);
        if (e != CHAT_OK)
            return e;
    } else {
        enum chat_error e = chat_may_enter(c, r, key, klen);
        if (e != CHAT_OK)
            return e;
        room_invite_take(r, c->id);
        if (r->idle)
            chat_idle_remove(r);
    }
    chat_enter(c, r, r->nmembers == 0 ? CHAT_OP : 0);

    struct chat_event ev;
    chat_event_init(&ev, CHAT_JOIN, c);
    ev.room = r;
    chat_deliver(c, &ev);
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
    chat_broadcast(r, &ev, NULL);
    log_debug("event=part id=%llu nick=%s room=%s", (unsigned long long)c->id,
              log_q(c->nick, c->nick_len), log_q(r->name, r->name_len));
    chat_event_done(&ev);
    chat_leave(c, r);
}

enum chat_error chat_may_speak(const struct client *c, const struct room *r)
{
    const struct chat_membership *m = chat_membership(c, r);
    if (m == NULL && (r->modes & ROOM_NO_OUTSIDE))
        return CHAT_ERR_NOT_MEMBER;
    if (m && m->status != 0)
        return CHAT_OK;
    if ((r->modes & ROOM_MODERATED) || chat_is_banned(c, r))
        return CHAT_ERR_MODERATED;
    return CHAT_OK;
}

/* Remembers one line c said in r, then keeps history memory in bounds. */
static void chat_remember(const struct client *c, struct room *r, uint64_t id,
                          int64_t ms, enum room_msg_kind kind, const char *text,
                          size_t len)
{
    char src[CHAT_PREFIX_MAX + 1];
    size_t n = chat_prefix(c, src, sizeof src);
    size_t before = r->hist_bytes;
    room_remember(r, id, ms, kind, src, n, c->nick_len, text, len);
    chat_hist_bytes = chat_hist_bytes - before + r->hist_bytes;
    chat_keep_room(r, false);
    persist_line(c, r, id, ms, kind, text, len);
}

/* Gives ev what opts brings (client tags, the least status). */
static void chat_opts_in(struct chat_event *ev, const struct chat_msg_opts *o)
{
    if (o) {
        ev->client_tags = o->client_tags;
        ev->client_tags_len = o->client_tags_len;
        ev->min_status = o->min_status;
    }
}

/* Tells opts and id what became of ev: its time and id. */
static void chat_opts_out(const struct chat_event *ev, struct chat_msg_opts *o,
                          uint64_t *id)
{
    if (o)
        o->time_ms = ev->time_ms;
    if (id)
        *id = ev->id;
}

enum chat_error chat_say(struct client *c, struct room *r,
                         const struct chat_line *lines, size_t n, bool notice,
                         uint64_t *id, struct chat_msg_opts *opts)
{
    enum chat_error e = chat_may_speak(c, r);
    if (e != CHAT_OK || n == 0)
        return e;
    struct chat_event ev;
    chat_event_init(&ev, CHAT_MESSAGE, c);
    c->last_spoke = ev.time_ms / 1000;
    chat_next_id += n - 1; /* one id per line */
    ev.lines = lines;
    ev.nlines = n;
    ev.notice = notice;
    metrics.messages += n;
    chat_opts_in(&ev, opts);
    chat_broadcast(r, &ev, c);
    chat_event_done(&ev);
    for (size_t i = 0; ev.min_status == 0 && i < n; i++)
        chat_remember(c, r, ev.id + i, ev.time_ms,
                      notice ? ROOM_MSG_NOTICE : ROOM_MSG_SAY, lines[i].text,
                      lines[i].len);
    chat_trim_history(r);
    chat_opts_out(&ev, opts, id);
    return CHAT_OK;
}

enum chat_error chat_act(struct client *c, struct room *r, const char *text,
                         size_t len, uint64_t *id, struct chat_msg_opts *opts)
{
    enum chat_error e = chat_may_speak(c, r);
    if (e != CHAT_OK)
        return e;
    struct chat_event ev;
    chat_event_init(&ev, CHAT_ACTION, c);
    c->last_spoke = ev.time_ms / 1000;
    metrics.messages++;
    ev.text = text;
    ev.text_len = len;
    chat_opts_in(&ev, opts);
    chat_broadcast(r, &ev, c);
    chat_event_done(&ev);
    if (ev.min_status == 0) /* a message to some members stays theirs */
        chat_remember(c, r, ev.id, ev.time_ms, ROOM_MSG_ACTION, text, len);
    chat_trim_history(r);
    chat_opts_out(&ev, opts, id);
    return CHAT_OK;
}

enum chat_error chat_privmsg(struct client *c, struct client *to,
                             const char *text, size_t len, bool action,
                             bool notice, uint64_t *id,
                             struct chat_msg_opts *opts)
{
    struct chat_event ev;
    chat_event_init(&ev, CHAT_PRIVATE, c);
    c->last_spoke = ev.time_ms / 1000;
    metrics.messages++;
    ev.to = to;
    ev.text = text;
    ev.text_len = len;
    ev.action = action;
    ev.notice = notice;
    chat_opts_in(&ev, opts);
    persist_private(c, to, ev.id, ev.time_ms,
                    action   ? ROOM_MSG_ACTION
                    : notice ? ROOM_MSG_NOTICE
                             : ROOM_MSG_SAY,
                    text, len);
    chat_deliver(to, &ev);
    chat_event_done(&ev);
    chat_opts_out(&ev, opts, id);
    return CHAT_OK;
}

enum chat_error chat_tagmsg(struct client *c, struct room *r, struct client *to,
                            uint64_t *id, struct chat_msg_opts *opts)
{
    if (r) {
        enum chat_error e = chat_may_speak(c, r);
        if (e != CHAT_OK)
            return e;
    }
    struct chat_event ev;
    chat_event_init(&ev, CHAT_TAGMSG, c);
    ev.to = r ? NULL : to;
    chat_opts_in(&ev, opts);
    if (r)
        chat_broadcast(r, &ev, c);
    else
        chat_deliver(to, &ev);
    chat_event_done(&ev);
    chat_opts_out(&ev, opts, id);
    return CHAT_OK;
}

/* Hands ev to c and to everyone who shares a room with c. */
static void chat_tell_neighbours(struct client *c, struct chat_event *ev)
{
    chat_deliver(c, ev);
    for (size_t i = 0; i < c->nrooms; i++)
        chat_broadcast(c->rooms[i].room, ev, c);
}

enum chat_error chat_set_nick(struct client *c, const char *nick, size_t len)
{
    if (!nick_valid(nick, len))
        return CHAT_ERR_INVALID;
    if (len == c->nick_len && memcmp(nick, c->nick, len) == 0)
        return CHAT_ERR_ALREADY;
    enum chat_error e = chat_nick_free(c, c->id, nick, len);
    if (e != CHAT_OK)
        return e;
    if (sban_match_nick(c, nick, len))
        return CHAT_ERR_BANNED;

    char old[NICK_MAX + 1];
    size_t old_len = c->nick_len;
    memcpy(old, c->nick, old_len + 1);
    chat_remember_was(c);
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
    chat_tell_neighbours(c, &ev);
    chat_event_done(&ev);
    if (old_len != len || !name_eq(old, nick, len)) { /* not just its case */
        watch_went(old, old_len);
        watch_came(c);
    }
    return CHAT_OK;
}

enum chat_error chat_set_topic(struct client *c, struct room *r,
                               const char *text, size_t len)
{
    const struct chat_membership *m = chat_membership(c, r);
    if (m == NULL)
        return CHAT_ERR_NOT_MEMBER;
    if ((r->modes & ROOM_TOPIC_LOCK) && !(m->status & CHAT_OP))
        return CHAT_ERR_NOT_OP;
    if (len > chat_cfg.topic_max)
        return CHAT_ERR_TOO_LONG;
    char by[CHAT_PREFIX_MAX + 1];
    chat_prefix(c, by, sizeof by);
    room_set_topic(r, text, len, by, (int64_t)time(NULL));
    struct chat_event ev;
    chat_event_init(&ev, CHAT_TOPIC, c);
    chat_keep_room(r, true);
    persist_line(c, r, ev.id, ev.time_ms, ROOM_MSG_TOPIC, text, len);
    ev.text = r->topic;
    ev.text_len = r->topic_len;
    chat_broadcast(r, &ev, NULL);
    chat_event_done(&ev);
    return CHAT_OK;
}

/* Replaces *field with len bytes of text (NULL when len is 0). */
static void chat_set_str(char **field, const char *text, size_t len, size_t max)
{
    free(*field);
    *field = len ? xstrndup(text, len < max ? len : max) : NULL;
}

void chat_set_away(struct client *c, const char *text, size_t len)
{
    chat_set_str(&c->away, text, len, chat_cfg.topic_max);
    struct chat_event ev;
    chat_event_init(&ev, CHAT_AWAY, c);
    ev.text = c->away;
    ev.text_len = c->away ? strlen(c->away) : 0;
    chat_tell_neighbours(c, &ev);
    watch_tell(c, &ev);
    chat_event_done(&ev);
}

void chat_set_realname(struct client *c, const char *text, size_t len)
{
    chat_set_str(&c->realname, text, len, CHAT_REALNAME_MAX);
    struct chat_event ev;
    chat_event_init(&ev, CHAT_SETNAME, c);
    ev.text = c->realname;
    ev.text_len = c->realname ? strlen(c->realname) : 0;
    chat_tell_neighbours(c, &ev);
    watch_tell(c, &ev);
    chat_event_done(&ev);
}
