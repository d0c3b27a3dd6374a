/*
 * store_int: what the store's files (store.c writes, store_read.c reads,
 * store_open.c opens) share and nobody else sees.
 */
#ifndef PARLEY_STORE_INT_H
#define PARLEY_STORE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* The statements the store prepares once, at open. */
enum store_stmt {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_INS_MSG,
    ST_GET_TARGET,
    ST_NEW_TARGET,
    ST_SET_COUNT,
    ST_SUB_COUNT,
    ST_TRIM,
    ST_PRUNE_OLD,
    ST_NEXT_TARGET,
    ST_ROOM_PUT,
    ST_BANS_DEL,
    ST_BAN_INS,
    ST_HIST_ASC,
    ST_HIST_DESC,
    ST_TIME_POS,
    ST_ROOM_GET,
    ST_ROOM_BANS,
    ST_ROOM_LIST,
    ST_SBAN_PUT,
    ST_SBAN_DEL,
    ST_SBAN_LIST,
    ST_MAILBOXES,
    ST_COUNT
};

/* What a record in the batch is. */
enum store_rec_type { REC_MSG, REC_ROOM, REC_SBAN };

/*
 * One record of the batch. A message's data is target, src, text; a
 * room's is its topic's time and its fields (store_put_field); a server
 * ban's is its fields (see store_sban.c).
 */
struct store_rec {
    uint32_t size; /* the whole record, a multiple of 8 */
    uint8_t type;  /* enum store_rec_type */
    uint8_t kind;
    uint16_t tlen;
    uint32_t src_len;
    uint32_t text_len;
    uint64_t id;
    int64_t time_ms;
    char data[];
};

struct tbuf;

/*
 * Reserves a record of type with data bytes after the header at the end
 * of the batch, its header zeroed but for size and type. It lives until
 * the next change to the batch.
 */
struct store_rec *store_rec_new(enum store_rec_type type, size_t data);

/* Appends a string field (NULL allowed) to a record's data being built. */
void store_put_field(struct tbuf *b, const char *s, size_t len);

/* Reads the next field of a record's data at *p, moving *p past it;
 * returns NULL (and *len 0) for a NULL field. */
const char *store_get_field(const char **p, size_t *len);

/* Writes a server ban record (store_sban.c); returns an SQLite code. */
int store_write_sban(const struct store_rec *r);

/* The open database and its prepared statements. */
extern sqlite3 *store_db;
extern sqlite3_stmt *store_st[ST_COUNT];

/* Returns statement k, reset and unbound, ready to bind. */
sqlite3_stmt *store_stmt(enum store_stmt k);

/*
 * Inserts what the batch holds that the open transaction does not yet
 * (opening one if needed), so that a read sees it. Returns 0 or a
 * negative number (then the batch waits for store_commit to retry).
 */
int store_write_pending(void);

/*
 * Returns the id of target (tlen bytes) in the targets table, or 0 if it
 * has none; creates it if create. -1 on error.
 */
int64_t store_target_id(const char *target, size_t tlen, bool create);

/*
 * Opens the database at cfg->path for this server (store_open.c): takes
 * the lock that keeps a second parleyd out, opens it in WAL mode with
 * cfg's sync setting, migrates the schema, checks that reading and
 * writing work and prepares every statement into store_st; sets *last to
 * the highest message id stored. On failure fills err (cap bytes) with
 * one line that says what to do and returns why; what was opened is then
 * released by store_close.
 */
enum store_open_error store_open_db(const struct store_config *cfg,
                                    uint64_t *last, char *err, size_t cap);

/* Releases the lock store_open_db took; called after SQLite closed. */
void store_unlock(void);

/*
 * Starts the checkpoint thread (store_ckpt.c) on the database at path and
 * turns the loop connection's automatic checkpoints off. Returns 0, or -1
 * (then SQLite's automatic checkpoints stay on).
 */
int store_ckpt_start(const char *path);

/* Stops the checkpoint thread, if it runs, and closes its connection. */
void store_ckpt_stop_thread(void);

#endif
