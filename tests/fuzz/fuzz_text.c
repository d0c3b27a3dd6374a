/*
 * fuzz_text: the text protocol (proto_text.c, text_cmd.c) and the chat core
 * behind it, driven by fuzzer-chosen input from three people at once.
 *
 * There are no sockets: this file provides the functions of conn.h that the
 * protocol calls, over fake connections. conn_write checks every byte the
 * protocol sends and counts it against a small output limit (passing it
 * closes the connection with CONN_SENDQ, as conn.c does); conn_close marks
 * the connection, and its close hook runs after the current read, as in
 * conn.c. A closed person is replaced by a new one (with a new id), so the
 * fuzzer can keep going.
 *
 * Input: records separated by LF. The first byte of a record picks the
 * person (bits 0-1, modulo 3) and the action (bits 2-4):
 *   7        the connection ends; bits 5-7 (modulo 7) give the conn_reason
 *   6        the rest of the record is one read, without a line end
 *   0-5      the rest of the record plus LF is one read
 * Reads go through the real framer (max_line 256), and each line is handed
 * to the protocol at the very end of a readable page, so reading past a
 * line faults (set PARLEY_FUZZ_NOGUARD to relax this while a known overrun
 * is being fixed). Printable seeds: '0', '1', '2' send a line as person 0, 1, 2;
 * '8', '9', ':' send a partial line; '<', '=', '>' close (EOF).
 *
 * Checked: every write is valid UTF-8 made of lines that end in CRLF, with
 * no CR or LF elsewhere and no control character other than TAB (which
 * docs/protocol.md keeps in user text); room membership records agree with
 * the rooms; every person's nick is valid, registered, and user<digits>
 * only if those are its own id; and at the end
 * everyone's close hook leaves nothing behind (LeakSanitizer).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/chat.h"
#include "event/conn.h"
#include "event/frame.h"
#include "fuzz_check.h"
#include "core/nick.h"
#include "event/outq.h"
#include "core/room.h"
#include "text/text.h"

#define FUZZ_MAX_INPUT (64 * 1024)
#define NSESS 3
#define FUZZ_MAX_LINE 256
#define FUZZ_SENDQ 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fake connection: what conn.c would keep, minus the socket. */
struct conn {
    uint64_t id;
    void *data;
    struct frame frame;
    bool open;    /* reads and accepts output */
    bool closing; /* conn_close was called; the close hook has not run */
    enum conn_reason reason;
    size_t queued; /* output bytes since the last flush */
};

static struct conn_limits fuzz_limits = {
    .max_line = FUZZ_MAX_LINE,
    .sendq_max = FUZZ_SENDQ,
    .flood_burst = 20,
    .flood_rate = 0,
    .linger_ms = 0,
};

static struct conn *fuzz_conns[NSESS];
static uint64_t fuzz_next_id;

/* ------------------------------------------------------------------------
 * Output checks
 * ------------------------------------------------------------------------ */

/* Checks bytes the protocol sends: whole CRLF lines of clean UTF-8. */
static void check_output(const void *p, size_t n)
{
    const uint8_t *s = p;
    if (n < 2 || s[n - 2] != '\r' || s[n - 1] != '\n')
        fuzz_fail("output does not end in CRLF", p, n);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r' && (i + 1 == n || s[i + 1] != '\n'))
            fuzz_fail("CR without LF in output", p, n);
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
            fuzz_fail("LF without CR in output", p, n);
    }
    fuzz_check_text(p, n, "\r\n");
}

/* ------------------------------------------------------------------------
 * conn.h, faked
 * ------------------------------------------------------------------------ */

void conn_init(struct ev_loop *loop, const struct conn_limits *limits,
               void (*on_free)(const struct conn *c))
{
    (void)loop;
    (void)limits;
    (void)on_free;
}

const struct conn_limits *conn_get_limits(void)
{
    return &fuzz_limits;
}

struct conn *conn_new(int fd, const char *addr, const struct conn_proto *proto)
{
    (void)fd;
    (void)addr;
    (void)proto;
    abort(); /* the protocol never makes connections */
}

uint64_t conn_id(const struct conn *c)
{
    return c->id;
}

const char *conn_addr(const struct conn *c)
{
    (void)c;
    return "192.0.2.1:5000";
}

const char *conn_host(const struct conn *c)
{
    (void)c;
    return "192.0.2.1";
}

