/*
 * fuzz_check: checks shared by the fuzz targets, written independently of
 * the code under test (they must not share its bugs).
 *
 * fuzz_utf8_next decodes one code point strictly by the table of
 * well-formed byte sequences in the Unicode standard (section 3.9, table
 * 3-7): no overlongs, no surrogates, nothing above U+10FFFF.
 */
#ifndef PARLEY_FUZZ_CHECK_H
#define PARLEY_FUZZ_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Rows of table 3-7: first byte range, then the allowed range per byte. */
struct fuzz_utf8_row {
    uint8_t lo[4], hi[4];
    size_t len;
};

static const struct fuzz_utf8_row fuzz_utf8_rows[] = {
    {{0x00}, {0x7f}, 1},
    {{0xc2, 0x80}, {0xdf, 0xbf}, 2},
    {{0xe0, 0xa0, 0x80}, {0xe0, 0xbf, 0xbf}, 3},
    {{0xe1, 0x80, 0x80}, {0xec, 0xbf, 0xbf}, 3},
    {{0xed, 0x80, 0x80}, {0xed, 0x9f, 0xbf}, 3},
    {{0xee, 0x80, 0x80}, {0xef, 0xbf, 0xbf}, 3},
    {{0xf0, 0x90, 0x80, 0x80}, {0xf0, 0xbf, 0xbf, 0xbf}, 4},
    {{0xf1, 0x80, 0x80, 0x80}, {0xf3, 0xbf, 0xbf, 0xbf}, 4},
    {{0xf4, 0x80, 0x80, 0x80}, {0xf4, 0x8f, 0xbf, 0xbf}, 4},
};

/*
 * Looks at the bytes at s (n available). Returns the length of the
 * well-formed sequence there and its code point in *cp, or 0 if there is
 * none; then *prefix receives the length of the longest prefix of a
 * well-formed sequence found there (at least 1): the "maximal subpart".
 */
static inline size_t fuzz_utf8_next(const uint8_t *s, size_t n, uint32_t *cp,
                                    size_t *prefix)
{
    for (size_t r = 0; r < sizeof fuzz_utf8_rows / sizeof fuzz_utf8_rows[0];
         r++) {
        const struct fuzz_utf8_row *row = &fuzz_utf8_rows[r];
        if (s[0] < row->lo[0] || s[0] > row->hi[0])
            continue;
        size_t i = 1;
        while (i < row->len && i < n && s[i] >= row->lo[i] &&
               s[i] <= row->hi[i])
            i++;
        if (i < row->len) {
            *prefix = i;
            return 0;
        }
        static const uint8_t mask[5] = {0, 0x7f, 0x1f, 0x0f, 0x07};
        uint32_t v = s[0] & mask[row->len];
        for (size_t k = 1; k < row->len; k++)
            v = v << 6 | (s[k] & 0x3f);
        *cp = v;
        return row->len;
    }
    *prefix = 1;
    return 0;
}

/* Returns true for a code point the protocol never lets through. */
static inline bool fuzz_is_control(uint32_t cp)
{
    return (cp < 0x20 && cp != '\t') || (cp >= 0x7f && cp <= 0x9f);
}

/*
 * Returns true for a code point the protocol removes because its effect
 * reaches past its place: bidi embeddings and overrides (U+202A..U+202E),
 * isolates (U+2066..U+2069) and deprecated format controls (U+206A..U+206F).
 */
static inline bool fuzz_is_bidi_control(uint32_t cp)
{
    return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x206f);
}

/* Returns true for U+2028 and U+2029, which the protocol turns into spaces. */
static inline bool fuzz_is_separator(uint32_t cp)
{
    return cp == 0x2028 || cp == 0x2029;
}

/* Prints a message and the offending bytes, then aborts (a fuzz crash). */
static inline void fuzz_fail(const char *what, const void *p, size_t n)
{
    const uint8_t *s = p;
    fprintf(stderr, "fuzz check failed: %s\n  bytes (%zu):", what, n);
    for (size_t i = 0; i < n && i < 512; i++)
        fprintf(stderr, " %02x", s[i]);
    fprintf(stderr, "%s\n", n > 512 ? " ..." : "");
    abort();
}

/*
 * A writable region that ends right before an inaccessible page, so that
 * reading or writing even one byte past data placed at its end faults.
 * This catches overruns inside uninstrumented code too (libc's strtoull,
 * say), which AddressSanitizer does not see.
 */
struct fuzz_guard {
    uint8_t *base;
    size_t size; /* usable bytes before the guard page */
};

/* Maps a guarded region of at least size bytes (once; aborts on failure). */
static inline void fuzz_guard_init(struct fuzz_guard *g, size_t size)
{
    if (g->base)
        return;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size = (size + page - 1) / page * page + page; /* + room for NOGUARD */
    uint8_t *m = mmap(NULL, size + page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || mprotect(m + size, page, PROT_NONE) != 0)
        abort();
    g->base = m;
    g->size = size;
}

/*
 * Copies n bytes (at most g->size) so that they end at the guard page, and
 * returns where they start. With PARLEY_FUZZ_NOGUARD set in the
 * environment the copy is placed one page earlier instead, so a known
 * overrun does not stop a run looking for other bugs.
 */
static inline void *fuzz_guard_copy(struct fuzz_guard *g, const void *p,
                                    size_t n)
{
    static int noguard = -1;
    if (noguard < 0)
        noguard = getenv("PARLEY_FUZZ_NOGUARD") != NULL;
    if (n > g->size)
        abort();
    size_t end = g->size;
    if (noguard) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        if (end >= n + page)
            end -= page;
    }
    uint8_t *dst = g->base + end - n;
    if (n)
        memcpy(dst, p, n);
    return dst;
}

/*
 * Checks that the n bytes at p are valid UTF-8 holding no control
 * character other than TAB, except for the bytes in allow (e.g. "\r\n"),
 * and no bidi control or line or paragraph separator.
 */
static inline void fuzz_check_text(const void *p, size_t n, const char *allow)
{
    const uint8_t *s = p;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t bad;
        size_t k = fuzz_utf8_next(s + i, n - i, &cp, &bad);
        if (k == 0)
            fuzz_fail("invalid UTF-8", p, n);
        if (fuzz_is_bidi_control(cp) || fuzz_is_separator(cp))
            fuzz_fail("bidi control or separator", p, n);
        if (fuzz_is_control(cp)) {
            bool ok = false;
            for (const char *a = allow; a && *a; a++)
                if ((uint32_t)(uint8_t)*a == cp)
                    ok = true;
            if (!ok)
                fuzz_fail("control character", p, n);
        }
        i += k;
    }
}

#endif
