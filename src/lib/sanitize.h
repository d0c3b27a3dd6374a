/*
 * sanitize: makes a line of user text safe to show on another terminal.
 *
 * Bytes that are not valid UTF-8 become U+FFFD (one per maximal invalid
 * subsequence, as Unicode recommends); control characters other than TAB
 * (C0, DEL and C1) are removed, which defuses ESC sequences; so are the
 * bidi controls that carry a state past their place (embeddings and
 * overrides U+202A-U+202E, isolates U+2066-U+2069) and the deprecated
 * format controls U+206A-U+206F, so one line cannot reorder the rest of
 * what a terminal shows; the line and paragraph separators U+2028 and
 * U+2029 become spaces, so one line cannot split into two. Trailing spaces
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

/*
 * Returns true if sanitize_line would leave the n bytes at s as they are
 * (but for trimming): valid UTF-8 holding nothing it removes or replaces.
 */
bool sanitize_is_clean(const char *s, size_t n);

/*
 * Like sanitize_line, but keeps the C0 controls IRC clients use for
 * formatting and CTCP (0x01-0x04, 0x0F, 0x11, 0x16, 0x1D-0x1F), so that
 * bold, colours and CTCP ACTION survive from one IRC client to another.
 */
const char *sanitize_irc(const char *in, size_t n, char *out, size_t *outlen);

/*
 * Removes IRC formatting from text bound for a plain terminal: the codes
 * sanitize_irc keeps, with a colour code's numbers (\x03NN,MM, \x04 with
 * hex); other controls but TAB are dropped too. Returns in
 * itself when there is nothing to remove, or out (room for n bytes);
 * *outlen receives the length.
 */
const char *sanitize_strip_format(const char *in, size_t n, char *out,
                                  size_t *outlen);

#endif
