/*
 * config: the table of settings, the command line and --help.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config_int.h"
#include "core/oper.h"
#include "core/sban.h"
#include "lib/xmalloc.h"

#define CONFIG_STR_(x) #x
#define CONFIG_STR(x) CONFIG_STR_(x)

/* ------------------------------------------------------------------------
 * Setting kinds: how a value is parsed and shown
 * ------------------------------------------------------------------------ */

/* Returns the address of the setting's field in cfg. */
static void *config_field(const struct config *cfg,
                          const struct config_setting *s)
{
    return (char *)(uintptr_t)cfg + s->offset;
}

/* Stores n into the setting's number field (unsigned or size_t). */
static void config_store_num(struct config *cfg, const struct config_setting *s,
                             uintmax_t n)
{
    if (s->size == sizeof(unsigned))
        *(unsigned *)config_field(cfg, s) = (unsigned)n;
    else
        *(size_t *)config_field(cfg, s) = (size_t)n;
}

/* A decimal number in [min, max], into a field of 4 or 8 bytes. */
static bool config_set_num(struct config *cfg, const struct config_setting *s,
                           const char *v, char *err, size_t cap)
{
    char *end;
    errno = 0;
    uintmax_t n = strtoumax(v, &end, 10);
    if (*v == '\0' || *v == '-' || *end != '\0' || errno || n < s->min ||
        n > s->max) {
        snprintf(err, cap, "expected a number from %ju to %ju, got \"%s\"",
                 s->min, s->max, v);
        return false;
    }
    config_store_num(cfg, s, n);
    return true;
}

/* Shows a number field in decimal. */
static void config_show_num(const struct config *cfg,
                            const struct config_setting *s, size_t i, char *out,
                            size_t cap)
{
    (void)i;
    uintmax_t n = s->size == sizeof(unsigned)
                      ? *(const unsigned *)config_field(cfg, s)
                      : *(const size_t *)config_field(cfg, s);
    snprintf(out, cap, "%ju", n);
}

/* A number where 0 means "not set" (max-clients): shown as nothing. */
static void config_show_unset0(const struct config *cfg,
                               const struct config_setting *s, size_t i,
                               char *out, size_t cap)
{
    config_show_num(cfg, s, i, out, cap);
    if (strcmp(out, "0") == 0)
        out[0] = '\0';
}

/* A switch: the flag alone sets it; the file says yes/no (true/false...). */
static bool config_set_bool(struct config *cfg, const struct config_setting *s,
                            const char *v, char *err, size_t cap)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(v, yes[i]) == 0 || strcmp(v, no[i]) == 0) {
            *(bool *)config_field(cfg, s) = strcmp(v, yes[i]) == 0;
            return true;
        }
    }
    snprintf(err, cap, "expected yes or no, got \"%s\"", v);
    return false;
}

/* Shows a switch as yes or no. */
static void config_show_bool(const struct config *cfg,
                             const struct config_setting *s, size_t i,
                             char *out, size_t cap)
{
    (void)i;
    snprintf(out, cap, "%s",
             *(const bool *)config_field(cfg, s) ? "yes" : "no");
}

/* Copies v into a char array field, if it fits. */
static bool config_set_str(struct config *cfg, const struct config_setting *s,
                           const char *v, char *err, size_t cap)
{
    size_t n = strlen(v);
    if (n == 0 || n >= s->size) {
        snprintf(err, cap, "expected 1-%zu bytes", s->size - 1);
        return false;
    }
    memcpy(config_field(cfg, s), v, n + 1);
    return true;
}

/* Shows a char array field as it is. */
static void config_show_str(const struct config *cfg,
                            const struct config_setting *s, size_t i, char *out,
                            size_t cap)
{
    (void)i;
    snprintf(out, cap, "%s", (const char *)config_field(cfg, s));
}

/*
 * Returns true if s can be an IRC server name: letters, digits, '-' and
 * '.', 1-63 bytes (it is sent as one word, and in every numeric).
 */
static bool config_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
            return false;
    return true;
}

/* The IRC server name: config_name_valid, into the field. */
static bool config_set_name(struct config *cfg, const struct config_setting *s,
                            const char *v, char *err, size_t cap)
{
    if (!config_name_valid(v)) {
        snprintf(err, cap, "expected 1-63 letters, digits, - or ., got \"%s\"",
                 v);
        return false;
    }
    return config_set_str(cfg, s, v, err, cap);
}

/* The server's description: printable ASCII. */
static bool config_set_info(struct config *cfg, const struct config_setting *s,
                            const char *v, char *err, size_t cap)
{
    size_t n = strlen(v);
    bool ok = n > 0 && n <= CONFIG_INFO_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = v[i] >= ' ' && v[i] <= '~';
    if (!ok) {
        snprintf(err, cap, "expected 1-%d printable ASCII characters",
                 CONFIG_INFO_MAX);
        return false;
    }
    return config_set_str(cfg, s, v, err, cap);
}

