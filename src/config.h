/*
 * config: the command line, turned into one struct of settings.
 *
 * Every limit of the server is a named default here and a flag to change
 * it; `parleyd --help` lists them all.
 */
#ifndef PARLEY_CONFIG_H
#define PARLEY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/log.h"
#include "event/net.h"

#define PARLEY_VERSION "0.1.0"

#define CONFIG_MAX_LISTEN 16
#define CONFIG_DEFAULT_PORT "3030"
#define CONFIG_DEFAULT_IRC_PORT "6667"
/* With a certificate, the defaults add IRC over TLS and text over TLS. */
#define CONFIG_DEFAULT_IRCS_PORT "6697"
#define CONFIG_DEFAULT_TLS_PORT "3031"
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

struct config {
    struct net_url listen[CONFIG_MAX_LISTEN];
    size_t nlisten;
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
    char server_name[64];    /* the IRC server's name (default: host name) */
    const char *server_info; /* its description (LINKS); borrowed from argv */
    const char *motd_path;   /* the IRC MOTD file, NULL: none */
    unsigned ping_interval;  /* seconds; 0: no pings */
    size_t max_bans;         /* bans and invitations per room */
    const char *opers[16]; /* --oper NAME:HASH, as given (OPER_ACCOUNTS_MAX) */
    size_t nopers;
    bool hash_password;   /* --hash-password: print a hash and exit */
    const char *tls_cert; /* PEM certificate chain; NULL: no TLS */
    const char *tls_key;  /* PEM private key (default: tls_cert's file) */
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

/* Fills cfg from the defaults and argv. */
enum config_result config_parse(struct config *cfg, int argc, char **argv);

#endif
