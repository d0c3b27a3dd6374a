/*
 * cmd: the command table of the IRC protocol, and the commands of the
 * connection itself (PASS, NICK, USER, PING, PONG, QUIT) and of messages
 * (PRIVMSG, NOTICE).
 *
 * Each command is one table entry: its name, its handler, the parameters
 * it needs, and whether it may come before registration. The dispatcher
 * checks those, so a handler finds its parameters there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/room.h"
#include "event/conn.h"
#include "irc/irc.h"
#include "lib/log.h"

struct irc_cmd {
    const char *name;
    irc_cmd_fn fn;
    unsigned min_params;
    bool before_registration; /* allowed before NICK and USER are done */
};

const char *irc_arg(const struct irc_msg *m, size_t i, char *buf, size_t cap)
{
    size_t n = i < m->nparams ? m->params[i].n : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(buf, m->params[i].p, n);
    buf[n] = '\0';
    return buf;
}

struct room *irc_find_channel(const char *chan, size_t len)
{
    if (len < 2 || chan[0] != '#')
        return NULL;
    return chat_find_room(chan + 1, len - 1);
}

/* ------------------------------------------------------------------------
 * Connection
 * ------------------------------------------------------------------------ */

/* PASS: parley has no connection password; accepted before registration. */
static void irc_cmd_pass(struct irc_session *s, struct irc_msg *m)
{
    (void)m;
    if (s->registered)
        irc_num(s, "462", ":You may not reregister");
}

/* NICK NEW: picks the nick (before registration) or changes it. */
static void irc_cmd_nick(struct irc_session *s, struct irc_msg *m)
{
    char nick[IRC_BODY_MAX + 1];
    irc_arg(m, 0, nick, sizeof nick);
    size_t n = strlen(nick);
    if (n == 0) {
        irc_num(s, "431", ":No nickname given");
        return;
    }
    if (!s->registered) {
        struct client *owner = chat_find_nick(nick, n);
        if (!chat_nick_valid(nick, n) || n > NICK_MAX) {
            irc_num(s, "432", "%s :Erroneous nickname", nick);
        } else if (owner) {
            irc_num(s, "433", "%s :Nickname is already in use", nick);
        } else {
            memcpy(s->nick, nick, n + 1);
            irc_try_register(s);
        }
        return;
    }
    switch (chat_set_nick(&s->client, nick, n)) {
    case CHAT_OK:
    case CHAT_ERR_ALREADY:
        break;
    case CHAT_ERR_TAKEN:
        irc_num(s, "433", "%s :Nickname is already in use", nick);
        break;
    default:
        irc_num(s, "432", "%s :Erroneous nickname", nick);
        break;
    }
}

/* USER NAME MODE UNUSED :REALNAME */
static void irc_cmd_user(struct irc_session *s, struct irc_msg *m)
{
    if (s->registered || s->user[0]) {
        irc_num(s, "462", ":You may not reregister");
        return;
    }
    size_t n = 0;
    const struct irc_slice *u = &m->params[0];
    for (size_t i = 0; i < u->n && n < sizeof s->user - 1; i++) {
        char ch = u->p[i];
        if ((unsigned char)ch > ' ' && ch != '@' && ch != '!' && ch != ':')
            s->user[n++] = ch;
    }
    if (n == 0) {
        irc_num(s, "461", "USER :Not enough parameters");
        return;
    }
    s->user[n] = '\0';
    const struct irc_slice *r = &m->params[3];
    size_t rn = r->n < CHAT_REALNAME_MAX ? r->n : CHAT_REALNAME_MAX;
    free(s->realname);
    s->realname = rn ? strndup(r->p, rn) : NULL;
    irc_try_register(s);
}

/* PING TOKEN: PONG SERVER TOKEN, before registration too. */
static void irc_cmd_ping(struct irc_session *s, struct irc_msg *m)
{
    irc_send(s, ":%s PONG %s :%.*s", irc_conf.server_name, irc_conf.server_name,
             (int)m->params[0].n, m->params[0].p);
}

/* PONG: the answer to our PING; any input counts, so nothing to do. */
static void irc_cmd_pong(struct irc_session *s, struct irc_msg *m)
{
    (void)s;
    (void)m;
}