static const char *const config_levels[] = {"debug", "info", "warn", "error"};

/* The log level by its name. */
static bool config_set_level(struct config *cfg, const struct config_setting *s,
                             const char *v, char *err, size_t cap)
{
    (void)s;
    if (log_parse_level(v, &cfg->log_level))
        return true;
    snprintf(err, cap, "expected debug, info, warn or error, got \"%s\"", v);
    return false;
}

/* Shows the log level by its name. */
static void config_show_level(const struct config *cfg,
                              const struct config_setting *s, size_t i,
                              char *out, size_t cap)
{
    (void)s;
    (void)i;
    snprintf(out, cap, "%s", config_levels[cfg->log_level]);
}

/* Sets --db-sync: normal or full. */
static bool config_set_sync(struct config *cfg, const struct config_setting *s,
                            const char *v, char *err, size_t cap)
{
    (void)s;
    if (strcmp(v, "normal") != 0 && strcmp(v, "full") != 0) {
        snprintf(err, cap, "expected normal or full, got \"%s\"", v);
        return false;
    }
    cfg->db_sync_full = strcmp(v, "full") == 0;
    return true;
}

/* Shows --db-sync. */
static void config_show_sync(const struct config *cfg,
                             const struct config_setting *s, size_t i,
                             char *out, size_t cap)
{
    (void)s;
    (void)i;
    snprintf(out, cap, "%s", cfg->db_sync_full ? "full" : "normal");
}

bool config_scheme_tls(const char *scheme)
{
    return strcmp(scheme, "tls") == 0 || strcmp(scheme, "ircs") == 0 ||
           strcmp(scheme, "https") == 0;
}

/* Adds one listen URL; false (with why) if it is not usable. */
static bool config_set_listen(struct config *cfg,
                              const struct config_setting *s, const char *v,
                              char *err, size_t cap)
{
    (void)s;
    if (cfg->nlisten == CONFIG_MAX_LISTEN) {
        snprintf(err, cap, "at most %d listen addresses", CONFIG_MAX_LISTEN);
        return false;
    }
    struct net_url *u = &cfg->listen[cfg->nlisten];
    if (net_parse_url(v, u, err, cap) < 0)
        return false;
    /* An address or a host name (net_listen resolves it); nothing else,
     * so that the URL shows back as it was given. */
    if (u->host[strspn(u->host, "0123456789abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ.:-_%")] != '\0') {
        snprintf(err, cap, "listen URL \"%s\": bad host", v);
        return false;
    }
    if (strcmp(u->scheme, "text") != 0 && strcmp(u->scheme, "irc") != 0 &&
        strcmp(u->scheme, "http") != 0 && strcmp(u->scheme, "telnet") != 0 &&
        strcmp(u->scheme, "metrics") != 0 && !config_scheme_tls(u->scheme)) {
        snprintf(err, cap,
                 "unknown protocol \"%s\" (supported: telnet, text, irc, tls, "
                 "ircs, "
                 "http, https, metrics)",
                 u->scheme);
        return false;
    }
    cfg->nlisten++;
    return true;
}

/* Shows listen URL i as it can be given again. */
static void config_show_listen(const struct config *cfg,
                               const struct config_setting *s, size_t i,
                               char *out, size_t cap)
{
    (void)s;
    const struct net_url *u = &cfg->listen[i];
    bool v6 = strchr(u->host, ':') != NULL;
    snprintf(out, cap, "%s://%s%s%s:%s", u->scheme, v6 ? "[" : "",
             u->host[0] ? u->host : "*", v6 ? "]" : "", u->port);
}

/* Adds one operator account NAME:HASH (checked as the oper module will). */
static bool config_set_oper(struct config *cfg, const struct config_setting *s,
                            const char *v, char *err, size_t cap)
{
    (void)s;
    if (cfg->nopers == CONFIG_MAX_OPERS) {
        snprintf(err, cap, "at most %d operator accounts", CONFIG_MAX_OPERS);
        return false;
    }
    if (oper_spec_check(v, err, cap) != 0)
        return false;
    size_t n = strcspn(v, ":");
    for (size_t i = 0; i < cfg->nopers; i++) {
        if (strncmp(cfg->opers[i], v, n + 1) == 0) {
            snprintf(err, cap, "\"%.*s\" is given twice", (int)n, v);
            return false;
        }
    }
    snprintf(cfg->opers[cfg->nopers++], CONFIG_OPER_MAX, "%s", v);
    return true;
}

