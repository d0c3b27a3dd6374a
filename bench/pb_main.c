/*
 * parley-bench - a load generator for chat servers (parley, Redis pub/sub,
 * IRC servers, the reference relay, build/room_floor --relay).
 *
 * Build (every .c file directly in bench/ belongs to it; libc, libm and
 * OpenSSL for --tls):
 *
 *     cc -std=c11 -D_GNU_SOURCE -O2 bench/pb_*.c -o build/parley-bench -lm \
 *         -lssl -lcrypto
 *
 * Run, for example the busy room against parleyd on port 3030:
 *
 *     build/parleyd --listen text://127.0.0.1:3030 --flood-rate 0 \
 *         --quiet-above 0 --max-per-ip 0 &
 *     build/parley-bench --proto text --port 3030 --clients 50 --rooms 1 \
 *         --senders 10 --window 16 --warmup 1 --duration 5 --server-pid $!
 *
 * or the same over IRC (parleyd --listen irc://..., ngircd, inspircd; see
 * bench/irc.py for fair configurations of the last two):
 *
 *     build/parley-bench --proto irc --port 6667 --clients 50 --rooms 1 \
 *         --senders 10 --window 16 --warmup 1 --duration 5 --server-pid PID
 *
 * It opens --clients connections (plus --slow slow readers, plus one
 * publisher per sender for resp), puts the clients in --rooms rooms round
 * robin, and makes the first --senders clients send, paced (--rate msgs/s
 * each) or closed-loop (--window messages in flight each; see pb_msg.c for
 * when a message stops being in flight). Every body carries the sender id,
 * a sequence number and the send time, so each receiver checks the order
 * per sender and measures the latency. At the end it prints a table and one
 * line "RESULT key=value ..." and exits 0 when nothing was lost, duplicated,
 * reordered or misrouted, 1 when something was or the run failed, 2 on a
 * usage error, 3 when the hard --timeout ended it. Slow readers may lose
 * messages: whether the server cut them off is reported (slow_cut), not
 * judged. See --help for every option, bench/run.py for the scenarios.
 *
 * Single-threaded (one epoll loop): pin it to its own core (taskset -c 1).
 * When its own CPU use nears 100 % it is the bottleneck and says so; when
 * other processes used the machine during the window it says that too.
 */
#include "pb.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Descriptors kept free for epoll, stdio and /proc files. */
#define PB_FD_RESERVE 16

static const char usage_text[] =
    "usage: parley-bench --port P [options]\n"
    "  --proto text|resp|relay|irc|telnet  wire protocol (default text)\n"
    "  --host ADDR          server address (default 127.0.0.1)\n"
    "  --port P             server port (required)\n"
    "  --clients N          counted client connections (default 50)\n"
    "  --rooms R            rooms, clients placed round robin (default 1)\n"
    "  --senders S          clients 0..S-1 send (default 0: idle run)\n"
    "  --rate X             paced: X msgs/s per sender\n"
    "  --window W           closed loop: W msgs in flight per sender\n"
    "  --size B             body bytes, 26..1024 (default 32)\n"
    "  --slow K             K extra members of room 0 that stop reading\n"
    "  --slow-rcvbuf B      SO_RCVBUF of slow readers (default 8192, 0=os)\n"
    "  --warmup S           seconds of load before measuring (default 1)\n"
    "  --duration S         measured seconds (default 5)\n"
    "  --drain S            seconds to wait for the last messages (10)\n"
    "  --join-timeout S     seconds for everyone to join (default 30)\n"
    "  --slow-wait S        seconds to learn if slow readers were cut (3)\n"
    "  --timeout S          hard limit for the whole run (default: sum+10)\n"
    "  --server-pid PID     read the server's RSS and CPU from /proc\n"
    "  --connect-window C   handshakes in progress at most (default 256)\n"
    "  --connect-rate X     new connections per second at most (0 = any)\n"
    "  --src-addrs K        spread over 127.0.0.1..K (default: as needed)\n"
    "  --per-addr N         connections per source address (default: half\n"
    "                       the ephemeral port range)\n"
    "  --room-prefix STR    room names are STR0, STR1, ... (default pbNNNNr)\n"
    "  --label STR          copied into the RESULT line\n"
    "  --tls                connect with TLS (certificates not verified); the\n"
    "                       join time includes the handshake\n"
    "  --ws                 irc: speak IRC over WebSocket (GET /irc of an\n"
    "                       http:// listener, masked text frames)\n"
    "  --allow-partial      idle runs: report how many joined, do not fail\n"
    "  --settle S           with --allow-partial: stop waiting for joins\n"
    "                       after S s without one (default 1)\n"
    "  --register-only      irc: a client is done at 001 and joins no\n"
    "                       channel (idle and registration runs)\n"
    "  --irc-cap CAPS       irc: request these capabilities (CAP REQ :CAPS,\n"
    "                       space-separated); default: none\n"
    "  --progress | --quiet progress lines on stderr: always | never\n"
    "                       (default: every second once past 2 s)\n";

