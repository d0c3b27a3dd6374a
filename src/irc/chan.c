/*
 * chan: channel commands. JOIN, PART, NAMES and TOPIC; KICK, INVITE and
 * LIST (MODE is in mode.c).
 *
 * A channel "#name" is the core's room "name": text users in /join dev
 * and IRC users in JOIN #dev are in the same room.
 */
#include <stdio.h>
#include <string.h>

#include "core/mask.h"
#include "core/room.h"
#include "irc/chanarg.h"
#include "irc/irc.h"

/* Splits the next comma-separated item off *list; NULL when done. */
static char *irc_next_item(char **list)
{
    char *p = *list;
    if (p == NULL)
        return NULL;
    char *comma = strchr(p, ',');
    if (comma) {
        *comma = '\0';
        *list = comma + 1;
    } else {
        *list = NULL;
    }
    return p;
}

/* Tells s why it could not join chan. */
static void irc_join_error(struct irc_session *s, const char *chan,
                           enum chat_error e)
{
    switch (e) {
    case CHAT_ERR_ALREADY:
        break;
    case CHAT_ERR_INVALID:
        irc_num(s, "479", "%s :Illegal channel name", chan);
        break;
    case CHAT_ERR_BANNED:
        irc_num(s, "474", "%s :Cannot join channel (+b)", chan);
        break;
    case CHAT_ERR_INVITE_ONLY:
        irc_num(s, "473", "%s :Cannot join channel (+i)", chan);
        break;
    case CHAT_ERR_BAD_KEY:
        irc_num(s, "475", "%s :Cannot join channel (+k)", chan);
        break;
    case CHAT_ERR_FULL:
        irc_num(s, "471", "%s :Cannot join channel (+l)", chan);
        break;
    case CHAT_ERR_RATE: {
        char why[96];
        snprintf(why, sizeof why, "too many new channels: try again in %u s",
                 chat_new_room_wait(&s->client));
        irc_num(s, "405", "%s :%s", chan, why);
        break;
    }
    default:
        irc_num(s, "405", "%s :You have joined too many channels", chan);
        break;
    }
}

/* Parts every channel of s (JOIN 0). */
static void irc_part_all(struct irc_session *s)
{
    struct client *c = &s->client;
    while (c->nrooms > 0)
        chat_part(c, c->rooms[c->nrooms - 1].room, NULL, 0);
}

/* JOIN #A,#B [KEY,KEY] or JOIN 0 */
void irc_cmd_join(struct irc_session *s, struct irc_msg *m)
{
    char chans[IRC_BODY_MAX + 1], keys[IRC_BODY_MAX + 1];
    irc_arg(m, 0, chans, sizeof chans);
    irc_arg(m, 1, keys, sizeof keys);
    if (strcmp(chans, "0") == 0) {
        irc_part_all(s);
        return;
    }
    char *cl = chans, *kl = keys[0] ? keys : NULL, *chan;
    while ((chan = irc_next_item(&cl)) != NULL) {
        char *key = irc_next_item(&kl);
        if (chan[0] != '#') {
            irc_num(s, "403", "%s :No such channel", chan);
            continue;
        }
        struct room *in = irc_find_channel(chan, strlen(chan));
        if (in && chat_is_member(&s->client, in))
            continue; /* already there: nothing to say */
        if (s->client.nrooms >= IRC_CHANLIMIT) {
            irc_num(s, "405", "%s :You have joined too many channels", chan);
            continue;
        }
        struct room *r;
        enum chat_error e = chat_join(&s->client, chan + 1, strlen(chan + 1),
                                      key, key ? strlen(key) : 0, &r);
        if (e != CHAT_OK)
            irc_join_error(s, chan, e);
    }
}

