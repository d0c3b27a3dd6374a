/*
 * chanarg: reading the arguments of channel commands. MODE's change string
 * with its parameters, and LIST's terms.
 *
 * Pure: nothing here looks at rooms or people or writes anything, so that
 * a fuzzer can drive it alone. What is read points into the message (or
 * the buffer) it was read from and lives as long as that.
 */
#ifndef PARLEY_IRC_CHANARG_H
#define PARLEY_IRC_CHANARG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "irc/irc.h"

/*
 * Changes taken from one MODE, whatever their kind: the core gathers the
 * applied ones into a buffer of 64 flag characters, and "+i-i" costs two.
 */
#define IRC_MODE_CHANGES_MAX 30

/* A channel MODE as read: the changes asked for and what else it wants. */
struct irc_mode_req {
    struct chat_mode_change ch[IRC_MODE_CHANGES_MAX];
    size_t n;
    size_t budget;    /* bytes left for the MODE line's changes */
    unsigned nparams; /* changes with a parameter taken */
    bool list_bans;   /* a 'b' without a mask: show the list */
    bool bad_mask;    /* a mask that could not be sent back as one */
    char unknown[16]; /* letters that are no mode, each once */
    size_t nunknown;
};

/*
 * Returns true if arg can stand as a middle parameter of a line sent back
 * (in the MODE line or a numeric): not empty, no space, no leading ':'.
 */
bool irc_mode_middle(const struct irc_slice *arg);

/*
 * Reads MODE #chan's change string (param 1) and its parameters (from
 * param 2) into q, which is zeroed first. Runs of '+' and '-'; o, v, b and
 * k take the next parameter, l only when set; a mode without its parameter
 * is dropped, 'b' without one asks for the list (list_bans), '-k' may come
 * without the key ("*"). An o, v or b parameter that could not be sent
 * back (see irc_mode_middle) drops its change (bad_mask for b). At most
 * IRC_MODES changes with a parameter and IRC_MODE_CHANGES_MAX in all are
 * taken, and only while their cost in the MODE line the channel will get
 * fits budget bytes. Letters that are no mode go to unknown (printable
 * ASCII only, each once); other bytes are skipped. The 15th parameter, which
 * takes the rest of a line, is split at its spaces, so that MODES=20 holds.
 */
void irc_mode_read(const struct irc_msg *m, size_t budget,
                   struct irc_mode_req *q);

/* The most terms (names, masks, >N, <N) one LIST is read for. */
#define IRC_LIST_TERMS 16

/* Bounds on an age in seconds, from "X>N" and "X<N" (N in minutes). */
struct irc_list_age {
    int64_t above; /* older than this (-1: any) */
    int64_t below; /* younger than this (INT64_MAX: any) */
};

/* What a LIST asks for. */
struct irc_list_terms {
    size_t min_users, max_users; /* from >N (more than N) and <N */
    struct irc_list_age created; /* C>N, C<N: the channel's age */
    struct irc_list_age topic;   /* T>N, T<N: its topic's age */
    bool topic_terms;            /* some T term: a topic must be set */
    const char *mask[IRC_LIST_TERMS];
    bool negated[IRC_LIST_TERMS]; /* !MASK: channels it does not match */
    size_t nmasks;
    bool positive; /* some mask is not negated: one must match */
    bool exact;    /* only plain "#names": look them up, search nothing */
};

/*
 * Reads LIST's comma-separated terms from list (NUL-terminated, cut in
 * place; NULL: none) into q, which is set up first: ">N" and "<N" bound
 * the number of people (1 and SIZE_MAX when not given); "C>N" and "C<N"
 * the channel's age, "T>N" and "T<N" its topic's, in minutes (more than N
 * minutes ago, less than N minutes ago); "!MASK" excludes, anything else
 * is a mask or a name that includes. A bound whose number does not read
 * bounds nothing. Terms past IRC_LIST_TERMS are ignored.
 */
void irc_list_read(char *list, struct irc_list_terms *q);

/* Returns true if age (seconds) is within a's bounds. */
bool irc_list_age_ok(const struct irc_list_age *a, int64_t age);

#endif
