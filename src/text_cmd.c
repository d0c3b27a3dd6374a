/*
 * text_cmd: the command table of the text protocol and its handlers.
 *
 * Each command is one table entry: its name, its handler, and the usage
 * and help text. Handlers get the arguments after the command word with
 * leading spaces removed (the line was sanitized and trimmed already).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chat.h"
#include "log.h"
#include "room.h"
#include "text.h"
#include "xmalloc.h"

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

/* Splits the first space-separated word off *args; returns its length. */
static size_t text_word(const char **args, size_t *len, const char **word)
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

/* Replies with the command's usage line. */
static void text_usage(struct text_session *s, const char *usage)
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
                   "_-[]\\^{}|`, not starting with a digit or -",
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

/* /join ROOM: leave the current room for ROOM. */
static void cmd_join(struct text_session *s, const char *args, size_t len)
{
    const char *name;
    size_t n = text_word(&args, &len, &name);
    if (n == 0 || len > 0) {
        text_usage(s, "/join ROOM");
        return;
    }
    text_room_name(&name, &n);
    struct room *old = s->client.room, *r;
    switch (chat_join(&s->client, name, n, &r)) {
    case CHAT_OK:
        if (old)
            chat_part(&s->client, old, NULL, 0);
        break;
    case CHAT_ERR_INVALID:
        text_bad_room(s, name, n);
        break;
    case CHAT_ERR_ALREADY:
        r = chat_find_room(name, n);
        log_debug("event=refused id=%llu cmd=join reason=already room=%s",
                  (unsigned long long)s->client.id,
                  log_q(r->name, r->name_len));
        text_reply(s, "! you are already in #%s", r->name);
        break;
    default:
        log_debug(
            "event=refused id=%llu cmd=join reason=too-many-rooms room=%s",
            (unsigned long long)s->client.id, log_q(name, n));
        text_reply(s, "! too many rooms (max %zu)",
                   chat_get_config()->max_rooms);
        break;
    }
}

/* Collects rooms into an array for sorting. */
struct text_rooms {
    struct room **v;
    size_t n;
};

/* chat_foreach_room helper: appends one room. */
static void text_collect_room(struct room *r, void *arg)
{
    struct text_rooms *rs = arg;
    rs->v[rs->n++] = r;
}

/* qsort comparator: rooms by name, ignoring case. */
static int text_room_cmp(const void *a, const void *b)
{
    const struct room *x = *(struct room *const *)a;
    const struct room *y = *(struct room *const *)b;
    return strcasecmp(x->name, y->name);
}

/* /rooms and /list: one line per room, sorted by name. */
static void cmd_rooms(struct text_session *s, const char *args, size_t len)
{
    (void)args;
    (void)len;
    struct text_rooms rs = {xcalloc(chat_room_count(), sizeof *rs.v), 0};
    chat_foreach_room(text_collect_room, &rs);
    qsort(rs.v, rs.n, sizeof *rs.v, text_room_cmp);
    for (size_t i = 0; i < rs.n; i++) {
        const struct room *r = rs.v[i];
        if (r->topic)
            text_reply(s, "* #%s: %zu %s, topic: %s", r->name, r->nmembers,
                       text_people(r->nmembers), r->topic);
        else
            text_reply(s, "* #%s: %zu %s", r->name, r->nmembers,
                       text_people(r->nmembers));
    }
    free(rs.v);
}

/* qsort comparator: clients by nick, ignoring case. */
static int text_nick_cmp(const void *a, const void *b)
{
    const struct client *x = *(struct client *const *)a;
    const struct client *y = *(struct client *const *)b;
    return strcasecmp(x->nick, y->nick);
}

