/*
 * room_floor.c - the least work a chat relay (with rooms, or without) can do.
 *
 * The yardstick of bench/run.py, in two modes:
 *
 * With rooms (the many-rooms scenario), it speaks just enough of parley's
 * text protocol for parley-bench --proto text:
 *
 *   on connect     three lines "* ...";
 *   "/join ROOM"   puts the connection in ROOM, answers "* you joined #ROOM";
 *   any later line goes verbatim to every other member of the room.
 *
 * With --relay, it is the reference relay of the one-room scenarios
 * (parley-bench --proto relay): no login and no rooms; every connection is
 * in the one room from the start and says nothing on connect, and every
 * complete line it sends goes verbatim to every other connection.
 *
 * With --irc, it is the IRC yardstick of bench/irc.py: just enough IRC for
 * parley-bench --proto irc, and the trivial responder that shows what the
 * load generator itself can do:
 *
 *   NICK and USER  001 as soon as both came (no lookups, no checks);
 *   JOIN #ROOM     puts the connection in ROOM (its first JOIN only),
 *                  answers with the JOIN echo and 366 (end of NAMES); the
 *                  room is not told, and NAMES lists nobody;
 *   PING x         PONG x;
 *   PRIVMSG ...    the line, prefixed with ":NICK!NICK@127.0.0.1 ", goes to
 *                  every other member of the room: the lines of one read
 *                  are prefixed once and appended once per recipient;
 *   anything else  ignored.
 *
 * It does what parley does on the wire and nothing more: one epoll thread,
 * one recv per readable connection, the complete lines of one read appended
 * once per recipient, and one send per recipient per loop round. No nicks,
 * no formatting, no limits, no sanitizing, no logging; lines are not even
 * prefixed with the sender. Whatever a real server spends beyond this
 * relay's CPU per delivery is its own code; what this relay spends is the
 * kernel's floor on this machine.
 *
 * usage: room_floor [--relay | --irc] PORT
 *                            (listens on 127.0.0.1:PORT; 0 picks one and
 *                            prints "port N" on standard output)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum { READ_MAX = 64 * 1024, LINE_MAX_ = 4096, ROOM_NAME_MAX = 64,
       NICK_MAX = 32 };

static const char welcome[] = "* room_floor: the least work a room relay does\n"
                              "* send /join ROOM, then lines\n"
                              "* every line goes to the rest of the room\n";

struct client {
    int fd;
    int room;     /* index into rooms, -1 until /join */
    bool dirty;   /* on the flush list this round */
    bool dead;    /* closed, freed at the end of the round */
    bool epout;   /* waiting for EPOLLOUT */
    char *out;    /* pending output: out[off..len) */
    size_t off, len, cap;
    size_t plen;  /* bytes of an incomplete line kept in part */
    char part[LINE_MAX_];
    char nick[NICK_MAX]; /* --irc: the nick, empty until NICK */
    bool user;           /* --irc: USER came */
    bool welcomed;       /* --irc: 001 sent */
};

struct room {
    char name[ROOM_NAME_MAX];
    struct client **member;
    size_t n, cap;
};

static int ep;
static struct client **by_fd;     /* indexed by descriptor */
static struct client **dirty;     /* connections to flush this round */
static size_t ndirty;
static struct client **dead;      /* connections to free this round */
static size_t ndead;
static struct room *rooms;
static size_t nrooms, rooms_cap;
static char rbuf[LINE_MAX_ + READ_MAX];
static bool relay; /* --relay: everyone is in room 0 from the start */
static bool irc;   /* --irc: speak IRC */
static char *batch; /* --irc: the prefixed PRIVMSG lines of one read */
static size_t batch_len, batch_cap;

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    p = realloc(p, n * size);
    if (!p)
        abort();
    *cap = n;
    return p;
}

static void watch_out(struct client *c, bool on)
{
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0u),
                             .data.fd = c->fd};

    if (c->epout != on && epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->epout = on;
}

static void append(struct client *c, const char *s, size_t n)
{
    if (c->dead)
        return;
    if (c->off > 0 && c->len + n > c->cap) {
        memmove(c->out, c->out + c->off, c->len - c->off);
        c->len -= c->off;
        c->off = 0;
    }
    c->out = grow(c->out, &c->cap, c->len + n, 1);
    memcpy(c->out + c->len, s, n);
    c->len += n;
    if (!c->dirty) {
        c->dirty = true;
        dirty[ndirty++] = c;
    }
}

static void drop(struct client *c)
{
    if (c->dead)
        return;
    c->dead = true;
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    if (c->room >= 0) {
        struct room *r = &rooms[c->room];
        for (size_t i = 0; i < r->n; i++)
            if (r->member[i] == c) {
                r->member[i] = r->member[--r->n];
                break;
            }
    }
    dead[ndead++] = c;
}

