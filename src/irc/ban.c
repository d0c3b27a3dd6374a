/*
 * ban: server bans in IRC, the way ircd-hybrid and its descendants spell
 * them. KLINE and DLINE set one (by mask, by address or network), UNKLINE
 * and UNDLINE lift one, STATS K and STATS D list them; and a client a ban
 * matches is turned away when it registers.
 *
 * The bans are the core's (core/sban.h), shared with the text protocol's
 * /serverban, so a K-line set here keeps out text users too. Only server
 * operators may use these commands (481 otherwise).
 *
 *   KLINE [DURATION] MASK [:REASON]       nick!user@host, user@host, ...
 *   DLINE [DURATION] ADDRESS[/BITS] [:REASON]
 *   UNKLINE MASK, UNDLINE ADDRESS[/BITS]
 *   STATS K (or k): 216 per ban; STATS D (or d): 225 per ban; 219 ends
 *
 * DURATION is minutes, or a number with s, m, h, d or w.
 */
#include <stdio.h>
#include <string.h>

#include "core/sban.h"
#include "event/conn.h"
#include "irc/irc.h"
#include "lib/sanitize.h"

/* Returns true if s is an operator; else sends ERR_NOPRIVILEGES. */
static bool irc_ban_oper(struct irc_session *s)
{
    if (s->client.oper)
        return true;
    irc_num(s, "481", ":Permission Denied- You're not an IRC operator");
    return false;
}

/* Sends s a server NOTICE (printf-formatted). */
#define irc_ban_notice(s, fmt, ...)                                            \
    irc_send((s), ":%s NOTICE %s :*** " fmt, irc_conf.server_name,             \
             irc_nick(s), __VA_ARGS__)

/*
 * The part of KLINE and DLINE after the name: [DURATION] TARGET [:REASON]
 * into b; addr_only refuses masks. Returns false after telling s why.
 */
static bool irc_ban_read(struct irc_session *s, struct irc_msg *m,
                         const char *what, bool addr_only, struct sban *b)
{
    size_t i = 0;
    int64_t secs = 0;
    if (m->nparams > 1 &&
        sban_parse_duration(m->params[0].p, m->params[0].n, &secs))
        i = 1;
    const struct irc_slice *t = &m->params[i];
    if (!sban_parse(t->p, t->n, b) || (addr_only && b->kind != SBAN_ADDR)) {
        irc_ban_notice(s, "Invalid %s: %.*s", what, (int)t->n, t->p);
        return false;
    }
    b->expires = secs ? sban_now() + secs : 0;
    if (m->nparams > i + 1) {
        const struct irc_slice *r = &m->params[i + 1];
        char clean[SANITIZE_MAX(SBAN_REASON_MAX) + 1];
        size_t n, cut = r->n < SBAN_REASON_MAX ? r->n : SBAN_REASON_MAX;
        const char *p = sanitize_strip_format(r->p, cut, clean, &n);
        n = irc_fit_utf8(p, n, SBAN_REASON_MAX);
        memcpy(b->reason, p, n);
        b->reason[n] = '\0';
    }
    return true;
}

/* KLINE or DLINE: sets the ban and tells s what it did. */
static void irc_ban_set(struct irc_session *s, struct irc_msg *m,
                        const char *what, bool addr_only)
{
    if (!irc_ban_oper(s))
        return;
    struct sban b = {0};
    if (!irc_ban_read(s, m, what, addr_only, &b))
        return;
    enum sban_result res = sban_set(&s->client, &b);
    if (res == SBAN_FULL) {
        irc_ban_notice(s, "%s list is full (max %d)", what, SBAN_MAX);
        return;
    }
    if (res == SBAN_CONFIG) {
        irc_ban_notice(s, "%s for [%s] " SBAN_CONFIG_HINT, what, b.mask);
        return;
    }
    char when[SBAN_TIME_MAX];
    sban_format_expiry(&b, when);
    irc_ban_notice(s, "%s %s for [%s], expires %s: %s",
                   res == SBAN_ADDED ? "Added" : "Updated", what, b.mask, when,
                   b.reason[0] ? b.reason : "no reason given");
    size_t killed = sban_enforce(&s->client, &b);
    if (killed > 0)
        irc_ban_notice(s, "%zu disconnected under it", killed);
}

