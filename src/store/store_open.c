/*
 * store_open: the schema, its migrations and the statements, and opening
 * a database for this server: the lock that keeps a second parleyd out,
 * WAL mode and the sync setting, migrations, a check that reading and
 * writing work, and an error line that says what to do when one fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "lib/log.h"
#include "store/store_int.h"

static const struct store_config *store_open_cfg; /* while opening */
static int store_lock_fd = -1;

/* ------------------------------------------------------------------------
 * Schema
 * ------------------------------------------------------------------------ */

/*
 * Migrations: store_migrations[v] brings a database at user_version v to
 * v + 1. Never edit one that has shipped; add the next.
 */
static const char *const store_migrations[STORE_SCHEMA_VERSION] = {
    /* 0 -> 1: targets, messages, rooms, bans, and the last id. */
    "CREATE TABLE targets(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " count INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE msgs(target INTEGER NOT NULL, id INTEGER NOT NULL,"
    " time_ms INTEGER NOT NULL, kind INTEGER NOT NULL, src TEXT NOT NULL,"
    " text TEXT NOT NULL, PRIMARY KEY(target, id)) WITHOUT ROWID;"
    "CREATE TABLE rooms(name TEXT PRIMARY KEY, shown TEXT NOT NULL,"
    " created INTEGER NOT NULL, modes INTEGER NOT NULL, key TEXT,"
    " lim INTEGER NOT NULL, topic TEXT, topic_by TEXT,"
    " topic_at INTEGER NOT NULL);"
    "CREATE TABLE bans(room TEXT NOT NULL, seq INTEGER NOT NULL,"
    " mask TEXT NOT NULL, setter TEXT NOT NULL, at INTEGER NOT NULL,"
    " PRIMARY KEY(room, seq)) WITHOUT ROWID;"
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER) WITHOUT ROWID;",
    /* 1 -> 2: server bans. */
    "CREATE TABLE sbans(seq INTEGER PRIMARY KEY,"
    " mask TEXT NOT NULL UNIQUE COLLATE NOCASE, reason TEXT NOT NULL,"
    " setter TEXT NOT NULL, set_at INTEGER NOT NULL,"
    " expires INTEGER NOT NULL);",
};

static const char *const store_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_INS_MSG] = "INSERT INTO msgs(target, id, time_ms, kind, src, text)"
                   " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_GET_TARGET] = "SELECT id, count FROM targets WHERE name = ?1",
    [ST_NEW_TARGET] = "INSERT INTO targets(name) VALUES(?1)",
    [ST_SET_COUNT] = "UPDATE targets SET count = ?2 WHERE id = ?1",
    [ST_SUB_COUNT] = "UPDATE targets SET count = max(count - ?2, 0)"
                     " WHERE id = ?1",
    [ST_TRIM] = "DELETE FROM msgs WHERE target = ?1 AND id IN"
                " (SELECT id FROM msgs WHERE target = ?1 ORDER BY id"
                " LIMIT ?2)",
    [ST_PRUNE_OLD] = "DELETE FROM msgs WHERE target = ?1 AND id IN"
                     " (SELECT id FROM msgs WHERE target = ?1 AND id < ?2"
                     " ORDER BY id LIMIT ?3)",
    [ST_NEXT_TARGET] = "SELECT id, name FROM targets WHERE id >= ?1"
                       " ORDER BY id LIMIT 1",
    [ST_ROOM_PUT] = "INSERT OR REPLACE INTO rooms(name, shown, created,"
                    " modes, key, lim, topic, topic_by, topic_at)"
                    " VALUES(lower(?2), ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_BANS_DEL] = "DELETE FROM bans WHERE room = lower(?1)",
    [ST_BAN_INS] = "INSERT INTO bans(room, seq, mask, setter, at)"
                   " VALUES(lower(?1), ?2, ?3, ?4, ?5)",
    [ST_HIST_ASC] = "SELECT id, time_ms, kind, src, text FROM msgs"
                    " WHERE target = ?1 AND id >= ?2 AND id < ?3 AND kind < 3"
                    " ORDER BY id LIMIT ?4",
    [ST_HIST_DESC] = "SELECT id, time_ms, kind, src, text FROM msgs"
                     " WHERE target = ?1 AND id >= ?2 AND id < ?3 AND kind < 3"
                     " ORDER BY id DESC LIMIT ?4",
    [ST_TIME_POS] = "SELECT id FROM msgs WHERE target = ?1 AND id >= ?2"
                    " AND time_ms >= ?3 AND kind < 3 ORDER BY id LIMIT 1",
    [ST_ROOM_GET] = "SELECT shown, created, modes, key, lim, topic, topic_by,"
                    " topic_at FROM rooms WHERE name = lower(?1)",
    [ST_ROOM_BANS] = "SELECT mask, setter, at FROM bans WHERE room = lower(?1)"
                     " ORDER BY seq",
    [ST_ROOM_LIST] = "SELECT name FROM rooms ORDER BY name LIMIT ?1",
    /* A replaced ban keeps its place (seq), as it does in memory. */
    [ST_SBAN_PUT] = "INSERT INTO sbans(mask, reason, setter, set_at, expires)"
                    " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(mask) DO UPDATE"
                    " SET reason = excluded.reason, setter = excluded.setter,"
                    " set_at = excluded.set_at, expires = excluded.expires",
    [ST_SBAN_DEL] = "DELETE FROM sbans WHERE mask = ?1",
    [ST_SBAN_LIST] = "SELECT mask, reason, setter, set_at, expires FROM sbans"
                     " ORDER BY seq",
    /* A person's mailboxes whose latest message is in a time range. */
    [ST_MAILBOXES] = "SELECT t.name, m.id, m.time_ms FROM targets t"
                     " JOIN msgs m ON m.target = t.id AND m.id = (SELECT id"
                     " FROM msgs WHERE target = t.id AND kind < 3"
                     " ORDER BY id DESC LIMIT 1)"
                     " WHERE t.name >= ?1 AND t.name < ?2"
                     " AND m.time_ms > ?3 AND m.time_ms < ?4"
                     " ORDER BY m.time_ms, m.id LIMIT ?5",
};

