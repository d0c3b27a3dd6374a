/* Placeholder until the parser module lands; replaced on merge. */
#include "irc/parse.h"

#include <string.h>
#include <strings.h>

enum irc_parse irc_parse(const char *line, size_t len, struct irc_msg *m)
{
    const char *p = line, *end = line + len;
    memset(m, 0, sizeof *m);
    while (p < end && *p == ' ')
        p++;
    if (p == end)
        return IRC_PARSE_EMPTY;
    if (*p == '@') {
        const char *sp = memchr(p, ' ', (size_t)(end - p));
        if (sp == NULL)
            sp = end;
        m->tags.p = p + 1;
        m->tags.n = (size_t)(sp - p - 1);
        if ((size_t)(sp - p) + 1 > IRC_TAGS_MAX)
            return IRC_PARSE_TAGS_TOO_LONG;
        p = sp;
        while (p < end && *p == ' ')
            p++;
    }
    if ((size_t)(end - p) > IRC_BODY_MAX)
        return IRC_PARSE_TOO_LONG;
    if (p < end && *p == ':') {
        const char *sp = memchr(p, ' ', (size_t)(end - p));
        if (sp == NULL)
            return IRC_PARSE_NO_COMMAND;
        m->source.p = p + 1;
        m->source.n = (size_t)(sp - p - 1);
        p = sp;
        while (p < end && *p == ' ')
            p++;
    }
    if (p == end)
        return IRC_PARSE_NO_COMMAND;
    const char *w = p;
    while (p < end && *p != ' ')
        p++;
    m->cmd.p = w;
    m->cmd.n = (size_t)(p - w);
    while (m->nparams < IRC_MAX_PARAMS) {
        while (p < end && *p == ' ')
            p++;
        if (p == end)
            break;
        if (*p == ':' || m->nparams == IRC_MAX_PARAMS - 1) {
            if (*p == ':')
                p++;
            m->params[m->nparams].p = p;
            m->params[m->nparams++].n = (size_t)(end - p);
            break;
        }
        w = p;
        while (p < end && *p != ' ')
            p++;
        m->params[m->nparams].p = w;
        m->params[m->nparams++].n = (size_t)(p - w);
    }
    return IRC_PARSE_OK;
}

bool irc_cmd_is(const struct irc_msg *m, const char *upper)
{
    return strlen(upper) == m->cmd.n &&
           strncasecmp(upper, m->cmd.p, m->cmd.n) == 0;
}

bool irc_tag_next(struct irc_slice *rest, struct irc_slice *key,
                  struct irc_slice *raw_value)
{
    if (rest->n == 0)
        return false;
    const char *p = rest->p, *end = rest->p + rest->n;
    const char *semi = memchr(p, ';', rest->n);
    const char *stop = semi ? semi : end;
    const char *eq = memchr(p, '=', (size_t)(stop - p));
    key->p = p;
    key->n = (size_t)((eq ? eq : stop) - p);
    raw_value->p = eq ? eq + 1 : stop;
    raw_value->n = eq ? (size_t)(stop - eq - 1) : 0;
    rest->p = semi ? semi + 1 : end;
    rest->n = (size_t)(end - rest->p);
    return true;
}

size_t irc_tag_unescape(const char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] != '\\') {
            out[o++] = in[i];
            continue;
        }
        if (++i == n)
            break;
        char c = in[i];
        out[o++] = c == ':'   ? ';'
                   : c == 's' ? ' '
                   : c == 'r' ? '\r'
                   : c == 'n' ? '\n'
                              : c;
    }
    return o;
}

size_t irc_tag_escape(const char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        const char *e = c == ';'    ? "\\:"
                        : c == ' '  ? "\\s"
                        : c == '\\' ? "\\\\"
                        : c == '\r' ? "\\r"
                        : c == '\n' ? "\\n"
                                    : NULL;
        if (e) {
            out[o++] = e[0];
            out[o++] = e[1];
        } else {
            out[o++] = c;
        }
    }
    return o;
}
