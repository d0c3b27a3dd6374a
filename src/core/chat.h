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
struct watch_list;

/* How many protocols can cache a formatted event (text, irc, ...). */
#define CHAT_PROTOS 4

enum chat_kind {
    CHAT_MESSAGE, /* lines to a room (notice: NOTICE rather than PRIVMSG) */
    CHAT_ACTION,  /* /me (CTCP ACTION) in a room */
    CHAT_PRIVATE, /* text to one person (action, notice as flagged) */
    CHAT_JOIN,    /* someone joined room */
    CHAT_PART,    /* someone left room; text is the reason */
    CHAT_QUIT,    /* someone left the server; text is the reason */
    CHAT_NICK,    /* nick holds the old nick, text the new one */
    CHAT_TOPIC,   /* room's topic was set to text */
    CHAT_KICK,    /* from put `to` out of room; text is the reason */
    CHAT_MODE,    /* from changed room's modes; text is "+o-v alice bob" */
    CHAT_INVITE,  /* from invited `to` into room */
    CHAT_AWAY,    /* from went away (text: why) or came back (no text) */
    CHAT_SETNAME, /* from's real name is now text */
    CHAT_TAGMSG,  /* tags alone (IRC's TAGMSG) to room, or to `to` if no
                     room: only clients whose ops take tagmsg get it */
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

/*
 * One thing that happened, handed to each recipient. Everything it points
 * to is borrowed and lives only while it is being delivered: a protocol
 * that keeps any of it copies it.
 */
struct chat_event {
    enum chat_kind kind;
    const struct client *from; /* who acted */
    const char *nick;          /* from's nick (the old one for CHAT_NICK) */
    size_t nick_len;
    struct room *room; /* the room, for room events */
    const char *text;  /* action, private message, reason, topic,
                          new nick or modes; NULL for CHAT_MESSAGE */
    size_t text_len;
    const struct chat_line *lines; /* CHAT_MESSAGE: the lines, in order */
    size_t nlines;
    const struct client *to; /* the recipient (PRIVATE), the kicked or the
                                invited */
    uint64_t id;     /* unique and rising; line i of a message has id + i */
    int64_t time_ms; /* when, in milliseconds since the Unix epoch (UTC) */
    bool notice;     /* MESSAGE, PRIVATE: a notice (never answered) */
    bool action;     /* PRIVATE: an action (/me) */
    /* MESSAGE, ACTION, PRIVATE, TAGMSG: the sender's client-only tags,
       "+a=b;+c" as IRC escapes them (len 0: none); relayed, never stored. */
    const char *client_tags;
    size_t client_tags_len;
    /* MESSAGE, ACTION, TAGMSG: 0, or the least status (CHAT_VOICE or
       CHAT_OP) a member needs to get it; see chat_msg_opts. */
    unsigned min_status;
    /* AWAY, SETNAME: handed to the recipient because it watches from's
       nick (core/watch.h), not because they share a room. */
    bool watched;
    struct chat_wire wire[CHAT_PROTOS];
};

struct client;

/* How events reach one kind of client; one static instance per protocol. */
struct client_ops {
    unsigned proto; /* index into chat_event.wire (and the one after it) */
    /*
     * Hands ev to the client. Returns false if the protocol chose not to
     * show it (e.g. arrivals in a room too big to list them), so that the
     * same event may still reach the client through another room.
     */
    bool (*deliver)(struct client *to, struct chat_event *ev);
    bool tagmsg; /* takes CHAT_TAGMSG (other protocols never see it) */
    /*
     * An operator, by, disconnects c with a reason (len bytes; see
     * oper_kill): the protocol tells c (its last line), marks it as gone
     * and closes its connection. It must not unregister c: the core does
     * that right after, announcing the quit.
     */
    void (*killed)(struct client *c, const struct client *by,
                   const char *reason, size_t len);
    /*
     * A nick (len bytes) that watcher watches (core/watch.h) came, taken
     * by who, or went (who is NULL; nick as it was spelled). NULL for a
     * protocol that offers no watching.
     */
    void (*watched)(struct client *watcher, const char *nick, size_t len,
                    const struct client *who);
};

/* A member's status in a room. */
#define CHAT_OP 0x01
#define CHAT_VOICE 0x02

/* A room a client is in, its status there, and its slot in the room. */
struct chat_membership {
    struct room *room;
    size_t slot;
    unsigned status; /* CHAT_OP, CHAT_VOICE */
};

/* The longest user name (ident) and host a person is shown with. */
#define CHAT_USER_MAX 16
#define CHAT_HOST_MAX 46 /* an IPv6 address and a leading 0 */
#define CHAT_REALNAME_MAX 128

/* A person. Owned by its protocol, which embeds or allocates it. */
struct client {
    uint64_t id;
    char nick[NICK_MAX + 1];
    size_t nick_len;
    char user[CHAT_USER_MAX + 1]; /* "~name": the user name it gave */
    char host[CHAT_HOST_MAX + 1]; /* its address, as shown to others */
    char *realname;               /* NULL: none given */
    char *away;                   /* NULL: here */
    int64_t signon;               /* seconds since the epoch */
    int64_t last_spoke; /* its last message (seconds since the epoch), or
                           signon: how long it has been idle (WHOIS) */
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
    const char *oper;           /* a server operator: its account; NULL: not one
                                   (set by oper_set, core/oper.h) */
    struct watch_list *watching; /* the nicks it watches (core/watch.h);
                                    NULL: none */
};

struct chat_config {
    size_t history_keep; /* messages kept per room */
    size_t topic_max;    /* longest topic, in bytes */
    size_t max_rooms;    /* most rooms that may exist at once */
    size_t history_mem;  /* history bytes in all rooms; 0: no limit */
    size_t max_bans;     /* most bans (and invites) one room keeps */
    /* New rooms one client may create at once, then per minute (0: any). */
    unsigned room_burst, room_rate;
    /* The same for all clients of one origin together. */
    unsigned origin_room_burst, origin_room_rate;
    /* A monotonic clock in milliseconds; NULL: CLOCK_MONOTONIC. */
    uint64_t (*now_ms)(void);
};

enum chat_error {
    CHAT_OK,
    CHAT_ERR_INVALID,      /* not a valid nick or room name */
    CHAT_ERR_TAKEN,        /* nick in use by someone else */
    CHAT_ERR_RESERVED,     /* nick of the form user<digits> */
    CHAT_ERR_ALREADY,      /* already that nick, or already in that room */
    CHAT_ERR_NO_NICK,      /* nobody has that nick */
    CHAT_ERR_TOO_LONG,     /* topic over the limit */
    CHAT_ERR_TOO_MANY,     /* room limit reached */
    CHAT_ERR_RATE,         /* creating rooms too fast: see chat_new_room_wait */
    CHAT_ERR_BANNED,       /* a ban in the room matches the person */
    CHAT_ERR_INVITE_ONLY,  /* the room is +i and the person not invited */
    CHAT_ERR_BAD_KEY,      /* the room has a key (+k) and it was not given */
    CHAT_ERR_FULL,         /* the room is at its limit (+l) */
    CHAT_ERR_NOT_MEMBER,   /* the actor is not in the room */
    CHAT_ERR_NOT_OP,       /* only the room's operators may do that */
    CHAT_ERR_MODERATED,    /* the room is +m (or bans the speaker) */
    CHAT_ERR_TARGET_OUT,   /* the person acted on is not in the room */
    CHAT_ERR_LIST_FULL,    /* the room's ban or invite list is full */
    CHAT_ERR_UNKNOWN_MODE, /* no such mode */
    CHAT_ERR_NEED_ARG,     /* the mode needs an argument */
    CHAT_ERR_BAD_ARG,      /* the mode's argument is not valid */
};

/* Sets up the core: the registries and #lobby. */
void chat_init(const struct chat_config *cfg);

/* Frees every room; all clients must have been unregistered. */
void chat_fini(void);

/*
 * Takes the limits of cfg that may change while people are here (a
 * reload): topic_max, max_rooms, history_mem, max_bans, room_burst and
 * room_rate. They apply from the next time they are checked (a lower
 * history_mem at the next message). The rest of cfg is ignored.
 */
void chat_set_limits(const struct chat_config *cfg);

/* Returns the configuration given to chat_init (and chat_set_limits). */
const struct chat_config *chat_get_config(void);

/*
 * Brings a new person into the server. The client is zeroed first; ops and
 * owner are stored; user and host are copied (cut to their maximum). nick
 * (len bytes) is the person's nick, or NULL for the default user<id>.
 * Returns CHAT_OK, or (leaving c unregistered) INVALID, RESERVED or TAKEN.
 * The person is in no room yet, and has no user name or host until
 * chat_set_user_host (which tells the watchers of its nick).
 */
enum chat_error chat_register(struct client *c, uint64_t id,
                              const struct client_ops *ops, void *owner,
                              const char *nick, size_t len);

/*
 * Sets c's user name and shown host (copied, cut to their maximum). A
 * protocol calls it right after chat_register: the first call that gives
 * c a user name completes its arrival, and the watchers of its nick
 * (core/watch.h) are told it came.
 */
void chat_set_user_host(struct client *c, const char *user, const char *host);

/*
 * Takes a person out: leaves every room, telling them `quit` with the
 * reason (len bytes, may be 0) unless announce is false, and frees the nick.
 */
void chat_unregister(struct client *c, const char *reason, size_t len,
                     bool announce);

/* Returns true if nick (len bytes) may be someone's nick at all. */
bool chat_nick_valid(const char *nick, size_t len);

/*
 * Joins the room name (len bytes, without '#'), creating it if needed.
 * key (klen bytes, may be NULL) is tried against the room's key. The
 * joiner gets CHAT_JOIN first, then the rest of the room. Returns CHAT_OK
 * (and *out), INVALID, ALREADY, TOO_MANY, RATE, BANNED, INVITE_ONLY,
 * BAD_KEY or FULL (then *out is the room, if it exists).
 *
 * Whoever joins a room nobody is in becomes its operator. Joining a room
 * that exists is free. Creating one spends a token of c's bucket and of
 * its origin's (room_burst, room_rate and origin_*): RATE if either is
 * empty. At max_rooms, the room nobody has been in for longest is freed
 * with its history to make space; TOO_MANY if every room has members.
 */
enum chat_error chat_join(struct client *c, const char *name, size_t len,
                          const char *key, size_t klen, struct room **out);

/* Leaves r: the room and the leaver get CHAT_PART. c must be a member. */
void chat_part(struct client *c, struct room *r, const char *reason,
               size_t len);

/*
 * Returns CHAT_OK if c may talk in r now, NOT_MEMBER if c is not in it and
 * r is +n (as rooms are when made), or MODERATED if r is +m and c neither
 * op nor voiced, or a ban matches c.
 */
enum chat_error chat_may_speak(const struct client *c, const struct room *r);

/*
 * What a message may carry besides its text, for chat_say, chat_act,
 * chat_privmsg and chat_tagmsg; they take NULL for nothing. Borrowed for
 * the call.
 */
struct chat_msg_opts {
    const char *client_tags; /* in: see chat_event.client_tags */
    size_t client_tags_len;
    /*
     * in: 0 for every member, or CHAT_VOICE or CHAT_OP: a room message goes
     * only to members with that status or a higher one (an operator is
     * above a voiced member), as IRC's STATUSMSG, and the room does not
     * remember it.
     */
    unsigned min_status;
    int64_t time_ms; /* out: the time the message was stamped with */
};

/* Returns true if a member's status is min (see chat_msg_opts) or higher. */
bool chat_status_reaches(unsigned status, unsigned min);

/*
 * Says n lines in r, in order, as one event (notice: as notices): every
 * other member gets them (a protocol formats them once, into one block),
 * and r remembers each. Returns what chat_may_speak says (nothing is said
 * unless CHAT_OK). ids, if not NULL, gets the id of the first line.
 */
enum chat_error chat_say(struct client *c, struct room *r,
                         const struct chat_line *lines, size_t n, bool notice,
                         uint64_t *id, struct chat_msg_opts *opts);

/* Acts (/me) in r: every other member gets it. Checks as chat_say does. */
enum chat_error chat_act(struct client *c, struct room *r, const char *text,
                         size_t len, uint64_t *id, struct chat_msg_opts *opts);

/*
 * Sends text to `to` (an action or a notice as flagged). Returns CHAT_OK;
 * id, if not NULL, gets the message's id.
 */
enum chat_error chat_privmsg(struct client *c, struct client *to,
                             const char *text, size_t len, bool action,
                             bool notice, uint64_t *id,
                             struct chat_msg_opts *opts);

/*
 * Sends tags alone (CHAT_TAGMSG) to every other member of r, or, if r is
 * NULL, to `to`; only clients whose ops take tagmsg get it, and nothing is
 * remembered. Checks as chat_say does for a room; returns CHAT_OK for a
 * person. id, if not NULL, gets its id.
 */
enum chat_error chat_tagmsg(struct client *c, struct room *r, struct client *to,
                            uint64_t *id, struct chat_msg_opts *opts);

/*
 * Changes c's nick. c and everyone who shares a room with it get CHAT_NICK.
 * Returns CHAT_OK, INVALID, RESERVED, TAKEN, ALREADY, or BANNED if a
 * server ban's mask matches c under the new nick (core/sban.h).
 */
enum chat_error chat_set_nick(struct client *c, const char *nick, size_t len);

/*
 * Sets r's topic; every member gets CHAT_TOPIC. Returns OK, TOO_LONG,
 * NOT_MEMBER, or NOT_OP when r is +t and c not its operator.
 */
enum chat_error chat_set_topic(struct client *c, struct room *r,
                               const char *text, size_t len);

/*
 * Puts target out of r with a reason: everyone in r, target included, gets
 * CHAT_KICK. Returns OK, NOT_MEMBER, NOT_OP or TARGET_OUT.
 */
enum chat_error chat_kick(struct client *c, struct room *r,
                          struct client *target, const char *reason,
                          size_t len);

/*
 * Invites target into r: target gets CHAT_INVITE, and so do r's operators.
 * An operator's invitation lets target past +i and bans once; anyone else's
 * (allowed unless r is +i) lets it past nothing. Returns OK, NOT_MEMBER,
 * NOT_OP (r is +i and c not an operator), ALREADY (target is in r) or
 * LIST_FULL.
 */
enum chat_error chat_invite(struct client *c, struct room *r,
                            struct client *target);

/* One requested mode change; the core fills in err. */
struct chat_mode_change {
    bool add;        /* '+' or '-' */
    char mode;       /* o v b i k l m n s t */
    const char *arg; /* its argument, if the mode takes one */
    size_t arg_len;
    enum chat_error err; /* set by chat_set_modes */
};

/*
 * Applies the mode changes to r in order, as far as c may: each gets its
 * err (OK, NOT_MEMBER, NOT_OP, TARGET_OUT, UNKNOWN_MODE, NEED_ARG, BAD_ARG,
 * LIST_FULL, NO_NICK; ALREADY for a change that changes nothing). Those
 * that changed something go to everyone in r as one CHAT_MODE event.
 * Returns the number applied.
 */
size_t chat_set_modes(struct client *c, struct room *r,
                      struct chat_mode_change *ch, size_t n);

/*
 * Writes r's modes as "+ntk key" into out (cap bytes, NUL-terminated);
 * the key and limit are shown only if show_args. Returns the length.
 */
size_t chat_room_modes(const struct room *r, bool show_args, char *out,
                       size_t cap);

/* Sets c away with a message (len > 0) or back (len 0); tells its rooms. */
void chat_set_away(struct client *c, const char *text, size_t len);

/* Sets c's real name (cut to CHAT_REALNAME_MAX); tells its rooms. */
void chat_set_realname(struct client *c, const char *text, size_t len);

/* Returns the room called name (without '#'), or NULL. */
struct room *chat_find_room(const char *name, size_t len);

/* Returns the person called nick, or NULL. */
struct client *chat_find_nick(const char *nick, size_t len);

/* Returns c's membership of r (status included), or NULL. O(1). */
struct chat_membership *chat_membership(const struct client *c,
                                        const struct room *r);

/* Returns true if c is a member of r. */
bool chat_is_member(const struct client *c, const struct room *r);

/* Returns true if a ban of r matches c. */
bool chat_is_banned(const struct client *c, const struct room *r);

/*
 * Returns the whole seconds until c may create a room (at least 1 if it may
 * not now), or 0 if it may now.
 */
unsigned chat_new_room_wait(const struct client *c);

/* Returns the number of rooms. */
size_t chat_room_count(void);

/* Returns the number of people. */
size_t chat_client_count(void);

/* Returns the most people there have been at once since chat_init. */
size_t chat_client_max(void);

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

/* Calls fn for every person, in no particular order. */
void chat_foreach_client(void (*fn)(struct client *c, void *arg), void *arg);

/* Writes "nick!user@host" of c into out (cap bytes); returns its length. */
size_t chat_prefix(const struct client *c, char *out, size_t cap);

/* The longest "nick!user@host". */
#define CHAT_PREFIX_MAX (NICK_MAX + CHAT_USER_MAX + CHAT_HOST_MAX + 2)

/* Someone who left or changed nick, as WHOWAS shows them. */
struct chat_was {
    char nick[NICK_MAX + 1];
    char user[CHAT_USER_MAX + 1];
    char host[CHAT_HOST_MAX + 1];
    char realname[CHAT_REALNAME_MAX + 1];
    int64_t when; /* seconds since the epoch */
};

/*
 * Calls fn for up to max remembered past users of nick, newest first;
 * returns how many.
 */
size_t chat_whowas(const char *nick, size_t len, size_t max,
                   void (*fn)(const struct chat_was *w, void *arg), void *arg);

/* Returns the time now in milliseconds since the Unix epoch. */
int64_t chat_wall_ms(void);

#endif