/* ------------------------------------------------------------------------
 * Opening
 * ------------------------------------------------------------------------ */

/* Maps an SQLite error to why opening failed. */
static enum store_open_error store_classify(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return STORE_OPEN_BUSY;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_FORMAT:
        return STORE_OPEN_CORRUPT;
    default:
        return STORE_OPEN_ACCESS;
    }
}

/* Writes the line that says what to do about an open error into err. */
static enum store_open_error store_explain(enum store_open_error e,
                                           const char *detail, char *err,
                                           size_t cap)
{
    static const char *const advice[] = {
        [STORE_OPEN_BUSY] = "stop the process that holds it, or point --db "
                            "at another file",
        [STORE_OPEN_ACCESS] = "check that the file and its directory exist "
                              "and are readable and writable by this user "
                              "(or pass --db none)",
        [STORE_OPEN_CORRUPT] = "it is not a parley database or it is "
                               "damaged: move it away, or restore a backup "
                               "(docs/storage.md)",
    };
    snprintf(err, cap, "cannot use database %s: %s; %s", store_open_cfg->path,
             detail, advice[e]);
    return e;
}

/*
 * Takes a lock on the file that only one parleyd at a time can hold. It
 * is flock(2), which SQLite does not use: sqlite3 can still read the
 * file (for a backup) while the server runs.
 */
