/*
 * parleyd: the parley chat server.
 *
 * Reads the settings (config file and flags), sets up the modules in dependency
 * order (log, event loop, connections, chat core, listeners), runs the loop
 * until a signal asks it to stop and the goodbyes are flushed, then tears down
 * in reverse (the log last: it writes what it still holds, waiting half a
 * second at most for a reader of stderr). SIGHUP runs main_reload.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "core/chat.h"
#include "core/oper.h"
#include "core/sban.h"
#include "config.h"
#include "event/conn.h"
#include "lib/dict.h"
#include "event/ev.h"
#include "http/http.h"
#include "lib/log.h"
#include "irc/irc.h"
#include "notify.h"
#include "server.h"
#include "store/store.h"
#include "text/text.h"
#include "lib/xmalloc.h"

/* Seeds the hash tables from the kernel, so keys cannot be made to collide. */
static void main_seed(void)
{
    unsigned long long seed;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        seed = (unsigned long long)time(NULL) ^ (unsigned long long)clock();
    dict_seed(seed);
}

/*
 * --hash-password: reads one line from stdin (not echoed if it is a
 * terminal) and prints its hash for --oper (or oper = NAME:HASH). Returns the
 * exit status.
 */
static int main_hash_password(void)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        fprintf(stderr, "password: ");
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char pw[OPER_PASSWORD_MAX + 2], hash[OPER_HASH_MAX];
    bool got = fgets(pw, sizeof pw, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    size_t n = got ? strcspn(pw, "\r\n") : 0;
    int status = 0;
    if (n == 0 || n > OPER_PASSWORD_MAX) {
        fprintf(stderr,
                "parleyd: --hash-password: expected a password of "
                "1-%d bytes on one line\n",
                OPER_PASSWORD_MAX);
        status = 2;
    } else if (oper_hash(pw, n, hash, sizeof hash) != 0) {
        fprintf(stderr, "parleyd: --hash-password: out of memory\n");
        status = 1;
    } else {
        printf("%s\n", hash);
    }
    explicit_bzero(pw, sizeof pw);
    return status;
}

/* The running configuration, and the command line a reload reads again. */
static struct config main_cfg;
static int main_argc;
static char **main_argv;

/* Sets the accounts to cfg's; returns false with why in err. */
static bool main_opers(const struct config *cfg, char *err, size_t cap)
{
    const char *specs[CONFIG_MAX_OPERS];
    for (size_t i = 0; i < cfg->nopers; i++)
        specs[i] = cfg->opers[i];
    return oper_replace(specs, cfg->nopers, err, cap) == 0;
}

/* Makes the config's server bans cfg's (each was checked when read). */
static void main_server_bans(const struct config *cfg)
{
    struct sban *v = xcalloc(cfg->nserver_bans + 1, sizeof *v);
    char err[256];
    size_t n = 0;
    for (size_t i = 0; i < cfg->nserver_bans; i++)
        if (sban_parse_config(cfg->server_bans[i], &v[n], err, sizeof err))
            n++;
    sban_config_apply(v, n);
    free(v);
}

/* The text protocol's settings from cfg. */
static struct text_config main_text_config(const struct config *cfg)
{
    return (struct text_config){
        .history_replay = cfg->history,
        .quiet_above = cfg->quiet_above,
    };
}

/* The chat core's settings from cfg. */
static struct chat_config main_chat_config(const struct config *cfg)
{
    return (struct chat_config){
        /* With a store, history lives on disk, not in rings. */
        .history_keep = store_on() ? 0 : cfg->history_keep,
        .max_bans = cfg->max_bans,
        .topic_max = cfg->topic_max,
        .max_rooms = cfg->max_rooms,
        .history_mem = cfg->history_mem,
        .room_burst = cfg->room_burst,
        .room_rate = cfg->room_rate,
        .origin_room_burst = cfg->room_burst_ip,
        .origin_room_rate = cfg->room_rate_ip,
    };
}

