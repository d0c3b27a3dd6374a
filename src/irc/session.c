/*
 * session: an IRC connection's life. Registration (NICK, USER, CAP),
 * the welcome, pings both ways, and the end.
 *
 * A connection is a person in the core only once registration completes,
 * under the nick it chose: before that it has a pending nick (checked
 * against the core's, so a nick in use is refused at once) and can only
 * negotiate. One timer sweeps every session once a second: it pings the
 * silent, and drops those that stay silent or never finish registering.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/oper.h"
#include "core/room.h"
#include "event/conn.h"
#include "event/ev.h"
#include "irc/irc.h"
#include "lib/log.h"
#include "lib/sanitize.h"
#include "lib/tbuf.h"
#include "lib/xmalloc.h"

#define IRC_VERSION "parley-0.1.0"
/* How often the sweep looks at every session, in milliseconds. */
#define IRC_SWEEP_MS 1000

struct irc_config irc_conf;
static struct ev_loop *irc_loop;
static struct ev_timer irc_sweep_timer;
static struct tbuf irc_clean; /* a sanitized input line */

static const struct client_ops irc_client_ops = {
    .proto = IRC_WIRE_PLAIN,
    .deliver = irc_deliver,
    .tagmsg = true,
    .killed = irc_killed,
    .watched = irc_watched,
};

/* ------------------------------------------------------------------------
 * Registration
 * ------------------------------------------------------------------------ */

/* The ISUPPORT tokens, sent 12 to a line. */
static void irc_isupport(struct irc_session *s)
{
    const struct chat_config *cc = chat_get_config();
    char t[32][64];
    size_t n = 0;
    snprintf(t[n++], 64, "AWAYLEN=%d", IRC_AWAYLEN);
    snprintf(t[n++], 64, "BOT=B");
    snprintf(t[n++], 64, "CASEMAPPING=ascii");
    snprintf(t[n++], 64, "CHANLIMIT=#:%d", IRC_CHANLIMIT);
    snprintf(t[n++], 64, "CHANMODES=b,k,l,imnst");
    snprintf(t[n++], 64, "CHANNELLEN=%d", ROOM_NAME_MAX + 1);
    snprintf(t[n++], 64, "CHANTYPES=#");
    snprintf(t[n++], 64, "CHATHISTORY=%d", IRC_HISTORY_MAX);
    snprintf(t[n++], 64, "ELIST=CMNTU");
    snprintf(t[n++], 64, "HOSTLEN=%d", CHAT_HOST_MAX);
    snprintf(t[n++], 64, "KICKLEN=%d", IRC_KICKLEN);
    snprintf(t[n++], 64, "MAXLIST=b:%zu", cc->max_bans);
    snprintf(t[n++], 64, "MODES=%d", IRC_MODES);
    snprintf(t[n++], 64, "MONITOR=%d", IRC_MONITOR_MAX);
    snprintf(t[n++], 64, "MSGREFTYPES=msgid,timestamp");
    snprintf(t[n++], 64, "NAMELEN=%d", CHAT_REALNAME_MAX);
    snprintf(t[n++], 64, "NETWORK=%s", irc_conf.network);
    snprintf(t[n++], 64, "NICKLEN=%d", NICK_MAX);
    snprintf(t[n++], 64, "PREFIX=(ov)@+");
    snprintf(t[n++], 64, "STATUSMSG=@+");
    snprintf(t[n++], 64,
             "TARGMAX=JOIN:,KICK:%d,NAMES:,PART:,PRIVMSG:%d,NOTICE:%d,"
             "WHOIS:1",
             IRC_TARGMAX, IRC_TARGMAX, IRC_TARGMAX);
    snprintf(t[n++], 64, "TOPICLEN=%zu", cc->topic_max);
    snprintf(t[n++], 64, "USERLEN=%d", CHAT_USER_MAX - 1);
    snprintf(t[n++], 64, "UTF8ONLY");
    snprintf(t[n++], 64, "WHOX");
    for (size_t i = 0; i < n; i += 12) {
        char line[IRC_BODY_MAX + 1];
        size_t k = 0;
        for (size_t j = i; j < n && j < i + 12; j++)
            k += (size_t)snprintf(line + k, sizeof line - k, "%s ", t[j]);
        irc_num(s, "005", "%s:are supported by this server", line);
    }
}

