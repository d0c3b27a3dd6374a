/*
 * server: listeners, admission limits, signals and shutdown.
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "core/sban.h"
#include "event/conn.h"
#include "lib/dict.h"
#include "event/ev.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "event/net.h"
#include "event/tls.h"
#include "http/http.h"
#include "irc/irc.h"
#include "notify.h"
#include "text/term.h"
#include "text/text.h"
#include "lib/xmalloc.h"

/* Accept backlog: large, so a burst of connects is not dropped. */
#define SERVER_BACKLOG 4096
/* Descriptors kept back from --max-clients' default (listeners, logs...). */
#define SERVER_FD_RESERVE 32
/* How long accepting pauses after the process ran out of descriptors. */
#define SERVER_EMFILE_PAUSE_MS 100
/* How long a closed socket waits for the peer's EOF after our last words. */
#define SERVER_LINGER_MS 2000
/* Connections accepted per listener event, so one listener cannot hog. */
#define SERVER_ACCEPT_BATCH 256
/*
 * Kernel buffers of client sockets. Left alone, the kernel lets a socket
 * hold up to 4 MiB of output (tcp_wmem) and several MiB of input before
 * anything in parleyd counts it: a few hundred clients that never read
 * could pin a gigabyte of kernel memory, and input a client queued could
 * outlive it by hours. Chat needs far less; these bound both.
 */
#define SERVER_SNDBUF (64 * 1024)
#define SERVER_RCVBUF (32 * 1024)

/* The reasons to refuse a connection, each with the rate limit of its log. */
struct server_refusal {
    const char *reason;
    struct log_rate rate;
};

#define SERVER_REFUSAL(REASON)                                                 \
    {                                                                          \
        REASON, LOG_RATE_INIT(LOG_WARN, "event=refuse reason=" REASON)         \
    }
static struct server_refusal server_refusals[] = {
    SERVER_REFUSAL("max-clients"),
    SERVER_REFUSAL("max-per-ip"),
    SERVER_REFUSAL("no-descriptors"),
    SERVER_REFUSAL("banned"),
    {NULL, LOG_RATE_INIT(LOG_WARN, "event=refuse reason=other")},
};
#undef SERVER_REFUSAL

/* Repeated listener trouble: logged a few times a second at most. */
static struct log_rate server_pause_rate =
    LOG_RATE_INIT(LOG_WARN, "event=accept-pause reason=no-descriptors");
static struct log_rate server_accept_rate =
    LOG_RATE_INIT(LOG_WARN, "event=accept-error");

struct listener {
    struct ev_io io;
    struct ev_timer pause; /* set while accepting is paused (EMFILE) */
    const struct conn_proto *proto;
    bool tls; /* its connections speak TLS first */
    char addr[NET_ADDR_MAX];
};

static struct ev_loop *server_loop;
static const struct config *server_cfg;
static struct listener *server_listeners;
static size_t server_nlisteners;
static struct dict *server_per_ip; /* address prefix -> connection count */
static size_t server_max_clients;
static int server_spare_fd = -1; /* released to accept-and-refuse on EMFILE */
static struct ev_io server_sig_io;
static struct ev_timer server_deadline;
static struct ev_timer server_log_timer; /* the log has work left */
static bool server_stopping;
static struct tls_server *server_tls; /* NULL: no TLS listener */
static void (*server_reload)(void);   /* what SIGHUP runs, NULL: nothing */

/* The protocols, by the scheme of their listen URL. */
static const struct {
    const char *scheme;
    const struct conn_proto *proto;
} server_protos[] = {
    {"text", &text_proto},  {"irc", &irc_proto},
    {"tls", &text_proto},   {"ircs", &irc_proto},
    {"http", &http_proto},  {"telnet", &text_telnet_proto},
    {"https", &http_proto}, {"metrics", &http_metrics_proto},
};

/* Returns the protocol of scheme (config.c accepts only these). */
static const struct conn_proto *server_proto(const char *scheme)
{
    for (size_t i = 0; i < sizeof server_protos / sizeof *server_protos; i++)
        if (strcmp(server_protos[i].scheme, scheme) == 0)
            return server_protos[i].proto;
    return &text_proto;
}

