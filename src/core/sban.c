/*
 * sban: server bans, set by server operators.
 *
 * The bans are an array in the order they were set; every lookup is a scan.
 * SBAN_MAX keeps that cheap: an address ban is a compare of a few bytes,
 * and a connection is checked once at accept, then only when its person
 * arrives or changes nick (and then only if there are bans at all).
 */
#include "core/sban.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "core/chat.h"
#include "core/oper.h"
#include "lib/log.h"
#include "lib/sanitize.h"
#include "lib/xmalloc.h"

static struct sban *sban_v;
static size_t sban_n, sban_cap;
static void (*sban_observer)(const struct sban *b, bool added, void *arg);
static void *sban_observer_arg;
static int64_t (*sban_clock)(void);

int64_t sban_now(void)
{
    return sban_clock ? sban_clock() : (int64_t)time(NULL);
}

void sban_set_clock(int64_t (*now)(void))
{
    sban_clock = now;
}

void sban_set_observer(void (*fn)(const struct sban *b, bool added, void *arg),
                       void *arg)
{
    sban_observer = fn;
    sban_observer_arg = arg;
}

/* Tells the observer, if any, of a change to b (the config's are not
 * stored: the file keeps them). */
static void sban_tell(const struct sban *b, bool added)
{
    if (sban_observer && !b->config)
        sban_observer(b, added, sban_observer_arg);
}

/* Removes ban i, keeping the order of the others. */
static void sban_remove_at(size_t i)
{
    struct sban gone = sban_v[i];
    memmove(&sban_v[i], &sban_v[i + 1], (sban_n - i - 1) * sizeof *sban_v);
    sban_n--;
    sban_tell(&gone, false);
}

/* Drops the bans whose time is up. */
static void sban_expire(void)
{
    int64_t now = sban_now();
    for (size_t i = sban_n; i-- > 0;)
        if (sban_v[i].expires && sban_v[i].expires <= now)
            sban_remove_at(i);
}

/* ------------------------------------------------------------------------
 * Parsing
 * ------------------------------------------------------------------------ */

/* Clears the bits of net (len bytes) past the first bits. */
static void sban_clear_host_bits(unsigned char *net, size_t len, unsigned bits)
{
    for (size_t i = 0; i < len; i++) {
        unsigned keep = bits > 8 * i ? bits - 8 * (unsigned)i : 0;
        if (keep < 8)
            net[i] &= (unsigned char)(0xff00u >> keep);
    }
}

