/*
 * net: socket helpers. Listen URLs, listening sockets, accepted sockets.
 */
#include "event/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int net_parse_url(const char *s, struct net_url *url, char *err, size_t errsz)
{
    memset(url, 0, sizeof *url);
    const char *sep = strstr(s, "://");
    if (sep == NULL || sep == s || (size_t)(sep - s) >= sizeof url->scheme) {
        snprintf(err, errsz, "listen URL \"%s\": expected SCHEME://HOST:PORT",
                 s);
        return -EINVAL;
    }
    memcpy(url->scheme, s, (size_t)(sep - s));
    const char *host = sep + 3, *colon;
    size_t hostlen;
    if (*host == '[') {
        const char *close = strchr(host, ']');
        if (close == NULL || close[1] != ':') {
            snprintf(err, errsz, "listen URL \"%s\": expected [V6ADDR]:PORT",
                     s);
            return -EINVAL;
        }
        host++;
        hostlen = (size_t)(close - host);
        colon = close + 1;
    } else {
        colon = strrchr(host, ':');
        if (colon == NULL) {
            snprintf(err, errsz, "listen URL \"%s\": missing :PORT", s);
            return -EINVAL;
        }
        hostlen = (size_t)(colon - host);
    }
    const char *port = colon + 1;
    char *end;
    errno = 0;
    long p = strtol(port, &end, 10);
    if (*port == '\0' || *end != '\0' || errno || p < 0 || p > 65535 ||
        hostlen >= sizeof url->host) {
        snprintf(err, errsz, "listen URL \"%s\": bad host or port", s);
        return -EINVAL;
    }
    memcpy(url->host, host, hostlen);
    if (strcmp(url->host, "*") == 0)
        url->host[0] = '\0';
    snprintf(url->port, sizeof url->port, "%ld", p);
    return 0;
}

/* Creates, configures, binds and listens on one address. */
static int net_listen_one(const struct addrinfo *ai, int backlog, char *err,
                          size_t errsz)
{
    int fd =
        socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
               ai->ai_protocol);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errsz, "socket: %s", strerror(e));
        return -e;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
        int e = errno;
        char addr[NET_ADDR_MAX];
        net_format_addr(ai->ai_addr, addr, sizeof addr);
        snprintf(err, errsz, "listen on %s: %s", addr, strerror(e));
        close(fd);
        return -e;
    }
    return fd;
}

int net_listen(const char *host, const char *port, int family, int backlog,
               char *err, size_t errsz)
{
    struct addrinfo hints = {
        .ai_family = family,
        .ai_socktype = SOCK_STREAM,
        .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
    };
    struct addrinfo *res;
    int rc = getaddrinfo(*host ? host : NULL, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errsz, "address \"%s\": %s", host, gai_strerror(rc));
        return -EINVAL;
    }
    int fd = net_listen_one(res, backlog, err, errsz);
    freeaddrinfo(res);
    return fd;
}

void net_format_addr(const struct sockaddr *sa, char *out, size_t outsz)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(out, outsz, "%s:%u", host, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(out, outsz, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else {
        snprintf(out, outsz, "unknown");
    }
}

void net_addr_host(const char *addr, char *out, size_t outsz)
{
    const char *colon = strrchr(addr, ':');
    size_t n = colon ? (size_t)(colon - addr) : strlen(addr);
    if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
        addr++;
        n -= 2;
    }
    if (n >= outsz)
        n = outsz - 1;
    memcpy(out, addr, n);
    out[n] = '\0';
}

void net_local_addr(int fd, char *out, size_t outsz)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        snprintf(out, outsz, "unknown");
        return;
    }
    net_format_addr((struct sockaddr *)&ss, out, outsz);
}

bool net_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a =
            &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return true;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return false;
}

/* Keeps the first bits of the n-byte address a and zeroes the rest. */
static void net_mask(uint8_t *a, size_t n, unsigned bits)
{
    for (size_t i = 0; i < n; i++) {
        unsigned keep = bits > 8 * i ? bits - 8 * (unsigned)i : 0;
        if (keep < 8)
            a[i] &= (uint8_t)(0xff00u >> keep);
    }
}

void net_host_key(const char *host, unsigned v4_bits, unsigned v6_bits,
                  char *out, size_t outsz)
{
    struct in6_addr a6;
    uint8_t a[16];
    int family = AF_INET6;
    unsigned max = 128, bits = v6_bits;
    if (inet_pton(AF_INET6, host, &a6) == 1) {
        memcpy(a, &a6, sizeof a);
        if (IN6_IS_ADDR_V4MAPPED(&a6)) {
            /* A v4 client of a dual-stack socket counts as that address. */
            memmove(a, a + 12, 4);
            family = AF_INET;
        }
    } else if (inet_pton(AF_INET, host, a) == 1) {
        family = AF_INET;
    } else {
        snprintf(out, outsz, "%s", host);
        return;
    }
    if (family == AF_INET) {
        max = 32;
        bits = v4_bits;
    }
    if (bits > max)
        bits = max;
    net_mask(a, max / 8, bits);
    char text[INET6_ADDRSTRLEN];
    inet_ntop(family, a, text, sizeof text);
    if (bits < max)
        snprintf(out, outsz, "%s/%u", text, bits);
    else
        snprintf(out, outsz, "%s", text);
}

void net_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void net_buffers(int fd, int sndbuf, int rcvbuf)
{
    if (sndbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
}

int net_socket_error(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return errno;
    return err ? err : ECONNRESET;
}

void net_keepalive(int fd, unsigned idle)
{
    if (idle == 0)
        return;
    int on = 1, keepidle = (int)idle, count = NET_KEEPALIVE_PROBES;
    int interval = (keepidle + count - 1) / count;
    /* Unacknowledged data gets as long as a silent peer: the same bound. */
    unsigned user_ms = (idle + (unsigned)(interval * count)) * 1000u;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &keepidle, sizeof keepidle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_ms, sizeof user_ms);
}
