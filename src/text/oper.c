/*
 * text_oper: server operators in the text protocol: /oper NAME PASSWORD
 * and /kill NICK [REASON], and how a killed text user is told.
 *
 * The accounts, the check and the kill are the core's (core/oper.h), so a
 * text operator and an IRC operator are the same thing. As in IRC, each
 * attempt costs the connection OPER_FAIL_WAIT_MS of its flood budget, and
 * a failed one makes it wait that long before its next line is read.
 */
#include <string.h>

#include "core/oper.h"
#include "event/conn.h"
#include "lib/log.h"
#include "lib/sanitize.h"
#include "text/text.h"

void text_cmd_oper(struct text_session *s, const char *args, size_t len)
{
    const char *name;
    size_t n = text_word(&args, &len, &name);
    if (n == 0 || len == 0) {
        text_usage(s, "/oper NAME PASSWORD");
        return;
    }
    const char *account = oper_check(name, n, args, len);
    conn_slow_line(s->conn, OPER_FAIL_WAIT_MS, account ? 0 : OPER_FAIL_WAIT_MS);
    if (account == NULL) {
        log_info("event=oper-failed id=%llu nick=%s name=%s",
                 (unsigned long long)s->client.id,
                 log_q(s->client.nick, s->client.nick_len), log_q(name, n));
        text_reply(s, "! wrong operator name or password");
        return;
    }
    oper_set(&s->client, account);
    log_info("event=oper id=%llu nick=%s account=%s",
             (unsigned long long)s->client.id,
             log_q(s->client.nick, s->client.nick_len), account);
    text_reply(s, "* you are now a server operator (%s)", account);
}

void text_cmd_kill(struct text_session *s, const char *args, size_t len)
{
    const char *nick;
    size_t n = text_word(&args, &len, &nick);
    if (n == 0) {
        text_usage(s, "/kill NICK [REASON]");
        return;
    }
    if (s->client.oper == NULL) {
        text_reply(s, "! only server operators may /kill");
        return;
    }
    struct client *victim = chat_find_nick(nick, n);
    if (victim == NULL) {
        text_reply(s, "! no such nick: %.*s", (int)n, nick);
        return;
    }
    char name[NICK_MAX + 1];
    memcpy(name, victim->nick, victim->nick_len + 1);
    bool self = victim == &s->client;
    oper_kill(&s->client, victim, args, len);
    if (!self)
        text_reply(s, "* killed %s", name);
}

void text_killed(struct client *c, const struct client *by, const char *reason,
                 size_t len)
{
    struct text_session *s = (struct text_session *)c;
    char clean[SANITIZE_MAX(OPER_REASON_MAX) + 1];
    size_t k;
    const char *p = sanitize_strip_format(reason, len, clean, &k);
    text_reply(s, "! killed by %s (%.*s)", by->nick, (int)k, p);
    s->gone = true;
    conn_close(s->conn, CONN_KILLED, true);
}
