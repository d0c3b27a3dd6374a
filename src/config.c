/*
 * config: the command line, turned into one struct of settings.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    OPT_LISTEN = 256,
    OPT_MAX_LINE,
    OPT_HISTORY,
    OPT_HISTORY_KEEP,
    OPT_FLOOD_BURST,
    OPT_FLOOD_RATE,
    OPT_FLOOD_BYTES,
    OPT_SENDQ_MAX,
    OPT_RECVQ_MAX,
    OPT_OUT_MEM_MAX,
    OPT_PROBE_WAIT,
    OPT_MAX_CLIENTS,
    OPT_MAX_PER_IP,
    OPT_IPV4_PREFIX,
    OPT_IPV6_PREFIX,
    OPT_LIMIT_LOOPBACK,
    OPT_QUIET_ABOVE,
    OPT_TOPIC_MAX,
    OPT_MAX_ROOMS,
    OPT_HISTORY_MEM,
    OPT_ROOM_BURST,
    OPT_ROOM_RATE,
    OPT_ROOM_BURST_PER_IP,
    OPT_ROOM_RATE_PER_IP,
    OPT_SHUTDOWN_TIMEOUT,
    OPT_KEEPALIVE,
    OPT_LOG_LEVEL,
    OPT_SERVER_NAME,
    OPT_SERVER_INFO,
    OPT_MOTD,
    OPT_PING_INTERVAL,
    OPT_MAX_BANS,
    OPT_OPER,
    OPT_HASH_PASSWORD,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_TLS_HANDSHAKE_TIMEOUT,
    OPT_TLS_HANDSHAKES,
    OPT_HELP,
    OPT_VERSION,
};

static const struct option config_options[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"max-line", required_argument, NULL, OPT_MAX_LINE},
    {"history", required_argument, NULL, OPT_HISTORY},
    {"history-keep", required_argument, NULL, OPT_HISTORY_KEEP},
    {"flood-burst", required_argument, NULL, OPT_FLOOD_BURST},
    {"flood-rate", required_argument, NULL, OPT_FLOOD_RATE},
    {"flood-bytes", required_argument, NULL, OPT_FLOOD_BYTES},
    {"sendq-max", required_argument, NULL, OPT_SENDQ_MAX},
    {"recvq-max", required_argument, NULL, OPT_RECVQ_MAX},
    {"out-mem-max", required_argument, NULL, OPT_OUT_MEM_MAX},
    {"probe-wait", required_argument, NULL, OPT_PROBE_WAIT},
    {"max-clients", required_argument, NULL, OPT_MAX_CLIENTS},
    {"max-per-ip", required_argument, NULL, OPT_MAX_PER_IP},
    {"ipv4-prefix", required_argument, NULL, OPT_IPV4_PREFIX},
    {"ipv6-prefix", required_argument, NULL, OPT_IPV6_PREFIX},
    {"limit-loopback", no_argument, NULL, OPT_LIMIT_LOOPBACK},
    {"quiet-above", required_argument, NULL, OPT_QUIET_ABOVE},
    {"topic-max", required_argument, NULL, OPT_TOPIC_MAX},
    {"max-rooms", required_argument, NULL, OPT_MAX_ROOMS},
    {"history-mem", required_argument, NULL, OPT_HISTORY_MEM},
    {"room-burst", required_argument, NULL, OPT_ROOM_BURST},
    {"room-rate", required_argument, NULL, OPT_ROOM_RATE},
    {"room-burst-per-ip", required_argument, NULL, OPT_ROOM_BURST_PER_IP},
    {"room-rate-per-ip", required_argument, NULL, OPT_ROOM_RATE_PER_IP},
    {"shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT},
    {"keepalive", required_argument, NULL, OPT_KEEPALIVE},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"server-name", required_argument, NULL, OPT_SERVER_NAME},
    {"server-info", required_argument, NULL, OPT_SERVER_INFO},
    {"motd", required_argument, NULL, OPT_MOTD},
    {"ping-interval", required_argument, NULL, OPT_PING_INTERVAL},
    {"max-bans", required_argument, NULL, OPT_MAX_BANS},
    {"oper", required_argument, NULL, OPT_OPER},
    {"hash-password", no_argument, NULL, OPT_HASH_PASSWORD},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"tls-handshake-timeout", required_argument, NULL,
     OPT_TLS_HANDSHAKE_TIMEOUT},
    {"tls-handshakes", required_argument, NULL, OPT_TLS_HANDSHAKES},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* Prints the usage text: every flag with its default. */
