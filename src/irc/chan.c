/*
 * chan: channel commands. JOIN, PART, NAMES and TOPIC.
 *
 * A channel "#name" is the core's room "name": text users in /join dev
 * and IRC users in JOIN #dev are in the same room.
 */
#include <stdio.h>
#include <string.h>

#include "core/room.h"
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

/* NAMES [#A,#B] */
void irc_cmd_names(struct irc_session *s, struct irc_msg *m)
{
    char chans[IRC_BODY_MAX + 1];
    irc_arg(m, 0, chans, sizeof chans);
    char *cl = chans[0] ? chans : NULL, *chan;
    if (cl == NULL) {
        irc_num(s, "366", "* :End of /NAMES list");
        return;
    }
    while ((chan = irc_next_item(&cl)) != NULL) {
        struct room *r = irc_find_channel(chan, strlen(chan));
        bool hidden =
            r && (r->modes & ROOM_SECRET) && !chat_is_member(&s->client, r);
        if (r == NULL || hidden)
            irc_num(s, "366", "%s :End of /NAMES list", chan);
        else
            irc_names(s, r);
    }
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
