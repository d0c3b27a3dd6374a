/*
 * text_oper: server operators in the text protocol: /oper NAME PASSWORD,
 * /kill NICK [REASON], the server bans (/serverban, /serverunban,
 * /serverbans), how a killed text user is told, and how a banned one is
 * turned away.
 *
 * The accounts, the check and the kill are the core's (core/oper.h), so a
 * text operator and an IRC operator are the same thing. As in IRC, the
 * password is checked off the loop (oper_check_async) while the
 * connection's next lines wait; each attempt costs the connection
 * OPER_FAIL_WAIT_MS of its flood budget, and a failed one makes it wait
 * that long before its next line is read.
 */
#include <string.h>

#include "core/oper.h"
#include "core/sban.h"
#include "event/conn.h"
#include "lib/log.h"
#include "lib/sanitize.h"
#include "text/text.h"

/* The checker's answer to the /oper of connection id (oper_done_fn). */
static void text_oper_done(uint64_t id, const char *tried, size_t n,
                           const char *account)
{
    struct conn *c = conn_by_id(id);
    if (c == NULL)
        return; /* it left meanwhile */
    struct text_session *s = conn_data(c);
    if (account == NULL) {
        oper_log_failed(&s->client, tried, n, false);
        text_reply(s, "! wrong operator name or password");
    } else {
        oper_set(&s->client, account);
        log_info("event=oper id=%llu nick=%s account=%s",
                 (unsigned long long)s->client.id,
                 log_q(s->client.nick, s->client.nick_len), account);
        text_reply(s, "* you are now a server operator (%s)", account);
    }
    conn_release_input(c, account ? 0 : OPER_FAIL_WAIT_MS);
}

void text_cmd_oper(struct text_session *s, const char *args, size_t len)
{
    const char *name;
    size_t n = text_word(&args, &len, &name);
    if (n == 0 || len == 0) {
        text_usage(s, "/oper NAME PASSWORD");
        return;
    }
    if (!oper_check_async(name, n, args, len, conn_origin(s->conn),
                          text_oper_done, conn_id(s->conn))) {
        conn_slow_line(s->conn, OPER_FAIL_WAIT_MS, OPER_FAIL_WAIT_MS);
        oper_log_failed(&s->client, name, n, true);
        text_reply(s, "! %s", OPER_BUSY);
        return;
    }
    /* The answer comes from the checker; the next line waits for it. */
    conn_slow_line(s->conn, OPER_FAIL_WAIT_MS, 0);
    conn_hold_input(s->conn);
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

/* ------------------------------------------------------------------------
 * Server bans
 * ------------------------------------------------------------------------ */

/* Tells s that target (n bytes) is no ban. */
static void text_bad_ban(struct text_session *s, const char *target, size_t n)
{
    text_reply(s,
               "! bad ban \"%.*s\": an address, ADDRESS/BITS or "
               "NICK!USER@HOST mask, not one that matches everyone",
               (int)n, target);
}

/* Returns true if s is a server operator; else tells it cmd is theirs. */
static bool text_is_oper(struct text_session *s, const char *cmd)
{
    if (s->client.oper)
        return true;
    text_reply(s, "! only server operators may %s", cmd);
    return false;
}

/*
 * Takes an optional DURATION word off args: sets b's expiry if the next
 * word is one, else leaves args alone.
 */
static void text_ban_duration(const char **args, size_t *len, struct sban *b)
{
    const char *p = *args, *word;
    size_t n = *len, k = text_word(&p, &n, &word);
    int64_t secs;
    if (k > 0 && sban_parse_duration(word, k, &secs)) {
        b->expires = sban_now() + secs;
        *args = p;
        *len = n;
    }
}

/* Shows s one ban as "MASK by WHO, expires WHEN: REASON" after lead. */
static void text_ban_line(struct text_session *s, const char *lead,
                          const struct sban *b)
{
    char when[SBAN_TIME_MAX];
    sban_format_expiry(b, when);
    text_reply(s, "* %s%s by %s, expires %s: %s", lead, b->mask, b->by, when,
               b->reason[0] ? b->reason : "no reason given");
}

void text_cmd_serverban(struct text_session *s, const char *args, size_t len)
{
    const char *target;
    size_t n = text_word(&args, &len, &target);
    if (n == 0) {
        text_usage(s, "/serverban ADDRESS|NETWORK|MASK [DURATION] [REASON]");
        return;
    }
    if (!text_is_oper(s, "/serverban"))
        return;
    struct sban b = {0};
    if (!sban_parse(target, n, &b)) {
        text_bad_ban(s, target, n);
        return;
    }
    text_ban_duration(&args, &len, &b);
    size_t keep = len < SBAN_REASON_MAX ? len : SBAN_REASON_MAX;
    while (keep < len && (args[keep] & 0xc0) == 0x80)
        keep--; /* cut between characters */
    memcpy(b.reason, args, keep);
    enum sban_result res = sban_set(&s->client, &b);
    if (res == SBAN_FULL) {
        text_reply(s, "! the server ban list is full (max %d bans)", SBAN_MAX);
        return;
    }
    if (res == SBAN_CONFIG) {
        text_reply(s, "! the server ban on %s " SBAN_CONFIG_HINT, b.mask);
        return;
    }
    text_ban_line(
        s, res == SBAN_ADDED ? "server ban set: " : "server ban updated: ", &b);
    size_t killed = sban_enforce(&s->client, &b);
    if (killed > 0)
        text_reply(s, "* disconnected %zu %s under it", killed,
                   text_people(killed));
}

void text_cmd_serverunban(struct text_session *s, const char *args, size_t len)
{
    const char *target;
    size_t n = text_word(&args, &len, &target);
    if (n == 0) {
        text_usage(s, "/serverunban ADDRESS|NETWORK|MASK");
        return;
    }
    if (!text_is_oper(s, "/serverunban"))
        return;
    char mask[MASK_MAX + 1];
    if (sban_unset(&s->client, target, n, mask))
        text_reply(s, "* server ban on %s removed", mask);
    else if (mask[0] && sban_from_config(mask))
        text_reply(s, "! the server ban on %s " SBAN_CONFIG_HINT, mask);
    else if (mask[0])
        text_reply(s, "! no server ban on %s", mask);
    else
        text_bad_ban(s, target, n);
}

/* sban_foreach helper: one line per ban. */
static void text_ban_each(const struct sban *b, void *arg)
{
    text_ban_line(arg, "", b);
}

void text_cmd_serverbans(struct text_session *s, const char *args, size_t len)
{
    (void)args;
    (void)len;
    if (!text_is_oper(s, "/serverbans"))
        return;
    size_t n = sban_count();
    sban_foreach(text_ban_each, s);
    if (n == 0)
        text_reply(s, "* no server bans");
    else
        text_reply(s, "* %zu server ban%s", n, n == 1 ? "" : "s");
}

bool text_ban_refused(struct text_session *s)
{
    const struct sban *b = sban_match_person(&s->client);
    if (b == NULL)
        return false;
    text_reply(s, "! you are banned from this server (%s)",
               b->reason[0] ? b->reason : "no reason given");
    chat_unregister(&s->client, NULL, 0, false);
    s->gone = true;
    conn_close(s->conn, CONN_KILLED, true);
    return true;
}