/* PART #A,#B [:REASON] */
void irc_cmd_part(struct irc_session *s, struct irc_msg *m)
{
    char chans[IRC_BODY_MAX + 1];
    irc_arg(m, 0, chans, sizeof chans);
    const struct irc_slice *why = m->nparams > 1 ? &m->params[1] : NULL;
    char *cl = chans, *chan;
    while ((chan = irc_next_item(&cl)) != NULL) {
        struct room *r = irc_find_channel(chan, strlen(chan));
        if (r == NULL)
            irc_num(s, "403", "%s :No such channel", chan);
        else if (!chat_is_member(&s->client, r))
            irc_num(s, "442", "%s :You're not on that channel", chan);
        else
            chat_part(&s->client, r, why ? why->p : NULL, why ? why->n : 0);
    }
}

/*
 * NAMES [#A,#B]: the names of each channel s may see, then one
 * RPL_ENDOFNAMES for the whole list (RFC 2812); a channel that does not
 * exist, or a secret one s is not in, adds nothing.
 */
void irc_cmd_names(struct irc_session *s, struct irc_msg *m)
{
    char chans[IRC_BODY_MAX + 1], list[IRC_BODY_MAX + 1];
    irc_arg(m, 0, chans, sizeof chans);
    memcpy(list, chans, sizeof list);
    char *cl = chans[0] ? chans : NULL, *chan;
    while ((chan = irc_next_item(&cl)) != NULL) {
        struct room *r = irc_find_channel(chan, strlen(chan));
        bool hidden =
            r && (r->modes & ROOM_SECRET) && !chat_is_member(&s->client, r);
        if (r && !hidden)
            irc_names_replies(s, r);
    }
    irc_num(s, "366", "%s :End of /NAMES list", list[0] ? list : "*");
}

/* TOPIC #CHAN [:TEXT] */
void irc_cmd_topic(struct irc_session *s, struct irc_msg *m)
{
    char chan[IRC_BODY_MAX + 1];
    irc_arg(m, 0, chan, sizeof chan);
    struct room *r = irc_find_channel(chan, strlen(chan));
    if (r == NULL) {
        irc_num(s, "403", "%s :No such channel", chan);
        return;
    }
    if (m->nparams < 2) {
        if ((r->modes & ROOM_SECRET) && !chat_is_member(&s->client, r))
            irc_num(s, "442", "%s :You're not on that channel", chan);
        else
            irc_topic_reply(s, r, true);
        return;
    }
    switch (chat_set_topic(&s->client, r, m->params[1].p, m->params[1].n)) {
    case CHAT_OK:
        break;
    case CHAT_ERR_NOT_MEMBER:
        irc_num(s, "442", "%s :You're not on that channel", chan);
        break;
    case CHAT_ERR_NOT_OP:
        irc_num(s, "482", "%s :You're not channel operator", chan);
        break;
    default:
        irc_fail(s, "TOPIC", "TOO_LONG", NULL, "Topic too long");
        break;
    }
}

void irc_chan_denied(struct irc_session *s, const struct room *r,
                     enum chat_error e)
{
    if (e == CHAT_ERR_NOT_MEMBER)
        irc_num(s, "442", "#%s :You're not on that channel", r->name);
    else if (e == CHAT_ERR_NOT_OP)
        irc_num(s, "482", "#%s :You're not channel operator", r->name);
}

/* ------------------------------------------------------------------------
 * KICK and INVITE
 * ------------------------------------------------------------------------ */

/* Returns how many of the n bytes at p fit in max without cutting a UTF-8
 * character in two. */
static size_t irc_fit(const char *p, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)p[max] & 0xc0) == 0x80)
        max--;
    return max;
}

/*
 * Kicks nick out of chan for s with a reason (len bytes). Returns false if
 * s may kick nobody from chan (no such channel, not in it, not its
 * operator): further nicks for the same channel need not be tried.
 */
