/*
 * Unit tests for core/mask.c: wildcard matching (checked against a
 * brute-force reference on every small case, and its cost counted in
 * steps on pathological masks) and the normalizing of typed masks.
 */
#include "core/mask.h"

#include "unit.h"

/* ------------------------------------------------------------------------
 * Matching
 * ------------------------------------------------------------------------ */

/* mask_match on two NUL-terminated strings. */
static bool match(const char *mask, const char *s)
{
    return mask_match(mask, strlen(mask), s, strlen(s));
}

/* The reference: tries every length a '*' may take, by recursion. */
static bool ref_match(const char *m, size_t mn, const char *s, size_t sn)
{
    if (mn == 0)
        return sn == 0;
    if (m[0] == '*') {
        for (size_t k = 0; k <= sn; k++)
            if (ref_match(m + 1, mn - 1, s + k, sn - k))
                return true;
        return false;
    }
    if (sn == 0)
        return false;
    bool one = m[0] == '?' || m[0] == s[0] ||
               (m[0] >= 'a' && m[0] <= 'z' && s[0] == m[0] - 32) ||
               (m[0] >= 'A' && m[0] <= 'Z' && s[0] == m[0] + 32);
    return one && ref_match(m + 1, mn - 1, s + 1, sn - 1);
}

TEST(match_literal_ignoring_ascii_case)
{
    CHECK(match("alice!bob@host", "alice!bob@host"));
    CHECK(match("ALICE!Bob@HOST", "alice!bOB@host"));
    CHECK(!match("alice!bob@host", "alice!bob@hos"));
    CHECK(!match("alice!bob@hos", "alice!bob@host"));
    CHECK(match("", ""));
    CHECK(!match("", "a"));
    /* Only ASCII letters fold: no rfc1459 casemapping, no UTF-8. */
    CHECK(!match("[a]", "{a}"));
    CHECK(!match("\xc3\x89", "\xc3\xa9"));
    CHECK(!match("@", "`"));
}

TEST(match_wildcards)
{
    CHECK(match("*", ""));
    CHECK(match("*", "anything at all"));
    CHECK(match("**", ""));
    CHECK(!match("?", ""));
    CHECK(match("?", "x"));
    CHECK(!match("?", "xy"));
    CHECK(match("*?", "x"));
    CHECK(!match("*?", ""));
    CHECK(match("a?c", "abc"));
    CHECK(!match("a?c", "ac"));
    CHECK(match("a*c", "ac"));
    CHECK(match("a*c", "abbbc"));
    CHECK(!match("a*c", "abbbcd"));
    CHECK(match("alice!*@*", "Alice!~a@10.0.0.1"));
    CHECK(match("*!*@*.example.com", "bob!b@gw.example.com"));
    CHECK(!match("*!*@*.example.com", "bob!b@example.com"));
    CHECK(match("*!*@*", "x!y@z"));
}

TEST(match_needs_backtracking)
{
    CHECK(match("*ab", "aab"));
    CHECK(match("a*b*c", "abxbc"));
    CHECK(match("*a*b", "bab"));
    CHECK(match("*aab", "aaaab"));
    CHECK(!match("*a*b", "bbba"));
    CHECK(match("*?b?", "abbb"));
}

TEST(match_nul_is_a_byte)
{
    CHECK(mask_match("a?c", 3, "a\0c", 3));
    CHECK(mask_match("a\0*", 3, "a\0xyz", 5));
    CHECK(!mask_match("a\0", 2, "a", 1));
}

/* Fills buf with the k-th string of length n over the given alphabet. */
static void nth_string(char *buf, size_t n, unsigned k, const char *alpha,
                       unsigned na)
{
    for (size_t i = 0; i < n; i++, k /= na)
        buf[i] = alpha[k % na];
}

