/*
 * pb.h - shared declarations of parley-bench, the load generator.
 *
 * parley-bench is one program built from every .c file directly in bench/:
 *
 *     cc -std=c11 -D_GNU_SOURCE -O2 bench/pb_*.c -o build/parley-bench -lm
 *
 * Modules:
 *   pb_main.c   command line, configuration checks, exit status
 *   pb_loop.c   the epoll loop and the phases of a run
 *   pb_conn.c   sockets: source addresses, connect, buffered reads, writes
 *   pb_proto.c  the wire protocols (text, resp, relay) and their table
 *   pb_irc.c    the IRC protocol (registration, join, PING, tags)
 *   pb_msg.c    message bodies, senders (paced or windowed), deliveries
 *   pb_stats.c  latency histogram, /proc readings, the final report
 *
 * See pb_main.c for what the tool measures and how to run it.
 */
#ifndef PB_H
#define PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Fixed tail of every message body: "pb", 4 hex sender, 8 hex seq, 12 hex ts. */
#define PB_TAIL_LEN 26
#define PB_SIZE_DEFAULT 32
#define PB_SIZE_MAX 1024
/*
 * Largest body over IRC: a relayed line is at most 512 bytes with CR LF;
 * ":pb65535!~pb65535@", a host of up to 63 bytes, " PRIVMSG #", a room of
 * up to 47, " :" and CR LF take up to 142 of them.
 */
#define PB_IRC_BODY_MAX 360
#define PB_STR_(x) #x
#define PB_STR(x) PB_STR_(x)
/* Longest line kept across reads; longer ones are counted and skipped. */
#define PB_LINE_MAX 4096
/* One recv() takes at most this many bytes. */
#define PB_READ_SIZE (256 * 1024)
/* Most senders: the sender id has 4 hex digits. */
#define PB_SENDERS_MAX 65535
#define PB_HIST_BUCKETS 2048

/* Protocols, in the order of the table in pb_proto.c. */
enum pb_proto_id {
    PB_PROTO_TEXT,
    PB_PROTO_RESP,
    PB_PROTO_RELAY,
    PB_PROTO_IRC,
    PB_PROTO_TELNET,
};

/* Where a connection is in its life. */
enum pb_state {
    PB_ST_NEW,        /* not yet connecting */
    PB_ST_CONNECTING, /* non-blocking connect() in progress */
    PB_ST_HANDSHAKE,  /* connected, logging in or joining */
    PB_ST_JOINED,     /* in its room (or ready, for a publisher) */
    PB_ST_CLOSED      /* closed by the peer, by an error, or by us */
};

/* What a connection is for. */
enum pb_role {
    PB_ROLE_MEMBER,   /* a counted client: receives, maybe sends */
    PB_ROLE_SLOW,     /* joins, then never reads until the run ends */
    PB_ROLE_PUBLISHER /* resp only: the PUBLISH side of a sender */
};

/* Run phases, in order. */
enum pb_phase {
    PB_PH_CONNECT,
    PB_PH_WARMUP,
    PB_PH_MEASURE,
    PB_PH_DRAIN,
    PB_PH_SLOWCHECK,
    PB_PH_DONE
};

/* One socket of the load generator. */
struct pb_conn {
    int fd;
    uint8_t state;   /* enum pb_state */
    uint8_t role;    /* enum pb_role */
    uint8_t hs;      /* handshake progress, meaning is protocol specific */
    uint8_t epout;   /* EPOLLOUT is registered */
    uint8_t reading; /* EPOLLIN is registered */
    uint8_t cut;     /* got EOF or reset (slow readers: cut off) */
    uint8_t err;     /* closed by an error during the run */
    uint8_t pending; /* counted in r->inflight (connect not finished) */
    uint32_t room;
    int32_t sender;   /* sender whose messages this conn writes, or -1 */
    uint32_t *expect; /* next expected seq per sender slot of the room */
    char *part;       /* incomplete line carried to the next read */
    uint32_t plen;
    char *out; /* bytes not yet accepted by the kernel */
    size_t olen, ooff, ocap;
    uint64_t rx_bytes;
    uint64_t t_quiet; /* slow check: last time bytes arrived */
    void *ssl;        /* --tls: its OpenSSL session (SSL *), else NULL */
    uint8_t tls_hs;   /* --tls: the TLS handshake is under way */
    uint8_t ws_hs;    /* --ws: waiting for the 101 answer */
    uint8_t ws_up;    /* --ws: lines travel in WebSocket frames */
    char *wpart;      /* --ws: a frame cut by the network, raw */
    uint32_t wlen;
};

