/*
 * oper: server operators: accounts, the password check, who is one now,
 * and KILL.
 */
#include "core/oper.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/chat.h"
#include "lib/log.h"

/* One account: a name and a crypto_pwhash_str hash. */
struct oper_account {
    char name[OPER_NAME_MAX + 1];
    char hash[crypto_pwhash_STRBYTES];
};

static struct oper_account oper_table[OPER_ACCOUNTS_MAX];
static size_t oper_n;
static size_t oper_count; /* people who are operators now */
/* A hash no password is known for, checked when no account has the name,
 * so that an unknown name takes as long as a wrong password. */
static char oper_decoy[crypto_pwhash_STRBYTES];
static pthread_once_t oper_decoy_once = PTHREAD_ONCE_INIT;

int oper_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

/* Returns true if name (n bytes) is a valid account name. */
static bool oper_name_valid(const char *name, size_t n)
{
    if (n == 0 || n > OPER_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
                  ch == '.';
        if (!ok)
            return false;
    }
    return true;
}

/* Returns the account called name (n bytes), or NULL. */
static const struct oper_account *oper_find(const char *name, size_t n)
{
    for (size_t i = 0; i < oper_n; i++)
        if (strlen(oper_table[i].name) == n &&
            memcmp(oper_table[i].name, name, n) == 0)
            return &oper_table[i];
    return NULL;
}

int oper_spec_check(const char *spec, char *err, size_t cap)
{
    const char *colon = strchr(spec, ':');
    size_t n = colon ? (size_t)(colon - spec) : 0;
    const char *hash = colon ? colon + 1 : "";
    if (!oper_name_valid(spec, n)) {
        snprintf(err, cap,
                 "expected NAME:HASH, NAME 1-%d letters, digits, -, _ or .",
                 OPER_NAME_MAX);
        return -1;
    }
    /* A crypto_pwhash_str string names its algorithm first. */
    if (strncmp(hash, "$argon2", 7) != 0 ||
        strlen(hash) >= crypto_pwhash_STRBYTES) {
        snprintf(err, cap,
                 "the HASH of \"%.*s\" is not one parleyd --hash-password "
                 "prints",
                 (int)n, spec);
        return -1;
    }
    return 0;
}

int oper_add(const char *spec, char *err, size_t cap)
{
    if (oper_spec_check(spec, err, cap) != 0)
        return -1;
    size_t n = strcspn(spec, ":");
    if (oper_find(spec, n)) {
        snprintf(err, cap, "\"%.*s\" is given twice", (int)n, spec);
        return -1;
    }
    if (oper_n == OPER_ACCOUNTS_MAX) {
        snprintf(err, cap, "at most %d operator accounts", OPER_ACCOUNTS_MAX);
        return -1;
    }
    struct oper_account *a = &oper_table[oper_n++];
    memcpy(a->name, spec, n);
    a->name[n] = '\0';
    snprintf(a->hash, sizeof a->hash, "%s", spec + n + 1);
    return 0;
}

/* The accounts before oper_replace, to find who was an operator as what. */
static struct oper_account oper_old[OPER_ACCOUNTS_MAX];

/*
 * chat_foreach_client helper: points an operator at their account in the
 * new table, or, if it is gone, takes their operator status away.
 */
static void oper_rebind(struct client *c, void *arg)
{
    (void)arg;
    if (c->oper == NULL)
        return;
    /* c->oper pointed into the table that oper_old now holds a copy of. */
    size_t i = (size_t)((const struct oper_account *)(const void *)c->oper -
                        oper_table);
    const char *name = oper_old[i].name;
    const struct oper_account *a = oper_find(name, strlen(name));
    if (a) {
        c->oper = a->name;
        return;
    }
    log_info("event=deoper id=%llu nick=%s account=%s reason=reload",
             (unsigned long long)c->id, log_q(c->nick, strlen(c->nick)),
             log_q(name, strlen(name)));
    oper_set(c, NULL);
}

