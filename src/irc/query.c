/*
 * query: what IRC users ask about each other and about the server. WHO
 * (with WHOX), WHOIS, WHOWAS, ISON, USERHOST, AWAY and SETNAME; ADMIN and
 * INFO; USERS and SUMMON, which RFC 2812 lets a server refuse.
 *
 * Text users are people like any other here: they show as user ~text on
 * their address, with the real name the text protocol gives them (see
 * text_open). Only IRC users can be invisible (user mode +i).
 *
 * WHO over a mask walks every person once and answers for at most
 * IRC_WHO_MAX of them, so a `WHO *` costs one pass and bounded output
 * however many people are on the server.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "core/mask.h"
#include "core/room.h"
#include "event/conn.h"
#include "irc/irc.h"
#include "lib/tbuf.h"

/* The most people one WHO answers for; past it, ERR_TOOMANYMATCHES. */
#define IRC_WHO_MAX 1000

/* The most nicks one USERHOST answers for (RFC 2812). */
#define IRC_USERHOST_MAX 5

/* What WHOIS and WHOWAS say the server is. */
#define IRC_SERVER_INFO "parley chat server"

/* WHOX fields, in the order their values are sent (bit i is letter i). */
static const char irc_whox_order[] = "tcuihsnfdlaor";

static struct tbuf irc_qbuf; /* a reply being built */

/* ------------------------------------------------------------------------
 * Who may see what
 * ------------------------------------------------------------------------ */

/* Returns true if c is an IRC user who set user mode +i. */
static bool irc_invisible(const struct client *c)
{
    return c->ops->deliver == irc_deliver &&
           ((const struct irc_session *)c)->invisible;
}

/* Returns true if a and b are in a room together (walks the fewer rooms). */
static bool irc_share_room(const struct client *a, const struct client *b)
{
    if (a->nrooms > b->nrooms) {
        const struct client *t = a;
        a = b;
        b = t;
    }
    for (size_t i = 0; i < a->nrooms; i++)
        if (chat_is_member(b, a->rooms[i].room))
            return true;
    return false;
}

/*
 * Returns true if asker may see that c is in r: always for itself and for
 * rooms asker is in; otherwise only if r is not secret and c not invisible.
 */
static bool irc_room_visible(const struct client *asker, const struct client *c,
                             const struct room *r)
{
    if (asker == c || chat_is_member(asker, r))
        return true;
    return !(r->modes & ROOM_SECRET) && !irc_invisible(c);
}

/* Returns the first room of c that asker may see c in, or NULL. */
static const struct room *irc_visible_room(const struct client *asker,
                                           const struct client *c)
{
    for (size_t i = 0; i < c->nrooms; i++)
        if (irc_room_visible(asker, c, c->rooms[i].room))
            return c->rooms[i].room;
    return NULL;
}

/* Writes the status prefix of membership m ("@", "+", "@+" for s with
 * multi-prefix, or "") into out. */
static void irc_status(const struct irc_session *s,
                       const struct chat_membership *m, char out[3])
{
    size_t n = 0;
    unsigned st = m ? m->status : 0;
    if (st & CHAT_OP)
        out[n++] = '@';
    if ((st & CHAT_VOICE) && (n == 0 || (s->caps & IRC_CAP_MULTI_PREFIX)))
        out[n++] = '+';
    out[n] = '\0';
}

/* Returns c's real name, or "" if it gave none. */
static const char *irc_realname(const struct client *c)
{
    return c->realname ? c->realname : "";
}

/* Returns the seconds since c last sent a message (or signed on). */
static long long irc_idle(const struct client *c, int64_t now)
{
    return now > c->last_spoke ? (long long)(now - c->last_spoke) : 0;
}

/* Returns true if target (a server parameter) names this server: its name
 * (or a mask of it), or the nick of someone on it. */
static bool irc_target_here(const char *target)
{
    size_t n = strlen(target);
    return mask_match(target, n, irc_conf.server_name,
                      strlen(irc_conf.server_name)) ||
           chat_find_nick(target, n) != NULL;
}

