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
struct meta;

/*
 * What the allocator adds to each message on average (its header and the
 * rounding of the size), counted in a room's history bytes.
 */
#define ROOM_MSG_OVERHEAD 16

/* What a remembered message is. */
enum room_msg_kind { ROOM_MSG_SAY, ROOM_MSG_ACTION, ROOM_MSG_NOTICE };

/* One remembered chat message. */
struct room_msg {
    uint64_t id;      /* the event's id */
    int64_t time_ms;  /* milliseconds since the Unix epoch */
    uint8_t kind;     /* enum room_msg_kind */
    uint8_t nick_len; /* the nick is the first nick_len bytes of source */
    uint8_t src_len;  /* "nick!user@host" */
    uint32_t text_len;
    char data[]; /* source, then text; not NUL-terminated */
};

/* Room modes without an argument, as bits of room.modes. */
#define ROOM_INVITE_ONLY 0x01 /* +i */
#define ROOM_MODERATED 0x02   /* +m */
#define ROOM_NO_OUTSIDE 0x04  /* +n: only members may talk */
#define ROOM_SECRET 0x08      /* +s: not listed */
#define ROOM_TOPIC_LOCK 0x10  /* +t: only operators set the topic */

/* One ban: a nick!user@host mask, who set it and when. */
struct room_ban {
    char *mask;
    char *setter;
    int64_t when; /* seconds since the epoch */
};

struct room {
    char name[ROOM_NAME_MAX + 1]; /* as first spelled, without '#' */
    size_t name_len;
    char *topic; /* NULL for none */
    size_t topic_len;
    char *topic_by;   /* who set it ("nick!user@host"), NULL if nobody */
    int64_t topic_at; /* when, seconds since the epoch */
    int64_t created;  /* seconds since the epoch */
    struct client **members;
    size_t nmembers, capmembers;
    unsigned modes; /* ROOM_INVITE_ONLY ... */
    char *key;      /* +k, NULL for none */
    size_t limit;   /* +l, 0 for none */
    struct room_ban *bans;
    size_t nbans, capbans;
    uint64_t *invited; /* ids of people invited, oldest first */
    size_t ninvited, capinvited;
    struct room_msg **hist; /* ring of hist_cap slots, allocated lazily */
    size_t hist_head;       /* index of the oldest message */
    size_t hist_count;
    size_t hist_cap;
    size_t hist_bytes; /* the ring and its messages, see room_msg_cost */
    /* The core's list of rooms without members, least recently left first. */
    struct room *idle_prev, *idle_next;
    bool idle;         /* on that list */
    struct meta *meta; /* IRC metadata keys set on it; NULL: none */
};

/* Returns a new empty room keeping up to hist_cap messages. */
struct room *room_new(const char *name, size_t len, size_t hist_cap);

/* Frees the room, its topic, bans, metadata and history; room_free(NULL) is
 * a no-op. */
void room_free(struct room *r);

/* Adds c as a member; returns its slot in r->members. */
size_t room_add(struct room *r, struct client *c);

/*
 * Removes the member at slot. Returns the member that was moved into slot
 * to fill the hole (its slot changed), or NULL if none moved.
 */
struct client *room_remove(struct room *r, size_t slot);

/*
 * Sets the topic to the len bytes at text (copied; len 0 clears it), set by
 * `by` (NUL-terminated, copied) at `when`.
 */
void room_set_topic(struct room *r, const char *text, size_t len,
                    const char *by, int64_t when);

/* Returns the bytes one remembered message of these lengths costs. */
size_t room_msg_cost(size_t src_len, size_t text_len);

/*
 * Remembers a chat message (source "nick!user@host" of src_len bytes whose
 * nick is the first nick_len), forgetting the oldest one when full. Adds
 * what it costs (and the ring's size, on the first message) to
 * r->hist_bytes.
 */
void room_remember(struct room *r, uint64_t id, int64_t time_ms,
                   enum room_msg_kind kind, const char *src, size_t src_len,
                   size_t nick_len, const char *text, size_t text_len);

/* Adds a ban (mask and setter copied); the caller checks for space. */
void room_ban_add(struct room *r, const char *mask, size_t len,
                  const char *setter, int64_t when);

/* Returns the index of the ban whose mask equals mask (ignoring case), or
 * -1. */
long room_ban_find(const struct room *r, const char *mask, size_t len);

/* Removes the ban at index i, keeping the others in order. */
void room_ban_remove(struct room *r, size_t i);

/*
 * Records that the person with this id was invited. Returns false if the
 * list is at max (then nothing is recorded); an id already there is fine.
 */
bool room_invite_add(struct room *r, uint64_t id, size_t max);

/* Removes id from the invited list; returns true if it was there. */
bool room_invite_take(struct room *r, uint64_t id);

/* Sets the key to the len bytes at key (copied), or clears it (NULL). */
void room_set_key(struct room *r, const char *key, size_t len);

/* Forgets the oldest message (hist_count > 0) and takes off its cost. */
void room_forget_oldest(struct room *r);

/* Returns the i-th remembered message, oldest first (i < hist_count). */
const struct room_msg *room_history(const struct room *r, size_t i);

#endif
