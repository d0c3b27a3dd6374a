/*
 * fuzz_chanarg: the readers of MODE's change string and LIST's terms
 * (src/irc/chanarg.c) against their promises.
 *
 * Input: the first byte picks the reader (bit 0: MODE or LIST) and, for
 * MODE, the line budget (bits 1-7 times four); the rest is the command's
 * parameters, split the way an IRC line is (spaces; a word that starts
 * with ':' takes the rest; the 15th takes the rest even without one).
 *
 * Checked for MODE: no more changes, parameters or bytes than allowed;
 * each change a mode letter of the string, with a parameter exactly when
 * its type takes one (o, v and b one that could be sent back as a middle
 * parameter), every parameter a part of the input (or "*" for -k); unknown
 * letters printable, distinct and no mode. For LIST: every mask a part of
 * the input without a comma; the bounds sane; exact only for plain names.
 * Buffers have exactly their sizes, so the sanitizers see any stray read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "irc/chanarg.h"

#define FUZZ_MAX_INPUT 1024

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Splits the n bytes at p into m's params from index `first` on. */
static void split(const char *p, size_t n, struct irc_msg *m, size_t first)
{
    size_t i = 0;
    m->nparams = first;
    while (m->nparams < IRC_MAX_PARAMS) {
        while (i < n && p[i] == ' ')
            i++;
        if (i == n)
            return;
        bool rest = p[i] == ':' || m->nparams + 1 == IRC_MAX_PARAMS;
        size_t start = i + (p[i] == ':');
        size_t end = start;
        while (end < n && (rest || p[end] != ' '))
            end++;
        m->params[m->nparams++] = (struct irc_slice){p + start, end - start};
        i = end;
    }
}

/* Returns true if the n bytes at q lie within the n bytes at p. */
static bool inside(const char *q, size_t qn, const char *p, size_t n)
{
    return q >= p && q + qn <= p + n;
}

/* Checks one change read from the mode string. */
static void check_change(const struct chat_mode_change *ch, const char *in,
                         size_t n, const struct irc_slice *modes)
{
    if (ch->mode == '\0' || !strchr("ovbklimnst", ch->mode) ||
        !memchr(modes->p, ch->mode, modes->n))
        fuzz_fail("a change of no mode in the string", in, n);
    struct irc_slice arg = {ch->arg, ch->arg_len};
    bool takes = strchr("ovbk", ch->mode) || (ch->mode == 'l' && ch->add);
    if (takes != (ch->arg != NULL))
        fuzz_fail("a parameter where none belongs, or none where one does",
                  in, n);
    if (ch->arg == NULL)
        return;
    bool any_key = ch->mode == 'k' && !ch->add && ch->arg_len == 1 &&
                   ch->arg[0] == '*' && !inside(ch->arg, 1, in, n);
    if (!any_key && !inside(ch->arg, ch->arg_len, in, n))
        fuzz_fail("a parameter from outside the input", in, n);
    if (ch->arg_len == 0)
        fuzz_fail("an empty parameter taken", in, n);
    if (strchr("ovb", ch->mode) && !irc_mode_middle(&arg))
        fuzz_fail("a nick or mask that cannot be sent back", in, n);
}

/* Reads the input as MODE #c's parameters and checks what was read. */
static void fuzz_mode(const char *in, size_t n, size_t budget)
{
    struct irc_msg m = {0};
    m.params[0] = (struct irc_slice){"#c", 2};
    split(in, n, &m, 1);
    struct irc_mode_req q;
    irc_mode_read(&m, budget, &q);
    if (q.n > IRC_MODE_CHANGES_MAX || q.nunknown > sizeof q.unknown)
        fuzz_fail("too many changes or unknown letters", in, n);
    size_t cost = 0, params = 0;
    for (size_t i = 0; i < q.n; i++) {
        check_change(&q.ch[i], in, n, &m.params[1]);
        cost += 2 + (q.ch[i].arg ? q.ch[i].arg_len + 5 : 0);
        params += q.ch[i].arg != NULL;
    }
    if (params != q.nparams || params > IRC_MODES)
        fuzz_fail("parameters miscounted or past MODES", in, n);
    if (cost > budget || q.budget != budget - cost)
        fuzz_fail("the changes do not fit the budget", in, n);
    for (size_t i = 0; i < q.nunknown; i++) {
        char c = q.unknown[i];
        if (c <= ' ' || c >= 0x7f || strchr("+-ovbklimnst", c) ||
            memchr(q.unknown, c, i))
            fuzz_fail("a bad unknown letter", in, n);
    }
}

/* Reads the input as LIST's terms and checks what was read. */
static void fuzz_list(const char *in, size_t n)
{
    char *buf = malloc(n + 1);
    memcpy(buf, in, n);
    buf[n] = '\0';
    size_t len = strlen(buf); /* a NUL in the input ends the terms */
    struct irc_list_terms q;
    irc_list_read(len ? buf : NULL, &q);
    if (q.nmasks > IRC_LIST_TERMS || q.min_users < 1)
        fuzz_fail("too many terms, or a lower bound under 1", in, n);
    bool positive = false;
    for (size_t i = 0; i < q.nmasks; i++) {
        const char *mk = q.mask[i];
        size_t k = strlen(mk);
        if (!inside(mk, k, buf, len) || memchr(mk, ',', k))
            fuzz_fail("a mask from outside the input or with a comma", in, n);
        if (q.exact && (q.negated[i] || mk[0] != '#' || strpbrk(mk, "*?")))
            fuzz_fail("exact with a mask that is no plain name", in, n);
        positive |= !q.negated[i];
    }
    if (positive != q.positive)
        fuzz_fail("positive does not say whether a mask includes", in, n);
    const struct irc_list_age *ages[] = {&q.created, &q.topic};
    for (size_t i = 0; i < 2; i++)
        if (ages[i]->above < -1 || ages[i]->below < 0 ||
            (ages[i]->below != INT64_MAX && ages[i]->below % 60 != 0))
            fuzz_fail("an age bound that no term could give", in, n);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    size_t n = size - 1;
    char *in = malloc(n ? n : 1); /* exactly the input, for ASan */
    memcpy(in, data + 1, n);
    if (data[0] & 1)
        fuzz_list(in, n);
    else
        fuzz_mode(in, n, (size_t)(data[0] >> 1) * 4);
    free(in);
    return 0;
}