/* Adds one server ban MASK [REASON] (checked as sban_config_apply will). */
static bool config_set_server_ban(struct config *cfg,
                                  const struct config_setting *s, const char *v,
                                  char *err, size_t cap)
{
    (void)s;
    struct sban b, old;
    if (cfg->nserver_bans == CONFIG_MAX_SERVER_BANS) {
        snprintf(err, cap, "at most %d", CONFIG_MAX_SERVER_BANS);
        return false;
    }
    if (strlen(v) >= CONFIG_SERVER_BAN_MAX) {
        snprintf(err, cap, "at most %d bytes", CONFIG_SERVER_BAN_MAX - 1);
        return false;
    }
    if (!sban_parse_config(v, &b, err, cap))
        return false;
    for (size_t i = 0; i < cfg->nserver_bans; i++) {
        if (sban_parse_config(cfg->server_bans[i], &old, err, cap) &&
            strcasecmp(old.mask, b.mask) == 0) {
            snprintf(err, cap, "%s is banned twice", b.mask);
            return false;
        }
    }
    snprintf(cfg->server_bans[cfg->nserver_bans++], CONFIG_SERVER_BAN_MAX, "%s",
             v);
    return true;
}

/* Shows server ban i as MASK [REASON], as it was given. */
static void config_show_server_ban(const struct config *cfg,
                                   const struct config_setting *s, size_t i,
                                   char *out, size_t cap)
{
    (void)s;
    snprintf(out, cap, "%s", cfg->server_bans[i]);
}

/* Adds one Origin allowed to open a WebSocket (scheme://host[:port]). */
static bool config_set_origin(struct config *cfg,
                              const struct config_setting *s, const char *v,
                              char *err, size_t cap)
{
    (void)s;
    if (cfg->nweb_origins == CONFIG_MAX_ORIGINS) {
        snprintf(err, cap, "at most %d web origins", CONFIG_MAX_ORIGINS);
        return false;
    }
    if (strcmp(v, "*") != 0 &&
        ((strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) ||
         strlen(v) >= CONFIG_ORIGIN_MAX ||
         strchr(strchr(v, ':') + 3, '/') != NULL)) {
        snprintf(err, cap,
                 "web origin \"%s\": want http://HOST[:PORT], "
                 "https://HOST[:PORT] or *",
                 v);
        return false;
    }
    snprintf(cfg->web_origins[cfg->nweb_origins++], CONFIG_ORIGIN_MAX, "%s", v);
    return true;
}

/* Shows web origin i. */
static void config_show_origin(const struct config *cfg,
                               const struct config_setting *s, size_t i,
                               char *out, size_t cap)
{
    (void)s;
    snprintf(out, cap, "%s", cfg->web_origins[i]);
}

/* Shows operator account i as NAME:HASH. */
static void config_show_oper(const struct config *cfg,
                             const struct config_setting *s, size_t i,
                             char *out, size_t cap)
{
    (void)s;
    snprintf(out, cap, "%s", cfg->opers[i]);
}

/* ------------------------------------------------------------------------
 * The table
 * ------------------------------------------------------------------------ */

#define FIELD(F) offsetof(struct config, F), sizeof(((struct config *)0)->F)
#define NUM(NAME, F, MIN, MAX, DEF, FLAGS, ARG, HELP)                          \
    {                                                                          \
        NAME, ARG, HELP, config_set_num, config_show_num, FIELD(F), 0, MIN,    \
            MAX, DEF, (FLAGS) | CONFIG_DEFAULT                                 \
    }
#define SETTING(NAME, F, SET, SHOW, FLAGS, ARG, HELP)                          \
    {                                                                          \
        NAME, ARG, HELP, SET, SHOW, FIELD(F), 0, 0, 0, 0, FLAGS                \
    }
#define LIST(NAME, F, COUNT, SET, SHOW, FLAGS, ARG, HELP)                      \
    {                                                                          \
        NAME, ARG, HELP, SET, SHOW, FIELD(F), offsetof(struct config, COUNT),  \
            0, 0, 0, (FLAGS) | CONFIG_LIST                                     \
    }

/* Bytes a memory limit may name: 1 TiB. */
#define BIG ((uintmax_t)1 << 40)
enum { L = CONFIG_LIVE };

/*
 * Every setting, in the order --help lists them. L (CONFIG_LIVE) marks
 * what a SIGHUP may change: limits read each time they are used, the MOTD,
 * the operators and the server bans. The rest (listeners, names, prefixes that
 * connections were counted by, sizes fixed when a room or connection is made)
 * needs a restart.
 *
 * To add a setting: a field in struct config, its default in config.h and
 * one line here; it is then a flag, a key of the file, in --help and in
 * --check-config. If it is marked L, main_reload must also hand it to the
 * module that uses it, and docs/parley.conf.5 list it as live (a test
 * checks that list against the server).
 */
