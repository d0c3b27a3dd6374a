/*
 * pb_msg.c - message bodies, senders and delivery accounting.
 *
 * A body is --size bytes: padding 'x', then a fixed 26-byte tail
 *
 *     "pb" SSSS QQQQQQQQ TTTTTTTTTTTT      (lower-case hex)
 *
 * with the sender id, its sequence number and the send time (CLOCK_MONOTONIC
 * nanoseconds since the run started). Every protocol delivers the body at
 * the end of a line, so a receiver finds the tail 26 bytes before the line
 * end whatever the server puts in front (a nick, a RESP header).
 *
 * Every receiver keeps the next sequence number it expects from each sender
 * of its room: a lower one is out of order (or repeated), a higher one is a
 * gap. The latency of a delivery is the read time minus the send time.
 *
 * Senders are paced (--rate: messages per second each) or closed-loop
 * (--window W: at most W of a sender's messages in flight). A message stops
 * being in flight when it has reached every receiver that must get it (all
 * other members of its room, or all subscribers for resp). The window slides
 * from its oldest message: a sender may have sequence numbers base ..
 * base+W-1 out, and base moves on when the oldest is fully delivered. This
 * keeps the window honest when some receivers lag behind others: a sender
 * never runs ahead of its slowest (non-slow) receiver by more than W.
 */
#include "pb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Paced senders send at most this many due messages per loop iteration. */
#define PB_BURST_MAX 64
/* A paced sender skips messages while this much output waits in its conn. */
#define PB_OUT_LIMIT (1u << 20)
/* Messages formatted into the write buffer per send() at most. */
#define PB_BATCH_MAX 256

static const char hexdig[16] = "0123456789abcdef";

/* Writes v as exactly n lower-case hex digits. */
static void hex_put(char *dst, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        dst[i] = hexdig[v & 15];
        v >>= 4;
    }
}

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the hex decoding below assumes a little-endian host"
#endif

/* Bits that are set when a byte's high nibble is neither 3 nor 6. */
static uint64_t hex_bad(uint64_t x)
{
    return ((x & 0xF0F0F0F0F0F0F0F0ull) ^ 0x3030303030303030ull) &
           0xAFAFAFAFAFAFAFAFull;
}

/*
 * Decodes 8 hex digits at src, most significant first, eight at a time
 * (SWAR): this is the hottest code of the load generator. Sets bits in *bad
 * when a byte is not in 0x30-0x3f or 0x60-0x6f (a cheap plausibility test;
 * the "pb" marker and the sender and room checks do the rest).
 */
static uint32_t hex8(const char *src, uint64_t *bad)
{
    uint64_t x;

    memcpy(&x, src, 8);
    *bad |= hex_bad(x);
    x = (x & 0x0F0F0F0F0F0F0F0Full) + ((x >> 6) & 0x0101010101010101ull) * 9;
    x = ((x & 0x000F000F000F000Full) << 4) | ((x >> 8) & 0x000F000F000F000Full);
    x = ((x & 0x000000FF000000FFull) << 8) |
        ((x >> 16) & 0x000000FF000000FFull);
    x = ((x & 0xFFFFull) << 16) | ((x >> 32) & 0xFFFFull);
    return (uint32_t)x;
}

/* Decodes 4 hex digits at src like hex8. */
static uint32_t hex4(const char *src, uint64_t *bad)
{
    uint32_t y;
    uint64_t x;

    memcpy(&y, src, 4);
    x = y | 0x3030303000000000ull; /* four leading '0' digits */
    x = (x << 32) | (x >> 32);
    return hex8((const char *)&x, bad) & 0xFFFFu;
}

/* Allocates zeroed memory or aborts. */
static void *pb_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);

    if (!p) {
        fprintf(stderr, "parley-bench: out of memory\n");
        abort();
    }
    return p;
}

