/*
 * chat: the core. People, nicks, rooms, and who hears what.
 *
 * The core knows nothing about sockets, bytes on the wire or protocols. A
 * person is a struct client whose ops say how events reach it. Each action
 * (say, join, nick, ...) builds one struct chat_event and hands it to every
 * recipient's deliver function; a protocol formats the event once, caches
 * the bytes in the event's wire slot for that protocol, and reuses them for
 * every further recipient that speaks it.
 */
#ifndef PARLEY_CHAT_H
#define PARLEY_CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/nick.h"

struct room;

/* How many protocols can cache a formatted event (text, irc, ...). */
#define CHAT_PROTOS 4

enum chat_kind {
    CHAT_MESSAGE, /* text to a room */
    CHAT_ACTION,  /* /me in a room */
    CHAT_PRIVATE, /* text to one person */
    CHAT_JOIN,    /* someone joined room */
    CHAT_PART,    /* someone left room */
    CHAT_QUIT,    /* someone left the server; text is the reason */
    CHAT_NICK,    /* nick holds the old nick, text the new one */
    CHAT_TOPIC,   /* room's topic was set to text */
};

/* One line of a message; several may be said at once (see chat_say). */
struct chat_line {
    const char *text;
    size_t len;
};

/*
 * Formatted bytes of an event for one protocol. A protocol that keeps them
 * in something it must let go of (a shared output block) sets release,
 * which the core calls with ref when the event has been delivered.
 */
struct chat_wire {
    const char *p;
    size_t n;
    void *ref;
    void (*release)(void *ref);
};

struct chat_event {
    enum chat_kind kind;
    const struct client *from; /* who acted */
    const char *nick;          /* from's nick (the old one for CHAT_NICK) */
    size_t nick_len;
    const struct room *room; /* the room, for room events */
    const char *text;        /* action, private message, reason, topic or
                                new nick; NULL for CHAT_MESSAGE */
    size_t text_len;
    const struct chat_line *lines; /* CHAT_MESSAGE: the lines, in order */
    size_t nlines;
    const struct client *to; /* the recipient of CHAT_PRIVATE */
    struct chat_wire wire[CHAT_PROTOS];
};

struct client;

/* How events reach one kind of client; one static instance per protocol. */
struct client_ops {
    unsigned proto; /* index into chat_event.wire */
    void (*deliver)(struct client *to, struct chat_event *ev);
};

/* A room a client is in, and where it sits in the room's member array. */
struct chat_membership {
    struct room *room;
    size_t slot;
};

/* A person. Owned by its protocol, which embeds or allocates it. */
struct client {
    uint64_t id;
    char nick[NICK_MAX + 1];
    size_t nick_len;
    struct room *room; /* the room a text user talks in (last joined) */
    struct chat_membership *rooms;
    size_t nrooms, caprooms;
    const struct client_ops *ops;
    void *owner;   /* the protocol's connection */
    uint64_t mark; /* last event delivered, to deliver each only once */
    /*
     * Where the person connects from, as a key for limits per address
     * (e.g. the peer's host); borrowed, it must outlive the registration.
     * NULL (as chat_register leaves it): no limit per address applies.
     */
    const char *origin;
    uint64_t new_rooms_full_at; /* the bucket of rooms it may create */
};

struct chat_config {
    size_t history_replay; /* messages shown on join */
    size_t history_keep;   /* messages kept per room */
    size_t quiet_above;    /* no join/part/quit/nick notices above this */
    size_t topic_max;      /* longest topic, in bytes */
    size_t max_rooms;      /* most rooms that may exist at once */
    size_t history_mem;    /* history bytes in all rooms; 0: no limit */
    /* New rooms one client may create at once, then per minute (0: any). */
    unsigned room_burst, room_rate;
    /* The same for all clients of one origin together. */
    unsigned origin_room_burst, origin_room_rate;
    /* A monotonic clock in milliseconds; NULL: CLOCK_MONOTONIC. */
    uint64_t (*now_ms)(void);
};

