/*
 * text_moderate: the moderation commands of the text protocol.
 *
 * Each acts on the room its user talks in (text_room), through the core's
 * moderation (chat_set_modes, chat_kick, chat_invite), so that text and
 * IRC users share one set of operators, bans and modes. What a command
 * changes, the room sees as the core's event, formatted in session.c
 * ("* alice set mode +o bob in #dev"); the operator who typed it sees the
 * same line, which is the confirmation. What was refused only the user
 * sees: one "! " line per refused change (docs/protocol.md).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/chat.h"
#include "core/room.h"
#include "lib/log.h"
#include "lib/sanitize.h"
#include "text/text.h"

/* Most changes one /mode may ask for. */
#define TEXT_MODES_MAX 12

/* The modes there are, as errors name them. */
#define TEXT_MODE_LETTERS "i m n s t k l b o v"

/* Room for "*!*@HOST", the ban /ban NICK sets. */
#define TEXT_HOST_MASK_MAX (CHAT_HOST_MAX + 4)

/* Returns true if s is an operator of r. */
static bool text_is_op(struct text_session *s, const struct room *r)
{
    const struct chat_membership *m = chat_membership(&s->client, r);
    return m && (m->status & CHAT_OP);
}

/* Replies that s is not an operator of r. */
static void text_not_op(struct text_session *s, const struct room *r,
                        const char *cmd)
{
    log_debug("event=refused id=%llu cmd=%s reason=not-op room=%s",
              (unsigned long long)s->client.id, cmd,
              log_q(r->name, r->name_len));
    text_reply(s, "! you are not an operator of #%s", r->name);
}

/*
 * Returns the room s talks in if s is one of its operators; else replies
 * why not ("! you are in no room", "! you are not an operator of #ROOM")
 * and returns NULL.
 */
static struct room *text_op_here(struct text_session *s, const char *cmd)
{
    struct room *r = text_here(s);
    if (r && !text_is_op(s, r)) {
        text_not_op(s, r, cmd);
        return NULL;
    }
    return r;
}

/* Replies that nobody has the nick (len bytes). */
static void text_no_nick(struct text_session *s, const char *nick, size_t len,
                         const char *cmd)
{
    log_debug("event=refused id=%llu cmd=%s reason=no-such-nick nick=%s",
              (unsigned long long)s->client.id, cmd, log_q(nick, len));
    text_reply(s, "! no such nick: %.*s", (int)len, nick);
}

/* ------------------------------------------------------------------------
 * Mode changes and why they were refused
 * ------------------------------------------------------------------------ */

/* Replies that a change would change nothing. */
static void text_mode_already(struct text_session *s, const struct room *r,
                              const struct chat_mode_change *ch)
{
    int n = (int)ch->arg_len;
    const char *arg = ch->arg ? ch->arg : "";
    switch (ch->mode) {
    case 'o':
        text_reply(s, "! %.*s %s an operator of #%s", n, arg,
                   ch->add ? "is already" : "is not", r->name);
        break;
    case 'v':
        text_reply(s, "! %.*s %s voice in #%s", n, arg,
                   ch->add ? "already has" : "has no", r->name);
        break;
    case 'b':
        if (ch->add)
            text_reply(s, "! #%s already bans %.*s", r->name, n, arg);
        else
            text_reply(s, "! #%s has no ban %.*s (see /bans)", r->name, n, arg);
        break;
    case 'k':
    case 'l':
        text_reply(s, "! #%s has no %s", r->name,
                   ch->mode == 'k' ? "key" : "limit");
        break;
    default:
        text_reply(s, "! #%s is %s +%c", r->name, ch->add ? "already" : "not",
                   ch->mode);
        break;
    }
}