/* Parses "ADDRESS" or "ADDRESS/BITS" into b; false if it is not one. */
static bool sban_parse_addr(const char *s, struct sban *b)
{
    char addr[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    if (alen == 0 || alen >= sizeof addr)
        return false;
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    if (inet_pton(AF_INET, addr, b->net) == 1)
        b->family = AF_INET;
    else if (inet_pton(AF_INET6, addr, b->net) == 1)
        b->family = AF_INET6;
    else
        return false;
    unsigned max = b->family == AF_INET ? 32 : 128;
    b->bits = max;
    if (slash) {
        char *end;
        const char *d = slash + 1;
        unsigned long v = strtoul(d, &end, 10);
        if (*d < '0' || *d > '9' || *end != '\0' || v > max || end - d > 3)
            return false;
        b->bits = (unsigned)v;
    }
    sban_clear_host_bits(b->net, max / 8, b->bits);
    char text[INET6_ADDRSTRLEN];
    inet_ntop(b->family, b->net, text, sizeof text);
    if (b->bits == max)
        snprintf(b->mask, sizeof b->mask, "%s", text);
    else
        snprintf(b->mask, sizeof b->mask, "%s/%u", text, b->bits);
    b->kind = SBAN_ADDR;
    return true;
}

bool sban_parse(const char *target, size_t n, struct sban *b)
{
    char s[MASK_MAX + 1];
    if (n == 0 || n > MASK_MAX || memchr(target, '\0', n))
        return false;
    memcpy(s, target, n);
    s[n] = '\0';
    if (sban_parse_addr(s, b))
        return b->bits > 0; /* "0.0.0.0/0" would ban everyone */
    if (strchr(s, '/') && !strchr(s, '@'))
        return false; /* a network with bad bits, not a host name */
    if (mask_normalize(target, n, b->mask, sizeof b->mask) == 0)
        return false;
    b->kind = SBAN_MASK;
    /* A mask of wildcards alone ("*!*@*") would ban everyone. */
    return strspn(b->mask, "*?!@") < strlen(b->mask);
}

bool sban_parse_duration(const char *s, size_t n, int64_t *secs)
{
    static const struct {
        char unit;
        int64_t secs;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
    int64_t per = 60, v = 0;
    size_t digits = 0;
    while (digits < n && s[digits] >= '0' && s[digits] <= '9' && digits < 12)
        v = v * 10 + (s[digits++] - '0');
    if (digits == 0 || n - digits > 1)
        return false;
    if (digits < n) {
        per = 0;
        for (size_t i = 0; i < sizeof units / sizeof *units; i++)
            if ((s[digits] | 0x20) == units[i].unit)
                per = units[i].secs;
        if (per == 0)
            return false;
    }
    if (v == 0 || v > SBAN_DURATION_MAX / per)
        return false;
    *secs = v * per;
    return true;
}

/* ------------------------------------------------------------------------
 * The list
 * ------------------------------------------------------------------------ */

/* Returns the index of the ban with mask, or sban_n. */
static size_t sban_find(const char *mask)
{
    size_t i = 0;
    while (i < sban_n && strcasecmp(sban_v[i].mask, mask) != 0)
        i++;
    return i;
}

enum sban_result sban_add(const struct sban *b)
{
    sban_expire();
    size_t i = sban_find(b->mask);
    if (i < sban_n && sban_v[i].config && !b->config)
        return SBAN_CONFIG;
    enum sban_result res = i < sban_n ? SBAN_UPDATED : SBAN_ADDED;
    if (res == SBAN_ADDED) {
        if (sban_n == SBAN_MAX)
            return SBAN_FULL;
        if (sban_n == sban_cap) {
            sban_cap = sban_cap ? 2 * sban_cap : 16;
            sban_v = xreallocarray(sban_v, sban_cap, sizeof *sban_v);
        }
        sban_n++;
    }
    sban_v[i] = *b;
    if (sban_v[i].set_at == 0)
        sban_v[i].set_at = sban_now();
    sban_tell(&sban_v[i], true);
    return res;
}

bool sban_del(const char *target, size_t n)
{
    struct sban b;
    if (!sban_parse(target, n, &b))
        return false;
    sban_expire();
    size_t i = sban_find(b.mask);
    if (i == sban_n || sban_v[i].config)
        return false;
    sban_remove_at(i);
    return true;
}

bool sban_from_config(const char *mask)
{
    size_t i = sban_find(mask);
    return i < sban_n && sban_v[i].config;
}

size_t sban_count(void)
{
    sban_expire();
    return sban_n;
}

void sban_foreach(void (*fn)(const struct sban *b, void *arg), void *arg)
{
    sban_expire();
    for (size_t i = 0; i < sban_n; i++)
        fn(&sban_v[i], arg);
}

void sban_fini(void)
{
    free(sban_v);
    sban_v = NULL;
    sban_n = sban_cap = 0;
}

/* ------------------------------------------------------------------------
 * Matching
 * ------------------------------------------------------------------------ */

/* Returns true if the address ban b covers the parsed address. */
static bool sban_covers(const struct sban *b, int family,
                        const unsigned char *addr)
{
    if (b->family != family)
        return false;
    size_t whole = b->bits / 8;
    if (memcmp(b->net, addr, whole) != 0)
        return false;
    unsigned rest = b->bits % 8;
    if (rest == 0)
        return true;
    unsigned char m = (unsigned char)(0xff00u >> rest);
    return (addr[whole] & m) == b->net[whole];
}

/* Returns true if the mask ban b names only a host ("*!*@HOST"). */
static bool sban_host_only(const struct sban *b)
{
    return strncmp(b->mask, "*!*@", 4) == 0;
}

/* Returns true if b covers host by address, or by a host-only mask. */
static bool sban_covers_host(const struct sban *b, const char *host)
{
    if (b->kind == SBAN_MASK)
        return sban_host_only(b) &&
               mask_match(b->mask + 4, strlen(b->mask + 4), host, strlen(host));
    unsigned char addr[16];
    int family = strchr(host, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(family, host, addr) != 1)
        return false;
    if (family == AF_INET6 && b->family == AF_INET &&
        IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)addr))
        return sban_covers(b, AF_INET, addr + 12);
    return sban_covers(b, family, addr);
}

