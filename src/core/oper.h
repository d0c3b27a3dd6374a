/*
 * oper: server operators. The accounts given at start and on reload
 * (oper = NAME:HASH in the config file, or --oper),
 * the check of a name and password against them, who is an operator now,
 * and what only operators may do (disconnect anyone: oper_kill).
 *
 * Passwords are never kept: an account holds a libsodium password hash
 * (crypto_pwhash_str, Argon2id), and a check costs what that hash was made
 * to cost (tens of milliseconds and 64 MiB with the interactive limits).
 * That is slow by design, so a protocol must pace its users' attempts
 * (see conn_slow_line); this module only checks.
 */
#ifndef PARLEY_OPER_H
#define PARLEY_OPER_H

#include <stdbool.h>
#include <stddef.h>

struct client;

/* The most operator accounts (--oper flags). */
#define OPER_ACCOUNTS_MAX 16
/* The longest account name. */
#define OPER_NAME_MAX 32
/* The longest password checked: longer ones never match. */
#define OPER_PASSWORD_MAX 256
/* The longest kill reason kept; longer ones are cut. */
#define OPER_REASON_MAX 300
/* Milliseconds a connection waits after a failed attempt. */
#define OPER_FAIL_WAIT_MS 2000

/*
 * Sets up libsodium (sodium_init). Returns 0, or -1 if it cannot be used
 * (the server must not start then).
 */
int oper_init(void);

/*
 * Adds an account from "NAME:HASH" (spec is copied): NAME is 1 to
 * OPER_NAME_MAX letters, digits, '-', '_' or '.', HASH a crypto_pwhash_str
 * string. Returns 0, or -1 with why in err (cap bytes): a bad form, a name
 * already given, or OPER_ACCOUNTS_MAX accounts already.
 */
int oper_add(const char *spec, char *err, size_t cap);

/*
 * Checks the form of an account spec "NAME:HASH" as oper_add will, without
 * adding it (for the config parser). Returns 0, or -1 with why in err.
 */
int oper_spec_check(const char *spec, char *err, size_t cap);

/*
 * Replaces every account with the n specs (a reload). All or nothing: on a
 * bad spec, returns -1 with why in err and keeps the accounts as they
 * were. Who is an operator under an account that is still there stays one;
 * who was one under an account that is gone is one no longer (logged as
 * event=deoper). Returns 0.
 */
int oper_replace(const char *const *specs, size_t n, char *err, size_t cap);

/* Forgets every account (at exit). */
void oper_fini(void);

/* Returns the number of accounts. */
size_t oper_accounts(void);

/*
 * Checks name (nlen bytes) and password (plen bytes) against the accounts.
 * Returns the account's name (static, lives until oper_fini), or NULL if no
 * account has that name or the password is not its. Slow by design: an
 * unknown name costs about what a wrong password does, so the time taken
 * does not tell which names exist (with no accounts at all, it returns
 * NULL at once).
 */
const char *oper_check(const char *name, size_t nlen, const char *password,
                       size_t plen);

/*
 * Makes a hash of password (len bytes) for --oper into out (cap bytes, at
 * least OPER_HASH_MAX). Returns 0, or -1 (out of memory).
 */
#define OPER_HASH_MAX 128
int oper_hash(const char *password, size_t len, char *out, size_t cap);

/*
 * Makes c an operator under account (as oper_check returned it), or, with
 * NULL, takes that away. Counts who is one for oper_online; chat_unregister
 * takes it away too.
 */
void oper_set(struct client *c, const char *account);

/* Returns the number of people who are operators now. */
size_t oper_online(void);

/*
 * by (an operator: the caller checks) disconnects victim with a reason
 * (len bytes; empty: "No reason given"; cut to OPER_REASON_MAX). victim's
 * protocol is told first (client_ops.killed: its last words, then the
 * connection closes); then victim leaves every room with the quit reason
 * "Killed (BY (REASON))". victim may be by. Logged.
 */
void oper_kill(struct client *by, struct client *victim, const char *reason,
               size_t len);

#endif
