/*
 * chanarg: reading the arguments of channel commands (chanarg.h).
 */
#include "irc/chanarg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * MODE
 * ------------------------------------------------------------------------ */

bool irc_mode_middle(const struct irc_slice *arg)
{
    return arg->n > 0 && arg->p[0] != ':' && !memchr(arg->p, ' ', arg->n);
}

/* Remembers an unknown letter (once) for ERR_UNKNOWNMODE. */
static void irc_mode_unknown(struct irc_mode_req *q, char mode)
{
    if (memchr(q->unknown, mode, q->nunknown) == NULL &&
        q->nunknown < sizeof q->unknown)
        q->unknown[q->nunknown++] = mode;
}

/*
 * Adds one change if it fits: in number, in parameters (IRC_MODES) and in
 * the one MODE line the channel will get (a ban mask may grow by "*!*@").
 */
static void irc_mode_add(struct irc_mode_req *q, bool add, char mode,
                         const struct irc_slice *arg)
{
    size_t cost = 2 + (arg ? arg->n + 5 : 0);
    if (q->n == IRC_MODE_CHANGES_MAX || cost > q->budget)
        return;
    if (arg && q->nparams == IRC_MODES)
        return;
    q->budget -= cost;
    q->nparams += arg != NULL;
    q->ch[q->n++] = (struct chat_mode_change){
        .add = add,
        .mode = mode,
        .arg = arg ? arg->p : NULL,
        .arg_len = arg ? arg->n : 0,
    };
}

/* The parameters after a mode string, one slice each. */
struct irc_mode_args {
    struct irc_slice v[IRC_MODES + 8];
    size_t n;
};

/*
 * Gathers the parameters of MODE #chan from param 2 on. A line holds at
 * most IRC_MAX_PARAMS (RFC 2812), the last taking the rest of the line:
 * that one is split at its spaces, so that MODES=20 holds.
 */
static void irc_mode_args(const struct irc_msg *m, struct irc_mode_args *a)
{
    size_t cap = sizeof a->v / sizeof a->v[0];
    for (size_t i = 2; i < m->nparams && a->n < cap; i++) {
        const struct irc_slice *p = &m->params[i];
        if (i + 1 < IRC_MAX_PARAMS || memchr(p->p, ' ', p->n) == NULL) {
            a->v[a->n++] = *p;
            continue;
        }
        const char *q = p->p, *end = p->p + p->n;
        while (q < end && a->n < cap) {
            const char *sp = memchr(q, ' ', (size_t)(end - q));
            const char *stop = sp ? sp : end;
            if (stop > q)
                a->v[a->n++] = (struct irc_slice){q, (size_t)(stop - q)};
            q = stop + 1;
        }
    }
}

void irc_mode_read(const struct irc_msg *m, size_t budget,
                   struct irc_mode_req *q)
{
    static const struct irc_slice any_key = {"*", 1};
    memset(q, 0, sizeof *q);
    q->budget = budget;
    if (m->nparams < 2)
        return;
    const struct irc_slice *modes = &m->params[1];
    struct irc_mode_args args = {.n = 0};
    irc_mode_args(m, &args);
    size_t next = 0;
    bool add = true;
    for (size_t i = 0; i < modes->n; i++) {
        char c = modes->p[i];
        const struct irc_slice *arg = next < args.n ? &args.v[next] : NULL;
        if (c == '+' || c == '-') {
            add = c == '+';
        } else if (c == 'b' && arg == NULL) {
            q->list_bans = true;
        } else if (c == 'o' || c == 'v' || c == 'b' || (c == 'k' && add) ||
                   (c == 'l' && add)) {
            next++;
            if (arg == NULL || arg->n == 0)
                continue; /* dropped, as servers do */
            if (irc_mode_middle(arg) || c == 'k' || c == 'l')
                irc_mode_add(q, add, c, arg);
            else if (c == 'b')
                q->bad_mask = true;
        } else if (c == 'k') {
            next += arg != NULL;
            irc_mode_add(q, false, c, arg && arg->n ? arg : &any_key);
        } else if (c != '\0' && strchr("limnst", c)) {
            irc_mode_add(q, add, c, NULL);
        } else if (c > ' ' && c < 0x7f) {
            irc_mode_unknown(q, c); /* other bytes are no letter to name */
        }
    }
}

/* ------------------------------------------------------------------------
 * LIST
 * ------------------------------------------------------------------------ */

/* Splits the next comma-separated item off *list; NULL when done. */
static char *irc_list_item(char **list)
{
    char *p = *list;
    if (p == NULL)
        return NULL;
    char *comma = strchr(p, ',');
    *list = comma ? comma + 1 : NULL;
    if (comma)
        *comma = '\0';
    return p;
}

/* Applies ">N" or "<N" (t) to q's bounds; a bad number bounds nothing. */
static void irc_list_bound(struct irc_list_terms *q, const char *t)
{
    char *end;
    unsigned long long v = strtoull(t + 1, &end, 10);
    if (end == t + 1 || *end != '\0' || t[1] == '-' || v >= SIZE_MAX)
        return;
    size_t n = (size_t)v;
    if (t[0] == '>' && n + 1 > q->min_users)
        q->min_users = n + 1;
    else if (t[0] == '<' && (n == 0 || n - 1 < q->max_users))
        q->max_users = n == 0 ? 0 : n - 1;
}

/*
 * Applies "C>N", "C<N", "T>N" or "T<N" (t, N in minutes) to an age bound;
 * a number that does not read, or is out of range, bounds nothing.
 */
static void irc_list_age_bound(struct irc_list_terms *q, const char *t)
{
    char *end;
    unsigned long long v = strtoull(t + 2, &end, 10);
    if (end == t + 2 || *end != '\0' || t[2] == '-' ||
        v > (unsigned long long)INT64_MAX / 60)
        return;
    int64_t secs = (int64_t)v * 60;
    bool topic = t[0] == 'T' || t[0] == 't';
    struct irc_list_age *a = topic ? &q->topic : &q->created;
    q->topic_terms |= topic;
    if (t[1] == '>' && secs > a->above)
        a->above = secs;
    else if (t[1] == '<' && secs < a->below)
        a->below = secs;
}

bool irc_list_age_ok(const struct irc_list_age *a, int64_t age)
{
    return age > a->above && age < a->below;
}

void irc_list_read(char *list, struct irc_list_terms *q)
{
    memset(q, 0, sizeof *q);
    q->min_users = 1;
    q->max_users = SIZE_MAX;
    q->created = q->topic = (struct irc_list_age){-1, INT64_MAX};
    q->exact = true;
    char *t;
    while ((t = irc_list_item(&list)) != NULL && q->nmasks < IRC_LIST_TERMS) {
        if (t[0] == '\0')
            continue;
        if (t[0] == '>' || t[0] == '<') {
            irc_list_bound(q, t);
            q->exact = false;
            continue;
        }
        if (strchr("CcTt", t[0]) && (t[1] == '>' || t[1] == '<')) {
            irc_list_age_bound(q, t);
            q->exact = false;
            continue;
        }
        bool neg = t[0] == '!';
        if (neg || t[0] != '#' || strpbrk(t, "*?"))
            q->exact = false;
        q->negated[q->nmasks] = neg;
        q->positive |= !neg;
        q->mask[q->nmasks++] = neg ? t + 1 : t;
    }
}
