/*
 * tbuf: an append-only byte buffer for building lines of output.
 *
 * It grows before every write, so what is built in it can never run past
 * its memory, whatever the lengths of nicks, names and text; no size is
 * estimated in advance. Zero-initialise; set n to 0 to reuse the memory
 * (a buffer keeps it for the next line); free p when done.
 */
#ifndef PARLEY_TBUF_H
#define PARLEY_TBUF_H

#include <stdarg.h>
#include <stddef.h>

struct tbuf {
    char *p;
    size_t n;   /* bytes in use */
    size_t cap; /* bytes allocated */
};

/*
 * Makes room for n more bytes after the b->n in use and returns where they
 * start (never NULL); b->n is unchanged (the caller adds what it wrote).
 * Aborts if the size overflows; out of memory aborts as everywhere.
 */
char *tbuf_reserve(struct tbuf *b, size_t n);

/* Appends the n bytes at s to b (s may be NULL when n is 0). */
void tbuf_put(struct tbuf *b, const char *s, size_t n);

/* Appends the NUL-terminated string s (without the NUL) to b. */
void tbuf_str(struct tbuf *b, const char *s);

/* Appends printf-formatted text to b (the va_list form). */
void tbuf_vprintf(struct tbuf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Appends printf-formatted text to b. */
void tbuf_printf(struct tbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
