/*
 * sqlite_cost: what one message costs SQLite alone, with parley's schema
 * and settings (WAL, synchronous=NORMAL, the msgs table WITHOUT ROWID),
 * outside the server: the floor under the store's share of a delivery.
 *
 *     cc -O2 -o build/sqlite-cost bench/sqlite_cost.c -lsqlite3
 *     build/sqlite-cost [DIR [PAGE_SIZE [ROOMS [FRAMES]]]]
 *
 * (a fresh file in DIR, default /tmp; pages of PAGE_SIZE, default 4096;
 * messages spread over ROOMS rooms, default 100: 1 is the busy room; a
 * checkpoint each FRAMES WAL frames, default 1000 as parleyd).
 *
 * Prints the CPU time (this thread's, so other load on the machine does
 * not count) per message for commits of 1, 2, 4, ... 256 messages, each
 * message into one of the rooms in turn (as bench/store.py's), with
 * one prepared INSERT per message: insert and commit together, and the
 * checkpoints that copy them from the WAL into the file (PASSIVE, each
 * time the WAL passes 1000 frames, as parleyd's checkpoint thread does).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Returns this thread's CPU time in nanoseconds. */
static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* WAL frames after which parleyd's checkpoint thread runs (store_ckpt.c,
 * STORE_CKPT_FRAMES); the fourth argument sets another. */
static int ckpt_frames = 1000;

static int wal_frames; /* as the last commit left them */

static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)arg;
    (void)db;
    (void)name;
    wal_frames = frames;
    return SQLITE_OK;
}

static void run(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "sqlite-cost: %s: %s\n", sql, err);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    char path[512];
    snprintf(path, sizeof path, "%s/sqlite-cost-%d.db",
             argc > 1 ? argv[1] : "/tmp", (int)getpid());
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return 1;
    /* As in parleyd, checkpoints are not run inside commits (its
     * checkpoint thread runs them): they are timed apart. */
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA page_size = %d",
             argc > 2 ? atoi(argv[2]) : 4096);
    run(db, pragma);
    run(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
            "PRAGMA cache_size = -16384; PRAGMA wal_autocheckpoint = 0;"
            "CREATE TABLE msgs(target INTEGER NOT NULL, id INTEGER NOT NULL,"
            " time_ms INTEGER NOT NULL, kind INTEGER NOT NULL,"
            " src TEXT NOT NULL, text TEXT NOT NULL,"
            " PRIMARY KEY(target, id)) WITHOUT ROWID");
    sqlite3_wal_hook(db, wal_hook, NULL);
    sqlite3_stmt *ins, *begin, *commit;
    sqlite3_prepare_v2(db,
                       "INSERT INTO msgs(target, id, time_ms, kind, src, text)"
                       " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                       -1, &ins, NULL);
    sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL);
    sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL);
    const char *src = "sender042!~bench@127.0.0.1";
    const char *text = "a typical chat line of about sixty bytes, said in a room";
    int rooms = argc > 3 ? atoi(argv[3]) : 100;
    if (argc > 4)
        ckpt_frames = atoi(argv[4]);
    long long id = 1;
    printf("rows/commit  cpu us per message: insert + commit, checkpoint\n");
    for (int per = 1; per <= 256; per *= 2) {
        int total = 20000;
        double t0 = cpu_ns(), ckpt = 0;
        for (int done = 0; done < total; done += per) {
            sqlite3_step(begin);
            sqlite3_reset(begin);
            for (int k = 0; k < per; k++, id++) {
                sqlite3_bind_int64(ins, 1, id % rooms + 1);
                sqlite3_bind_int64(ins, 2, id);
                sqlite3_bind_int64(ins, 3, id / 1000);
                sqlite3_bind_int(ins, 4, 0);
                sqlite3_bind_text(ins, 5, src, -1, SQLITE_STATIC);
                sqlite3_bind_text(ins, 6, text, -1, SQLITE_STATIC);
                sqlite3_step(ins);
                sqlite3_reset(ins);
            }
            sqlite3_step(commit);
            sqlite3_reset(commit);
            if (wal_frames >= ckpt_frames) { /* as the thread would */
                double c0 = cpu_ns();
                sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                          NULL, NULL);
                ckpt += cpu_ns() - c0;
                wal_frames = 0;
            }
        }
        double all = cpu_ns() - t0;
        printf("%11d  %6.2f  %6.2f\n", per, (all - ckpt) / total / 1000,
               ckpt / total / 1000);
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_close(db);
    for (const char *s = ""; s; s = *s ? NULL : "-wal") {
        char p[600];
        snprintf(p, sizeof p, "%s%s", path, s);
        unlink(p);
    }
    char shm[600];
    snprintf(shm, sizeof shm, "%s-shm", path);
    unlink(shm);
    return 0;
}