/* KLINE [DURATION] MASK [:REASON] */
void irc_cmd_kline(struct irc_session *s, struct irc_msg *m)
{
    irc_ban_set(s, m, "K-Line", false);
}

/* DLINE [DURATION] ADDRESS[/BITS] [:REASON] */
void irc_cmd_dline(struct irc_session *s, struct irc_msg *m)
{
    irc_ban_set(s, m, "D-Line", true);
}

/* UNKLINE or UNDLINE: lifts a ban and tells s. */
static void irc_ban_unset(struct irc_session *s, struct irc_msg *m,
                          const char *what)
{
    if (!irc_ban_oper(s))
        return;
    const struct irc_slice *t = &m->params[0];
    char mask[MASK_MAX + 1];
    if (sban_unset(&s->client, t->p, t->n, mask))
        irc_ban_notice(s, "%s for [%s] is removed", what, mask);
    else if (mask[0] && sban_from_config(mask))
        irc_ban_notice(s, "%s for [%s] " SBAN_CONFIG_HINT, what, mask);
    else if (mask[0])
        irc_ban_notice(s, "No %s for [%s] found", what, mask);
    else
        irc_ban_notice(s, "Invalid %s: %.*s", what, (int)t->n, t->p);
}

/* UNKLINE MASK */
void irc_cmd_unkline(struct irc_session *s, struct irc_msg *m)
{
    irc_ban_unset(s, m, "K-Line");
}

/* UNDLINE ADDRESS[/BITS] */
void irc_cmd_undline(struct irc_session *s, struct irc_msg *m)
{
    irc_ban_unset(s, m, "D-Line");
}

/* What STATS lists, and to whom. */
struct irc_ban_stats {
    struct irc_session *s;
    enum sban_kind kind;
};

/* sban_foreach helper: one 216 (K) or 225 (D) line per ban of the kind. */
static void irc_ban_stat(const struct sban *b, void *arg)
{
    const struct irc_ban_stats *st = arg;
    if (b->kind != st->kind)
        return;
    char when[SBAN_TIME_MAX];
    sban_format_expiry(b, when);
    bool k = st->kind == SBAN_MASK;
    irc_num(st->s, k ? "216" : "225", "%c %s %s %s :%s", k ? 'K' : 'D', b->mask,
            when, b->by, b->reason[0] ? b->reason : "no reason given");
}

/* STATS LETTER: K and D list the bans (operators only); any letter ends. */
void irc_cmd_stats(struct irc_session *s, struct irc_msg *m)
{
    char letter = m->params[0].n > 0 ? m->params[0].p[0] : '*';
    if (letter == 'k' || letter == 'K' || letter == 'd' || letter == 'D') {
        if (!irc_ban_oper(s))
            return;
        struct irc_ban_stats st = {s, (letter | 0x20) == 'k' ? SBAN_MASK
                                                             : SBAN_ADDR};
        sban_foreach(irc_ban_stat, &st);
    }
    if ((unsigned char)letter <= ' ')
        letter = '*';
    irc_num(s, "219", "%c :End of /STATS report", letter);
}

bool irc_ban_refused(struct irc_session *s)
{
    const struct sban *b = sban_match_person(&s->client);
    if (b == NULL)
        return false;
    const char *why = b->reason[0] ? b->reason : "no reason given";
    irc_num(s, "465", ":You are banned from this server- %s", why);
    char line[IRC_BODY_MAX + 128];
    snprintf(line, sizeof line, "ERROR :Closing Link: %s[%s] (Banned: %s)\r\n",
             s->client.nick, conn_host(s->conn), why);
    chat_unregister(&s->client, NULL, 0, false);
    s->gone = true;
    conn_close_with(s->conn, CONN_KILLED, line);
    return true;
}
