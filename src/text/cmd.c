/*
 * text_cmd: the command table of the text protocol and its handlers (but
 * for the moderation commands, in moderate.c).
 *
 * Each command is one table entry: its name, its handler, and the usage
 * and help text. Handlers get the arguments after the command word with
 * leading spaces removed (the line was sanitized and trimmed already).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/chat.h"
#include "lib/log.h"
#include "core/room.h"
#include "text/text.h"
#include "lib/xmalloc.h"

/* The longest /who line before it continues on another. */
#define TEXT_WHO_LINE 400

typedef void (*text_cmd_fn)(struct text_session *s, const char *args,
                            size_t len);

struct text_cmd {
    const char *name;
    text_cmd_fn fn;
    const char *usage; /* shown in /help and on a wrong argument */
    const char *help;
};

size_t text_word(const char **args, size_t *len, const char **word)
{
    const char *p = *args, *end = *args + *len;
    *word = p;
    while (p < end && *p != ' ')
        p++;
    size_t n = (size_t)(p - *word);
    while (p < end && *p == ' ')
        p++;
    *len = (size_t)(end - p);
    *args = p;
    return n;
}

void text_usage(struct text_session *s, const char *usage)
{
    log_debug("event=refused id=%llu reason=usage usage=%s",
              (unsigned long long)s->client.id, log_q(usage, strlen(usage)));
    text_reply(s, "! usage: %s", usage);
}

static void cmd_help(struct text_session *s, const char *args, size_t len);

/* /nick NAME */
static void cmd_nick(struct text_session *s, const char *args, size_t len)
{
    const char *nick;
    size_t n = text_word(&args, &len, &nick);
    if (n == 0 || len > 0) {
        text_usage(s, "/nick NAME");
        return;
    }
    switch (chat_set_nick(&s->client, nick, n)) {
    case CHAT_OK:
        break;
    case CHAT_ERR_INVALID:
        log_debug("event=refused id=%llu cmd=nick reason=invalid nick=%s",
                  (unsigned long long)s->client.id, log_q(nick, n));
        text_reply(s,
                   "! invalid nick \"%.*s\": 1-32 letters, digits or "
                   "_-[]\\^{}|`, not starting with a digit, - or [",
                   (int)n, nick);
        break;
    case CHAT_ERR_TAKEN:
        log_debug("event=refused id=%llu cmd=nick reason=taken nick=%s",
                  (unsigned long long)s->client.id, log_q(nick, n));
        text_reply(s, "! nick \"%.*s\" is taken", (int)n, nick);
        break;
    case CHAT_ERR_RESERVED:
        log_debug("event=refused id=%llu cmd=nick reason=reserved nick=%s",
                  (unsigned long long)s->client.id, log_q(nick, n));
        text_reply(s, "! nick \"%.*s\" is reserved", (int)n, nick);
        break;
    case CHAT_ERR_BANNED:
        log_debug("event=refused id=%llu cmd=nick reason=banned nick=%s",
                  (unsigned long long)s->client.id, log_q(nick, n));
        text_reply(s, "! nick \"%.*s\" is banned from this server", (int)n,
                   nick);
        break;
    default:
        log_debug("event=refused id=%llu cmd=nick reason=already nick=%s",
                  (unsigned long long)s->client.id, log_q(nick, n));
        text_reply(s, "! you are already %.*s", (int)n, nick);
        break;
    }
}

/* Strips the optional '#' of a room name typed by a user. */
static void text_room_name(const char **name, size_t *n)
{
    if (*n > 0 && **name == '#') {
        (*name)++;
        (*n)--;
    }
}

/* Replies that a room name is not valid. */
static void text_bad_room(struct text_session *s, const char *name, size_t n)
{
    log_debug("event=refused id=%llu reason=invalid-room room=%s",
              (unsigned long long)s->client.id, log_q(name, n));
    text_reply(s, "! invalid room name \"%.*s\": 1-32 letters, digits, _ or -",
               (int)n, name);
}

