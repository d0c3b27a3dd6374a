/*
 * tags: the IRCv3 tag values parley reads from clients. The client-only
 * tags it relays (message-tags), and the references of CHATHISTORY:
 * server-time timestamps and our own msgids. Pure functions, no state.
 */
#include "irc/tags.h"

#include <string.h>
#include <time.h>

#include "irc/parse.h"

size_t irc_client_tags(const struct irc_slice *tags, char *out)
{
    struct irc_slice rest = *tags, key, val;
    size_t n = 0;
    while (irc_tag_next(&rest, &key, &val)) {
        if (key.n < 2 || key.p[0] != '+')
            continue;
        if (n > 0)
            out[n++] = ';';
        memcpy(out + n, key.p, key.n);
        n += key.n;
        if (val.n > 0) {
            out[n++] = '=';
            memcpy(out + n, val.p, val.n);
            n += val.n;
        }
    }
    return n;
}

/* Reads n decimal digits at p into *v; false if one is not a digit. */
static bool irc_tag_digits(const char *p, size_t n, int *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        *v = *v * 10 + (p[i] - '0');
    }
    return true;
}

/* Reads the fraction of a second after the '.' (n digits) as ms. */
static bool irc_tag_fraction(const char *p, size_t n, int *ms)
{
    int scale = 100;
    *ms = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        *ms += (p[i] - '0') * scale;
        scale /= 10;
    }
    return n > 0;
}

bool irc_parse_time(const char *p, size_t n, int64_t *ms)
{
    struct tm tm = {0};
    int frac = 0;
    if (n < 20 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' ||
        p[16] != ':' || p[n - 1] != 'Z' || !irc_tag_digits(p, 4, &tm.tm_year) ||
        !irc_tag_digits(p + 5, 2, &tm.tm_mon) ||
        !irc_tag_digits(p + 8, 2, &tm.tm_mday) ||
        !irc_tag_digits(p + 11, 2, &tm.tm_hour) ||
        !irc_tag_digits(p + 14, 2, &tm.tm_min) ||
        !irc_tag_digits(p + 17, 2, &tm.tm_sec))
        return false;
    if (n > 20 && (p[19] != '.' || !irc_tag_fraction(p + 20, n - 21, &frac)))
        return false;
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *ms = (int64_t)timegm(&tm) * 1000 + frac;
    return true;
}

bool irc_parse_msgid(const char *p, size_t n, uint64_t *id)
{
    size_t i = 0;
    *id = 0;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        uint64_t d = (uint64_t)(p[i] - '0');
        if (*id > (UINT64_MAX - d) / 10)
            return false;
        *id = *id * 10 + d;
    }
    if (i == 0 || i == n)
        return i > 0;
    if (p[i] != '.')
        return false;
    size_t dot = i++;
    while (i < n && p[i] >= '0' && p[i] <= '9')
        i++;
    return i == n && i > dot + 1;
}