/* ------------------------------------------------------------------------
 * WHO
 * ------------------------------------------------------------------------ */

/* One WHO being answered. */
struct irc_who {
    struct irc_session *s;
    const char *mask; /* WHO by mask: the mask */
    size_t mlen;
    bool all;        /* the mask matches the server: everyone matches */
    bool whox;       /* '%' given: RPL_WHOSPCRPL with these fields */
    unsigned fields; /* bit i: irc_whox_order[i] asked for */
    char token[4];   /* WHOX's token: 1-3 digits, "0" if none valid */
    bool opers_only; /* flag 'o': server operators only */
    size_t sent;     /* replies sent */
    bool truncated;  /* someone more matched after IRC_WHO_MAX */
    int64_t now;
};

/* Reads WHO's second parameter, "[FLAGS][%FIELDS[,TOKEN]]", into w. */
static void irc_who_options(struct irc_who *w, const char *opt)
{
    const char *pct = strchr(opt, '%');
    size_t nflags = pct ? (size_t)(pct - opt) : strlen(opt);
    w->opers_only = memchr(opt, 'o', nflags) != NULL;
    if (pct == NULL)
        return;
    w->whox = true;
    const char *f = pct + 1;
    for (; *f && *f != ','; f++) {
        const char *at = strchr(irc_whox_order, *f);
        if (at)
            w->fields |= 1u << (at - irc_whox_order);
    }
    if (*f == ',') {
        size_t n = strlen(f + 1);
        if (n >= 1 && n <= 3 && strspn(f + 1, "0123456789") == n)
            memcpy(w->token, f + 1, n + 1);
    }
}

/* Sends the WHOX line for c (seen in chan, with flags) as w asked. */
static void irc_whox_reply(struct irc_who *w, const struct client *c,
                           const char *chan, const char *flags)
{
    char idle[24];
    snprintf(idle, sizeof idle, "%lld", irc_idle(c, w->now));
    /*
     * The value of each field of irc_whox_order: the address is the host
     * (parley shows the address as the host); hop count and account are 0
     * (one server, no accounts); there are no op levels; the real name,
     * last, goes after ':'.
     */
    const char *val[sizeof irc_whox_order - 1] = {
        w->token, chan,  c->user, c->host, c->host, irc_conf.server_name,
        c->nick,  flags, "0",     idle,    "0",     "n/a",
        NULL};
    struct tbuf *b = &irc_qbuf;
    b->n = 0;
    for (size_t i = 0; i < sizeof val / sizeof val[0]; i++) {
        if (!(w->fields & (1u << i)))
            continue;
        tbuf_str(b, val[i] ? " " : " :");
        tbuf_str(b, val[i] ? val[i] : irc_realname(c));
    }
    irc_send(w->s, ":%s 354 %s%.*s", irc_conf.server_name, irc_nick(w->s),
             (int)b->n, b->p ? b->p : "");
}

/* Answers w for c, seen in room r (NULL: none), unless w is full. */
static void irc_who_reply(struct irc_who *w, const struct client *c,
                          const struct room *r)
{
    if (w->opers_only && c->oper == NULL)
        return;
    if (w->sent >= IRC_WHO_MAX) {
        w->truncated = true;
        return;
    }
    w->sent++;
    char chan[ROOM_NAME_MAX + 2] = "*", flags[6], status[3];
    const struct chat_membership *m = NULL;
    if (r) {
        snprintf(chan, sizeof chan, "#%s", r->name);
        m = chat_membership(c, r);
    }
    irc_status(w->s, m, status);
    snprintf(flags, sizeof flags, "%c%s%s%s", c->away ? 'G' : 'H',
             c->oper ? "*" : "", irc_is_bot(c) ? "B" : "", status);
    if (w->whox)
        irc_whox_reply(w, c, chan, flags);
    else
        irc_num(w->s, "352", "%s %s %s %s %s %s :0 %s", chan, c->user, c->host,
                irc_conf.server_name, c->nick, flags, irc_realname(c));
}

/*
 * WHO #chan: its members, if w's asker is one of them; else, unless the
 * channel is secret, those who are not invisible.
 */
