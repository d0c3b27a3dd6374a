/*
 * mask: ban masks the way IRC uses them, nick!user@host with wildcards.
 */
#include "core/mask.h"

#include <string.h>

/* ------------------------------------------------------------------------
 * Matching
 * ------------------------------------------------------------------------ */

/* Returns c in lower case if it is an ASCII capital. */
static unsigned char mask_lower(char c)
{
    unsigned char u = (unsigned char)c;
    return u >= 'A' && u <= 'Z' ? (unsigned char)(u + 32) : u;
}

bool mask_match_count(const char *mask, size_t mlen, const char *s, size_t slen,
                      size_t *steps)
{
    size_t m = 0, i = 0;
    bool star = false; /* a '*' was seen: star_m and star_i are set */
    size_t star_m = 0; /* the mask position right after the last '*' */
    size_t star_i = 0; /* where in s that '*' stopped matching so far */
    size_t count = 0;
    while (i < slen) {
        count++;
        if (m < mlen && mask[m] == '*') {
            star = true;
            star_m = ++m;
            star_i = i; /* first let the '*' match nothing */
        } else if (m < mlen && (mask[m] == '?' ||
                                mask_lower(mask[m]) == mask_lower(s[i]))) {
            m++;
            i++;
        } else if (star) {
            /* Let the last '*' take one more byte and retry after it. An
             * earlier '*' never needs to take more: the last one can. */
            m = star_m;
            i = ++star_i;
        } else {
            *steps += count;
            return false;
        }
    }
    while (m < mlen && mask[m] == '*') {
        count++;
        m++;
    }
    *steps += count;
    return m == mlen;
}

bool mask_match(const char *mask, size_t mlen, const char *s, size_t slen)
{
    size_t steps = 0;
    return mask_match_count(mask, mlen, s, slen, &steps);
}

/* ------------------------------------------------------------------------
 * Normalizing
 * ------------------------------------------------------------------------ */

/* Returns true if the n bytes at p hold none of the given bytes. */
static bool mask_lacks(const char *p, size_t n, const char *bytes,
                       size_t nbytes)
{
    for (size_t i = 0; i < nbytes; i++)
        if (memchr(p, bytes[i], n) != NULL)
            return false;
    return true;
}

/* Where mask_normalize builds its result. */
struct mask_out {
    char *p;
    size_t n, cap;
    bool full;
};

/* Appends the n bytes at p, or "*" if n is 0. */
static void mask_put(struct mask_out *o, const char *p, size_t n)
{
    if (n == 0) {
        p = "*";
        n = 1;
    }
    if (o->n + n > o->cap) {
        o->full = true;
        return;
    }
    memcpy(o->p + o->n, p, n);
    o->n += n;
}

size_t mask_normalize(const char *in, size_t n, char *out, size_t cap)
{
    static const char refused[] = {' ', ',', '\0', '\r', '\n'};
    if (n == 0 || !mask_lacks(in, n, refused, sizeof refused))
        return 0;
    const char *at = memchr(in, '@', n);
    size_t left = at ? (size_t)(at - in) : n; /* bytes before the '@' */
    const char *bang = memchr(in, '!', left);
    const char *nick = in, *user = in, *host = in;
    size_t nick_n = 0, user_n = 0, host_n = 0;
    if (at) {
        host = at + 1;
        host_n = n - left - 1;
    }
    if (bang) {
        nick_n = (size_t)(bang - in);
        user = bang + 1;
        user_n = left - nick_n - 1;
    } else if (at) {
        user_n = left;
    } else if (!mask_lacks(in, n, ".:", 2)) {
        host_n = n;
    } else {
        nick_n = n;
    }
    size_t room = cap > 0 ? cap - 1 : 0; /* keep a byte for the NUL */
    struct mask_out o = {out, 0, room < MASK_MAX ? room : MASK_MAX, false};
    mask_put(&o, nick, nick_n);
    mask_put(&o, "!", 1);
    mask_put(&o, user, user_n);
    mask_put(&o, "@", 1);
    mask_put(&o, host, host_n);
    if (o.full)
        return 0;
    out[o.n] = '\0';
    return o.n;
}