static void config_usage(FILE *out)
{
    /* The text is laid out as it prints. */
    // clang-format off
    fprintf(out,
"usage: parleyd [OPTIONS]\n"
"\n"
"parley chat server: people connect with telnet, netcat or any IRC\n"
"client, pick a nick, sit in rooms and talk. Logs key=value lines on\n"
"stderr.\n"
"\n"
"  --listen URL          listen on URL; repeatable (default: text on port\n"
"                        %s and irc on %s, any address, IPv4 and IPv6;\n"
"                        with --tls-cert also ircs on %s and tls on %s).\n"
"                        text://HOST:PORT (telnet, nc), irc://HOST:PORT,\n"
"                        tls://HOST:PORT (text over TLS) or\n"
"                        ircs://HOST:PORT (IRC over TLS), HOST an address\n"
"                        or [V6ADDR]; port 0 picks a free port\n"
"  --tls-cert FILE       TLS certificate chain (PEM) for tls:// and\n"
"                        ircs://; reloaded on SIGHUP\n"
"  --tls-key FILE        its private key (PEM; default: the --tls-cert\n"
"                        file); reloaded on SIGHUP\n"
"  --tls-handshake-timeout S\n"
"                        seconds a TLS handshake may take from the\n"
"                        connect (default %d)\n"
"  --tls-handshakes N    TLS handshakes in flight at once; more wait\n"
"                        their turn (default %d)\n"
"  --server-name NAME    the server's name in IRC (default: host name)\n"
"  --server-info TEXT    its description in IRC's LINKS (default: parley\n"
"                        chat server)\n"
"  --motd FILE           IRC message of the day, read at start\n"
"  --ping-interval S     ping an IRC client silent for S seconds; drop it\n"
"                        if silent as long again, or unregistered after S\n"
"                        (default %d; 0 = never)\n"
"  --max-line N          longest input line in bytes (default %d)\n"
"  --history N           messages replayed on joining a room (default %d)\n"
"  --history-keep N      messages kept per room (default %d)\n"
"  --flood-burst N       lines a client may send at once (default %d)\n"
"  --flood-rate N        lines per second after the burst, 0 = no limit\n"
"                        (default %d)\n"
"  --flood-bytes N       output bytes per second a client's lines may\n"
"                        cause, to everyone (bytes times audience);\n"
"                        0 = no limit (default %d)\n"
"  --sendq-max BYTES     output held for one slow client, here and in\n"
"                        the kernel, before it is disconnected\n"
"                        (default %d)\n"
"  --recvq-max BYTES     input held for a client that sends ahead of its\n"
"                        flood budget; past it the client is\n"
"                        disconnected for excess flood (default %d)\n"
"  --out-mem-max BYTES   output memory for all clients together; past\n"
"                        it the slowest readers are disconnected,\n"
"                        0 = no limit (default %d)\n"
"  --probe-wait MS       how long a new connection may speak first\n"
"                        (HTTP, TLS probes) before it is greeted\n"
"                        (default %d)\n"
"  --max-clients N       connections in all (default: open-file limit\n"
"                        minus a reserve)\n"
"  --max-per-ip N        connections per address, 0 = no limit\n"
"                        (default %d; loopback exempt)\n"
"  --ipv4-prefix N       --max-per-ip counts IPv4 clients by their first\n"
"                        N bits (default %d: each address)\n"
"  --ipv6-prefix N       --max-per-ip counts IPv6 clients by their first\n"
"                        N bits (default %d: each /%d network)\n"
"  --limit-loopback      apply --max-per-ip to loopback addresses too\n"
"  --quiet-above N       no join/leave/quit/nick notices in rooms with\n"
"                        more people than N (default %d)\n"
"  --max-bans N          bans (and pending invitations) one room keeps\n"
"                        (default %d)\n"
"  --topic-max N         longest topic in bytes (default %d)\n"
"  --max-rooms N         most rooms at once; rooms nobody is in give way,\n"
"                        the one left longest ago first (default %d)\n"
"  --history-mem BYTES   memory for the history of all rooms; past it,\n"
"                        rooms nobody is in are freed the same way\n"
"                        (default %d, 0 = no limit)\n"
"  --room-burst N        new rooms a client may create at once (default %d)\n"
"  --room-rate N         new rooms per minute after the burst, 0 = no\n"
"                        limit (default %d)\n"
"  --room-burst-per-ip N new rooms all clients of one address may create\n"
"                        at once, loopback included (default %d)\n"
"  --room-rate-per-ip N  and per minute after that, 0 = no limit\n"
"                        (default %d)\n"
"  --shutdown-timeout S  seconds to flush output on SIGTERM (default %d)\n"
"  --keepalive S         probe a connection silent for S seconds (default\n"
"                        %d; 0 = off), then every S/%d (at least 1); one\n"
"                        that answers none of %d probes, or acknowledges\n"
"                        nothing sent for as long, is dropped\n"
"  --oper NAME:HASH      a server operator account (OPER NAME PASSWORD in\n"
"                        IRC, /oper in text); HASH from --hash-password;\n"
"                        repeatable, at most 16\n"
"  --hash-password       read a password from stdin (one line, not echoed\n"
"                        on a terminal), print its hash for --oper, exit\n"
"  --log-level LEVEL     debug, info, warn or error (default info)\n"
"  -h, --help            show this help and exit\n"
"  -V, --version         show the version and exit\n",
            CONFIG_DEFAULT_PORT, CONFIG_DEFAULT_IRC_PORT,
            CONFIG_DEFAULT_IRCS_PORT, CONFIG_DEFAULT_TLS_PORT,
            CONFIG_TLS_HANDSHAKE_TIMEOUT, CONFIG_TLS_HANDSHAKES,
            CONFIG_PING_INTERVAL,
            CONFIG_MAX_LINE,
            CONFIG_HISTORY, CONFIG_HISTORY_KEEP, CONFIG_FLOOD_BURST,
            CONFIG_FLOOD_RATE, CONFIG_FLOOD_BYTES, CONFIG_SENDQ_MAX,
            CONFIG_RECVQ_MAX, CONFIG_OUT_MEM_MAX, CONFIG_PROBE_WAIT, CONFIG_MAX_PER_IP,
            CONFIG_IPV4_PREFIX, CONFIG_IPV6_PREFIX, CONFIG_IPV6_PREFIX,
            CONFIG_QUIET_ABOVE, CONFIG_MAX_BANS, CONFIG_TOPIC_MAX, CONFIG_MAX_ROOMS,
            CONFIG_HISTORY_MEM, CONFIG_ROOM_BURST, CONFIG_ROOM_RATE,
            CONFIG_ROOM_BURST_PER_IP, CONFIG_ROOM_RATE_PER_IP,
            CONFIG_SHUTDOWN_TIMEOUT, CONFIG_KEEPALIVE, NET_KEEPALIVE_PROBES,
            NET_KEEPALIVE_PROBES);
    // clang-format on
}

