/*
 * parleyd: the parley chat server.
 *
 * Reads the flags, sets up the modules in dependency order (log, event
 * loop, connections, chat core, listeners), runs the loop until a signal
 * asks it to stop and the goodbyes are flushed, then tears down in reverse
 * (the log last: it writes what it still holds, waiting half a second at
 * most for a reader of stderr).
 */
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
#include "config.h"
#include "event/conn.h"
#include "lib/dict.h"
#include "event/ev.h"
#include "lib/log.h"
#include "irc/irc.h"
#include "server.h"
#include "text/text.h"

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
 * terminal) and prints its hash for --oper. Returns the exit status.
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

/* Adds the --oper accounts; returns false (with a message) on a bad one. */
static bool main_opers(const struct config *cfg)
{
    char err[256];
    for (size_t i = 0; i < cfg->nopers; i++) {
        if (oper_add(cfg->opers[i], err, sizeof err) != 0) {
            fprintf(stderr, "parleyd: --oper: %s\n", err);
            return false;
        }
    }
    return true;
}

/*
 * SIGHUP: reloads what can change while everyone stays connected (today
 * the TLS certificate and key).
 */
static void main_reload(void)
{
    server_reload_tls();
}

int main(int argc, char **argv)
{
    struct config cfg;
    switch (config_parse(&cfg, argc, argv)) {
    case CONFIG_EXIT:
        return 0;
    case CONFIG_ERROR:
        return 2;
    case CONFIG_RUN:
        break;
    }
    if (oper_init() != 0) {
        fprintf(stderr, "parleyd: libsodium cannot be initialized\n");
        return 1;
    }
    if (cfg.hash_password)
        return main_hash_password();
    if (!main_opers(&cfg))
        return 2;
    log_set_level(cfg.log_level);
    log_open(STDERR_FILENO);
    main_seed();

    struct ev_loop *loop = ev_loop_new();
    if (loop == NULL) {
        perror("parleyd: epoll_create1");
        return 1;
    }
    const struct text_config text = {
        .history_replay = cfg.history,
        .quiet_above = cfg.quiet_above,
    };
    text_configure(&text);
    const struct chat_config chat = {
        .history_keep = cfg.history_keep,
        .max_bans = cfg.max_bans,
        .topic_max = cfg.topic_max,
        .max_rooms = cfg.max_rooms,
        .history_mem = cfg.history_mem,
        .room_burst = cfg.room_burst,
        .room_rate = cfg.room_rate,
        .origin_room_burst = cfg.room_burst_ip,
        .origin_room_rate = cfg.room_rate_ip,
    };
    chat_init(&chat);
    const struct irc_config irc = {
        .server_name = cfg.server_name,
        .server_info = cfg.server_info,
        .network = "parley",
        .ping_interval = cfg.ping_interval,
        .created = (int64_t)time(NULL),
    };
    irc_configure(&irc, loop);
    int rc = cfg.motd_path ? irc_load_motd(cfg.motd_path) : 0;
    if (rc < 0) {
        fprintf(stderr, "parleyd: --motd %s: %s\n", cfg.motd_path,
                strerror(-rc));
        return 2;
    }
    int status = 1;
    server_set_reload(main_reload);
    if (server_start(loop, &cfg) == 0)
        status = server_run();
    conn_fini();
    server_stop();
    irc_fini();
    chat_fini();
    oper_fini();
    buf_pool_drain();
    ev_loop_free(loop);
    log_close();
    return status;
}