/* One room. */
struct pb_room {
    char name[48];
    uint32_t members;  /* member (not slow) connections that joined */
    uint32_t nsenders; /* senders whose messages go to this room */
    uint32_t slow;     /* slow readers that joined */
};

/* One sender: a stream of numbered messages to one room. */
struct pb_sender {
    uint32_t id;
    uint32_t room;
    uint32_t slot;       /* index among the senders of its room */
    uint32_t member;     /* index of its member connection */
    struct pb_conn *out; /* connection that writes (publisher for resp) */
    uint32_t recipients; /* deliveries each message must reach */
    uint64_t seq;        /* next sequence number to send */
    uint64_t base;       /* oldest message not yet fully delivered */
    uint32_t *rem;       /* window ring: deliveries still missing per seq */
    uint32_t mask;
    uint64_t due;   /* paced: when the next message is due */
    bool queued;    /* on the ready list */
    uint64_t stall; /* paced: messages skipped while the socket was full */
};

/* Command-line configuration. */
struct pb_opts {
    int proto;
    const char *host;
    int port;
    uint32_t clients, rooms, senders, slow;
    double rate;     /* msgs/s per sender, 0 when windowed */
    uint32_t window; /* messages in flight per sender, 0 when paced */
    uint32_t size;   /* body bytes */
    double warmup, duration, drain, timeout, join_timeout, slow_wait;
    double settle; /* --allow-partial: seconds without a join that end it */
    int server_pid;
    uint32_t connect_window; /* handshakes in progress at most */
    double connect_rate;     /* connections started per second, 0 = any */
    uint32_t src_addrs;      /* source addresses, 0 = as needed */
    uint32_t per_addr;       /* connections per source address */
    int slow_rcvbuf;
    const char *room_prefix;
    const char *label;
    bool allow_partial;
    bool register_only;   /* irc: joined at 001, no channel, no senders */
    const char *irc_caps; /* irc: capabilities to request, or NULL */
    bool ws;              /* irc over WebSocket (pb_ws.c) */
    bool quiet;
    bool progress;
};

/* Latency histogram, log-linear with 32 sub-buckets per power of two. */
struct pb_hist {
    uint64_t count;
    uint64_t max;
    uint64_t bucket[PB_HIST_BUCKETS];
};

/* Readings of the server process from /proc. */
struct pb_proc {
    long rss_kb;  /* VmRSS, -1 when unknown */
    long slab_kb; /* Slab of the whole machine (kernel objects), -1 if unknown */
    double busy_s; /* CPU time of the whole machine that was not idle */
    double cpu_s; /* utime + stime, -1 when unknown */
};

/* Counters and state of one run. */
struct pb_run {
    struct pb_opts o;
    const struct pb_proto *proto;
    int ep;
    struct pb_conn *conns; /* members, then slow readers, then publishers */
    uint32_t nconns;
    struct pb_room *rooms;
    struct pb_sender *senders;
    uint32_t *ready; /* senders whose window opened */
    uint32_t nready;
    int phase;
    uint64_t t0, t_phase, t_joined, t_measure, t_measure_end, deadline;
    uint64_t t_progress;
    uint64_t t_settle; /* last time a connection joined or was refused */
    uint32_t next_connect, inflight, joined, joined_members, closed;
    uint32_t refused, not_started;
    uint64_t last_probe;
    char *rbuf;
    char *wbuf;
    /* Message accounting over the whole run. */
    uint64_t sent, expected, delivered, ooo, dup, gaps, misrouted;
    uint64_t other_lines, long_lines, pub_replies, pub_mismatch;
    uint64_t slow_bytes;
    /* Snapshots at the start and end of the measuring window. */
    uint64_t m_sent0, m_deliv0, m_sent1, m_deliv1;
    struct pb_hist hist;
    struct pb_proc srv_before, srv_joined, srv_m0, srv_m1, srv_end;
    double lg_cpu0, lg_cpu1;
    double lg_cpu_t0, lg_cpu_joined; /* at the first connect, when joined */
    bool failed;
    bool timed_out;
    char why[256];
    char note[160]; /* first reason a connection was refused */
};

