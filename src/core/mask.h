/*
 * mask: ban masks the way IRC uses them, nick!user@host with wildcards.
 *
 * A mask matches with '*' (any run of bytes, the empty one too) and '?'
 * (exactly one byte); every other byte matches itself, ignoring ASCII
 * case. There is no escape: a ban on a literal '*' is not expressible,
 * as in most ircds. Nothing here depends on a protocol; all of it is pure.
 */
#ifndef PARLEY_MASK_H
#define PARLEY_MASK_H

#include <stdbool.h>
#include <stddef.h>

/* The most bytes of a normalized mask; a longer one is refused. */
#define MASK_MAX 128

/*
 * Returns true if the slen bytes at s match the mlen bytes of mask. Works
 * by greedy two-pointer backtracking: on a mismatch it goes back only to
 * the last '*' seen, so it uses no recursion and no memory, and it takes
 * at most (mlen + 1) * (slen + 2) steps, never exponentially many. Masks
 * whose literal runs are short (such as "*a*a*a*b") take steps linear in
 * mlen + slen; only a long literal run after a '*' costs up to its length
 * per byte of s. NUL bytes are ordinary bytes.
 */
bool mask_match(const char *mask, size_t mlen, const char *s, size_t slen);

/*
 * The same as mask_match, and adds the number of steps taken to *steps
 * (a step looks at one byte of the mask: a '*' taken, a byte compared, or
 * a move back to the last '*'), so that tests can pin the cost of
 * pathological masks without timing anything.
 */
bool mask_match_count(const char *mask, size_t mlen, const char *s, size_t slen,
                      size_t *steps);

/*
 * Turns the n bytes a user typed at in into a full nick!user@host mask,
 * the way ircds do, and writes it to out NUL-terminated (cap bytes of
 * room). Returns its length, or 0 if the input is empty or holds a space,
 * comma, NUL, CR or LF, or if the result passes MASK_MAX or does not fit
 * in cap (with its NUL). The rules, in order:
 *   - with an '@': the bytes after the first '@' are the host; before it,
 *     "nick!user" (split at the first '!') or, with no '!', the user:
 *     "bob@host" -> "*!bob@host", "*@host" -> "*!*@host";
 *   - with a '!' and no '@': "alice!bob" -> "alice!bob@*";
 *   - with neither but a '.' or ':': a host, "host.name" ->
 *     "*!*@host.name", "::1" -> "*!*@::1";
 *   - otherwise a nick: "alice" -> "alice!*@*".
 * An empty nick, user or host becomes "*" ("!@" -> "*!*@*"). Case is kept.
 */
size_t mask_normalize(const char *in, size_t n, char *out, size_t cap);

#endif
