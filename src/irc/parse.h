/*
 * parse: splits one IRC line into tags, source, command and parameters,
 * and reads and writes IRCv3 message tags.
 *
 * A line is what the framer hands out, its line end already removed:
 *
 *   ['@' tags SPACE] [':' source SPACE] command *(SPACE middle)
 *       [SPACE ':' trailing]
 *
 * where SPACE is one or more spaces (modern.ircdocs.horse, "Message
 * Format"; IRCv3 message-tags). Tags start only at the first byte of the
 * line; spaces before the source or the command are skipped. A parameter
 * that starts with ':' is the trailing one: it takes the rest of the line,
 * spaces included, and may be empty. The 15th parameter takes the rest of
 * the line even without ':' (RFC 2812), so no line has more than
 * IRC_MAX_PARAMS. Spaces at the end of the line are no parameter. A ':'
 * inside a middle parameter ("a:b") is an ordinary byte.
 *
 * Everything here is pure and allocates nothing. The parser reads exactly
 * the bytes it is given: a NUL byte is data, never a terminator (a caller
 * that refuses lines holding NUL checks that itself). The parsed slices
 * point into the caller's line and live as long as it does.
 */
#ifndef PARLEY_IRC_PARSE_H
#define PARLEY_IRC_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* The most parameters one line is parsed into (RFC 2812). */
#define IRC_MAX_PARAMS 15
/* The most bytes after the tag block: 512 with CRLF, which is removed. */
#define IRC_BODY_MAX 510
/* The most bytes of the tag block, '@' and the space after it included. */
#define IRC_TAGS_MAX 8191

/* A byte range inside a line; p is never NULL, even when n is 0. */
struct irc_slice {
    const char *p;
    size_t n;
};

/* One parsed line. Slices point into the line given to irc_parse. */
struct irc_msg {
    struct irc_slice tags;   /* raw tag block without '@' and the space; n 0:
                                none (or an empty block) */
    struct irc_slice source; /* without ':'; n 0: none (or a bare ':') */
    struct irc_slice cmd;    /* the command word as sent (case kept) */
    struct irc_slice params[IRC_MAX_PARAMS]; /* the first nparams are set */
    size_t nparams;
};

/* What irc_parse found. */
enum irc_parse {
    IRC_PARSE_OK,            /* *m holds the message */
    IRC_PARSE_EMPTY,         /* nothing but spaces (or nothing): ignore it */
    IRC_PARSE_TAGS_TOO_LONG, /* the tag block passes IRC_TAGS_MAX */
    IRC_PARSE_TOO_LONG,      /* the body passes IRC_BODY_MAX: answer 417 */
    IRC_PARSE_NO_COMMAND,    /* tags or a source but no command */
};

/*
 * Parses the len bytes at line (not NUL-terminated; line is not NULL) into
 * *m. The tag block is '@', the bytes up to the first space, and that
 * space (or the end of the line); the body is every byte after it (the
 * whole line without tags). The checks run in this order: a line of
 * nothing but spaces is IRC_PARSE_EMPTY, whatever its length; a tag block
 * longer than IRC_TAGS_MAX is IRC_PARSE_TAGS_TOO_LONG; a body longer than
 * IRC_BODY_MAX is IRC_PARSE_TOO_LONG; tags or a source with no command
 * after them is IRC_PARSE_NO_COMMAND. The command is not checked against
 * anything: any word is returned as is. On IRC_PARSE_OK, m->cmd is not
 * empty and every slice points into the line; on any other result *m is
 * cleared to empty slices at line. Pure.
 */
enum irc_parse irc_parse(const char *line, size_t len, struct irc_msg *m);

/*
 * Returns true if m's command is upper (a NUL-terminated word in upper
 * case, such as "PRIVMSG" or "001"), ignoring ASCII case in the command.
 */
bool irc_cmd_is(const struct irc_msg *m, const char *upper);

/*
 * Takes the next tag from *rest (start with m->tags) and advances *rest
 * past it. A tag is key[=value] up to the next ';'. The key is returned as
 * sent: it may start with '+' (a client-only tag) and hold a vendor prefix
 * ("draft/", "example.com/"); keys are case-sensitive and not checked.
 * *raw_value is still escaped (see irc_tag_unescape); it is empty both for
 * "key" and for "key=", which mean the same. Elements with an empty key
 * (";;", "=x") are skipped. Returns false, leaving *key and *raw_value
 * alone, when no tag is left. A key may occur more than once; by the spec
 * the last occurrence counts. Pure.
 */
bool irc_tag_next(struct irc_slice *rest, struct irc_slice *key,
                  struct irc_slice *raw_value);

/*
 * Unescapes the n bytes of a tag value at in into out (room for n bytes;
 * out may be in itself) and returns the length written: "\:" gives ';',
 * "\s" a space, "\\" a backslash, "\r" CR, "\n" LF; a backslash before any
 * other byte is dropped ("\b" gives "b"), and so is a lone backslash at
 * the end. Pure.
 */
size_t irc_tag_unescape(const char *in, size_t n, char *out);

/*
 * Escapes the n bytes at in as a tag value into out (room for 2 * n bytes;
 * out must not overlap in) and returns the length written: ';', space,
 * backslash, CR and LF become "\:", "\s", "\\", "\r" and "\n"; every other
 * byte, NUL included, is copied (the spec has no escape for NUL, so a
 * caller must not hand one in if the result goes on the wire).
 * irc_tag_unescape turns the result back into the input. Pure.
 */
size_t irc_tag_escape(const char *in, size_t n, char *out);

#endif