/* ------------------------------------------------------------------------
 * Admission
 * ------------------------------------------------------------------------ */

/* Writes the key host is counted under (its prefix) into key. */
static void server_ip_key(const char *host, char key[NET_KEY_MAX])
{
    net_host_key(host, server_cfg->ipv4_prefix, server_cfg->ipv6_prefix, key,
                 NET_KEY_MAX);
}

/* Returns the number of connections from host's network (its prefix). */
static size_t server_ip_count(const char *host)
{
    char key[NET_KEY_MAX];
    server_ip_key(host, key);
    return (size_t)(uintptr_t)dict_get(server_per_ip, key, strlen(key));
}

/* Adds delta to the count of host's network, forgetting those at zero. */
static void server_ip_add(const char *host, int delta)
{
    char key[NET_KEY_MAX];
    server_ip_key(host, key);
    size_t n = (size_t)(uintptr_t)dict_get(server_per_ip, key, strlen(key)) +
               (size_t)(ptrdiff_t)delta;
    if (n == 0)
        dict_del(server_per_ip, key, strlen(key));
    else
        dict_set(server_per_ip, key, strlen(key), (void *)(uintptr_t)n);
}

/* conn's free hook: the connection no longer counts against its address. */
static void server_on_conn_free(const struct conn *c)
{
    server_ip_add(conn_host(c), -1);
}

/*
 * Writes the line a client refused for a ban on host gets, with the ban's
 * reason, in the listener's protocol, into out; returns its length.
 */
static size_t server_banned_line(const struct conn_proto *proto,
                                 const char *host, char *out, size_t size)
{
    const struct sban *b = sban_match_host(host);
    char text[SBAN_REASON_MAX + 64];
    snprintf(text, sizeof text, "you are banned from this server (%s)",
             b && b->reason[0] ? b->reason : "no reason given");
    return proto->server_line(true, text, out, size);
}

/*
 * Writes the line a client refused for reason gets, naming the limit, in
 * the listener's protocol, into out (size bytes); returns its length.
 */
static size_t server_full_line(const struct conn_proto *proto,
                               const char *reason, const char *host, char *out,
                               size_t size)
{
    char text[96];
    if (strcmp(reason, "max-clients") == 0)
        snprintf(text, sizeof text, "server full (max %zu clients)",
                 server_max_clients);
    else if (strcmp(reason, "max-per-ip") == 0)
        snprintf(text, sizeof text,
                 "server full (max %zu connections per address)",
                 server_cfg->max_per_ip);
    else if (strcmp(reason, "no-descriptors") == 0)
        snprintf(text, sizeof text, "server full (out of file descriptors)");
    else if (strcmp(reason, "banned") == 0)
        return server_banned_line(proto, host, out, size);
    else
        snprintf(text, sizeof text, "server full");
    return proto->server_line(true, text, out, size);
}

/*
 * Tells a refused client which limit it met, without waiting, and closes
 * it; logs it, a few times a second per reason at most.
 */
static void server_refuse(const struct listener *l, int fd, const char *addr,
                          const char *reason)
{
    struct server_refusal *r = server_refusals;
    while (r->reason && strcmp(r->reason, reason) != 0)
        r++;
    metrics_refused(reason);
    /* The longest is HTTP's refusal of a ban: a whole answer. */
    char line[SBAN_REASON_MAX + 256], host[NET_ADDR_MAX];
    net_addr_host(addr, host, sizeof host);
    size_t n = server_full_line(l->proto, reason, host, line, sizeof line);
    /* A TLS client would take a plain line for a broken handshake. */
    ssize_t rc = l->tls ? 0 : send(fd, line, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)rc;
    close(fd);
    log_rated(&r->rate, "event=refuse addr=%s reason=%s", addr, reason);
}