const struct config_setting config_settings[] = {
    LIST("listen", listen, nlisten, config_set_listen, config_show_listen, 0,
         "URL",
         "listen on URL; repeatable (default: telnet on "
         "port " CONFIG_DEFAULT_PORT ", text on " CONFIG_DEFAULT_TEXT_PORT
         " and irc on " CONFIG_DEFAULT_IRC_PORT
         ", any address, IPv4 and IPv6). telnet://HOST:PORT (telnet, with "
         "line editing), text://HOST:PORT (nc, scripts: plain lines), "
         "irc://HOST:PORT, http://HOST:PORT (the web client and IRC over "
         "WebSocket at /irc; default on " CONFIG_DEFAULT_HTTP_PORT
         "), metrics://HOST:PORT (/metrics for Prometheus, /healthz), "
         "HOST an address or [V6ADDR]; port 0 picks a free port; "
         "tls://HOST:PORT is text, ircs://HOST:PORT IRC and https://HOST:PORT "
         "the web over TLS (with tls-cert, the defaults add ircs "
         "on " CONFIG_DEFAULT_IRCS_PORT ", tls on " CONFIG_DEFAULT_TLS_PORT
         " and https on " CONFIG_DEFAULT_HTTPS_PORT ")"),
    SETTING("web-root", web_root, config_set_str, config_show_str, 0, "DIR",
            "the web client's files, served at / of http:// and https:// "
            "listeners; read at start and on SIGHUP (default " CONFIG_WEB_ROOT
            " in the working directory)"),
    LIST("web-origin", web_origins, nweb_origins, config_set_origin,
         config_show_origin, 0, "ORIGIN",
         "a page origin (https://HOST[:PORT]) allowed to open a WebSocket "
         "at /irc; repeatable; * allows any (default: the server's own "
         "origin only; clients without Origin are always allowed)"),
    SETTING("tls-cert", tls_cert, config_set_str, config_show_str, 0, "FILE",
            "TLS certificate chain (PEM) for tls:// and ircs://; read again "
            "on SIGHUP"),
    SETTING("tls-key", tls_key, config_set_str, config_show_str, 0, "FILE",
            "its private key (PEM; default: the tls-cert file); read again "
            "on SIGHUP"),
    NUM("tls-handshake-timeout", tls_handshake_timeout, 1, 3600,
        CONFIG_TLS_HANDSHAKE_TIMEOUT, 0, "S",
        "seconds a TLS handshake may take from the connect"),
    NUM("tls-handshakes", tls_handshakes, 1, 1000000, CONFIG_TLS_HANDSHAKES, 0,
        "N", "TLS handshakes in flight at once; more wait their turn"),
    SETTING("server-name", server_name, config_set_name, config_show_str, 0,
            "NAME", "the server's name in IRC (default: host name)"),
    SETTING("server-info", server_info, config_set_info, config_show_str, 0,
            "TEXT",
            "its description in IRC's LINKS (default: parley chat server)"),
    SETTING("motd", motd_path, config_set_str, config_show_str, L, "FILE",
            "IRC message of the day, read at start and on SIGHUP"),
    NUM("ping-interval", ping_interval, 0, 86400, CONFIG_PING_INTERVAL, 0, "S",
        "ping an IRC client silent for S seconds; drop it if silent as long "
        "again, or unregistered after S; 0 = never"),
    NUM("max-line", max_line, 16, 1 << 20, CONFIG_MAX_LINE, 0, "N",
        "longest input line in bytes"),
    NUM("history", history, 0, 100000, CONFIG_HISTORY, L, "N",
        "messages replayed on joining a room"),
    NUM("history-keep", history_keep, 0, 100000, CONFIG_HISTORY_KEEP, 0, "N",
        "messages kept per room in memory, with --db none"),
    SETTING("db", db, config_set_str, config_show_str, 0, "PATH",
            "the history database, SQLite (default " CONFIG_DB " in the "
            "working directory); none: history in memory only, lost at exit"),
    SETTING("db-sync", db_sync_full, config_set_sync, config_show_sync, 0,
            "MODE",
            "normal: a message is on disk before anyone gets it, safe from a "
            "crash (kill -9); full: safe from power loss too, slower "
            "(default normal)"),
    NUM("history-max", history_max, 0, BIG, CONFIG_HISTORY_MAX, 0, "N",
        "messages the database keeps per room and per private conversation, "
        "0 = no limit"),
    NUM("history-days", history_days, 0, 1000000, CONFIG_HISTORY_DAYS, 0, "N",
        "forget messages older than N days, 0 = never"),
    NUM("flood-burst", flood_burst, 1, 1000000, CONFIG_FLOOD_BURST, L, "N",
        "lines a client may send at once"),
    NUM("flood-rate", flood_rate, 0, 1000000, CONFIG_FLOOD_RATE, L, "N",
        "lines per second after the burst, 0 = no limit"),
    NUM("flood-bytes", flood_bytes, 0, BIG, CONFIG_FLOOD_BYTES, L, "N",
        "output bytes per second a client's lines may cause, to everyone "
        "(bytes times audience); 0 = no limit"),
    NUM("sendq-max", sendq_max, 1024, BIG, CONFIG_SENDQ_MAX, L, "BYTES",
        "output held for one slow client, here and in the kernel, before it "
        "is disconnected"),
    NUM("recvq-max", recvq_max, 1024, 1 << 24, CONFIG_RECVQ_MAX, L, "BYTES",
        "input held for a client that sends ahead of its flood budget; past "
        "it, excess flood"),
    NUM("out-mem-max", out_mem_max, 0, BIG, CONFIG_OUT_MEM_MAX, L, "BYTES",
        "output memory for all clients; past it the slowest readers are "
        "disconnected, 0 = no limit"),
    NUM("probe-wait", probe_wait, 0, 10000, CONFIG_PROBE_WAIT, L, "MS",
        "how long a new connection may speak first (HTTP, TLS probes) "
        "before it is greeted"),
    {"max-clients", "N",
     "connections in all (default: open-file limit minus a reserve)",
     config_set_num, config_show_unset0, FIELD(max_clients), 0, 1, 100000000, 0,
     0},
    NUM("max-per-ip", max_per_ip, 0, 100000000, CONFIG_MAX_PER_IP, L, "N",
        "connections per address, 0 = no limit (loopback exempt)"),
    NUM("ipv4-prefix", ipv4_prefix, 0, 32, CONFIG_IPV4_PREFIX, 0, "N",
        "--max-per-ip counts IPv4 clients by their first N bits"),
    NUM("ipv6-prefix", ipv6_prefix, 0, 128, CONFIG_IPV6_PREFIX, 0, "N",
        "--max-per-ip counts IPv6 clients by their first N bits"),
    SETTING("limit-loopback", limit_loopback, config_set_bool, config_show_bool,
            L | CONFIG_SWITCH, NULL,
            "apply --max-per-ip to loopback addresses too"),
    NUM("quiet-above", quiet_above, 0, 100000000, CONFIG_QUIET_ABOVE, L, "N",
        "no join/leave/quit/nick notices in rooms with more people than N"),
    NUM("max-bans", max_bans, 1, 10000, CONFIG_MAX_BANS, L, "N",
        "bans (and pending invitations) one room keeps"),
    NUM("topic-max", topic_max, 1, 65536, CONFIG_TOPIC_MAX, L, "N",
        "longest topic in bytes"),
    NUM("max-rooms", max_rooms, 1, 100000000, CONFIG_MAX_ROOMS, L, "N",
        "most rooms at once; rooms nobody is in give way"),
    NUM("history-mem", history_mem, 0, BIG, CONFIG_HISTORY_MEM, L, "BYTES",
        "memory for the history of all rooms, 0 = no limit"),
    NUM("room-burst", room_burst, 1, 1000000, CONFIG_ROOM_BURST, L, "N",
        "new rooms a client may create at once"),
    NUM("room-rate", room_rate, 0, 60000, CONFIG_ROOM_RATE, L, "N",
        "new rooms per minute after the burst, 0 = no limit"),
    NUM("room-burst-per-ip", room_burst_ip, 1, 1000000,
        CONFIG_ROOM_BURST_PER_IP, 0, "N",
        "new rooms all clients of one address may create at once"),
    NUM("room-rate-per-ip", room_rate_ip, 0, 60000, CONFIG_ROOM_RATE_PER_IP, 0,
        "N", "and per minute after that, 0 = no limit"),
    NUM("shutdown-timeout", shutdown_timeout, 0, 3600, CONFIG_SHUTDOWN_TIMEOUT,
        L, "S", "seconds to flush output on SIGTERM"),
    /* The kernel takes at most 32767 s of idle time (TCP_KEEPIDLE). */
    NUM("keepalive", keepalive, 0, 32767, CONFIG_KEEPALIVE, L, "S",
        "probe a connection silent for S seconds (0 = off), then every "
        "S/" CONFIG_STR(NET_KEEPALIVE_PROBES) "; one that answers none "
                                              "of " CONFIG_STR(
                                                  NET_KEEPALIVE_PROBES) " probe"
                                                                        "s is "
                                                                        "droppe"
                                                                        "d"),
    LIST("oper", opers, nopers, config_set_oper, config_show_oper,
         L | CONFIG_SECRET, "NAME:HASH",
         "a server operator account (OPER NAME PASSWORD in IRC, /oper in "
         "text); HASH from --hash-password; repeatable, at most 16"),
    LIST("server-ban", server_bans, nserver_bans, config_set_server_ban,
         config_show_server_ban, L, "MASK [REASON]",
         "keep out an address, a CIDR network or a nick!user@host mask, "
         "for as long as the setting stays (as /serverban, without a "
         "duration); repeatable, at most 256"),
    SETTING("log-level", log_level, config_set_level, config_show_level, L,
            "LEVEL", "debug, info, warn or error (default info)"),
    {NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, 0},
};