static void irc_who_channel(struct irc_who *w, const char *name)
{
    const struct room *r = irc_find_channel(name, strlen(name));
    if (r == NULL)
        return;
    const struct client *asker = &w->s->client;
    bool member = chat_is_member(asker, r);
    if (!member && (r->modes & ROOM_SECRET))
        return;
    for (size_t i = 0; i < r->nmembers && !w->truncated; i++)
        if (member || !irc_invisible(r->members[i]))
            irc_who_reply(w, r->members[i], r);
}

/* Returns true if c matches w's mask: nick, user name or host. */
static bool irc_who_matches(const struct irc_who *w, const struct client *c)
{
    return w->all || mask_match(w->mask, w->mlen, c->nick, c->nick_len) ||
           mask_match(w->mask, w->mlen, c->user, strlen(c->user)) ||
           mask_match(w->mask, w->mlen, c->host, strlen(c->host));
}

/* chat_foreach_client helper: answers for c if it matches and is visible
 * (not invisible, or in a room with the asker, or the asker itself). */
static void irc_who_visit(struct client *c, void *arg)
{
    struct irc_who *w = arg;
    const struct client *asker = &w->s->client;
    if (w->truncated || !irc_who_matches(w, c))
        return;
    if (c != asker && irc_invisible(c) && !irc_share_room(asker, c))
        return;
    irc_who_reply(w, c, irc_visible_room(asker, c));
}

/* WHO MASK: one person if MASK is a nick, else everyone it matches. */
static void irc_who_mask(struct irc_who *w, const char *mask)
{
    if (strcmp(mask, "0") == 0) /* RFC 1459: "0" is everyone */
        mask = "*";
    w->mask = mask;
    w->mlen = strlen(mask);
    if (!strpbrk(mask, "*?") && chat_nick_valid(mask, w->mlen)) {
        const struct client *c = chat_find_nick(mask, w->mlen);
        if (c)
            irc_who_reply(w, c, irc_visible_room(&w->s->client, c));
        return;
    }
    w->all = mask_match(mask, w->mlen, irc_conf.server_name,
                        strlen(irc_conf.server_name));
    chat_foreach_client(irc_who_visit, w);
}

/* WHO [MASK [FLAGS][%FIELDS[,TOKEN]]] */
void irc_cmd_who(struct irc_session *s, struct irc_msg *m)
{
    char mask[IRC_BODY_MAX + 1], opt[IRC_BODY_MAX + 1];
    irc_arg(m, 0, mask, sizeof mask);
    irc_arg(m, 1, opt, sizeof opt);
    if (mask[0] == '\0')
        snprintf(mask, sizeof mask, "*");
    struct irc_who w = {.s = s, .token = "0", .now = (int64_t)time(NULL)};
    irc_who_options(&w, opt);
    if (mask[0] == '#')
        irc_who_channel(&w, mask);
    else
        irc_who_mask(&w, mask);
    if (w.truncated)
        irc_num(s, "416", "WHO :Output truncated at %d replies", IRC_WHO_MAX);
    irc_num(s, "315", "%s :End of WHO list", mask);
}

/* ------------------------------------------------------------------------
 * WHOIS and WHOWAS
 * ------------------------------------------------------------------------ */

/* Sends RPL_WHOISCHANNELS for c: the channels s may see c in, with c's
 * status there, in as many lines as they need. */
static void irc_whois_channels(struct irc_session *s, const struct client *c)
{
    struct tbuf *b = &irc_qbuf;
    b->n = 0;
    /* ":server 319 asker nick :" */
    size_t head =
        strlen(irc_conf.server_name) + strlen(irc_nick(s)) + c->nick_len + 9;
    for (size_t i = 0; i <= c->nrooms; i++) {
        const struct chat_membership *m = i < c->nrooms ? &c->rooms[i] : NULL;
        if (m && !irc_room_visible(&s->client, c, m->room))
            continue;
        size_t add = m ? m->room->name_len + 4 : 0;
        if (b->n > 0 && (m == NULL || head + b->n + add > IRC_BODY_MAX)) {
            irc_num(s, "319", "%s :%.*s", c->nick, (int)b->n, b->p);
            b->n = 0;
        }
        if (m == NULL)
            break;
        char status[3];
        irc_status(s, m, status);
        tbuf_printf(b, "%s%s#%s", b->n ? " " : "", status, m->room->name);
    }
}