/* IRC connections that have not registered (yet), for LUSERS. */
static size_t irc_unregistered;

void irc_lusers(struct irc_session *s)
{
    size_t users = chat_client_count(), unknown = irc_unregistered;
    size_t max = chat_client_max();
    irc_num(s, "251", ":There are %zu users and 0 invisible on 1 servers",
            users);
    irc_num(s, "252", "%zu :operator(s) online", oper_online());
    irc_num(s, "253", "%zu :unknown connection(s)", unknown);
    irc_num(s, "254", "%zu :channels formed", chat_room_count());
    irc_num(s, "255", ":I have %zu clients and 0 servers", users);
    irc_num(s, "265", "%zu %zu :Current local users %zu, max %zu", users, max,
            users, max);
    irc_num(s, "266", "%zu %zu :Current global users %zu, max %zu", users, max,
            users, max);
}

void irc_motd(struct irc_session *s)
{
    if (irc_conf.nmotd == 0) {
        irc_num(s, "422", ":MOTD File is missing");
        return;
    }
    irc_num(s, "375", ":- %s Message of the day - ", irc_conf.server_name);
    for (size_t i = 0; i < irc_conf.nmotd; i++)
        irc_num(s, "372", ":- %s", irc_conf.motd[i]);
    irc_num(s, "376", ":End of /MOTD command.");
}

/* Sends the numerics 001-005, LUSERS and the MOTD. */
static void irc_welcome(struct irc_session *s)
{
    const struct client *c = &s->client;
    char created[64];
    time_t when = (time_t)irc_conf.created;
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(created, sizeof created, "%Y-%m-%d %H:%M:%S UTC", &tm);
    irc_num(s, "001", ":Welcome to the %s IRC Network %s!%s@%s",
            irc_conf.network, c->nick, c->user, c->host);
    irc_num(s, "002", ":Your host is %s, running version %s",
            irc_conf.server_name, IRC_VERSION);
    irc_num(s, "003", ":This server was created %s", created);
    irc_num(s, "004", "%s %s Biow biklmnostv bklov", irc_conf.server_name,
            IRC_VERSION);
    irc_isupport(s);
    irc_lusers(s);
    irc_meta_welcome(s); /* metadata: before the end of the MOTD */
    irc_motd(s);
}

void irc_try_register(struct irc_session *s)
{
    struct irc_pending *p = s->pending;
    if (s->registered || s->gone || !p->nick[0] || !p->user[0] || s->cap_wait)
        return;
    struct client *c = &s->client;
    size_t len = strlen(p->nick);
    enum chat_error e =
        chat_register(c, conn_id(s->conn), &irc_client_ops, s, p->nick, len);
    if (e != CHAT_OK) {
        bool taken = e == CHAT_ERR_TAKEN;
        irc_num(s, taken ? "433" : "432", "%s :%s", p->nick,
                taken ? "Nickname is already in use" : "Erroneous nickname");
        p->nick[0] = '\0';
        return;
    }
    char user[CHAT_USER_MAX + 1];
    snprintf(user, sizeof user, "~%s", p->user);
    chat_set_user_host(c, user, conn_host(s->conn));
    if (irc_ban_refused(s))
        return;
    c->origin = conn_origin(s->conn);
    c->realname = p->realname;
    free(p);
    s->pending = NULL;
    s->registered = true;
    s->last_ms = ev_now(irc_loop); /* pings count from here on */
    irc_unregistered--;
    log_debug("event=register id=%llu nick=%s", (unsigned long long)c->id,
              log_q(c->nick, c->nick_len));
    irc_welcome(s);
}

/* ------------------------------------------------------------------------
 * Pings and timeouts
 * ------------------------------------------------------------------------ */

/* The longest ERROR line a closing connection is sent. */
#define IRC_CLOSING_MAX (IRC_BODY_MAX + 64)

