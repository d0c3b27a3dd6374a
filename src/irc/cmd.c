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

#include "core/batch.h"
#include "core/room.h"
#include "event/conn.h"
#include "irc/irc.h"
#include "irc/tags.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

struct irc_cmd {
    const char *name;
    irc_cmd_fn fn;
    unsigned min_params;
    bool before_registration; /* allowed before NICK and USER are done */
};

const char *irc_arg(const struct irc_msg *m, size_t i, char *buf, size_t cap)
{
    size_t n = i < m->nparams ? m->params[i].n : 0;
    if (n >= cap) /* cut between characters: it may be echoed */
        n = irc_fit_utf8(m->params[i].p, n, cap - 1);
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
            memcpy(s->pending->nick, nick, n + 1);
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
    struct irc_pending *p = s->pending;
    if (s->registered || p->user[0]) {
        irc_num(s, "462", ":You may not reregister");
        return;
    }
    char user[IRC_BODY_MAX];
    size_t n = 0;
    const struct irc_slice *u = &m->params[0];
    for (size_t i = 0; i < u->n && n < sizeof user; i++) {
        char ch = u->p[i];
        if ((unsigned char)ch > ' ' && ch != '@' && ch != '!' && ch != ':')
            user[n++] = ch;
    }
    if (n == 0) {
        irc_num(s, "461", "USER :Not enough parameters");
        return;
    }
    /* Others see both in prefixes and replies: cut between characters. */
    n = irc_fit_utf8(user, n, sizeof p->user - 1);
    memcpy(p->user, user, n);
    p->user[n] = '\0';
    const struct irc_slice *r = &m->params[3];
    if (r->n == 0) { /* modern: an empty real name is a missing one */
        p->user[0] = '\0';
        irc_num(s, "461", "USER :Not enough parameters");
        return;
    }
    size_t rn = irc_fit_utf8(r->p, r->n, CHAT_REALNAME_MAX);
    free(p->realname);
    p->realname = xstrndup(r->p, rn);
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

/* One PRIVMSG, NOTICE or TAGMSG, as it goes to each of its targets. */
struct irc_said {
    const char *cmd;  /* "PRIVMSG", "NOTICE" or "TAGMSG" */
    bool quiet;       /* NOTICE: errors are not answered */
    bool action;      /* text is a CTCP ACTION's body */
    const char *text; /* NULL for TAGMSG */
    size_t len;
    struct chat_msg_opts opts; /* the client-only tags */
};

/* Shows s its own message as it was sent to target, for echo-message. */
static void irc_echo(struct irc_session *s, const struct irc_said *w,
                     uint64_t id, const char *target)
{
    if (!(s->caps & IRC_CAP_ECHO_MESSAGE))
        return;
    char from[CHAT_PREFIX_MAX + 1];
    chat_prefix(&s->client, from, sizeof from);
    struct irc_message m = {
        .cmd = w->cmd,
        .id = id,
        .time_ms = w->opts.time_ms,
        .from = from,
        .target = target,
        .text = w->text,
        .len = w->len,
        .action = w->action,
        .client_tags = w->opts.client_tags,
        .client_tags_len = w->opts.client_tags_len,
        .bot = s->bot,
    };
    irc_send_message(s, &m);
}

/*
 * Reads a STATUSMSG prefix off a target ("@#chan": operators, "+#chan":
 * voiced members and operators) and advances *t past it. Returns the
 * status it asks for, the lowest if it names several (0: none).
 */
static unsigned irc_target_status(const char **t)
{
    unsigned st = 0;
    for (; **t == '@' || **t == '+'; (*t)++)
        st = **t == '+' || st == CHAT_VOICE ? CHAT_VOICE : CHAT_OP;
    return st;
}

/*
 * Tells s what became of w in r (e from the core, id its id): 404 if it
 * could not be said (unless quiet), else its echo if s asked for echoes.
 */
static void irc_channel_said(struct irc_session *s, const struct irc_said *w,
                             const struct room *r, enum chat_error e,
                             uint64_t id)
{
    if (e != CHAT_OK) {
        if (!w->quiet)
            irc_num(s, "404", "#%s :Cannot send to channel", r->name);
        return;
    }
    char shown[ROOM_NAME_MAX + 3];
    irc_status_target(w->opts.min_status, r, shown, sizeof shown);
    irc_echo(s, w, id, shown);
}

/* Sends w to the channel target ("#chan", or "@#chan" as STATUSMSG). */
static void irc_to_channel(struct irc_session *s, const char *target,
                           struct irc_said *w)
{
    const char *chan = target;
    w->opts.min_status = irc_target_status(&chan);
    struct room *r = irc_find_channel(chan, strlen(chan));
    if (r == NULL) {
        if (!w->quiet)
            irc_num(s, "403", "%s :No such channel", chan);
        return;
    }
    uint64_t id;
    enum chat_error e;
    struct client *c = &s->client;
    if (w->text == NULL) {
        e = chat_tagmsg(c, r, NULL, &id, &w->opts);
    } else if (w->action) {
        e = chat_act(c, r, w->text, w->len, &id, &w->opts);
    } else {
        struct chat_line line = {w->text, w->len};
        e = chat_say(c, r, &line, 1, w->quiet, &id, &w->opts);
    }
    irc_channel_said(s, w, r, e, id);
}

/* Sends w to the person nick; errors unless quiet. */
static void irc_to_nick(struct irc_session *s, const char *nick,
                        struct irc_said *w)
{
    struct client *to = chat_find_nick(nick, strlen(nick));
    if (to == NULL) {
        if (!w->quiet)
            irc_num(s, "401", "%s :No such nick/channel", nick);
        return;
    }
    uint64_t id;
    if (w->text == NULL)
        chat_tagmsg(&s->client, NULL, to, &id, &w->opts);
    else
        chat_privmsg(&s->client, to, w->text, w->len, w->action, w->quiet, &id,
                     &w->opts);
    if (w->text && !w->quiet && to->away)
        irc_num(s, "301", "%s :%s", to->nick, to->away);
    irc_echo(s, w, id, to->nick);
}

/*
 * Batching (core/batch.h): the plain PRIVMSGs (or NOTICEs) a client sends
 * to one channel in one read are said as one event. Plain means to one
 * channel, to all its members, with no client tags, label or CTCP: all
 * else is said on its own, after the batch. irc_run says the batch before
 * any other command, so order is as sent; what s is told about each
 * message (404, its echo) comes when the batch is said.
 */
static struct chat_batch irc_batch;

void irc_batch_flush(void)
{
    struct irc_session *s = irc_batch.owner;
    if (s == NULL)
        return;
    size_t n = irc_batch.n;
    struct room *r = irc_batch.room;
    struct irc_said w = {.cmd = irc_batch.notice ? "NOTICE" : "PRIVMSG",
                         .quiet = irc_batch.notice};
    chat_batch_clear(&irc_batch); /* its lines stay until the next add */
    uint64_t id = 0;
    enum chat_error e =
        chat_say(&s->client, r, irc_batch.lines, n, w.quiet, &id, &w.opts);
    for (size_t i = 0; i < n; i++) {
        w.text = irc_batch.lines[i].text;
        w.len = irc_batch.lines[i].len;
        irc_channel_said(s, &w, r, e, id + i);
    }
}

void irc_batch_before(const struct irc_msg *m, bool labeled)
{
    bool message =
        (m->cmd.n == 7 && strncasecmp(m->cmd.p, "PRIVMSG", 7) == 0) ||
        (m->cmd.n == 6 && strncasecmp(m->cmd.p, "NOTICE", 6) == 0);
    if (labeled || !message)
        irc_batch_flush();
}

/*
 * Adds w, for target, to the batch if it is a plain message to a channel;
 * returns false (the batch said) if it is not, for the caller to say it.
 */
static bool irc_batch_add(struct irc_session *s, const char *target,
                          const struct irc_said *w)
{
    struct room *r = NULL;
    if (target[0] == '#' && !w->action && w->opts.client_tags_len == 0 &&
        !irc_label_running())
        r = irc_find_channel(target, strlen(target));
    if (r == NULL || w->len > CHAT_BATCH_BYTES) {
        irc_batch_flush();
        return false;
    }
    if (irc_batch.owner && !chat_batch_fits(&irc_batch, s, r, w->quiet, w->len))
        irc_batch_flush();
    if (chat_batch_add(&irc_batch, s, r, w->quiet, w->text, w->len,
                       conn_get_limits()->flood_bytes))
        irc_batch_flush();
    return true;
}

/* PRIVMSG, NOTICE (cmd) TARGET[,TARGET...] :TEXT and TAGMSG TARGET */
static void irc_message(struct irc_session *s, struct irc_msg *m,
                        const char *cmd)
{
    struct irc_said w = {.cmd = cmd, .quiet = strcmp(cmd, "NOTICE") == 0};
    bool tagmsg = strcmp(cmd, "TAGMSG") == 0;
    if (m->nparams == 0) {
        if (!w.quiet)
            irc_num(s, "411", ":No recipient given (%s)", cmd);
        return;
    }
    if (!tagmsg && (m->nparams < 2 || m->params[1].n == 0)) {
        if (!w.quiet)
            irc_num(s, "412", ":No text to send");
        return;
    }
    char tags[IRC_TAGS_MAX];
    w.opts.client_tags = tags;
    w.opts.client_tags_len = irc_client_tags(&m->tags, tags);
    if (!tagmsg) {
        w.text = m->params[1].p;
        w.len = m->params[1].n;
    }
    if (!tagmsg && !w.quiet) /* a NOTICE stays what it is */
        w.action = irc_is_action(w.text, w.len, &w.text, &w.len);
    char targets[IRC_BODY_MAX + 1];
    irc_arg(m, 0, targets, sizeof targets);
    if (!tagmsg && strchr(targets, ',') == NULL &&
        irc_batch_add(s, targets, &w))
        return;
    char *save = NULL;
    unsigned count = 0;
    for (char *t = strtok_r(targets, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        if (++count > IRC_TARGMAX) {
            if (!w.quiet)
                irc_num(s, "407", "%s :Too many targets", t);
            break;
        }
        if (t[strspn(t, "@+")] == '#')
            irc_to_channel(s, t, &w);
        else
            irc_to_nick(s, t, &w);
    }
}

void irc_cmd_privmsg(struct irc_session *s, struct irc_msg *m)
{
    irc_message(s, m, "PRIVMSG");
}

void irc_cmd_notice(struct irc_session *s, struct irc_msg *m)
{
    irc_message(s, m, "NOTICE");
}

void irc_cmd_tagmsg(struct irc_session *s, struct irc_msg *m)
{
    irc_message(s, m, "TAGMSG");
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
    {"ADMIN", irc_cmd_admin, 0, false},
    {"AWAY", irc_cmd_away, 0, false},
    {"CAP", irc_cmd_cap, 1, true},
    {"CHATHISTORY", irc_cmd_chathistory, 1, false},
    {"DLINE", irc_cmd_dline, 1, false},
    {"HELP", irc_cmd_help, 0, false},
    {"HELPOP", irc_cmd_help, 0, false},
    {"INFO", irc_cmd_info, 0, false},
    {"INVITE", irc_cmd_invite, 0, false},
    {"ISON", irc_cmd_ison, 1, false},
    {"JOIN", irc_cmd_join, 1, false},
    {"KICK", irc_cmd_kick, 2, false},
    {"KILL", irc_cmd_kill, 1, false},
    {"KLINE", irc_cmd_kline, 1, false},
    {"LINKS", irc_cmd_links, 0, false},
    {"LIST", irc_cmd_list, 0, false},
    {"LUSERS", irc_cmd_lusers, 0, false},
    {"MARKREAD", irc_cmd_markread, 0, false},
    {"METADATA", irc_cmd_metadata, 2, true},
    {"MODE", irc_cmd_mode, 1, false},
    {"MONITOR", irc_cmd_monitor, 1, false},
    {"MOTD", irc_cmd_motd, 0, false},
    {"NAMES", irc_cmd_names, 0, false},
    {"NICK", irc_cmd_nick, 0, true},
    {"NOTICE", irc_cmd_notice, 0, false},
    {"OPER", irc_cmd_oper, 2, false},
    {"PART", irc_cmd_part, 1, false},
    {"PASS", irc_cmd_pass, 1, true},
    {"PING", irc_cmd_ping, 1, true},
    {"PONG", irc_cmd_pong, 0, true},
    {"PRIVMSG", irc_cmd_privmsg, 0, false},
    {"QUIT", irc_cmd_quit, 0, true},
    {"SETNAME", irc_cmd_setname, 1, false},
    {"STATS", irc_cmd_stats, 1, false},
    {"SUMMON", irc_cmd_summon, 0, false},
    {"TAGMSG", irc_cmd_tagmsg, 0, false},
    {"TIME", irc_cmd_time, 0, false},
    {"TOPIC", irc_cmd_topic, 1, false},
    {"UNDLINE", irc_cmd_undline, 1, false},
    {"UNKLINE", irc_cmd_unkline, 1, false},
    {"USER", irc_cmd_user, 4, true},
    {"USERHOST", irc_cmd_userhost, 1, false},
    {"USERS", irc_cmd_users, 0, false},
    {"VERSION", irc_cmd_version, 0, false},
    {"WALLOPS", irc_cmd_wallops, 1, false},
    {"WHO", irc_cmd_who, 0, false},
    {"WHOIS", irc_cmd_whois, 0, false},
    {"WHOWAS", irc_cmd_whowas, 0, false},
};

#define IRC_NCMDS (sizeof irc_cmds / sizeof irc_cmds[0])

/* bsearch's comparison: a command name against a table entry. */
static int irc_cmd_cmp(const void *name, const void *entry)
{
    return strcmp(name, ((const struct irc_cmd *)entry)->name);
}

const char *irc_command_name(size_t i)
{
    return i < IRC_NCMDS ? irc_cmds[i].name : NULL;
}

void irc_dispatch(struct irc_session *s, struct irc_msg *m)
{
    char name[32];
    size_t n = m->cmd.n < sizeof name - 1 ? m->cmd.n : sizeof name - 1;
    for (size_t i = 0; i < n; i++)
        name[i] =
            (char)((m->cmd.p[i] >= 'a' && m->cmd.p[i] <= 'z') ? m->cmd.p[i] - 32
                                                              : m->cmd.p[i]);
    name[n] = '\0';
    const struct irc_cmd *c = m->cmd.n == n
                                  ? bsearch(name, irc_cmds, IRC_NCMDS,
                                            sizeof irc_cmds[0], irc_cmd_cmp)
                                  : NULL;
    if (c != NULL) {
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
