/*
 * tags: the IRCv3 tag values parley reads from clients: client-only tags
 * to relay, and CHATHISTORY's references (timestamps and msgids).
 */
#ifndef PARLEY_IRC_TAGS_H
#define PARLEY_IRC_TAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct irc_slice;

/*
 * Collects the client-only tags of a parsed tag block (irc_msg.tags):
 * those whose key starts with '+' and has a name after it, as sent
 * ("+key" or "+key=value", the value still escaped; an empty value is
 * left out with its '='), joined by ';', into out, which has room for
 * tags->n bytes. Every other tag is the server's business and is dropped.
 * Returns the length written (0: none). Pure.
 */
size_t irc_client_tags(const struct irc_slice *tags, char *out);

/*
 * Parses the n bytes at p as a server-time timestamp,
 * "YYYY-MM-DDThh:mm:ss.sssZ" (the fraction may have any number of digits,
 * of which the first three count, or be left out with its '.'), into
 * milliseconds since the epoch in *ms. Fields out of range (month 13,
 * hour 24) are refused; a day past its month's end counts on into the
 * next. Returns false, *ms undefined, if it is not one. Pure.
 */
bool irc_parse_time(const char *p, size_t n, int64_t *ms);

/*
 * Parses the n bytes at p as one of our msgids, "123" or "123.2" (part 2
 * of a split line), into the message's id in *id. Returns false for
 * anything else, a number past UINT64_MAX too (*id undefined). Pure.
 */
bool irc_parse_msgid(const char *p, size_t n, uint64_t *id);

#endif