enum {
    OPT_PROTO = 256, OPT_HOST, OPT_PORT, OPT_CLIENTS, OPT_ROOMS, OPT_SENDERS,
    OPT_RATE, OPT_WINDOW, OPT_SIZE, OPT_SLOW, OPT_SLOW_RCVBUF, OPT_WARMUP,
    OPT_DURATION, OPT_DRAIN, OPT_JOIN_TIMEOUT, OPT_SLOW_WAIT, OPT_TIMEOUT,
    OPT_PID, OPT_CWIN, OPT_CRATE, OPT_SRC, OPT_PER_ADDR, OPT_PREFIX,
    OPT_LABEL, OPT_PARTIAL, OPT_SETTLE, OPT_REGONLY, OPT_IRCCAP,
    OPT_PROGRESS, OPT_QUIET, OPT_TLS, OPT_WS, OPT_HELP
};

static const struct option long_opts[] = {
    {"proto", 1, NULL, OPT_PROTO},       {"host", 1, NULL, OPT_HOST},
    {"port", 1, NULL, OPT_PORT},         {"clients", 1, NULL, OPT_CLIENTS},
    {"rooms", 1, NULL, OPT_ROOMS},       {"senders", 1, NULL, OPT_SENDERS},
    {"rate", 1, NULL, OPT_RATE},         {"window", 1, NULL, OPT_WINDOW},
    {"size", 1, NULL, OPT_SIZE},         {"slow", 1, NULL, OPT_SLOW},
    {"slow-rcvbuf", 1, NULL, OPT_SLOW_RCVBUF},
    {"warmup", 1, NULL, OPT_WARMUP},     {"duration", 1, NULL, OPT_DURATION},
    {"drain", 1, NULL, OPT_DRAIN},
    {"join-timeout", 1, NULL, OPT_JOIN_TIMEOUT},
    {"slow-wait", 1, NULL, OPT_SLOW_WAIT},
    {"timeout", 1, NULL, OPT_TIMEOUT},   {"server-pid", 1, NULL, OPT_PID},
    {"connect-window", 1, NULL, OPT_CWIN},
    {"connect-rate", 1, NULL, OPT_CRATE},
    {"src-addrs", 1, NULL, OPT_SRC},     {"per-addr", 1, NULL, OPT_PER_ADDR},
    {"room-prefix", 1, NULL, OPT_PREFIX}, {"label", 1, NULL, OPT_LABEL},
    {"allow-partial", 0, NULL, OPT_PARTIAL},
    {"settle", 1, NULL, OPT_SETTLE},
    {"register-only", 0, NULL, OPT_REGONLY},
    {"irc-cap", 1, NULL, OPT_IRCCAP},
    {"progress", 0, NULL, OPT_PROGRESS}, {"quiet", 0, NULL, OPT_QUIET},
    {"tls", 0, NULL, OPT_TLS},           {"ws", 0, NULL, OPT_WS},
    {"help", 0, NULL, OPT_HELP},         {NULL, 0, NULL, 0}};

/* Parses a non-negative number or exits with a usage error. */
static double num(const char *name, const char *s)
{
    char *end;
    double v = strtod(s, &end);

    if (end == s || *end || v < 0 || v > 1e12) {
        fprintf(stderr, "parley-bench: bad value for --%s: %s\n", name, s);
        exit(2);
    }
    return v;
}