void text_join_error(struct text_session *s, enum chat_error e,
                     const char *name, size_t n)
{
    const struct room *r = chat_find_room(name, n);
    const char *room = r ? r->name : "";
    switch (e) {
    case CHAT_ERR_INVALID:
        text_bad_room(s, name, n);
        return;
    case CHAT_ERR_ALREADY:
        text_reply(s, "! you are already in #%s", room);
        break;
    case CHAT_ERR_RATE: {
        unsigned wait = chat_new_room_wait(&s->client);
        text_reply(s, "! too many new rooms: try again in %u s",
                   wait ? wait : 1); /* 1 if the clock ticked since */
        break;
    }
    case CHAT_ERR_BANNED:
        text_reply(s, "! you are banned from #%s", room);
        break;
    case CHAT_ERR_INVITE_ONLY:
        text_reply(s, "! #%s is invite-only: an operator must /invite you",
                   room);
        break;
    case CHAT_ERR_BAD_KEY:
        text_reply(s, "! #%s needs a key: /join #%s KEY", room, room);
        break;
    case CHAT_ERR_FULL:
        text_reply(s, "! #%s is full (limit %zu)", room, r ? r->limit : 0);
        break;
    default:
        text_reply(s, "! too many rooms (max %zu)",
                   chat_get_config()->max_rooms);
        break;
    }
    log_debug("event=refused id=%llu cmd=join reason=%d room=%s",
              (unsigned long long)s->client.id, (int)e, log_q(name, n));
}

/* /join ROOM [KEY]: leave the current room for ROOM. */
static void cmd_join(struct text_session *s, const char *args, size_t len)
{
    const char *name, *key;
    size_t n = text_word(&args, &len, &name);
    size_t k = text_word(&args, &len, &key);
    if (n == 0 || len > 0) {
        text_usage(s, "/join ROOM [KEY]");
        return;
    }
    text_room_name(&name, &n);
    struct room *old = text_room(s), *r;
    enum chat_error e = chat_join(&s->client, name, n, key, k, &r);
    if (e != CHAT_OK)
        text_join_error(s, e, name, n);
    else if (old)
        chat_part(&s->client, old, NULL, 0);
}

/*
 * /rooms lists at most this many rooms, the biggest: the cost of a call
 * stays small however many rooms exist (one pass, no sort of them all).
 */
#define TEXT_ROOMS_SHOWN 100
/* /who lists at most this many nicks of a room, the first by name. */
#define TEXT_WHO_SHOWN 1000

/*
 * The first k of many things in some order, found in one pass: a heap
 * whose top is the last of those kept, replaced when a better one comes.
 * Costs n log k, where sorting everything would cost n log n.
 */
struct text_top {
    const void **v;
    size_t n, k;
    size_t seen; /* things offered, kept or not */
    bool (*before)(const void *x, const void *y); /* x comes before y */
};

/* Moves the heap's entry at i down until the last kept is at the top. */
static void text_top_sift(struct text_top *t, size_t i)
{
    for (;;) {
        size_t c = 2 * i + 1, last = i;
        if (c < t->n && t->before(t->v[last], t->v[c]))
            last = c;
        if (c + 1 < t->n && t->before(t->v[last], t->v[c + 1]))
            last = c + 1;
        if (last == i)
            return;
        const void *x = t->v[i];
        t->v[i] = t->v[last];
        t->v[last] = x;
        i = last;
    }
}

/* Offers x: it is kept if it is among the first k so far. */
static void text_top_add(struct text_top *t, const void *x)
{
    t->seen++;
    if (t->n < t->k) {
        t->v[t->n++] = x;
        if (t->n == t->k) /* full: make it a heap */
            for (size_t i = t->n / 2; i-- > 0;)
                text_top_sift(t, i);
    } else if (t->before(x, t->v[0])) {
        t->v[0] = x;
        text_top_sift(t, 0);
    }
}

/* Returns true if room x should be listed before y is: more people, then
 * the name first in the alphabet. */
static bool text_room_before(const void *a, const void *b)
{
    const struct room *x = a, *y = b;
    if (x->nmembers != y->nmembers)
        return x->nmembers > y->nmembers;
    return strcasecmp(x->name, y->name) < 0;
}

/* What /rooms collects: the biggest rooms whose names contain word. */
struct text_rooms {
    struct text_top top;
    const char *word; /* NULL: all */
    size_t word_len;
    const struct client *asker; /* sees the secret rooms it is in */
};

/* Returns true if c may see r listed: r is not secret (+s), or c is in it. */
static bool text_may_see(const struct client *c, const struct room *r)
{
    return !(r->modes & ROOM_SECRET) || chat_is_member(c, r);
}

/* Returns true if name contains word, ignoring case. */
static bool text_name_has(const char *name, const char *word, size_t n)
{
    for (const char *p = name; *p; p++)
        if (strncasecmp(p, word, n) == 0)
            return true;
    return false;
}