enum chat_error {
    CHAT_OK,
    CHAT_ERR_INVALID,  /* not a valid nick or room name */
    CHAT_ERR_TAKEN,    /* nick in use by someone else */
    CHAT_ERR_RESERVED, /* nick of the form user<digits> */
    CHAT_ERR_ALREADY,  /* already that nick, or already in that room */
    CHAT_ERR_NO_NICK,  /* nobody has that nick */
    CHAT_ERR_TOO_LONG, /* topic over the limit */
    CHAT_ERR_TOO_MANY, /* room limit reached */
    CHAT_ERR_RATE,     /* creating rooms too fast: see chat_new_room_wait */
};

/* Sets up the core: the registries and #lobby. */
void chat_init(const struct chat_config *cfg);

/* Frees every room; all clients must have been unregistered. */
void chat_fini(void);

/* Returns the configuration given to chat_init. */
const struct chat_config *chat_get_config(void);

/*
 * Brings a new person into the server with the default nick user<id>. The
 * client is zeroed first; ops and owner are stored. The person is in no
 * room yet (protocols join #lobby or wait for the client to join).
 */
void chat_register(struct client *c, uint64_t id, const struct client_ops *ops,
                   void *owner);

/*
 * Takes a person out: leaves every room, telling them `quit` with the
 * reason (len bytes, may be 0) unless announce is false, and frees the nick.
 */
void chat_unregister(struct client *c, const char *reason, size_t len,
                     bool announce);

/*
 * Joins the room name (len bytes, without '#'), creating it if needed. The
 * joiner gets CHAT_JOIN first, then the room does (if not too big). Sets
 * c->room. Returns CHAT_OK (and *out), INVALID, ALREADY, TOO_MANY or RATE.
 *
 * Joining a room that exists is free. Creating one spends a token of c's
 * bucket and of its origin's (room_burst, room_rate and origin_*): RATE if
 * either is empty. At max_rooms, the room nobody has been in for longest
 * is freed with its history to make space; TOO_MANY if every room has
 * members.
 */
enum chat_error chat_join(struct client *c, const char *name, size_t len,
                          struct room **out);

/* Leaves r: the room and the leaver get CHAT_PART. c must be a member. */
void chat_part(struct client *c, struct room *r, const char *reason,
               size_t len);

/*
 * Says n lines in r, in order, as one event: every other member gets them
 * (a protocol formats them once, into one block), and r remembers each.
 */
void chat_say(struct client *c, struct room *r, const struct chat_line *lines,
              size_t n);

/* Acts (/me) in r: every other member gets it. */
void chat_act(struct client *c, struct room *r, const char *text, size_t len);

/* Sends text to the person called nick; returns CHAT_OK or NO_NICK. */
enum chat_error chat_privmsg(struct client *c, const char *nick,
                             size_t nick_len, const char *text, size_t len);

/*
 * Changes c's nick. c and everyone who shares a room with it get CHAT_NICK.
 * Returns CHAT_OK, INVALID, RESERVED, TAKEN or ALREADY.
 */
enum chat_error chat_set_nick(struct client *c, const char *nick, size_t len);

/* Sets r's topic; every member gets CHAT_TOPIC. Returns OK or TOO_LONG. */
enum chat_error chat_set_topic(struct client *c, struct room *r,
                               const char *text, size_t len);

/* Returns the room called name (without '#'), or NULL. */
struct room *chat_find_room(const char *name, size_t len);

/* Returns the person called nick, or NULL. */
struct client *chat_find_nick(const char *nick, size_t len);

/* Returns true if c is a member of r. */
bool chat_is_member(const struct client *c, const struct room *r);

/*
 * Returns the whole seconds until c may create a room (at least 1 if it may
 * not now), or 0 if it may now.
 */
unsigned chat_new_room_wait(const struct client *c);

/* Returns the number of rooms. */
size_t chat_room_count(void);

/*
 * Returns the bytes the history of all rooms holds (see room_msg_cost).
 * Rooms without members are a cache: when a message takes this past
 * history_mem, the rooms nobody has been in for longest are freed with
 * their history, and then, if that is not enough, the room written to
 * forgets its oldest messages (it keeps the newest).
 */
size_t chat_history_bytes(void);

/* Calls fn for every room, in no particular order. */
void chat_foreach_room(void (*fn)(struct room *r, void *arg), void *arg);

#endif