/* Sends the WHOIS numerics about c (all but the end) to s. */
static void irc_whois(struct irc_session *s, const struct client *c)
{
    irc_num(s, "311", "%s %s %s * :%s", c->nick, c->user, c->host,
            irc_realname(c));
    irc_whois_channels(s, c);
    irc_num(s, "312", "%s %s :%s", c->nick, irc_conf.server_name,
            IRC_SERVER_INFO);
    if (c->oper)
        irc_num(s, "313", "%s :is an IRC operator", c->nick);
    if (irc_is_bot(c))
        irc_num(s, "335", "%s :is a bot", c->nick);
    if (c->away)
        irc_num(s, "301", "%s :%s", c->nick, c->away);
    /* RPL_WHOISCERTFP, to the user and to server operators: an IRC user's
     * owner is its session (other protocols' users show none). */
    const char *fp =
        c->ops == s->client.ops
            ? conn_certfp(((const struct irc_session *)c->owner)->conn)
            : NULL;
    if (fp && (c == &s->client || s->client.oper))
        irc_num(s, "276", "%s :has client certificate fingerprint %s", c->nick,
                fp);
    irc_num(s, "317", "%s %lld %lld :seconds idle, signon time", c->nick,
            irc_idle(c, (int64_t)time(NULL)), (long long)c->signon);
    irc_meta_whois(s, c); /* RPL_WHOISKEYVALUE, with metadata */
}

/* WHOIS [SERVER] NICK[,NICK...]: the first nick only (TARGMAX WHOIS:1). */
void irc_cmd_whois(struct irc_session *s, struct irc_msg *m)
{
    char arg[IRC_BODY_MAX + 1];
    irc_arg(m, m->nparams > 1 ? 1 : 0, arg, sizeof arg);
    if (arg[0] == '\0') {
        irc_num(s, "431", ":No nickname given");
        return;
    }
    if (m->nparams > 1) {
        char target[IRC_BODY_MAX + 1];
        if (!irc_target_here(irc_arg(m, 0, target, sizeof target))) {
            irc_num(s, "402", "%s :No such server", target);
            irc_num(s, "318", "%s :End of /WHOIS list", arg);
            return;
        }
    }
    size_t n = strcspn(arg, ",");
    const struct client *c = chat_find_nick(arg, n);
    if (c)
        irc_whois(s, c);
    else
        irc_num(s, "401", "%.*s :No such nick/channel", (int)n, arg);
    irc_num(s, "318", "%s :End of /WHOIS list", arg);
}

/* chat_whowas helper: RPL_WHOWASUSER and RPL_WHOISSERVER for one. */
static void irc_whowas_one(const struct chat_was *w, void *arg)
{
    struct irc_session *s = arg;
    char when[64];
    time_t t = (time_t)w->when;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%a %b %d %H:%M:%S %Y UTC", &tm);
    irc_num(s, "314", "%s %s %s * :%s", w->nick, w->user, w->host, w->realname);
    irc_num(s, "312", "%s %s :%s", w->nick, irc_conf.server_name, when);
}

/* WHOWAS NICK [COUNT]: the newest COUNT (all if none or not positive). */
void irc_cmd_whowas(struct irc_session *s, struct irc_msg *m)
{
    char nick[IRC_BODY_MAX + 1], count[16];
    irc_arg(m, 0, nick, sizeof nick);
    if (nick[0] == '\0') {
        irc_num(s, "431", ":No nickname given");
        return;
    }
    long max = strtol(irc_arg(m, 1, count, sizeof count), NULL, 10);
    size_t n = strcspn(nick, ",");
    if (chat_whowas(nick, n, max > 0 ? (size_t)max : (size_t)-1, irc_whowas_one,
                    s) == 0)
        irc_num(s, "406", "%.*s :There was no such nickname", (int)n, nick);
    irc_num(s, "369", "%s :End of WHOWAS", nick);
}

