/*
 * history: the one way to read what a room remembers. IRC's CHATHISTORY,
 * the text protocol's replay and a later /history all ask here, by
 * position relative to a message id or a time, so that none of them walks
 * the room's ring itself. Part of the chat core's API; a file of its own
 * so that chat.c stays about who hears what.
 *
 * A room's messages are kept in the order they were said, which is the
 * order of their ids: ids rise across the whole server, so any id (even
 * one of another room, or one forgotten since) has a place in that order.
 * Their times rise with them unless the wall clock is stepped back; then a
 * reference by time finds an approximate place.
 *
 * With a store open (--db), history comes from disk: a room's messages
 * survive a restart, rooms nobody is in hold none in memory, and private
 * conversations are kept too (chat_history_private).
 */
#ifndef PARLEY_HISTORY_H
#define PARLEY_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct client;
struct room;
struct room_msg;

/* Which messages chat_history returns, relative to references a and b. */
enum chat_hist_dir {
    CHAT_HIST_LATEST,  /* the newest; only those after a, if a is given */
    CHAT_HIST_BEFORE,  /* the newest of those before a */
    CHAT_HIST_AFTER,   /* the oldest of those after a */
    CHAT_HIST_AROUND,  /* up to half before a, the rest from a on */
    CHAT_HIST_BETWEEN, /* strictly between a and b, counted from a */
};

/* What a reference names. */
enum chat_ref_kind {
    CHAT_REF_NONE, /* no bound */
    CHAT_REF_ID,   /* the place of a message id */
    CHAT_REF_TIME, /* a time */
};

/* A place in a room's history. */
struct chat_hist_ref {
    enum chat_ref_kind kind;
    uint64_t id;     /* CHAT_REF_ID */
    int64_t time_ms; /* CHAT_REF_TIME: milliseconds since the Unix epoch */
};

/* Receives one message; m is borrowed and lives until the call returns. */
typedef void (*chat_hist_fn)(const struct room_msg *m, void *arg);

/*
 * Calls fn, oldest first, for up to limit messages of r chosen by dir
 * (see enum chat_hist_dir). A reference excludes the message it names
 * ("before msg 7" does not hold msg 7), except that AROUND starts its
 * second half at the first message at or after a. BETWEEN runs forwards
 * if a comes first, else backwards from a, and counts from a either way.
 * a and b may be NULL (no bound); b is read only by BETWEEN. Returns the
 * number of messages given to fn; nothing is changed.
 */
size_t chat_history(const struct room *r, enum chat_hist_dir dir,
                    const struct chat_hist_ref *a,
                    const struct chat_hist_ref *b, size_t limit,
                    chat_hist_fn fn, void *arg);

/*
 * Calls fn as chat_history does, for c's private conversation with the
 * nick peer (len bytes): the messages between them, both ways, that the
 * store kept while c had its nick and came from its host (there are no
 * accounts: a nick and an address are who someone is). Returns 0 without
 * a store (--db none): private messages are kept only on disk.
 */
size_t chat_history_private(const struct client *c, const char *peer,
                            size_t len, enum chat_hist_dir dir,
                            const struct chat_hist_ref *a,
                            const struct chat_hist_ref *b, size_t limit,
                            chat_hist_fn fn, void *arg);

/* Receives one private conversation: the peer's nick in lower case (len
 * bytes, borrowed for the call) and the id and time of its latest message. */
typedef void (*chat_hist_peer_fn)(const char *peer, size_t len, uint64_t id,
                                  int64_t time_ms, void *arg);

/*
 * Calls fn for up to limit of c's private conversations (those
 * chat_history_private reads) whose latest message's time is strictly
 * between lo and hi (milliseconds since the epoch), oldest first (by
 * time, then id), for
 * IRC's CHATHISTORY TARGETS. Returns how many; 0 without a store.
 */
size_t chat_history_peers(const struct client *c, int64_t lo, int64_t hi,
                          size_t limit, chat_hist_peer_fn fn, void *arg);

/* Returns true if history is kept on disk (--db): private included. */
bool chat_history_on_disk(void);

/*
 * Returns true if c may read r's history: a member may; anyone else only
 * if r is not secret (+s), invite-only (+i) or keyed (+k), and no ban of r
 * matches c. (What is said in such a room is not private: anyone could
 * join and read along.)
 */
bool chat_history_may_read(const struct client *c, const struct room *r);

#endif
