/*
 * mode: the MODE command. A channel's modes (shown, its ban list, changed)
 * and the sender's own user modes (+i, +w, and -o).
 *
 * A change is parsed the way modern servers read it: runs of '+' and '-',
 * each letter taking the next parameter if its type says so (o, v, b and k
 * always, l only when set), at most IRC_MODES of those per command. The
 * requests go to the core (chat_set_modes), which checks the sender's
 * status, applies what it may and tells the channel once, as one MODE
 * line; this file then tells the sender what was refused (a lack of
 * status once, the rest change by change).
 */
#include <stdio.h>
#include <string.h>

#include "core/room.h"
#include "irc/chanarg.h"
#include "irc/irc.h"

/* Sends RPL_BANLIST for each ban of r, then RPL_ENDOFBANLIST. */
static void irc_ban_list(struct irc_session *s, const struct room *r)
{
    bool hidden = (r->modes & ROOM_SECRET) && !chat_is_member(&s->client, r);
    for (size_t i = 0; i < r->nbans && !hidden; i++)
        irc_num(s, "367", "#%s %s %s %lld", r->name, r->bans[i].mask,
                r->bans[i].setter, (long long)r->bans[i].when);
    irc_num(s, "368", "#%s :End of channel ban list", r->name);
}

/* Tells s why one change was refused (a lack of status once in all). */
static void irc_mode_refused(struct irc_session *s, const struct room *r,
                             const struct chat_mode_change *ch, unsigned *said)
{
    unsigned bit = 1u << ch->err;
    struct irc_slice arg = {ch->arg, ch->arg_len};
    if (ch->mode == 'k' || !irc_mode_middle(&arg))
        arg = (struct irc_slice){"*", 1}; /* a key is never echoed */
    int n = (int)arg.n;
    if ((*said & bit) &&
        (ch->err == CHAT_ERR_NOT_OP || ch->err == CHAT_ERR_NOT_MEMBER))
        return;
    *said |= bit;
    switch (ch->err) {
    case CHAT_ERR_NOT_MEMBER:
    case CHAT_ERR_NOT_OP:
        irc_chan_denied(s, r, ch->err);
        break;
    case CHAT_ERR_NO_NICK:
        irc_num(s, "401", "%.*s :No such nick/channel", n, arg.p);
        break;
    case CHAT_ERR_TARGET_OUT:
        irc_num(s, "441", "%.*s #%s :They aren't on that channel", n, arg.p,
                r->name);
        break;
    case CHAT_ERR_LIST_FULL:
        irc_num(s, "478", "#%s %.*s :Channel ban list is full", r->name, n,
                arg.p);
        break;
    case CHAT_ERR_BAD_ARG:
        irc_num(s, "696", "#%s %c %.*s :%s", r->name, ch->mode, n, arg.p,
                ch->mode == 'k'   ? "Invalid key: 1-32 characters, no "
                                    "spaces, commas or colons"
                : ch->mode == 'l' ? "Invalid limit: a number from 1"
                                  : "Invalid ban mask");
        break;
    default: /* ALREADY, NEED_ARG: nothing to say, as servers do */
        break;
    }
}

/* MODE #chan: RPL_CHANNELMODEIS (key and limit for members), then 329. */
static void irc_mode_show(struct irc_session *s, const struct room *r)
{
    char modes[128];
    chat_room_modes(r, chat_is_member(&s->client, r), modes, sizeof modes);
    irc_num(s, "324", "#%s %s", r->name, modes);
    irc_num(s, "329", "#%s %lld", r->name, (long long)r->created);
}

/* The bytes a MODE line from s to r leaves for the changes (512 in all). */
static size_t irc_mode_budget(const struct irc_session *s, const struct room *r)
{
    char from[CHAT_PREFIX_MAX + 1];
    size_t head = 1 + chat_prefix(&s->client, from, sizeof from) +
                  strlen(" MODE #") + r->name_len + 1 + 2;
    return head < IRC_BODY_MAX + 2 ? IRC_BODY_MAX + 2 - head : 0;
}