static void flush(struct client *c)
{
    while (c->off < c->len) {
        ssize_t w = send(c->fd, c->out + c->off, c->len - c->off,
                         MSG_NOSIGNAL);
        if (w > 0) {
            c->off += (size_t)w;
        } else if (w < 0 && errno == EAGAIN) {
            watch_out(c, true);
            return;
        } else if (!(w < 0 && errno == EINTR)) {
            drop(c);
            return;
        }
    }
    c->off = c->len = 0;
    watch_out(c, false);
}

static int room_find(const char *name, size_t len)
{
    if (len == 0 || len >= ROOM_NAME_MAX)
        return -1;
    for (size_t i = 0; i < nrooms; i++)
        if (strlen(rooms[i].name) == len && memcmp(rooms[i].name, name, len) == 0)
            return (int)i;
    rooms = grow(rooms, &rooms_cap, nrooms + 1, sizeof *rooms);
    memset(&rooms[nrooms], 0, sizeof rooms[nrooms]);
    memcpy(rooms[nrooms].name, name, len);
    return (int)nrooms++;
}

/* Makes c a member of room r. */
static void enter(struct client *c, int r)
{
    struct room *room = &rooms[r];
    room->member = grow(room->member, &room->cap, room->n + 1,
                        sizeof *room->member);
    room->member[room->n++] = c;
    c->room = r;
}

/* The first line of a connection: "/join ROOM". */
static void join(struct client *c, const char *line, size_t len)
{
    char reply[ROOM_NAME_MAX + 32];
    int r = len > 6 && memcmp(line, "/join ", 6) == 0
                ? room_find(line + 6, len - 6)
                : -1;

    if (r < 0) {
        append(c, "! send /join ROOM first\n", 24);
        return;
    }
    enter(c, r);
    int n = snprintf(reply, sizeof reply, "* you joined #%s\n",
                     rooms[r].name);
    append(c, reply, (size_t)n);
}

/* --irc: appends the NUL-terminated strings to c's output. */
static void irc_send(struct client *c, const char *a, const char *b,
                     const char *d)
{
    append(c, a, strlen(a));
    append(c, b, strlen(b));
    append(c, d, strlen(d));
}

/* --irc: True when line (len bytes) starts with the command word w. */
static bool irc_is(const char *line, size_t len, const char *w)
{
    size_t n = strlen(w);
    return len >= n && strncasecmp(line, w, n) == 0 &&
           (len == n || line[n] == ' ');
}

/* --irc: the first JOIN of a registered client puts it in the room. */
static void irc_join(struct client *c, const char *room, size_t len)
{
    char name[ROOM_NAME_MAX + 1];
    int r;

    if (!c->welcomed || c->room >= 0 || (r = room_find(room, len)) < 0)
        return;
    enter(c, r);
    snprintf(name, sizeof name, "#%s", rooms[r].name);
    irc_send(c, ":", c->nick, "!floor@127.0.0.1 JOIN ");
    irc_send(c, name, "\r\n:floor 366 ", c->nick);
    irc_send(c, " ", name, " :End of /NAMES list.\r\n");
}

/* --irc: handles one line (without CR LF) that is not a PRIVMSG. */
static void irc_command(struct client *c, const char *line, size_t len)
{
    const char *arg = memchr(line, ' ', len);
    size_t alen = arg ? len - (size_t)(++arg - line) : 0;
    char name[ROOM_NAME_MAX + NICK_MAX];

    if (arg && alen && *arg == ':')
        arg++, alen--;
    if (irc_is(line, len, "PING")) {
        snprintf(name, sizeof name, "%.*s\r\n", (int)(alen < 64 ? alen : 64),
                 arg ? arg : "");
        irc_send(c, "PONG :", name, "");
    } else if (irc_is(line, len, "NICK") && alen && alen < NICK_MAX) {
        memcpy(c->nick, arg, alen);
        c->nick[alen] = '\0';
    } else if (irc_is(line, len, "USER"))
        c->user = true;
    else if (irc_is(line, len, "JOIN") && alen > 1 && *arg == '#')
        irc_join(c, arg + 1, alen - 1);
    if (!c->welcomed && c->user && c->nick[0]) {
        c->welcomed = true;
        irc_send(c, ":floor 001 ", c->nick, " :room_floor --irc\r\n");
    }
}

