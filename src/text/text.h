/*
 * text: the telnet-friendly text protocol (docs/protocol.md).
 *
 * session.c holds the session (a connection's person), formatting and
 * delivery of chat events; cmd.c holds the command table and the command
 * handlers, but for moderation's, which are in moderate.c. This header is
 * what they share, plus the protocol object the server attaches to
 * text:// listeners.
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

/*
 * Returns the room s talks in (text_room), or NULL after replying
 * "! you are in no room: /join ROOM".
 */
struct room *text_here(struct text_session *s);

/*
 * Replies why s may not talk in r, e being what chat_say or chat_act
 * returned (MODERATED: r is +m, or bans s).
 */
void text_speak_error(struct text_session *s, const struct room *r,
                      enum chat_error e);

/*
 * Splits the first space-separated word off the len bytes at *args: *word
 * points at it, *args and *len move past it and the spaces after it.
 * Returns the word's length (0 when there is none).
 */
size_t text_word(const char **args, size_t *len, const char **word);

/* Replies with a command's usage line, "! usage: USAGE", and logs it. */
void text_usage(struct text_session *s, const char *usage);

/*
 * The moderation commands (moderate.c), each a command table handler: it
 * gets the arguments after the command word, and acts on the room its
 * user talks in.
 */
void text_cmd_kick(struct text_session *s, const char *args, size_t len);
void text_cmd_ban(struct text_session *s, const char *args, size_t len);
void text_cmd_unban(struct text_session *s, const char *args, size_t len);
void text_cmd_bans(struct text_session *s, const char *args, size_t len);
void text_cmd_op(struct text_session *s, const char *args, size_t len);
void text_cmd_deop(struct text_session *s, const char *args, size_t len);
void text_cmd_voice(struct text_session *s, const char *args, size_t len);
void text_cmd_devoice(struct text_session *s, const char *args, size_t len);
void text_cmd_mute(struct text_session *s, const char *args, size_t len);
void text_cmd_unmute(struct text_session *s, const char *args, size_t len);
void text_cmd_invite(struct text_session *s, const char *args, size_t len);
void text_cmd_mode(struct text_session *s, const char *args, size_t len);

/* Server operators (oper.c): /oper NAME PASSWORD, /kill NICK [REASON]. */
void text_cmd_oper(struct text_session *s, const char *args, size_t len);
void text_cmd_kill(struct text_session *s, const char *args, size_t len);
/*
 * Server bans (oper.c), for server operators: /serverban ADDRESS|NETWORK|
 * MASK [DURATION] [REASON], /serverunban ADDRESS|NETWORK|MASK, /serverbans.
 */
void text_cmd_serverban(struct text_session *s, const char *args, size_t len);
void text_cmd_serverunban(struct text_session *s, const char *args, size_t len);
void text_cmd_serverbans(struct text_session *s, const char *args, size_t len);
/*
 * At arrival: if a server ban matches s (by a mask that names a nick or
 * user), tells it why, takes it out of the core and closes it; returns
 * true then.
 */
bool text_ban_refused(struct text_session *s);
/* The core's client_ops.killed for text users: one "! killed by" line,
 * then the close. */
void text_killed(struct client *c, const struct client *by, const char *reason,
                 size_t len);

/* Handles a line that starts with '/', or $exit. */
void text_command(struct text_session *s, const char *line, size_t len);

/* Leaves the server at the user's request: * bye, notices, close. */
void text_quit(struct text_session *s, const char *reason, size_t len);

#endif
