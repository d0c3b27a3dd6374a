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

#include "core/chat.h"
#include "lib/tbuf.h"

struct conn;

/* The protocol object for text:// listeners. */
extern const struct conn_proto text_proto;

/* What the text protocol shows, set once at start (text_configure). */
struct text_config {
    size_t history_replay; /* messages shown on join */
    size_t quiet_above;    /* no join/part/quit/nick notices above this */
};

/* Sets the text protocol's settings. */
void text_configure(const struct text_config *cfg);

/* Returns the settings given to text_configure. */
const struct text_config *text_get_config(void);

/* One person on a text connection. */
struct text_session {
    struct client client;
    struct conn *conn;
    struct room *room; /* where the person talks (last joined); NULL: pick
                          anew from its rooms (see text_room) */
    bool welcomed;     /* the first join is the welcome, not a /join */
    bool gone;         /* unregistered from the core already (/quit) */
};

/* Queues one printf-formatted line (CRLF added) to the session. */
void text_reply(struct text_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Returns "person" for 1 and "people" otherwise. */
const char *text_people(size_t n);

/*
 * Shows s the private message it just sent to `to` (len bytes of text) on
 * the very line `to` got: "[NICK -> TO]: TEXT".
 */
void text_private_echo(struct text_session *s, const struct client *to,
                       const char *text, size_t len);

/*
 * Returns the room s talks in: the one it last joined that it is still in,
 * or NULL if it is in none.
 */
struct room *text_room(struct text_session *s);

/* Replies why a join of the room name (len bytes) failed with e. */
void text_join_error(struct text_session *s, enum chat_error e,
                     const char *name, size_t len);

/* Handles a line that starts with '/', or $exit. */
void text_command(struct text_session *s, const char *line, size_t len);

/* Leaves the server at the user's request: * bye, notices, close. */
void text_quit(struct text_session *s, const char *reason, size_t len);

#endif
