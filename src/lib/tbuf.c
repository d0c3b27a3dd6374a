/*
 * tbuf: an append-only byte buffer for building lines of output.
 */
#include "lib/tbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"

char *tbuf_reserve(struct tbuf *b, size_t n)
{
    size_t need = b->n + n;
    if (need < n)
        abort(); /* size_t overflow: no such line can exist */
    if (b->cap < need || b->p == NULL) {
        size_t cap = b->cap < 512 ? 1024 : b->cap * 2;
        if (cap < need)
            cap = need;
        b->p = xreallocarray(b->p, cap, 1);
        b->cap = cap;
    }
    return b->p + b->n;
}

void tbuf_put(struct tbuf *b, const char *s, size_t n)
{
    if (n == 0)
        return; /* s may be NULL then */
    memcpy(tbuf_reserve(b, n), s, n);
    b->n += n;
}

void tbuf_str(struct tbuf *b, const char *s)
{
    tbuf_put(b, s, strlen(s));
}

/*
 * vsnprintf measures first, then writes with exactly that bound, so it
 * cannot pass the space reserved even if the two calls disagreed.
 */
void tbuf_vprintf(struct tbuf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    char *p = tbuf_reserve(b, (size_t)n + 1);
    int k = vsnprintf(p, (size_t)n + 1, fmt, ap);
    b->n += k < 0 ? 0 : (size_t)(k < n ? k : n);
}

void tbuf_printf(struct tbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tbuf_vprintf(b, fmt, ap);
    va_end(ap);
}
