/*
 * store: durable history in SQLite. Opening (lock, schema, migrations),
 * the batch, and its one commit per loop iteration; retention.
 *
 * The batch is a byte buffer of records (a message, a room's state),
 * appended as the core hands them over. Writing it is
 * two steps: store_write_pending inserts the records not yet inserted
 * into an open transaction (a history read does this first, so it sees
 * them), and store_commit commits that transaction. Only a successful
 * commit empties the batch: a failed one is rolled back and the whole
 * batch written again on the next try.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "lib/dict.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/tbuf.h"
#include "lib/xmalloc.h"
#include "store/store_int.h"

sqlite3 *store_db;
sqlite3_stmt *store_st[ST_COUNT];

/* A target's id and message count, cached from the targets table. */
struct store_target {
    int64_t id;
    int64_t count;
    bool dirty; /* count changed since the last commit: on store_dirty */
};

static struct store_config store_cfg;
static char *store_path;
static int store_lock_fd = -1;
static struct tbuf store_batch;   /* records */
static size_t store_written;      /* batch bytes in the open transaction */
static uint64_t store_batch_recs; /* records in the batch */
static bool store_in_txn;         /* a transaction is open */
static bool store_failing;        /* in a failing episode */
static uint64_t store_retry_at;   /* when a failing commit is tried again */
static uint64_t store_prune_at;   /* when the next retention step runs */
static int64_t store_prune_next;  /* the target retention visits next */
static uint64_t store_last;       /* highest id stored */
static struct store_target **store_dirty; /* counts to write at commit */
static size_t store_ndirty, store_capdirty;
static uint64_t store_episode_failures;
static struct store_stats store_stat;
static struct dict *store_targets; /* key -> struct store_target */

static void store_tick(void);
static void store_metrics(struct metrics_store *out);

/* How often retention runs, in milliseconds. */
#define STORE_PRUNE_MS 1000
/* Targets one retention step looks at, at most. */
#define STORE_PRUNE_TARGETS 64

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

