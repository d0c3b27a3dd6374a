/*
 * conn: one client connection, seen as bytes.
 *
 * A connection reads big chunks, splits them into lines (frame.h), paces
 * them through a flood budget, and hands each line to its protocol. Output
 * is a queue of references to blocks: small writes are copied into the
 * connection's own block, a big message to many people is one read-only
 * block shared by all of them. Every connection with pending output is
 * flushed once per loop iteration, just before the loop sleeps, so many
 * messages leave in one write. A connection is never freed inside a
 * callback chain: closing marks it, and it is reaped before sleeping.
 *
 * Fairness is the module's business: the lines of one client are charged
 * to its flood budget by count and by the output they cause (bytes times
 * audience), one loop round handles a bounded amount of output-causing
 * input before it comes back to everyone else, and output memory is bounded
 * per connection (--sendq-max, counting what the kernel holds) and in total.
 */
#ifndef PARLEY_CONN_H
#define PARLEY_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct ev_loop;

/* Why a connection ended; logged as reason=NAME. */
enum conn_reason {
    CONN_QUIT,     /* the user asked to leave */
    CONN_KILLED,   /* a server operator disconnected it */
    CONN_EOF,      /* the peer closed the connection */
    CONN_ERROR,    /* a read or write failed, or the socket was reset */
    CONN_SENDQ,    /* its output queue passed the limit */
    CONN_SHUTDOWN, /* the server is stopping */
    CONN_HTTP,     /* it spoke HTTP to a chat port */
    CONN_TLS,      /* it started a TLS handshake on a plain port */
    CONN_MEMORY,   /* the server's output memory ran out; it held the most */
    CONN_TIMEOUT,  /* the peer stopped answering (TCP keepalive, timeout) */
    CONN_FLOOD,    /* it sent more than --recvq-max ahead of its budget */
    CONN_TLS_FAIL, /* its TLS handshake failed (reason=handshake) */
};

/* What a protocol does with a connection's events. */
struct conn_proto {
    const char *name;
    /*
     * true: the stream is framed as plain lines (IRC); false: telnet's
     * IAC commands are taken out of it and answered (see frame.h).
     */
    bool raw;
    /* true: it speaks HTTP, so a request line is not a probe to close. */
    bool http;
    /* Its longest line, in bytes; 0: the configured --max-line. */
    size_t max_line;
    /*
     * Called once, when the connection has shown it is not an HTTP or TLS
     * probe: at its first line, or when it stayed silent for the probe
     * time. May write the welcome. A connection that ends before it was
     * opened is never seen by its protocol (close is not called either).
     */
    void (*open)(struct conn *c);
    /*
     * Optional: turns the n bytes of one read at p (which it may rewrite)
     * into the bytes the framer gets, for a protocol that edits lines
     * itself (a telnet terminal in character mode). Returns their length
     * and points *out at them (valid until the next call); may close the
     * connection. Called only once the connection is open; what it hands
     * on goes through the framer, the line limit and the flood budget
     * like any input.
     */
    size_t (*filter)(struct conn *c, char *p, size_t n, char **out);
    /* Called per complete line; the bytes die when it returns. */
    void (*line)(struct conn *c, const char *line, size_t len);
    /* Called when a line passes the limit (it is then discarded). */
    void (*too_long)(struct conn *c, size_t max_line);
    /*
     * Called after the lines of one read were handed over (possibly none),
     * so a protocol may act on what it gathered from them at once.
     */
    void (*input_done)(struct conn *c);
    /*
     * Called once when the connection ends, before the loop next sleeps and
     * never inside another callback; after it, the connection only flushes.
     */
    void (*close)(struct conn *c, enum conn_reason reason);
    /* Returns the name to log for the connection (its nick), or NULL. */
    const char *(*label)(const struct conn *c);
    /*
     * Formats a line from the server itself (server full, shutting down)
     * the protocol's way into out (size bytes, CRLF included); error says
     * it is a refusal. Returns its length.
     */
    size_t (*server_line)(bool error, const char *text, char *out, size_t size);
};

/* Limits shared by all connections. */
struct conn_limits {
    size_t max_line;      /* longest line, in bytes */
    size_t sendq_max;     /* most output bytes held for one connection */
    size_t recvq_max;     /* most input held for one waiting for its budget */
    size_t out_mem_max;   /* most output memory for all connections; 0: none */
    unsigned flood_burst; /* lines allowed at once */
    unsigned flood_rate;  /* lines per second after that; 0 = no limit */
    size_t flood_bytes;   /* output bytes per second a client's lines may
                             cause, to everyone; 0 = no limit */
    unsigned probe_ms;    /* how long a silent new connection waits for the
                             protocol's open (0: at once) */
    unsigned linger_ms;   /* how long a closing socket waits for the peer */
    unsigned v4_bits;     /* prefix an IPv4 peer's origin is counted by */
    unsigned v6_bits;     /* prefix an IPv6 peer's origin is counted by */
    unsigned tls_handshake_ms; /* a TLS handshake's deadline, from accept */
    unsigned tls_handshakes;   /* TLS handshakes in flight at once; more
                                  wait their turn, unread */
};

