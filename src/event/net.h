/*
 * net: socket helpers. Listen URLs, listening sockets, accepted sockets.
 *
 * These functions never log; on failure they return a negative errno and
 * describe the problem in the caller's err buffer.
 */
#ifndef PARLEY_NET_H
#define PARLEY_NET_H

#include <stdbool.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

/* Longest printable address: "[" v6 "]:" port. */
#define NET_ADDR_MAX 64

/* Longest per-address key (net_host_key): a v6 address and "/128". */
#define NET_KEY_MAX (INET6_ADDRSTRLEN + 4)

/* Keepalive probes left unanswered before the kernel drops a peer. */
#define NET_KEEPALIVE_PROBES 6

/* A parsed listen URL: scheme://host:port. */
struct net_url {
    char scheme[16]; /* "text" (later "irc", ...) */
    char host[NET_ADDR_MAX];
    char port[8];
};

/*
 * Parses "scheme://HOST:PORT" or "scheme://[V6]:PORT" into url. Returns 0,
 * or -EINVAL with a message in err.
 */
int net_parse_url(const char *s, struct net_url *url, char *err, size_t errsz);

/*
 * Binds and listens on host:port (numeric host, or "" for any address),
 * with the given address family (AF_UNSPEC: as the host says). Returns the
 * non-blocking descriptor, or a negative errno with a message in err.
 */
int net_listen(const char *host, const char *port, int family, int backlog,
               char *err, size_t errsz);

/* Writes fd's local address as "host:port" or "[v6]:port" into out. */
void net_local_addr(int fd, char *out, size_t outsz);

/* Writes a socket address as "host:port" or "[v6]:port" into out. */
void net_format_addr(const struct sockaddr *sa, char *out, size_t outsz);

/*
 * Writes the host part of a printable address ("host:port" or
 * "[v6]:port", as net_format_addr makes them) into out, without brackets.
 */
void net_addr_host(const char *addr, char *out, size_t outsz);

/* Returns true if sa is a loopback address (127/8, ::1, or v4-mapped). */
bool net_is_loopback(const struct sockaddr *sa);

/*
 * Writes the key that connections from host are counted under into out:
 * the address with only its first v4_bits (IPv4, and IPv4-mapped IPv6) or
 * v6_bits (IPv6) kept, in canonical text, followed by "/BITS" when bits were
 * dropped: "192.0.2.7", "2001:db8:0:1::/64". host is a numeric address as
 * net_addr_host writes it; one that does not parse is copied unchanged.
 */
void net_host_key(const char *host, unsigned v4_bits, unsigned v6_bits,
                  char *out, size_t outsz);

/* Sets TCP_NODELAY; we coalesce output ourselves. */
void net_nodelay(int fd);

/*
 * Returns the pending error of socket fd (ECONNRESET if it reports none,
 * as after a hang-up).
 */
int net_socket_error(int fd);

/*
 * Caps the kernel's send and receive buffers of fd (bytes as requested;
 * the kernel doubles them for its bookkeeping); 0 leaves one as it is.
 * Set on a listening socket, accepted sockets inherit them.
 */
void net_buffers(int fd, int sndbuf, int rcvbuf);

/*
 * Makes the kernel end a connection whose peer vanished without a word
 * (unplugged, crashed, moved away), so it does not hold its place forever;
 * a silent but alive peer answers the probes and stays. After idle seconds
 * without traffic the kernel probes, every idle / NET_KEEPALIVE_PROBES
 * seconds (rounded up), and ends the connection after NET_KEEPALIVE_PROBES
 * unanswered probes; sent data left unacknowledged for as long, idle plus
 * the probes (TCP_USER_TIMEOUT), ends it too. Either way reads and writes
 * then fail with ETIMEDOUT (or the last ICMP error heard, such as
 * EHOSTUNREACH). idle 0 leaves the socket as it is; idle is at most 32767.
 * Best effort: a failed setsockopt is ignored.
 */
void net_keepalive(int fd, unsigned idle);

#endif