/* Sets defaults, some of them from the machine. */
static void opts_defaults(struct pb_opts *o)
{
    static char prefix[32];
    unsigned lo = 32768, hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");

    if (f) {
        if (fscanf(f, "%u %u", &lo, &hi) != 2 || hi <= lo)
            lo = 32768, hi = 60999;
        fclose(f);
    }
    memset(o, 0, sizeof *o);
    o->proto = PB_PROTO_TEXT;
    o->host = "127.0.0.1";
    o->clients = 50;
    o->rooms = 1;
    o->size = PB_SIZE_DEFAULT;
    o->warmup = 1;
    o->duration = 5;
    o->drain = 10;
    o->join_timeout = 30;
    o->slow_wait = 3;
    o->settle = 1;
    o->connect_window = 256;
    o->per_addr = (hi - lo + 1) / 2;
    o->slow_rcvbuf = 8192;
    snprintf(prefix, sizeof prefix, "pb%ur", (unsigned)getpid() % 10000);
    o->room_prefix = prefix;
}

/* Applies one parsed option. */
static void opts_set(struct pb_opts *o, int opt, const char *arg,
                     const char *name)
{
    switch (opt) {
    case OPT_PROTO:
        if ((o->proto = pb_proto_parse(arg)) < 0) {
            fprintf(stderr, "parley-bench: unknown protocol %s\n", arg);
            exit(2);
        }
        break;
    case OPT_HOST: o->host = arg; break;
    case OPT_PORT: o->port = (int)num(name, arg); break;
    case OPT_CLIENTS: o->clients = (uint32_t)num(name, arg); break;
    case OPT_ROOMS: o->rooms = (uint32_t)num(name, arg); break;
    case OPT_SENDERS: o->senders = (uint32_t)num(name, arg); break;
    case OPT_RATE: o->rate = num(name, arg); break;
    case OPT_WINDOW: o->window = (uint32_t)num(name, arg); break;
    case OPT_SIZE: o->size = (uint32_t)num(name, arg); break;
    case OPT_SLOW: o->slow = (uint32_t)num(name, arg); break;
    case OPT_SLOW_RCVBUF: o->slow_rcvbuf = (int)num(name, arg); break;
    case OPT_WARMUP: o->warmup = num(name, arg); break;
    case OPT_DURATION: o->duration = num(name, arg); break;
    case OPT_DRAIN: o->drain = num(name, arg); break;
    case OPT_JOIN_TIMEOUT: o->join_timeout = num(name, arg); break;
    case OPT_SLOW_WAIT: o->slow_wait = num(name, arg); break;
    case OPT_TIMEOUT: o->timeout = num(name, arg); break;
    case OPT_PID: o->server_pid = (int)num(name, arg); break;
    case OPT_CWIN: o->connect_window = (uint32_t)num(name, arg); break;
    case OPT_CRATE: o->connect_rate = num(name, arg); break;
    case OPT_SRC: o->src_addrs = (uint32_t)num(name, arg); break;
    case OPT_PER_ADDR: o->per_addr = (uint32_t)num(name, arg); break;
    case OPT_PREFIX: o->room_prefix = arg; break;
    case OPT_LABEL: o->label = arg; break;
    case OPT_PARTIAL: o->allow_partial = true; break;
    case OPT_SETTLE: o->settle = num(name, arg); break;
    case OPT_REGONLY: o->register_only = true; break;
    case OPT_IRCCAP: o->irc_caps = arg; break;
    case OPT_PROGRESS: o->progress = true; break;
    case OPT_QUIET: o->quiet = true; break;
    case OPT_WS: o->ws = true; break;
    case OPT_TLS:
        if (!pb_tls_init()) {
            fprintf(stderr, "parley-bench: cannot set up TLS\n");
            exit(1);
        }
        break;
    default: fputs(usage_text, opt == OPT_HELP ? stdout : stderr);
        exit(opt == OPT_HELP ? 0 : 2);
    }
}