const struct sban *sban_match_host(const char *host)
{
    if (sban_n == 0)
        return NULL;
    sban_expire();
    for (size_t i = 0; i < sban_n; i++)
        if (sban_covers_host(&sban_v[i], host))
            return &sban_v[i];
    return NULL;
}

/* Returns true if b matches person c (prefix: c's nick!user@host). */
static bool sban_covers_person(const struct sban *b, const struct client *c,
                               const char *prefix, size_t plen)
{
    if (b->kind == SBAN_ADDR)
        return sban_covers_host(b, c->host);
    return mask_match(b->mask, strlen(b->mask), prefix, plen);
}

const struct sban *sban_match_person(const struct client *c)
{
    if (sban_n == 0)
        return NULL;
    sban_expire();
    char prefix[CHAT_PREFIX_MAX + 1];
    size_t plen = chat_prefix(c, prefix, sizeof prefix);
    for (size_t i = 0; i < sban_n; i++)
        if (sban_covers_person(&sban_v[i], c, prefix, plen))
            return &sban_v[i];
    return NULL;
}

const struct sban *sban_match_nick(const struct client *c, const char *nick,
                                   size_t len)
{
    if (sban_n == 0 || c->oper)
        return NULL;
    sban_expire();
    char prefix[CHAT_PREFIX_MAX + 1];
    int n = snprintf(prefix, sizeof prefix, "%.*s!%s@%s", (int)len, nick,
                     c->user, c->host);
    size_t plen = n < 0 ? 0 : (size_t)n < sizeof prefix ? (size_t)n : 0;
    for (size_t i = 0; i < sban_n && plen > 0; i++)
        if (sban_v[i].kind == SBAN_MASK &&
            mask_match(sban_v[i].mask, strlen(sban_v[i].mask), prefix, plen))
            return &sban_v[i];
    return NULL;
}

/* The people a ban is enforced on, gathered before any is disconnected. */
struct sban_victims {
    const struct sban *ban;
    struct client **v;
    size_t n;
};

/* chat_foreach_client helper: gathers c if the ban matches it. */
static void sban_gather(struct client *c, void *arg)
{
    struct sban_victims *vs = arg;
    char prefix[CHAT_PREFIX_MAX + 1];
    size_t plen = chat_prefix(c, prefix, sizeof prefix);
    if (c->oper == NULL && sban_covers_person(vs->ban, c, prefix, plen))
        vs->v[vs->n++] = c;
}

size_t sban_enforce(struct client *by, const struct sban *b)
{
    struct sban_victims vs = {b, xcalloc(chat_client_count() + 1, sizeof *vs.v),
                              0};
    chat_foreach_client(sban_gather, &vs);
    char why[SBAN_REASON_MAX + 16];
    int k = snprintf(why, sizeof why, "Banned: %s",
                     b->reason[0] ? b->reason : "no reason given");
    for (size_t i = 0; i < vs.n; i++)
        oper_kill(by, vs.v[i], why, (size_t)k);
    free(vs.v);
    return vs.n;
}

/* ------------------------------------------------------------------------
 * What operators' commands do
 * ------------------------------------------------------------------------ */