TEST(match_agrees_with_reference_on_every_small_case)
{
    /* Masks up to 6 bytes over a, B, * and ?, strings up to 6 over a, b. */
    char m[6], s[6];
    unsigned mpow = 1;
    for (size_t mn = 0; mn <= 6; mn++, mpow *= 4) {
        for (unsigned mk = 0; mk < mpow; mk++) {
            nth_string(m, mn, mk, "aB*?", 4);
            unsigned spow = 1;
            for (size_t sn = 0; sn <= 6; sn++, spow *= 2) {
                for (unsigned sk = 0; sk < spow; sk++) {
                    nth_string(s, sn, sk, "ab", 2);
                    size_t steps = 0;
                    bool got = mask_match_count(m, mn, s, sn, &steps);
                    if (got != ref_match(m, mn, s, sn)) {
                        printf("    mask [%.*s], string [%.*s]\n", (int)mn, m,
                               (int)sn, s);
                        CHECK(!"match differs from the reference");
                        return;
                    }
                    CHECK(steps <= (mn + 1) * (sn + 2));
                }
            }
        }
    }
}

/* Counts the steps of matching mask against s; checks the result. */
static size_t steps_of(const char *mask, size_t mlen, const char *s,
                       size_t slen, bool want)
{
    size_t steps = 0;
    CHECK_EQ(mask_match_count(mask, mlen, s, slen, &steps), want);
    CHECK(steps <= (mlen + 1) * (slen + 2));
    return steps;
}

TEST(pathological_masks_take_linear_steps)
{
    enum { N = 4000 };
    static char mask[N], s[N];
    memset(s, 'a', N);
    for (size_t i = 0; i < N; i += 2) {
        mask[i] = '*';
        mask[i + 1] = 'a';
    }
    /* "*a*a...*a" against 4000 'a': a match in linearly many steps. */
    CHECK(steps_of(mask, N, s, N, true) <= 2 * (N + N));
    /* "*a*a...*b": no match; a naive recursive matcher would try about
     * C(4000, 2000) ways, the greedy one moves only the last '*'. */
    mask[N - 1] = 'b';
    CHECK(steps_of(mask, N, s, N, false) <= 2 * (N + N));
    /* "*?*?...": every '?' needs a byte. */
    for (size_t i = 1; i < N; i += 2)
        mask[i] = '?';
    CHECK(steps_of(mask, N, s, N / 2, true) <= 2 * (N + N / 2));
    CHECK(steps_of(mask, N, s, N / 2 - 1, false) <= 2 * (N + N / 2));
}

TEST(long_literal_after_a_star_costs_its_length_per_byte)
{
    /* "*aaa...ab" (MASK_MAX bytes) against 4000 'a': the worst shape,
     * bounded by mlen * slen, not exponential. */
    static char mask[MASK_MAX], s[4000];
    memset(mask, 'a', sizeof mask);
    mask[0] = '*';
    mask[MASK_MAX - 1] = 'b';
    memset(s, 'a', sizeof s);
    size_t steps = steps_of(mask, sizeof mask, s, sizeof s, false);
    CHECK(steps >= sizeof s); /* it does look at every start */
}

TEST(mask_match_adds_to_the_count)
{
    size_t steps = 1000;
    CHECK(mask_match_count("a*", 2, "abc", 3, &steps));
    CHECK(steps > 1000);
}

/* ------------------------------------------------------------------------
 * Normalizing
 * ------------------------------------------------------------------------ */

/* mask_normalize on a NUL-terminated string into a MASK_MAX + 1 buffer;
 * returns the result, or "(refused)" (static storage). */
static const char *norm(const char *in)
{
    static char out[MASK_MAX + 1];
    memset(out, 0x55, sizeof out);
    size_t n = mask_normalize(in, strlen(in), out, sizeof out);
    if (n == 0)
        return "(refused)";
    CHECK_EQ(strlen(out), n);
    return out;
}

