/*
 * oper: the server operator's commands in IRC. OPER (become one), KILL
 * (disconnect anyone) and WALLOPS (a message to every operator, and to
 * whoever set user mode +w), and how a killed IRC client is told.
 *
 * The accounts and the password check are the core's (core/oper.h). A
 * check is slow by design, so it runs off the loop (oper_check_async)
 * while the connection's next lines wait for its answer, and each attempt
 * is charged to the connection:
 * OPER_FAIL_WAIT_MS of its flood budget, and after a failed one it reads
 * nothing more for as long (conn_slow_line): a client that sends twenty
 * guesses at once gets one checked every two seconds, and everyone else is
 * served in between.
 */
#include <stdio.h>
#include <string.h>

#include "core/oper.h"
#include "event/conn.h"
#include "irc/irc.h"
#include "lib/log.h"

/* Tells s it gained or lost user mode o, as a MODE line from itself. */
static void irc_oper_mode(struct irc_session *s, bool on)
{
    char from[CHAT_PREFIX_MAX + 1];
    chat_prefix(&s->client, from, sizeof from);
    irc_send(s, ":%s MODE %s %s", from, s->client.nick, on ? "+o" : "-o");
}

/* The checker's answer to the OPER of connection id (oper_done_fn). */
static void irc_oper_done(uint64_t id, const char *tried, size_t n,
                          const char *account)
{
    struct conn *c = conn_by_id(id);
    struct irc_session *s = c ? conn_data(c) : NULL;
    if (s == NULL || s->gone)
        return; /* it left meanwhile */
    if (account == NULL) {
        oper_log_failed(&s->client, tried, n, false);
        irc_num(s, "464", ":Password incorrect");
    } else {
        bool was = s->client.oper != NULL;
        oper_set(&s->client, account);
        log_info("event=oper id=%llu nick=%s account=%s",
                 (unsigned long long)s->client.id,
                 log_q(s->client.nick, s->client.nick_len), account);
        irc_num(s, "381", ":You are now an IRC operator");
        if (!was)
            irc_oper_mode(s, true);
    }
    conn_release_input(c, account ? 0 : OPER_FAIL_WAIT_MS);
}

/* OPER NAME PASSWORD */
void irc_cmd_oper(struct irc_session *s, struct irc_msg *m)
{
    const struct irc_slice *name = &m->params[0], *pw = &m->params[1];
    if (!oper_check_async(name->p, name->n, pw->p, pw->n,
                          conn_origin(s->conn), irc_oper_done,
                          conn_id(s->conn))) {
        conn_slow_line(s->conn, OPER_FAIL_WAIT_MS, OPER_FAIL_WAIT_MS);
        oper_log_failed(&s->client, name->p, name->n, true);
        irc_num(s, "464", ":%s", OPER_BUSY);
        return;
    }
    /* The answer comes from the checker; the next line waits for it. */
    conn_slow_line(s->conn, OPER_FAIL_WAIT_MS, 0);
    conn_hold_input(s->conn);
}

void irc_oper_drop(struct irc_session *s)
{
    if (s->client.oper == NULL)
        return;
    oper_set(&s->client, NULL);
    irc_oper_mode(s, false);
}

/* Returns true if s is an operator; else sends ERR_NOPRIVILEGES. */
static bool irc_is_oper(struct irc_session *s)
{
    if (s->client.oper)
        return true;
    irc_num(s, "481", ":Permission Denied- You're not an IRC operator");
    return false;
}

/* KILL NICK [:REASON] */
void irc_cmd_kill(struct irc_session *s, struct irc_msg *m)
{
    if (!irc_is_oper(s))
        return;
    char nick[IRC_BODY_MAX + 1];
    irc_arg(m, 0, nick, sizeof nick);
    struct client *victim = chat_find_nick(nick, strlen(nick));
    if (victim == NULL) {
        irc_num(s, "401", "%s :No such nick/channel", nick);
        return;
    }
    const struct irc_slice *why = &m->params[1];
    oper_kill(&s->client, victim, m->nparams > 1 ? why->p : "",
              m->nparams > 1 ? why->n : 0);
}

void irc_killed(struct client *c, const struct client *by, const char *reason,
                size_t len)
{
    struct irc_session *s = (struct irc_session *)c;
    char line[IRC_BODY_MAX + 128];
    snprintf(line, sizeof line,
             "ERROR :Closing Link: %s[%s] (Killed (%s (%.*s)))\r\n", c->nick,
             conn_host(s->conn), by->nick, (int)len, reason);
    s->gone = true;
    conn_close_with(s->conn, CONN_KILLED, line);
}

/* The WALLOPS line being sent, and its length. */
struct irc_wallops {
    const char *line;
    int n;
};

/* conn_foreach helper: sends the WALLOPS to an operator or a +w user. */
static void irc_wallops_one(struct conn *c, void *arg)
{
    const struct irc_wallops *w = arg;
    struct irc_session *s = conn_data(c);
    if (conn_proto_of(c) != &irc_proto || s == NULL || !s->registered ||
        s->gone)
        return;
    if (s->client.oper || s->wallops)
        irc_write(s, w->line, (size_t)w->n);
}

/* WALLOPS :TEXT (operators only) */
void irc_cmd_wallops(struct irc_session *s, struct irc_msg *m)
{
    if (!irc_is_oper(s))
        return;
    char from[CHAT_PREFIX_MAX + 1], line[IRC_BODY_MAX + CHAT_PREFIX_MAX + 32];
    chat_prefix(&s->client, from, sizeof from);
    struct irc_wallops w = {line, 0};
    /* The text came in one line, so it fits (IRC_BODY_MAX). */
    w.n = snprintf(line, sizeof line, ":%s WALLOPS :%.*s\r\n", from,
                   (int)m->params[0].n, m->params[0].p);
    log_info("event=wallops id=%llu nick=%s", (unsigned long long)s->client.id,
             log_q(s->client.nick, s->client.nick_len));
    conn_foreach(irc_wallops_one, &w);
}
