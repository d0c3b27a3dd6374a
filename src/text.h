/*
 * text: the telnet-friendly text protocol (docs/protocol.md).
 *
 * proto_text.c holds the session (a connection's person), formatting and
 * delivery of chat events; text_cmd.c holds the command table and the
 * command handlers. This header is what the two share, plus the protocol
 * object the server attaches to text:// listeners.
 */
#ifndef PARLEY_TEXT_H
#define PARLEY_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "chat.h"

struct conn;

/* The protocol object for text:// listeners. */
extern const struct conn_proto text_proto;

/* One person on a text connection. */
struct text_session {
    struct client client;
    struct conn *conn;
    bool welcomed; /* the first join is the welcome, not a /join */
    bool gone;     /* unregistered from the core already (/quit) */
};

/* Queues one printf-formatted line (CRLF added) to the session. */
void text_reply(struct text_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Returns "person" for 1 and "people" otherwise. */
const char *text_people(size_t n);

/* Handles a line that starts with '/', or $exit. */
void text_command(struct text_session *s, const char *line, size_t len);

/* Leaves the server at the user's request: * bye, notices, close. */
void text_quit(struct text_session *s, const char *reason, size_t len);

#endif
