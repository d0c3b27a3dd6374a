/*
 * tags: the IRCv3 tag values parley reads from clients: the client-only
 * tags it relays (message-tags). Pure functions, no state.
 */
#include "irc/tags.h"

#include <string.h>

#include "irc/parse.h"

size_t irc_client_tags(const struct irc_slice *tags, char *out)
{
    struct irc_slice rest = *tags, key, val;
    size_t n = 0;
    while (irc_tag_next(&rest, &key, &val)) {
        if (key.n < 2 || key.p[0] != '+')
            continue;
        if (n > 0)
            out[n++] = ';';
        memcpy(out + n, key.p, key.n);
        n += key.n;
        if (val.n > 0) {
            out[n++] = '=';
            memcpy(out + n, val.p, val.n);
            n += val.n;
        }
    }
    return n;
}
