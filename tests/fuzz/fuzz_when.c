/*
 * fuzz_when: the reader of /history's times (src/text/when.c) against its
 * promises.
 *
 * Input: the whole input is the time, as typed after "/history before".
 * Checked: an accepted time is 5 or 8 bytes ("HH:MM", "HH:MM:SS") on the
 * day of "now", or starts with a date "YYYY-MM-DD" that it stands for
 * (formatted back, the day is the same); it is a whole second at or after
 * 1970. The input lives in a buffer of exactly its size, so the sanitizers
 * see any read past it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz_check.h"
#include "text/when.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64)
        return 0;
    char *s = malloc(size ? size : 1);
    memcpy(s, data, size);
    const int64_t now = 1796031949228; /* a fixed "now" */
    int64_t t = 0;
    if (when_parse(s, size, now, &t)) {
        if (t < 0 || t % 1000 != 0)
            fuzz_fail("time before 1970 or not a whole second", s, size);
        time_t secs = (time_t)(t / 1000), base = (time_t)(now / 1000);
        struct tm tm, day;
        gmtime_r(&secs, &tm);
        gmtime_r(&base, &day);
        char ymd[16];
        snprintf(ymd, sizeof ymd, "%04d-%02d-%02d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday);
        if (size == 5 || size == 8) {
            if (tm.tm_yday != day.tm_yday || tm.tm_year != day.tm_year)
                fuzz_fail("a clock time not on today", s, size);
        } else if (size < 10 || memcmp(s, ymd, 10) != 0) {
            fuzz_fail("a date that is not the day it stands for", s, size);
        }
    }
    free(s);
    return 0;
}
