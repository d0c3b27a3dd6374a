/*
 * when: the times /history takes; see when.h.
 */
#include "text/when.h"

#include <time.h>

/* Reads exactly digits decimal digits at *p (advancing it); -1 if not. */
static int when_num(const char **p, const char *end, int digits)
{
    int v = 0;
    for (int i = 0; i < digits; i++, (*p)++) {
        if (*p >= end || **p < '0' || **p > '9')
            return -1;
        v = v * 10 + (**p - '0');
    }
    return v;
}

/* Reads the character ch at *p (advancing it); false if it is not there. */
static bool when_sep(const char **p, const char *end, char ch)
{
    if (*p >= end || **p != ch)
        return false;
    (*p)++;
    return true;
}

/* Reads "HH:MM" or "HH:MM:SS" into tm; false if it is not one. */
static bool when_clock(const char **p, const char *end, struct tm *tm)
{
    tm->tm_hour = when_num(p, end, 2);
    if (tm->tm_hour < 0 || tm->tm_hour > 23 || !when_sep(p, end, ':'))
        return false;
    tm->tm_min = when_num(p, end, 2);
    if (tm->tm_min < 0 || tm->tm_min > 59)
        return false;
    if (*p < end) {
        if (!when_sep(p, end, ':'))
            return false;
        tm->tm_sec = when_num(p, end, 2);
        if (tm->tm_sec < 0 || tm->tm_sec > 59)
            return false;
    }
    return *p == end;
}

/* Reads "YYYY-MM-DD" into tm; false if it is not one. */
static bool when_date(const char **p, const char *end, struct tm *tm)
{
    int y = when_num(p, end, 4);
    if (y < 1970 || !when_sep(p, end, '-'))
        return false;
    int m = when_num(p, end, 2);
    if (m < 1 || m > 12 || !when_sep(p, end, '-'))
        return false;
    int d = when_num(p, end, 2);
    if (d < 1 || d > 31)
        return false;
    tm->tm_year = y - 1900;
    tm->tm_mon = m - 1;
    tm->tm_mday = d;
    return true;
}

bool when_parse(const char *s, size_t n, int64_t now_ms, int64_t *out)
{
    const char *p = s, *end = s + n;
    struct tm tm = {0};
    if (n == 5 || n == 8) { /* HH:MM, HH:MM:SS: today */
        time_t now = (time_t)(now_ms / 1000);
        gmtime_r(&now, &tm);
        tm.tm_sec = 0;
        if (!when_clock(&p, end, &tm))
            return false;
    } else {
        if (!when_date(&p, end, &tm))
            return false;
        if (p < end && !(when_sep(&p, end, 'T') && when_clock(&p, end, &tm)))
            return false;
    }
    int mday = tm.tm_mday;
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_mday != mday) /* 02-31 is no day */
        return false;
    *out = (int64_t)t * 1000;
    return true;
}
