/*
 * http_parse: an HTTP/1.1 request head, one line at a time (RFC 9112).
 */
#include "http/parse.h"

#include <string.h>
#include <strings.h>

/* Returns true if ch may be part of a token (RFC 9110, 5.6.2). */
static bool http_tchar(unsigned char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
        (ch >= '0' && ch <= '9'))
        return true;
    return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/* Returns true if the n bytes at p are a non-empty token. */
static bool http_token(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!http_tchar((unsigned char)p[i]))
            return false;
    return n > 0;
}

/* Returns true if ch may appear in a field value (VCHAR, obs-text, SP, HT). */
static bool http_value_char(unsigned char ch)
{
    return ch == ' ' || ch == '\t' || (ch > 0x20 && ch != 0x7f);
}

/* Returns true if ch may appear in a request target (no space, no CTL). */
static bool http_target_char(unsigned char ch)
{
    return ch > 0x20 && ch != 0x7f;
}

void http_request_init(struct http_request *r)
{
    http_field_cb cb = r->on_field;
    void *arg = r->arg;
    memset(r, 0, sizeof *r);
    r->on_field = cb;
    r->arg = arg;
}

/* Returns true if the n bytes at p equal the string s, ignoring case. */
static bool http_is(const char *p, size_t n, const char *s)
{
    return strlen(s) == n && strncasecmp(p, s, n) == 0;
}

/* Parses "HTTP/1.x" into r->minor; returns 0, or why it is refused. */
static enum http_result http_version(struct http_request *r, const char *p,
                                     size_t n)
{
    if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' || p[5] < '0' ||
        p[5] > '9' || p[7] < '0' || p[7] > '9')
        return HTTP_BAD;
    if (p[5] != '1')
        return p[5] >= '2' ? HTTP_BAD_VERSION : HTTP_BAD;
    r->minor = p[7] == '0' ? 0 : 1;
    r->keep_alive = r->minor >= 1;
    return HTTP_MORE;
}

/* Parses "METHOD SP TARGET SP HTTP/1.x". */
static enum http_result http_request_line(struct http_request *r,
                                          const char *line, size_t len)
{
    const char *sp1 = memchr(line, ' ', len);
    if (sp1 == NULL)
        return HTTP_BAD;
    size_t mlen = (size_t)(sp1 - line);
    const char *t = sp1 + 1;
    const char *sp2 = memchr(t, ' ', len - mlen - 1);
    if (sp2 == NULL || !http_token(line, mlen) || mlen > HTTP_METHOD_MAX)
        return HTTP_BAD;
    size_t tlen = (size_t)(sp2 - t);
    const char *v = sp2 + 1;
    enum http_result res = http_version(r, v, len - (size_t)(v - line));
    if (res != HTTP_MORE)
        return res;
    if (tlen > HTTP_TARGET_MAX)
        return HTTP_URI_TOO_LONG;
    for (size_t i = 0; i < tlen; i++)
        if (!http_target_char((unsigned char)t[i]))
            return HTTP_BAD;
    bool asterisk = tlen == 1 && t[0] == '*';
    if (tlen == 0 || (t[0] != '/' && !asterisk))
        return HTTP_BAD; /* only origin-form (and OPTIONS's "*") */
    memcpy(r->method_name, line, mlen);
    r->method_name[mlen] = '\0';
    r->method = strcmp(r->method_name, "GET") == 0    ? HTTP_GET
                : strcmp(r->method_name, "HEAD") == 0 ? HTTP_HEAD
                                                      : HTTP_OTHER;
    memcpy(r->target, t, tlen);
    r->target[tlen] = '\0';
    r->target_len = tlen;
    const char *q = memchr(t, '?', tlen);
    r->path_len = q ? (size_t)(q - t) : tlen;
    r->started = true;
    return HTTP_MORE;
}

/* Returns true if the comma-separated list (n bytes at p) holds token. */
static bool http_list_has(const char *p, size_t n, const char *token)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == ','))
            i++;
        size_t start = i;
        while (i < n && p[i] != ',' && p[i] != ' ' && p[i] != '\t')
            i++;
        if (i > start && http_is(p + start, i - start, token))
            return true;
    }
    return false;
}

/* Applies the fields the parser itself needs; false if one is invalid. */
static bool http_known_field(struct http_request *r, const char *name,
                             size_t nlen, const char *value, size_t vlen)
{
    if (http_is(name, nlen, "host")) {
        if (r->has_host)
            return false; /* two Host fields */
        r->has_host = true;
    } else if (http_is(name, nlen, "content-length")) {
        if (vlen == 0 || strspn(value, "0123456789") < vlen)
            return false; /* also refuses a list, "5, 5" */
        if (r->has_length)
            return false; /* two Content-Length fields */
        r->has_length = true;
        r->has_body = r->has_body || strspn(value, "0") < vlen;
    } else if (http_is(name, nlen, "transfer-encoding")) {
        r->has_body = true;
    } else if (http_is(name, nlen, "connection")) {
        if (http_list_has(value, vlen, "close"))
            r->keep_alive = false;
        else if (http_list_has(value, vlen, "keep-alive"))
            r->keep_alive = true;
    }
    return true;
}

/* Parses "NAME: VALUE" with optional whitespace around the value. */
static enum http_result http_field(struct http_request *r, const char *line,
                                   size_t len)
{
    if (++r->nfields > HTTP_FIELDS_MAX)
        return HTTP_FIELDS_TOO_BIG;
    const char *colon = memchr(line, ':', len);
    if (colon == NULL || !http_token(line, (size_t)(colon - line)))
        return HTTP_BAD; /* also a space before the colon, or a fold */
    size_t nlen = (size_t)(colon - line);
    const char *v = colon + 1, *end = line + len;
    for (const char *p = v; p < end; p++)
        if (!http_value_char((unsigned char)*p))
            return HTTP_BAD;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t vlen = (size_t)(end - v);
    char value[HTTP_TARGET_MAX + 1]; /* a NUL-terminated copy for strspn */
    size_t keep = vlen < HTTP_TARGET_MAX ? vlen : HTTP_TARGET_MAX;
    memcpy(value, v, keep);
    value[keep] = '\0';
    if (!http_known_field(r, line, nlen, value, vlen))
        return HTTP_BAD;
    if (r->on_field)
        r->on_field(r->arg, line, nlen, v, vlen);
    return HTTP_MORE;
}

enum http_result http_parse_line(struct http_request *r, const char *line,
                                 size_t len)
{
    if (!r->started)
        return len == 0 ? HTTP_MORE : http_request_line(r, line, len);
    if (len > 0)
        return http_field(r, line, len);
    if (r->minor >= 1 && !r->has_host)
        return HTTP_BAD; /* RFC 9112, 3.2: HTTP/1.1 needs a Host */
    return HTTP_DONE;
}

int http_result_status(enum http_result res)
{
    switch (res) {
    case HTTP_URI_TOO_LONG:
        return 414;
    case HTTP_FIELDS_TOO_BIG:
        return 431;
    case HTTP_BAD_VERSION:
        return 505;
    default:
        return 400;
    }
}
