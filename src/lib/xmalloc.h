/*
 * xmalloc: allocation wrappers that abort on out-of-memory.
 *
 * A chat server that runs out of memory cannot do anything useful for its
 * users, and checking every allocation by hand invites mistakes, so these
 * wrappers print a message and abort instead of returning NULL.
 */
#ifndef PARLEY_XMALLOC_H
#define PARLEY_XMALLOC_H

#include <stddef.h>

/* Returns size bytes of uninitialised memory; never NULL. */
void *xmalloc(size_t size);

/* Returns nmemb * size zeroed bytes, checking for overflow; never NULL. */
void *xcalloc(size_t nmemb, size_t size);

/* Resizes ptr to nmemb * size bytes, checking for overflow; never NULL. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);

/* Returns a copy of the n bytes at s plus a terminating NUL; never NULL. */
char *xstrndup(const char *s, size_t n);

#endif
