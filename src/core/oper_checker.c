/*
 * oper_checker: the thread that checks operator passwords, so that the
 * loop never waits for one (an Argon2id check takes tens of milliseconds
 * and 64 MiB: on the loop, everyone would wait for it).
 *
 * The loop puts a check in a ring with everything it needs copied in (the
 * name tried, the password, the account's hash as it is now), so the
 * thread never reads the accounts, which a reload may replace meanwhile.
 * The thread checks the slots in order, wipes the password, and wakes the
 * loop through an eventfd; the loop then takes the results in order and
 * calls their completions. The ring's four counters (asked, picked,
 * checked, taken) are shared under a mutex; a slot belongs to the loop
 * before it is asked and after it is checked, to the thread from the
 * moment it is picked, and in between it waits: the loop may still drop
 * it (under the mutex), which the thread sees when it picks it.
 *
 * At most OPER_QUEUE_MAX checks are live (asked, not dropped, not taken),
 * OPER_ORIGIN_MAX of them from one origin. Dropped ones still hold their
 * slot until the thread passes them, which takes no time, so the ring has
 * room for as many again.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/oper.h"

/* One check. */
struct oper_job {
    uint64_t id;
    oper_done_fn done;
    bool skip;    /* no accounts: fails without a check */
    bool dropped; /* its connection left before it started */
    bool ok;      /* the thread's answer */
    bool known;   /* an account has the name: hash is its hash */
    size_t tlen, plen;
    char origin[64]; /* conn_origin: at most 50 bytes, cut if longer */
    char tried[OPER_TRIED_MAX];
    char hash[crypto_pwhash_STRBYTES];
    char password[OPER_PASSWORD_MAX];
};

#define OPER_RING (2 * OPER_QUEUE_MAX)
static struct oper_job oper_ring[OPER_RING];
/* Checks asked, picked by the thread, checked and taken back, ever;
 * slot = count % OPER_RING. */
static uint64_t oper_asked, oper_picked, oper_checked, oper_taken;
static bool oper_stop, oper_running;
static pthread_mutex_t oper_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t oper_cv = PTHREAD_COND_INITIALIZER;
static pthread_t oper_thread;
static int oper_efd = -1;

/* The thread: checks the jobs asked, in order, until told to stop. */
static void *oper_checker_main(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&oper_mu);
        while (oper_picked == oper_asked && !oper_stop)
            pthread_cond_wait(&oper_cv, &oper_mu);
        bool stop = oper_stop;
        struct oper_job *j = &oper_ring[oper_picked % OPER_RING];
        bool skip = j->skip || j->dropped;
        if (!stop)
            oper_picked++;
        pthread_mutex_unlock(&oper_mu);
        if (stop)
            return NULL;
        j->ok = !skip &&
                oper_verify(j->known ? j->hash : NULL, j->password, j->plen);
        sodium_memzero(j->password, sizeof j->password);
        pthread_mutex_lock(&oper_mu);
        oper_checked++;
        pthread_mutex_unlock(&oper_mu);
        uint64_t one = 1;
        ssize_t w = write(oper_efd, &one, sizeof one);
        (void)w; /* the counter cannot overflow: at most one per check */
    }
}