/* Parses a decimal number in [min, max] for flag name; false on error. */
static bool config_number(const char *name, const char *s, uintmax_t min,
                          uintmax_t max, uintmax_t *out)
{
    char *end;
    errno = 0;
    uintmax_t v = strtoumax(s, &end, 10);
    if (*s == '\0' || *s == '-' || *end != '\0' || errno || v < min ||
        v > max) {
        fprintf(stderr,
                "parleyd: --%s: expected a number from %ju to %ju, "
                "got \"%s\"\n",
                name, min, max, s);
        return false;
    }
    *out = v;
    return true;
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

/* Sets the defaults (the default listeners come after the flags). */
static void config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_line = CONFIG_MAX_LINE;
    cfg->history = CONFIG_HISTORY;
    cfg->history_keep = CONFIG_HISTORY_KEEP;
    cfg->flood_burst = CONFIG_FLOOD_BURST;
    cfg->flood_rate = CONFIG_FLOOD_RATE;
    cfg->flood_bytes = CONFIG_FLOOD_BYTES;
    cfg->sendq_max = CONFIG_SENDQ_MAX;
    cfg->recvq_max = CONFIG_RECVQ_MAX;
    cfg->out_mem_max = CONFIG_OUT_MEM_MAX;
    cfg->probe_wait = CONFIG_PROBE_WAIT;
    cfg->max_per_ip = CONFIG_MAX_PER_IP;
    cfg->ipv4_prefix = CONFIG_IPV4_PREFIX;
    cfg->ipv6_prefix = CONFIG_IPV6_PREFIX;
    cfg->quiet_above = CONFIG_QUIET_ABOVE;
    cfg->topic_max = CONFIG_TOPIC_MAX;
    cfg->max_rooms = CONFIG_MAX_ROOMS;
    cfg->history_mem = CONFIG_HISTORY_MEM;
    cfg->room_burst = CONFIG_ROOM_BURST;
    cfg->room_rate = CONFIG_ROOM_RATE;
    cfg->room_burst_ip = CONFIG_ROOM_BURST_PER_IP;
    cfg->room_rate_ip = CONFIG_ROOM_RATE_PER_IP;
    cfg->shutdown_timeout = CONFIG_SHUTDOWN_TIMEOUT;
    cfg->keepalive = CONFIG_KEEPALIVE;
    cfg->log_level = LOG_INFO;
    cfg->ping_interval = CONFIG_PING_INTERVAL;
    cfg->max_bans = CONFIG_MAX_BANS;
    cfg->tls_handshake_timeout = CONFIG_TLS_HANDSHAKE_TIMEOUT;
    cfg->tls_handshakes = CONFIG_TLS_HANDSHAKES;
    if (gethostname(cfg->server_name, sizeof cfg->server_name - 1) != 0 ||
        !config_name_valid(cfg->server_name))
        snprintf(cfg->server_name, sizeof cfg->server_name, "parley");
    cfg->server_info = "parley chat server";
}

