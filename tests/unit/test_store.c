/*
 * Unit tests for the store (src/store/), against a real SQLite file in a
 * temporary directory: the schema and its version, messages kept across a
 * close and reopen, reads that see the uncommitted batch, every history
 * direction by id and by time, per-target limits, rooms and their bans,
 * mailbox keys and the conversations of a mailbox owner, server bans and
 * the migration that brought them, and the errors at open (a lock held, a file that is not a
 * database, one from a newer schema).
 */
#include "store/store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/room.h"
#include "unit.h"

static char dir[64], path[96];

/* Removes the test's directory and what is in it (at exit). */
static void remove_dir(void)
{
    static const char *const ends[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s%s", path, ends[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* Makes a fresh directory and opens a store in it with these limits. */
static void open_store(size_t max)
{
    snprintf(dir, sizeof dir, "/tmp/parley-ut-XXXXXX");
    REQUIRE(mkdtemp(dir) != NULL);
    atexit(remove_dir);
    snprintf(path, sizeof path, "%s/t.db", dir);
    struct store_config cfg = {.path = path, .history_max = max};
    char err[256];
    REQUIRE(store_open(&cfg, err, sizeof err) == STORE_OPEN_OK);
}

/* Opens the store at path again (after store_close). */
static enum store_open_error reopen(char *err, size_t cap)
{
    struct store_config cfg = {.path = path};
    return store_open(&cfg, err, cap);
}

/* Appends a message of #dev with id and time, text "m<id>". */
static void put(uint64_t id, int64_t ms)
{
    char text[32];
    int n = snprintf(text, sizeof text, "m%llu", (unsigned long long)id);
    struct store_msg m = {id, ms, ROOM_MSG_SAY, "a!~a@h", 6, text, (size_t)n};
    store_append("#dev", 4, &m);
}

/* What a query returned, as "10 20 30". */
struct got {
    char s[512];
    size_t n;
};

static void collect(const struct room_msg *m, void *arg)
{
    struct got *g = arg;
    size_t len = strlen(g->s);
    snprintf(g->s + len, sizeof g->s - len, "%s%llu", len ? " " : "",
             (unsigned long long)m->id);
    g->n++;
}

static struct chat_hist_ref id(uint64_t v)
{
    return (struct chat_hist_ref){.kind = CHAT_REF_ID, .id = v};
}

static struct chat_hist_ref at(int64_t ms)
{
    return (struct chat_hist_ref){.kind = CHAT_REF_TIME, .time_ms = ms};
}

static const char *q(enum chat_hist_dir d, struct chat_hist_ref a,
                     struct chat_hist_ref b, size_t limit)
{
    static struct got g;
    memset(&g, 0, sizeof g);
    store_history("#dev", 4, d, &a, &b, limit, collect, &g);
    return g.s;
}

/* Ten messages: ids 10000 ... 100000 at times 10 ... 100 ms. */
static void ten(void)
{
    for (uint64_t i = 1; i <= 10; i++)
        put(i * 10000, (int64_t)i * 10);
}

TEST(schema_is_versioned_and_kept_across_reopen)
{
    open_store(0);
    ten();
    CHECK_EQ(store_commit(), 0);
    CHECK_EQ(store_last_id(), 100000);
    store_close();
    char err[256];
    CHECK_EQ(reopen(err, sizeof err), STORE_OPEN_OK);
    CHECK_EQ(store_last_id(), 100000);
    CHECK_STR(q(CHAT_HIST_LATEST, (struct chat_hist_ref){0},
                (struct chat_hist_ref){0}, 3),
              "80000 90000 100000");
    store_close();
    sqlite3 *db;
    REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK_EQ(sqlite3_column_int(st, 0), STORE_SCHEMA_VERSION);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

TEST(reads_see_the_batch_before_it_is_committed)
{
    open_store(0);
    put(5000, 5);
    CHECK_STR(q(CHAT_HIST_LATEST, (struct chat_hist_ref){0},
                (struct chat_hist_ref){0}, 10),
              "5000");
    CHECK_EQ(store_commit(), 0);
    store_close();
}

TEST(directions_by_id)
{
    open_store(0);
    ten();
    struct chat_hist_ref none = {0};
    CHECK_STR(q(CHAT_HIST_BEFORE, id(50000), none, 2), "30000 40000");
    CHECK_STR(q(CHAT_HIST_AFTER, id(50000), none, 2), "60000 70000");
    CHECK_STR(q(CHAT_HIST_LATEST, id(80000), none, 10), "90000 100000");
    CHECK_STR(q(CHAT_HIST_AROUND, id(50000), none, 4),
              "30000 40000 50000 60000");
    CHECK_STR(q(CHAT_HIST_AROUND, id(10000), none, 4),
              "10000 20000 30000 40000");
    CHECK_STR(q(CHAT_HIST_BETWEEN, id(20000), id(60000), 10),
              "30000 40000 50000");
    CHECK_STR(q(CHAT_HIST_BETWEEN, id(60000), id(20000), 2), "40000 50000");
    /* An id that was never a message still has its place. */
    CHECK_STR(q(CHAT_HIST_BEFORE, id(35000), none, 1), "30000");
    store_close();
}

TEST(directions_by_time)
{
    open_store(0);
    ten();
    struct chat_hist_ref none = {0};
    CHECK_STR(q(CHAT_HIST_BEFORE, at(50), none, 2), "30000 40000");
    CHECK_STR(q(CHAT_HIST_AFTER, at(50), none, 2), "60000 70000");
    CHECK_STR(q(CHAT_HIST_AFTER, at(45), none, 1), "50000");
    CHECK_STR(q(CHAT_HIST_BETWEEN, at(20), at(60), 10), "30000 40000 50000");
    CHECK_STR(q(CHAT_HIST_BEFORE, at(5), none, 2), "");
    store_close();
}

TEST(history_max_keeps_the_newest)
{
    open_store(4);
    ten();
    CHECK_EQ(store_commit(), 0);
    CHECK_STR(q(CHAT_HIST_LATEST, (struct chat_hist_ref){0},
                (struct chat_hist_ref){0}, 100),
              "70000 80000 90000 100000");
    struct store_stats s;
    store_get_stats(&s);
    CHECK_EQ(s.pruned, 6);
    store_close();
}

TEST(topics_are_kept_but_not_history)
{
    open_store(0);
    struct store_msg m = {7000, 7, ROOM_MSG_TOPIC, "a!~a@h", 6, "t", 1};
    store_append("#dev", 4, &m);
    put(8000, 8);
    CHECK_STR(q(CHAT_HIST_LATEST, (struct chat_hist_ref){0},
                (struct chat_hist_ref){0}, 10),
              "8000");
    store_close();
}

/* store_room_get callback: copies what it needs to check. */
static void room_seen(const struct store_room *r, void *arg)
{
    char *out = arg;
    snprintf(out, 256, "%.*s modes=%u key=%s limit=%zu topic=%.*s by=%s bans=%zu %s %s",
             (int)r->name_len, r->name, r->modes, r->key ? r->key : "-",
             r->limit, (int)r->topic_len, r->topic ? r->topic : "",
             r->topic_by ? r->topic_by : "-", r->nbans,
             r->nbans ? r->bans[0].mask : "-",
             r->nbans > 1 ? r->bans[1].setter : "-");
}

TEST(rooms_and_bans_round_trip)
{
    open_store(0);
    struct store_ban bans[2] = {{"*!*@evil", "op!~o@h", 100},
                                {"bob!*@*", "op2!~o@h", 200}};
    struct store_room r = {
        .name = "Dev", .name_len = 3, .created = 1, .modes = 0x14,
        .key = "sesame", .limit = 9, .topic = "hi", .topic_len = 2,
        .topic_by = "op!~o@h", .topic_at = 5, .bans = bans, .nbans = 2,
    };
    store_room_put(&r);
    CHECK_EQ(store_commit(), 0);
    store_close();
    char err[256], seen[256] = "";
    CHECK_EQ(reopen(err, sizeof err), STORE_OPEN_OK);
    CHECK_EQ(store_room_get("dEV", 3, room_seen, seen), 1);
    CHECK_STR(seen, "Dev modes=20 key=sesame limit=9 topic=hi by=op!~o@h "
                    "bans=2 *!*@evil op2!~o@h");
    CHECK_EQ(store_room_get("nope", 4, room_seen, seen), 0);
    store_close();
}

TEST(mailbox_keys)
{
    char key[STORE_TARGET_MAX];
    size_t n = store_mailbox("Alice", 5, "127.0.0.1", "BOB", 3, key);
    CHECK_MEM(key, n, "~alice@127.0.0.1 bob");
    n = store_room_target("Dev", 3, key);
    CHECK_MEM(key, n, "#dev");
}

TEST(a_held_lock_is_busy)
{
    open_store(0);
    store_close();
    int fd = open(path, O_RDWR);
    REQUIRE(fd >= 0);
    REQUIRE(flock(fd, LOCK_EX | LOCK_NB) == 0);
    char err[256];
    CHECK_EQ(reopen(err, sizeof err), STORE_OPEN_BUSY);
    CHECK(strstr(err, "another parleyd") != NULL);
    CHECK(!store_on());
    close(fd);
    CHECK_EQ(reopen(err, sizeof err), STORE_OPEN_OK);
    store_close();
}

TEST(a_file_that_is_no_database_is_corrupt)
{
    open_store(0);
    store_close();
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    for (int i = 0; i < 512; i++)
        fputs("not a database ", f);
    fclose(f);
    unlink(strcat(strcpy((char[128]){0}, path), "-wal"));
    char err[256];
    CHECK_EQ(reopen(err, sizeof err), STORE_OPEN_CORRUPT);
    CHECK(strstr(err, "move it away") != NULL);
}

TEST(a_newer_schema_is_refused)
{
    open_store(0);
    store_close();
    sqlite3 *db;
    REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
    sqlite3_close(db);
    char err[256];
    CHECK_EQ(reopen(err, sizeof err), STORE_OPEN_CORRUPT);
    CHECK(strstr(err, "newer") != NULL);
}

/* store_sban_each callback: appends "mask:reason:setter:set_at:expires". */
static void sban_seen(const struct store_sban *b, void *arg)
{
    char *out = arg;
    size_t len = strlen(out);
    snprintf(out + len, 256 - len, "%s%s:%s:%s:%lld:%lld", len ? " " : "",
             b->mask, b->reason, b->setter, (long long)b->set_at,
             (long long)b->expires);
}

TEST(server_bans_round_trip_in_order)
{
    open_store(0);
    store_sban_put(&(struct store_sban){"10.0.0.0/8", "spam", "boss", 5, 0});
    store_sban_put(&(struct store_sban){"*!*@x", "old", "boss", 6, 99});
    store_sban_put(&(struct store_sban){"10.0.0.0/8", "spam!", "ops", 7, 9});
    store_sban_put(&(struct store_sban){"1.2.3.4", "gone", "boss", 8, 0});
    store_sban_del("1.2.3.4");
    char got[256] = "";
    CHECK_EQ(store_sban_each(sban_seen, got), 2); /* sees the batch */
    CHECK_STR(got, "10.0.0.0/8:spam!:ops:7:9 *!*@x:old:boss:6:99");
    CHECK_EQ(store_commit(), 0);
    struct store_stats st;
    store_get_stats(&st);
    CHECK_EQ(st.rows, 5);
    store_close();
    char err[256];
    CHECK_EQ(reopen(err, sizeof err), STORE_OPEN_OK);
    got[0] = '\0';
    CHECK_EQ(store_sban_each(sban_seen, got), 2);
    CHECK_STR(got, "10.0.0.0/8:spam!:ops:7:9 *!*@x:old:boss:6:99");
    store_close();
}

TEST(a_version_1_database_gains_server_bans)
{
    open_store(0);
    store_close();
    sqlite3 *db;
    REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "DROP TABLE sbans; PRAGMA user_version = 1", NULL,
                       NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    char err[256];
    CHECK_EQ(reopen(err, sizeof err), STORE_OPEN_OK);
    char got[256] = "";
    CHECK_EQ(store_sban_each(sban_seen, got), 0);
    store_sban_put(&(struct store_sban){"1.2.3.4", "r", "boss", 1, 0});
    CHECK_EQ(store_commit(), 0);
    CHECK_EQ(store_sban_each(sban_seen, got), 1);
    store_close();
}

/* store_mailboxes callback: appends "peer@time". */
static void peer_seen(const char *peer, size_t len, uint64_t id_,
                      int64_t time_ms, void *arg)
{
    (void)id_;
    char *out = arg;
    size_t n = strlen(out);
    snprintf(out + n, 256 - n, "%s%.*s@%lld", n ? " " : "", (int)len, peer,
             (long long)time_ms);
}

TEST(mailboxes_by_their_latest_message)
{
    open_store(0);
    static const struct {
        const char *box;
        uint64_t id;
    } msgs[] = {{"~alice@h carol", 1}, {"~alice@h bob", 2},
                {"~alice@h carol", 3}, {"~bob@h alice", 4},
                {"~alice@hx dave", 5}, {"~alice@h bob", 6}};
    for (size_t i = 0; i < sizeof msgs / sizeof *msgs; i++) {
        struct store_msg m = {msgs[i].id, (int64_t)msgs[i].id * 10,
                              ROOM_MSG_SAY, "a!~a@h", 6, "x", 1};
        store_append(msgs[i].box, strlen(msgs[i].box), &m);
    }
    char got[256] = "";
    CHECK_EQ(store_mailboxes("~alice@h ", 9, 0, 1000, 10, peer_seen, got), 2);
    CHECK_STR(got, "carol@30 bob@60");
    got[0] = '\0';
    CHECK_EQ(store_mailboxes("~alice@h ", 9, 30, 1000, 10, peer_seen, got), 1);
    CHECK_STR(got, "bob@60");
    got[0] = '\0';
    CHECK_EQ(store_mailboxes("~alice@h ", 9, 0, 1000, 1, peer_seen, got), 1);
    CHECK_STR(got, "carol@30");
    store_close();
}

UNIT_MAIN()