/* Returns an error message for an inconsistent configuration, or NULL. */
static const char *opts_problem(const struct pb_opts *o)
{
    const struct pb_proto *p = pb_proto_get(o->proto);

    if (o->port < 1 || o->port > 65535)
        return "--port is required (1-65535)";
    if (o->clients < 1 || o->rooms < 1 || o->rooms > o->clients)
        return "need 1 <= --rooms <= --clients";
    if (o->senders > o->clients || o->senders > PB_SENDERS_MAX)
        return "--senders must be <= --clients (and <= 65535)";
    if (o->proto == PB_PROTO_RELAY && (o->rooms != 1 || o->clients < 2))
        return "--proto relay has no rooms: use --rooms 1, --clients >= 2";
    if (o->senders && (o->rate > 0) == (o->window > 0))
        return "senders need exactly one of --rate and --window";
    if (o->window > (1u << 20))
        return "--window is at most 1048576";
    if (o->senders && !p->self_delivery && o->clients / o->rooms < 2)
        return "every room with a sender needs another member";
    if (o->size < PB_TAIL_LEN || o->size > PB_SIZE_MAX)
        return "--size must be 26..1024";
    if (o->proto == PB_PROTO_IRC && o->size > PB_IRC_BODY_MAX)
        return "--proto irc: --size must be at most " PB_STR(PB_IRC_BODY_MAX)
               " (an IRC line is 512 bytes with its prefix)";
    if ((o->register_only || o->irc_caps) && o->proto != PB_PROTO_IRC)
        return "--register-only and --irc-cap need --proto irc";
    if (o->irc_caps && (strlen(o->irc_caps) > 400 ||
                        strpbrk(o->irc_caps, "\r\n")))
        return "--irc-cap: one line of at most 400 bytes";
    if (o->register_only && o->senders)
        return "--register-only runs have no senders";
    if (o->connect_window < 1 || o->per_addr < 1 || o->src_addrs > 254)
        return "--connect-window and --per-addr must be >= 1, "
               "--src-addrs <= 254";
    return NULL;
}

/* Parses argv into o, exiting with status 2 on a usage error. */
static void opts_parse(struct pb_opts *o, int argc, char **argv)
{
    const char *problem;
    int opt, idx;

    opts_defaults(o);
    while ((opt = getopt_long(argc, argv, "h", long_opts, &idx)) != -1)
        opts_set(o, opt == 'h' ? OPT_HELP : opt, optarg,
                 opt >= OPT_PROTO && opt < OPT_HELP ? long_opts[idx].name
                                                    : "?");
    if (optind < argc) {
        fprintf(stderr, "parley-bench: unexpected argument %s\n",
                argv[optind]);
        exit(2);
    }
    if ((problem = opts_problem(o))) {
        fprintf(stderr, "parley-bench: %s\n", problem);
        exit(2);
    }
    if (o->ws && o->proto != PB_PROTO_IRC) {
        fprintf(stderr, "parley-bench: --ws needs --proto irc\n");
        exit(2);
    }
    if (o->ws)
        pb_ws_init(o->host, o->port);
    if (o->timeout <= 0)
        o->timeout = o->join_timeout + o->warmup + o->duration + o->drain +
                     o->slow_wait + 10;
}

/* Raises the soft descriptor limit to the hard one; returns the new soft. */
static rlim_t raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 1024;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur;
}

/* Backstop for a stuck loop: the run is over, whatever state it is in. */
static void on_alarm(int sig)
{
    static const char msg[] = "parley-bench: hard timeout, giving up\n";

    (void)sig;
    if (write(2, msg, sizeof msg - 1) < 0) {
        /* Nothing else to do; we are leaving anyway. */
    }
    _exit(3);
}

int main(int argc, char **argv)
{
    static struct pb_run run;
    struct pb_run *r = &run;
    rlim_t nofile = raise_nofile();
    uint64_t need;
    bool ok;

    opts_parse(&r->o, argc, argv);
    r->proto = pb_proto_get(r->o.proto);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, on_alarm);
    alarm((unsigned)r->o.timeout + 15);
    need = (uint64_t)r->o.clients + r->o.slow +
           (r->proto->separate_pub ? r->o.senders : 0) + PB_FD_RESERVE;
    if (need > nofile && r->o.allow_partial && r->o.senders == 0 &&
        r->o.clients > need - nofile) {
        r->o.clients -= (uint32_t)(need - nofile);
        fprintf(stderr, "parley-bench: descriptor limit %llu: using %u "
                "clients\n", (unsigned long long)nofile, r->o.clients);
    } else if (need > nofile) {
        fprintf(stderr,
                "parley-bench: %llu descriptors needed, the limit is %llu\n",
                (unsigned long long)need, (unsigned long long)nofile);
        return 2;
    }
    pb_msg_setup(r);
    if (pb_loop_run(r) < 0)
        return 1;
    pb_report(r);
    ok = pb_run_ok(r);
    pb_conn_reset_all(r);
    pb_msg_free(r);
    if (r->timed_out)
        return 3;
    return ok ? 0 : 1;
}
