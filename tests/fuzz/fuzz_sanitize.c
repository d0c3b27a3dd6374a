/*
 * fuzz_sanitize: sanitize_line against its promises and a reference.
 *
 * For any input line the output must be valid UTF-8 (checked by a strict
 * decoder of our own), hold no control character other than TAB, no bidi
 * control and no line or paragraph separator, end in
 * neither space nor TAB, fit SANITIZE_MAX, equal what an independent
 * reference makes of the input, and be a fixed point: sanitizing it again
 * returns it unchanged, in place. Input and output buffers have exactly
 * their sizes so that the sanitizers catch any access outside them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "lib/sanitize.h"

#define FUZZ_MAX_INPUT (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The reference: decode by table 3-7, replace each maximal subpart by
 * U+FFFD, drop control characters except TAB and bidi controls, turn
 * U+2028 and U+2029 into spaces, trim trailing blanks. Returns the output
 * length; out has room for 3 * n bytes.
 */
static size_t reference(const uint8_t *s, size_t n, uint8_t *out)
{
    size_t o = 0, i = 0;
    while (i < n) {
        uint32_t cp;
        size_t bad;
        size_t k = fuzz_utf8_next(s + i, n - i, &cp, &bad);
        if (k == 0) {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i += bad;
            continue;
        }
        if (fuzz_is_separator(cp)) {
            out[o++] = ' ';
        } else if (!fuzz_is_control(cp) && !fuzz_is_bidi_control(cp)) {
            memcpy(out + o, s + i, k);
            o += k;
        }
        i += k;
    }
    while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\t'))
        o--;
    return o;
}

/* Runs sanitize_line on an exact-size copy; returns a malloc'd result. */
static uint8_t *run(const uint8_t *s, size_t n, size_t *outlen, bool *same)
{
    char *in = malloc(n ? n : 1);
    char *out = malloc(n ? SANITIZE_MAX(n) : 1);
    if (n)
        memcpy(in, s, n);
    size_t len = (size_t)-1;
    const char *r = sanitize_line(in, n, out, &len);
    if (r != in && r != out)
        fuzz_fail("sanitize_line returned a foreign pointer", s, n);
    if (len > SANITIZE_MAX(n))
        fuzz_fail("output longer than SANITIZE_MAX", s, n);
    if (r == in && len > n)
        fuzz_fail("in-place output longer than input", s, n);
    uint8_t *copy = malloc(len ? len : 1);
    if (len)
        memcpy(copy, r, len);
    *outlen = len;
    *same = r == in;
    free(in);
    free(out);
    return copy;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    size_t n1;
    bool same1;
    uint8_t *once = run(data, size, &n1, &same1);

    fuzz_check_text(once, n1, NULL);
    if (n1 > 0 && (once[n1 - 1] == ' ' || once[n1 - 1] == '\t'))
        fuzz_fail("trailing blank in output", once, n1);
    if (!sanitize_is_clean((const char *)once, n1))
        fuzz_fail("sanitize_is_clean rejects the output", once, n1);

    uint8_t *want = malloc(size ? 3 * size : 1);
    size_t nw = reference(data, size, want);
    if (nw != n1 || (n1 > 0 && memcmp(want, once, n1) != 0))
        fuzz_fail("output differs from the reference", data, size);
    free(want);

    /* In place means nothing but trailing blanks had to change. */
    if (same1 && n1 > 0 && memcmp(data, once, n1) != 0)
        fuzz_fail("in-place output is not a prefix of the input", data, size);

    size_t n2;
    bool same2;
    uint8_t *twice = run(once, n1, &n2, &same2);
    if (!same2 || n2 != n1 || (n1 > 0 && memcmp(once, twice, n1) != 0))
        fuzz_fail("sanitizing the output again changed it", once, n1);
    free(once);
    free(twice);
    return 0;
}