#undef NUM
#undef SETTING
#undef LIST
#undef FIELD
#undef BIG

/* ------------------------------------------------------------------------
 * The table's helpers (config_int.h)
 * ------------------------------------------------------------------------ */

const struct config_setting *config_find(const char *name, size_t len)
{
    for (const struct config_setting *s = config_settings; s->name; s++)
        if (strlen(s->name) == len && memcmp(s->name, name, len) == 0)
            return s;
    return NULL;
}

size_t config_count(const struct config *cfg, const struct config_setting *s)
{
    if (!(s->flags & CONFIG_LIST))
        return 1;
    return *(const size_t *)((const char *)cfg + s->count_offset);
}

void config_clear(struct config *cfg, const struct config_setting *s)
{
    if (s->flags & CONFIG_LIST)
        *(size_t *)((char *)cfg + s->count_offset) = 0;
}

void config_show_all(const struct config *cfg, const struct config_setting *s,
                     char *out, size_t cap)
{
    size_t used = 0, n = config_count(cfg, s);
    out[0] = '\0';
    for (size_t i = 0; i < n && used + 1 < cap; i++) {
        if (i > 0)
            out[used++] = ' ';
        s->show(cfg, s, i, out + used, cap - used);
        used += strlen(out + used);
    }
}

void config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (const struct config_setting *s = config_settings; s->name; s++)
        if (s->set == config_set_num)
            config_store_num(cfg, s, s->def);
    cfg->log_level = LOG_INFO;
    if (gethostname(cfg->server_name, sizeof cfg->server_name - 1) != 0 ||
        !config_name_valid(cfg->server_name))
        snprintf(cfg->server_name, sizeof cfg->server_name, "parley");
    snprintf(cfg->server_info, sizeof cfg->server_info, "parley chat server");
    snprintf(cfg->db, sizeof cfg->db, "%s", CONFIG_DB);
    snprintf(cfg->web_root, sizeof cfg->web_root, "%s", CONFIG_WEB_ROOT);
}

