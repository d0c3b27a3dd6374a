/*
 * fuzz_irc: the IRC line parser, the tag helpers and ban masks against
 * their promises.
 *
 * Input: one IRC line, its line end already removed, any bytes. The line
 * is placed right before an unmapped page, so reading one byte past it
 * faults even where the sanitizers do not look.
 *
 * irc_parse must give the result an independent check expects, and on
 * success a parse that covers the line exactly: walking the line, every
 * byte is either inside the tags, the source, the command or a parameter,
 * in that order, or in a gap between them made only of spaces and the
 * one ':' the grammar allows there ('@' before the tags, ':' before the
 * source, ':' before a trailing parameter). No parameter but the last
 * holds a space or starts with ':', nparams is at most 15, and only a
 * trailing or 15th parameter may be followed by nothing but the end of
 * the line, spaces otherwise. On failure *m must be cleared.
 *
 * Every tag is iterated, and its key and value must lie inside the tag
 * block and hold no ';' (the key no '=' either). Every tag value, every
 * parameter and the whole line are unescaped, as a reference by the
 * spec's table does it, and escaped: unescape never grows and gives the
 * same in place, escaping yields no space, ';', CR or LF and at most
 * twice the bytes, and unescape(escape(x)) is x. irc_cmd_is must accept
 * the command in upper case and nothing shorter.
 *
 * mask_normalize runs on the source and each parameter: a result fits
 * MASK_MAX, is NUL-terminated, has the nick!user@host shape, is its own
 * normal form and matches itself; a refusal needs a refused byte, an
 * empty input or a long one. mask_match runs on pairs of slices and on
 * the two halves of the line, against a dynamic-programming reference
 * and within its step bound.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mask.h"
#include "fuzz_check.h"
#include "irc/parse.h"

#define FUZZ_MAX_INPUT (64 * 1024)
#define REF_MAX 300 /* the longest mask or string checked by reference */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The line under test, for failure reports. */
static const char *fz_line;
static size_t fz_len;

/* Fails with the line under test as the offending bytes. */
static void fail(const char *what)
{
    fuzz_fail(what, fz_line, fz_len);
}

/* ------------------------------------------------------------------------
 * irc_parse
 * ------------------------------------------------------------------------ */

/* Returns the index of the first byte at or after i that is not c. */
static size_t skip(const char *s, size_t n, size_t i, char c)
{
    while (i < n && s[i] == c)
        i++;
    return i;
}

/* Returns the index of the first byte at or after i that is c, or n. */
static size_t find(const char *s, size_t n, size_t i, char c)
{
    while (i < n && s[i] != c)
        i++;
    return i;
}

/* The result irc_parse must give, found the plain way. */
static enum irc_parse expected(const char *s, size_t n)
{
    if (skip(s, n, 0, ' ') == n)
        return IRC_PARSE_EMPTY;
    size_t body = 0;
    if (s[0] == '@') {
        size_t sp = find(s, n, 0, ' ');
        if ((sp - 1) + 2 > IRC_TAGS_MAX)
            return IRC_PARSE_TAGS_TOO_LONG;
        body = sp < n ? sp + 1 : n;
    }
    if (n - body > IRC_BODY_MAX)
        return IRC_PARSE_TOO_LONG;
    size_t i = skip(s, n, body, ' ');
    if (i < n && s[i] == ':')
        i = skip(s, n, find(s, n, i, ' '), ' ');
    return i == n ? IRC_PARSE_NO_COMMAND : IRC_PARSE_OK;
}

/* Returns the offset of slice sl in the line; fails if it is outside. */
static size_t offset_of(struct irc_slice sl)
{
    if (sl.p == NULL || sl.p < fz_line || sl.n > fz_len ||
        (size_t)(sl.p - fz_line) > fz_len - sl.n)
        fail("slice outside the line");
    return (size_t)(sl.p - fz_line);
}

/* Returns true if sl holds byte c. */
static bool holds(struct irc_slice sl, char c)
{
    return sl.n > 0 && memchr(sl.p, c, sl.n) != NULL;
}