/* --irc: adds a PRIVMSG line, prefixed with its source, to the batch. */
static void irc_batch(struct client *c, const char *line, size_t len)
{
    size_t nlen = strlen(c->nick);

    batch = grow(batch, &batch_cap, batch_len + len + 2 * nlen + 32, 1);
    batch_len += (size_t)sprintf(batch + batch_len, ":%s!%s@127.0.0.1 ",
                                 c->nick, c->nick);
    memcpy(batch + batch_len, line, len);
    memcpy(batch + batch_len + len, "\r\n", 2);
    batch_len += len + 2;
}

/* --irc: handles the complete lines in p..end; returns where they end. */
static char *irc_lines(struct client *c, char *p, char *end)
{
    char *nl;

    batch_len = 0;
    while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
        size_t len = (size_t)(nl - p) - (nl > p && nl[-1] == '\r');

        if (irc_is(p, len, "PRIVMSG") && c->room >= 0)
            irc_batch(c, p, len);
        else
            irc_command(c, p, len);
        p = nl + 1;
    }
    if (batch_len) {
        struct room *r = &rooms[c->room];
        for (size_t i = 0; i < r->n; i++)
            if (r->member[i] != c)
                append(r->member[i], batch, batch_len);
    }
    return p;
}

static void on_readable(struct client *c)
{
    memcpy(rbuf, c->part, c->plen);
    ssize_t got = recv(c->fd, rbuf + c->plen, READ_MAX, 0);
    if (got <= 0) {
        if (got == 0 || (errno != EAGAIN && errno != EINTR))
            drop(c);
        return;
    }
    char *p = rbuf, *end = rbuf + c->plen + got, *nl;
    if (irc)
        p = irc_lines(c, p, end);
    while (!irc && c->room < 0 && (nl = memchr(p, '\n', (size_t)(end - p)))) {
        join(c, p, (size_t)(nl - p));
        p = nl + 1;
    }
    char *last = NULL;
    for (char *q = end; q > p; q--)
        if (q[-1] == '\n') {
            last = q;
            break;
        }
    if (last && c->room >= 0) {
        struct room *r = &rooms[c->room];
        for (size_t i = 0; i < r->n; i++)
            if (r->member[i] != c)
                append(r->member[i], p, (size_t)(last - p));
        p = last;
    }
    c->plen = (size_t)(end - p) <= LINE_MAX_ ? (size_t)(end - p) : 0;
    memmove(c->part, p, c->plen);
}

static void on_accept(int ls)
{
    int one = 1, fd;

    while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
        struct client *c = calloc(1, sizeof *c);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (!c)
            abort();
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        c->room = -1;
        by_fd[fd] = c;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        if (relay)
            enter(c, room_find("relay", 5));
        else if (!irc)
            append(c, welcome, sizeof welcome - 1);
    }
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t salen = sizeof sa;
    struct epoll_event ev = {.events = EPOLLIN}, evs[512];
    struct rlimit rl;
    int one = 1;

    relay = argc == 3 && strcmp(argv[1], "--relay") == 0;
    irc = argc == 3 && strcmp(argv[1], "--irc") == 0;
    if (argc != 2 + (relay || irc)) {
        fprintf(stderr, "usage: room_floor [--relay | --irc] PORT\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    by_fd = calloc(rl.rlim_cur, sizeof *by_fd);
    dirty = calloc(rl.rlim_cur, sizeof *dirty);
    dead = calloc(rl.rlim_cur, sizeof *dead);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sa.sin_port = htons((uint16_t)atoi(argv[argc - 1]));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (!by_fd || !dirty || !dead || ls < 0 ||
        bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 4096) < 0 ||
        getsockname(ls, (struct sockaddr *)&sa, &salen) < 0) {
        perror("room_floor");
        return 1;
    }
    printf("port %u\n", ntohs(sa.sin_port));
    fflush(stdout);
    ep = epoll_create1(0);
    ev.data.fd = ls;
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    for (;;) {
        int n = epoll_wait(ep, evs, 512, -1);
        for (int k = 0; k < n; k++) {
            struct client *c = by_fd[evs[k].data.fd];
            if (evs[k].data.fd == ls) {
                on_accept(ls);
                continue;
            }
            if (!c || c->dead)
                continue;
            if ((evs[k].events & EPOLLOUT) && !c->dirty) {
                c->dirty = true;
                dirty[ndirty++] = c;
            }
            if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                on_readable(c);
        }
        for (size_t i = 0; i < ndirty; i++) {
            dirty[i]->dirty = false;
            if (!dirty[i]->dead)
                flush(dirty[i]);
        }
        ndirty = 0;
        for (size_t i = 0; i < ndead; i++) {
            close(dead[i]->fd);
            by_fd[dead[i]->fd] = NULL;
            free(dead[i]->out);
            free(dead[i]);
        }
        ndead = 0;
    }
}