/*
 * Reads the MOTD file again; logs why not if it fails. Without one (the
 * key was removed), the MOTD is emptied.
 */
static void main_reload_motd(void)
{
    if (main_cfg.motd_path[0] == '\0') {
        irc_load_motd("/dev/null");
        return;
    }
    int rc = irc_load_motd(main_cfg.motd_path);
    if (rc < 0)
        log_error("event=reload-failed key=motd path=%s error=%s",
                  log_q(main_cfg.motd_path, strlen(main_cfg.motd_path)),
                  log_q(strerror(-rc), strlen(strerror(-rc))));
    else
        log_info("event=reload key=motd path=%s",
                 log_q(main_cfg.motd_path, strlen(main_cfg.motd_path)));
}

/*
 * The reload entry point (SIGHUP): reads the config file and the command
 * line again and takes what may change live (config_update logs each
 * change, and each setting that needs a restart). A file with an error
 * changes nothing. Then it hands the new settings to the modules that
 * hold them; certificates and server bans plug in at the end.
 */
static void main_reload(void)
{
    notify_reloading();
    log_info("event=reload-start config=%s",
             main_cfg.config_path[0] ? main_cfg.config_path : "none");
    struct config *next = xmalloc(sizeof *next);
    char err[512];
    if (config_read(next, main_argc, main_argv, err, sizeof err) !=
        CONFIG_RUN) {
        log_error("event=reload-failed error=%s", log_q(err, strlen(err)));
    } else {
        struct config before = main_cfg;
        size_t changed = config_update(&main_cfg, next);
        if (!main_opers(&main_cfg, err, sizeof err)) {
            log_error("event=reload-failed key=oper error=%s",
                      log_q(err, strlen(err)));
            memcpy(main_cfg.opers, before.opers, sizeof before.opers);
            main_cfg.nopers = before.nopers;
        }
        main_server_bans(&main_cfg);
        log_set_level(main_cfg.log_level);
        const struct text_config text = main_text_config(&main_cfg);
        text_configure(&text);
        const struct chat_config chat = main_chat_config(&main_cfg);
        chat_set_limits(&chat);
        server_reconfigure();
        main_reload_motd();
        log_info("event=reload-done changed=%zu", changed);
    }
    free(next);
    /* Certificates and server bans reload here, and the web's files. */
    server_reload_tls();
    http_reload();
    notify_ready();
}

/*
 * Hands the settings to the protocols and the core (the MOTD read too).
 * Returns false, with a message on stderr, if the MOTD cannot be read.
 */
static bool main_setup(struct ev_loop *loop)
{
    const struct text_config text = main_text_config(&main_cfg);
    text_configure(&text);
    const struct chat_config chat = main_chat_config(&main_cfg);
    chat_init(&chat);
    const struct irc_config irc = {
        .server_name = main_cfg.server_name,
        .server_info = main_cfg.server_info,
        .network = "parley",
        .ping_interval = main_cfg.ping_interval,
        .created = (int64_t)time(NULL),
    };
    irc_configure(&irc, loop);
    int rc = main_cfg.motd_path[0] ? irc_load_motd(main_cfg.motd_path) : 0;
    if (rc < 0) {
        fprintf(stderr, "parleyd: motd %s: %s\n", main_cfg.motd_path,
                strerror(-rc));
        return false;
    }
    return true;
}

/* --check-config: the settings are valid; checks the MOTD, prints them. */
static int main_check_config(const struct config *cfg)
{
    FILE *f = cfg->motd_path[0] ? fopen(cfg->motd_path, "r") : NULL;
    if (cfg->motd_path[0] && f == NULL) {
        fprintf(stderr, "parleyd: motd %s: %s\n", cfg->motd_path,
                strerror(errno));
        return 2;
    }
    if (f)
        fclose(f);
    config_print(cfg, stdout);
    fprintf(stderr, "parleyd: the configuration is valid\n");
    return 0;
}

