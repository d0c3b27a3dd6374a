/*
 * store: durable history in SQLite (one file, WAL mode, no server).
 *
 * The core hands the store what it must keep (room messages, actions,
 * topic changes, private messages, and each room's state) as it happens;
 * the store copies it into a batch in memory. Once per loop iteration,
 * before any output is flushed to a client, store_commit writes the whole
 * batch in one transaction. So nobody is ever sent a message that a kill
 * -9 could take back, and no message costs a commit of its own.
 *
 * When a commit fails (disk full, file too big, locked by another
 * process), chat goes on: the batch is kept (up to STORE_BACKLOG_MAX
 * bytes, the oldest messages given up past that and counted), the error
 * is logged once per episode, and the commit is retried every
 * STORE_RETRY_MS until it succeeds, which the log says with what was lost.
 *
 * Messages are kept per target: "#room" (its name in lower case) or, for
 * a private message, a mailbox of each of the two people (see
 * store_mailbox). Ids rise across the whole server and across restarts.
 *
 * One store per process; the functions below use it. Everything here runs
 * on the loop's thread.
 */
#ifndef PARLEY_STORE_H
#define PARLEY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/history.h"

/* The longest target key: a mailbox "~nick@host nick". */
#define STORE_TARGET_MAX 128
/* Bytes the batch may hold while commits fail; past it, messages are lost. */
#define STORE_BACKLOG_MAX (64 * 1024 * 1024)
/* How often a failing commit is tried again, in milliseconds. */
#define STORE_RETRY_MS 1000
/* Rows one retention step deletes at most (a short write, never a stall). */
#define STORE_PRUNE_CHUNK 1000
/* The schema version this build writes (PRAGMA user_version). */
#define STORE_SCHEMA_VERSION 2

/* Kinds from this one up are kept but never returned by store_history. */
#define STORE_KIND_META 3

struct store_config {
    const char *path;      /* the database file */
    bool sync_full;        /* synchronous=FULL: survives power loss */
    unsigned history_days; /* forget messages older than this; 0: never */
    size_t history_max;    /* messages kept per target; 0: no limit */
};

/* Why store_open failed: each has its own exit status (see main.c). */
enum store_open_error {
    STORE_OPEN_OK,
    STORE_OPEN_BUSY,    /* another parleyd, or a lock held by someone */
    STORE_OPEN_ACCESS,  /* cannot be opened, read or written */
    STORE_OPEN_CORRUPT, /* not a database, damaged, or from a newer build */
};

/*
 * Opens (creating if needed) the database at cfg->path, takes an exclusive
 * lock on it for this process, and brings its schema up to date. On error
 * writes one line into err (cap bytes) saying what is wrong and what to
 * do, and returns why; then nothing is open. cfg is copied.
 */
enum store_open_error store_open(const struct store_config *cfg, char *err,
                                 size_t cap);

/* Commits what is pending (one try) and closes; a no-op if not open. */
void store_close(void);

/* Returns true if a store is open. */
bool store_on(void);

/* Returns the highest message id ever stored (0 for none). */
uint64_t store_last_id(void);

/* One message, as store_append takes it. Borrowed for the call. */
struct store_msg {
    uint64_t id;
    int64_t time_ms; /* milliseconds since the Unix epoch (UTC) */
    unsigned kind;   /* the core's kind; see STORE_KIND_META */
    const char *src; /* "nick!user@host" */
    size_t src_len;
    const char *text;
    size_t text_len;
};

/* Adds m (copied) to the batch under target (tlen bytes, as is). */
void store_append(const char *target, size_t tlen, const struct store_msg *m);

/*
 * Writes the batch in one transaction, or, in a failing episode, tries
 * again once STORE_RETRY_MS have passed. Returns 0 if nothing is pending
 * afterwards, else a negative number. Also runs one retention step now
 * and then. Call it once per loop iteration, before output is flushed.
 */
int store_commit(void);

/* Writes the key of a room's target ("#" and its name in lower case) into
 * out (STORE_TARGET_MAX bytes); returns its length. */
size_t store_room_target(const char *name, size_t len, char *out);

