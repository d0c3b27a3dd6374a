/*
 * mode: channel moderation, shared by every protocol. Operators and voice,
 * bans, invitations, keys, limits and the flag modes; kicks.
 *
 * A protocol turns what its user typed into chat_mode_change records (IRC
 * from MODE, text from /op, /ban, /mute ...); the core checks each against
 * the actor's status, applies it, and tells the room once, as one
 * CHAT_MODE event whose text is the applied changes in IRC's own notation
 * ("+o-v alice bob"), which every protocol renders its way.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/chat.h"
#include "core/chat_int.h"
#include "core/mask.h"
#include "core/room.h"
#include "lib/log.h"

/* The flag modes and their bits, in the order they are shown. */
static const struct {
    char mode;
    unsigned bit;
} mode_flags[] = {
    {'i', ROOM_INVITE_ONLY}, {'m', ROOM_MODERATED},  {'n', ROOM_NO_OUTSIDE},
    {'s', ROOM_SECRET},      {'t', ROOM_TOPIC_LOCK},
};

#define MODE_NFLAGS (sizeof mode_flags / sizeof mode_flags[0])

/* The longest key (+k). */
#define MODE_KEY_MAX 32

/* Returns the bit of a flag mode, or 0. */
static unsigned mode_bit(char mode)
{
    for (size_t i = 0; i < MODE_NFLAGS; i++)
        if (mode_flags[i].mode == mode)
            return mode_flags[i].bit;
    return 0;
}

/* Returns true if c is an operator of r. */
static bool mode_is_op(const struct client *c, const struct room *r)
{
    const struct chat_membership *m = chat_membership(c, r);
    return m && (m->status & CHAT_OP);
}

size_t chat_room_modes(const struct room *r, bool show_args, char *out,
                       size_t cap)
{
    char flags[16], args[80] = "";
    size_t n = 0;
    flags[n++] = '+';
    for (size_t i = 0; i < MODE_NFLAGS; i++)
        if (r->modes & mode_flags[i].bit)
            flags[n++] = mode_flags[i].mode;
    if (r->key)
        flags[n++] = 'k';
    if (r->limit)
        flags[n++] = 'l';
    flags[n] = '\0';
    if (show_args && r->key && r->limit)
        snprintf(args, sizeof args, " %s %zu", r->key, r->limit);
    else if (show_args && r->key)
        snprintf(args, sizeof args, " %s", r->key);
    else if (show_args && r->limit)
        snprintf(args, sizeof args, " %zu", r->limit);
    int k = snprintf(out, cap, "%s%s", flags, args);
    return k < 0 ? 0 : (size_t)k < cap ? (size_t)k : cap - 1;
}

enum chat_error chat_kick(struct client *c, struct room *r,
                          struct client *target, const char *reason, size_t len)
{
    if (!chat_is_member(c, r))
        return CHAT_ERR_NOT_MEMBER;
    if (!mode_is_op(c, r))
        return CHAT_ERR_NOT_OP;
    if (!chat_is_member(target, r))
        return CHAT_ERR_TARGET_OUT;
    struct chat_event ev;
    chat_event_init(&ev, CHAT_KICK, c);
    ev.to = target;
    ev.text = reason;
    ev.text_len = len;
    chat_broadcast(r, &ev, NULL);
    chat_event_done(&ev);
    log_info("event=kick by=%s nick=%s room=%s", log_q(c->nick, c->nick_len),
             log_q(target->nick, target->nick_len),
             log_q(r->name, r->name_len));
    chat_leave(target, r);
    return CHAT_OK;
}

enum chat_error chat_invite(struct client *c, struct room *r,
                            struct client *target)
{
    if (!chat_is_member(c, r))
        return CHAT_ERR_NOT_MEMBER;
    if ((r->modes & ROOM_INVITE_ONLY) && !mode_is_op(c, r))
        return CHAT_ERR_NOT_OP;
    if (chat_is_member(target, r))
        return CHAT_ERR_ALREADY;
    /* Only an operator's invitation lets its guest past +i and bans: from
     * anyone else it is a notice, or any member could undo a ban. */
    if (mode_is_op(c, r) && !room_invite_add(r, target->id, chat_cfg.max_bans))
        return CHAT_ERR_LIST_FULL;
    struct chat_event ev;
    chat_event_init(&ev, CHAT_INVITE, c);
    ev.room = r;
    ev.to = target;
    chat_deliver(target, &ev);
    for (size_t i = 0; i < r->nmembers; i++)
        if (mode_is_op(r->members[i], r))
            chat_deliver(r->members[i], &ev);
    chat_event_done(&ev);
    return CHAT_OK;
}