/* Replies that a change's argument is not valid (or a list is full). */
static void text_mode_bad(struct text_session *s, const struct room *r,
                          const struct chat_mode_change *ch)
{
    int n = (int)ch->arg_len;
    const char *arg = ch->arg ? ch->arg : "";
    size_t max = chat_get_config()->max_bans;
    if (ch->err == CHAT_ERR_LIST_FULL && ch->mode == 'b' && r->nbans >= max)
        text_reply(s, "! the ban list of #%s is full (max %zu)", r->name, max);
    else if (ch->err == CHAT_ERR_LIST_FULL)
        text_reply(s, "! too many mode changes at once: %c%c %.*s is left out",
                   ch->add ? '+' : '-', ch->mode, n, arg);
    else if (ch->mode == 'k')
        text_reply(s,
                   "! bad key \"%.*s\": 1-32 characters, no spaces, commas "
                   "or colons",
                   n, arg);
    else if (ch->mode == 'l')
        text_reply(s, "! bad limit \"%.*s\": a number, 1 or more", n, arg);
    else
        text_reply(s,
                   "! bad mask \"%.*s\": NICK!USER@HOST, where * and ? are "
                   "wildcards",
                   n, arg);
}

/* The word logs give each error of a refused change. */
static const char *text_mode_reason(enum chat_error e)
{
    switch (e) {
    case CHAT_ERR_NOT_OP:
        return "not-op";
    case CHAT_ERR_NOT_MEMBER:
        return "not-member";
    case CHAT_ERR_NO_NICK:
        return "no-such-nick";
    case CHAT_ERR_TARGET_OUT:
        return "not-in-room";
    case CHAT_ERR_UNKNOWN_MODE:
        return "unknown-mode";
    case CHAT_ERR_NEED_ARG:
        return "need-arg";
    case CHAT_ERR_LIST_FULL:
        return "list-full";
    case CHAT_ERR_ALREADY:
        return "already";
    default:
        return "bad-arg";
    }
}

/* Replies why a change to r was refused: one "! " line. */
static void text_mode_error(struct text_session *s, const struct room *r,
                            const struct chat_mode_change *ch, const char *cmd)
{
    int n = (int)ch->arg_len;
    const char *arg = ch->arg ? ch->arg : "";
    log_debug("event=refused id=%llu cmd=%s reason=%s mode=%c%c",
              (unsigned long long)s->client.id, cmd, text_mode_reason(ch->err),
              ch->add ? '+' : '-', ch->mode);
    switch (ch->err) {
    case CHAT_ERR_NOT_OP:
        text_reply(s, "! you are not an operator of #%s", r->name);
        break;
    case CHAT_ERR_NOT_MEMBER:
        text_reply(s, "! you are not in #%s", r->name);
        break;
    case CHAT_ERR_UNKNOWN_MODE:
        text_reply(s, "! unknown mode: %c (modes: " TEXT_MODE_LETTERS ")",
                   ch->mode);
        break;
    case CHAT_ERR_NEED_ARG:
        text_reply(s, "! mode %c%c needs an argument", ch->add ? '+' : '-',
                   ch->mode);
        break;
    case CHAT_ERR_NO_NICK:
        text_reply(s, "! no such nick: %.*s", n, arg);
        break;
    case CHAT_ERR_TARGET_OUT:
        text_reply(s, "! %.*s is not in #%s", n, arg, r->name);
        break;
    case CHAT_ERR_ALREADY:
        text_mode_already(s, r, ch);
        break;
    default:
        text_mode_bad(s, r, ch);
        break;
    }
}

/*
 * Applies the n changes to r as s, as far as s may (the room sees those
 * applied as one line), and replies to each refused one, "not an
 * operator" only once. Returns how many were applied.
 */
static size_t text_apply(struct text_session *s, struct room *r,
                         struct chat_mode_change *ch, size_t n, const char *cmd)
{
    size_t applied = chat_set_modes(&s->client, r, ch, n);
    bool told_not_op = false;
    for (size_t i = 0; i < n; i++) {
        if (ch[i].err == CHAT_OK)
            continue;
        if (ch[i].err == CHAT_ERR_NOT_OP && told_not_op)
            continue;
        told_not_op = told_not_op || ch[i].err == CHAT_ERR_NOT_OP;
        text_mode_error(s, r, &ch[i], cmd);
    }
    return applied;
}

/* Applies one change; returns true if it was applied. */
static bool text_apply1(struct text_session *s, struct room *r, bool add,
                        char mode, const char *arg, size_t len, const char *cmd)
{
    struct chat_mode_change ch = {
        .add = add, .mode = mode, .arg = arg, .arg_len = len};
    return text_apply(s, r, &ch, 1, cmd) == 1;
}

