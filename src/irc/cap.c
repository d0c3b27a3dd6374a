/*
 * cap: IRCv3 capability negotiation (CAP LS, REQ, LIST, END), as
 * extensions/capability-negotiation.md has it, version 302 included.
 *
 * Only what is implemented is offered; the metadata drafts carry their
 * limits as a value (in a 302 CAP LS only). A client that
 * starts negotiating before registration holds registration until CAP END.
 * The set of capabilities never changes while the server runs, so
 * cap-notify (implied by 302) never has a CAP NEW or DEL to send.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "irc/irc.h"
#include "lib/tbuf.h"

static const struct {
    const char *name;
    uint32_t bit;
} irc_caps[] = {
    {"away-notify", IRC_CAP_AWAY_NOTIFY},
    {"batch", IRC_CAP_BATCH},
    {"cap-notify", IRC_CAP_CAP_NOTIFY},
    {"draft/chathistory", IRC_CAP_CHATHISTORY},
    {"draft/metadata-2", IRC_CAP_METADATA_2},
    {"draft/metadata-3", IRC_CAP_METADATA},
    {"draft/read-marker", IRC_CAP_READ_MARKER},
    {"echo-message", IRC_CAP_ECHO_MESSAGE},
    {"extended-join", IRC_CAP_EXTENDED_JOIN},
    {"extended-monitor", IRC_CAP_EXTENDED_MONITOR},
    {"invite-notify", IRC_CAP_INVITE_NOTIFY},
    {"labeled-response", IRC_CAP_LABELED_RESPONSE},
    {"message-tags", IRC_CAP_MESSAGE_TAGS},
    {"multi-prefix", IRC_CAP_MULTI_PREFIX},
    {"server-time", IRC_CAP_SERVER_TIME},
    {"setname", IRC_CAP_SETNAME},
    {"standard-replies", IRC_CAP_STANDARD_REPLIES},
    {"userhost-in-names", IRC_CAP_USERHOST_IN_NAMES},
};

#define IRC_NCAPS (sizeof irc_caps / sizeof irc_caps[0])

/* Returns the value of the capability bit (after '='), or NULL for none. */
static const char *irc_cap_value(uint32_t bit)
{
    static char meta[96];
    if (!(bit & (IRC_CAP_METADATA | IRC_CAP_METADATA_2)))
        return NULL;
    snprintf(meta, sizeof meta,
             "before-connect,max-subs=%d,max-keys=%d,max-value-bytes=%d",
             IRC_META_MAX_SUBS, IRC_META_MAX_KEYS, IRC_META_MAX_VALUE);
    return meta;
}

/* The longest list of capabilities on one line of a 302 reply. */
#define IRC_CAP_LINE 400

/* Returns the bit of the capability name (len bytes, case-sensitive), or 0. */
static uint32_t irc_cap_bit(const char *name, size_t len)
{
    for (size_t i = 0; i < IRC_NCAPS; i++)
        if (strlen(irc_caps[i].name) == len &&
            memcmp(irc_caps[i].name, name, len) == 0)
            return irc_caps[i].bit;
    return 0;
}

/* Sends one reply line of sub-command sub; more: a 302 line with more to come.
 */
static void irc_cap_line(struct irc_session *s, const char *sub, bool more,
                         const struct tbuf *b)
{
    irc_send(s, ":%s CAP %s %s %s:%.*s", irc_conf.server_name, irc_nick(s), sub,
             more ? "* " : "", (int)b->n, b->p ? b->p : "");
}

/*
 * Sends the capabilities whose bits are in mask, as sub-command sub: on
 * several lines, all but the last marked "*", if they are long and s speaks
 * 302; else on one line (an empty list too).
 */
static void irc_cap_list(struct irc_session *s, const char *sub, uint32_t mask)
{
    struct tbuf b = {0};
    for (size_t i = 0; i < IRC_NCAPS; i++) {
        if (!(mask & irc_caps[i].bit))
            continue;
        /* Values only in a 302 CAP LS, as capability negotiation says. */
        const char *value = s->cap_version >= 302 && strcmp(sub, "LS") == 0
                                ? irc_cap_value(irc_caps[i].bit)
                                : NULL;
        size_t len = strlen(irc_caps[i].name);
        size_t vlen = value ? 1 + strlen(value) : 0;
        if (s->cap_version >= 302 && b.n > 0 &&
            b.n + 1 + len + vlen > IRC_CAP_LINE) {
            irc_cap_line(s, sub, true, &b);
            b.n = 0;
        }
        if (b.n)
            tbuf_put(&b, " ", 1);
        tbuf_put(&b, irc_caps[i].name, len);
        if (value) {
            tbuf_put(&b, "=", 1);
            tbuf_str(&b, value);
        }
    }
    irc_cap_line(s, sub, false, &b);
    free(b.p);
}

/* CAP REQ :a -b c: all or nothing. */
static void irc_cap_req(struct irc_session *s, const struct irc_slice *list)
{
    uint32_t on = 0, off = 0;
    const char *p = list->p, *end = list->p + list->n;
    while (p < end) {
        while (p < end && *p == ' ')
            p++;
        const char *w = p;
        while (p < end && *p != ' ')
            p++;
        if (p == w)
            break;
        bool minus = *w == '-';
        uint32_t bit = irc_cap_bit(w + minus, (size_t)(p - w) - minus);
        if (bit == 0 ||
            (minus && bit == IRC_CAP_CAP_NOTIFY && s->cap_version >= 302)) {
            irc_send(s, ":%s CAP %s NAK :%.*s", irc_conf.server_name,
                     irc_nick(s), (int)list->n, list->p);
            return;
        }
        *(minus ? &off : &on) |= bit;
    }
    s->caps = (s->caps | on) & ~off;
    irc_send(s, ":%s CAP %s ACK :%.*s", irc_conf.server_name, irc_nick(s),
             (int)list->n, list->p);
}

void irc_cmd_cap(struct irc_session *s, struct irc_msg *m)
{
    char sub[16];
    irc_arg(m, 0, sub, sizeof sub);
    uint32_t all = 0;
    for (size_t i = 0; i < IRC_NCAPS; i++)
        all |= irc_caps[i].bit;
    if (strcasecmp(sub, "LS") == 0) {
        if (!s->registered)
            s->cap_wait = true;
        char v[16];
        if (strtol(irc_arg(m, 1, v, sizeof v), NULL, 10) >= 302) {
            s->cap_version = 302; /* the newest we know; kept from now on */
            s->caps |= IRC_CAP_CAP_NOTIFY; /* implied by 302 */
        }
        irc_cap_list(s, "LS", all);
    } else if (strcasecmp(sub, "LIST") == 0) {
        irc_cap_list(s, "LIST", s->caps);
    } else if (strcasecmp(sub, "REQ") == 0) {
        if (!s->registered)
            s->cap_wait = true;
        if (m->nparams < 2)
            irc_num(s, "461", "CAP :Not enough parameters");
        else
            irc_cap_req(s, &m->params[1]);
    } else if (strcasecmp(sub, "END") == 0) {
        s->cap_wait = false;
        irc_try_register(s);
    } else {
        irc_num(s, "410", "%s :Invalid CAP command", sub);
    }
}