/* QUIT [:REASON] */
static void irc_cmd_quit(struct irc_session *s, struct irc_msg *m)
{
    const struct irc_slice *r = &m->params[0];
    irc_quit(s, m->nparams ? r->p : "", m->nparams ? r->n : 0);
}

/* ------------------------------------------------------------------------
 * Messages
 * ------------------------------------------------------------------------ */

/* Returns true if text is a CTCP ACTION; sets *body and *len to its text. */
static bool irc_is_action(const char *text, size_t n, const char **body,
                          size_t *len)
{
    if (n < 8 ||
        memcmp(text,
               "\x01"
               "ACTION",
               7) != 0 ||
        (text[7] != ' ' && text[7] != '\x01'))
        return false;
    *body = text + (text[7] == ' ' ? 8 : 7);
    *len = (size_t)(text + n - *body);
    if (*len > 0 && (*body)[*len - 1] == '\x01')
        (*len)--;
    return true;
}

/* Shows s its own message, if it asked for echo-message. */
static void irc_echo(struct irc_session *s, uint64_t id, bool notice,
                     const char *target, const char *text, size_t len)
{
    if (!(s->caps & IRC_CAP_ECHO_MESSAGE))
        return;
    char from[CHAT_PREFIX_MAX + 1];
    chat_prefix(&s->client, from, sizeof from);
    irc_send_message(s, NULL, id, chat_wall_ms(), notice, from, target, text,
                     len);
}

/* Sends text to the channel chan (len bytes); errors unless a notice. */
static void irc_to_channel(struct irc_session *s, const char *chan, bool notice,
                           const char *text, size_t len)
{
    struct room *r = irc_find_channel(chan, strlen(chan));
    if (r == NULL) {
        if (!notice)
            irc_num(s, "403", "%s :No such channel", chan);
        return;
    }
    const char *body;
    size_t blen;
    uint64_t id;
    enum chat_error e;
    if (irc_is_action(text, len, &body, &blen)) {
        e = chat_act(&s->client, r, body, blen, &id);
    } else {
        struct chat_line line = {text, len};
        e = chat_say(&s->client, r, &line, 1, notice, &id);
    }
    if (e != CHAT_OK) {
        if (!notice)
            irc_num(s, "404", "#%s :Cannot send to channel", r->name);
        return;
    }
    irc_echo(s, id, notice, chan, text, len);
}

/* Sends text to the person nick; errors unless a notice. */
static void irc_to_nick(struct irc_session *s, const char *nick, bool notice,
                        const char *text, size_t len)
{
    struct client *to = chat_find_nick(nick, strlen(nick));
    if (to == NULL) {
        if (!notice)
            irc_num(s, "401", "%s :No such nick/channel", nick);
        return;
    }
    const char *body;
    size_t blen;
    uint64_t id;
    bool action = irc_is_action(text, len, &body, &blen);
    chat_privmsg(&s->client, to, action ? body : text, action ? blen : len,
                 action, notice, &id);
    if (!notice && to->away)
        irc_num(s, "301", "%s :%s", to->nick, to->away);
    irc_echo(s, id, notice, to->nick, text, len);
}

