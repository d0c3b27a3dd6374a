/*
 * sanitize: makes a line of user text safe to show on another terminal.
 *
 * Bytes that are not valid UTF-8 become U+FFFD (one per maximal invalid
 * subsequence, as Unicode recommends); control characters other than TAB
 * (C0, DEL and C1) are removed, which defuses ESC sequences; trailing spaces
 * and tabs are trimmed. Pure and allocation-free.
 */
#ifndef PARLEY_SANITIZE_H
#define PARLEY_SANITIZE_H

#include <stdbool.h>
#include <stddef.h>

/* The largest output for n input bytes: every byte may become U+FFFD. */
#define SANITIZE_MAX(n) ((n)*3)

/*
 * Sanitizes the n bytes at in. Returns either in itself (when nothing had to
 * change but trimming) or out, which must have room for SANITIZE_MAX(n)
 * bytes; *outlen receives the resulting length (0 for a line to ignore).
 */
const char *sanitize_line(const char *in, size_t n, char *out, size_t *outlen);

/* Returns true if the n bytes at s are valid UTF-8 without control chars. */
bool sanitize_is_clean(const char *s, size_t n);

#endif
