/*
 * config: the settings of the server, from a file and the command line.
 *
 * One table (config.c) describes every setting: its name, which is both
 * the flag (--NAME) and the key in the file (NAME = VALUE), its bounds,
 * its default, its help and whether SIGHUP may change it while the server
 * runs. The flag parser, the file parser, --help and the reload all read
 * that table, so a flag without a key cannot exist. Settings come from
 * the defaults, then the file given with -c FILE, then the flags, each
 * overriding the one before; a repeatable setting (listen, oper) given on
 * the command line replaces the file's list rather than adding to it.
 *
 * Every limit of the server is a named default here; `parleyd --help`
 * lists them all.
 */
#ifndef PARLEY_CONFIG_H
#define PARLEY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lib/log.h"
#include "event/net.h"

#define PARLEY_VERSION "0.1.0"

#define CONFIG_MAX_LISTEN 16
#define CONFIG_DEFAULT_PORT "3030"
#define CONFIG_DEFAULT_IRC_PORT "6667"
/* The plain text protocol (nc, scripts), beside telnet on the default port. */
#define CONFIG_DEFAULT_TEXT_PORT "3031"
/* With a certificate, the defaults add IRC over TLS and text over TLS. */
#define CONFIG_DEFAULT_IRCS_PORT "6697"
#define CONFIG_DEFAULT_TLS_PORT "3032"
/* Seconds a TLS handshake may take from the accept. */
#define CONFIG_TLS_HANDSHAKE_TIMEOUT 10
/* TLS handshakes in flight at once; more wait their turn, unread. */
#define CONFIG_TLS_HANDSHAKES 512
/* Seconds of silence before an IRC client is pinged (then as long again
 * to answer, and to finish registering). */
#define CONFIG_PING_INTERVAL 120
#define CONFIG_INFO_MAX 100 /* longest --server-info */
#define CONFIG_MAX_LINE 4096
#define CONFIG_HISTORY 20
#define CONFIG_HISTORY_KEEP 100
#define CONFIG_FLOOD_BURST 20
#define CONFIG_FLOOD_RATE 10
#define CONFIG_FLOOD_BYTES (1024 * 1024)
#define CONFIG_SENDQ_MAX (1024 * 1024)
#define CONFIG_RECVQ_MAX (16 * 1024)
#define CONFIG_OUT_MEM_MAX (256 * 1024 * 1024)
#define CONFIG_PROBE_WAIT 50
#define CONFIG_MAX_PER_IP 16
#define CONFIG_IPV4_PREFIX 32
#define CONFIG_IPV6_PREFIX 64
#define CONFIG_QUIET_ABOVE 64
#define CONFIG_TOPIC_MAX 300
#define CONFIG_MAX_ROOMS 10000
/*
 * History of all rooms: 64 MiB holds 100 typical lines (~100 bytes) in
 * each of about 5,000 rooms, or 100 lines of 4 KiB in 160; on a server
 * with 10,000 rooms of 100 long lines it is what stands between it and
 * some 4 GB. Rooms nobody is in give their history up first.
 */
#define CONFIG_HISTORY_MEM (64 * 1024 * 1024)
/*
 * New rooms: a person rarely creates more than a few, so 5 at once, then
 * one per 30 s; an address (a household or office behind NAT, or one
 * person reconnecting to get a fresh bucket) 20 at once, then one per 6 s.
 */
#define CONFIG_ROOM_BURST 5
#define CONFIG_ROOM_RATE 2 /* per minute */
#define CONFIG_ROOM_BURST_PER_IP 20
#define CONFIG_ROOM_RATE_PER_IP 10 /* per minute */
#define CONFIG_SHUTDOWN_TIMEOUT 3
#define CONFIG_KEEPALIVE 60
/* Bans (and pending invitations) one room keeps: IRC's MAXLIST. */
#define CONFIG_MAX_BANS 100
/* The longest path (--config, --motd) and operator spec (NAME:HASH). */
#define CONFIG_PATH_MAX 1024
#define CONFIG_OPER_MAX 192
#define CONFIG_MAX_OPERS 16 /* OPER_ACCOUNTS_MAX */
/* Server bans the config may hold, and the longest (MASK REASON). */
#define CONFIG_MAX_SERVER_BANS 256
#define CONFIG_SERVER_BAN_MAX 336
/* The biggest config file read, in bytes. */
#define CONFIG_FILE_MAX (1024 * 1024)
/* The history database, in the working directory ("none": memory only). */
#define CONFIG_DB "parley.db"
/* The web client's files, relative to the working directory like the
 * database; make install points the config at its installed copy. */
#define CONFIG_WEB_ROOT "web"
#define CONFIG_DEFAULT_HTTP_PORT "8080"
#define CONFIG_DEFAULT_HTTPS_PORT "8443"
#define CONFIG_MAX_ORIGINS 16
#define CONFIG_ORIGIN_MAX 256
/* Messages the database keeps per room (and per private conversation);
 * messages older than --history-days go too (0 = kept however old). */
#define CONFIG_HISTORY_MAX 100000
#define CONFIG_HISTORY_DAYS 0

