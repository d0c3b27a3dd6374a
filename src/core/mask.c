/* Placeholder until the mask module lands; replaced on merge. */
#include "core/mask.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

bool mask_match(const char *m, size_t ml, const char *s, size_t sl)
{
    size_t i = 0, j = 0, star = (size_t)-1, mark = 0;
    while (j < sl) {
        if (i < ml && (m[i] == '?' || tolower((unsigned char)m[i]) ==
                                          tolower((unsigned char)s[j]))) {
            i++;
            j++;
        } else if (i < ml && m[i] == '*') {
            star = i++;
            mark = j;
        } else if (star != (size_t)-1) {
            i = star + 1;
            j = ++mark;
        } else {
            return false;
        }
    }
    while (i < ml && m[i] == '*')
        i++;
    return i == ml;
}

size_t mask_normalize(const char *in, size_t n, char *out, size_t cap)
{
    if (n == 0 || n + 8 > cap || memchr(in, ' ', n))
        return 0;
    const char *bang = memchr(in, '!', n), *at = memchr(in, '@', n);
    int k;
    if (bang && at)
        k = snprintf(out, cap, "%.*s", (int)n, in);
    else if (bang)
        k = snprintf(out, cap, "%.*s@*", (int)n, in);
    else if (at)
        k = snprintf(out, cap, "*!%.*s", (int)n, in);
    else if (memchr(in, '.', n) || memchr(in, ':', n))
        k = snprintf(out, cap, "*!*@%.*s", (int)n, in);
    else
        k = snprintf(out, cap, "%.*s!*@*", (int)n, in);
    return k > 0 && (size_t)k < cap ? (size_t)k : 0;
}
