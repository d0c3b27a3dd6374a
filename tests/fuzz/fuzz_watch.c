/*
 * fuzz_watch: the core's watch lists (core/watch.c, what IRC's MONITOR
 * stands on) against a model, under any sequence of operations.
 *
 * Input: pairs of bytes, each an operation: the first byte's low 3 bits
 * choose it, the next 3 bits one of 8 people; the second byte one of a few
 * nicks (valid ones in several cases, and some that are not nicks). The
 * operations: register with the nick (and give the person its user and
 * host), unregister, change nick, watch a nick (at most 3), stop watching
 * one, stop watching all, go away, list.
 *
 * The model keeps each person's watched nicks as a set (by nick without
 * case) and says what each operation must do: the result of watch_add,
 * and who must be told that a nick came or went (its watchers, once each,
 * nobody else; nothing for a change of case). After every operation each
 * list must hold exactly the model's nicks, and the table exactly the
 * nicks someone watches. The swaps that keep removal O(1) move back
 * pointers around: a wrong one shows as a wrong list, a wrong
 * notification or a sanitizer report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/chat.h"
#include "core/watch.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_PEOPLE 8
#define FZ_MAX 3 /* nicks one person may watch */

/* The nicks: spelling, and which of the model's nicks it is (-1: none). */
static const struct {
    const char *s;
    int id;
} fz_nicks[] = {
    {"a", 0},      {"A", 0},
    {"bob", 1},    {"BOB", 1},
    {"Bob", 1},    {"carol", 2},
    {"dave", 3},   {"x1", 4},
    {"X1", 4},     {"user1", 5},
    {"*!*@h", -1}, {"", -1},
    {"9z", -1},    {"#c", -1},
    {"a b", -1},   {"toolongnick_toolongnick_toolongni", -1},
};
#define FZ_NNICKS (sizeof fz_nicks / sizeof fz_nicks[0])

struct fz_person {
    struct client c; /* first: the hooks get a struct client * */
    bool here;
    unsigned watching; /* the model: bit id of each nick watched */
    unsigned told;     /* notifications got during this operation */
};

static struct fz_person fz_people[FZ_PEOPLE];
static const uint8_t *fz_data;
static size_t fz_size;

/* Fails with the whole input as the offending bytes. */
static void fail(const char *what)
{
    fuzz_fail(what, (const char *)fz_data, fz_size);
}

/* Returns the model id of the nick (len bytes), or -1. */
static int fz_id(const char *nick, size_t len)
{
    for (size_t i = 0; i < FZ_NNICKS; i++)
        if (strlen(fz_nicks[i].s) == len &&
            strncasecmp(fz_nicks[i].s, nick, len) == 0)
            return fz_nicks[i].id;
    return -1;
}

static bool fz_deliver(struct client *to, struct chat_event *ev)
{
    (void)to;
    (void)ev;
    return true;
}

/* The watched hook: counts, and checks that the watcher watches it. */
static void fz_watched(struct client *w, const char *nick, size_t len,
                       const struct client *who)
{
    struct fz_person *p = (struct fz_person *)w;
    int id = fz_id(nick, len);
    if (!p->here || id < 0 || !(p->watching & (1u << id)))
        fail("told of a nick it does not watch");
    if (who && (who->nick_len != len || memcmp(who->nick, nick, len) != 0))
        fail("told a nick came with another's name");
    p->told++;
}

static const struct client_ops fz_ops = {
    .proto = 1, .deliver = fz_deliver, .watched = fz_watched};

/* Sets want[i] to 1 for each person present who watches id. */
static void fz_expect(int id, unsigned *want)
{
    for (size_t i = 0; i < FZ_PEOPLE; i++)
        if (id >= 0 && fz_people[i].here && (fz_people[i].watching >> id & 1))
            want[i]++;
}