int oper_replace(const char *const *specs, size_t n, char *err, size_t cap)
{
    memcpy(oper_old, oper_table, sizeof oper_table);
    size_t old_n = oper_n;
    oper_n = 0;
    for (size_t i = 0; i < n; i++) {
        if (oper_add(specs[i], err, cap) != 0) {
            memcpy(oper_table, oper_old, sizeof oper_table);
            oper_n = old_n;
            sodium_memzero(oper_old, sizeof oper_old);
            return -1;
        }
    }
    if (oper_count > 0) /* (and before chat_init there is nobody) */
        chat_foreach_client(oper_rebind, NULL);
    sodium_memzero(oper_old, sizeof oper_old);
    return 0;
}

void oper_fini(void)
{
    sodium_memzero(oper_table, sizeof oper_table);
    oper_n = 0;
    oper_count = 0;
}

size_t oper_accounts(void)
{
    return oper_n;
}

/* Makes the decoy hash (once, on whichever thread checks first). */
static void oper_make_decoy(void)
{
    if (oper_hash("-", 1, oper_decoy, sizeof oper_decoy) != 0)
        oper_decoy[0] = '\0';
}

bool oper_verify(const char *hash, const char *password, size_t plen)
{
    if (plen > OPER_PASSWORD_MAX)
        return false;
    if (hash == NULL) {
        pthread_once(&oper_decoy_once, oper_make_decoy);
        if (oper_decoy[0] != '\0') {
            int spent = crypto_pwhash_str_verify(oper_decoy, password, plen);
            (void)spent; /* only the time it takes matters */
        }
        return false;
    }
    return crypto_pwhash_str_verify(hash, password, plen) == 0;
}

const char *oper_check(const char *name, size_t nlen, const char *password,
                       size_t plen)
{
    /* With no accounts there is no name to hide: nothing to check. */
    if (oper_n == 0)
        return NULL;
    const struct oper_account *a = oper_find(name, nlen);
    if (!oper_verify(a ? a->hash : NULL, password, plen) || a == NULL)
        return NULL;
    return a->name;
}

const char *oper_account(const char *name, size_t nlen, const char **hash)
{
    const struct oper_account *a = oper_find(name, nlen);
    *hash = a ? a->hash : NULL;
    return a ? a->name : NULL;
}

int oper_hash(const char *password, size_t len, char *out, size_t cap)
{
    if (cap < crypto_pwhash_STRBYTES)
        return -1;
    return crypto_pwhash_str(out, password, len,
                             crypto_pwhash_OPSLIMIT_INTERACTIVE,
                             crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0
               ? 0
               : -1;
}

void oper_set(struct client *c, const char *account)
{
    if (c->oper && !account)
        oper_count--;
    else if (!c->oper && account)
        oper_count++;
    c->oper = account;
}

void oper_log_failed(const struct client *c, const char *tried, size_t n,
                     bool busy)
{
    log_info("event=oper-failed id=%llu nick=%s name=%s%s",
             (unsigned long long)c->id, log_q(c->nick, c->nick_len),
             log_q(tried, n), busy ? " reason=busy" : "");
}

size_t oper_online(void)
{
    return oper_count;
}

void oper_kill(struct client *by, struct client *victim, const char *reason,
               size_t len)
{
    if (len == 0) {
        reason = "No reason given";
        len = strlen(reason);
    }
    if (len > OPER_REASON_MAX)
        len = OPER_REASON_MAX;
    char quit[NICK_MAX + OPER_REASON_MAX + 16];
    int n = snprintf(quit, sizeof quit, "Killed (%s (%.*s))", by->nick,
                     (int)len, reason);
    log_info("event=kill id=%llu oper=%s account=%s victim=%s reason=%s",
             (unsigned long long)by->id, log_q(by->nick, by->nick_len),
             by->oper ? by->oper : "-", log_q(victim->nick, victim->nick_len),
             log_q(reason, len));
    if (victim->ops->killed)
        victim->ops->killed(victim, by, reason, len);
    chat_unregister(victim, quit, (size_t)n, true);
}