/* Writes s's last words, "ERROR :Closing Link: nick[host] (why)". */
static void irc_closing_link(const struct irc_session *s, const char *why,
                             char line[IRC_CLOSING_MAX])
{
    snprintf(line, IRC_CLOSING_MAX, "ERROR :Closing Link: %s[%s] (%s)\r\n",
             irc_nick(s), conn_host(s->conn), why);
}

/* Ends s with an ERROR line saying why. */
static void irc_drop(struct irc_session *s, enum conn_reason reason,
                     const char *why)
{
    char line[IRC_CLOSING_MAX];
    irc_closing_link(s, why, line);
    conn_close_with(s->conn, reason, line);
}

/*
 * Looks at one session: pings it, or drops it, as its silence says. One
 * that has not registered is dropped ping_interval after it connected,
 * whatever it said meanwhile: a client that keeps talking (PING, CAP LS)
 * but never finishes registering holds a connection and a pending nick
 * no longer than one that says nothing.
 */
static void irc_check(struct irc_session *s, uint64_t now)
{
    uint64_t iv = (uint64_t)irc_conf.ping_interval * 1000;
    if (!s->registered) {
        if (now - s->last_ms > iv)
            irc_drop(s, CONN_TIMEOUT, "Registration timed out");
    } else if (s->ping_sent) {
        if (now - s->last_ms > 2 * iv)
            irc_drop(s, CONN_TIMEOUT, "Ping timeout");
    } else if (now - s->last_ms > iv) {
        irc_send(s, "PING :%s", irc_conf.server_name);
        s->ping_sent = true;
    }
}

/* conn_foreach helper: looks at one connection if it speaks IRC. */
static void irc_check_conn(struct conn *c, void *arg)
{
    struct irc_session *s = conn_data(c);
    if (conn_proto_of(c) == &irc_proto && s != NULL)
        irc_check(s, *(const uint64_t *)arg);
}

/* The sweep timer: every session once. */
static void irc_sweep(struct ev_loop *loop, struct ev_timer *t)
{
    uint64_t now = ev_now(loop);
    if (irc_conf.ping_interval > 0)
        conn_foreach(irc_check_conn, &now);
    ev_timer_start(loop, t, IRC_SWEEP_MS, irc_sweep);
}

void irc_configure(const struct irc_config *cfg, struct ev_loop *loop)
{
    irc_conf = *cfg;
    if (irc_conf.server_info == NULL) /* a caller that gave none */
        irc_conf.server_info = "parley chat server";
    irc_loop = loop;
    ev_timer_start(loop, &irc_sweep_timer, IRC_SWEEP_MS, irc_sweep);
}

/* The MOTD: at most this many lines of at most this many bytes. */
#define IRC_MOTD_LINES 200
#define IRC_MOTD_WIDTH 400

/* Forgets the MOTD. */
static void irc_free_motd(void)
{
    for (size_t i = 0; i < irc_conf.nmotd; i++)
        free(irc_conf.motd[i]);
    free(irc_conf.motd);
    irc_conf.motd = NULL;
    irc_conf.nmotd = 0;
}

int irc_load_motd(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -errno;
    char line[IRC_MOTD_WIDTH + 2], clean[SANITIZE_MAX(IRC_MOTD_WIDTH) + 1];
    irc_free_motd(); /* a reload replaces it */
    irc_conf.motd = xcalloc(IRC_MOTD_LINES, sizeof *irc_conf.motd);
    irc_conf.nmotd = 0;
    while (irc_conf.nmotd < IRC_MOTD_LINES && fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n"), k;
        const char *p = sanitize_irc(line, n, clean, &k);
        irc_conf.motd[irc_conf.nmotd++] = xstrndup(k ? p : " ", k ? k : 1);
    }
    fclose(f);
    return 0;
}

void irc_fini(void)
{
    irc_free_motd();
    if (irc_loop)
        ev_timer_stop(irc_loop, &irc_sweep_timer);
    free(irc_clean.p);
    irc_clean = (struct tbuf){0};
}

/* ------------------------------------------------------------------------
 * Connection hooks
 * ------------------------------------------------------------------------ */

/* A new connection: a session waiting for NICK and USER. */
static void irc_open(struct conn *c)
{
    struct irc_session *s = xcalloc(1, sizeof *s);
    s->conn = c;
    s->pending = xcalloc(1, sizeof *s->pending);
    s->last_ms = ev_now(irc_loop);
    irc_unregistered++;
    conn_set_data(c, s);
}