/* Returns the reason to refuse a new connection from sa, or NULL. */
static const char *server_admit(const struct sockaddr *sa, const char *host)
{
    if (sban_match_host(host))
        return "banned";
    if (conn_count() >= server_max_clients)
        return "max-clients";
    bool exempt = net_is_loopback(sa) && !server_cfg->limit_loopback;
    if (server_cfg->max_per_ip > 0 && !exempt &&
        server_ip_count(host) >= server_cfg->max_per_ip)
        return "max-per-ip";
    return NULL;
}

/* Takes one accepted socket into the server, or refuses it. */
static void server_take(struct listener *l, int fd, const struct sockaddr *sa)
{
    char addr[NET_ADDR_MAX];
    net_format_addr(sa, addr, sizeof addr);
    if (server_stopping) {
        close(fd);
        return;
    }
    char host[NET_ADDR_MAX]; /* as conn_host will report it */
    net_addr_host(addr, host, sizeof host);
    const char *why = server_admit(sa, host);
    if (why) {
        server_refuse(l, fd, addr, why);
        return;
    }
    net_nodelay(fd);
    net_keepalive(fd, server_cfg->keepalive);
    server_ip_add(host, +1);
    metrics.accepted++;
    if (l->tls)
        conn_new_tls(fd, addr, l->proto, server_tls);
    else
        conn_new(fd, addr, l->proto);
}

/* Resumes accepting after a pause for lack of descriptors. */
static void server_on_pause_end(struct ev_loop *loop, struct ev_timer *t)
{
    struct listener *l =
        (struct listener *)((char *)t - offsetof(struct listener, pause));
    ev_io_set(loop, &l->io, EV_READ);
}

/*
 * Out of descriptors: refuse one waiting client using the spare descriptor
 * (so it hears why instead of hanging), then pause this listener briefly
 * rather than spin on an accept that keeps failing.
 */
