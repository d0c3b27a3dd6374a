/*
 * xmalloc: allocation wrappers that abort on out-of-memory.
 */
#include "lib/xmalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reports an impossible allocation and stops the process. */
static void xmalloc_fail(size_t nmemb, size_t size)
{
    fprintf(stderr, "level=error event=oom nmemb=%zu size=%zu\n", nmemb, size);
    abort();
}

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        xmalloc_fail(1, size);
    return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (p == NULL)
        xmalloc_fail(nmemb, size);
    return p;
}

void *xreallocarray(void *ptr, size_t nmemb, size_t size)
{
    if (size != 0 && nmemb > SIZE_MAX / size)
        xmalloc_fail(nmemb, size);
    size_t total = nmemb * size;
    void *p = realloc(ptr, total ? total : 1);
    if (p == NULL)
        xmalloc_fail(nmemb, size);
    return p;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