/* ------------------------------------------------------------------------
 * The command line
 * ------------------------------------------------------------------------ */

/* Options that are not settings: actions, and where the file is. */
enum {
    OPT_CONFIG = 1000,
    OPT_CHECK_CONFIG,
    OPT_HASH_PASSWORD,
    OPT_HELP,
    OPT_VERSION,
};

/* What --help says of the options that are not settings. */
static const struct {
    const char *flag, *help;
} config_actions[] = {
    {"-c, --config FILE",
     "read the settings from FILE (NAME = VALUE lines, see parley.conf(5)); "
     "flags override it; SIGHUP reads it again"},
    {"--check-config",
     "check the settings (the file and the flags), print them as the file "
     "would give them, exit (0: valid, 2: not)"},
    {"--hash-password",
     "read a password from stdin (one line, not echoed on a terminal), print "
     "its hash for --oper, exit"},
    {"-h, --help", "show this help and exit"},
    {"-V, --version", "show the version and exit"},
};

#define CONFIG_HELP_COLUMN 24
#define CONFIG_HELP_WIDTH 78

/* Prints "  FLAG" and then text, wrapped at words into the help column. */
static void config_usage_entry(FILE *out, const char *flag, const char *text)
{
    int col = fprintf(out, "  %s", flag);
    if (col > CONFIG_HELP_COLUMN - 1) {
        fputc('\n', out);
        col = 0;
    }
    while (*text) {
        size_t word = strcspn(text, " ");
        if (col > CONFIG_HELP_COLUMN &&
            col + 1 + (int)word > CONFIG_HELP_WIDTH) {
            fputc('\n', out);
            col = 0;
        }
        if (col < CONFIG_HELP_COLUMN)
            col += fprintf(out, "%*s", CONFIG_HELP_COLUMN - col, "");
        else
            col += fprintf(out, " ");
        col += fprintf(out, "%.*s", (int)word, text);
        text += word;
        text += strspn(text, " ");
    }
    fputc('\n', out);
}