/* A read-only block of output, shared by the connections it is queued to
 * (outq.h makes them). */
struct outq_block;

/*
 * Messages at least this long are shared as one block among their
 * recipients rather than copied to each (bench/fanout.py measures both:
 * build with -DCONN_SHARE_MIN=SIZE_MAX to copy always).
 */
#ifndef CONN_SHARE_MIN
#define CONN_SHARE_MIN 1024
#endif

/*
 * Sets up the module: the loop it runs on, the limits, and a function called
 * for each connection just before it is freed (for connection accounting).
 */
void conn_init(struct ev_loop *loop, const struct conn_limits *limits,
               void (*on_free)(const struct conn *c));

/*
 * Replaces the limits (a reload). Flood, queue and memory limits apply
 * from the next time they are checked; max_line, the probe wait and the
 * prefixes apply to connections made from now on.
 */
void conn_set_limits(const struct conn_limits *limits);

/* Returns the module's limits. */
const struct conn_limits *conn_get_limits(void);

/*
 * Takes ownership of the connected, non-blocking socket fd, registers it
 * with the loop and calls proto->open. addr is the peer's printable address
 * (copied). Returns the new connection.
 */
struct conn *conn_new(int fd, const char *addr, const struct conn_proto *proto);

struct tls_server;

/*
 * Like conn_new, for a TLS listener: the connection first goes through its
 * TLS handshake with ts (borrowed; it must outlive the connection), within
 * the handshake deadline and among a bounded number of handshakes in
 * flight; only then does it wait for its first words as conn_new says.
 * Its protocol never learns it runs over TLS.
 */
struct conn *conn_new_tls(int fd, const char *addr,
                          const struct conn_proto *proto,
                          struct tls_server *ts);

/*
 * Returns the SHA-256 fingerprint (64 lower-case hex digits) of the client
 * certificate the peer showed, or NULL (none, or not TLS). Lives as long
 * as the connection.
 */
const char *conn_certfp(const struct conn *c);

/*
 * From a protocol's line handler, once its answer to a WebSocket upgrade
 * is queued (and its own data freed): c becomes a WebSocket stream spoken
 * by proto, whose open hook runs at once. What was queued goes out as it
 * is; from then on input is decoded from frames into lines ("\r\n"
 * after each message) and output lines leave as one message each, in
 * binary frames if binary, else text. proto never learns it runs over
 * WebSocket; the limits of conn apply to it as to any connection.
 */
void conn_upgrade_ws(struct conn *c, const struct conn_proto *proto,
                     bool binary);

/* Returns true if c speaks WebSocket (conn_upgrade_ws). */
bool conn_is_ws(const struct conn *c);

/* Returns true if c runs over TLS. */
bool conn_is_tls(const struct conn *c);

/* Returns the connection's unique id (1, 2, ... for the process's life). */
uint64_t conn_id(const struct conn *c);

/* Returns the protocol the connection speaks. */
const struct conn_proto *conn_proto_of(const struct conn *c);

/* Returns the peer's printable address, e.g. "127.0.0.1:5000". */
const char *conn_addr(const struct conn *c);

/* Returns the peer's address without the port. */
const char *conn_host(const struct conn *c);

/*
 * Returns the key the peer's address is counted under for per-address
 * limits: the address itself, or its network by the configured prefix
 * ("2001:db8:1:2::/64"). Lives as long as the connection.
 */
const char *conn_origin(const struct conn *c);

/* Gets and sets the protocol's per-connection data. */
void *conn_data(const struct conn *c);
void conn_set_data(struct conn *c, void *data);

/*
 * Queues n bytes of output (copied), sent before the loop next sleeps.
 * When the kernel refuses more and the bytes queued here and in the kernel
 * pass the sendq limit, the connection is closed with CONN_SENDQ,
 * asynchronously; output to a closing connection is dropped.
 */
void conn_write(struct conn *c, const void *p, size_t n);

/* Like conn_write, but queues a reference to b's bytes instead of a copy. */
void conn_write_block(struct conn *c, struct outq_block *b);