static void server_on_emfile(struct listener *l)
{
    if (server_spare_fd >= 0) {
        close(server_spare_fd);
        server_spare_fd = -1;
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = accept4(l->io.fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
        if (fd >= 0) {
            char addr[NET_ADDR_MAX];
            net_format_addr((struct sockaddr *)&ss, addr, sizeof addr);
            server_refuse(l, fd, addr, "no-descriptors");
        }
        server_spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    log_rated(&server_pause_rate,
              "event=accept-pause listener=%s reason=no-descriptors ms=%d",
              l->addr, SERVER_EMFILE_PAUSE_MS);
    ev_io_set(server_loop, &l->io, 0);
    ev_timer_start(server_loop, &l->pause, SERVER_EMFILE_PAUSE_MS,
                   server_on_pause_end);
}

/* Accepts waiting connections on a listener, a bounded batch at a time. */
static void server_on_accept(struct ev_loop *loop, struct ev_io *io,
                             uint32_t events)
{
    (void)loop;
    (void)events;
    struct listener *l = (struct listener *)io;
    for (int i = 0; i < SERVER_ACCEPT_BATCH; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = accept4(io->fd, (struct sockaddr *)&ss, &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            server_take(l, fd, (struct sockaddr *)&ss);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
            errno == ENOMEM)
            server_on_emfile(l);
        else if (errno != EAGAIN && errno != EWOULDBLOCK)
            log_rated(&server_accept_rate,
                      "event=accept-error listener=%s error=%d", l->addr,
                      errno);
        return;
    }
}

/* ------------------------------------------------------------------------
 * Shutdown
 * ------------------------------------------------------------------------ */

/* conn_foreach helper: tells one connection the server is going away. */
static void server_tell_shutdown(struct conn *c, void *arg)
{
    (void)arg;
    char line[96];
    conn_proto_of(c)->server_line(false, "server shutting down", line,
                                  sizeof line);
    conn_close_with(c, CONN_SHUTDOWN, line);
}

/* The flush deadline passed: stop, whatever is still unsent. */
static void server_on_deadline(struct ev_loop *loop, struct ev_timer *t)
{
    (void)t;
    log_warn("event=shutdown-deadline connections=%zu", conn_count());
    ev_stop(loop);
}

/* Stops accepting, tells everyone, and waits for output to drain. */
static void server_shutdown(const char *signame)
{
    if (server_stopping)
        return;
    server_stopping = true;
    notify_stopping();
    log_info("event=shutdown signal=%s connections=%zu", signame, conn_count());
    for (size_t i = 0; i < server_nlisteners; i++) {
        struct listener *l = &server_listeners[i];
        ev_timer_stop(server_loop, &l->pause);
        ev_io_stop(server_loop, &l->io);
        close(l->io.fd);
        l->io.fd = -1;
    }
    conn_foreach(server_tell_shutdown, NULL);
    ev_timer_start(server_loop, &server_deadline,
                   (uint64_t)server_cfg->shutdown_timeout * 1000u,
                   server_on_deadline);
}

/*
 * Loads the certificate and key: at start (event=tls-cert), or again
 * (event=tls-reload). Returns 0, or -1 after logging why (a reload keeps
 * the old ones).
 */
static int server_tls_load(bool reload)
{
    char err[400], q[420], desc[300];
    const char *cert = server_cfg->tls_cert, *key = server_cfg->tls_key;
    if (!reload)
        server_tls = tls_server_new(cert, key, err, sizeof err);
    if (reload ? tls_server_reload(server_tls, cert, key, err, sizeof err) < 0
               : server_tls == NULL) {
        log_error("event=%s result=failed%s error=%s",
                  reload ? "tls-reload" : "tls-cert", reload ? " kept=old" : "",
                  log_quote(q, sizeof q, err, strlen(err)));
        return -1;
    }
    tls_server_describe(server_tls, desc, sizeof desc);
    log_info("event=%s result=ok %s", reload ? "tls-reload" : "tls-cert", desc);
    return 0;
}

int server_reload_tls(void)
{
    return server_tls ? server_tls_load(true) : 0;
}

/*
 * Reads pending signals from the signalfd. SIGHUP, which asks daemons to
 * reload their configuration, runs the reload server_set_reload gave (and
 * so a closed terminal does not end the server).
 */
static void server_on_signal(struct ev_loop *loop, struct ev_io *io,
                             uint32_t events)
{
    (void)loop;
    (void)events;
    struct signalfd_siginfo si;
    while (read(io->fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGHUP && server_reload)
            server_reload();
        else if (si.ssi_signo == SIGHUP)
            log_warn("event=sighup action=ignored reason=no-reload");
        else
            server_shutdown(si.ssi_signo == SIGINT ? "INT" : "TERM");
    }
}

/* Wakes the loop so that the before-sleep hook gives the log its turn. */
static void server_on_log_timer(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    (void)t;
}

/*
 * Before each sleep: flush and reap; write what the log holds; finish once
 * a shutdown has drained.
 */
static void server_before_sleep(struct ev_loop *loop, void *arg)
{
    (void)arg;
    conn_before_sleep();
    int log_ms = log_tick();
    if (log_ms >= 0 && !ev_timer_active(&server_log_timer))
        ev_timer_start(loop, &server_log_timer, (uint64_t)log_ms,
                       server_on_log_timer);
    if (server_stopping && conn_count() == 0)
        ev_stop(loop);
}

/* ------------------------------------------------------------------------
 * Start and stop
 * ------------------------------------------------------------------------ */

/* Routes SIGTERM, SIGINT and SIGHUP to a signalfd; ignores SIGPIPE. */
static int server_signals(void)
{
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -1;
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0 || ev_io_start(server_loop, &server_sig_io, fd, EV_READ,
                              server_on_signal) < 0)
        return -1;
    return 0;
}

/* Loads the certificate if any listener speaks TLS; -1 (logged) if bad. */
static int server_tls_start(const struct config *cfg)
{
    bool any = false;
    for (size_t i = 0; i < cfg->nlisten; i++)
        any = any || config_scheme_tls(cfg->listen[i].scheme);
    return any ? server_tls_load(false) : 0;
}

/* Raises the descriptor limit to its maximum; returns the new limit. */
static size_t server_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return (size_t)rl.rlim_cur;
}