/* Returns true if s may be the server's description: printable ASCII. */
static bool config_info_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CONFIG_INFO_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < ' ' || s[i] > '~')
            return false;
    return true;
}

/* Adds one --listen URL; false (with a message) if it is not usable. */
static bool config_listen(struct config *cfg, const char *s)
{
    char err[256];
    if (cfg->nlisten == CONFIG_MAX_LISTEN) {
        fprintf(stderr, "parleyd: at most %d --listen flags\n",
                CONFIG_MAX_LISTEN);
        return false;
    }
    struct net_url *u = &cfg->listen[cfg->nlisten];
    if (net_parse_url(s, u, err, sizeof err) < 0) {
        fprintf(stderr, "parleyd: --listen: %s\n", err);
        return false;
    }
    if (strcmp(u->scheme, "text") != 0 && strcmp(u->scheme, "irc") != 0 &&
        !config_scheme_tls(u->scheme)) {
        fprintf(stderr,
                "parleyd: --listen: unknown protocol \"%s\" "
                "(supported: text, irc, tls, ircs)\n",
                u->scheme);
        return false;
    }
    cfg->nlisten++;
    return true;
}

bool config_scheme_tls(const char *scheme)
{
    return strcmp(scheme, "tls") == 0 || strcmp(scheme, "ircs") == 0;
}

