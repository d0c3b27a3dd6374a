/*
 * fuzz_irctags: the IRCv3 tag values parley reads (irc/tags.c) against
 * references written here independently: the client-only tags kept from
 * a tag block, server-time timestamps and our msgids.
 *
 * The first byte picks what the rest is fed to; the rest sits in a buffer
 * of exactly its size, so that the sanitizers catch a read past its end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "irc/parse.h"
#include "irc/tags.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...)                                                              \
    do {                                                                       \
        fprintf(stderr, __VA_ARGS__);                                          \
        abort();                                                               \
    } while (0)

/* The client-only tags of the block s (n bytes), as a reference. */
static size_t ref_client_tags(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i <= n;) {
        size_t e = i;
        while (e < n && s[e] != ';')
            e++;
        size_t k = i;
        while (k < e && s[k] != '=')
            k++;
        if (k - i >= 2 && s[i] == '+') {
            if (o)
                out[o++] = ';';
            memcpy(out + o, s + i, k - i);
            o += k - i;
            if (e > k + 1) {
                memcpy(out + o, s + k, e - k);
                o += e - k;
            }
        }
        i = e + 1;
    }
    return o;
}

static void check_client_tags(const char *s, size_t n)
{
    char *got = malloc(n + 1), *want = malloc(n + 1);
    struct irc_slice tags = {s, n};
    size_t g = irc_client_tags(&tags, got);
    size_t w = ref_client_tags(s, n, want);
    if (g != w || memcmp(got, want, g) != 0)
        FAIL("client tags: got %zu bytes, want %zu\n", g, w);
    free(got);
    free(want);
}

static bool digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return n > 0;
}

/* Accepts ^[0-9]+(\.[0-9]+)?$ with the number at most UINT64_MAX. */
static void check_msgid(const char *s, size_t n)
{
    const char *dot = memchr(s, '.', n);
    size_t k = dot ? (size_t)(dot - s) : n;
    bool ok = digits(s, k) && (!dot || digits(dot + 1, n - k - 1));
    size_t z = 0;
    while (ok && z + 1 < k && s[z] == '0')
        z++;
    const char *max = "18446744073709551615";
    if (ok && (k - z > 20 || (k - z == 20 && memcmp(s + z, max, 20) > 0)))
        ok = false;
    uint64_t id, want = 0;
    bool got = irc_parse_msgid(s, n, &id);
    if (got != ok)
        FAIL("msgid: got %d, want %d\n", got, ok);
    for (size_t i = z; ok && i < k; i++)
        want = want * 10 + (uint64_t)(s[i] - '0');
    if (ok && id != want)
        FAIL("msgid: got %llu, want %llu\n", (unsigned long long)id,
             (unsigned long long)want);
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; linear in d). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The value of n digits at p. */
static int64_t num(const char *p, size_t n)
{
    int64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (p[i] - '0');
    return v;
}

/* Accepts YYYY-MM-DDThh:mm:ss[.f+]Z with fields in range. */
static void check_time(const char *s, size_t n)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    bool ok = n >= 20 && s[n - 1] == 'Z';
    for (size_t i = 0; ok && i < 19; i++)
        ok = shape[i] == 'd' ? s[i] >= '0' && s[i] <= '9' : s[i] == shape[i];
    if (ok && n > 20)
        ok = s[19] == '.' && digits(s + 20, n - 21);
    int64_t mon = ok ? num(s + 5, 2) : 0, day = ok ? num(s + 8, 2) : 0;
    int64_t h = ok ? num(s + 11, 2) : 0, mi = ok ? num(s + 14, 2) : 0;
    int64_t sec = ok ? num(s + 17, 2) : 0;
    ok = ok && mon >= 1 && mon <= 12 && day >= 1 && day <= 31 && h <= 23 &&
         mi <= 59 && sec <= 60;
    int64_t ms;
    bool got = irc_parse_time(s, n, &ms);
    if (got != ok)
        FAIL("time: got %d, want %d\n", got, ok);
    if (!ok)
        return;
    int64_t frac = 0;
    for (size_t i = 0; i < 3; i++)
        frac = frac * 10 + (20 + i < n - 1 ? s[20 + i] - '0' : 0);
    int64_t want =
        ((days_from_civil(num(s, 4), mon, day) * 24 + h) * 60 + mi) * 60 +
        sec;
    want = want * 1000 + frac;
    if (ms != want)
        FAIL("time: got %lld, want %lld\n", (long long)ms, (long long)want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t n = size - 1;
    char *s = malloc(n ? n : 1);
    memcpy(s, data + 1, n);
    switch (data[0] % 3) {
    case 0:
        check_client_tags(s, n);
        break;
    case 1:
        check_msgid(s, n);
        break;
    default:
        check_time(s, n);
        break;
    }
    free(s);
    return 0;
}