/* Places members, slow readers and publishers in rooms, and makes senders. */
int pb_msg_setup(struct pb_run *r)
{
    const struct pb_opts *o = &r->o;
    uint32_t npub = r->proto->separate_pub ? o->senders : 0;
    uint32_t w = 1;

    r->nconns = o->clients + o->slow + npub;
    r->conns = pb_calloc(r->nconns, sizeof *r->conns);
    r->rooms = pb_calloc(o->rooms, sizeof *r->rooms);
    r->senders = pb_calloc(o->senders, sizeof *r->senders);
    r->ready = pb_calloc(o->senders, sizeof *r->ready);
    for (uint32_t i = 0; i < o->rooms; i++)
        snprintf(r->rooms[i].name, sizeof r->rooms[i].name, "%s%u",
                 o->room_prefix, i);
    for (uint32_t i = 0; i < r->nconns; i++) {
        struct pb_conn *c = &r->conns[i];

        c->fd = -1;
        c->sender = -1;
        c->role = i < o->clients ? PB_ROLE_MEMBER
                  : i < o->clients + o->slow ? PB_ROLE_SLOW
                                             : PB_ROLE_PUBLISHER;
        c->room = i < o->clients ? i % o->rooms : 0;
    }
    while (w < o->window)
        w <<= 1;
    for (uint32_t j = 0; j < o->senders; j++) {
        struct pb_sender *s = &r->senders[j];

        s->id = j;
        s->member = j;
        s->room = j % o->rooms;
        s->slot = r->rooms[s->room].nsenders++;
        s->out = npub ? &r->conns[o->clients + o->slow + j] : &r->conns[j];
        s->out->sender = (int32_t)j;
        s->out->room = s->room;
        s->mask = w - 1;
        if (o->window)
            s->rem = pb_calloc(w, sizeof *s->rem);
    }
    for (uint32_t i = 0; i < o->clients; i++) {
        struct pb_conn *c = &r->conns[i];

        c->expect = pb_calloc(r->rooms[c->room].nsenders, sizeof *c->expect);
    }
    r->wbuf = pb_calloc(PB_BATCH_MAX, o->size + 128);
    return 0;
}

/* Frees what pb_msg_setup allocated. */
void pb_msg_free(struct pb_run *r)
{
    for (uint32_t i = 0; i < r->nconns; i++)
        free(r->conns[i].expect);
    for (uint32_t j = 0; j < r->o.senders; j++)
        free(r->senders[j].rem);
    free(r->conns);
    free(r->rooms);
    free(r->senders);
    free(r->ready);
    free(r->wbuf);
}

/* Puts s on the ready list (its window has room) unless it is there. */
static void sender_queue(struct pb_run *r, struct pb_sender *s)
{
    if (!s->queued) {
        s->queued = true;
        r->ready[r->nready++] = s->id;
    }
}

/* Marks one delivery of seq for a windowed sender; slides the window. */
static void window_ack(struct pb_run *r, struct pb_sender *s, uint64_t seq)
{
    if (seq < s->base || seq >= s->seq || s->rem[seq & s->mask] == 0)
        return;
    if (--s->rem[seq & s->mask] || seq != s->base)
        return;
    while (s->base < s->seq && s->rem[s->base & s->mask] == 0)
        s->base++;
    sender_queue(r, s);
}

/*
 * Accounts one benchmark message (tail points after "pb") read by c.
 * Returns false when the tail is no message tail after all (a line that
 * merely ends like one, such as an IRC line ending in nicks "pb..."): the
 * caller hands that line to the protocol.
 */
static bool deliver(struct pb_run *r, struct pb_conn *c, const char *tail,
                    uint64_t now)
{
    uint64_t bad = 0, sid, seq, ts;
    struct pb_sender *s;
    uint32_t *exp;

    sid = hex4(tail, &bad);
    seq = hex8(tail + 4, &bad);
    ts = (uint64_t)hex4(tail + 12, &bad) << 32 | hex8(tail + 16, &bad);
    if (bad || sid >= r->o.senders)
        return false;
    s = &r->senders[sid];
    if (s->room != c->room ||
        (!r->proto->self_delivery && s->member == (uint32_t)(c - r->conns))) {
        r->misrouted++;
        return true;
    }
    r->delivered++;
    exp = &c->expect[s->slot];
    if (seq == *exp)
        (*exp)++;
    else if (seq > *exp) {
        r->gaps++;
        *exp = (uint32_t)seq + 1;
    } else
        r->ooo++;
    if (r->phase == PB_PH_MEASURE)
        pb_hist_add(&r->hist, now - r->t0 - ts);
    if (s->rem)
        window_ack(r, s, seq);
    return true;
}

/*
 * Handles the complete lines in buf (len bytes) read by c at time now.
 * Returns how many bytes were consumed; the rest is an incomplete line.
 */