/*
 * Checks the gap [from, to) before a part: spaces, with colon set a ':'
 * right before the part, and at least one space first unless the gap
 * starts the body. Returns false if the gap is not of that form.
 */
static bool gap_ok(size_t from, size_t to, bool colon, bool first)
{
    if (to < from)
        return false;
    if (colon) {
        if (to == from || fz_line[to - 1] != ':')
            return false;
        to--;
    }
    if (!first && to == from)
        return false;
    return skip(fz_line, to, from, ' ') == to;
}

/* Checks the source and the command; returns where the command ends. */
static size_t check_head(const struct irc_msg *m, size_t body)
{
    size_t at = body;
    if (m->source.n > 0) {
        size_t so = offset_of(m->source);
        if (!gap_ok(at, so, true, true) || holds(m->source, ' '))
            fail("source not after spaces and ':', or holds a space");
        at = so + m->source.n;
    }
    size_t co = offset_of(m->cmd);
    bool ok = true, bare_colon = false;
    if (m->source.n > 0) {
        ok = gap_ok(at, co, false, false);
    } else {
        /* Spaces, or a bare ':' (an empty source) and then spaces. */
        size_t i = skip(fz_line, co, at, ' ');
        if (i < co && fz_line[i] == ':') {
            bare_colon = true;
            i = i + 1 < co ? skip(fz_line, co, i + 1, ' ') : i;
        }
        ok = i == co && (i == at || fz_line[i - 1] == ' ');
    }
    if (!ok || m->cmd.n == 0 || holds(m->cmd, ' '))
        fail("command misplaced, empty or holding a space");
    if (m->source.n == 0 && !bare_colon && m->cmd.p[0] == ':')
        fail("a leading ':' word taken as the command, not the source");
    return co + m->cmd.n;
}

/* Checks the parameters after the command, which ends at at. */
static void check_params(const struct irc_msg *m, size_t at)
{
    if (m->nparams > IRC_MAX_PARAMS)
        fail("more than IRC_MAX_PARAMS parameters");
    bool rest = false; /* the last parameter took the rest of the line */
    for (size_t k = 0; k < m->nparams; k++) {
        struct irc_slice p = m->params[k];
        size_t po = offset_of(p);
        bool last = k + 1 == m->nparams;
        bool colon = po > at && fz_line[po - 1] == ':' && last;
        if (!gap_ok(at, po, colon, false))
            fail("parameter not after spaces (and a trailing ':')");
        rest = colon || k + 1 == IRC_MAX_PARAMS;
        if (rest && po + p.n != fz_len)
            fail("trailing or 15th parameter does not reach the end");
        if (!colon && (p.n == 0 || p.p[0] == ':'))
            fail("parameter without ':' empty or starting with ':'");
        if (!rest && holds(p, ' '))
            fail("a parameter that is not the last holds a space");
        at = po + p.n;
    }
    if (!rest && skip(fz_line, fz_len, at, ' ') != fz_len)
        fail("bytes after the last parameter");
}

/* Checks a successful parse against the line, gap by gap. */
static void check_ok(const struct irc_msg *m)
{
    size_t body = 0;
    if (fz_line[0] == '@') {
        size_t sp = find(fz_line, fz_len, 0, ' ');
        if (offset_of(m->tags) != 1 || m->tags.n != sp - 1)
            fail("tags are not the bytes from '@' to the first space");
        body = sp < fz_len ? sp + 1 : fz_len;
    } else if (m->tags.n != 0) {
        fail("tags without a leading '@'");
    }
    check_params(m, check_head(m, body));
}

/* Checks that *m was cleared after a failed parse. */
static void check_cleared(const struct irc_msg *m)
{
    if (m->nparams != 0 || m->tags.n || m->source.n || m->cmd.n ||
        m->tags.p != fz_line || m->source.p != fz_line || m->cmd.p != fz_line)
        fail("message not cleared after a failed parse");
}