/* chat_foreach_room helper: offers r if its name matches. */
static void text_collect_room(struct room *r, void *arg)
{
    struct text_rooms *rs = arg;
    if (!text_may_see(rs->asker, r))
        return;
    if (rs->word == NULL || text_name_has(r->name, rs->word, rs->word_len))
        text_top_add(&rs->top, r);
}

/* qsort comparator: rooms by name, ignoring case. */
static int text_room_cmp(const void *a, const void *b)
{
    const struct room *x = *(const struct room *const *)a;
    const struct room *y = *(const struct room *const *)b;
    return strcasecmp(x->name, y->name);
}

/*
 * /rooms [WORD] and /list: one line per room, sorted by name; at most the
 * TEXT_ROOMS_SHOWN biggest (whose names contain WORD), then a line saying
 * how many more there are.
 */
static void cmd_rooms(struct text_session *s, const char *args, size_t len)
{
    const void *shown[TEXT_ROOMS_SHOWN];
    struct text_rooms rs = {
        .top = {.v = shown, .k = TEXT_ROOMS_SHOWN, .before = text_room_before},
        .asker = &s->client};
    const char *word;
    size_t n = text_word(&args, &len, &word);
    if (len > 0) {
        text_usage(s, "/rooms [WORD]");
        return;
    }
    if (n > 0) {
        text_room_name(&word, &n);
        rs.word = word;
        rs.word_len = n;
    }
    chat_foreach_room(text_collect_room, &rs);
    qsort(shown, rs.top.n, sizeof *shown, text_room_cmp);
    for (size_t i = 0; i < rs.top.n; i++) {
        const struct room *r = shown[i];
        if (r->topic)
            text_reply(s, "* #%s: %zu %s, topic: %s", r->name, r->nmembers,
                       text_people(r->nmembers), r->topic);
        else
            text_reply(s, "* #%s: %zu %s", r->name, r->nmembers,
                       text_people(r->nmembers));
    }
    if (rs.top.seen > rs.top.n)
        text_reply(s,
                   "* ... and %zu more (the %d biggest are shown; "
                   "/rooms WORD lists those named with WORD)",
                   rs.top.seen - rs.top.n, TEXT_ROOMS_SHOWN);
    else if (rs.top.seen == 0)
        text_reply(s, "* no room has \"%.*s\" in its name", (int)n, word);
}

/* qsort comparator: clients by nick, ignoring case. */
static int text_nick_cmp(const void *a, const void *b)
{
    const struct client *x = *(const struct client *const *)a;
    const struct client *y = *(const struct client *const *)b;
    return strcasecmp(x->nick, y->nick);
}

/* text_top order: nicks alphabetically, ignoring case. */
static bool text_nick_before(const void *a, const void *b)
{
    const struct client *x = a, *y = b;
    return strcasecmp(x->nick, y->nick) < 0;
}

/* Returns what /who shows before c's nick in r: "@" for an operator,
 * "+" for a voiced person (no nick holds either), "" for the others. */
static const char *text_who_mark(const struct client *c, const struct room *r)
{
    const struct chat_membership *m = chat_membership(c, r);
    unsigned status = m ? m->status : 0;
    return status & CHAT_OP ? "@" : status & CHAT_VOICE ? "+" : "";
}

/*
 * Lists the nicks in r, sorted, over as many lines as it takes (the first
 * TEXT_WHO_SHOWN of a bigger room, then how many more), operators marked
 * "@" and voiced people "+"; a room kept without members is said to be
 * empty.
 */
static void text_who(struct text_session *s, const struct room *r)
{
    if (r->nmembers == 0) {
        text_reply(s, "* #%s is empty", r->name);
        return;
    }
    size_t k = r->nmembers < TEXT_WHO_SHOWN ? r->nmembers : TEXT_WHO_SHOWN;
    const void **v = xcalloc(k, sizeof *v);
    struct text_top top = {.v = v, .k = k, .before = text_nick_before};
    for (size_t i = 0; i < r->nmembers; i++)
        text_top_add(&top, r->members[i]);
    qsort(v, k, sizeof *v, text_nick_cmp);
    struct tbuf line = {0};
    bool first = true;
    for (size_t i = 0; i <= k; i++) {
        const struct client *c = i < k ? v[i] : NULL;
        bool flush = c == NULL ||
                     (line.n > 0 && line.n + c->nick_len + 3 > TEXT_WHO_LINE);
        if (flush) {
            if (first)
                text_reply(s, "* #%s (%zu %s): %.*s", r->name, r->nmembers,
                           text_people(r->nmembers), (int)line.n, line.p);
            else
                text_reply(s, "* #%s: %.*s", r->name, (int)line.n, line.p);
            first = false;
            line.n = 0;
        }
        if (c == NULL)
            break;
        if (line.n > 0)
            tbuf_put(&line, ", ", 2);
        tbuf_str(&line, text_who_mark(c, r));
        tbuf_put(&line, c->nick, c->nick_len);
    }
    if (r->nmembers > k)
        text_reply(s, "* #%s: ... and %zu more", r->name, r->nmembers - k);
    free(line.p);
    free(v);
}