/* Binds one configured listener; false if it failed. */
static bool server_bind(const struct net_url *u, bool optional)
{
    char err[256];
    int fd = net_listen(u->host, u->port, AF_UNSPEC, SERVER_BACKLOG, err,
                        sizeof err);
    if (fd < 0) {
        char q[300];
        log_write(optional ? LOG_WARN : LOG_ERROR,
                  "event=bind-failed proto=%s error=%s", u->scheme,
                  log_quote(q, sizeof q, err, strlen(err)));
        return optional;
    }
    net_buffers(fd, SERVER_SNDBUF, SERVER_RCVBUF);
    struct listener *l = &server_listeners[server_nlisteners];
    memset(l, 0, sizeof *l);
    l->proto = server_proto(u->scheme);
    l->tls = config_scheme_tls(u->scheme);
    net_local_addr(fd, l->addr, sizeof l->addr);
    if (ev_io_start(server_loop, &l->io, fd, EV_READ, server_on_accept) < 0) {
        close(fd);
        return false;
    }
    server_nlisteners++;
    log_info("event=listen proto=%s addr=%s", u->scheme, l->addr);
    return true;
}

/* Returns true if the server has a telnet:// listener. */
static bool server_has_telnet(void)
{
    for (size_t i = 0; i < server_nlisteners; i++)
        if (server_listeners[i].proto == &text_telnet_proto)
            return true;
    return false;
}

/*
 * Prints on standard output how to connect, for whoever started the server
 * by hand: "parley is ready: telnet HOST PORT (or nc HOST PORT)" for text
 * ("nc HOST PORT (scripts)" beside a telnet:// listener, where people go),
 * "IRC: irssi -c HOST -p PORT" for IRC, "web: http://HOST:PORT/" for the
 * web client, once per distinct place it listens;
 * an any-address listener is reached as localhost.
 */
static void server_announce(void)
{
    char seen[CONFIG_MAX_LISTEN][NET_ADDR_MAX + 8];
    size_t nseen = 0;
    printf("parley is ready:");
    for (size_t i = 0; i < server_nlisteners; i++) {
        const char *addr = server_listeners[i].addr;
        const char *port = strrchr(addr, ':');
        char host[NET_ADDR_MAX];
        net_addr_host(addr, host, sizeof host);
        if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0)
            snprintf(host, sizeof host, "localhost");
        char *target = seen[nseen];
        snprintf(target, sizeof seen[0], "%s %s", host, port ? port + 1 : "");
        bool again = false;
        for (size_t j = 0; j < nseen; j++)
            again = again || strcmp(seen[j], target) == 0;
        if (again)
            continue;
        if (server_listeners[i].proto == &http_proto)
            printf("%s web: %s://%s%s%s:%s/", nseen > 0 ? ";" : "",
                   server_listeners[i].tls ? "https" : "http",
                   strchr(host, ':') ? "[" : "", host,
                   strchr(host, ':') ? "]" : "", port ? port + 1 : "");
        else if (server_listeners[i].tls)
            printf("%s %s over TLS: openssl s_client -quiet -connect %s:%s",
                   nseen > 0 ? ";" : "",
                   server_listeners[i].proto == &irc_proto ? "IRC" : "text",
                   host, port ? port + 1 : "");
        else if (server_listeners[i].proto == &irc_proto)
            printf("%s IRC: irssi -c %s -p %s", nseen > 0 ? ";" : "", host,
                   port ? port + 1 : "");
        else if (server_listeners[i].proto == &http_metrics_proto)
            printf("%s metrics: curl http://%s:%s/metrics",
                   nseen > 0 ? ";" : "", host, port ? port + 1 : "");
        else if (server_listeners[i].proto == &text_telnet_proto)
            printf("%s telnet %s (line editing)", nseen > 0 ? ";" : "", target);
        else if (server_has_telnet())
            printf("%s nc %s (scripts)", nseen > 0 ? ";" : "", target);
        else
            printf("%s telnet %s (or nc %s)", nseen > 0 ? ";" : "", target,
                   target);
        nseen++;
    }
    printf("\n");
    fflush(stdout);
}