/* Runs one parsed line of s, under its label if it has one. */
static void irc_run(struct irc_session *s, struct irc_msg *m)
{
    struct irc_slice rest = m->tags, key, val;
    char label[IRC_LABEL_MAX + 1];
    size_t labeled = 0;
    if (s->caps & IRC_CAP_LABELED_RESPONSE) {
        while (irc_tag_next(&rest, &key, &val)) {
            if (key.n == 5 && memcmp(key.p, "label", 5) == 0 && val.n > 0) {
                labeled = 1 + irc_tag_unescape(
                                  val.p,
                                  val.n < IRC_LABEL_MAX ? val.n : IRC_LABEL_MAX,
                                  label);
                break;
            }
        }
    }
    irc_batch_before(m, labeled > 0); /* messages sent before it come first */
    if (labeled)
        irc_label_begin(s, label, labeled - 1);
    irc_dispatch(s, m);
    if (labeled)
        irc_label_end();
}

/* Counts the U+FFFD characters in the n bytes at p. */
static size_t irc_count_fffd(const char *p, size_t n)
{
    size_t k = 0;
    for (const char *q = p;
         (q = memmem(q, (size_t)(p + n - q), "\xef\xbf\xbd", 3)) != NULL;
         q += 3)
        k++;
    return k;
}

/*
 * Returns true if cleaning line into clean replaced invalid UTF-8 (rather
 * than only removing control characters): it then holds more U+FFFD.
 */
static bool irc_repaired_utf8(const char *line, size_t len, const char *clean,
                              size_t n)
{
    return irc_count_fffd(clean, n) > irc_count_fffd(line, len);
}

/*
 * Returns true if m is a command that refuses invalid UTF-8 itself, rather
 * than being run with it replaced and warned about: METADATA (a value to
 * keep and show others is refused with FAIL METADATA INVALID_UTF8).
 */
static bool irc_refuses_bad_utf8(const struct irc_msg *m)
{
    return m->cmd.n == 8 && strncasecmp(m->cmd.p, "METADATA", 8) == 0;
}

/*
 * Returns true if the line as sent is over the limits (512 bytes with CRLF,
 * 8191 of tags). Only a line that cleaning changed needs this look: an
 * unchanged one is parsed, limits included, as it is.
 */
static bool irc_sent_too_long(const char *line, size_t len)
{
    struct irc_msg raw;
    enum irc_parse r =
        len > IRC_BODY_MAX ? irc_parse(line, len, &raw) : IRC_PARSE_OK;
    return r == IRC_PARSE_TOO_LONG || r == IRC_PARSE_TAGS_TOO_LONG;
}

/*
 * One line from the client. It is cleaned first (invalid UTF-8 replaced,
 * controls other than IRC's formatting removed: NUL, ESC and the like never
 * reach anyone), then parsed and run. The limits hold for the line both as
 * sent (removed bytes never make a long line fit) and once cleaned. A line
 * whose invalid UTF-8 was replaced is still run, and its sender warned
 * (WARN ... INVALID_UTF8), as UTF8ONLY asks.
 */
static void irc_line(struct conn *c, const char *line, size_t len)
{
    struct irc_session *s = conn_data(c);
    if (s->registered) {
        s->last_ms = ev_now(irc_loop);
        s->ping_sent = false;
    }
    size_t n;
    irc_clean.n = 0;
    const char *clean = sanitize_irc(
        line, len, tbuf_reserve(&irc_clean, SANITIZE_MAX(len) + 1), &n);
    if (clean != line || n != len)
        irc_batch_flush(); /* what it is told comes after earlier lines */
    if ((clean != line || n != len) && irc_sent_too_long(line, len)) {
        irc_num(s, "417", ":Input line was too long");
        return;
    }
    struct irc_msg m;
    switch (irc_parse(clean, n, &m)) {
    case IRC_PARSE_OK:
        s->bad_utf8 = clean != line && irc_repaired_utf8(line, len, clean, n);
        if (s->bad_utf8 && !irc_refuses_bad_utf8(&m))
            irc_send(s,
                     ":%s WARN %.*s INVALID_UTF8 :Invalid UTF-8 was "
                     "replaced by U+FFFD",
                     irc_conf.server_name, (int)m.cmd.n, m.cmd.p);
        if (m.tags.n > IRC_CLIENT_TAGS_MAX) { /* message-tags: never cut */
            irc_batch_flush();
            irc_num(s, "417", ":Input line was too long");
        } else {
            irc_run(s, &m);
        }
        break;
    case IRC_PARSE_TOO_LONG:
    case IRC_PARSE_TAGS_TOO_LONG:
        irc_batch_flush();
        irc_num(s, "417", ":Input line was too long");
        break;
    default:
        break;
    }
}

