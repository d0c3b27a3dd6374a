/*
 * config: the command line, turned into one struct of settings.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_LISTEN = 256,
    OPT_MAX_LINE,
    OPT_HISTORY,
    OPT_HISTORY_KEEP,
    OPT_FLOOD_BURST,
    OPT_FLOOD_RATE,
    OPT_SENDQ_MAX,
    OPT_MAX_CLIENTS,
    OPT_MAX_PER_IP,
    OPT_LIMIT_LOOPBACK,
    OPT_QUIET_ABOVE,
    OPT_TOPIC_MAX,
    OPT_MAX_ROOMS,
    OPT_SHUTDOWN_TIMEOUT,
    OPT_LOG_LEVEL,
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
    {"sendq-max", required_argument, NULL, OPT_SENDQ_MAX},
    {"max-clients", required_argument, NULL, OPT_MAX_CLIENTS},
    {"max-per-ip", required_argument, NULL, OPT_MAX_PER_IP},
    {"limit-loopback", no_argument, NULL, OPT_LIMIT_LOOPBACK},
    {"quiet-above", required_argument, NULL, OPT_QUIET_ABOVE},
    {"topic-max", required_argument, NULL, OPT_TOPIC_MAX},
    {"max-rooms", required_argument, NULL, OPT_MAX_ROOMS},
    {"shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
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
"parley chat server: people connect with telnet or netcat, pick a nick,\n"
"sit in rooms and talk. Logs key=value lines on stderr.\n"
"\n"
"  --listen URL          listen on URL; repeatable. text://HOST:PORT or\n"
"                        text://[V6ADDR]:PORT; port 0 picks a free port\n"
"                        (default: text://0.0.0.0:%s and text://[::]:%s)\n"
"  --max-line N          longest input line in bytes (default %d)\n"
"  --history N           messages replayed on /join (default %d)\n"
"  --history-keep N      messages kept per room (default %d)\n"
"  --flood-burst N       lines a client may send at once (default %d)\n"
"  --flood-rate N        lines per second after the burst, 0 = no limit\n"
"                        (default %d)\n"
"  --sendq-max BYTES     output held for one slow client before it is\n"
"                        disconnected (default %d)\n"
"  --max-clients N       connections in all (default: open-file limit\n"
"                        minus a reserve)\n"
"  --max-per-ip N        connections per address, 0 = no limit\n"
"                        (default %d; loopback exempt)\n"
"  --limit-loopback      apply --max-per-ip to loopback addresses too\n"
"  --quiet-above N       no join/leave/quit/nick notices in rooms with\n"
"                        more people than N (default %d)\n"
"  --topic-max N         longest topic in bytes (default %d)\n"
"  --max-rooms N         most rooms at once (default %d)\n"
"  --shutdown-timeout S  seconds to flush output on SIGTERM (default %d)\n"
"  --log-level LEVEL     debug, info, warn or error (default info)\n"
"  -h, --help            show this help and exit\n"
"  -V, --version         show the version and exit\n",
            CONFIG_DEFAULT_PORT, CONFIG_DEFAULT_PORT, CONFIG_MAX_LINE,
            CONFIG_HISTORY, CONFIG_HISTORY_KEEP, CONFIG_FLOOD_BURST,
            CONFIG_FLOOD_RATE, CONFIG_SENDQ_MAX, CONFIG_MAX_PER_IP,
            CONFIG_QUIET_ABOVE, CONFIG_TOPIC_MAX, CONFIG_MAX_ROOMS,
            CONFIG_SHUTDOWN_TIMEOUT);
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

/* Sets the defaults, including the two default listeners. */
static void config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_line = CONFIG_MAX_LINE;
    cfg->history = CONFIG_HISTORY;
    cfg->history_keep = CONFIG_HISTORY_KEEP;
    cfg->flood_burst = CONFIG_FLOOD_BURST;
    cfg->flood_rate = CONFIG_FLOOD_RATE;
    cfg->sendq_max = CONFIG_SENDQ_MAX;
    cfg->max_per_ip = CONFIG_MAX_PER_IP;
    cfg->quiet_above = CONFIG_QUIET_ABOVE;
    cfg->topic_max = CONFIG_TOPIC_MAX;
    cfg->max_rooms = CONFIG_MAX_ROOMS;
    cfg->shutdown_timeout = CONFIG_SHUTDOWN_TIMEOUT;
    cfg->log_level = LOG_INFO;
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
    if (strcmp(u->scheme, "text") != 0) {
        fprintf(stderr,
                "parleyd: --listen: unknown protocol \"%s\" "
                "(supported: text)\n",
                u->scheme);
        return false;
    }
    cfg->nlisten++;
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
        NUM(OPT_SENDQ_MAX, sendq_max, 1024, big)
        NUM(OPT_MAX_CLIENTS, max_clients, 1, 100000000)
        NUM(OPT_MAX_PER_IP, max_per_ip, 0, 100000000)
        NUM(OPT_QUIET_ABOVE, quiet_above, 0, 100000000)
        NUM(OPT_TOPIC_MAX, topic_max, 1, 65536)
        NUM(OPT_MAX_ROOMS, max_rooms, 1, 100000000)
        NUM(OPT_SHUTDOWN_TIMEOUT, shutdown_timeout, 0, 3600)
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
    }
    return CONFIG_RUN;
}
