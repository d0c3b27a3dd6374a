/*
 * oper: server operators. The accounts given at start and on reload
 * (oper = NAME:HASH in the config file, or --oper),
 * the check of a name and password against them, who is an operator now,
 * and what only operators may do (disconnect anyone: oper_kill).
 *
 * Passwords are never kept: an account holds a libsodium password hash
 * (crypto_pwhash_str, Argon2id), and a check costs what that hash was made
 * to cost (tens of milliseconds and 64 MiB with the interactive limits).
 * That is slow by design, so a check runs on a thread of its own, the
 * checker (oper_check_async), never on the loop, and a protocol must pace
 * its users' attempts (see conn_slow_line); this module only checks.
 */
#ifndef PARLEY_OPER_H
#define PARLEY_OPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
 * Checks name (nlen bytes) and password (plen bytes) against the accounts,
 * on the caller's thread (the protocols use oper_check_async).
 * Returns the account's name (static, lives until oper_fini), or NULL if no
 * account has that name or the password is not its. Slow by design: an
 * unknown name costs about what a wrong password does, so the time taken
 * does not tell which names exist (with no accounts at all, it returns
 * NULL at once).
 */
const char *oper_check(const char *name, size_t nlen, const char *password,
                       size_t plen);

/*
 * Returns true if password (plen bytes) is the one hash (a crypto_pwhash_str
 * string) was made from; with hash NULL, checks a decoy hash no password
 * is known for and returns false, taking about as long. A password longer
 * than OPER_PASSWORD_MAX is refused at once. Slow by design; safe on any
 * thread.
 */
bool oper_verify(const char *hash, const char *password, size_t plen);

/*
 * Returns the account called name (nlen bytes) as oper_check would (the
 * name to hand to oper_set), with its hash in *hash; or NULL (and *hash
 * NULL). Both live until the next oper_replace or oper_fini.
 */
const char *oper_account(const char *name, size_t nlen, const char **hash);

/* The most checks waiting or running at once, for the whole server. */
#define OPER_QUEUE_MAX 16
/* The most of them from one origin (conn_origin: an address, or its
 * network by --ipv4-prefix/--ipv6-prefix), so that one cannot fill the
 * queue. */
#define OPER_ORIGIN_MAX 4
/* What a user is told when either bound is reached. */
#define OPER_BUSY "too many operator logins in progress, try again"
/* The most bytes of the name tried that a completion is told. */
#define OPER_TRIED_MAX 255

/*
 * Called on the loop when a check ends: id is the one given to
 * oper_check_async, tried the name tried (tlen bytes, cut to
 * OPER_TRIED_MAX), account what oper_check would have returned (an
 * account removed or changed by a reload meanwhile fails).
 */
typedef void (*oper_done_fn)(uint64_t id, const char *tried, size_t tlen,
                             const char *account);

/*
 * Starts the checker thread. Returns a descriptor the loop must watch for
 * reading and then call oper_checker_ready, or -1 with errno set.
 */
int oper_checker_start(void);

/* On the loop, when the checker's descriptor is readable: calls the
 * completions of the checks that ended, in the order they were asked. */
void oper_checker_ready(void);

/*
 * Stops the checker thread (after the check it runs, if any) and forgets
 * the checks still waiting: their completions never run. Closes the
 * descriptor; the caller stops watching it first. A no-op if not started.
 */
void oper_checker_stop(void);

/*
 * Asks the checker to check name (nlen bytes) and password (plen bytes)
 * as oper_check does, both copied (the copy of the password is wiped once
 * checked), with the account's hash as it is now. done(id, ...) runs on
 * the loop afterwards, never inside this call. origin is where the
 * attempt comes from (conn_origin). Returns false, doing nothing, if
 * OPER_QUEUE_MAX checks are waiting or running already, or
 * OPER_ORIGIN_MAX of them come from origin (or the checker is not
 * running).
 */
bool oper_check_async(const char *name, size_t nlen, const char *password,
                      size_t plen, const char *origin, oper_done_fn done,
                      uint64_t id);

/*
 * Forgets the checks of id (its connection is gone) that have not started:
 * they are skipped, their places freed at once, their completions never
 * run. One already running ends as usual.
 */
void oper_check_forget(uint64_t id);

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

/*
 * Logs c's failed attempt (event=oper-failed) with the name tried (n
 * bytes), never the password; busy: refused unchecked, the queue full.
 */
void oper_log_failed(const struct client *c, const char *tried, size_t n,
                     bool busy);

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