static bool irc_kick_one(struct irc_session *s, const char *chan,
                         const char *nick, const char *why, size_t len)
{
    struct room *r = irc_find_channel(chan, strlen(chan));
    const struct chat_membership *me =
        r ? chat_membership(&s->client, r) : NULL;
    if (r == NULL) {
        irc_num(s, "403", "%s :No such channel", chan);
        return false;
    }
    if (me == NULL || !(me->status & CHAT_OP)) {
        irc_chan_denied(s, r, me ? CHAT_ERR_NOT_OP : CHAT_ERR_NOT_MEMBER);
        return false;
    }
    struct client *t = chat_find_nick(nick, strlen(nick));
    if (t == NULL)
        irc_num(s, "401", "%s :No such nick/channel", nick);
    else if (chat_kick(&s->client, r, t, why, len) == CHAT_ERR_TARGET_OUT)
        irc_num(s, "441", "%s #%s :They aren't on that channel", t->nick,
                r->name);
    return true;
}

/*
 * KICK #CHAN NICK[,NICK...] [:REASON], or KICK #A,#B NICK,NICK (pairs).
 * The reason defaults to the kicker's nick and is cut to KICKLEN; at most
 * IRC_TARGMAX people per command, the rest are dropped as TARGMAX allows.
 */
void irc_cmd_kick(struct irc_session *s, struct irc_msg *m)
{
    char chans[IRC_BODY_MAX + 1], nicks[IRC_BODY_MAX + 1];
    irc_arg(m, 0, chans, sizeof chans);
    irc_arg(m, 1, nicks, sizeof nicks);
    const char *why = s->client.nick;
    size_t len = s->client.nick_len;
    if (m->nparams > 2 && m->params[2].n > 0) {
        why = m->params[2].p;
        len = irc_fit(why, m->params[2].n, IRC_KICKLEN);
    }
    char *cl = chans, *nl = nicks, *nick;
    char *chan = irc_next_item(&cl);
    bool paired = cl != NULL; /* several channels: one nick for each */
    unsigned count = 0;
    while (chan && (nick = irc_next_item(&nl)) != NULL && count < IRC_TARGMAX) {
        if (nick[0] == '\0')
            continue;
        count++;
        bool may = irc_kick_one(s, chan, nick, why, len);
        if (paired)
            chan = irc_next_item(&cl);
        else if (!may)
            break;
    }
}

/*
 * INVITE NICK #CHAN. INVITE alone would list the channels s is invited
 * to; invitations are kept by channel, so the list is always empty.
 */
void irc_cmd_invite(struct irc_session *s, struct irc_msg *m)
{
    if (m->nparams == 0) {
        irc_num(s, "337", ":End of /INVITE list");
        return;
    }
    if (m->nparams < 2) {
        irc_num(s, "461", "INVITE :Not enough parameters");
        return;
    }
    char nick[IRC_BODY_MAX + 1], chan[IRC_BODY_MAX + 1];
    irc_arg(m, 0, nick, sizeof nick);
    irc_arg(m, 1, chan, sizeof chan);
    struct client *t = chat_find_nick(nick, strlen(nick));
    struct room *r = irc_find_channel(chan, strlen(chan));
    if (t == NULL) {
        irc_num(s, "401", "%s :No such nick/channel", nick);
        return;
    }
    if (r == NULL) {
        irc_num(s, "403", "%s :No such channel", chan);
        return;
    }
    enum chat_error e = chat_invite(&s->client, r, t);
    switch (e) {
    case CHAT_OK:
        irc_num(s, "341", "%s #%s", t->nick, r->name);
        if (t->away)
            irc_num(s, "301", "%s :%s", t->nick, t->away);
        break;
    case CHAT_ERR_NOT_MEMBER:
    case CHAT_ERR_NOT_OP:
        irc_chan_denied(s, r, e);
        break;
    case CHAT_ERR_ALREADY:
        irc_num(s, "443", "%s #%s :is already on channel", t->nick, r->name);
        break;
    default:
        irc_fail(s, "INVITE", "LIST_FULL", NULL,
                 "The channel's invitation list is full");
        break;
    }
}