/* ------------------------------------------------------------------------
 * ISON and USERHOST
 * ------------------------------------------------------------------------ */

/*
 * Calls fn for each word of m's parameters (nicks may come as parameters,
 * as words of one trailing parameter, or both), up to max words. Stops
 * early if fn returns false.
 */
static void irc_each_word(const struct irc_msg *m, size_t max,
                          bool (*fn)(const char *w, size_t n, void *arg),
                          void *arg)
{
    size_t words = 0;
    for (size_t i = 0; i < m->nparams; i++) {
        const char *p = m->params[i].p, *end = p + m->params[i].n;
        while (p < end && words < max) {
            const char *sp = memchr(p, ' ', (size_t)(end - p));
            const char *stop = sp ? sp : end;
            if (stop > p) {
                words++;
                if (!fn(p, (size_t)(stop - p), arg))
                    return;
            }
            p = stop + 1;
        }
    }
}

/* Appends item (n bytes) to irc_qbuf, space-separated, if the line of a
 * reply to s with it stays within IRC's 512 bytes; returns false if not. */
static bool irc_add_item(struct irc_session *s, const char *item, size_t n)
{
    /* ":server NNN nick :" */
    size_t head = strlen(irc_conf.server_name) + strlen(irc_nick(s)) + 8;
    if (head + irc_qbuf.n + 1 + n > IRC_BODY_MAX)
        return false;
    if (irc_qbuf.n)
        tbuf_put(&irc_qbuf, " ", 1);
    tbuf_put(&irc_qbuf, item, n);
    return true;
}

/* ISON helper: adds the nick if someone has it, as they spell it. */
static bool irc_ison_one(const char *nick, size_t n, void *arg)
{
    const struct client *c = chat_find_nick(nick, n);
    return c == NULL || irc_add_item(arg, c->nick, c->nick_len);
}

/* ISON NICK [NICK...]: RPL_ISON with those present. */
void irc_cmd_ison(struct irc_session *s, struct irc_msg *m)
{
    irc_qbuf.n = 0;
    irc_each_word(m, SIZE_MAX, irc_ison_one, s);
    irc_num(s, "303", ":%.*s", (int)irc_qbuf.n, irc_qbuf.p ? irc_qbuf.p : "");
}

/* USERHOST helper: adds "nick=+user@host" ('-' if away; "nick*=" for an
 * operator) if present. */
static bool irc_userhost_one(const char *nick, size_t n, void *arg)
{
    const struct client *c = chat_find_nick(nick, n);
    if (c == NULL)
        return true;
    char item[CHAT_PREFIX_MAX + 4];
    int k = snprintf(item, sizeof item, "%s%s=%c%s@%s", c->nick,
                     c->oper ? "*" : "", c->away ? '-' : '+', c->user, c->host);
    return irc_add_item(arg, item, (size_t)k);
}

/* USERHOST NICK [NICK...]: RPL_USERHOST for up to five. */
void irc_cmd_userhost(struct irc_session *s, struct irc_msg *m)
{
    irc_qbuf.n = 0;
    irc_each_word(m, IRC_USERHOST_MAX, irc_userhost_one, s);
    irc_num(s, "302", ":%.*s", (int)irc_qbuf.n, irc_qbuf.p ? irc_qbuf.p : "");
}

/* ------------------------------------------------------------------------
 * AWAY and SETNAME
 * ------------------------------------------------------------------------ */

/* AWAY [:TEXT]: away with TEXT (cut to AWAYLEN), or back without. */
void irc_cmd_away(struct irc_session *s, struct irc_msg *m)
{
    const char *text = m->nparams ? m->params[0].p : "";
    size_t n = m->nparams ? m->params[0].n : 0;
    if (n == 0) {
        chat_set_away(&s->client, NULL, 0);
        irc_num(s, "305", ":You are no longer marked as being away");
        return;
    }
    if (n > IRC_AWAYLEN) { /* cut between UTF-8 characters */
        n = IRC_AWAYLEN;
        while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
            n--;
    }
    chat_set_away(&s->client, text, n);
    irc_num(s, "306", ":You have been marked as being away");
}