sqlite3_stmt *store_stmt(enum store_stmt k)
{
    sqlite3_stmt *st = store_st[k];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* Runs one statement that returns no rows; returns its result code. */
static int store_run(enum store_stmt k)
{
    sqlite3_stmt *st = store_st[k];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

/* Returns the time on CLOCK_MONOTONIC in milliseconds. */
static uint64_t store_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

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
    snprintf(err, cap, "cannot use database %s: %s; %s", store_cfg.path, detail,
             advice[e]);
    return e;
}

/*
 * Takes a lock on the file that only one parleyd at a time can hold. It
 * is flock(2), which SQLite does not use: sqlite3 can still read the
 * file (for a backup) while the server runs.
 */
static enum store_open_error store_lock(char *err, size_t cap)
{
    store_lock_fd = open(store_cfg.path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
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

/* Prepares every statement and reads the last id. */
static enum store_open_error store_prepare(char *err, size_t cap)
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
        store_last = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return STORE_OPEN_OK;
}

/* Opens the connection, in WAL mode, and migrates; see store_open. */
static enum store_open_error store_connect(char *err, size_t cap)
{
    /* No global mutex around every allocation for memory statistics
     * nobody reads (perf: 2% of a busy room's time); before the first
     * connection only, a no-op after. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    int rc = sqlite3_open_v2(
        store_cfg.path, &store_db,
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
        e = store_exec(store_cfg.sync_full ? "PRAGMA synchronous = FULL"
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
        e = store_prepare(err, cap);
    /* In the loop, a lock is never waited for: the commit is retried. */
    sqlite3_busy_timeout(store_db, 0);
    return e;
}

enum store_open_error store_open(const struct store_config *cfg, char *err,
                                 size_t cap)
{
    store_cfg = *cfg;
    store_path = xstrndup(cfg->path, strlen(cfg->path));
    store_cfg.path = store_path;
    enum store_open_error e = store_lock(err, cap);
    if (e == STORE_OPEN_OK)
        e = store_connect(err, cap);
    if (e != STORE_OPEN_OK) {
        store_close();
        return e;
    }
    if (store_ckpt_start(store_path) < 0)
        log_warn("event=store-checkpointer error=start-failed "
                 "action=checkpoints-in-commits");
    store_targets = dict_new();
    store_prune_at = store_now() + STORE_PRUNE_MS;
    metrics_set_store(store_metrics);
    log_info("event=store-open path=%s sync=%s last_id=%llu",
             log_q(store_path, strlen(store_path)),
             cfg->sync_full ? "full" : "normal",
             (unsigned long long)store_last);
    return STORE_OPEN_OK;
}

/* dict_foreach helper: frees one cached target. */
static void store_free_target(void *value, void *arg)
{
    (void)arg;
    free(value);
}

void store_close(void)
{
    if (store_db && store_batch.n > 0 && store_commit() < 0)
        log_error("event=store-close lost=%zu reason=commit-failed",
                  store_batch.n);
    if (store_db)
        store_tick(); /* the counts */
    store_ckpt_stop_thread();
    metrics_set_store(NULL);
    for (int k = 0; k < ST_COUNT; k++) {
        sqlite3_finalize(store_st[k]);
        store_st[k] = NULL;
    }
    if (store_db)
        sqlite3_close(store_db);
    store_db = NULL;
    if (store_lock_fd >= 0)
        close(store_lock_fd); /* after SQLite closed: see store_lock */
    store_lock_fd = -1;
    if (store_targets) {
        dict_foreach(store_targets, store_free_target, NULL);
        dict_free(store_targets);
    }
    store_targets = NULL;
    free(store_batch.p);
    memset(&store_batch, 0, sizeof store_batch);
    store_written = 0;
    store_batch_recs = 0;
    store_in_txn = store_failing = false;
    free(store_path);
    store_path = NULL;
    store_last = 0;
    free(store_dirty);
    store_dirty = NULL;
    store_ndirty = store_capdirty = 0;
    memset(&store_stat, 0, sizeof store_stat);
}

bool store_on(void)
{
    return store_db != NULL;
}

uint64_t store_last_id(void)
{
    return store_last;
}

void store_get_stats(struct store_stats *out)
{
    *out = store_stat;
    out->pending = store_batch.n;
}

/* The metrics module's reader of the store's counters. */
static void store_metrics(struct metrics_store *out)
{
    *out = (struct metrics_store){store_stat.commits, store_stat.rows,
                                  store_stat.failures, store_stat.lost};
}

/* ------------------------------------------------------------------------
 * Keys
 * ------------------------------------------------------------------------ */

/* Appends len bytes of s in lower case to out at *n, if they fit. */
static bool store_put_lower(char *out, size_t *n, const char *s, size_t len)
{
    if (*n + len >= STORE_TARGET_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        out[(*n)++] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
    }
    out[*n] = '\0';
    return true;
}

size_t store_room_target(const char *name, size_t len, char *out)
{
    size_t n = 1;
    out[0] = '#';
    return store_put_lower(out, &n, name, len) ? n : 0;
}

size_t store_mailbox(const char *owner, size_t olen, const char *host,
                     const char *peer, size_t plen, char *out)
{
    size_t n = 1;
    out[0] = '~';
    bool ok = store_put_lower(out, &n, owner, olen) &&
              store_put_lower(out, &n, "@", 1) &&
              store_put_lower(out, &n, host, strlen(host)) &&
              store_put_lower(out, &n, " ", 1) &&
              store_put_lower(out, &n, peer, plen);
    return ok ? n : 0;
}

/* ------------------------------------------------------------------------
 * The batch
 * ------------------------------------------------------------------------ */

struct store_rec *store_rec_new(enum store_rec_type type, size_t data)
{
    size_t size = (sizeof(struct store_rec) + data + 7) & ~(size_t)7;
    struct store_rec *r = (struct store_rec *)tbuf_reserve(&store_batch, size);
    memset(r, 0, sizeof *r);
    r->size = (uint32_t)size;
    r->type = (uint8_t)type;
    store_batch.n += size;
    store_batch_recs++;
    return r;
}

/* Gives up the oldest records while the batch is over its bound. */
static void store_bound_backlog(void)
{
    if (store_batch.n <= STORE_BACKLOG_MAX)
        return;
    size_t cut = 0;
    while (cut < store_batch.n / 2) {
        const struct store_rec *r =
            (const struct store_rec *)(store_batch.p + cut);
        store_stat.lost += r->type == REC_MSG;
        store_batch_recs--;
        cut += r->size;
    }
    memmove(store_batch.p, store_batch.p + cut, store_batch.n - cut);
    store_batch.n -= cut;
}

void store_append(const char *target, size_t tlen, const struct store_msg *m)
{
    if (store_db == NULL || tlen == 0 || tlen >= STORE_TARGET_MAX)
        return;
    struct store_rec *r =
        store_rec_new(REC_MSG, tlen + m->src_len + m->text_len);
    r->kind = (uint8_t)m->kind;
    r->tlen = (uint16_t)tlen;
    r->src_len = (uint32_t)m->src_len;
    r->text_len = (uint32_t)m->text_len;
    r->id = m->id;
    r->time_ms = m->time_ms;
    memcpy(r->data, target, tlen);
    if (m->src_len)
        memcpy(r->data + tlen, m->src, m->src_len);
    if (m->text_len) /* a cleared topic may have no text at all */
        memcpy(r->data + tlen + m->src_len, m->text, m->text_len);
    if (m->id > store_last)
        store_last = m->id;
    if (store_failing)
        store_bound_backlog();
}

void store_put_field(struct tbuf *b, const char *s, size_t len)
{
    uint32_t n = s ? (uint32_t)len : UINT32_MAX;
    tbuf_put(b, (const char *)&n, sizeof n);
    if (s)
        tbuf_put(b, s, len);
}

const char *store_get_field(const char **p, size_t *len)
{
    uint32_t n;
    memcpy(&n, *p, sizeof n);
    *p += sizeof n;
    if (n == UINT32_MAX) {
        *len = 0;
        return NULL;
    }
    const char *s = *p;
    *p += n;
    *len = n;
    return s;
}

void store_room_put(const struct store_room *room)
{
    if (store_db == NULL)
        return;
    struct tbuf f = {0};
    tbuf_put(&f, (const char *)&room->topic_at, sizeof room->topic_at);
    store_put_field(&f, room->name, room->name_len);
    store_put_field(&f, room->key, room->key ? strlen(room->key) : 0);
    store_put_field(&f, room->topic, room->topic_len);
    store_put_field(&f, room->topic_by,
                    room->topic_by ? strlen(room->topic_by) : 0);
    for (size_t i = 0; i < room->nbans; i++) {
        const struct store_ban *b = &room->bans[i];
        store_put_field(&f, b->mask, strlen(b->mask));
        store_put_field(&f, b->setter, strlen(b->setter));
        tbuf_put(&f, (const char *)&b->when, sizeof b->when);
    }
    struct store_rec *r = store_rec_new(REC_ROOM, f.n);
    r->src_len = (uint32_t)room->nbans;
    r->text_len = (uint32_t)f.n;
    r->id = ((uint64_t)room->modes << 32) | (uint32_t)room->limit;
    r->time_ms = room->created;
    memcpy(r->data, f.p, f.n);
    free(f.p);
}

/* ------------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------------ */

/* Returns target's cache entry, reading or creating its row; NULL on error. */
static struct store_target *store_target(const char *target, size_t tlen,
                                         bool create)
{
    struct store_target *t = dict_get(store_targets, target, tlen);
    if (t)
        return t;
    sqlite3_stmt *st = store_stmt(ST_GET_TARGET);
    sqlite3_bind_text(st, 1, target, (int)tlen, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t id = 0, count = 0;
    if (rc == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        count = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return NULL;
    if (rc == SQLITE_DONE) {
        if (!create)
            return NULL;
        st = store_stmt(ST_NEW_TARGET);
        sqlite3_bind_text(st, 1, target, (int)tlen, SQLITE_STATIC);
        if (store_run(ST_NEW_TARGET) != SQLITE_DONE)
            return NULL;
        id = sqlite3_last_insert_rowid(store_db);
    }
    t = xcalloc(1, sizeof *t);
    t->id = id;
    t->count = count;
    dict_set(store_targets, target, tlen, t);
    return t;
}

int64_t store_target_id(const char *target, size_t tlen, bool create)
{
    if (!create && dict_get(store_targets, target, tlen) == NULL) {
        /* Not cached: a read does not fill the cache with strangers. */
        sqlite3_stmt *st = store_stmt(ST_GET_TARGET);
        sqlite3_bind_text(st, 1, target, (int)tlen, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
        return rc == SQLITE_ROW || rc == SQLITE_DONE ? id : -1;
    }
    struct store_target *t = store_target(target, tlen, create);
    return t ? t->id : -1;
}

/*
 * Deletes the oldest messages of t beyond history_max, up to
 * STORE_PRUNE_CHUNK more than were just added (so it catches up with a
 * lowered limit without one long delete). Returns an SQLite result code.
 */
static int store_trim(struct store_target *t)
{
    int64_t over = t->count - (int64_t)store_cfg.history_max;
    if (store_cfg.history_max == 0 || over <= 0)
        return SQLITE_DONE;
    sqlite3_stmt *st = store_stmt(ST_TRIM);
    sqlite3_bind_int64(st, 1, t->id);
    sqlite3_bind_int64(
        st, 2, over < STORE_PRUNE_CHUNK * 2 ? over : STORE_PRUNE_CHUNK * 2);
    int rc = store_run(ST_TRIM);
    if (rc == SQLITE_DONE) {
        int n = sqlite3_changes(store_db);
        t->count -= n;
        store_stat.pruned += (uint64_t)n;
    }
    return rc;
}

/* Inserts one message record; returns an SQLite result code. */
static int store_write_msg(const struct store_rec *r)
{
    struct store_target *t = store_target(r->data, r->tlen, true);
    if (t == NULL)
        return sqlite3_errcode(store_db);
    sqlite3_stmt *st = store_stmt(ST_INS_MSG);
    sqlite3_bind_int64(st, 1, t->id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)r->id);
    sqlite3_bind_int64(st, 3, r->time_ms);
    sqlite3_bind_int(st, 4, r->kind);
    sqlite3_bind_text(st, 5, r->data + r->tlen, (int)r->src_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->data + r->tlen + r->src_len, (int)r->text_len,
                      SQLITE_STATIC);
    int rc = store_run(ST_INS_MSG);
    if (rc != SQLITE_DONE)
        return rc;
    t->count++;
    if (!t->dirty) {
        if (store_ndirty == store_capdirty) {
            store_capdirty = store_capdirty ? store_capdirty * 2 : 16;
            store_dirty =
                xreallocarray(store_dirty, store_capdirty, sizeof *store_dirty);
        }
        store_dirty[store_ndirty++] = t;
        t->dirty = true;
    }
    return store_trim(t);
}

/* Writes the counts of the targets written to since the last commit. */
static int store_write_counts(void)
{
    int rc = SQLITE_DONE;
    for (size_t i = 0; i < store_ndirty && rc == SQLITE_DONE; i++) {
        struct store_target *t = store_dirty[i];
        sqlite3_stmt *st = store_stmt(ST_SET_COUNT);
        sqlite3_bind_int64(st, 1, t->id);
        sqlite3_bind_int64(st, 2, t->count);
        rc = store_run(ST_SET_COUNT);
        t->dirty = false;
    }
    store_ndirty = 0;
    return rc;
}

/* Writes one room record: the row, then its bans. */
static int store_write_room(const struct store_rec *r)
{
    const char *p = r->data;
    int64_t topic_at;
    memcpy(&topic_at, p, sizeof topic_at);
    p += sizeof topic_at;
    size_t nlen, klen, tlen, blen;
    const char *name = store_get_field(&p, &nlen);
    const char *key = store_get_field(&p, &klen);
    const char *topic = store_get_field(&p, &tlen);
    const char *by = store_get_field(&p, &blen);
    sqlite3_stmt *st = store_stmt(ST_ROOM_PUT);
    sqlite3_bind_text(st, 2, name, (int)nlen, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, r->time_ms);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)(r->id >> 32));
    if (key)
        sqlite3_bind_text(st, 5, key, (int)klen, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)(r->id & 0xffffffffu));
    if (topic)
        sqlite3_bind_text(st, 7, topic, (int)tlen, SQLITE_STATIC);
    if (by)
        sqlite3_bind_text(st, 8, by, (int)blen, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, topic_at);
    int rc = store_run(ST_ROOM_PUT);
    st = store_stmt(ST_BANS_DEL);
    sqlite3_bind_text(st, 1, name, (int)nlen, SQLITE_STATIC);
    if (rc == SQLITE_DONE)
        rc = store_run(ST_BANS_DEL);
    for (uint32_t i = 0; i < r->src_len && rc == SQLITE_DONE; i++) {
        size_t mlen, slen;
        const char *mask = store_get_field(&p, &mlen);
        const char *setter = store_get_field(&p, &slen);
        int64_t when;
        memcpy(&when, p, sizeof when);
        p += sizeof when;
        st = store_stmt(ST_BAN_INS);
        sqlite3_bind_text(st, 1, name, (int)nlen, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, i);
        sqlite3_bind_text(st, 3, mask, (int)mlen, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, setter, (int)slen, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, when);
        rc = store_run(ST_BAN_INS);
    }
    return rc;
}

/* Writes one record of the batch; returns an SQLite result code. */
static int store_write_rec(const struct store_rec *r)
{
    switch (r->type) {
    case REC_MSG:
        return store_write_msg(r);
    case REC_ROOM:
        return store_write_room(r);
    default:
        return store_write_sban(r);
    }
}

/* Forgets the cached targets: after a rollback their counts are off. */
static void store_forget_targets(void)
{
    store_ndirty = 0;
    dict_foreach(store_targets, store_free_target, NULL);
    dict_free(store_targets);
    store_targets = dict_new();
}

/*
 * A write or commit failed with rc: rolls back, so the whole batch is
 * written again on the next try; starts (and logs) a failing episode, or
 * counts one more failure of the current one. Returns -1.
 */
static int store_fail(int rc)
{
    if (!sqlite3_get_autocommit(store_db))
        store_run(ST_ROLLBACK);
    store_in_txn = false;
    store_written = 0;
    store_forget_targets();
    store_stat.failures++;
    store_episode_failures++;
    store_retry_at = store_now() + STORE_RETRY_MS;
    if (!store_failing) {
        store_failing = true;
        store_episode_failures = 1;
        log_error("event=store-error error=%s code=%d pending=%zu "
                  "action=retrying",
                  log_q(sqlite3_errstr(rc), strlen(sqlite3_errstr(rc))), rc,
                  store_batch.n);
    }
    store_bound_backlog();
    return -1;
}

int store_write_pending(void)
{
    if (store_db == NULL || store_written == store_batch.n)
        return 0;
    if (store_failing && store_now() < store_retry_at)
        return -1;
    if (!store_in_txn) {
        int rc = store_run(ST_BEGIN);
        if (rc != SQLITE_DONE)
            return store_fail(rc);
        store_in_txn = true;
    }
    while (store_written < store_batch.n) {
        const struct store_rec *r =
            (const struct store_rec *)(store_batch.p + store_written);
        int rc = store_write_rec(r);
        if (rc != SQLITE_DONE)
            return store_fail(rc);
        store_written += r->size;
    }
    return 0;
}

/* A failing episode is over: says so, with what it cost. */
static void store_recovered(void)
{
    store_failing = false;
    log_warn("event=store-recovered failures=%llu lost=%llu",
             (unsigned long long)store_episode_failures,
             (unsigned long long)store_stat.lost);
}

/*
 * Deletes messages older than history_days from up to STORE_PRUNE_TARGETS
 * targets, STORE_PRUNE_CHUNK rows in all at most, going round the targets
 * from where the last step stopped, inside the caller's transaction. A
 * message's id is at least its time in milliseconds times 1000 (the core
 * makes it so), so "id below the cut-off's" finds old ones by the primary
 * key. Returns how many it deleted.
 */
static int64_t store_prune_old(void)
{
    int64_t cutoff_ms =
        (int64_t)time(NULL) * 1000 - (int64_t)store_cfg.history_days * 86400000;
    int64_t deleted = 0;
    for (int i = 0; i < STORE_PRUNE_TARGETS && deleted < STORE_PRUNE_CHUNK;
         i++) {
        sqlite3_stmt *st = store_stmt(ST_NEXT_TARGET);
        sqlite3_bind_int64(st, 1, store_prune_next);
        if (sqlite3_step(st) != SQLITE_ROW) {
            store_prune_next = 0; /* round again next time */
            break;
        }
        int64_t id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        store_prune_next = id + 1;
        st = store_stmt(ST_PRUNE_OLD);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, cutoff_ms * 1000);
        sqlite3_bind_int64(st, 3, STORE_PRUNE_CHUNK - deleted);
        if (store_run(ST_PRUNE_OLD) != SQLITE_DONE)
            break;
        int n = sqlite3_changes(store_db);
        if (n > 0) {
            deleted += n;
            st = store_stmt(ST_SUB_COUNT);
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_int64(st, 2, n);
            store_run(ST_SUB_COUNT);
        }
    }
    return deleted;
}

