/*
 * sban: server bans, set by server operators.
 *
 * A ban keeps people out of the whole server, by address (an IPv4 or
 * IPv6 address, or a network in CIDR notation: IRC's D-line) or by
 * nick!user@host mask (IRC's K-line), with a reason, who set it, when,
 * and an optional expiry. A connection from a banned address is refused
 * at accept (sban_match_host); a mask that names a nick or user is checked
 * when a person arrives (sban_match_person) and when one takes a new nick
 * (sban_match_nick, from chat_set_nick). A ban set while people it
 * matches are here disconnects them (sban_enforce).
 *
 * Bans live in memory, in this module only, so a configuration reload
 * (SIGHUP) leaves operators' bans alone. The config file may hold bans of
 * its own (server-ban = MASK [REASON]): sban_config_apply makes them the
 * config's at start and on every reload. Those never expire, are listed
 * with the others (set by "config"), and no operator command changes or
 * lifts them (SBAN_CONFIG, sban_from_config); the file does. A durable
 * store keeps operators' bans (not the config's) across restarts
 * by watching changes (sban_set_observer) and giving them back at start
 * with sban_add, set_at and expires included. Expired bans are dropped
 * lazily, by whichever call meets them first.
 */
#ifndef PARLEY_SBAN_H
#define PARLEY_SBAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mask.h"

struct client;

/* The most bans at once. */
#define SBAN_MAX 1024
/* The longest reason kept; longer ones are cut. */
#define SBAN_REASON_MAX 200
/* The longest name of whoever set a ban. */
#define SBAN_BY_MAX 64
/* The longest duration: ten years. */
#define SBAN_DURATION_MAX (10ll * 365 * 24 * 3600)

enum sban_kind {
    SBAN_ADDR, /* an address or network: "192.0.2.0/24", "2001:db8::1" */
    SBAN_MASK, /* a nick!user@host mask: "*!*@*.example.net" */
};

struct sban {
    enum sban_kind kind;
    char mask[MASK_MAX + 1];          /* canonical: the ban's key */
    char reason[SBAN_REASON_MAX + 1]; /* may be empty */
    char by[SBAN_BY_MAX + 1];         /* who set it (account or nick) */
    int64_t set_at;                   /* seconds since the epoch */
    int64_t expires;                  /* seconds since the epoch; 0: never */
    bool config;                      /* set by the config file */
    /* SBAN_ADDR: the network, parsed. */
    int family; /* AF_INET or AF_INET6 */
    unsigned char net[16];
    unsigned bits;
};

enum sban_result {
    SBAN_ADDED,   /* a new ban */
    SBAN_UPDATED, /* the same mask was banned: reason and expiry replaced */
    SBAN_FULL,    /* SBAN_MAX bans already */
    SBAN_CONFIG,  /* the config file bans that mask: left as it is */
};

/* What an operator is told when a ban it names is the config file's. */
#define SBAN_CONFIG_HINT                                                       \
    "is set in the config file: change it there, then reload (SIGHUP)"

/*
 * Reads what an operator typed (n bytes at target) into b's kind and mask:
 * an address or ADDRESS/BITS is an address ban, with the host bits of a
 * network cleared ("10.1.2.3/8" -> "10.0.0.0/8"); anything else is a mask,
 * completed by mask_normalize ("bob@host" -> "*!bob@host", "alice" ->
 * "alice!*@*"). Other fields of b are left alone. Returns false if target
 * is neither (bad bits, a space, too long) or would ban everyone
 * ("0.0.0.0/0", "::/0", a mask of wildcards alone).
 */
bool sban_parse(const char *target, size_t n, struct sban *b);

/*
 * Reads a duration (n bytes): digits then s, m, h, d or w; digits alone
 * are minutes, as in IRC's KLINE. Sets *secs; returns false if it is not
 * one, is zero or passes SBAN_DURATION_MAX.
 */
bool sban_parse_duration(const char *s, size_t n, int64_t *secs);