/* The operator password checker's descriptor, watched by the loop. */
static struct ev_io main_checker_io;

/* The checker has answers: hands them to their protocols. */
static void main_checker_ready(struct ev_loop *loop, struct ev_io *io,
                               uint32_t events)
{
    (void)loop;
    (void)io;
    (void)events;
    oper_checker_ready();
}

/*
 * Starts the operator password checker's thread and watches its
 * descriptor. Returns false, with a message on stderr, if it cannot.
 */
static bool main_checker(struct ev_loop *loop)
{
    int fd = oper_checker_start();
    int rc = fd < 0 ? -errno
                    : ev_io_start(loop, &main_checker_io, fd, EV_READ,
                                  main_checker_ready);
    if (rc < 0)
        fprintf(stderr, "parleyd: the operator password checker: %s\n",
                strerror(-rc));
    return rc == 0;
}

/* The before-flush hook: commits the store's batch (see conn.h). */
static void main_commit(void)
{
    store_commit();
}

/*
 * Opens the history database, unless --db none. Returns 0, or the exit
 * status after printing one line that says what is wrong and what to do:
 * 3 if another process holds the file, 4 if it cannot be opened, read or
 * written, 5 if it is not a parley database or is damaged.
 */
static int main_store(const struct config *cfg)
{
    if (strcmp(cfg->db, "none") == 0)
        return 0;
    /* A file grown past RLIMIT_FSIZE is a write error, not a kill. */
    signal(SIGXFSZ, SIG_IGN);
    const struct store_config sc = {
        .path = cfg->db,
        .sync_full = cfg->db_sync_full,
        .history_days = cfg->history_days,
        .history_max = cfg->history_max,
    };
    char err[512];
    switch (store_open(&sc, err, sizeof err)) {
    case STORE_OPEN_OK:
        conn_add_before_flush(main_commit);
        return 0;
    case STORE_OPEN_BUSY:
        fprintf(stderr, "parleyd: %s\n", err);
        return 3;
    case STORE_OPEN_ACCESS:
        fprintf(stderr, "parleyd: %s\n", err);
        return 4;
    default:
        fprintf(stderr, "parleyd: %s\n", err);
        return 5;
    }
}

int main(int argc, char **argv)
{
    struct config *cfgp = &main_cfg;
    main_argc = argc;
    main_argv = argv;
    switch (config_parse(cfgp, argc, argv)) {
    case CONFIG_EXIT:
        return 0;
    case CONFIG_ERROR:
        return 2;
    case CONFIG_RUN:
        break;
    }
    if (main_cfg.check_config)
        return main_check_config(cfgp);
    if (oper_init() != 0) {
        fprintf(stderr, "parleyd: libsodium cannot be initialized\n");
        return 1;
    }
    if (main_cfg.hash_password)
        return main_hash_password();
    char err[256];
    if (!main_opers(cfgp, err, sizeof err)) {
        fprintf(stderr, "parleyd: oper: %s\n", err);
        return 2;
    }
    log_set_level(main_cfg.log_level);
    log_open(STDERR_FILENO);
    main_seed();
    int rc = main_store(cfgp);
    if (rc != 0) {
        log_close();
        return rc;
    }

    struct ev_loop *loop = ev_loop_new();
    if (loop == NULL) {
        perror("parleyd: epoll_create1");
        return 1;
    }
    if (!main_setup(loop) || !main_checker(loop))
        return 2;
    main_server_bans(cfgp);
    int status = 1;
    server_set_reload(main_reload);
    if (server_start(loop, cfgp) == 0) {
        notify_ready();
        notify_watchdog_start(loop);
        status = server_run();
    }
    notify_fini();
    ev_io_stop(loop, &main_checker_io);
    oper_checker_stop();
    conn_fini();
    server_stop();
    irc_fini();
    store_close();
    chat_fini();
    oper_fini();
    buf_pool_drain();
    ev_loop_free(loop);
    log_close();
    return status;
}
