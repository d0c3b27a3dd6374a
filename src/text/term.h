/*
 * term: the terminal of a telnet user (telnet:// listeners).
 *
 * A term holds a connection's telnet negotiation (telnet.h) and, once the
 * client agreed to character mode, its line editor (edit.h) and what its
 * screen shows: the last line is the prompt ("#lobby> ") and the line
 * being typed, scrolled sideways to fit the window. Output for the user
 * first clears that line (term_hide); before the loop sleeps, every
 * terminal that lost its prompt, or whose line changed, gets it drawn
 * again once (term_before_sleep), however many lines arrived meanwhile.
 *
 * Lines finished with Enter leave term_filter as plain text lines, so
 * they take exactly the path of a line-mode client's lines: the framer,
 * the line limit, the flood budget. A client that never answers the
 * negotiation stays in line mode, and sees what text:// clients see.
 * docs/terminal.md describes it all from the user's side.
 */
#ifndef PARLEY_TERM_H
#define PARLEY_TERM_H

#include <stdbool.h>
#include <stddef.h>

struct conn;
struct chat_event;
struct chat_wire;
struct text_session;

/*
 * Gives s (on a telnet:// connection) a terminal and sends the opening
 * negotiation. The terminal is s->term, freed by term_free.
 */
void term_new(struct text_session *s);

/* Frees s's terminal, if it has one. */
void term_free(struct text_session *s);

/*
 * The telnet protocol's conn filter: takes the negotiation out of the n
 * bytes at p and answers it; in character mode feeds the rest to the
 * editor and echoes it. Returns the length of what the framer gets next
 * (the data, in line mode; the lines finished with Enter, each ended by
 * LF, in character mode) and points *out at it, valid until the next call.
 */
size_t term_filter(struct conn *c, char *p, size_t n, char **out);

/*
 * Called before any output to s: in character mode, clears the prompt
 * line so that the output takes its place (it is drawn again before the
 * loop sleeps).
 */
void term_hide(struct text_session *s);

/*
 * Delivers the chat event ev, formatted for text users as w, to s if s is
 * a terminal in character mode: with the sender's nick in colour, s's
 * own nick highlighted, the time in front and a bell, as s chose. Returns
 * false, writing nothing, if s is not in character mode.
 */
bool term_deliver(struct text_session *s, const struct chat_event *ev,
                  const struct chat_wire *w);

/*
 * Draws the prompt and the line again on every terminal that needs it; the
 * server sets it as conn's pre-flush hook (conn_add_before_flush).
 */
void term_before_sleep(void);

/*
 * Handles the terminal's own commands (/color, /bell, /timestamps) for a
 * telnet user: name (n bytes) is the command word, args (len bytes) the
 * rest. Returns false if name is none of them.
 */
bool term_command(struct text_session *s, const char *name, size_t n,
                  const char *args, size_t len);

/* Appends the terminal's commands to /help's list. */
void term_help(struct text_session *s);

#endif
