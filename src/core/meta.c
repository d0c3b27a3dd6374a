/*
 * meta: a small ordered list of keys and values (see meta.h).
 */
#include "core/meta.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"

/* Returns the index of key in m, or m->n if it is not there. */
static size_t meta_find(const struct meta *m, const char *key, size_t len)
{
    size_t i = 0;
    while (i < m->n &&
           !(m->e[i].key_len == len && memcmp(m->e[i].key, key, len) == 0))
        i++;
    return i;
}

const struct meta_entry *meta_get(const struct meta *m, const char *key,
                                  size_t len)
{
    if (m == NULL)
        return NULL;
    size_t i = meta_find(m, key, len);
    return i < m->n ? &m->e[i] : NULL;
}

bool meta_set(struct meta **mp, const char *key, size_t klen, const char *value,
              size_t vlen, size_t max)
{
    struct meta *m = *mp;
    size_t i = m ? meta_find(m, key, klen) : 0;
    if (m == NULL || i == m->n) {
        if (meta_count(m) >= max)
            return false;
        if (m == NULL)
            m = *mp = xcalloc(1, sizeof *m);
        if (m->n == m->cap) {
            m->cap = m->cap ? 2 * m->cap : 4;
            m->e = xreallocarray(m->e, m->cap, sizeof *m->e);
        }
        i = m->n++;
        m->e[i] =
            (struct meta_entry){.key = xstrndup(key, klen), .key_len = klen};
    } else {
        free(m->e[i].value);
    }
    m->e[i].value = xstrndup(value, vlen);
    m->e[i].value_len = vlen;
    return true;
}

bool meta_del(struct meta **mp, const char *key, size_t len)
{
    struct meta *m = *mp;
    size_t i = m ? meta_find(m, key, len) : 0;
    if (m == NULL || i == m->n)
        return false;
    free(m->e[i].key);
    free(m->e[i].value);
    memmove(&m->e[i], &m->e[i + 1], (m->n - i - 1) * sizeof *m->e);
    if (--m->n == 0) {
        meta_free(m);
        *mp = NULL;
    }
    return true;
}

size_t meta_count(const struct meta *m)
{
    return m ? m->n : 0;
}

void meta_free(struct meta *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->e[i].key);
        free(m->e[i].value);
    }
    free(m->e);
    free(m);
}
