/*
 * watch: who watches which nick. See watch.h.
 *
 * Two arrays point at each other. A nick's entry (in the table) holds its
 * seats, one per watcher: the watcher and the index of the nick in the
 * watcher's list. A watcher's list holds its refs, one per nick: the entry
 * and the index of the watcher's seat in it. Removing either side swaps the
 * last element into the hole and fixes the one back pointer that moved.
 */
#include "core/watch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/chat.h"
#include "core/chat_int.h"
#include "lib/dict.h"
#include "lib/xmalloc.h"

/* One watcher of a nick. */
struct watch_seat {
    struct client *c;
    size_t ref; /* index of the nick in c's list */
};

/* The watchers of one nick. */
struct watch_entry {
    struct watch_seat *seats;
    size_t n, cap;
};

/* One nick a client watches, as it spelled it. */
struct watch_ref {
    struct watch_entry *e;
    size_t seat; /* index of the client's seat in e */
    uint8_t len;
    char nick[NICK_MAX + 1];
};

/* A client's list (client.watching). */
struct watch_list {
    struct watch_ref *refs;
    size_t n, cap;
};

static struct dict *watch_nicks; /* nick -> struct watch_entry */

/* Returns the entry of nick, creating it (and the table) if need be. */
static struct watch_entry *watch_entry_get(const char *nick, size_t len)
{
    if (watch_nicks == NULL)
        watch_nicks = dict_new();
    struct watch_entry *e = dict_get(watch_nicks, nick, len);
    if (e == NULL) {
        e = xcalloc(1, sizeof *e);
        dict_set(watch_nicks, nick, len, e);
    }
    return e;
}

/* Returns the index of nick in c's list, or SIZE_MAX. */
static size_t watch_find(const struct client *c, const char *nick, size_t len)
{
    const struct watch_list *l = c->watching;
    for (size_t i = 0; l && i < l->n; i++)
        if (l->refs[i].len == len && name_eq(l->refs[i].nick, nick, len))
            return i;
    return SIZE_MAX;
}

enum watch_result watch_add(struct client *c, const char *nick, size_t len,
                            size_t max)
{
    if (!nick_valid(nick, len))
        return WATCH_INVALID;
    if (watch_find(c, nick, len) != SIZE_MAX)
        return WATCH_ALREADY;
    if (watch_count(c) >= max)
        return WATCH_FULL;
    if (c->watching == NULL)
        c->watching = xcalloc(1, sizeof *c->watching);
    struct watch_list *l = c->watching;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->refs = xreallocarray(l->refs, l->cap, sizeof *l->refs);
    }
    struct watch_entry *e = watch_entry_get(nick, len);
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 2;
        e->seats = xreallocarray(e->seats, e->cap, sizeof *e->seats);
    }
    struct watch_ref *r = &l->refs[l->n];
    r->e = e;
    r->seat = e->n;
    r->len = (uint8_t)len;
    memcpy(r->nick, nick, len);
    r->nick[len] = '\0';
    e->seats[e->n++] = (struct watch_seat){c, l->n++};
    return WATCH_ADDED;
}

/* Removes ref i of c's list, and c's seat in its entry. O(1). */
static void watch_drop(struct client *c, size_t i)
{
    struct watch_list *l = c->watching;
    struct watch_ref *r = &l->refs[i];
    struct watch_entry *e = r->e;
    /* The entry's last seat fills c's; its watcher's ref learns where. */
    e->seats[r->seat] = e->seats[--e->n];
    if (r->seat < e->n) {
        const struct watch_seat *moved = &e->seats[r->seat];
        moved->c->watching->refs[moved->ref].seat = r->seat;
    }
    if (e->n == 0) {
        dict_del(watch_nicks, r->nick, r->len);
        free(e->seats);
        free(e);
    }
    /* The list's last ref fills ref i; its seat learns where. */
    *r = l->refs[--l->n];
    if (i < l->n)
        r->e->seats[r->seat].ref = i;
}

/* Frees c's list (empty by now): a client watching nothing pays nothing. */
static void watch_free_list(struct client *c)
{
    free(c->watching->refs);
    free(c->watching);
    c->watching = NULL;
}

bool watch_del(struct client *c, const char *nick, size_t len)
{
    size_t i = watch_find(c, nick, len);
    if (i == SIZE_MAX)
        return false;
    watch_drop(c, i);
    if (c->watching->n == 0)
        watch_free_list(c);
    return true;
}

void watch_clear(struct client *c)
{
    struct watch_list *l = c->watching;
    if (l == NULL)
        return;
    while (l->n > 0)
        watch_drop(c, l->n - 1);
    watch_free_list(c);
}

size_t watch_count(const struct client *c)
{
    return c->watching ? c->watching->n : 0;
}

const char *watch_nick(const struct client *c, size_t i, size_t *len)
{
    const struct watch_ref *r = &c->watching->refs[i];
    *len = r->len;
    return r->nick;
}

size_t watch_total(void)
{
    return watch_nicks ? dict_count(watch_nicks) : 0;
}

/* ------------------------------------------------------------------------
 * Presence
 * ------------------------------------------------------------------------ */

/* Tells the watchers of nick that it came (who) or went (who NULL). */
static void watch_notify(const char *nick, size_t len, const struct client *who)
{
    struct watch_entry *e =
        watch_nicks ? dict_get(watch_nicks, nick, len) : NULL;
    for (size_t i = 0; e && i < e->n; i++) {
        struct client *w = e->seats[i].c;
        if (w->ops->watched)
            w->ops->watched(w, nick, len, who);
    }
}

void watch_came(const struct client *who)
{
    watch_notify(who->nick, who->nick_len, who);
}

void watch_went(const char *nick, size_t len)
{
    watch_notify(nick, len, NULL);
}

void watch_tell(const struct client *who, struct chat_event *ev)
{
    struct watch_entry *e =
        watch_nicks ? dict_get(watch_nicks, who->nick, who->nick_len) : NULL;
    if (e == NULL)
        return;
    ev->watched = true;
    for (size_t i = 0; i < e->n; i++)
        chat_deliver(e->seats[i].c, ev);
    ev->watched = false;
}

void watch_fini(void)
{
    dict_free(watch_nicks); /* empty: every list was cleared */
    watch_nicks = NULL;
}