/* ------------------------------------------------------------------------
 * /op, /deop, /voice, /devoice, /mute, /unmute
 * ------------------------------------------------------------------------ */

/* A command (cmd) that changes one person's status: "/op NICK". */
static void text_status(struct text_session *s, const char *args, size_t len,
                        bool add, char mode, const char *cmd)
{
    const char *nick;
    size_t n = text_word(&args, &len, &nick);
    if (n == 0 || len > 0) {
        char usage[32];
        snprintf(usage, sizeof usage, "/%s NICK", cmd);
        text_usage(s, usage);
        return;
    }
    struct room *r = text_op_here(s, cmd);
    if (r)
        text_apply1(s, r, add, mode, nick, n, cmd);
}

void text_cmd_op(struct text_session *s, const char *args, size_t len)
{
    text_status(s, args, len, true, 'o', "op");
}

void text_cmd_deop(struct text_session *s, const char *args, size_t len)
{
    text_status(s, args, len, false, 'o', "deop");
}

void text_cmd_voice(struct text_session *s, const char *args, size_t len)
{
    text_status(s, args, len, true, 'v', "voice");
}

void text_cmd_devoice(struct text_session *s, const char *args, size_t len)
{
    text_status(s, args, len, false, 'v', "devoice");
}

/* /mute and /unmute: +m and -m. */
static void text_mute(struct text_session *s, size_t len, bool add)
{
    const char *cmd = add ? "mute" : "unmute";
    if (len > 0) {
        text_usage(s, add ? "/mute" : "/unmute");
        return;
    }
    struct room *r = text_op_here(s, cmd);
    if (r)
        text_apply1(s, r, add, 'm', NULL, 0, cmd);
}

void text_cmd_mute(struct text_session *s, const char *args, size_t len)
{
    (void)args;
    text_mute(s, len, true);
}

void text_cmd_unmute(struct text_session *s, const char *args, size_t len)
{
    (void)args;
    text_mute(s, len, false);
}

/* ------------------------------------------------------------------------
 * Bans
 * ------------------------------------------------------------------------ */

/* Returns true if a word is a mask: it holds what no nick may hold. */
static bool text_is_mask(const char *word, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (word[i] != '\0' && strchr("!@*?.:", word[i]))
            return true;
    return false;
}

/*
 * /ban NICK|MASK and /unban NICK|MASK. The nick of someone online stands
 * for "*!*@HOST", their host, as an IRC operator expects (a new nick does
 * not get them past it); a mask is taken as the core completes it
 * ("bob" alone would be "bob!*@*"). /ban of a nick nobody has is refused,
 * as it is most likely a typo; "NICK!*@*" bans a nick as such.
 */
static void text_ban(struct text_session *s, const char *args, size_t len,
                     bool add)
{
    const char *cmd = add ? "ban" : "unban", *word;
    size_t n = text_word(&args, &len, &word);
    if (n == 0 || len > 0) {
        text_usage(s, add ? "/ban NICK|MASK" : "/unban NICK|MASK");
        return;
    }
    struct room *r = text_op_here(s, cmd);
    if (r == NULL)
        return;
    const struct client *who = NULL;
    char mask[TEXT_HOST_MASK_MAX + 1];
    if (!text_is_mask(word, n)) {
        who = chat_find_nick(word, n);
        if (who == NULL && add) {
            text_no_nick(s, word, n, cmd);
            text_reply(s, "! to ban that nick anyway: /ban %.*s!*@*", (int)n,
                       word);
            return;
        }
    }
    if (who) {
        int k = snprintf(mask, sizeof mask, "*!*@%s", who->host);
        word = mask;
        n = k > 0 ? (size_t)k : 0;
    }
    if (text_apply1(s, r, add, 'b', word, n, cmd) && who && add)
        text_reply(s, "* that bans %s's host: anyone from %s", who->nick,
                   who->host);
}

void text_cmd_ban(struct text_session *s, const char *args, size_t len)
{
    text_ban(s, args, len, true);
}

