/*
 * conn_int: what the parts of the conn module share, and nobody else.
 *
 * conn.c holds a connection's life and its input (probes, budgets, lines);
 * conn_out.c its output (queues, flushing in slices, the sendq and memory
 * limits). Protocols include conn.h only.
 */
#ifndef PARLEY_CONN_INT_H
#define PARLEY_CONN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "event/conn.h"
#include "event/ev.h"
#include "event/frame.h"
#include "event/net.h"
#include "event/outq.h"

enum conn_state { CS_OPEN, CS_CLOSING, CS_DRAINING, CS_LINGER, CS_DEAD };

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

/* Appends c to list l. */
void conn_list_push(struct conn_list *l, struct conn *c);

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
