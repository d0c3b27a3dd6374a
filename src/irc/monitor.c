/*
 * monitor: IRCv3 MONITOR (extensions/monitor.md), the command and its
 * numerics. The lists are the core's (core/watch.h): it tells irc_watched
 * when a watched nick comes or goes, whoever holds it (an IRC or a text
 * user), and hands watchers the AWAY and SETNAME events of the nicks they
 * watch (extended-monitor; out.c shows them to those who took it).
 *
 *   MONITOR + a,b,c   watch (730 RPL_MONONLINE / 731 RPL_MONOFFLINE now)
 *   MONITOR - a,b,c   stop watching (no reply)
 *   MONITOR C         stop watching everyone (no reply)
 *   MONITOR L         732 RPL_MONLIST lines, 733 RPL_ENDOFMONLIST
 *   MONITOR S         730 and 731 for every nick watched
 */
#include <stdio.h>
#include <string.h>

#include "core/watch.h"
#include "irc/irc.h"
#include "lib/tbuf.h"

/* A numeric listing nicks ("a,b!u@h,c") over as many lines as it needs. */
struct irc_mon {
    const char *num;
    struct tbuf b;
};

static struct irc_mon irc_mon_on = {"730", {0}};
static struct irc_mon irc_mon_off = {"731", {0}};
static struct irc_mon irc_mon_list = {"732", {0}};

/* Sends what l gathered to s as one line, if anything. */
static void irc_mon_flush(struct irc_session *s, struct irc_mon *l)
{
    if (l->b.n > 0)
        irc_num(s, l->num, ":%.*s", (int)l->b.n, l->b.p);
    l->b.n = 0;
}

/* Adds item (n bytes) to l, first sending l's line if it would not fit. */
static void irc_mon_put(struct irc_session *s, struct irc_mon *l,
                        const char *item, size_t n)
{
    /* ":SERVER 730 NICK :" and the list make one line of IRC_BODY_MAX. */
    size_t head = strlen(irc_conf.server_name) + strlen(irc_nick(s)) + 8;
    if (l->b.n > 0 && head + l->b.n + 1 + n > IRC_BODY_MAX)
        irc_mon_flush(s, l);
    if (l->b.n > 0)
        tbuf_put(&l->b, ",", 1);
    tbuf_put(&l->b, item, n);
}

/* Adds nick (len bytes) to the online list if someone has it, else offline. */
static void irc_mon_status(struct irc_session *s, const char *nick, size_t len)
{
    const struct client *c = chat_find_nick(nick, len);
    if (c == NULL) {
        irc_mon_put(s, &irc_mon_off, nick, len);
        return;
    }
    char who[CHAT_PREFIX_MAX + 1];
    irc_mon_put(s, &irc_mon_on, who, chat_prefix(c, who, sizeof who));
}

/* Sends the online and offline lists gathered. */
static void irc_mon_flush_status(struct irc_session *s)
{
    irc_mon_flush(s, &irc_mon_on);
    irc_mon_flush(s, &irc_mon_off);
}

/*
 * Sends 734 ERR_MONLISTFULL with the targets not added (rest, n bytes, as
 * sent): cut at a comma to fit one line, "*" if they cannot be one word.
 */
static void irc_mon_full(struct irc_session *s, const char *rest, size_t n)
{
    const char *space = memchr(rest, ' ', n);
    if (space)
        n = (size_t)(space - rest);
    size_t room = IRC_BODY_MAX - strlen(irc_conf.server_name) -
                  strlen(irc_nick(s)) - 48; /* numbers and the text */
    while (n > room) {
        const char *comma = memrchr(rest, ',', n);
        n = comma ? (size_t)(comma - rest) : 0;
    }
    if (n == 0 || rest[0] == ':')
        rest = "*", n = 1;
    irc_num(s, "734", "%d %.*s :Monitor list is full", IRC_MONITOR_MAX, (int)n,
            rest);
}

/*
 * MONITOR + list: adds each valid nick (others are skipped, as a mask
 * never matches anyone), then says who of them is online and who is not.
 * At the limit, 734 names the targets left and they are not added.
 */
static void irc_monitor_add(struct irc_session *s, const struct irc_slice *t)
{
    const char *p = t->p, *end = t->p + t->n, *full = NULL;
    while (p < end && full == NULL) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        size_t len = (size_t)((comma ? comma : end) - p);
        switch (watch_add(&s->client, p, len, IRC_MONITOR_MAX)) {
        case WATCH_ADDED:
        case WATCH_ALREADY:
            irc_mon_status(s, p, len);
            break;
        case WATCH_FULL:
            full = p;
            break;
        case WATCH_INVALID:
            break;
        }
        p = comma ? comma + 1 : end;
    }
    irc_mon_flush_status(s);
    if (full)
        irc_mon_full(s, full, (size_t)(end - full));
}

/* MONITOR - list: removes each nick given; says nothing. */
static void irc_monitor_del(struct irc_session *s, const struct irc_slice *t)
{
    const char *p = t->p, *end = t->p + t->n;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        size_t len = (size_t)((comma ? comma : end) - p);
        watch_del(&s->client, p, len);
        p = comma ? comma + 1 : end;
    }
}

/* MONITOR L: the nicks watched, as they were given, then the end. */
static void irc_monitor_list(struct irc_session *s)
{
    for (size_t i = 0; i < watch_count(&s->client); i++) {
        size_t len;
        const char *nick = watch_nick(&s->client, i, &len);
        irc_mon_put(s, &irc_mon_list, nick, len);
    }
    irc_mon_flush(s, &irc_mon_list);
    irc_num(s, "733", ":End of MONITOR list");
}

/* MONITOR S: who of the nicks watched is online, and who is not. */
static void irc_monitor_status(struct irc_session *s)
{
    for (size_t i = 0; i < watch_count(&s->client); i++) {
        size_t len;
        const char *nick = watch_nick(&s->client, i, &len);
        irc_mon_status(s, nick, len);
    }
    irc_mon_flush_status(s);
}

void irc_cmd_monitor(struct irc_session *s, struct irc_msg *m)
{
    const struct irc_slice *op = &m->params[0];
    char c = op->n == 1 ? op->p[0] : '?';
    if ((c == '+' || c == '-') && m->nparams < 2) {
        irc_num(s, "461", "MONITOR :Not enough parameters");
        return;
    }
    switch (c) {
    case '+':
        irc_monitor_add(s, &m->params[1]);
        break;
    case '-':
        irc_monitor_del(s, &m->params[1]);
        break;
    case 'C':
    case 'c':
        watch_clear(&s->client);
        break;
    case 'L':
    case 'l':
        irc_monitor_list(s);
        break;
    case 'S':
    case 's':
        irc_monitor_status(s);
        break;
    default:
        irc_fail(s, "MONITOR", "INVALID_PARAMS", NULL,
                 "Unknown subcommand: use +, -, C, L or S");
    }
}

void irc_watched(struct client *watcher, const char *nick, size_t len,
                 const struct client *who)
{
    struct irc_session *s = (struct irc_session *)watcher;
    if (who == NULL) {
        irc_num(s, "731", ":%.*s", (int)len, nick);
        return;
    }
    char prefix[CHAT_PREFIX_MAX + 1];
    chat_prefix(who, prefix, sizeof prefix);
    irc_num(s, "730", ":%s", prefix);
}