TEST(normalize_table)
{
    static const char *const cases[][2] = {
        {"alice", "alice!*@*"},
        {"Alice", "Alice!*@*"},
        {"*", "*!*@*"},
        {"alice!bob", "alice!bob@*"},
        {"alice!", "alice!*@*"},
        {"!bob", "*!bob@*"},
        {"*@host", "*!*@host"},
        {"bob@host", "*!bob@host"},
        {"bob@", "*!bob@*"},
        {"@host", "*!*@host"},
        {"@", "*!*@*"},
        {"!", "*!*@*"},
        {"!@", "*!*@*"},
        {"host.name", "*!*@host.name"},
        {"*.example.com", "*!*@*.example.com"},
        {"10.0.0.*", "*!*@10.0.0.*"},
        {"::1", "*!*@::1"},
        {"2001:db8::*", "*!*@2001:db8::*"},
        {"a!b@c", "a!b@c"},
        {"a!@c", "a!*@c"},
        {"!b@", "*!b@*"},
        {"nick.dot!u", "nick.dot!u@*"},
        {"a!b!c@d", "a!b!c@d"},
        {"a@b!c", "*!a@b!c"},
        {"a@b@c", "*!a@b@c"},
        {"a!b@c!d@e", "a!b@c!d@e"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (strcmp(norm(cases[i][0]), cases[i][1]) != 0)
            printf("    input: \"%s\"\n", cases[i][0]);
        CHECK_STR(norm(cases[i][0]), cases[i][1]);
    }
}

TEST(normalize_refuses_bad_bytes_and_empty)
{
    static const char *const bad[] = {"",     "a b", "a,b", "a\rb",
                                      "a\nb", " ",   ",",   "*!*@host\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_STR(norm(bad[i]), "(refused)");
    char out[MASK_MAX + 1];
    CHECK_EQ(mask_normalize("a\0b", 3, out, sizeof out), 0);
    /* Tabs and other bytes pass; the caller decides about them. */
    CHECK_STR(norm("a\tb"), "a\tb!*@*");
}

TEST(normalize_limit_is_mask_max)
{
    char in[MASK_MAX + 8], out[MASK_MAX + 16];
    /* A nick of MASK_MAX - 4 bytes gives nick!*@*, MASK_MAX in all. */
    memset(in, 'n', sizeof in);
    CHECK_EQ(mask_normalize(in, MASK_MAX - 4, out, sizeof out), MASK_MAX);
    CHECK_EQ(out[MASK_MAX], '\0');
    CHECK_EQ(mask_normalize(in, MASK_MAX - 3, out, sizeof out), 0);
    /* Already full masks are held to the same limit. */
    memcpy(in, "a!b@", 4);
    CHECK_EQ(mask_normalize(in, MASK_MAX, out, sizeof out), MASK_MAX);
    CHECK_EQ(mask_normalize(in, MASK_MAX + 1, out, sizeof out), 0);
}

TEST(normalize_respects_cap)
{
    char out[16];
    memset(out, 0x55, sizeof out);
    /* "alice!*@*" is 9 bytes: it needs 10 with the NUL. */
    CHECK_EQ(mask_normalize("alice", 5, out, 10), 9);
    CHECK_STR(out, "alice!*@*");
    memset(out, 0x55, sizeof out);
    CHECK_EQ(mask_normalize("alice", 5, out, 9), 0);
    CHECK_EQ(mask_normalize("alice", 5, out, 0), 0);
    CHECK_EQ(out[9], 0x55); /* nothing written past cap */
}

TEST(normalized_masks_match_what_they_name)
{
    char out[MASK_MAX + 1];
    size_t n = mask_normalize("alice", 5, out, sizeof out);
    CHECK(mask_match(out, n, "ALICE!~a@host.example", 21));
    CHECK(!mask_match(out, n, "alicex!~a@host.example", 22));
    n = mask_normalize("*.example", 9, out, sizeof out);
    CHECK(mask_match(out, n, "bob!b@host.example", 18));
    CHECK(!mask_match(out, n, "host.example!b@other", 20));
}

UNIT_MAIN()