/* The connection limits cfg gives. */
static struct conn_limits server_conn_limits(const struct config *cfg)
{
    return (struct conn_limits){
        .max_line = cfg->max_line,
        .sendq_max = cfg->sendq_max,
        .recvq_max = cfg->recvq_max,
        .out_mem_max = cfg->out_mem_max,
        .flood_burst = cfg->flood_burst,
        .flood_rate = cfg->flood_rate,
        .flood_bytes = cfg->flood_bytes,
        .probe_ms = cfg->probe_wait,
        .v4_bits = cfg->ipv4_prefix,
        .v6_bits = cfg->ipv6_prefix,
        .linger_ms = SERVER_LINGER_MS,
        .tls_handshake_ms = cfg->tls_handshake_timeout * 1000u,
        .tls_handshakes = cfg->tls_handshakes,
    };
}

void server_set_reload(void (*reload)(void))
{
    server_reload = reload;
}

void server_reconfigure(void)
{
    const struct conn_limits limits = server_conn_limits(server_cfg);
    conn_set_limits(&limits);
}

int server_start(struct ev_loop *loop, const struct config *cfg)
{
    server_loop = loop;
    server_cfg = cfg;
    server_per_ip = dict_new();
    const struct conn_limits limits = server_conn_limits(cfg);
    conn_init(loop, &limits, server_on_conn_free);
    bool web = false; /* files are read only for a listener that serves them */
    for (size_t i = 0; i < cfg->nlisten; i++)
        web = web || server_proto(cfg->listen[i].scheme) == &http_proto;
    const struct http_config http = {
        .web_root = web ? cfg->web_root : NULL,
        .origins = cfg->web_origins,
        .norigins = cfg->nweb_origins,
        .ws_proto = &irc_proto,
    };
    http_init(loop, &http);
    conn_add_before_flush(term_before_sleep); /* prompts go out with the rest */
    size_t nofile = server_raise_nofile();
    server_max_clients = cfg->max_clients;
    if (server_max_clients == 0)
        server_max_clients = nofile > 2 * SERVER_FD_RESERVE
                                 ? nofile - SERVER_FD_RESERVE
                                 : nofile / 2;
    server_spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (server_signals() < 0) {
        log_error("event=signals-failed error=%d", errno);
        return -1;
    }
    if (server_tls_start(cfg) < 0)
        return -1;
    server_listeners = xcalloc(cfg->nlisten, sizeof *server_listeners);
    /* The built-in IPv6 listeners may fail on a host without IPv6. */
    for (size_t i = 0; i < cfg->nlisten; i++)
        if (!server_bind(&cfg->listen[i],
                         cfg->listen_defaults &&
                             strcmp(cfg->listen[i].host, "::") == 0))
            return -1;
    log_info("event=start version=%s max_clients=%zu nofile=%zu",
             PARLEY_VERSION, server_max_clients, nofile);
    server_announce();
    return 0;
}

int server_run(void)
{
    ev_set_before_sleep(server_loop, server_before_sleep, NULL);
    int rc = ev_run(server_loop);
    if (rc < 0) {
        log_error("event=loop-failed error=%d", -rc);
        return 1;
    }
    log_info("event=exit connections=%zu", conn_count());
    return 0;
}

void server_stop(void)
{
    http_fini();
    for (size_t i = 0; i < server_nlisteners; i++)
        if (server_listeners[i].io.fd >= 0)
            close(server_listeners[i].io.fd);
    free(server_listeners);
    server_listeners = NULL;
    server_nlisteners = 0;
    if (server_sig_io.fd > 0)
        close(server_sig_io.fd);
    if (server_spare_fd >= 0)
        close(server_spare_fd);
    dict_free(server_per_ip);
    server_per_ip = NULL;
    tls_server_free(server_tls);
    server_tls = NULL;
    sban_fini();
}
