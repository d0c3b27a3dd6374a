/*
 * parse: splits one IRC line into tags, source, command and parameters,
 * and reads and writes IRCv3 message tags.
 *
 * The parser walks the line once with an index, never past len, and looks
 * at no byte as a terminator, so NUL bytes and lines that are not
 * NUL-terminated are safe.
 */
#include "irc/parse.h"

#include <string.h>

/* ------------------------------------------------------------------------
 * The line
 * ------------------------------------------------------------------------ */

/* A cursor over the line being parsed. */
struct irc_cur {
    const char *s;
    size_t len;
    size_t at;
};

/* Returns the slice [from, to) of the line. */
static struct irc_slice irc_cut(const struct irc_cur *c, size_t from, size_t to)
{
    return (struct irc_slice){c->s + from, to - from};
}

/* Moves the cursor past a run of spaces. */
static void irc_skip_spaces(struct irc_cur *c)
{
    while (c->at < c->len && c->s[c->at] == ' ')
        c->at++;
}

/* Moves the cursor to the next space (or the end) and returns the word. */
static struct irc_slice irc_word(struct irc_cur *c)
{
    size_t from = c->at;
    const char *sp = memchr(c->s + from, ' ', c->len - from);
    c->at = sp ? (size_t)(sp - c->s) : c->len;
    return irc_cut(c, from, c->at);
}

/* Returns true if the len bytes at line are all spaces (or none). */
static bool irc_blank(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ')
            return false;
    return true;
}

/* Reads the parameters after the command into m. */
static void irc_params(struct irc_cur *c, struct irc_msg *m)
{
    for (;;) {
        irc_skip_spaces(c);
        if (c->at == c->len)
            return;
        bool colon = c->s[c->at] == ':';
        if (colon || m->nparams == IRC_MAX_PARAMS - 1) {
            /* The trailing parameter, or the 15th: the rest of the line. */
            m->params[m->nparams++] = irc_cut(c, c->at + colon, c->len);
            c->at = c->len;
            return;
        }
        m->params[m->nparams++] = irc_word(c);
    }
}

/* Clears *m to no parameters and empty slices at line. */
static void irc_clear(const char *line, struct irc_msg *m)
{
    m->tags = m->source = m->cmd = (struct irc_slice){line, 0};
    for (size_t i = 0; i < IRC_MAX_PARAMS; i++)
        m->params[i] = m->tags;
    m->nparams = 0;
}

/* Clears *m and returns the failure r. */
static enum irc_parse irc_fail(const char *line, struct irc_msg *m,
                               enum irc_parse r)
{
    irc_clear(line, m);
    return r;
}

enum irc_parse irc_parse(const char *line, size_t len, struct irc_msg *m)
{
    struct irc_cur c = {line, len, 0};
    irc_clear(line, m);
    if (irc_blank(line, len))
        return IRC_PARSE_EMPTY;
    if (line[0] == '@') {
        c.at = 1;
        m->tags = irc_word(&c);
        /* '@', the tags and the space after them (counted even if absent,
         * so that the limit does not depend on what follows). */
        if (m->tags.n + 2 > IRC_TAGS_MAX)
            return irc_fail(line, m, IRC_PARSE_TAGS_TOO_LONG);
        if (c.at < len)
            c.at++;
    }
    if (len - c.at > IRC_BODY_MAX)
        return irc_fail(line, m, IRC_PARSE_TOO_LONG);
    irc_skip_spaces(&c);
    if (c.at < len && line[c.at] == ':') {
        c.at++;
        m->source = irc_word(&c);
        irc_skip_spaces(&c);
    }
    if (c.at == len)
        return irc_fail(line, m, IRC_PARSE_NO_COMMAND);
    m->cmd = irc_word(&c);
    irc_params(&c, m);
    return IRC_PARSE_OK;
}

bool irc_cmd_is(const struct irc_msg *m, const char *upper)
{
    size_t n = strlen(upper);
    if (m->cmd.n != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char x = m->cmd.p[i];
        if (x >= 'a' && x <= 'z')
            x = (char)(x - 'a' + 'A');
        if (x != upper[i])
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------------
 * Tags
 * ------------------------------------------------------------------------ */

bool irc_tag_next(struct irc_slice *rest, struct irc_slice *key,
                  struct irc_slice *raw_value)
{
    while (rest->n > 0) {
        const char *p = rest->p;
        const char *semi = memchr(p, ';', rest->n);
        size_t n = semi ? (size_t)(semi - p) : rest->n;
        /* Past the ';', or to the end without reading past it. */
        size_t used = semi ? n + 1 : n;
        rest->p += used;
        rest->n -= used;
        const char *eq = memchr(p, '=', n);
        size_t klen = eq ? (size_t)(eq - p) : n;
        if (klen == 0)
            continue; /* ";;" or "=x": no key */
        *key = (struct irc_slice){p, klen};
        if (eq)
            *raw_value = (struct irc_slice){eq + 1, n - klen - 1};
        else
            *raw_value = (struct irc_slice){p + n, 0};
        return true;
    }
    return false;
}

/*
 * The escapes of tag values (IRCv3 message-tags, "Escaping values"): the
 * letter after a backslash for each byte that has one, and the byte each
 * letter stands for. A byte without an entry (0) stands for itself.
 */
static const char irc_tag_esc_letter[256] = {
    [';'] = ':', [' '] = 's', ['\\'] = '\\', ['\r'] = 'r', ['\n'] = 'n',
};
static const char irc_tag_esc_byte[256] = {
    [':'] = ';', ['s'] = ' ', ['\\'] = '\\', ['r'] = '\r', ['n'] = '\n',
};

size_t irc_tag_unescape(const char *in, size_t n, char *out)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] != '\\') {
            out[w++] = in[i];
            continue;
        }
        if (++i == n)
            break; /* a lone backslash at the end: dropped */
        /* A backslash before a byte that is no escape letter is dropped. */
        char c = irc_tag_esc_byte[(unsigned char)in[i]];
        out[w++] = c ? c : in[i];
    }
    return w;
}

size_t irc_tag_escape(const char *in, size_t n, char *out)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        char e = irc_tag_esc_letter[(unsigned char)in[i]];
        if (e == 0) {
            out[w++] = in[i];
            continue;
        }
        out[w++] = '\\';
        out[w++] = e;
    }
    return w;
}
