/*
 * watch: who watches which nick (IRC's MONITOR), whatever protocol holds
 * the nick.
 *
 * A watcher keeps a list of nicks. Whenever one of them comes (someone
 * registers with it or changes to it) or goes (its holder quits or changes
 * away from it), the core tells each of its watchers through their ops'
 * watched hook; a change of case only (alice to Alice) is neither. The
 * core also hands watchers the AWAY and SETNAME events of the nicks they
 * watch (chat_event.watched), for IRC's extended-monitor.
 *
 * One table maps each watched nick (compared without ASCII case) to its
 * watchers, so a presence change costs one lookup and one call per
 * watcher. A watcher's list and a nick's watchers each know their place in
 * the other, so dropping a nick from a list is O(1) too. A person who
 * watches nothing costs a NULL pointer (client.watching).
 */
#ifndef PARLEY_WATCH_H
#define PARLEY_WATCH_H

#include <stdbool.h>
#include <stddef.h>

struct client;
struct chat_event;

enum watch_result {
    WATCH_ADDED,   /* the nick is in the list now */
    WATCH_ALREADY, /* it was in the list: nothing changed */
    WATCH_FULL,    /* the list holds max nicks: not added */
    WATCH_INVALID, /* not a valid nick: not added */
};

/*
 * Adds nick (len bytes, copied as spelled) to c's list, which may hold at
 * most max nicks. c must be registered (chat_register); chat_unregister
 * empties its list. Returns what happened.
 */
enum watch_result watch_add(struct client *c, const char *nick, size_t len,
                            size_t max);

/* Removes nick (len bytes, any case) from c's list; false if not in it. */
bool watch_del(struct client *c, const char *nick, size_t len);

/* Empties c's list, freeing it. */
void watch_clear(struct client *c);

/* Returns how many nicks c watches. */
size_t watch_count(const struct client *c);

/*
 * Returns nick i (0 <= i < watch_count) of c's list as c spelled it, its
 * length in *len. The order changes when nicks are removed.
 */
const char *watch_nick(const struct client *c, size_t i, size_t *len);

/* Returns how many different nicks are watched, by anyone. */
size_t watch_total(void);

/* ------------------------------------------------------------------------
 * For the core (chat.c): presence changes and what watchers get
 * ------------------------------------------------------------------------ */

/* who has just taken its nick: tells the nick's watchers it came. */
void watch_came(const struct client *who);

/* The nick (len bytes, as it was spelled) has just been let go of. */
void watch_went(const char *nick, size_t len);

/*
 * Hands ev (an event of who: AWAY, SETNAME) to the watchers of who's nick
 * that have not had it, with ev->watched set.
 */
void watch_tell(const struct client *who, struct chat_event *ev);

/* Frees the table (at chat_fini; every list must be empty by then). */
void watch_fini(void);

#endif