/* ------------------------------------------------------------------------
 * LIST
 * ------------------------------------------------------------------------ */

/*
 * The most channels one LIST shows: with 10,000 rooms, a LIST still costs
 * one pass over them and its output stays far below the sendq.
 */
#define IRC_LIST_MAX 1000

/* One LIST under way: what it asks for, and how far it got. */
struct irc_list {
    struct irc_session *s;
    struct irc_list_terms q;
    int64_t now; /* seconds since the epoch, for the C and T terms */
    size_t shown, more;
};

/* Returns true if r is to be listed for l. */
static bool irc_list_wants(const struct irc_list *l, const struct room *r)
{
    const struct irc_list_terms *q = &l->q;
    if (r->nmembers < q->min_users || r->nmembers > q->max_users)
        return false;
    if ((r->modes & ROOM_SECRET) && !chat_is_member(&l->s->client, r))
        return false;
    if (!irc_list_age_ok(&q->created, l->now - r->created))
        return false;
    if (q->topic_terms &&
        (r->topic == NULL || !irc_list_age_ok(&q->topic, l->now - r->topic_at)))
        return false;
    char name[ROOM_NAME_MAX + 2];
    int n = snprintf(name, sizeof name, "#%s", r->name);
    bool matched = !q->positive;
    for (size_t i = 0; i < q->nmasks; i++) {
        bool hit = mask_match(q->mask[i], strlen(q->mask[i]), name, (size_t)n);
        if (hit && q->negated[i])
            return false;
        matched |= hit && !q->negated[i];
    }
    return matched;
}

/* Sends RPL_LIST for r, its topic cut to fit the line. */
static void irc_list_entry(struct irc_session *s, const struct room *r)
{
    char head[128];
    int h = snprintf(head, sizeof head,
                     ":%s 322 %s #%s %zu :", irc_conf.server_name, irc_nick(s),
                     r->name, r->nmembers);
    size_t room =
        h > 0 && (size_t)h < IRC_BODY_MAX ? IRC_BODY_MAX - (size_t)h : 0;
    size_t n = r->topic ? irc_fit(r->topic, r->topic_len, room) : 0;
    irc_send(s, "%s%.*s", head, (int)n, r->topic ? r->topic : "");
}

/* chat_foreach_room helper: lists r if it is wanted and there is room. */
static void irc_list_visit(struct room *r, void *arg)
{
    struct irc_list *l = arg;
    if (!irc_list_wants(l, r))
        return;
    if (l->shown < IRC_LIST_MAX) {
        irc_list_entry(l->s, r);
        l->shown++;
    } else {
        l->more++;
    }
}

/*
 * LIST [#A,#B | >N,<N | C>N,C<N,T>N,T<N | MASK,!MASK]: channels that have
 * people in them.
 */
void irc_cmd_list(struct irc_session *s, struct irc_msg *m)
{
    char terms[IRC_BODY_MAX + 1];
    irc_arg(m, 0, terms, sizeof terms);
    struct irc_list l = {.s = s, .now = chat_wall_ms() / 1000};
    irc_list_read(terms[0] ? terms : NULL, &l.q);
    irc_num(s, "321", "Channel :Users  Name");
    if (l.q.exact && l.q.nmasks > 0) {
        for (size_t i = 0; i < l.q.nmasks; i++) {
            const char *name = l.q.mask[i];
            struct room *r = irc_find_channel(name, strlen(name));
            if (r && irc_list_wants(&l, r))
                irc_list_entry(s, r);
        }
    } else {
        chat_foreach_room(irc_list_visit, &l);
    }
    if (l.more > 0)
        irc_send(s,
                 ":%s NOTICE %s :LIST: %zu more not shown (at most %d per "
                 "LIST); narrow it with a mask, >N or <N",
                 irc_conf.server_name, irc_nick(s), l.more, IRC_LIST_MAX);
    irc_num(s, "323", ":End of /LIST");
}