/* The applied changes, gathered into "+o-v alice bob". */
struct mode_out {
    char flags[64];
    size_t nf;
    char sign; /* the last sign written */
    char args[512];
    size_t na;
};

/* Adds one applied change to out; false if it does not fit. */
static bool mode_out_add(struct mode_out *o, bool add, char mode,
                         const char *arg, size_t len)
{
    if (o->nf + 3 > sizeof o->flags || o->na + len + 2 > sizeof o->args)
        return false;
    char sign = add ? '+' : '-';
    if (o->sign != sign)
        o->flags[o->nf++] = o->sign = sign;
    o->flags[o->nf++] = mode;
    if (arg) {
        o->args[o->na++] = ' ';
        memcpy(o->args + o->na, arg, len);
        o->na += len;
    }
    return true;
}

/* +o, +v: sets a member's status. */
static enum chat_error mode_status(struct room *r, struct chat_mode_change *ch,
                                   struct mode_out *o)
{
    struct client *t = chat_find_nick(ch->arg, ch->arg_len);
    if (t == NULL)
        return CHAT_ERR_NO_NICK;
    struct chat_membership *m = chat_membership(t, r);
    if (m == NULL)
        return CHAT_ERR_TARGET_OUT;
    unsigned bit = ch->mode == 'o' ? CHAT_OP : CHAT_VOICE;
    if (((m->status & bit) != 0) == ch->add)
        return CHAT_ERR_ALREADY;
    if (!mode_out_add(o, ch->add, ch->mode, t->nick, t->nick_len))
        return CHAT_ERR_LIST_FULL;
    m->status = ch->add ? m->status | bit : m->status & ~bit;
    return CHAT_OK;
}

/* +b, -b: adds or removes a ban. */
static enum chat_error mode_ban(struct client *c, struct room *r,
                                struct chat_mode_change *ch, struct mode_out *o)
{
    char mask[MASK_MAX + 1];
    size_t n = mask_normalize(ch->arg, ch->arg_len, mask, sizeof mask);
    if (n == 0)
        return CHAT_ERR_BAD_ARG;
    long i = room_ban_find(r, mask, n);
    if ((i >= 0) == ch->add)
        return CHAT_ERR_ALREADY;
    if (ch->add && r->nbans >= chat_cfg.max_bans)
        return CHAT_ERR_LIST_FULL;
    if (!mode_out_add(o, ch->add, 'b', mask, n))
        return CHAT_ERR_LIST_FULL;
    if (ch->add) {
        char by[CHAT_PREFIX_MAX + 1];
        chat_prefix(c, by, sizeof by);
        room_ban_add(r, mask, n, by, (int64_t)time(NULL));
    } else {
        room_ban_remove(r, (size_t)i);
    }
    return CHAT_OK;
}

/* Returns true if the len bytes at key may be a room's key. */
static bool mode_key_valid(const char *key, size_t len)
{
    if (len == 0 || len > MODE_KEY_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)key[i] <= ' ' || key[i] == ',' || key[i] == ':')
            return false;
    return true;
}