/* Checks irc_cmd_is with the command in upper case. */
static void check_cmd_is(const struct irc_msg *m)
{
    char up[IRC_BODY_MAX + 1];
    for (size_t i = 0; i < m->cmd.n; i++) {
        char c = m->cmd.p[i];
        up[i] = c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
    }
    up[m->cmd.n] = '\0';
    bool nul = holds(m->cmd, '\0');
    if (irc_cmd_is(m, up) == nul)
        fail("irc_cmd_is disagrees with the upper-case command");
    if (m->cmd.n > 1 && irc_cmd_is(m, up + 1))
        fail("irc_cmd_is accepts a shorter word");
}

/* ------------------------------------------------------------------------
 * Tag values
 * ------------------------------------------------------------------------ */

/* The reference unescape, by the spec's table, as a two-state machine. */
static size_t ref_unescape(const char *s, size_t n, char *out)
{
    static const char *const from = ":s\\rn", *const to = "; \\\r\n";
    size_t w = 0;
    bool after_backslash = false;
    for (size_t i = 0; i < n; i++) {
        if (after_backslash) {
            const char *k = s[i] ? strchr(from, s[i]) : NULL;
            out[w++] = k ? to[k - from] : s[i];
            after_backslash = false;
        } else if (s[i] == '\\') {
            after_backslash = true;
        } else {
            out[w++] = s[i];
        }
    }
    return w;
}

/* Checks unescape and escape on the n bytes at s (malloc'd buffers). */
static void check_escapes(const char *s, size_t n)
{
    char *out = malloc(n + 1), *inplace = malloc(n + 1);
    char *esc = malloc(2 * n + 1), *back = malloc(n + 1);
    size_t u = irc_tag_unescape(s, n, out);
    memcpy(inplace, s, n);
    size_t v = irc_tag_unescape(inplace, n, inplace);
    if (u > n || u != v || memcmp(out, inplace, u) != 0)
        fail("unescape grows, or differs in place");
    size_t r = ref_unescape(s, n, back);
    if (r != u || memcmp(out, back, u) != 0)
        fail("unescape differs from the reference");
    size_t e = irc_tag_escape(s, n, esc);
    if (e > 2 * n || e < n)
        fail("escape length out of [n, 2n]");
    struct irc_slice es = {esc, e};
    if (holds(es, ' ') || holds(es, ';') || holds(es, '\r') || holds(es, '\n'))
        fail("escaped value holds a space, ';', CR or LF");
    size_t b = irc_tag_unescape(esc, e, back);
    if (b != n || (n > 0 && memcmp(back, s, n) != 0))
        fail("unescape(escape(x)) is not x");
    free(out);
    free(inplace);
    free(esc);
    free(back);
}

/* Iterates the tags and checks every key and value. */
static void check_tags(const struct irc_msg *m)
{
    struct irc_slice rest = m->tags, key, raw;
    const char *end = m->tags.p + m->tags.n, *prev = rest.p;
    while (irc_tag_next(&rest, &key, &raw)) {
        if (key.n == 0 || key.p < prev || raw.p < key.p + key.n ||
            raw.p + raw.n > end || rest.p < raw.p + raw.n ||
            rest.p + rest.n != end)
            fail("tag outside the tag block, or out of order");
        if (holds(key, ';') || holds(key, '=') || holds(raw, ';'))
            fail("tag key or value holds a separator");
        check_escapes(raw.p, raw.n);
        prev = rest.p;
    }
    if (rest.n != 0)
        fail("tag iteration stopped before the end");
}

/* ------------------------------------------------------------------------
 * Masks
 * ------------------------------------------------------------------------ */

/*
 * The reference matcher: dynamic programming over (mask, string). It is
 * kept out of coverage: its comparisons are no feedback worth the time.
 */