void text_cmd_unban(struct text_session *s, const char *args, size_t len)
{
    text_ban(s, args, len, false);
}

/* Lists one ban: "*   MASK (by NICK, YYYY-MM-DD HH:MM UTC)". */
static void text_ban_line(struct text_session *s, const struct room_ban *b)
{
    char clean[256];
    size_t n, len = strlen(b->mask);
    if (len > sizeof clean) /* never: the core keeps masks shorter */
        len = sizeof clean;
    /* An IRC user's mask may hold formatting: it is taken out. */
    const char *mask = sanitize_strip_format(b->mask, len, clean, &n);
    size_t by = strcspn(b->setter, "!"); /* the setter's nick */
    struct tm tm;
    time_t when = (time_t)b->when;
    gmtime_r(&when, &tm);
    text_reply(s, "*   %.*s (by %.*s, %04d-%02d-%02d %02d:%02d UTC)", (int)n,
               mask, (int)by, b->setter, tm.tm_year + 1900, tm.tm_mon + 1,
               tm.tm_mday, tm.tm_hour, tm.tm_min);
}

/* /bans: the bans of the room, oldest first; anyone in it may ask. */
void text_cmd_bans(struct text_session *s, const char *args, size_t len)
{
    (void)args;
    if (len > 0) {
        text_usage(s, "/bans");
        return;
    }
    struct room *r = text_here(s);
    if (r == NULL)
        return;
    if (r->nbans == 0) {
        text_reply(s, "* #%s has no bans", r->name);
        return;
    }
    text_reply(s, "* %zu ban%s in #%s:", r->nbans, r->nbans == 1 ? "" : "s",
               r->name);
    for (size_t i = 0; i < r->nbans; i++)
        text_ban_line(s, &r->bans[i]);
}

/* ------------------------------------------------------------------------
 * /kick, /invite
 * ------------------------------------------------------------------------ */

/* /kick NICK [REASON] */
void text_cmd_kick(struct text_session *s, const char *args, size_t len)
{
    const char *nick;
    size_t n = text_word(&args, &len, &nick);
    if (n == 0) {
        text_usage(s, "/kick NICK [REASON]");
        return;
    }
    struct room *r = text_op_here(s, "kick");
    if (r == NULL)
        return;
    struct client *who = chat_find_nick(nick, n);
    if (who == NULL) {
        text_no_nick(s, nick, n, "kick");
        return;
    }
    /* Past this call r may be gone: kicking the last one out frees it. */
    if (chat_kick(&s->client, r, who, args, len) == CHAT_ERR_TARGET_OUT) {
        log_debug("event=refused id=%llu cmd=kick reason=not-in-room "
                  "nick=%s",
                  (unsigned long long)s->client.id, log_q(nick, n));
        text_reply(s, "! %s is not in #%s", who->nick, r->name);
    }
}

/* Replies why chat_invite refused to invite who into r. */
static void text_invite_error(struct text_session *s, const struct room *r,
                              const struct client *who, enum chat_error e)
{
    log_debug("event=refused id=%llu cmd=invite reason=%s nick=%s",
              (unsigned long long)s->client.id, text_mode_reason(e),
              log_q(who->nick, who->nick_len));
    if (e == CHAT_ERR_NOT_OP)
        text_reply(s, "! #%s is invite-only: only its operators may invite",
                   r->name);
    else if (e == CHAT_ERR_ALREADY)
        text_reply(s, "! %s is already in #%s", who->nick, r->name);
    else
        text_reply(s, "! the invite list of #%s is full (max %zu)", r->name,
                   chat_get_config()->max_bans);
}

/*
 * /invite NICK. The invited and the room's operators hear of it from the
 * core; one who invites without being an operator gets the operators'
 * line, so that every inviter sees that it went out.
 */