/* Prints the usage text: every setting with its default, then the rest. */
static void config_usage(FILE *out)
{
    fprintf(out,
            "usage: parleyd [-c FILE] [OPTIONS]\n\n"
            "parley chat server: people connect with telnet, netcat or any "
            "IRC\nclient, pick a nick, sit in rooms and talk. Logs key=value "
            "lines on\nstderr.\n\n"
            "Settings; each is also a key of the config file (NAME = VALUE):"
            "\n\n");
    for (const struct config_setting *s = config_settings; s->name; s++) {
        char flag[64], text[512];
        snprintf(flag, sizeof flag, "--%s%s%s", s->name, s->arg ? " " : "",
                 s->arg ? s->arg : "");
        if (s->flags & CONFIG_DEFAULT)
            snprintf(text, sizeof text, "%s (default %ju)", s->help, s->def);
        else
            snprintf(text, sizeof text, "%s", s->help);
        config_usage_entry(out, flag, text);
    }
    fprintf(out, "\nOther options:\n\n");
    for (size_t i = 0; i < sizeof config_actions / sizeof *config_actions; i++)
        config_usage_entry(out, config_actions[i].flag, config_actions[i].help);
}

/* The settings and the other options, for getopt_long. */
static struct option config_options[CONFIG_SETTINGS_MAX + 8];

/* Fills config_options from the table once. */
static void config_build_options(void)
{
    if (config_options[0].name)
        return;
    size_t n = 0;
    for (const struct config_setting *s = config_settings; s->name; s++) {
        if (n == CONFIG_SETTINGS_MAX)
            abort(); /* raise CONFIG_SETTINGS_MAX */
        config_options[n++] = (struct option){
            s->name,
            (s->flags & CONFIG_SWITCH) ? no_argument : required_argument, NULL,
            (int)(s - config_settings)};
    }
    static const struct option rest[] = {
        {"config", required_argument, NULL, OPT_CONFIG},
        {"check-config", no_argument, NULL, OPT_CHECK_CONFIG},
        {"hash-password", no_argument, NULL, OPT_HASH_PASSWORD},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION},
    };
    for (size_t i = 0; i < sizeof rest / sizeof *rest; i++)
        config_options[n++] = rest[i];
}

/* A setting the command line gave, applied after the file. */
struct config_given {
    const struct config_setting *s;
    const char *value;
};

/*
 * Applies the flags' settings over the file's: the first flag of a list
 * replaces the file's list. False with "--NAME: why" in err.
 */
static bool config_apply_flags(struct config *cfg,
                               const struct config_given *given, size_t n,
                               char *err, size_t cap)
{
    bool cleared[CONFIG_SETTINGS_MAX] = {false};
    for (size_t i = 0; i < n; i++) {
        const struct config_setting *s = given[i].s;
        size_t idx = (size_t)(s - config_settings);
        if (!cleared[idx])
            config_clear(cfg, s);
        cleared[idx] = true;
        char why[256];
        if (!s->set(cfg, s, given[i].value, why, sizeof why)) {
            snprintf(err, cap, "--%s: %s", s->name, why);
            return false;
        }
    }
    return true;
}

/*
 * Reads argv into given (settings, in order) and cfg (the other options).
 * Returns CONFIG_RUN, CONFIG_EXIT after --help or --version, or
 * CONFIG_ERROR with why in err.
 */
static enum config_result config_scan(struct config *cfg, int argc, char **argv,
                                      struct config_given *given,
                                      size_t *ngiven, char *err, size_t cap)
{
    config_build_options();
    opterr = 0;
    optind = 0; /* glibc: start afresh, even after a cut-short "-hV" */
    int opt;
    while ((opt = getopt_long(argc, argv, "c:hV", config_options, NULL)) !=
           -1) {
        switch (opt) {
        case 'c':
        case OPT_CONFIG:
            if (strlen(optarg) >= sizeof cfg->config_path || !*optarg) {
                snprintf(err, cap, "--config: expected a path of 1-%d bytes",
                         CONFIG_PATH_MAX - 1);
                return CONFIG_ERROR;
            }
            snprintf(cfg->config_path, sizeof cfg->config_path, "%s", optarg);
            break;
        case OPT_CHECK_CONFIG:
            cfg->check_config = true;
            break;
        case OPT_HASH_PASSWORD:
            cfg->hash_password = true;
            break;
        case 'h':
        case OPT_HELP:
            config_usage(stdout);
            return CONFIG_EXIT;
        case 'V':
        case OPT_VERSION:
            printf("parleyd %s\n", PARLEY_VERSION);
            return CONFIG_EXIT;
        case '?':
            snprintf(err, cap,
                     "unknown or incomplete option \"%s\" (try --help)",
                     argv[optind - 1]);
            return CONFIG_ERROR;
        default:
            given[(*ngiven)++] = (struct config_given){&config_settings[opt],
                                                       optarg ? optarg : "yes"};
        }
    }
    if (optind < argc) {
        snprintf(err, cap, "unexpected argument \"%s\" (try --help)",
                 argv[optind]);
        return CONFIG_ERROR;
    }
    return CONFIG_RUN;
}