/* /who [ROOM] */
static void cmd_who(struct text_session *s, const char *args, size_t len)
{
    const char *name;
    size_t n = text_word(&args, &len, &name);
    if (len > 0) {
        text_usage(s, "/who [ROOM]");
        return;
    }
    if (n == 0) {
        struct room *r = text_here(s);
        if (r)
            text_who(s, r);
        return;
    }
    text_room_name(&name, &n);
    if (!room_name_valid(name, n)) {
        text_bad_room(s, name, n);
        return;
    }
    struct room *r = chat_find_room(name, n);
    if (r == NULL || !text_may_see(&s->client, r)) {
        log_debug("event=refused id=%llu cmd=who reason=no-such-room room=%s",
                  (unsigned long long)s->client.id, log_q(name, n));
        text_reply(s, "! no such room: #%.*s", (int)n, name);
    } else
        text_who(s, r);
}

/*
 * /msg NICK TEXT. The sender sees what was sent on the line the recipient
 * got (only once when messaging oneself): with no room around a private
 * message, it is the only sign it went out, and to whom.
 */
static void cmd_msg(struct text_session *s, const char *args, size_t len)
{
    const char *nick;
    size_t n = text_word(&args, &len, &nick);
    if (n == 0 || len == 0) {
        text_usage(s, "/msg NICK TEXT");
        return;
    }
    struct client *to = chat_find_nick(nick, n);
    if (to == NULL) {
        log_debug("event=refused id=%llu cmd=msg reason=no-such-nick nick=%s",
                  (unsigned long long)s->client.id, log_q(nick, n));
        text_reply(s, "! no such nick: %.*s", (int)n, nick);
        return;
    }
    chat_privmsg(&s->client, to, args, len, false, false, NULL, NULL);
    if (to != &s->client)
        text_private_echo(s, to, args, len);
}

struct room *text_here(struct text_session *s)
{
    struct room *r = text_room(s);
    if (r == NULL) {
        log_debug("event=refused id=%llu reason=no-room",
                  (unsigned long long)s->client.id);
        text_reply(s, "! you are in no room: /join ROOM");
    }
    return r;
}

void text_speak_error(struct text_session *s, const struct room *r,
                      enum chat_error e)
{
    bool banned = e == CHAT_ERR_MODERATED && chat_is_banned(&s->client, r);
    log_debug("event=refused id=%llu reason=%s room=%s",
              (unsigned long long)s->client.id, banned ? "banned" : "moderated",
              log_q(r->name, r->name_len));
    if (banned)
        text_reply(s, "! you are banned from #%s and may not talk there",
                   r->name);
    else
        text_reply(s,
                   "! #%s is moderated: only its operators and voiced "
                   "people may talk",
                   r->name);
}

/* /me TEXT */
static void cmd_me(struct text_session *s, const char *args, size_t len)
{
    if (len == 0) {
        text_usage(s, "/me TEXT");
        return;
    }
    struct room *r = text_here(s);
    enum chat_error e =
        r ? chat_act(&s->client, r, args, len, NULL, NULL) : CHAT_OK;
    if (e != CHAT_OK)
        text_speak_error(s, r, e);
}

/* /topic [TEXT]: show or set the topic of the current room. */
static void cmd_topic(struct text_session *s, const char *args, size_t len)
{
    struct room *r = text_here(s);
    if (r == NULL)
        return;
    if (len == 0) {
        if (r->topic)
            text_reply(s, "* topic of #%s: %s", r->name, r->topic);
        else
            text_reply(s, "* #%s has no topic", r->name);
        return;
    }
    enum chat_error e = chat_set_topic(&s->client, r, args, len);
    if (e == CHAT_ERR_TOO_LONG) {
        log_debug("event=refused id=%llu cmd=topic reason=too-long bytes=%zu",
                  (unsigned long long)s->client.id, len);
        text_reply(s, "! topic too long (max %zu bytes)",
                   chat_get_config()->topic_max);
    } else if (e == CHAT_ERR_NOT_OP) {
        log_debug("event=refused id=%llu cmd=topic reason=not-op room=%s",
                  (unsigned long long)s->client.id,
                  log_q(r->name, r->name_len));
        text_reply(s, "! only operators of #%s may set its topic", r->name);
    }
}

