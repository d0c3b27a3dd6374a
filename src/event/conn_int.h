/*
 * conn_int: what the parts of the conn module share, and nobody else.
 *
 * conn.c holds a connection's life and its input (probes, budgets, lines);
 * conn_out.c its output (queues, flushing in slices, the sendq and memory
 * limits); conn_xport.c the transport under both (plain TCP or TLS: its
 * handshake, and the reads, writes and shutdown that may have to wait for
 * the other direction). Protocols include conn.h only.
 */
#ifndef PARLEY_CONN_INT_H
#define PARLEY_CONN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "lib/buf.h"
#include "event/conn.h"
#include "event/ev.h"
#include "event/frame.h"
#include "event/net.h"
#include "event/outq.h"

enum conn_state { CS_OPEN, CS_CLOSING, CS_DRAINING, CS_LINGER, CS_DEAD };

struct tls_server;
struct tls_session;

struct conn {
    struct ev_io io;
    struct ev_timer timer; /* probe wait, flood resume, drain/linger */
    uint64_t id;
    const struct conn_proto *proto;
    void *data;
    /* Input. */
    struct frame frame;
    struct buf in;      /* input read but not yet handled while paused */
    uint64_t flood_t;   /* flood budget clock, microseconds */
    uint64_t last_cost; /* output caused by its last line (and batch) */
    uint64_t hup_by;    /* after the peer's FIN: input left then is dropped */
    uint64_t hold_by;   /* conn_slow_line: no line before this (loop ms) */
    size_t def_slot;    /* index on conn_deferred */
    /* Output. */
    struct outq out; /* output the kernel has not taken yet */
    size_t fq_slot;  /* index on its flush list */
    /* Life. */
    size_t slot; /* index in conn_all */
    enum conn_state state;
    enum conn_reason reason;
    bool opened;         /* the protocol's open hook ran */
    bool got_bytes;      /* the first read was checked for a probe */
    bool sniffed;        /* the first line was checked for HTTP */
    bool talked;         /* it sent a line: last_cost means something */
    bool paused;         /* out of flood or round budget: not reading */
    bool deferred;       /* on conn_deferred, waiting for a round's budget */
    bool eof;            /* the peer will send no more */
    bool hup;            /* the peer's FIN was seen (maybe before its data) */
    bool want_write;     /* the kernel refused output; wait for EPOLLOUT */
    bool pending;        /* on a flush list (conn_flushq or conn_carry) */
    bool carried;        /* that list is conn_carry */
    bool mid_line;       /* the last byte sent was not a line end */
    bool flush_on_close; /* closing sends what is queued first */
    bool abort;          /* close with a reset: queued output is dropped */
    bool excused;        /* conn_slow_line: this line's time is not charged */
    bool line_free;      /* conn_line_free: this line is not counted */
    bool held;           /* conn_hold_input: no line until released */
    /* Transport (conn_xport.c); all zero for plain TCP. */
    struct tls_session *tls;    /* NULL: plain TCP */
    struct tls_server *tls_srv; /* where its session comes from */
    size_t hs_slot;             /* index on the handshake queue */
    size_t xp_slot;             /* index on the list of buffered input */
    bool handshaking;      /* TLS: not yet through its handshake (CS_OPEN) */
    bool hs_queued;        /* waiting for a handshake slot */
    bool hs_holding;       /* counts among the handshakes in flight */
    bool xp_ready;         /* OpenSSL holds input that epoll cannot show */
    bool xp_read_on_write; /* its read or handshake waits for EPOLLOUT */
    bool xp_write_on_read; /* its write waits for EPOLLIN */
    bool xp_retry;         /* a write must be offered again (TLS) */
    bool ws_fresh;         /* just upgraded: the rest of the read is ws's */
    struct conn_ws *ws;    /* WebSocket framing above it; NULL: none */
    char host[46];
    char addr[56];
    char origin[NET_KEY_MAX];
};

/* A growable array of connections. */
struct conn_list {
    struct conn **v;
    size_t n, cap;
};

extern struct ev_loop *conn_loop;
extern struct conn_limits conn_lim;
extern struct conn_list conn_all;    /* every live connection */
extern struct conn_list conn_flushq; /* connections with new output */
extern struct conn_list conn_carry;  /* output a round had no time for */
extern struct conn_list conn_spare;  /* the next conn_carry, being built */
extern uint64_t conn_out_total;      /* output bytes ever queued */
extern size_t conn_round_sent;       /* bytes sent in this round's flush */
extern uint64_t conn_round_start;    /* conn_out_total when the round began */

/* Appends c to list l. */
void conn_list_push(struct conn_list *l, struct conn *c);

/*
 * For a queue l whose first *head entries were served: moves the rest to
 * the front once they are no more than those served, renumbering each
 * connection's index on it (the size_t at slot_off in struct conn; NULL
 * entries are holes). Returns the number of entries still queued.
 */
size_t conn_list_compact(struct conn_list *l, size_t *head, size_t slot_off);

/* ------------------------------------------------------------------------
 * The input side (conn_in.c).
 * ------------------------------------------------------------------------ */

/* Reads one chunk and processes it; keeps what a pause left over. */
void conn_read(struct conn *c);

/* Runs the protocol's open hook, once. */
void conn_open(struct conn *c);

/* The peer sent its FIN: no more input will come after what is queued. */
void conn_on_hup(struct conn *c);

/*
 * Serves deferred input, oldest first, while the round's budget lasts;
 * what is left waits for the next round, which then comes at once.
 */
