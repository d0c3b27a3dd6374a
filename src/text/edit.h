/*
 * edit: the line editor of a telnet user in character mode.
 *
 * The client sends every key as it is pressed; the editor turns those
 * bytes into a line being typed, a cursor in it, and the lines the user
 * finished with Enter. It knows the keys of a VT100/xterm terminal: plain
 * characters (UTF-8, assembled across calls; an invalid sequence becomes
 * U+FFFD), Backspace, Delete, the arrows, Home and End (as CSI and SS3
 * sequences, which may arrive split across reads), Ctrl-A/B/D/E/F/K/L/N/P/
 * U/W, Ctrl-C (clears the line), Alt-B/F (a word left, right), Tab, and
 * Enter (CR, LF, CR LF or CR NUL: one line). Up and Down walk through the
 * user's earlier lines. Anything else is ignored, a bare ESC included.
 *
 * The editor is pure: no I/O, no knowledge of connections or screens, so
 * that a fuzzer drives it (tests/fuzz/fuzz_edit.c). The line always holds
 * valid UTF-8 without control characters, and the cursor always sits at
 * the start of a character. Memory is taken only while a line is being
 * typed, and for the history once there is one.
 */
#ifndef PARLEY_EDIT_H
#define PARLEY_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Earlier lines kept for Up and Down. */
#define EDIT_HISTORY 32

/* What a key did, for the caller to show. */
enum edit_action {
    EDIT_NONE,   /* nothing to show (part of a sequence, an unknown key) */
    EDIT_REDRAW, /* the line or the cursor changed */
    EDIT_LINE,   /* Enter: edit_take hands the line out */
    EDIT_TAB,    /* Tab: complete the word before the cursor */
    EDIT_CLEAR,  /* Ctrl-L: clear the screen, then redraw */
    EDIT_BELL,   /* the key could do nothing (no history, line full...) */
};

/* The editor of one connection. edit_init sets it up. */
struct edit {
    char *buf;        /* the line (no NUL); NULL while nothing is typed */
    uint32_t len;     /* bytes in buf */
    uint32_t cap;     /* bytes allocated at buf */
    uint32_t cur;     /* the cursor, a byte offset in buf */
    uint32_t max;     /* longest line, in bytes */
    uint16_t csi_arg; /* first parameter of a CSI sequence */
    uint8_t esc;      /* escape sequence state, internal */
    uint8_t utf_need; /* bytes still missing from a UTF-8 character */
    uint8_t utf_have; /* bytes of it in utf */
    uint8_t utf[4];   /* the character being assembled */
    bool cr;          /* the last byte was CR: LF or NUL after it is part
                         of the same Enter */
    uint8_t nhist;    /* lines in hist */
    uint8_t hpos;     /* the history line shown; nhist: the new line */
    char **hist;      /* earlier lines, oldest first (NUL-terminated) */
    char *saved;      /* the new line, kept while browsing the history */
};

/* Sets e up for lines of at most max bytes. */
void edit_init(struct edit *e, size_t max);

/* Frees what e holds; it may be set up again with edit_init. */
void edit_free(struct edit *e);

/* Handles one byte from the client; returns what the caller shows. */
enum edit_action edit_key(struct edit *e, uint8_t c);

/*
 * After EDIT_LINE: points *line at the finished line (len bytes, valid
 * until the next call on e), adds it to the history and empties the line.
 */
void edit_take(struct edit *e, const char **line, size_t *len);

/*
 * Inserts the n bytes at s (valid UTF-8, no controls) at the cursor and
 * moves the cursor past them. Returns false, changing nothing, if the line
 * would pass its limit.
 */
bool edit_insert(struct edit *e, const char *s, size_t n);

/*
 * Returns the length of the word that ends at the cursor (after the last
 * space before it); *start gets its offset.
 */
size_t edit_word(const struct edit *e, size_t *start);

/* Returns the number of terminal columns code point cp takes: 0, 1 or 2. */
unsigned edit_cp_width(uint32_t cp);

/*
 * Decodes the valid UTF-8 character at s (of at most n bytes) into *cp;
 * returns its length (1 for an invalid byte, with *cp U+FFFD).
 */
size_t edit_decode(const char *s, size_t n, uint32_t *cp);

/* Returns the columns the n bytes of UTF-8 at s take on a terminal. */
size_t edit_width(const char *s, size_t n);

#endif