void sban_format_expiry(const struct sban *b, char out[SBAN_TIME_MAX])
{
    if (b->expires == 0) {
        snprintf(out, SBAN_TIME_MAX, "never");
        return;
    }
    time_t t = (time_t)b->expires;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, SBAN_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

enum sban_result sban_set(const struct client *by, struct sban *b)
{
    snprintf(b->by, sizeof b->by, "%s", by->oper ? by->oper : by->nick);
    b->set_at = sban_now();
    enum sban_result res = sban_add(b);
    if (res == SBAN_FULL || res == SBAN_CONFIG)
        return res;
    char when[SBAN_TIME_MAX];
    sban_format_expiry(b, when);
    log_info("event=server-ban mask=%s by=%s nick=%s expires=%s reason=%s",
             log_q(b->mask, strlen(b->mask)), b->by,
             log_q(by->nick, by->nick_len), when,
             log_q(b->reason, strlen(b->reason)));
    return res;
}

bool sban_unset(const struct client *by, const char *target, size_t n,
                char mask[MASK_MAX + 1])
{
    struct sban b;
    mask[0] = '\0';
    if (!sban_parse(target, n, &b))
        return false;
    memcpy(mask, b.mask, sizeof b.mask);
    if (!sban_del(target, n))
        return false;
    log_info("event=server-unban mask=%s nick=%s",
             log_q(b.mask, strlen(b.mask)), log_q(by->nick, by->nick_len));
    return true;
}

/* ------------------------------------------------------------------------
 * The config file's bans
 * ------------------------------------------------------------------------ */

/* Who config bans are set by, as an operator: kills under them come from
 * "config". */
static struct client sban_config_by = {
    .nick = "config", .nick_len = 6, .oper = "config"};

bool sban_parse_config(const char *spec, struct sban *b, char *err, size_t cap)
{
    memset(b, 0, sizeof *b);
    size_t n = strcspn(spec, " \t");
    if (!sban_parse(spec, n, b)) {
        snprintf(err, cap,
                 "\"%.*s\" is not an address, a network or a "
                 "nick!user@host mask (or it would ban everyone)",
                 (int)(n < 200 ? n : 200), spec);
        return false;
    }
    const char *r = spec + n + strspn(spec + n, " \t");
    size_t rn = strlen(r), w = strcspn(r, " \t");
    int64_t secs;
    if (w > 0 && sban_parse_duration(r, w, &secs)) {
        snprintf(err, cap,
                 "config bans do not expire (\"%.*s\" reads as a "
                 "duration): remove the line and reload to lift one",
                 (int)w, r);
        return false;
    }
    if (rn > SBAN_REASON_MAX) {
        snprintf(err, cap, "a reason of at most %d bytes", SBAN_REASON_MAX);
        return false;
    }
    if (!sanitize_is_clean(r, rn)) {
        snprintf(err, cap,
                 "the reason is not clean UTF-8 (bad bytes, or "
                 "control or bidi characters)");
        return false;
    }
    memcpy(b->reason, r, rn);
    snprintf(b->by, sizeof b->by, "config");
    b->config = true;
    return true;
}

/* Returns true if mask is among the n bans of v. */
static bool sban_listed(const struct sban *v, size_t n, const char *mask)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(v[i].mask, mask) == 0)
            return true;
    return false;
}

/* Logs one change to the config's bans. */
static void sban_config_log(const char *change, const struct sban *b)
{
    log_info("event=config-ban change=%s mask=%s reason=%s", change,
             log_q(b->mask, strlen(b->mask)),
             log_q(b->reason, strlen(b->reason)));
}

/* Puts config ban b in force: new, with a new reason, or as it was. */
static void sban_config_put(const struct sban *b)
{
    size_t i = sban_find(b->mask);
    if (i < sban_n && sban_v[i].config) {
        if (strcmp(sban_v[i].reason, b->reason) != 0) {
            memcpy(sban_v[i].reason, b->reason, sizeof b->reason);
            sban_config_log("changed", b);
        }
        return;
    }
    if (i < sban_n) {
        log_info("event=config-ban change=replaced mask=%s by=%s",
                 log_q(b->mask, strlen(b->mask)), sban_v[i].by);
        sban_remove_at(i);
    }
    struct sban nb = *b;
    nb.set_at = sban_now();
    if (sban_add(&nb) == SBAN_FULL) {
        log_error("event=config-ban change=failed mask=%s error=full max=%d",
                  log_q(b->mask, strlen(b->mask)), SBAN_MAX);
        return;
    }
    sban_config_log("added", b);
    sban_enforce(&sban_config_by, &nb);
}

void sban_config_apply(const struct sban *v, size_t n)
{
    sban_expire();
    for (size_t i = sban_n; i-- > 0;) {
        if (sban_v[i].config && !sban_listed(v, n, sban_v[i].mask)) {
            sban_config_log("removed", &sban_v[i]);
            sban_remove_at(i);
        }
    }
    for (size_t i = 0; i < n; i++)
        sban_config_put(&v[i]);
}