/*
 * Checks the TLS flags against the listeners, after the defaults: a TLS
 * listener needs a certificate. Returns false with a message.
 */
static bool config_check_tls(struct config *cfg)
{
    bool any = false;
    for (size_t i = 0; i < cfg->nlisten; i++)
        any = any || config_scheme_tls(cfg->listen[i].scheme);
    if (any && cfg->tls_cert == NULL) {
        fprintf(stderr, "parleyd: --listen tls:// and ircs:// need "
                        "--tls-cert FILE\n");
        return false;
    }
    if (cfg->tls_key != NULL && cfg->tls_cert == NULL) {
        fprintf(stderr, "parleyd: --tls-key needs --tls-cert\n");
        return false;
    }
    if (cfg->tls_cert != NULL && cfg->tls_key == NULL)
        cfg->tls_key = cfg->tls_cert;
    return true;
}

/* Applies one numeric flag; false on a bad value. */
static bool config_apply(struct config *cfg, int opt, const char *arg)
{
    const struct option *o = config_options;
    while (o->val != opt)
        o++;
    uintmax_t v;
    const uintmax_t big = (uintmax_t)1 << 40;
    switch (opt) {
#define NUM(OPT, FIELD, MIN, MAX)                                              \
    case OPT:                                                                  \
        if (!config_number(o->name, arg, MIN, MAX, &v))                        \
            return false;                                                      \
        cfg->FIELD = (__typeof__(cfg->FIELD))v;                                \
        return true;
        NUM(OPT_MAX_LINE, max_line, 16, 1 << 20)
        NUM(OPT_HISTORY, history, 0, 100000)
        NUM(OPT_HISTORY_KEEP, history_keep, 0, 100000)
        NUM(OPT_FLOOD_BURST, flood_burst, 1, 1000000)
        NUM(OPT_FLOOD_RATE, flood_rate, 0, 1000000)
        NUM(OPT_FLOOD_BYTES, flood_bytes, 0, big)
        NUM(OPT_SENDQ_MAX, sendq_max, 1024, big)
        NUM(OPT_RECVQ_MAX, recvq_max, 1024, 1 << 24)
        NUM(OPT_OUT_MEM_MAX, out_mem_max, 0, big)
        NUM(OPT_PROBE_WAIT, probe_wait, 0, 10000)
        NUM(OPT_MAX_CLIENTS, max_clients, 1, 100000000)
        NUM(OPT_MAX_PER_IP, max_per_ip, 0, 100000000)
        NUM(OPT_IPV4_PREFIX, ipv4_prefix, 0, 32)
        NUM(OPT_IPV6_PREFIX, ipv6_prefix, 0, 128)
        NUM(OPT_QUIET_ABOVE, quiet_above, 0, 100000000)
        NUM(OPT_TOPIC_MAX, topic_max, 1, 65536)
        NUM(OPT_MAX_ROOMS, max_rooms, 1, 100000000)
        NUM(OPT_HISTORY_MEM, history_mem, 0, big)
        NUM(OPT_ROOM_BURST, room_burst, 1, 1000000)
        NUM(OPT_ROOM_RATE, room_rate, 0, 60000)
        NUM(OPT_ROOM_BURST_PER_IP, room_burst_ip, 1, 1000000)
        NUM(OPT_ROOM_RATE_PER_IP, room_rate_ip, 0, 60000)
        NUM(OPT_SHUTDOWN_TIMEOUT, shutdown_timeout, 0, 3600)
        /* The kernel takes at most 32767 s of idle time (TCP_KEEPIDLE). */
        NUM(OPT_KEEPALIVE, keepalive, 0, 32767)
        NUM(OPT_PING_INTERVAL, ping_interval, 0, 86400)
        NUM(OPT_MAX_BANS, max_bans, 1, 10000)
        NUM(OPT_TLS_HANDSHAKE_TIMEOUT, tls_handshake_timeout, 1, 3600)
        NUM(OPT_TLS_HANDSHAKES, tls_handshakes, 1, 1000000)
#undef NUM
    default:
        return false;
    }
}