/* +k, -k, +l, -l. */
static enum chat_error mode_param(struct room *r, struct chat_mode_change *ch,
                                  struct mode_out *o)
{
    if (ch->mode == 'k' && ch->add) {
        if (!mode_key_valid(ch->arg, ch->arg_len))
            return CHAT_ERR_BAD_ARG;
        if (!mode_out_add(o, true, 'k', ch->arg, ch->arg_len))
            return CHAT_ERR_LIST_FULL;
        room_set_key(r, ch->arg, ch->arg_len);
    } else if (ch->mode == 'k') {
        if (r->key == NULL)
            return CHAT_ERR_ALREADY;
        if (!mode_out_add(o, false, 'k', "*", 1))
            return CHAT_ERR_LIST_FULL;
        room_set_key(r, NULL, 0);
    } else if (ch->add) {
        char num[24];
        size_t limit = 0, i;
        for (i = 0; i < ch->arg_len && i < 9; i++) {
            if (ch->arg[i] < '0' || ch->arg[i] > '9')
                break;
            limit = limit * 10 + (size_t)(ch->arg[i] - '0');
        }
        /* More than nine digits is refused, not cut to the first nine
         * (which would make 1000000000 a limit of 100000000). */
        bool more = i < ch->arg_len && ch->arg[i] >= '0' && ch->arg[i] <= '9';
        if (i == 0 || limit == 0 || more)
            return CHAT_ERR_BAD_ARG;
        int k = snprintf(num, sizeof num, "%zu", limit);
        if (!mode_out_add(o, true, 'l', num, (size_t)k))
            return CHAT_ERR_LIST_FULL;
        r->limit = limit;
    } else {
        if (r->limit == 0)
            return CHAT_ERR_ALREADY;
        if (!mode_out_add(o, false, 'l', NULL, 0))
            return CHAT_ERR_LIST_FULL;
        r->limit = 0;
    }
    return CHAT_OK;
}

/* Applies one change that c, an operator of r, asked for. */
static enum chat_error mode_apply(struct client *c, struct room *r,
                                  struct chat_mode_change *ch,
                                  struct mode_out *o)
{
    bool needs_arg = strchr("ovbk", ch->mode) || (ch->mode == 'l' && ch->add);
    if (!strchr("ovbklimnst", ch->mode) || ch->mode == '\0')
        return CHAT_ERR_UNKNOWN_MODE;
    if (needs_arg && (ch->arg == NULL || ch->arg_len == 0))
        return CHAT_ERR_NEED_ARG;
    if (ch->mode == 'o' || ch->mode == 'v')
        return mode_status(r, ch, o);
    if (ch->mode == 'b')
        return mode_ban(c, r, ch, o);
    if (ch->mode == 'k' || ch->mode == 'l')
        return mode_param(r, ch, o);
    unsigned bit = mode_bit(ch->mode);
    if (((r->modes & bit) != 0) == ch->add)
        return CHAT_ERR_ALREADY;
    if (!mode_out_add(o, ch->add, ch->mode, NULL, 0))
        return CHAT_ERR_LIST_FULL;
    r->modes = ch->add ? r->modes | bit : r->modes & ~bit;
    return CHAT_OK;
}

size_t chat_set_modes(struct client *c, struct room *r,
                      struct chat_mode_change *ch, size_t n)
{
    struct mode_out o = {.sign = 0};
    size_t applied = 0;
    bool member = chat_is_member(c, r), op = mode_is_op(c, r);
    for (size_t i = 0; i < n; i++) {
        if (!strchr("ovbklimnst", ch[i].mode) || ch[i].mode == '\0')
            ch[i].err = CHAT_ERR_UNKNOWN_MODE;
        else if (!member)
            ch[i].err = CHAT_ERR_NOT_MEMBER;
        else if (!op)
            ch[i].err = CHAT_ERR_NOT_OP;
        else
            ch[i].err = mode_apply(c, r, &ch[i], &o);
        applied += ch[i].err == CHAT_OK;
    }
    if (applied == 0)
        return 0;
    chat_keep_room(r, true);
    char text[sizeof o.flags + sizeof o.args];
    memcpy(text, o.flags, o.nf);
    memcpy(text + o.nf, o.args, o.na);
    struct chat_event ev;
    chat_event_init(&ev, CHAT_MODE, c);
    ev.text = text;
    ev.text_len = o.nf + o.na;
    chat_broadcast(r, &ev, NULL);
    chat_event_done(&ev);
    log_info("event=mode by=%s room=%s modes=%s", log_q(c->nick, c->nick_len),
             log_q(r->name, r->name_len), log_q(text, o.nf + o.na));
    return applied;
}