void *conn_data(const struct conn *c)
{
    return c->data;
}

void conn_set_data(struct conn *c, void *data)
{
    c->data = data;
}

void conn_write(struct conn *c, const void *p, size_t n)
{
    if (n > 0)
        check_output(p, n);
    if (!c->open || n == 0)
        return;
    c->queued += n;
    if (c->queued > fuzz_limits.sendq_max)
        conn_close(c, CONN_SENDQ, false);
}

void conn_write_block(struct conn *c, struct outq_block *b)
{
    /* The block's bytes, through the queue's own API, checked as any. */
    struct outq q = {0};
    struct iovec iov;
    outq_append_block(&q, b);
    if (outq_iov(&q, &iov, 1) == 1)
        conn_write(c, iov.iov_base, iov.iov_len);
    outq_clear(&q);
}

const char *conn_origin(const struct conn *c)
{
    (void)c;
    return "192.0.2.1";
}

void conn_try_send(struct conn *c, const char *text)
{
    (void)c;
    check_output(text, strlen(text));
}

void conn_close(struct conn *c, enum conn_reason reason, bool flush)
{
    (void)flush;
    if (!c->open)
        return;
    c->open = false;
    c->closing = true;
    c->reason = reason;
}

void conn_last_words(struct conn *c, const char *text)
{
    conn_try_send(c, text);
}

void conn_cut_off(struct conn *c, enum conn_reason reason)
{
    conn_close(c, reason, true);
}

const char *conn_reason_name(enum conn_reason reason)
{
    (void)reason;
    return "fuzz";
}

void conn_close_with(struct conn *c, enum conn_reason reason, const char *text)
{
    conn_write(c, text, strlen(text));
    conn_close(c, reason, true);
}

void conn_slow_line(struct conn *c, unsigned cost_ms, unsigned hold_ms)
{
    (void)c;
    (void)cost_ms;
    (void)hold_ms;
}

void conn_hold_input(struct conn *c)
{
    (void)c;
}

void conn_release_input(struct conn *c, unsigned hold_ms)
{
    (void)c;
    (void)hold_ms;
}

struct conn *conn_by_id(uint64_t id)
{
    for (size_t i = 0; i < NSESS; i++)
        if (fuzz_conns[i] && fuzz_conns[i]->open && fuzz_conns[i]->id == id)
            return fuzz_conns[i];
    return NULL;
}

void conn_foreach(void (*fn)(struct conn *c, void *arg), void *arg)
{
    for (size_t i = 0; i < NSESS; i++)
        if (fuzz_conns[i] && fuzz_conns[i]->open)
            fn(fuzz_conns[i], arg);
}

size_t conn_count(void)
{
    size_t n = 0;
    for (size_t i = 0; i < NSESS; i++)
        n += fuzz_conns[i] != NULL;
    return n;
}

void conn_before_sleep(void)
{
}

void conn_fini(void)
{
}

/* ------------------------------------------------------------------------
 * Driving the protocol
 * ------------------------------------------------------------------------ */

/* Accepts a new connection: the protocol welcomes a new person. */
static struct conn *fuzz_open(void)
{
    struct conn *c = calloc(1, sizeof *c);
    c->id = ++fuzz_next_id;
    c->open = true;
    c->frame.max_line = FUZZ_MAX_LINE;
    text_proto.open(c);
    return c;
}

/* Runs the close hooks of closed connections and frees them. */
static void fuzz_reap(void)
{
    bool again = true;
    while (again) { /* a hook may close others (output limit) */
        again = false;
        for (size_t i = 0; i < NSESS; i++) {
            struct conn *c = fuzz_conns[i];
            if (c == NULL || !c->closing)
                continue;
            const char *label = text_proto.label(c);
            if (label && !nick_valid(label, strlen(label)))
                fuzz_fail("label is not a valid nick", label, strlen(label));
            text_proto.close(c, c->reason);
            frame_reset(&c->frame);
            free(c);
            fuzz_conns[i] = NULL;
            again = true;
        }
    }
}

/*
 * Hands one line to the protocol, copied so that it ends right before an
 * inaccessible page: reading past the line faults even inside libc.
 */
static void fuzz_dispatch(struct conn *c, const char *line, size_t len)
{
    static struct fuzz_guard guard;
    fuzz_guard_init(&guard, FUZZ_MAX_LINE);
    text_proto.line(c, fuzz_guard_copy(&guard, line, len), len);
}