/*
 * Writes the key of owner's mailbox for the conversation with peer into
 * out (STORE_TARGET_MAX bytes): "~owner@host peer", nicks in lower case.
 * A private message is kept in both people's mailboxes. Returns its
 * length (0 if it does not fit).
 */
size_t store_mailbox(const char *owner, size_t olen, const char *host,
                     const char *peer, size_t plen, char *out);

/*
 * Calls fn, oldest first, for up to limit messages of target chosen by
 * dir as chat_history does (see core/history.h); m is valid during the
 * call. Sees what is in the batch too. Returns how many.
 */
size_t store_history(const char *target, size_t tlen, enum chat_hist_dir dir,
                     const struct chat_hist_ref *a,
                     const struct chat_hist_ref *b, size_t limit,
                     chat_hist_fn fn, void *arg);

/* A room's ban, as the store keeps it. */
struct store_ban {
    const char *mask;
    const char *setter;
    int64_t when; /* seconds since the epoch */
};

/* A room's lasting state: what a restart gives back. */
struct store_room {
    const char *name; /* as first spelled, without '#' */
    size_t name_len;
    int64_t created; /* seconds since the epoch */
    unsigned modes;  /* the core's mode bits */
    const char *key; /* NULL: none */
    size_t limit;
    const char *topic; /* NULL: none */
    size_t topic_len;
    const char *topic_by; /* NULL: nobody */
    int64_t topic_at;
    const struct store_ban *bans;
    size_t nbans;
};

/* Adds r's state (copied) to the batch: the room row and its bans. */
void store_room_put(const struct store_room *r);

/*
 * Finds the room name (len bytes, any case) and calls fn with its state
 * (valid during the call). Returns 1 if found, 0 if not, -1 on error.
 */
int store_room_get(const char *name, size_t len,
                   void (*fn)(const struct store_room *r, void *arg),
                   void *arg);

/* Calls fn for up to max kept rooms; returns how many. */
size_t store_room_each(size_t max,
                       void (*fn)(const struct store_room *r, void *arg),
                       void *arg);

/* A server ban, as the store keeps it. Borrowed for the call. */
struct store_sban {
    const char *mask; /* canonical: the ban's key */
    const char *reason;
    const char *setter;
    int64_t set_at;  /* seconds since the epoch */
    int64_t expires; /* seconds since the epoch; 0: never */
};

/* Adds the server ban b (copied), or its new reason, setter and expiry,
 * to the batch. */
void store_sban_put(const struct store_sban *b);

/* Adds the removal of the server ban with mask to the batch. */
void store_sban_del(const char *mask);

/*
 * Calls fn with each kept server ban (valid during the call; fn may call
 * store_sban_del), in the order sban keeps them. Returns how many, or -1
 * on error.
 */
long store_sban_each(void (*fn)(const struct store_sban *b, void *arg),
                     void *arg);

/* Receives one conversation: the peer's nick in lower case (len bytes,
 * borrowed) and the id and time of its latest message. */
typedef void (*store_mailbox_fn)(const char *peer, size_t len, uint64_t id,
                                 int64_t time_ms, void *arg);

/*
 * Calls fn for up to limit of the mailboxes whose key starts with prefix
 * (plen bytes: "~owner@host ", as store_mailbox makes it with an empty
 * peer) and whose latest message's time is strictly between lo and hi
 * (milliseconds), by that time (then id), oldest first. Sees what is in the
 * batch too. Returns how many.
 */
size_t store_mailboxes(const char *prefix, size_t plen, int64_t lo, int64_t hi,
                       size_t limit, store_mailbox_fn fn, void *arg);

/* What the store has done, for the log, the metrics and tests. */
struct store_stats {
    uint64_t commits;  /* transactions written */
    uint64_t rows;     /* records committed: messages, rooms, server bans */
    uint64_t failures; /* commits that failed */
    uint64_t lost;     /* messages given up while commits failed */
    uint64_t pruned;   /* messages deleted by retention */
    size_t pending;    /* bytes waiting in the batch */
};

/* Fills *out. */
void store_get_stats(struct store_stats *out);

#endif