void text_cmd_invite(struct text_session *s, const char *args, size_t len)
{
    const char *nick;
    size_t n = text_word(&args, &len, &nick);
    if (n == 0 || len > 0) {
        text_usage(s, "/invite NICK");
        return;
    }
    struct room *r = text_here(s);
    if (r == NULL)
        return;
    struct client *who = chat_find_nick(nick, n);
    if (who == NULL) {
        text_no_nick(s, nick, n, "invite");
        return;
    }
    enum chat_error e = chat_invite(&s->client, r, who);
    if (e != CHAT_OK)
        text_invite_error(s, r, who, e);
    else if (!text_is_op(s, r))
        text_reply(s, "* %s invited %s to #%s", s->client.nick, who->nick,
                   r->name);
}

/* ------------------------------------------------------------------------
 * /mode
 * ------------------------------------------------------------------------ */

/* Shows the room's modes, arguments included: "* modes of #dev: +nk key". */
static void text_show_modes(struct text_session *s, const struct room *r)
{
    char modes[128], clean[128];
    size_t n = chat_room_modes(r, true, modes, sizeof modes);
    const char *m = sanitize_strip_format(modes, n, clean, &n);
    if (n <= 1)
        text_reply(s, "* #%s has no modes set", r->name);
    else
        text_reply(s, "* modes of #%s: %.*s", r->name, (int)n, m);
}

/* Returns true if mode takes an argument when added (add) or removed. */
static bool text_mode_takes_arg(char mode, bool add)
{
    return strchr("ovbk", mode) || (mode == 'l' && add);
}

/* Returns true if the word is a sign, then signs and letters, with at
 * least one letter: "+o-v", "-k". */
static bool text_modes_word(const char *w, size_t n)
{
    size_t letters = 0;
    if (n == 0 || (w[0] != '+' && w[0] != '-'))
        return false;
    for (size_t i = 1; i < n; i++) {
        bool letter =
            (w[i] >= 'a' && w[i] <= 'z') || (w[i] >= 'A' && w[i] <= 'Z');
        if (!letter && w[i] != '+' && w[i] != '-')
            return false;
        letters += letter;
    }
    return letters > 0;
}

/*
 * Turns "+o-v+k" and its arguments into changes, taking an argument for
 * each mode that needs one, in order ("-k" may go without: IRC wants one,
 * and ignores it). Returns the number of changes, or 0 after replying why
 * the command is refused whole.
 */
static size_t text_parse_modes(struct text_session *s, const char *w, size_t n,
                               const char *args, size_t len,
                               struct chat_mode_change *ch)
{
    size_t k = 0;
    bool add = true;
    for (size_t i = 0; i < n; i++) {
        if (w[i] == '+' || w[i] == '-') {
            add = w[i] == '+';
            continue;
        }
        if (k == TEXT_MODES_MAX) {
            text_reply(s, "! too many mode changes at once (max %d)",
                       TEXT_MODES_MAX);
            return 0;
        }
        ch[k] = (struct chat_mode_change){.add = add, .mode = w[i]};
        if (text_mode_takes_arg(w[i], add))
            ch[k].arg_len = text_word(&args, &len, &ch[k].arg);
        if (w[i] == 'k' && !add && ch[k].arg_len == 0) {
            ch[k].arg = "*";
            ch[k].arg_len = 1;
        }
        k++;
    }
    if (len > 0) {
        text_reply(s, "! too many arguments for %.*s: \"%.*s\" is left over",
                   (int)n, w, (int)len, args);
        return 0;
    }
    return k;
}

/* /mode shows the room's modes; /mode +MODES [ARGS] changes them. */
void text_cmd_mode(struct text_session *s, const char *args, size_t len)
{
    struct room *r = text_here(s);
    if (r == NULL)
        return;
    if (len == 0) {
        text_show_modes(s, r);
        return;
    }
    const char *w;
    size_t n = text_word(&args, &len, &w);
    if (!text_modes_word(w, n)) {
        log_debug("event=refused id=%llu cmd=mode reason=bad-modes",
                  (unsigned long long)s->client.id);
        text_reply(s,
                   "! bad modes \"%.*s\": + or -, then letters "
                   "among " TEXT_MODE_LETTERS,
                   (int)n, w);
        return;
    }
    struct chat_mode_change ch[TEXT_MODES_MAX];
    size_t k = text_parse_modes(s, w, n, args, len, ch);
    if (k > 0)
        text_apply(s, r, ch, k, "mode");
}
