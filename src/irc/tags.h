/*
 * tags: the IRCv3 tag values parley reads from clients: client-only tags
 * to relay.
 */
#ifndef PARLEY_IRC_TAGS_H
#define PARLEY_IRC_TAGS_H

#include <stddef.h>

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

#endif