/* A line over the limit (tags and body together): ERR_INPUTTOOLONG. */
static void irc_too_long(struct conn *c, size_t max_line)
{
    (void)max_line;
    irc_batch_flush(); /* lines before it come first */
    irc_num(conn_data(c), "417", ":Input line was too long");
}

/* The end of one read: say the messages it brought. */
static void irc_input_done(struct conn *c)
{
    (void)c;
    irc_batch_flush();
}

/* Returns what the channels are told when a connection ends by itself. */
static const char *irc_reason(enum conn_reason reason)
{
    switch (reason) {
    case CONN_EOF:
        return "Connection closed";
    case CONN_SENDQ:
        return "SendQ exceeded";
    case CONN_MEMORY:
        return "Server out of output memory";
    case CONN_FLOOD:
        return "Excess Flood";
    case CONN_HTTP:
    case CONN_TLS:
        return "Not an IRC client";
    case CONN_TIMEOUT:
        return "Ping timeout";
    case CONN_SHUTDOWN:
        return "Server shutting down";
    default:
        return "Connection error";
    }
}

/* The connection ended: the person leaves, unless they quit already. */
static void irc_close(struct conn *c, enum conn_reason reason)
{
    struct irc_session *s = conn_data(c);
    const char *why = irc_reason(reason);
    irc_batch_flush(); /* what s said before it went is said */
    oper_check_forget(conn_id(c)); /* an OPER it left waiting is not run */
    if (reason == CONN_SENDQ || reason == CONN_FLOOD || reason == CONN_MEMORY) {
        char line[IRC_CLOSING_MAX];
        irc_closing_link(s, why, line);
        conn_try_send(c, line);
    }
    if (s->registered && !s->gone)
        chat_unregister(&s->client, why, strlen(why), reason != CONN_SHUTDOWN);
    if (s->pending) {
        free(s->pending->realname);
        irc_unregistered--;
    }
    free(s->pending);
    irc_meta_free(s);
    free(s);
}

void irc_quit(struct irc_session *s, const char *reason, size_t len)
{
    char why[IRC_BODY_MAX + 8];
    int n = len ? snprintf(why, sizeof why, "Quit: %.*s", (int)len, reason)
                : snprintf(why, sizeof why, "Quit");
    if (s->registered && !s->gone)
        chat_unregister(&s->client, why, (size_t)n, true);
    s->gone = true;
    char line[IRC_CLOSING_MAX];
    irc_closing_link(s, why, line);
    conn_close_with(s->conn, CONN_QUIT, line);
}

/* Names a connection in the log by its nick. */
static const char *irc_label(const struct conn *c)
{
    const struct irc_session *s = conn_data(c);
    return s ? irc_nick(s) : NULL;
}

/* A line from the server to a connection of this protocol: ERROR. */
static size_t irc_server_line(bool error, const char *text, char *out,
                              size_t size)
{
    (void)error;
    int k = snprintf(out, size, "ERROR :%s\r\n", text);
    return k < 0 ? 0 : (size_t)k < size ? (size_t)k : size - 1;
}

const struct conn_proto irc_proto = {
    .name = "irc",
    .raw = true,
    .max_line = IRC_TAGS_MAX + IRC_BODY_MAX + 1,
    .open = irc_open,
    .line = irc_line,
    .too_long = irc_too_long,
    .input_done = irc_input_done,
    .close = irc_close,
    .label = irc_label,
    .server_line = irc_server_line,
};