/* PRIVMSG and NOTICE: TARGET[,TARGET...] :TEXT */
static void irc_message(struct irc_session *s, struct irc_msg *m, bool notice)
{
    const char *cmd = notice ? "NOTICE" : "PRIVMSG";
    if (m->nparams == 0) {
        if (!notice)
            irc_num(s, "411", ":No recipient given (%s)", cmd);
        return;
    }
    if (m->nparams < 2 || m->params[1].n == 0) {
        if (!notice)
            irc_num(s, "412", ":No text to send");
        return;
    }
    char targets[IRC_BODY_MAX + 1];
    irc_arg(m, 0, targets, sizeof targets);
    const char *text = m->params[1].p;
    size_t len = m->params[1].n;
    char *save = NULL;
    unsigned count = 0;
    for (char *t = strtok_r(targets, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        if (++count > IRC_TARGMAX) {
            if (!notice)
                irc_num(s, "407", "%s :Too many targets", t);
            break;
        }
        const char *chan = t;
        while (*chan == '@' || *chan == '+') /* STATUSMSG: sent to all */
            chan++;
        if (*chan == '#')
            irc_to_channel(s, chan, notice, text, len);
        else
            irc_to_nick(s, t, notice, text, len);
    }
}

void irc_cmd_privmsg(struct irc_session *s, struct irc_msg *m)
{
    irc_message(s, m, false);
}

void irc_cmd_notice(struct irc_session *s, struct irc_msg *m)
{
    irc_message(s, m, true);
}

/* ------------------------------------------------------------------------
 * Server queries
 * ------------------------------------------------------------------------ */

/* MOTD */
static void irc_cmd_motd(struct irc_session *s, struct irc_msg *m)
{
    (void)m;
    irc_motd(s);
}

/* LUSERS */
static void irc_cmd_lusers(struct irc_session *s, struct irc_msg *m)
{
    (void)m;
    irc_lusers(s);
}

/* VERSION */
static void irc_cmd_version(struct irc_session *s, struct irc_msg *m)
{
    (void)m;
    irc_num(s, "351", "parley-0.1.0. %s :parley chat server",
            irc_conf.server_name);
}

/* TIME */
static void irc_cmd_time(struct irc_session *s, struct irc_msg *m)
{
    (void)m;
    char when[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%A %B %d %Y -- %H:%M:%S +00:00", &tm);
    irc_num(s, "391", "%s :%s", irc_conf.server_name, when);
}

/* ------------------------------------------------------------------------
 * The table
 * ------------------------------------------------------------------------ */

static const struct irc_cmd irc_cmds[] = {
    {"CAP", irc_cmd_cap, 1, true},
    {"INVITE", irc_cmd_invite, 0, false},
    {"JOIN", irc_cmd_join, 1, false},
    {"KICK", irc_cmd_kick, 2, false},
    {"LIST", irc_cmd_list, 0, false},
    {"LUSERS", irc_cmd_lusers, 0, false},
    {"MODE", irc_cmd_mode, 1, false},
    {"MOTD", irc_cmd_motd, 0, false},
    {"NAMES", irc_cmd_names, 0, false},
    {"NICK", irc_cmd_nick, 0, true},
    {"NOTICE", irc_cmd_notice, 0, false},
    {"PART", irc_cmd_part, 1, false},
    {"PASS", irc_cmd_pass, 1, true},
    {"PING", irc_cmd_ping, 1, true},
    {"PONG", irc_cmd_pong, 0, true},
    {"PRIVMSG", irc_cmd_privmsg, 0, false},
    {"QUIT", irc_cmd_quit, 0, true},
    {"TIME", irc_cmd_time, 0, false},
    {"TOPIC", irc_cmd_topic, 1, false},
    {"USER", irc_cmd_user, 4, true},
    {"VERSION", irc_cmd_version, 0, false},
};

#define IRC_NCMDS (sizeof irc_cmds / sizeof irc_cmds[0])

void irc_dispatch(struct irc_session *s, struct irc_msg *m)
{
    char name[32];
    size_t n = m->cmd.n < sizeof name - 1 ? m->cmd.n : sizeof name - 1;
    for (size_t i = 0; i < n; i++)
        name[i] =
            (char)((m->cmd.p[i] >= 'a' && m->cmd.p[i] <= 'z') ? m->cmd.p[i] - 32
                                                              : m->cmd.p[i]);
    name[n] = '\0';
    for (size_t i = 0; i < IRC_NCMDS; i++) {
        const struct irc_cmd *c = &irc_cmds[i];
        if (strcmp(c->name, name) != 0 || m->cmd.n != n)
            continue;
        if (!s->registered && !c->before_registration) {
            irc_num(s, "451", ":You have not registered");
        } else if (m->nparams < c->min_params) {
            irc_num(s, "461", "%s :Not enough parameters", name);
        } else {
            c->fn(s, m);
        }
        return;
    }
    if (s->registered)
        irc_num(s, "421", "%s :Unknown command", name);
    else
        irc_num(s, "451", ":You have not registered");
}