/* A wire protocol: how to join, how to send, what to make of other lines. */
struct pb_proto {
    const char *name;
    /* Sends what a fresh connection must send; may mark it joined. */
    void (*on_connect)(struct pb_run *r, struct pb_conn *c);
    /* Handles a line that is not a benchmark message (without CR LF). */
    void (*on_line)(struct pb_run *r, struct pb_conn *c, const char *line,
                    size_t len);
    /* Writes one message with BODY for ROOM into dst; returns its length. */
    size_t (*format)(char *dst, const struct pb_room *room, const char *body,
                     size_t blen);
    bool self_delivery; /* the sender's own connection gets its messages */
    bool separate_pub;  /* senders publish through an extra connection */
    bool barrier;       /* joining is confirmed by a relayed probe line */
};

/* pb_proto.c */
const struct pb_proto *pb_proto_get(int id);
int pb_proto_parse(const char *name);
void pb_proto_probe(struct pb_run *r, uint64_t now);

/* pb_irc.c */
void pb_irc_connect(struct pb_run *r, struct pb_conn *c);
void pb_irc_line(struct pb_run *r, struct pb_conn *c, const char *line,
                 size_t len);
size_t pb_irc_format(char *dst, const struct pb_room *room, const char *body,
                     size_t blen);

/* pb_conn.c */
uint64_t pb_now(void);
int pb_conn_start(struct pb_run *r, struct pb_conn *c, uint32_t index);
void pb_conn_event(struct pb_run *r, struct pb_conn *c, uint32_t events);
void pb_conn_send(struct pb_run *r, struct pb_conn *c, const char *data,
                  size_t len);
void pb_conn_close(struct pb_run *r, struct pb_conn *c, bool error);
void pb_conn_set_reading(struct pb_run *r, struct pb_conn *c, bool on);
void pb_conn_joined(struct pb_run *r, struct pb_conn *c);
void pb_conn_reset_all(struct pb_run *r);
uint32_t pb_conn_src_count(const struct pb_run *r);

/* pb_tls.c: --tls; the pb_io_ calls return what recv and send would. */
bool pb_tls_init(void);
bool pb_tls_on(void);
void pb_tls_start(struct pb_conn *c);
int pb_tls_handshake(struct pb_conn *c, bool *want_write);
ssize_t pb_io_recv(struct pb_conn *c, void *buf, size_t n);
ssize_t pb_io_send(struct pb_conn *c, const void *buf, size_t n);
bool pb_io_pending(const struct pb_conn *c);
void pb_tls_free(struct pb_conn *c);

/* pb_ws.c: --ws, IRC over WebSocket (GET /irc, text.ircv3.net). */
void pb_ws_init(const char *host, int port);
bool pb_ws_on(void);
void pb_ws_start(struct pb_run *r, struct pb_conn *c);
size_t pb_ws_frame(char *dst, const char *data, size_t len);
ssize_t pb_ws_recv(struct pb_run *r, struct pb_conn *c, char *buf, size_t cap);
void pb_ws_free(struct pb_conn *c);

/* pb_msg.c */
int pb_msg_setup(struct pb_run *r);
size_t pb_msg_lines(struct pb_run *r, struct pb_conn *c, const char *buf,
                    size_t len, uint64_t now);
void pb_msg_flush_ready(struct pb_run *r);
void pb_msg_paced(struct pb_run *r, uint64_t now);
uint64_t pb_msg_next_due(const struct pb_run *r);
void pb_msg_start(struct pb_run *r, uint64_t now);
void pb_msg_free(struct pb_run *r);

/* pb_loop.c */
int pb_loop_run(struct pb_run *r);
void pb_fail(struct pb_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void pb_note(struct pb_run *r, const char *what, const char *line, size_t len);

/* pb_stats.c */
void pb_hist_add(struct pb_hist *h, uint64_t ns);
uint64_t pb_hist_quantile(const struct pb_hist *h, double q);
void pb_proc_read(int pid, struct pb_proc *p);
double pb_self_cpu(void);
void pb_report(const struct pb_run *r);
bool pb_run_ok(const struct pb_run *r);

#endif