int oper_checker_start(void)
{
    oper_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (oper_efd < 0)
        return -1;
    oper_asked = oper_picked = oper_checked = oper_taken = 0;
    oper_stop = false;
    /* Signals are the loop's (a signalfd): the thread takes none. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&oper_thread, NULL, oper_checker_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        close(oper_efd);
        oper_efd = -1;
        errno = rc;
        return -1;
    }
    oper_running = true;
    return oper_efd;
}

void oper_checker_stop(void)
{
    if (!oper_running)
        return;
    pthread_mutex_lock(&oper_mu);
    oper_stop = true;
    pthread_cond_signal(&oper_cv);
    pthread_mutex_unlock(&oper_mu);
    pthread_join(oper_thread, NULL);
    oper_running = false;
    close(oper_efd);
    oper_efd = -1;
    sodium_memzero(oper_ring, sizeof oper_ring);
}

/* Returns how many live checks (asked, neither dropped nor taken) come
 * from origin, or from anywhere with NULL. The loop alone writes asked,
 * taken and a slot's origin and dropped, so it reads them without the
 * mutex. */
static size_t oper_live(const char *origin)
{
    size_t n = 0;
    for (uint64_t k = oper_taken; k < oper_asked; k++) {
        const struct oper_job *j = &oper_ring[k % OPER_RING];
        n += !j->dropped && (!origin || strcmp(j->origin, origin) == 0);
    }
    return n;
}

bool oper_check_async(const char *name, size_t nlen, const char *password,
                      size_t plen, const char *origin, oper_done_fn done,
                      uint64_t id)
{
    if (!oper_running || oper_asked - oper_taken >= OPER_RING ||
        oper_live(NULL) >= OPER_QUEUE_MAX ||
        oper_live(origin) >= OPER_ORIGIN_MAX)
        return false;
    /* The slot is the loop's until oper_asked counts it. */
    struct oper_job *j = &oper_ring[oper_asked % OPER_RING];
    const char *hash;
    *j = (struct oper_job){.id = id, .done = done};
    snprintf(j->origin, sizeof j->origin, "%s", origin);
    j->skip = oper_accounts() == 0;
    j->known = oper_account(name, nlen, &hash) != NULL;
    if (j->known)
        memcpy(j->hash, hash, strlen(hash) + 1);
    j->tlen = nlen < sizeof j->tried ? nlen : sizeof j->tried;
    memcpy(j->tried, name, j->tlen);
    /* A longer password never matches; oper_verify refuses it at once. */
    j->plen = plen;
    memcpy(j->password, password,
           plen < sizeof j->password ? plen : sizeof j->password);
    pthread_mutex_lock(&oper_mu);
    oper_asked++;
    pthread_cond_signal(&oper_cv);
    pthread_mutex_unlock(&oper_mu);
    return true;
}

void oper_check_forget(uint64_t id)
{
    if (oper_asked == oper_taken)
        return; /* the common case: a connection closes, no check asked */
    pthread_mutex_lock(&oper_mu);
    for (uint64_t k = oper_picked; k < oper_asked; k++) {
        struct oper_job *j = &oper_ring[k % OPER_RING];
        if (j->id == id && !j->dropped) {
            j->dropped = true;
            sodium_memzero(j->password, sizeof j->password);
        }
    }
    pthread_mutex_unlock(&oper_mu);
}

/*
 * Returns what a check that said ok means now: the account, if it is still
 * there with the hash that was checked.
 */
static const char *oper_result(const struct oper_job *j)
{
    const char *hash, *account = oper_account(j->tried, j->tlen, &hash);
    if (!j->ok || account == NULL || strcmp(hash, j->hash) != 0)
        return NULL;
    return account;
}

void oper_checker_ready(void)
{
    uint64_t n;
    ssize_t r = read(oper_efd, &n, sizeof n);
    (void)r; /* EAGAIN: another call took the wake-up; the ring says */
    for (;;) {
        pthread_mutex_lock(&oper_mu);
        bool more = oper_taken < oper_checked;
        pthread_mutex_unlock(&oper_mu);
        if (!more)
            return;
        struct oper_job j = oper_ring[oper_taken % OPER_RING];
        sodium_memzero(&oper_ring[oper_taken % OPER_RING], sizeof j);
        pthread_mutex_lock(&oper_mu);
        oper_taken++;
        pthread_mutex_unlock(&oper_mu);
        if (j.dropped)
            continue;
        /* The completion may ask another check: the slot is free now. */
        j.done(j.id, j.tried, j.tlen, oper_result(&j));
        sodium_memzero(&j, sizeof j);
    }
}