/*
 * Reads a config file's ban, "MASK [REASON]" (spec, NUL-terminated), into
 * b (all of it: a config ban set by "config", never expiring). Returns
 * false with why in err (cap bytes) if MASK is not one sban_parse takes,
 * the reason starts with a duration (config bans do not expire), is
 * longer than SBAN_REASON_MAX or is not what sanitize_is_clean passes
 * (bad UTF-8, control or bidi characters).
 */
bool sban_parse_config(const char *spec, struct sban *b, char *err, size_t cap);

/*
 * Makes the config bans the n in v (from sban_parse_config), logging each
 * one added, changed (its reason) or removed (event=config-ban). A new one
 * replaces an operator's ban on the same mask, and disconnects those here
 * it matches, but server operators. Operators' bans are left alone.
 */
void sban_config_apply(const struct sban *v, size_t n);

/* Returns true if the ban on mask (canonical) is the config file's. */
bool sban_from_config(const char *mask);

/*
 * Adds b (copied; kind and mask as sban_parse made them; set_at 0 means
 * now), or replaces the reason, setter and expiry of the ban with the same
 * mask, unless that one is the config file's and b is not (SBAN_CONFIG).
 * Tells the observer of changes to bans not from the config. Returns what
 * happened.
 */
enum sban_result sban_add(const struct sban *b);

/*
 * Removes the ban whose mask is what target (n bytes) parses to. Tells
 * the observer. Returns false if there is none, or if it is the config
 * file's (sban_from_config tells which).
 */
bool sban_del(const char *target, size_t n);

/*
 * Returns the address ban or host-only mask ban (*!*@HOST) host is under,
 * or NULL. The ban lives until the next call of this module.
 */
const struct sban *sban_match_host(const char *host);

/*
 * Returns a ban c is under (by its host, or nick!user@host), or NULL; it
 * lives until the next call of this module.
 */
const struct sban *sban_match_person(const struct client *c);

/*
 * Returns the mask ban c would be under with nick (len bytes) for its
 * nick, or NULL (for a nick change); it lives until the next call of this
 * module. Server operators are under none.
 */
const struct sban *sban_match_nick(const struct client *c, const char *nick,
                                   size_t len);

/*
 * Disconnects everyone here that b matches, but server operators, as if
 * `by` (an operator) killed them with b's reason (oper_kill). Returns
 * their number.
 */
size_t sban_enforce(struct client *by, const struct sban *b);

/*
 * What an operator's ban command does, whichever protocol it came in:
 * adds b (set_at and by are filled in from now and by's account) and logs
 * it. The caller then tells by, and puts out those here the ban matches
 * with sban_enforce. Returns what sban_add returned (SBAN_CONFIG: nothing
 * was done, and the caller says why with SBAN_CONFIG_HINT).
 */
enum sban_result sban_set(const struct client *by, struct sban *b);

/*
 * What an operator's unban command does: removes the ban target (n bytes)
 * parses to, and logs it. Writes the canonical mask into mask (MASK_MAX + 1
 * bytes; empty if target does not parse). Returns false if there was none
 * or it is the config file's (see sban_from_config).
 */
bool sban_unset(const struct client *by, const char *target, size_t n,
                char mask[MASK_MAX + 1]);

/* The longest text of sban_format_expiry, with its NUL. */
#define SBAN_TIME_MAX 32

/*
 * Writes when b expires as "2026-11-30T12:00:00Z" (UTC), or "never",
 * into out.
 */
void sban_format_expiry(const struct sban *b, char out[SBAN_TIME_MAX]);

/* Returns the number of bans in force. */
size_t sban_count(void);

/* Calls fn for each ban in force, oldest first; fn must not add or remove. */
void sban_foreach(void (*fn)(const struct sban *b, void *arg), void *arg);

/*
 * Sets the function told of every change (added: a new or replaced ban;
 * else a removal, by an operator or by expiry), for a durable store.
 * NULL: none.
 */
void sban_set_observer(void (*fn)(const struct sban *b, bool added, void *arg),
                       void *arg);

/* Sets the clock bans expire by (seconds since the epoch); NULL: time(). */
void sban_set_clock(int64_t (*now)(void));

/* Returns the clock's time now. */
int64_t sban_now(void);

/* Forgets every ban (at exit). */
void sban_fini(void);

#endif