/* One read of n bytes: frame it and dispatch lines while c is open. */
static void fuzz_read(struct conn *c, const uint8_t *p, size_t n)
{
    char *buf = malloc(n ? n : 1);
    if (n)
        memcpy(buf, p, n);
    struct frame_input in = {buf, n};
    while (c->open && in.n > 0) {
        const char *line;
        size_t len;
        enum frame_result r = frame_next(&c->frame, &in, &line, &len);
        if (r == FRAME_MORE)
            break;
        if (r == FRAME_TELNET)
            continue; /* conn.c answers it; fuzz_frame checks the answer */
        if (r == FRAME_TOO_LONG)
            text_proto.too_long(c, FUZZ_MAX_LINE);
        else
            fuzz_dispatch(c, line, len);
    }
    /* As conn.c does after every read: messages gathered are said now. */
    if (text_proto.input_done)
        text_proto.input_done(c);
    free(buf);
}

/*
 * Checks one room: names, limits, that members know their slots, and that
 * its history bytes are counted right (adding them up in *arg).
 */
static void check_room(struct room *r, void *arg)
{
    const struct chat_config *cfg = chat_get_config();
    if (!room_name_valid(r->name, r->name_len) ||
        strlen(r->name) != r->name_len)
        fuzz_fail("bad room name", r->name, r->name_len);
    if (r->topic_len > cfg->topic_max || (r->topic == NULL) != (r->topic_len == 0))
        fuzz_fail("bad topic", r->name, r->name_len);
    if (r->hist_count > r->hist_cap || r->hist_cap != cfg->history_keep)
        fuzz_fail("bad history ring", r->name, r->name_len);
    if (r->nmembers == 0 && r->hist_count == 0 && r->nbans == 0 &&
        r->topic == NULL && strcmp(r->name, "lobby") != 0)
        fuzz_fail("empty room without history, bans or topic kept", r->name,
                  r->name_len);
    if (r->nbans > cfg->max_bans || r->ninvited > cfg->max_bans)
        fuzz_fail("ban or invite list over max_bans", r->name, r->name_len);
    if (r->idle != (r->nmembers == 0 && strcmp(r->name, "lobby") != 0))
        fuzz_fail("idle list and members disagree", r->name, r->name_len);
    size_t bytes = r->hist ? r->hist_cap * sizeof *r->hist : 0;
    for (size_t i = 0; i < r->hist_count; i++) {
        const struct room_msg *m = room_history(r, i);
        bytes += room_msg_cost(m->src_len, m->text_len);
    }
    if (bytes != r->hist_bytes)
        fuzz_fail("history bytes miscounted", r->name, r->name_len);
    *(size_t *)arg += bytes;
    for (size_t i = 0; i < r->nmembers; i++) {
        const struct client *m = r->members[i];
        size_t found = 0;
        for (size_t k = 0; k < m->nrooms; k++)
            if (m->rooms[k].room == r) {
                found++;
                if (m->rooms[k].slot != i)
                    fuzz_fail("member's slot record is wrong", r->name,
                              r->name_len);
                if (chat_membership(m, r) != &m->rooms[k])
                    fuzz_fail("membership table disagrees", r->name,
                              r->name_len);
                if (m->rooms[k].status & ~(unsigned)(CHAT_OP | CHAT_VOICE))
                    fuzz_fail("bad member status", r->name, r->name_len);
            }
        if (found != 1)
            fuzz_fail("member does not know its room once", r->name,
                      r->name_len);
    }
}

/* Checks the people and the rooms after a step. */
/*
 * Returns the live person whose default nick is user<N> (nick, len bytes),
 * or NULL if they are gone (then anyone may hold it).
 */
static struct client *holder_of_default(const char *nick, size_t len)
{
    unsigned long long n = 0;
    for (size_t i = 4; i < len && n < 1000000000ull; i++)
        n = n * 10 + (unsigned long long)(nick[i] - '0');
    for (size_t i = 0; i < NSESS; i++) {
        struct conn *c = fuzz_conns[i];
        if (c == NULL || c->closing)
            continue;
        struct text_session *s = conn_data(c);
        if (s->client.id == n)
            return &s->client;
    }
    return NULL;
}