/*
 * SETNAME :REALNAME (IRCv3 setname): 1 to CHAT_REALNAME_MAX bytes, else
 * FAIL, which that spec requires whatever the caps. Those with the cap in
 * s's channels, and s itself, get SETNAME (chat_set_realname).
 */
void irc_cmd_setname(struct irc_session *s, struct irc_msg *m)
{
    const struct irc_slice *r = &m->params[0];
    if (r->n == 0 || r->n > CHAT_REALNAME_MAX) {
        irc_send(s, ":%s FAIL SETNAME INVALID_REALNAME :Realname is not valid",
                 irc_conf.server_name);
        return;
    }
    chat_set_realname(&s->client, r->p, r->n);
}

/* ------------------------------------------------------------------------
 * The server: ADMIN, INFO, USERS, SUMMON
 * ------------------------------------------------------------------------ */

/* ADMIN [TARGET]: parley keeps no administrative contact, and says so. */
void irc_cmd_admin(struct irc_session *s, struct irc_msg *m)
{
    char target[IRC_BODY_MAX + 1];
    if (m->nparams > 0 &&
        !irc_target_here(irc_arg(m, 0, target, sizeof target))) {
        irc_num(s, "402", "%s :No such server", target);
        return;
    }
    irc_num(s, "256", "%s :Administrative info", irc_conf.server_name);
    irc_num(s, "257", ":Location not configured");
    irc_num(s, "258", ":Server software: parleyd %s", PARLEY_VERSION);
    irc_num(s, "259", ":No administrative e-mail address configured");
}

/* INFO [TARGET]: what the server is, and since when it runs. */
void irc_cmd_info(struct irc_session *s, struct irc_msg *m)
{
    char target[IRC_BODY_MAX + 1];
    if (m->nparams > 0 &&
        !irc_target_here(irc_arg(m, 0, target, sizeof target))) {
        irc_num(s, "402", "%s :No such server", target);
        return;
    }
    char since[64];
    time_t t = (time_t)irc_conf.created;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(since, sizeof since, "%Y-%m-%d %H:%M:%S UTC", &tm);
    irc_num(s, "371", ":parleyd %s, a chat server", PARLEY_VERSION);
    irc_num(s, "371",
            ":Text (telnet) and IRC clients share its nicks and "
            "rooms: a room \"dev\" is the channel #dev.");
    irc_num(s, "371", ":Running since %s", since);
    irc_num(s, "374", ":End of /INFO list");
}

/*
 * LINKS [[REMOTE] MASK]: the servers this one knows, whose names match
 * MASK; parley is one server, so the answer is itself or nothing.
 */
void irc_cmd_links(struct irc_session *s, struct irc_msg *m)
{
    char remote[IRC_BODY_MAX + 1], mask[IRC_BODY_MAX + 1] = "*";
    if (m->nparams > 1 &&
        !irc_target_here(irc_arg(m, 0, remote, sizeof remote))) {
        irc_num(s, "402", "%s :No such server", remote);
        return;
    }
    if (m->nparams > 0)
        irc_arg(m, m->nparams > 1 ? 1 : 0, mask, sizeof mask);
    if (mask[0] == '\0')
        strcpy(mask, "*");
    const char *name = irc_conf.server_name;
    if (mask_match(mask, strlen(mask), name, strlen(name)))
        irc_num(s, "364", "%s %s :0 %s", name, name, irc_conf.server_info);
    irc_num(s, "365", "%s :End of /LINKS list", mask);
}

/* USERS: disabled, as RFC 2812 allows (there are no host logins here). */
void irc_cmd_users(struct irc_session *s, struct irc_msg *m)
{
    (void)m;
    irc_num(s, "446", ":USERS has been disabled");
}

/* SUMMON: disabled, as RFC 2812 allows. */
void irc_cmd_summon(struct irc_session *s, struct irc_msg *m)
{
    (void)m;
    irc_num(s, "445", ":SUMMON has been disabled");
}
