/*
 * persist: what the chat core keeps on disk, through the store's narrow
 * interface (store/store.h). Turns rooms, people and events into what the
 * store takes (keys, rows) and back. Every function here does nothing
 * when no store is open (--db none), so the core calls them freely.
 */
#ifndef PARLEY_PERSIST_H
#define PARLEY_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/room.h"

struct client;

/* Keeps r's lasting state: modes, key, limit, topic, bans. */
void persist_room(const struct room *r);

/* Returns true if a store is open (not --db none). */
bool persist_on(void);

/* Returns the highest message id kept (0 for none). */
uint64_t persist_last_id(void);

/* Keeps one line c said in r. */
void persist_line(const struct client *c, const struct room *r, uint64_t id,
                  int64_t time_ms, enum room_msg_kind kind, const char *text,
                  size_t len);

/* Keeps a private message from `from` to `to`, in both their mailboxes. */
void persist_private(const struct client *from, const struct client *to,
                     uint64_t id, int64_t time_ms, enum room_msg_kind kind,
                     const char *text, size_t len);

/*
 * Returns a new room (owned by the caller, registered nowhere) with the
 * kept state of the room name (len bytes, any case), or NULL if none is
 * kept. hist_cap is given to room_new.
 */
struct room *persist_load_room(const char *name, size_t len, size_t hist_cap);

/*
 * Calls fn with each kept room (up to max, as persist_load_room makes
 * them; fn takes ownership). Returns how many.
 */
size_t persist_load_rooms(size_t max, size_t hist_cap,
                          void (*fn)(struct room *r, void *arg), void *arg);

/*
 * Gives the server bans the store keeps back to sban (with their setter,
 * time, expiry and reason; expired ones are dropped from the store
 * instead), then has every later change (a ban set, replaced, removed or
 * expired) kept. Call it once, at start, before anyone connects.
 */
void persist_sbans(void);

#endif