void conn_run_deferred(void);

/* Takes c, about to be freed, off the queue of deferred input. */
void conn_in_forget(struct conn *c);

/* Frees the queue of deferred input (at exit). */
void conn_in_fini(void);

/*
 * Starts the wait for a new connection's first words: the protocol opens
 * at once (no probe time) or after its probe time (conn.h).
 */
void conn_start(struct conn *c);

/* ------------------------------------------------------------------------
 * The transport (conn_xport.c). Reads and writes return what recv and
 * send do: a byte count, 0 at the end of input, or -1 with errno set
 * (EAGAIN when they must wait; the interest they need is then noted for
 * conn_update_mask). A TLS failure is EPROTO, a TLS stream cut without
 * close_notify ECONNRESET.
 * ------------------------------------------------------------------------ */

/* Begins c's TLS handshake with ts, or queues it for a handshake slot. */
void conn_xport_start_tls(struct conn *c, struct tls_server *ts);

/* Advances c's handshake after epoll events ev. */
void conn_xport_handshake_io(struct conn *c, uint32_t ev);

/* Reads up to n bytes of c's input into buf. */
ssize_t conn_xport_read(struct conn *c, void *buf, size_t n);

/*
 * Writes from the k entries of iov: all it can (plain), or at most one
 * TLS record of them, as one SSL_write.
 */
ssize_t conn_xport_write(struct conn *c, struct iovec *iov, size_t k);

/* Sends n bytes at p now if the transport can without waiting. */
bool conn_xport_try_send(struct conn *c, const void *p, size_t n);

/* Returns true if one write per round is all c gets (TLS). */
bool conn_xport_one_write(const struct conn *c);

/* The plain or TLS transport alone, under WebSocket framing (same
 * contracts as conn_xport_read, _write and _try_send). */
ssize_t conn_raw_read(struct conn *c, void *buf, size_t n);
ssize_t conn_raw_write(struct conn *c, struct iovec *iov, size_t k);
bool conn_raw_try_send(struct conn *c, const void *p, size_t n);

/* Puts c on the list of connections read again before sleeping. */
void conn_xp_mark_ready(struct conn *c);

/* ------------------------------------------------------------------------
 * WebSocket framing (conn_ws.c), stacked on the transport after an HTTP
 * upgrade: the same contracts as the transport's functions above.
 * ------------------------------------------------------------------------ */

ssize_t conn_ws_read(struct conn *c, void *buf, size_t n);
ssize_t conn_ws_write(struct conn *c, struct iovec *iov, size_t k);
bool conn_ws_try_send(struct conn *c, const void *p, size_t n);

/* Sends the close frame, never waiting (conn_xport_shutdown). */
void conn_ws_shutdown(struct conn *c);

/* Returns true if input read earlier waits for c's next read. */
bool conn_ws_pending(const struct conn *c);

/* Keeps the n bytes at p that followed the upgrade for the next read. */
void conn_ws_stash(struct conn *c, const char *p, size_t n);

/*
 * c's queue was thrown away: a frame begun goes out whole, but stands for
 * no queued bytes any more.
 */
void conn_ws_dropped(struct conn *c);

/* Frees c's WebSocket state, if any. */
void conn_ws_free(struct conn *c);

/* Says goodbye at the transport level (TLS close_notify), never waiting. */
void conn_xport_shutdown(struct conn *c);

/*
 * Adjusts the epoll interest mask for what the transport waits for; reading
 * says whether c wants input now.
 */
uint32_t conn_xport_mask(struct conn *c, uint32_t mask, bool reading);

/*
 * Turns epoll events ev into what c's transport can do with them: a read
 * that waits for EPOLLOUT reads on it, a write that waits for EPOLLIN
 * writes on it.
 */
uint32_t conn_xport_events(struct conn *c, uint32_t ev);

/* Gives up c's handshake slot or place in the queue (when it dies). */
void conn_xport_release(struct conn *c);

/* Frees c's transport state (when c is freed). */
void conn_xport_free(struct conn *c);

/*
 * Before sleeping: starts queued handshakes for the slots freed, and reads
 * the input OpenSSL holds for connections that want it.
 */
void conn_xport_before_sleep(void);

/* Frees the transport's lists (at exit). */
void conn_xport_fini(void);

/* Sets the epoll interest from the connection's state. */
void conn_update_mask(struct conn *c);

/* Closes the socket (with a reset if c->abort) and marks c for freeing. */
void conn_kill(struct conn *c);

/* Ends a connection after a failed read or write with error err. */
void conn_fail_errno(struct conn *c, int err);

/* All output is out after close: shut our side down and await the peer. */
void conn_finish(struct conn *c);

/* Deadline of a draining or lingering connection: give up on the peer. */
void conn_on_deadline(struct ev_loop *loop, struct ev_timer *t);

/* Puts c on the list of connections to flush before sleeping. */
void conn_schedule_flush(struct conn *c);

/* Accounts n bytes queued to c and puts it on the flush list. */
void conn_queued(struct conn *c, size_t n);

/* Starts the once-a-second memory sweep (conn_init calls it). */
void conn_out_init(void);

/*
 * Flushes connections with output waiting: first those that got output
 * this round, then those carried over, until the round's budget is spent.
 */
void conn_flush_all(void);

/* Cuts the slowest readers while output memory is over --out-mem-max. */
void conn_enforce_memory(void);

/* Stops the memory sweep and frees the blocks kept for reuse (at exit). */
void conn_out_fini(void);

#endif