enum config_result config_parse(struct config *cfg, int argc, char **argv)
{
    config_defaults(cfg);
    opterr = 0;
    optind = 0; /* glibc: start afresh, even after a cut-short "-hV" */
    int opt;
    while ((opt = getopt_long(argc, argv, "hV", config_options, NULL)) != -1) {
        switch (opt) {
        case OPT_LISTEN:
            if (!config_listen(cfg, optarg))
                return CONFIG_ERROR;
            break;
        case OPT_LIMIT_LOOPBACK:
            cfg->limit_loopback = true;
            break;
        case OPT_SERVER_NAME:
            if (!config_name_valid(optarg)) {
                fprintf(stderr,
                        "parleyd: --server-name: expected 1-63 letters, "
                        "digits, - or ., got \"%s\"\n",
                        optarg);
                return CONFIG_ERROR;
            }
            snprintf(cfg->server_name, sizeof cfg->server_name, "%s", optarg);
            break;
        case OPT_SERVER_INFO:
            if (!config_info_valid(optarg)) {
                fprintf(stderr,
                        "parleyd: --server-info: expected 1-%d "
                        "printable ASCII characters\n",
                        CONFIG_INFO_MAX);
                return CONFIG_ERROR;
            }
            cfg->server_info = optarg;
            break;
        case OPT_MOTD:
            cfg->motd_path = optarg;
            break;
        case OPT_OPER:
            if (cfg->nopers == sizeof cfg->opers / sizeof cfg->opers[0]) {
                fprintf(stderr, "parleyd: at most 16 --oper flags\n");
                return CONFIG_ERROR;
            }
            cfg->opers[cfg->nopers++] = optarg;
            break;
        case OPT_HASH_PASSWORD:
            cfg->hash_password = true;
            break;
        case OPT_TLS_CERT:
            cfg->tls_cert = optarg;
            break;
        case OPT_TLS_KEY:
            cfg->tls_key = optarg;
            break;
        case OPT_LOG_LEVEL:
            if (!log_parse_level(optarg, &cfg->log_level)) {
                fprintf(stderr,
                        "parleyd: --log-level: expected debug, info, "
                        "warn or error, got \"%s\"\n",
                        optarg);
                return CONFIG_ERROR;
            }
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
            fprintf(stderr,
                    "parleyd: unknown or incomplete option \"%s\" "
                    "(try --help)\n",
                    argv[optind - 1]);
            return CONFIG_ERROR;
        default:
            if (!config_apply(cfg, opt, optarg))
                return CONFIG_ERROR;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "parleyd: unexpected argument \"%s\" (try --help)\n",
                argv[optind]);
        return CONFIG_ERROR;
    }
    if (cfg->nlisten == 0) {
        config_listen(cfg, "text://0.0.0.0:" CONFIG_DEFAULT_PORT);
        config_listen(cfg, "text://[::]:" CONFIG_DEFAULT_PORT);
        config_listen(cfg, "irc://0.0.0.0:" CONFIG_DEFAULT_IRC_PORT);
        config_listen(cfg, "irc://[::]:" CONFIG_DEFAULT_IRC_PORT);
        if (cfg->tls_cert != NULL) {
            config_listen(cfg, "ircs://0.0.0.0:" CONFIG_DEFAULT_IRCS_PORT);
            config_listen(cfg, "ircs://[::]:" CONFIG_DEFAULT_IRCS_PORT);
            config_listen(cfg, "tls://0.0.0.0:" CONFIG_DEFAULT_TLS_PORT);
            config_listen(cfg, "tls://[::]:" CONFIG_DEFAULT_TLS_PORT);
        }
    }
    if (!config_check_tls(cfg))
        return CONFIG_ERROR;
    return CONFIG_RUN;
}
