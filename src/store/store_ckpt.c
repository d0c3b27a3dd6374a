/*
 * store_ckpt: a thread that checkpoints the WAL, so that the loop never
 * does. A checkpoint copies committed pages from the WAL into the
 * database file and syncs both: milliseconds of disk waits that SQLite
 * would otherwise run inside whichever commit crosses its threshold, on
 * the loop's thread. Here the loop's connection turns automatic
 * checkpoints off, and its WAL hook wakes this thread (with a connection
 * of its own) once the WAL holds STORE_CKPT_FRAMES frames; the thread
 * runs a PASSIVE checkpoint, which never blocks the writer. The next
 * commit after a complete checkpoint starts the WAL over, so it stays
 * bounded.
 *
 * Besides core/oper_checker.c's, this is the only thread in parleyd. It
 * shares nothing with the loop but
 * the flags below, under a mutex.
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

#include "lib/log.h"
#include "store/store_int.h"

/* WAL frames (pages) after which a checkpoint is asked for. */
#define STORE_CKPT_FRAMES 1000

static pthread_t store_ckpt_thread;
static pthread_mutex_t store_ckpt_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t store_ckpt_cv = PTHREAD_COND_INITIALIZER;
static bool store_ckpt_want, store_ckpt_stop, store_ckpt_running;
static sqlite3 *store_ckpt_db; /* the thread's connection */

/* The loop connection's WAL hook: wakes the thread past the threshold. */
static int store_ckpt_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)arg;
    (void)db;
    (void)name;
    /* Once per STORE_CKPT_FRAMES frames, not at every commit past them:
     * until the WAL starts over, the thread has asked once already. The
     * hook runs on the loop's thread only. */
    static int asked_at;
    if (frames < asked_at)
        asked_at = 0; /* the WAL started over */
    if (frames >= asked_at + STORE_CKPT_FRAMES) {
        asked_at = frames;
        pthread_mutex_lock(&store_ckpt_mu);
        store_ckpt_want = true;
        pthread_cond_signal(&store_ckpt_cv);
        pthread_mutex_unlock(&store_ckpt_mu);
    }
    return SQLITE_OK;
}

/* The thread: waits to be asked, checkpoints, until told to stop. */
static void *store_ckpt_main(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&store_ckpt_mu);
        while (!store_ckpt_want && !store_ckpt_stop)
            pthread_cond_wait(&store_ckpt_cv, &store_ckpt_mu);
        bool stop = store_ckpt_stop;
        store_ckpt_want = false;
        pthread_mutex_unlock(&store_ckpt_mu);
        if (stop)
            return NULL;
        sqlite3_wal_checkpoint_v2(store_ckpt_db, NULL,
                                  SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    }
}

int store_ckpt_start(const char *path)
{
    int rc = sqlite3_open_v2(path, &store_ckpt_db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_close(store_ckpt_db);
        store_ckpt_db = NULL;
        return -1;
    }
    store_ckpt_want = store_ckpt_stop = false;
    /* Signals are the loop's (a signalfd): the thread takes none. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&store_ckpt_thread, NULL, store_ckpt_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        sqlite3_close(store_ckpt_db);
        store_ckpt_db = NULL;
        return -1;
    }
    store_ckpt_running = true;
    sqlite3_wal_autocheckpoint(store_db, 0);
    sqlite3_wal_hook(store_db, store_ckpt_hook, NULL);
    return 0;
}

void store_ckpt_stop_thread(void)
{
    if (!store_ckpt_running)
        return;
    pthread_mutex_lock(&store_ckpt_mu);
    store_ckpt_stop = true;
    pthread_cond_signal(&store_ckpt_cv);
    pthread_mutex_unlock(&store_ckpt_mu);
    pthread_join(store_ckpt_thread, NULL);
    store_ckpt_running = false;
    sqlite3_close(store_ckpt_db);
    store_ckpt_db = NULL;
    if (store_db)
        sqlite3_wal_hook(store_db, NULL, NULL);
}
