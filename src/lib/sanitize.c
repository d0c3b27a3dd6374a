/*
 * sanitize: makes a line of user text safe to show on another terminal.
 */
#include "lib/sanitize.h"

#include <stdint.h>
#include <string.h>

static const char sanitize_fffd[3] = {(char)0xef, (char)0xbf, (char)0xbd};

/* The C0 controls IRC uses for formatting and CTCP, as a bit set. */
#define SANITIZE_IRC_KEEP                                                      \
    ((1u << 0x01) | (1u << 0x02) | (1u << 0x03) | (1u << 0x04) |               \
     (1u << 0x0f) | (1u << 0x11) | (1u << 0x16) | (1u << 0x1d) |               \
     (1u << 0x1e) | (1u << 0x1f))

/* Returns true for printable ASCII and TAB: bytes that pass unchanged. */
static inline bool sanitize_plain(uint8_t c)
{
    return (c >= 0x20 && c < 0x7f) || c == '\t';
}

/* Returns true for bytes that pass unchanged, given the kept C0 set. */
static inline bool sanitize_passes(uint8_t c, uint32_t keep)
{
    return sanitize_plain(c) || (c < 0x20 && ((keep >> c) & 1));
}

/*
 * Returns the length of the well-formed UTF-8 sequence at s (at most n bytes
 * available), or 0 if it is ill-formed; then *bad receives the length of the
 * maximal invalid subpart to replace (at least 1).
 */
static size_t sanitize_utf8(const uint8_t *s, size_t n, size_t *bad)
{
    uint8_t c = s[0];
    size_t need;
    uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        *bad = 1;
        return 0;
    }
    size_t i = 1;
    for (; i < need && i < n; i++) {
        uint8_t min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xbf;
        if (s[i] < min || s[i] > max)
            break;
    }
    if (i == need)
        return need;
    *bad = i;
    return 0;
}

/* What becomes of a well-formed character that is not plain ASCII. */
enum sanitize_fate {
    SANITIZE_KEEP,  /* passes unchanged */
    SANITIZE_DROP,  /* removed */
    SANITIZE_SPACE, /* replaced by a space */
};

/*
 * Returns the fate of the well-formed k-byte sequence at s (k >= 2). All
 * the characters that change are 2 or 3 bytes long with a fixed lead byte,
 * so this is a few compares.
 */
static inline enum sanitize_fate sanitize_fate(const uint8_t *s, size_t k)
{
    /* U+0080..U+009F (C1 controls) are encoded as C2 80..C2 9F. */
    if (k == 2)
        return s[0] == 0xc2 && s[1] < 0xa0 ? SANITIZE_DROP : SANITIZE_KEEP;
    if (k != 3 || s[0] != 0xe2)
        return SANITIZE_KEEP;
    /* U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR: E2 80 A8..A9;
     * U+202A..U+202E, bidi embeddings and overrides: E2 80 AA..AE. */
    if (s[1] == 0x80 && s[2] >= 0xa8 && s[2] <= 0xae)
        return s[2] <= 0xa9 ? SANITIZE_SPACE : SANITIZE_DROP;
    /* U+2066..U+2069, bidi isolates, and U+206A..U+206F, deprecated
     * format controls: E2 81 A6..AF. */
    if (s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xaf)
        return SANITIZE_DROP;
    return SANITIZE_KEEP;
}

/* sanitize_is_clean, keeping the C0 controls in keep. */
static bool sanitize_clean_keep(const char *str, size_t n, uint32_t keep)
{
    const uint8_t *s = (const uint8_t *)str;
    size_t i = 0, bad;
    while (i < n) {
        if (sanitize_passes(s[i], keep)) {
            i++;
            continue;
        }
        size_t k = s[i] >= 0x80 ? sanitize_utf8(s + i, n - i, &bad) : 0;
        if (k == 0 || sanitize_fate(s + i, k) != SANITIZE_KEEP)
            return false;
        i += k;
    }
    return true;
}

bool sanitize_is_clean(const char *str, size_t n)
{
    return sanitize_clean_keep(str, n, 0);
}

/* Returns n minus the trailing spaces and tabs of s. */
static size_t sanitize_trim(const char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return n;
}

/* sanitize_line, keeping the C0 controls in keep. */
static const char *sanitize_keep(const char *in, size_t n, char *out,
                                 size_t *outlen, uint32_t keep)
{
    const uint8_t *s = (const uint8_t *)in;
    size_t i = 0;
    while (i < n && sanitize_plain(s[i]))
        i++;
    if (i == n || sanitize_clean_keep(in + i, n - i, keep)) {
        *outlen = sanitize_trim(in, n);
        return in;
    }
    memcpy(out, in, i);
    size_t o = i, bad;
    while (i < n) {
        uint8_t c = s[i];
        if (sanitize_passes(c, keep)) {
            out[o++] = (char)c;
            i++;
        } else if (c < 0x80) {
            i++; /* C0 control or DEL: dropped */
        } else {
            size_t k = sanitize_utf8(s + i, n - i, &bad);
            if (k == 0) {
                memcpy(out + o, sanitize_fffd, 3);
                o += 3;
                i += bad;
            } else {
                enum sanitize_fate fate = sanitize_fate(s + i, k);
                if (fate == SANITIZE_KEEP) {
                    memcpy(out + o, in + i, k);
                    o += k;
                } else if (fate == SANITIZE_SPACE) {
                    out[o++] = ' ';
                }
                i += k;
            }
        }
    }
    *outlen = sanitize_trim(out, o);
    return out;
}

const char *sanitize_line(const char *in, size_t n, char *out, size_t *outlen)
{
    return sanitize_keep(in, n, out, outlen, 0);
}

const char *sanitize_irc(const char *in, size_t n, char *out, size_t *outlen)
{
    return sanitize_keep(in, n, out, outlen, SANITIZE_IRC_KEEP);
}

/* Returns how many of the n bytes at s are digits (at most max). */
static size_t sanitize_digits(const char *s, size_t n, size_t max, bool hex)
{
    size_t k = 0;
    while (k < n && k < max &&
           ((s[k] >= '0' && s[k] <= '9') ||
            (hex && ((s[k] | 0x20) >= 'a' && (s[k] | 0x20) <= 'f'))))
        k++;
    return k;
}

/*
 * Returns how many bytes the colour arguments after \x03 (or \x04, hex)
 * take at s: "N", "NN", "N,M", "NN,MM"; a comma not followed by a digit is
 * text.
 */
static size_t sanitize_colour(const char *s, size_t n, bool hex)
{
    size_t width = hex ? 6 : 2;
    size_t k = sanitize_digits(s, n, width, hex);
    if (k > 0 && k < n && s[k] == ',') {
        size_t m = sanitize_digits(s + k + 1, n - k - 1, width, hex);
        if (m > 0)
            k += 1 + m;
    }
    return k;
}

const char *sanitize_strip_format(const char *in, size_t n, char *out,
                                  size_t *outlen)
{
    size_t i = 0;
    while (i < n && ((uint8_t)in[i] >= 0x20 || in[i] == '\t') && in[i] != 0x7f)
        i++;
    if (i == n) {
        *outlen = n;
        return in;
    }
    memcpy(out, in, i);
    size_t o = i;
    while (i < n) {
        uint8_t c = (uint8_t)in[i++];
        if (c == 0x03 || c == 0x04)
            i += sanitize_colour(in + i, n - i, c == 0x04);
        else if ((c >= 0x20 || c == '\t') && c != 0x7f)
            out[o++] = (char)c;
    }
    *outlen = o;
    return out;
}