struct config {
    struct net_url listen[CONFIG_MAX_LISTEN];
    size_t nlisten;
    bool listen_defaults; /* nlisten are the built-in defaults */
    size_t max_line;
    size_t history;
    size_t history_keep;
    unsigned flood_burst;
    unsigned flood_rate;
    size_t flood_bytes; /* 0: no limit */
    size_t sendq_max;
    size_t recvq_max;
    size_t out_mem_max;   /* 0: no limit */
    unsigned probe_wait;  /* milliseconds */
    size_t max_clients;   /* 0: from the open-file limit */
    size_t max_per_ip;    /* 0: no limit */
    unsigned ipv4_prefix; /* bits of an IPv4 address max_per_ip counts by */
    unsigned ipv6_prefix; /* bits of an IPv6 address max_per_ip counts by */
    bool limit_loopback;
    size_t quiet_above;
    size_t topic_max;
    size_t max_rooms;
    size_t history_mem;     /* bytes, 0: no limit */
    unsigned room_burst;    /* new rooms a client may create at once */
    unsigned room_rate;     /* then per minute, 0: no limit */
    unsigned room_burst_ip; /* the same for all clients of an address */
    unsigned room_rate_ip;
    unsigned shutdown_timeout; /* seconds */
    unsigned keepalive;        /* seconds of silence before probing; 0: off */
    enum log_level log_level;
    char server_name[64]; /* the IRC server's name (default: host name) */
    char server_info[CONFIG_INFO_MAX + 1]; /* its description (LINKS) */
    char motd_path[CONFIG_PATH_MAX];       /* the IRC MOTD file, "": none */
    unsigned ping_interval;                /* seconds; 0: no pings */
    size_t max_bans;                       /* bans and invitations per room */
    char opers[CONFIG_MAX_OPERS][CONFIG_OPER_MAX]; /* NAME:HASH, as given */
    size_t nopers;
    /* MASK [REASON], as given (core/sban.h's sban_parse_config reads it). */
    char server_bans[CONFIG_MAX_SERVER_BANS][CONFIG_SERVER_BAN_MAX];
    size_t nserver_bans;
    char config_path[CONFIG_PATH_MAX]; /* -c FILE, "": none */
    bool hash_password;             /* --hash-password: print a hash and exit */
    bool check_config;              /* --check-config: validate, print, exit */
    char db[CONFIG_PATH_MAX];       /* --db: the history database; "none" */
    bool db_sync_full;              /* --db-sync full */
    size_t history_max;             /* --history-max: per room; 0: no limit */
    unsigned history_days;          /* --history-days: 0: kept however old */
    char web_root[CONFIG_PATH_MAX]; /* --web-root: the web client's files */
    char web_origins[CONFIG_MAX_ORIGINS][CONFIG_ORIGIN_MAX]; /* --web-origin */
    size_t nweb_origins;            /* 0: the server's own origin only */
    char tls_cert[CONFIG_PATH_MAX]; /* PEM certificate chain; "": no TLS */
    char tls_key[CONFIG_PATH_MAX];  /* PEM private key ("": tls_cert's file) */
    unsigned tls_handshake_timeout; /* seconds */
    unsigned tls_handshakes;        /* in flight at once */
};

/* Returns true if the listen URL's scheme runs over TLS (tls, ircs). */
bool config_scheme_tls(const char *scheme);

/* What config_parse decided. */
enum config_result {
    CONFIG_RUN,   /* start the server */
    CONFIG_EXIT,  /* --help or --version was printed: exit 0 */
    CONFIG_ERROR, /* a message was printed to stderr: exit 2 */
};

/*
 * Fills cfg from the defaults, the file named by -c FILE (if any) and
 * argv, in that order. Prints --help or --version on stdout, and what is
 * wrong (prefixed "parleyd: ") on stderr.
 */
enum config_result config_parse(struct config *cfg, int argc, char **argv);

/*
 * Does what config_parse does, but writes what is wrong into err (cap
 * bytes) instead of printing it: "--NAME: why" for a flag, "FILE:LINE:
 * NAME: why" for the file. For a reload: argv is the one the server was
 * started with, and the file is read again.
 */
enum config_result config_read(struct config *cfg, int argc, char **argv,
                               char *err, size_t cap);

/*
 * Parses the config file text (len bytes, need not be NUL-terminated),
 * named name in messages, over cfg (which holds the defaults or earlier
 * settings). Returns true, or false with "NAME:LINE: why" in err (cap
 * bytes) for the first error: a line that is not KEY = VALUE, a section,
 * an unknown key, a bad value, a key given twice (repeatable ones aside),
 * a line over 199 bytes. Does not set the default listeners.
 */
bool config_parse_text(struct config *cfg, const char *name, const char *text,
                       size_t len, char *err, size_t cap);

/*
 * Prints every setting of cfg as the file would give it ("NAME = VALUE",
 * a repeatable setting once per value) on out: what --check-config shows.
 */
void config_print(const struct config *cfg, FILE *out);

/*
 * Takes a reloaded configuration next into the running one cur: every
 * setting that differs and may change live is copied, and logged
 * (event=reload key=NAME old=... new=...; operator hashes are not shown);
 * every other setting that differs keeps its running value and is logged
 * as a warning (event=reload-skipped key=NAME reason=restart). Returns the
 * number of settings changed.
 */
size_t config_update(struct config *cur, const struct config *next);

#endif