/*
 * Once a second, in a transaction of its own: writes the message counts
 * of the targets written to since (kept in memory until then, so that a
 * commit touches no page but the messages'), and runs one retention step.
 * After a crash a count may be short by up to a second of messages: that
 * room then keeps as many more than --history-max.
 */
static void store_tick(void)
{
    if (store_in_txn || store_failing ||
        (store_ndirty == 0 && store_cfg.history_days == 0))
        return;
    if (store_run(ST_BEGIN) != SQLITE_DONE)
        return;
    int rc = store_write_counts();
    int64_t deleted = 0;
    if (rc == SQLITE_DONE && store_cfg.history_days > 0)
        deleted = store_prune_old();
    if (rc != SQLITE_DONE || store_run(ST_COMMIT) != SQLITE_DONE) {
        store_run(ST_ROLLBACK);
        store_forget_targets();
        return;
    }
    store_stat.pruned += (uint64_t)deleted;
    if (deleted > 0)
        store_forget_targets(); /* their counts changed on disk */
}

int store_commit(void)
{
    if (store_db == NULL)
        return 0;
    uint64_t now = 0;
    if (store_written < store_batch.n || store_in_txn) {
        if (store_write_pending() < 0)
            return -1;
        int rc = store_run(ST_COMMIT);
        if (rc != SQLITE_DONE)
            return store_fail(rc);
        store_in_txn = false;
        store_written = store_batch.n = 0;
        store_stat.commits++;
        store_stat.rows += store_batch_recs;
        store_batch_recs = 0;
        if (store_failing)
            store_recovered();
    }
    now = store_now();
    if (now >= store_prune_at) {
        store_prune_at = now + STORE_PRUNE_MS;
        store_tick();
    }
    return 0;
}