/*
 * Where parleyd listens when told nowhere: telnet users on 3030 (line
 * editing), scripts on 3031 (plain lines), IRC on 6667, the web on 8080;
 * each on every IPv4 and IPv6 address.
 */
static const char *const config_default_listen[] = {
    "telnet://0.0.0.0:" CONFIG_DEFAULT_PORT,
    "telnet://[::]:" CONFIG_DEFAULT_PORT,
    "text://0.0.0.0:" CONFIG_DEFAULT_TEXT_PORT,
    "text://[::]:" CONFIG_DEFAULT_TEXT_PORT,
    "irc://0.0.0.0:" CONFIG_DEFAULT_IRC_PORT,
    "irc://[::]:" CONFIG_DEFAULT_IRC_PORT,
    "http://0.0.0.0:" CONFIG_DEFAULT_HTTP_PORT,
    "http://[::]:" CONFIG_DEFAULT_HTTP_PORT,
};

/* With a certificate, the default listeners add ircs, tls and https. */
static void config_default_tls(struct config *cfg,
                               const struct config_setting *l, char *err,
                               size_t cap)
{
    if (cfg->tls_cert[0] == '\0')
        return;
    config_set_listen(cfg, l, "ircs://0.0.0.0:" CONFIG_DEFAULT_IRCS_PORT, err,
                      cap);
    config_set_listen(cfg, l, "ircs://[::]:" CONFIG_DEFAULT_IRCS_PORT, err,
                      cap);
    config_set_listen(cfg, l, "tls://0.0.0.0:" CONFIG_DEFAULT_TLS_PORT, err,
                      cap);
    config_set_listen(cfg, l, "tls://[::]:" CONFIG_DEFAULT_TLS_PORT, err, cap);
    config_set_listen(cfg, l, "https://0.0.0.0:" CONFIG_DEFAULT_HTTPS_PORT, err,
                      cap);
    config_set_listen(cfg, l, "https://[::]:" CONFIG_DEFAULT_HTTPS_PORT, err,
                      cap);
}

/*
 * Checks the TLS settings against the listeners: a TLS listener needs a
 * certificate, a key a certificate; the key defaults to the certificate's
 * file. Returns false with why in err.
 */
static bool config_check_tls(struct config *cfg, char *err, size_t cap)
{
    bool any = false;
    for (size_t i = 0; i < cfg->nlisten; i++)
        any = any || config_scheme_tls(cfg->listen[i].scheme);
    if (any && cfg->tls_cert[0] == '\0') {
        snprintf(err, cap,
                 "listen tls://, ircs:// and https:// need tls-cert FILE");
        return false;
    }
    if (cfg->tls_key[0] != '\0' && cfg->tls_cert[0] == '\0') {
        snprintf(err, cap, "tls-key needs tls-cert");
        return false;
    }
    if (cfg->tls_cert[0] != '\0' && cfg->tls_key[0] == '\0')
        snprintf(cfg->tls_key, sizeof cfg->tls_key, "%s", cfg->tls_cert);
    return true;
}

enum config_result config_read(struct config *cfg, int argc, char **argv,
                               char *err, size_t cap)
{
    config_defaults(cfg);
    struct config_given *given = xcalloc((size_t)argc + 1, sizeof *given);
    size_t n = 0;
    enum config_result rc = config_scan(cfg, argc, argv, given, &n, err, cap);
    if (rc == CONFIG_RUN && cfg->config_path[0] &&
        !config_load_file(cfg, cfg->config_path, err, cap))
        rc = CONFIG_ERROR;
    if (rc == CONFIG_RUN && !config_apply_flags(cfg, given, n, err, cap))
        rc = CONFIG_ERROR;
    free(given);
    if (rc == CONFIG_RUN && cfg->nlisten == 0) {
        const struct config_setting *l = config_find("listen", 6);
        for (size_t i = 0;
             i < sizeof config_default_listen / sizeof config_default_listen[0];
             i++)
            config_set_listen(cfg, l, config_default_listen[i], err, cap);
        config_default_tls(cfg, l, err, cap);
        cfg->listen_defaults = true;
    }
    if (rc == CONFIG_RUN && !config_check_tls(cfg, err, cap))
        rc = CONFIG_ERROR;
    return rc;
}

enum config_result config_parse(struct config *cfg, int argc, char **argv)
{
    char err[512];
    enum config_result rc = config_read(cfg, argc, argv, err, sizeof err);
    if (rc == CONFIG_ERROR)
        fprintf(stderr, "parleyd: %s\n", err);
    return rc;
}