size_t pb_msg_lines(struct pb_run *r, struct pb_conn *c, const char *buf,
                    size_t len, uint64_t now)
{
    const char *p = buf, *end = buf + len;
    bool member = c->state == PB_ST_JOINED && c->role == PB_ROLE_MEMBER;

    for (;;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll;
        bool tail;

        if (!nl)
            break;
        ll = (size_t)(nl - p);
        if (ll && p[ll - 1] == '\r')
            ll--;
        tail = member && ll >= PB_TAIL_LEN && p[ll - PB_TAIL_LEN] == 'p' &&
               p[ll - PB_TAIL_LEN + 1] == 'b';
        if (!tail || !deliver(r, c, p + ll - PB_TAIL_LEN + 2, now)) {
            r->proto->on_line(r, c, p, ll);
            member = c->state == PB_ST_JOINED && c->role == PB_ROLE_MEMBER;
        }
        p = nl + 1;
    }
    return (size_t)(p - buf);
}

/* Formats message seq of s, stamped ts, into dst; returns its length. */
static size_t format_one(struct pb_run *r, struct pb_sender *s, char *dst,
                         uint64_t seq, uint64_t ts)
{
    char body[PB_SIZE_MAX];
    size_t pad = r->o.size - PB_TAIL_LEN;

    memset(body, 'x', pad);
    body[pad] = 'p';
    body[pad + 1] = 'b';
    hex_put(body + pad + 2, s->id, 4);
    hex_put(body + pad + 6, seq, 8);
    hex_put(body + pad + 14, ts, 12);
    return r->proto->format(dst, &r->rooms[s->room], body, r->o.size);
}

/* Sends n new messages of s in one write, all stamped with the time now. */
static void send_batch(struct pb_run *r, struct pb_sender *s, uint32_t n)
{
    uint64_t now = pb_now();
    size_t len = 0;

    if (s->out->state != PB_ST_JOINED)
        return;
    for (uint32_t i = 0; i < n; i++) {
        if (s->rem)
            s->rem[s->seq & s->mask] = s->recipients;
        len += format_one(r, s, r->wbuf + len, s->seq, now - r->t0);
        s->seq++;
    }
    r->sent += n;
    r->expected += (uint64_t)n * s->recipients;
    pb_conn_send(r, s->out, r->wbuf, len);
}

/* Lets every windowed sender whose window opened fill it again. */
void pb_msg_flush_ready(struct pb_run *r)
{
    bool sending = r->phase == PB_PH_WARMUP || r->phase == PB_PH_MEASURE;

    for (uint32_t i = 0; i < r->nready; i++) {
        struct pb_sender *s = &r->senders[r->ready[i]];
        uint64_t room;

        s->queued = false;
        if (!sending)
            continue;
        room = s->base + r->o.window - s->seq;
        while (room > 0) {
            uint32_t n = room > PB_BATCH_MAX ? PB_BATCH_MAX : (uint32_t)room;

            send_batch(r, s, n);
            room -= n;
        }
    }
    r->nready = 0;
}

/* Sends every paced message that is due, a few per sender at most. */
void pb_msg_paced(struct pb_run *r, uint64_t now)
{
    uint64_t step;

    if (r->o.rate <= 0 ||
        (r->phase != PB_PH_WARMUP && r->phase != PB_PH_MEASURE))
        return;
    step = (uint64_t)(1e9 / r->o.rate);
    for (uint32_t j = 0; j < r->o.senders; j++) {
        struct pb_sender *s = &r->senders[j];
        uint32_t n = 0;

        while (s->due <= now && n < PB_BURST_MAX) {
            s->due += step;
            n++;
        }
        if (n == 0)
            continue;
        if (s->out->olen > PB_OUT_LIMIT) {
            s->stall += n;
            continue;
        }
        send_batch(r, s, n);
    }
}

/* Returns when the next paced message is due (UINT64_MAX if none). */
uint64_t pb_msg_next_due(const struct pb_run *r)
{
    uint64_t best = UINT64_MAX;

    if (r->o.rate <= 0)
        return best;
    for (uint32_t j = 0; j < r->o.senders; j++)
        if (r->senders[j].due < best)
            best = r->senders[j].due;
    return best;
}

/*
 * Starts sending: fixes each sender's number of recipients from the joined
 * members, staggers paced senders over one period, opens every window.
 */
void pb_msg_start(struct pb_run *r, uint64_t now)
{
    uint64_t step = r->o.rate > 0 ? (uint64_t)(1e9 / r->o.rate) : 0;

    for (uint32_t j = 0; j < r->o.senders; j++) {
        struct pb_sender *s = &r->senders[j];
        uint32_t m = r->rooms[s->room].members;

        s->recipients = r->proto->self_delivery || m == 0 ? m : m - 1;
        s->due = now + step * j / r->o.senders;
        if (r->o.window)
            sender_queue(r, s);
    }
}