/* Lists the nicks in r, sorted, over as many lines as it takes. */
static void text_who(struct text_session *s, const struct room *r)
{
    struct client **v = xcalloc(r->nmembers, sizeof *v);
    memcpy(v, r->members, r->nmembers * sizeof *v);
    qsort(v, r->nmembers, sizeof *v, text_nick_cmp);
    char line[TEXT_WHO_LINE + NICK_MAX + 4];
    size_t n = 0;
    bool first = true;
    for (size_t i = 0; i <= r->nmembers; i++) {
        bool flush = i == r->nmembers ||
                     (n > 0 && n + v[i]->nick_len + 2 > TEXT_WHO_LINE);
        if (flush) {
            if (first)
                text_reply(s, "* #%s (%zu %s): %.*s", r->name, r->nmembers,
                           text_people(r->nmembers), (int)n, line);
            else
                text_reply(s, "* #%s: %.*s", r->name, (int)n, line);
            first = false;
            n = 0;
        }
        if (i == r->nmembers)
            break;
        if (n > 0) {
            memcpy(line + n, ", ", 2);
            n += 2;
        }
        memcpy(line + n, v[i]->nick, v[i]->nick_len);
        n += v[i]->nick_len;
    }
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
        if (s->client.room)
            text_who(s, s->client.room);
        return;
    }
    text_room_name(&name, &n);
    if (!room_name_valid(name, n)) {
        text_bad_room(s, name, n);
        return;
    }
    struct room *r = chat_find_room(name, n);
    if (r == NULL) {
        log_debug("event=refused id=%llu cmd=who reason=no-such-room room=%s",
                  (unsigned long long)s->client.id, log_q(name, n));
        text_reply(s, "! no such room: #%.*s", (int)n, name);
    } else
        text_who(s, r);
}

/* /msg NICK TEXT */
static void cmd_msg(struct text_session *s, const char *args, size_t len)
{
    const char *nick;
    size_t n = text_word(&args, &len, &nick);
    if (n == 0 || len == 0) {
        text_usage(s, "/msg NICK TEXT");
        return;
    }
    if (chat_privmsg(&s->client, nick, n, args, len) != CHAT_OK) {
        log_debug("event=refused id=%llu cmd=msg reason=no-such-nick nick=%s",
                  (unsigned long long)s->client.id, log_q(nick, n));
        text_reply(s, "! no such nick: %.*s", (int)n, nick);
    }
}

/* /me TEXT */
static void cmd_me(struct text_session *s, const char *args, size_t len)
{
    if (len == 0) {
        text_usage(s, "/me TEXT");
        return;
    }
    if (s->client.room)
        chat_act(&s->client, s->client.room, args, len);
}

/* /topic [TEXT]: show or set the topic of the current room. */
static void cmd_topic(struct text_session *s, const char *args, size_t len)
{
    struct room *r = s->client.room;
    if (r == NULL)
        return;
    if (len == 0) {
        if (r->topic)
            text_reply(s, "* topic of #%s: %s", r->name, r->topic);
        else
            text_reply(s, "* #%s has no topic", r->name);
        return;
    }
    if (chat_set_topic(&s->client, r, args, len) == CHAT_ERR_TOO_LONG) {
        log_debug("event=refused id=%llu cmd=topic reason=too-long bytes=%zu",
                  (unsigned long long)s->client.id, len);
        text_reply(s, "! topic too long (max %zu bytes)",
                   chat_get_config()->topic_max);
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
    {"join", cmd_join, "/join ROOM", "leave this room and join ROOM"},
    {"rooms", cmd_rooms, "/rooms", "list the rooms (also /list)"},
    {"list", cmd_rooms, "/list", NULL},
    {"who", cmd_who, "/who [ROOM]", "who is in this room (or ROOM)"},
    {"msg", cmd_msg, "/msg NICK TEXT", "send a private message"},
    {"me", cmd_me, "/me TEXT", "act: the room sees * NICK TEXT"},
    {"topic", cmd_topic, "/topic [TEXT]", "show or set the room's topic"},
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
            text_reply(s, "*   %-16s %s", text_cmds[i].usage,
                       text_cmds[i].help);
    text_reply(s, "*   %-16s %s", "//TEXT", "say TEXT starting with /");
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