/*
 * From a close hook: the last line c is told (CRLF included). A connection
 * closed to be flushed (conn_cut_off, conn_close with flush) gets it at the
 * end of its queue, so it arrives even when the kernel's buffer is full
 * for now; any other gets it as conn_try_send gives it, if at all.
 */
void conn_last_words(struct conn *c, const char *text);

/*
 * Tries once, without waiting, to send text straight to the socket, after a
 * line end if the connection stopped in the middle of a line. For last
 * words to a connection whose queue is being dropped.
 */
void conn_try_send(struct conn *c, const char *text);

/*
 * Ends the connection: it stops reading at once; before the loop sleeps the
 * protocol's close hook runs and, if flush is true, queued output is then
 * still sent (bounded by the linger time) before the socket closes. A second
 * call is a no-op.
 */
void conn_close(struct conn *c, enum conn_reason reason, bool flush);

/*
 * Ends the connection like conn_close, throwing its queued output away, but
 * without resetting it: the close hook's last words (conn_try_send) go out,
 * then the socket lingers, discarding input, until the peer closes or the
 * linger time ends. Closing a socket that holds unread input resets it, and
 * the peer's kernel then throws away what it had not yet read, the last
 * words included: a client cut off for sending too much would never learn
 * why.
 */
void conn_cut_off(struct conn *c, enum conn_reason reason);

/* Returns the reason's name as logged. */
const char *conn_reason_name(enum conn_reason reason);

/*
 * Queues text even past the sendq limit (for the last words of a closing
 * server), then closes with flush.
 */
void conn_close_with(struct conn *c, enum conn_reason reason, const char *text);

/*
 * For a line whose handling is slow by design (an operator's password
 * check), called by its handler: the time it takes is not charged to c's
 * flood budget, which is charged cost_ms instead; and c's next line waits
 * until hold_ms from now, whatever the flood limits (0: no wait).
 */
void conn_slow_line(struct conn *c, unsigned cost_ms, unsigned hold_ms);

/*
 * For a line whose answer comes later, from elsewhere (an operator's
 * password check on the checker thread), called by its handler: c handles
 * no further line until conn_release_input, so that its answers keep the
 * order of its lines. Meanwhile c is paused as for its flood budget: its
 * input is still read and queued (up to --recvq-max), and its FIN seen;
 * a peer that ends its input meanwhile is closed only after the release,
 * so that the held line's answer still reaches it.
 */
void conn_hold_input(struct conn *c);

/*
 * Ends conn_hold_input: c handles its queued lines again, its next one
 * not before hold_ms from now (0: at once, as its budget allows). May
 * handle lines before it returns, so the caller sends the held line's
 * answer first.
 */
void conn_release_input(struct conn *c, unsigned hold_ms);

/*
 * Returns the open connection whose conn_id is id, or NULL if it has
 * closed (ids are never reused). O(connections): for rare lookups.
 */
struct conn *conn_by_id(uint64_t id);

/*
 * For a line that is one part of a bigger request (a header line of an
 * HTTP request head, whose length the protocol bounds), called by its
 * handler: the line is not counted against c's flood budget, so a request
 * counts as one line, its last. What the line causes (output, time) is
 * still charged.
 */
void conn_line_free(struct conn *c);

/* Calls fn for every connection that is still open. fn may close it. */
void conn_foreach(void (*fn)(struct conn *c, void *arg), void *arg);

/* Returns the number of connections, closing ones included. */
size_t conn_count(void);

/* Where a connection is in its life, as the metrics count it. */
enum conn_phase {
    CONN_PHASE_NEW,     /* accepted; its protocol has not opened it yet */
    CONN_PHASE_OPEN,    /* its protocol serves it */
    CONN_PHASE_CLOSING, /* ending: last output, then the socket closes */
    CONN_PHASES
};

/*
 * Calls fn once for every connection, closing ones included, with its
 * protocol and phase (for a scrape of the metrics: O(connections)).
 */
void conn_census(void (*fn)(const struct conn_proto *p, enum conn_phase ph,
                            void *arg),
                 void *arg);

/* Sends pending output and reaps closed connections; run before sleeping. */
void conn_before_sleep(void);

/*
 * Adds fn (at most 4, run in the order added) to what conn_before_sleep
 * calls right before each flush, once every input it handles in that call
 * (deferred lines, close hooks) has had its effect, and before any byte
 * of the output it caused is sent: for output a protocol gathers per
 * round (the prompt lines of telnet terminals), and for a durable store's
 * commit, so that nobody is sent what a crash could take back.
 */
void conn_add_before_flush(void (*fn)(void));

/* Closes and frees every connection at once (process exit). */
void conn_fini(void);

#endif