/* MODE #chan [MODES [PARAMS...]] */
static void irc_mode_channel(struct irc_session *s, struct irc_msg *m,
                             const char *chan)
{
    struct room *r = irc_find_channel(chan, strlen(chan));
    if (r == NULL) {
        irc_num(s, "403", "%s :No such channel", chan);
        return;
    }
    if (m->nparams < 2 || m->params[1].n == 0) {
        irc_mode_show(s, r);
        return;
    }
    struct irc_mode_req q;
    irc_mode_read(m, irc_mode_budget(s, r), &q);
    for (size_t i = 0; i < q.nunknown; i++)
        irc_num(s, "472", "%c :is unknown mode char to me", q.unknown[i]);
    if (q.n > 0)
        chat_set_modes(&s->client, r, q.ch, q.n);
    unsigned said = 0;
    for (size_t i = 0; i < q.n; i++)
        irc_mode_refused(s, r, &q.ch[i], &said);
    if (q.bad_mask)
        irc_num(s, "696", "#%s b * :Invalid ban mask", r->name);
    if (q.list_bans)
        irc_ban_list(s, r);
}

bool irc_is_bot(const struct client *c)
{
    return c->ops->deliver == irc_deliver &&
           ((const struct irc_session *)c)->bot;
}

/* Writes s's user modes, "+Biow" as set, into out (8 bytes). */
static void irc_user_modes(const struct irc_session *s, char out[8])
{
    snprintf(out, 8, "+%s%s%s%s", s->bot ? "B" : "", s->invisible ? "i" : "",
             s->client.oper ? "o" : "", s->wallops ? "w" : "");
}

/* Tells s what changed of user modes i, w and B: "+iB-w" from was to now. */
static void irc_user_modes_changed(struct irc_session *s, const bool was[3],
                                   const bool now[3])
{
    char out[8];
    size_t n = 0;
    char sign = 0;
    for (int i = 0; i < 3; i++) {
        if (was[i] == now[i])
            continue;
        if (sign != (now[i] ? '+' : '-'))
            out[n++] = sign = now[i] ? '+' : '-';
        out[n++] = "iwB"[i];
    }
    if (n == 0)
        return;
    char from[CHAT_PREFIX_MAX + 1];
    chat_prefix(&s->client, from, sizeof from);
    irc_send(s, ":%s MODE %s %.*s", from, s->client.nick, (int)n, out);
}

/*
 * MODE nick [MODES]: the sender's own user modes: i, w and B (bot), and o,
 * which only OPER gives and -o takes away (+o is ignored).
 */
static void irc_mode_user(struct irc_session *s, struct irc_msg *m,
                          const char *nick)
{
    struct client *c = chat_find_nick(nick, strlen(nick));
    if (c == NULL) {
        irc_num(s, "401", "%s :No such nick/channel", nick);
        return;
    }
    if (c != &s->client) {
        irc_num(s, "502", ":Cant change mode for other users");
        return;
    }
    if (m->nparams < 2) {
        char modes[8];
        irc_user_modes(s, modes);
        irc_num(s, "221", "%s", modes);
        return;
    }
    bool add = true, unknown = false, deop = false;
    bool was[3] = {s->invisible, s->wallops, s->bot};
    const struct irc_slice *modes = &m->params[1];
    for (size_t i = 0; i < modes->n; i++) {
        char ch = modes->p[i];
        if (ch == '+' || ch == '-')
            add = ch == '+';
        else if (ch == 'i')
            s->invisible = add;
        else if (ch == 'w')
            s->wallops = add;
        else if (ch == 'B')
            s->bot = add;
        else if (ch == 'o')
            deop = deop || !add;
        else
            unknown = true;
    }
    irc_user_modes_changed(s, was, (bool[3]){s->invisible, s->wallops, s->bot});
    if (deop)
        irc_oper_drop(s);
    if (unknown)
        irc_num(s, "501", ":Unknown MODE flag");
}

void irc_cmd_mode(struct irc_session *s, struct irc_msg *m)
{
    char target[IRC_BODY_MAX + 1];
    irc_arg(m, 0, target, sizeof target);
    if (target[0] == '#')
        irc_mode_channel(s, m, target);
    else
        irc_mode_user(s, m, target);
}