static enum store_open_error store_lock(char *err, size_t cap)
{
    store_lock_fd =
        open(store_open_cfg->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (store_lock_fd < 0)
        return store_explain(STORE_OPEN_ACCESS, strerror(errno), err, cap);
    if (flock(store_lock_fd, LOCK_EX | LOCK_NB) == 0)
        return STORE_OPEN_OK;
    int e = errno;
    close(store_lock_fd);
    store_lock_fd = -1;
    if (e == EWOULDBLOCK)
        return store_explain(STORE_OPEN_BUSY, "another parleyd is using it",
                             err, cap);
    return store_explain(STORE_OPEN_ACCESS, strerror(e), err, cap);
}

/* Runs sql (several statements); on error fills err and returns why. */
static enum store_open_error store_exec(const char *sql, const char *what,
                                        char *err, size_t cap)
{
    int rc = sqlite3_exec(store_db, sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return STORE_OPEN_OK;
    char detail[256];
    snprintf(detail, sizeof detail, "%s: %s", what, sqlite3_errmsg(store_db));
    return store_explain(store_classify(rc), detail, err, cap);
}

/* Reads PRAGMA user_version into *v; returns why not on error. */
static enum store_open_error store_version(int *v, char *err, size_t cap)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(store_db, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *v = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_OK)
        return STORE_OPEN_OK;
    return store_explain(store_classify(rc), sqlite3_errmsg(store_db), err,
                         cap);
}

/* Brings the schema from its version to STORE_SCHEMA_VERSION. */
static enum store_open_error store_migrate(char *err, size_t cap)
{
    int v = 0;
    enum store_open_error e = store_version(&v, err, cap);
    if (e != STORE_OPEN_OK)
        return e;
    if (v > STORE_SCHEMA_VERSION) {
        char detail[96];
        snprintf(detail, sizeof detail,
                 "schema version %d is newer than this parleyd's (%d)", v,
                 STORE_SCHEMA_VERSION);
        return store_explain(STORE_OPEN_CORRUPT, detail, err, cap);
    }
    for (; v < STORE_SCHEMA_VERSION; v++) {
        char sql[4096];
        snprintf(sql, sizeof sql,
                 "BEGIN IMMEDIATE; %s PRAGMA user_version = %d; COMMIT;",
                 store_migrations[v], v + 1);
        e = store_exec(sql, "migrating the schema", err, cap);
        if (e != STORE_OPEN_OK) {
            sqlite3_exec(store_db, "ROLLBACK", NULL, NULL, NULL);
            return e;
        }
        log_info("event=store-migrate version=%d", v + 1);
    }
    return STORE_OPEN_OK;
}

/* Prepares every statement and reads the last id into *last. */
static enum store_open_error store_prepare(uint64_t *last, char *err,
                                           size_t cap)
{
    for (int k = 0; k < ST_COUNT; k++) {
        int rc =
            sqlite3_prepare_v3(store_db, store_sql[k], -1,
                               SQLITE_PREPARE_PERSISTENT, &store_st[k], NULL);
        if (rc != SQLITE_OK)
            return store_explain(store_classify(rc), sqlite3_errmsg(store_db),
                                 err, cap);
    }
    /* The highest id: one look at the end of each target's range. */
    sqlite3_stmt *st;
    sqlite3_prepare_v2(store_db,
                       "SELECT max((SELECT max(id) FROM msgs"
                       " WHERE target = t.id)) FROM targets t",
                       -1, &st, NULL);
    if (st && sqlite3_step(st) == SQLITE_ROW)
        *last = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return STORE_OPEN_OK;
}

/* Opens the connection, in WAL mode, and migrates; see store_open_db. */
static enum store_open_error store_connect(uint64_t *last, char *err,
                                           size_t cap)
{
    /* No global mutex around every allocation for memory statistics
     * nobody reads (perf: 2% of a busy room's time); before the first
     * connection only, a no-op after. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    int rc = sqlite3_open_v2(
        store_open_cfg->path, &store_db,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        return store_explain(
            store_classify(rc),
            store_db ? sqlite3_errmsg(store_db) : "out of memory", err, cap);
    /* At start, a lock someone holds briefly (a backup) is waited for. */
    sqlite3_busy_timeout(store_db, 2000);
    enum store_open_error e =
        store_exec("PRAGMA journal_mode = WAL", "setting WAL mode", err, cap);
    if (e == STORE_OPEN_OK)
        e = store_exec(store_open_cfg->sync_full
                           ? "PRAGMA synchronous = FULL"
                           : "PRAGMA synchronous = NORMAL",
                       "setting synchronous", err, cap);
    /* A page cache of 16 MiB: a busy room's pages stay in memory. */
    if (e == STORE_OPEN_OK)
        e = store_exec("PRAGMA cache_size = -16384", "setting the cache", err,
                       cap);
    if (e == STORE_OPEN_OK)
        e = store_migrate(err, cap);
    /* Reading and writing both work now, or the server does not start. */
    if (e == STORE_OPEN_OK)
        e = store_exec("BEGIN IMMEDIATE; SELECT count(*) FROM targets; "
                       "COMMIT",
                       "reading and writing", err, cap);
    if (e == STORE_OPEN_OK)
        e = store_prepare(last, err, cap);
    /* In the loop, a lock is never waited for: the commit is retried. */
    sqlite3_busy_timeout(store_db, 0);
    return e;
}

enum store_open_error store_open_db(const struct store_config *cfg,
                                    uint64_t *last, char *err, size_t cap)
{
    store_open_cfg = cfg;
    enum store_open_error e = store_lock(err, cap);
    if (e == STORE_OPEN_OK)
        e = store_connect(last, err, cap);
    store_open_cfg = NULL;
    return e;
}

void store_unlock(void)
{
    if (store_lock_fd >= 0)
        close(store_lock_fd);
    store_lock_fd = -1;
}