__attribute__((noinline, no_sanitize("coverage"))) static bool
ref_match(const char *m, size_t mn, const char *s, size_t sn)
{
    static bool row[REF_MAX + 1], prev[REF_MAX + 1];
    /* prev[j]: the first i bytes of the mask match the first j of s. */
    for (size_t j = 0; j <= sn; j++)
        prev[j] = j == 0;
    for (size_t i = 0; i < mn; i++) {
        unsigned char c = (unsigned char)m[i];
        row[0] = prev[0] && c == '*';
        for (size_t j = 1; j <= sn; j++) {
            unsigned char d = (unsigned char)s[j - 1];
            bool same = c == '?' || c == d ||
                        (c >= 'a' && c <= 'z' && d == c - 32) ||
                        (c >= 'A' && c <= 'Z' && d == c + 32);
            row[j] = c == '*' ? prev[j] || row[j - 1] : prev[j - 1] && same;
        }
        memcpy(prev, row, sn + 1);
    }
    return prev[sn];
}

/* Checks mask_match on a mask and a string against the reference. */
static void check_match(const char *m, size_t mn, const char *s, size_t sn)
{
    size_t steps = 0;
    bool got = mask_match_count(m, mn, s, sn, &steps);
    if (got != mask_match(m, mn, s, sn))
        fail("mask_match and mask_match_count disagree");
    if (steps > (mn + 1) * (sn + 2))
        fail("mask_match took more steps than its bound");
    if (mn <= REF_MAX && sn <= REF_MAX && got != ref_match(m, mn, s, sn))
        fail("mask_match differs from the reference");
}

/* Returns true if the n bytes at s hold a byte mask_normalize refuses. */
static bool has_refused(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strchr(" ,\r\n", s[i]) != NULL) /* also true for NUL */
            return true;
    return false;
}

/* Checks mask_normalize on sl, and that the result matches sl's source. */
static void check_normalize(struct irc_slice sl, struct irc_slice who)
{
    char out[MASK_MAX + 1], again[MASK_MAX + 1];
    size_t n = mask_normalize(sl.p, sl.n, out, sizeof out);
    if (n == 0) {
        if (sl.n > 0 && !has_refused(sl.p, sl.n) && sl.n + 4 <= MASK_MAX)
            fail("mask_normalize refused a short clean input");
        return;
    }
    if (n > MASK_MAX || out[n] != '\0' || n < sl.n || has_refused(out, n))
        fail("normalized mask too long, unterminated or with bad bytes");
    const char *bang = memchr(out, '!', n), *at = memchr(out, '@', n);
    if (!bang || !at || bang > at || bang == out || at == bang + 1 ||
        at == out + n - 1)
        fail("normalized mask is not nick!user@host");
    if (mask_normalize(out, n, again, sizeof again) != n ||
        memcmp(out, again, n) != 0)
        fail("normalizing a normalized mask changed it");
    if (!mask_match(out, n, out, n))
        fail("a normalized mask does not match itself");
    check_match(out, n, who.p, who.n);
}

/* Runs the mask checks on slices of the line and the parse. */
static void check_masks(const struct irc_msg *m)
{
    /* The two halves of the line's start, short enough for the reference. */
    size_t n = fz_len < 2 * REF_MAX ? fz_len : 2 * REF_MAX;
    check_match(fz_line, n / 2, fz_line + n / 2, n - n / 2);
    check_normalize(m->source, m->source);
    for (size_t k = 0; k < m->nparams; k++) {
        check_normalize(m->params[k], m->source);
        if (k > 0)
            check_match(m->params[k - 1].p, m->params[k - 1].n, m->params[k].p,
                        m->params[k].n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz_guard guard;
    if (size > FUZZ_MAX_INPUT)
        return 0;
    fuzz_guard_init(&guard, FUZZ_MAX_INPUT);
    fz_line = fuzz_guard_copy(&guard, data, size);
    fz_len = size;
    struct irc_msg m;
    memset(&m, 0x5a, sizeof m);
    enum irc_parse r = irc_parse(fz_line, fz_len, &m);
    if (r != expected(fz_line, fz_len))
        fail("irc_parse result differs from the expected one");
    if (r != IRC_PARSE_OK) {
        check_cleared(&m);
    } else {
        check_ok(&m);
        check_cmd_is(&m);
        check_tags(&m);
        for (size_t k = 0; k < m.nparams; k++)
            check_escapes(m.params[k].p, m.params[k].n);
    }
    check_escapes(fz_line, fz_len);
    check_masks(&m);
    return 0;
}
