/*
 * room: one chat room as data. Its members, its topic, its recent history.
 *
 * Members live in an array so that a broadcast is a straight walk; removal
 * swaps the last member into the hole (the caller updates that member's
 * record of its slot). History is a ring of the last N messages, each kept
 * as one allocation holding nick and text; the room counts the bytes its
 * history holds, so that the core can bound history memory across rooms.
 */
#ifndef PARLEY_ROOM_H
#define PARLEY_ROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/nick.h"

struct client;

/*
 * What the allocator adds to each message on average (its header and the
 * rounding of the size), counted in a room's history bytes.
 */
#define ROOM_MSG_OVERHEAD 16

/* One remembered chat message. */
struct room_msg {
    time_t when;
    uint8_t nick_len;
    uint32_t text_len;
    char data[]; /* nick, then text; not NUL-terminated */
};

struct room {
    char name[ROOM_NAME_MAX + 1]; /* as first spelled, without '#' */
    size_t name_len;
    char *topic; /* NULL for none */
    size_t topic_len;
    struct client **members;
    size_t nmembers, capmembers;
    struct room_msg **hist; /* ring of hist_cap slots, allocated lazily */
    size_t hist_head;       /* index of the oldest message */
    size_t hist_count;
    size_t hist_cap;
    size_t hist_bytes; /* the ring and its messages, see room_msg_cost */
    /* The core's list of rooms without members, least recently left first. */
    struct room *idle_prev, *idle_next;
    bool idle; /* on that list */
};

/* Returns a new empty room keeping up to hist_cap messages. */
struct room *room_new(const char *name, size_t len, size_t hist_cap);

/* Frees the room, its topic and history; room_free(NULL) is a no-op. */
void room_free(struct room *r);

/* Adds c as a member; returns its slot in r->members. */
size_t room_add(struct room *r, struct client *c);

/*
 * Removes the member at slot. Returns the member that was moved into slot
 * to fill the hole (its slot changed), or NULL if none moved.
 */
struct client *room_remove(struct room *r, size_t slot);

/* Sets the topic to the len bytes at text (copied); len 0 clears it. */
void room_set_topic(struct room *r, const char *text, size_t len);

/* Returns the bytes one remembered message of these lengths costs. */
size_t room_msg_cost(size_t nick_len, size_t text_len);

/*
 * Remembers a chat message, forgetting the oldest one when full. Adds what
 * it costs (and the ring's size, on the first message) to r->hist_bytes.
 */
void room_remember(struct room *r, time_t when, const char *nick,
                   size_t nick_len, const char *text, size_t text_len);

/* Forgets the oldest message (hist_count > 0) and takes off its cost. */
void room_forget_oldest(struct room *r);

/* Returns the i-th remembered message, oldest first (i < hist_count). */
const struct room_msg *room_history(const struct room *r, size_t i);

#endif
