/*
 * oper_checker: the thread that checks operator passwords, so that the
 * loop never waits for one (an Argon2id check takes tens of milliseconds
 * and 64 MiB: on the loop, everyone would wait for it).
 *
 * The loop puts a check in a ring of OPER_QUEUE_MAX slots with everything
 * it needs copied in (the name tried, the password, the account's hash as
 * it is now), so the thread never reads the accounts, which a reload may
 * replace meanwhile. The thread checks the slots in order, wipes the
 * password, and wakes the loop through an eventfd; the loop then takes
 * the results in order and calls their completions. The ring's three
 * counters (asked, checked, taken) are shared under a mutex; a slot
 * belongs to the loop before it is asked and after it is checked, to the
 * thread in between.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/oper.h"

/* One check. */
struct oper_job {
    uint64_t id;
    oper_done_fn done;
    bool skip;  /* no accounts: fails without a check */
    bool ok;    /* the thread's answer */
    bool known; /* an account has the name: hash is its hash */
    size_t tlen, plen;
    char tried[OPER_TRIED_MAX];
    char hash[crypto_pwhash_STRBYTES];
    char password[OPER_PASSWORD_MAX];
};

static struct oper_job oper_ring[OPER_QUEUE_MAX];
/* Checks asked, checked and taken back, ever; slot = count % size. */
static uint64_t oper_asked, oper_checked, oper_taken;
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
        while (oper_checked == oper_asked && !oper_stop)
            pthread_cond_wait(&oper_cv, &oper_mu);
        bool stop = oper_stop;
        struct oper_job *j = &oper_ring[oper_checked % OPER_QUEUE_MAX];
        pthread_mutex_unlock(&oper_mu);
        if (stop)
            return NULL;
        j->ok = !j->skip &&
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
    oper_asked = oper_checked = oper_taken = 0;
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

bool oper_check_async(const char *name, size_t nlen, const char *password,
                      size_t plen, oper_done_fn done, uint64_t id)
{
    pthread_mutex_lock(&oper_mu);
    bool full = oper_asked - oper_taken >= OPER_QUEUE_MAX;
    pthread_mutex_unlock(&oper_mu);
    if (full || !oper_running)
        return false;
    /* The slot is the loop's until oper_asked counts it. */
    struct oper_job *j = &oper_ring[oper_asked % OPER_QUEUE_MAX];
    const char *hash;
    *j = (struct oper_job){.id = id, .done = done};
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
        struct oper_job j = oper_ring[oper_taken % OPER_QUEUE_MAX];
        sodium_memzero(&oper_ring[oper_taken % OPER_QUEUE_MAX], sizeof j);
        pthread_mutex_lock(&oper_mu);
        oper_taken++;
        pthread_mutex_unlock(&oper_mu);
        /* The completion may ask another check: the slot is free now. */
        j.done(j.id, j.tried, j.tlen, oper_result(&j));
        sodium_memzero(&j, sizeof j);
    }
}