static void check_state(void)
{
    const struct chat_config *cfg = chat_get_config();
    if (chat_room_count() > cfg->max_rooms)
        fuzz_fail("more rooms than max_rooms", NULL, 0);
    if (chat_find_room("lobby", 5) == NULL)
        fuzz_fail("#lobby is gone", NULL, 0);
    size_t hist_bytes = 0;
    chat_foreach_room(check_room, &hist_bytes);
    if (hist_bytes != chat_history_bytes())
        fuzz_fail("history bytes of all rooms miscounted", NULL, 0);
    for (size_t i = 0; i < NSESS; i++) {
        struct conn *c = fuzz_conns[i];
        if (c == NULL || c->closing)
            continue;
        struct text_session *s = conn_data(c);
        struct client *cl = &s->client;
        if (!nick_valid(cl->nick, cl->nick_len) ||
            strlen(cl->nick) != cl->nick_len)
            fuzz_fail("bad nick", cl->nick, cl->nick_len);
        if (nick_reserved(cl->nick, cl->nick_len) &&
            holder_of_default(cl->nick, cl->nick_len) != NULL &&
            holder_of_default(cl->nick, cl->nick_len) != cl)
            fuzz_fail("holds the default nick of someone still here",
                      cl->nick, cl->nick_len);
        if (chat_find_nick(cl->nick, cl->nick_len) != cl)
            fuzz_fail("nick not registered to its person", cl->nick,
                      cl->nick_len);
        if (s->room && !chat_is_member(cl, s->room))
            fuzz_fail("current room is not a membership", cl->nick,
                      cl->nick_len);
        for (size_t k = 0; k < cl->nrooms; k++)
            if (chat_find_room(cl->rooms[k].room->name,
                               cl->rooms[k].room->name_len) !=
                cl->rooms[k].room)
                fuzz_fail("membership of an unregistered room", cl->nick,
                          cl->nick_len);
    }
}

/* Ends the loop round: close hooks, output "sent", new people for gaps. */
static void fuzz_round(bool refill)
{
    fuzz_reap();
    for (size_t i = 0; i < NSESS; i++) {
        if (fuzz_conns[i])
            fuzz_conns[i]->queued = 0;
        else if (refill)
            fuzz_conns[i] = fuzz_open();
    }
    fuzz_reap(); /* welcomes may have overflowed someone's queue */
    check_state();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    const struct chat_config cfg = {
        .history_keep = 4,
        .topic_max = 40,
        .max_rooms = 4,
        .history_mem = 6000, /* a few long lines: rooms give way */
        .max_bans = 3,       /* full lists are reached */
    };
    chat_init(&cfg);
    const struct text_config tcfg = {.history_replay = 3, .quiet_above = 2};
    text_configure(&tcfg);
    fuzz_next_id = 0;
    for (size_t i = 0; i < NSESS; i++)
        fuzz_conns[i] = fuzz_open();
    fuzz_round(true);

    size_t at = 0;
    while (at < size) {
        const uint8_t *rec = data + at;
        const uint8_t *nl = memchr(rec, '\n', size - at);
        size_t n = nl ? (size_t)(nl - rec) : size - at;
        at += n + 1;
        if (n == 0)
            continue;
        uint8_t sel = rec[0];
        struct conn *c = fuzz_conns[(sel & 3) % NSESS];
        unsigned act = (sel >> 2) & 7;
        if (c == NULL || !c->open)
            continue;
        if (act == 7) {
            conn_close(c, (enum conn_reason)((sel >> 5) % 7), true);
        } else if (act == 6) {
            fuzz_read(c, rec + 1, n - 1);
        } else {
            /* The record and its line end, as one read. */
            uint8_t *buf = malloc(n);
            memcpy(buf, rec + 1, n - 1);
            buf[n - 1] = '\n';
            fuzz_read(c, buf, n);
            free(buf);
        }
        fuzz_round(true);
    }

    /* Everyone hangs up: final lines first, as conn.c does at EOF. */
    for (size_t i = 0; i < NSESS; i++) {
        struct conn *c = fuzz_conns[i];
        const char *line;
        size_t len;
        if (c && c->open && frame_finish(&c->frame, &line, &len) && len > 0)
            fuzz_dispatch(c, line, len);
        if (c)
            conn_close(c, CONN_EOF, true);
    }
    fuzz_round(false);
    for (size_t i = 0; i < NSESS; i++)
        if (fuzz_conns[i])
            fuzz_fail("connection left after the end", NULL, 0);
    chat_fini();
    return 0;
}