/* Checks every list and the table against the model. */
static void fz_check_lists(void)
{
    unsigned all = 0;
    for (size_t i = 0; i < FZ_PEOPLE; i++) {
        struct fz_person *p = &fz_people[i];
        unsigned seen = 0;
        size_t n = p->here ? watch_count(&p->c) : 0;
        if ((size_t)__builtin_popcount(p->watching) != n)
            fail("a list holds the wrong number of nicks");
        for (size_t k = 0; k < n; k++) {
            size_t len;
            const char *nick = watch_nick(&p->c, k, &len);
            int id = fz_id(nick, len);
            if (id < 0 || !(p->watching >> id & 1) || (seen >> id & 1))
                fail("a list holds a nick it should not");
            seen |= 1u << id;
        }
        if (p->here && (p->watching == 0) != (p->c.watching == NULL))
            fail("an empty list is not freed");
        all |= p->here ? p->watching : 0;
    }
    if ((size_t)__builtin_popcount(all) != watch_total())
        fail("the table holds the wrong nicks");
}

/* Runs operation op of person p on nick k; fills want. */
static void fz_run(unsigned op, struct fz_person *p, size_t k, unsigned *want)
{
    const char *nick = fz_nicks[k].s;
    size_t len = strlen(nick);
    int id = fz_nicks[k].id;
    if (op == 0 && !p->here) {
        if (chat_register(&p->c, (uint64_t)(p - fz_people) + 1, &fz_ops, p,
                          nick, len) != CHAT_OK)
            return;
        p->here = true;
        fz_expect(id, want);
        chat_set_user_host(&p->c, "~u", "host");
        return;
    }
    if (!p->here)
        return;
    int own = fz_id(p->c.nick, p->c.nick_len);
    switch (op) {
    case 0:
    case 1:
        p->watching = 0;
        chat_unregister(&p->c, "bye", 3, true);
        p->here = false;
        fz_expect(own, want);
        break;
    case 2: {
        bool refolds = own != id;
        if (chat_set_nick(&p->c, nick, len) != CHAT_OK || !refolds)
            break;
        fz_expect(own, want);
        fz_expect(id, want);
        break;
    }
    case 3: {
        enum watch_result r = watch_add(&p->c, nick, len, FZ_MAX);
        enum watch_result m = id < 0                    ? WATCH_INVALID
                              : (p->watching >> id & 1) ? WATCH_ALREADY
                              : __builtin_popcount(p->watching) >= FZ_MAX
                                  ? WATCH_FULL
                                  : WATCH_ADDED;
        if (r != m)
            fail("watch_add says what the model does not");
        if (r == WATCH_ADDED)
            p->watching |= 1u << id;
        break;
    }
    case 4:
        if (watch_del(&p->c, nick, len) != (id >= 0 && (p->watching >> id & 1)))
            fail("watch_del says what the model does not");
        if (id >= 0)
            p->watching &= ~(1u << id);
        break;
    case 5:
        watch_clear(&p->c);
        p->watching = 0;
        break;
    case 6:
        chat_set_away(&p->c, nick, len);
        break;
    default:
        fz_check_lists();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_data = data;
    fz_size = size;
    struct chat_config cfg = {
        .history_keep = 4, .topic_max = 64, .max_rooms = 4, .max_bans = 4};
    chat_init(&cfg);
    memset(fz_people, 0, sizeof fz_people);
    for (size_t i = 0; i + 1 < size; i += 2) {
        unsigned want[FZ_PEOPLE] = {0};
        for (size_t k = 0; k < FZ_PEOPLE; k++)
            fz_people[k].told = 0;
        fz_run(data[i] & 7, &fz_people[(data[i] >> 3) & 7],
               data[i + 1] % FZ_NNICKS, want);
        for (size_t k = 0; k < FZ_PEOPLE; k++)
            if (fz_people[k].told != want[k])
                fail("told too often, or not told");
        fz_check_lists();
    }
    for (size_t i = 0; i < FZ_PEOPLE; i++)
        if (fz_people[i].here)
            chat_unregister(&fz_people[i].c, NULL, 0, false);
    if (watch_total() != 0)
        fail("the table is not empty when everyone has left");
    chat_fini();
    return 0;
}