/* /quit [REASON] */
static void cmd_quit(struct text_session *s, const char *args, size_t len)
{
    text_quit(s, args, len);
}

static const struct text_cmd text_cmds[] = {
    {"help", cmd_help, "/help", "list the commands"},
    {"nick", cmd_nick, "/nick NAME", "change your nick"},
    {"join", cmd_join, "/join ROOM [KEY]", "leave this room and join ROOM"},
    {"rooms", cmd_rooms, "/rooms [WORD]",
     "list the rooms (named with WORD; also /list)"},
    {"list", cmd_rooms, "/list", NULL},
    {"who", cmd_who, "/who [ROOM]", "who is in this room (or ROOM)"},
    {"msg", cmd_msg, "/msg NICK TEXT", "send a private message (shown to you)"},
    {"me", cmd_me, "/me TEXT", "act: the room sees [* NICK] TEXT"},
    {"topic", cmd_topic, "/topic [TEXT]", "show or set the room's topic"},
    {"invite", text_cmd_invite, "/invite NICK", "invite NICK into this room"},
    {"bans", text_cmd_bans, "/bans", "list this room's bans"},
    {"mode", text_cmd_mode, "/mode [+|-MODES ...]",
     "show the room's modes, or (ops) change them: imnstklbov"},
    {"kick", text_cmd_kick, "/kick NICK [REASON]",
     "(ops) put NICK out of this room"},
    {"ban", text_cmd_ban, "/ban NICK|MASK",
     "(ops) keep NICK's host, or MASK, out of this room"},
    {"unban", text_cmd_unban, "/unban NICK|MASK", "(ops) lift that ban"},
    {"op", text_cmd_op, "/op NICK", "(ops) make NICK an operator here"},
    {"deop", text_cmd_deop, "/deop NICK", "(ops) take that back"},
    {"voice", text_cmd_voice, "/voice NICK",
     "(ops) let NICK talk while the room is muted"},
    {"devoice", text_cmd_devoice, "/devoice NICK", "(ops) take that back"},
    {"mute", text_cmd_mute, "/mute",
     "(ops) only operators and voiced people may talk (+m)"},
    {"unmute", text_cmd_unmute, "/unmute", "(ops) everyone may talk (-m)"},
    {"oper", text_cmd_oper, "/oper NAME PASSWORD", "become a server operator"},
    {"kill", text_cmd_kill, "/kill NICK [REASON]",
     "(server operators) disconnect NICK"},
    {"serverban", text_cmd_serverban,
     "/serverban ADDRESS|NETWORK|MASK [DURATION] [REASON]",
     "(server operators) keep them out of the server"},
    {"serverunban", text_cmd_serverunban, "/serverunban ADDRESS|NETWORK|MASK",
     "(server operators) lift that server ban"},
    {"serverbans", text_cmd_serverbans, "/serverbans",
     "(server operators) list the server bans"},
    {"quit", cmd_quit, "/quit [REASON]", "leave (also $exit)"},
};

#define TEXT_NCMDS (sizeof text_cmds / sizeof text_cmds[0])

/* /help */
static void cmd_help(struct text_session *s, const char *args, size_t len)
{
    (void)args;
    (void)len;
    text_reply(s, "* commands:");
    for (size_t i = 0; i < TEXT_NCMDS; i++)
        if (text_cmds[i].help)
            text_reply(s, "*   %-20s %s", text_cmds[i].usage,
                       text_cmds[i].help);
    text_reply(s, "*   %-20s %s", "//TEXT", "say TEXT starting with /");
}

void text_command(struct text_session *s, const char *line, size_t len)
{
    const char *args = line + 1, *name;
    size_t n = text_word(&args, &(size_t){len - 1}, &name);
    size_t rest = len - (size_t)(args - line);
    for (size_t i = 0; i < TEXT_NCMDS; i++) {
        if (strlen(text_cmds[i].name) == n &&
            strncasecmp(text_cmds[i].name, name, n) == 0) {
            text_cmds[i].fn(s, args, rest);
            return;
        }
    }
    log_debug("event=refused id=%llu cmd=%s reason=unknown",
              (unsigned long long)s->client.id, log_q(name, n));
    text_reply(s, "! unknown command: /%.*s (try /help)", (int)n, name);
}
