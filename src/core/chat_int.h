/*
 * chat_int: what the core's files (chat.c, mode.c) share and nobody else
 * sees. Delivery of events and the bookkeeping of membership.
 */
#ifndef PARLEY_CHAT_INT_H
#define PARLEY_CHAT_INT_H

#include "core/chat.h"

struct room;

/* The configuration given to chat_init. */
extern struct chat_config chat_cfg;

/* Starts a new event (id and time stamped): each recipient gets it once. */
void chat_event_init(struct chat_event *ev, enum chat_kind kind,
                     const struct client *from);

/* Lets the protocols release what they made for ev. */
void chat_event_done(struct chat_event *ev);

/* Hands ev to c unless c already got it. */
void chat_deliver(struct client *c, struct chat_event *ev);

/* Hands ev to every member of r except skip (which may be NULL). */
void chat_broadcast(struct room *r, struct chat_event *ev,
                    const struct client *skip);

/*
 * Marks r as kept by the store (it stays, idle, when everyone has left)
 * and writes its state there if it was not kept yet or changed is true.
 * A no-op without a store.
 */
void chat_keep_room(struct room *r, bool changed);

/* Removes c from r's members and its own list; may free the room. */
void chat_leave(struct client *c, struct room *r);

#endif
