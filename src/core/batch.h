/*
 * batch: the messages one client sends in one read (a paste, or a fast
 * client), gathered to be said as one event.
 *
 * One event is formatted once per protocol, into one block, and queued with
 * one append per recipient, instead of one of each per line. A protocol
 * keeps one batch, adds a message when it can join the batch (same sender,
 * room and kind), and says the batch (chat_say) before anything else the
 * sender does: a command, the end of its read, its close. So order is as
 * typed, and what each protocol tells the sender about its messages
 * (errors, echoes) it tells once the batch is said.
 */
#ifndef PARLEY_BATCH_H
#define PARLEY_BATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/chat.h"

/* Most lines, and bytes of text, gathered into one event. */
#define CHAT_BATCH_LINES 64
#define CHAT_BATCH_BYTES (16 * 1024)

struct chat_batch {
    void *owner;       /* whose lines: a session; NULL when empty */
    struct room *room; /* where they go; valid while the batch is not empty,
                          as nothing is said until it is */
    bool notice;
    struct chat_line lines[CHAT_BATCH_LINES];
    size_t n;
    char bytes[CHAT_BATCH_BYTES];
    size_t used;
};

/*
 * Returns true if a message of len bytes that owner sends to r (a notice or
 * not) can join b as it is; if not, the caller says b first. A message
 * longer than CHAT_BATCH_BYTES never fits: it is said on its own.
 */
bool chat_batch_fits(const struct chat_batch *b, const void *owner,
                     const struct room *r, bool notice, size_t len);

/*
 * Adds a copy of the len bytes at text to b, which must be empty or have
 * said chat_batch_fits yes (r may be NULL: no room). Returns true if b is
 * now due: full, or its bytes times r's audience reached a sixteenth of a
 * second of flood_bytes (the output budget per second; 0: none) or 1 MiB if
 * that is less. The flood budget charges output when it is said, so a big
 * room's cost is seen a few lines at a time rather than after a whole batch
 * went out to everyone.
 */
bool chat_batch_add(struct chat_batch *b, void *owner, struct room *r,
                    bool notice, const char *text, size_t len,
                    size_t flood_bytes);

/* Empties b (after it was said). */
void chat_batch_clear(struct chat_batch *b);

#endif
