/*
 * http_parse: an HTTP/1.1 request head, one line at a time (RFC 9112).
 *
 * The connection layer splits input into lines; this parser takes them in
 * order, the request line first, then the header fields, and says when the
 * head is complete or what is wrong with it. It knows nothing of sockets
 * or of what is served: a handler (http/http.c) routes the request it
 * fills in. It is strict where leniency has been a source of request
 * smuggling: no space before a field's colon, no folded lines, one
 * Content-Length at most, a Host field for HTTP/1.1, no control bytes.
 * Pure, tested and fuzzed on its own (tests/fuzz/fuzz_http.c).
 */
#ifndef PARLEY_HTTP_PARSE_H
#define PARLEY_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest request target kept; longer ones are refused (414). */
#define HTTP_TARGET_MAX 2048
/* The most header fields in one request; more are refused (431). */
#define HTTP_FIELDS_MAX 64
/* The longest method name. */
#define HTTP_METHOD_MAX 16

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_OTHER };

/* What the parser made of a line. */
enum http_result {
    HTTP_MORE,           /* go on: the head is not complete yet */
    HTTP_DONE,           /* the head is complete (the empty line came) */
    HTTP_BAD,            /* malformed: answer 400 and close */
    HTTP_URI_TOO_LONG,   /* the target passed HTTP_TARGET_MAX: 414 */
    HTTP_FIELDS_TOO_BIG, /* too many header fields: 431 */
    HTTP_BAD_VERSION,    /* HTTP/2 and later, as a request line: 505 */
};

/*
 * Called for each header field, name and value trimmed (valid only during
 * the call), so that a handler may look at fields the parser ignores.
 */
typedef void (*http_field_cb)(void *arg, const char *name, size_t nlen,
                              const char *value, size_t vlen);

/* One request head being parsed; zero it with http_request_init. */
struct http_request {
    enum http_method method;
    char method_name[HTTP_METHOD_MAX + 1];
    char target[HTTP_TARGET_MAX + 1]; /* as sent, NUL-terminated */
    size_t target_len;
    size_t path_len;        /* the target up to its '?' (its path) */
    unsigned minor;         /* HTTP/1.minor: 0 or 1 */
    bool keep_alive;        /* the connection may serve another request */
    bool has_body;          /* Content-Length > 0 or Transfer-Encoding given */
    bool has_host;          /* a Host field came */
    bool has_length;        /* a Content-Length field came */
    bool started;           /* the request line came */
    size_t nfields;         /* header fields so far */
    http_field_cb on_field; /* NULL: none */
    void *arg;              /* passed to on_field */
};

/* Readies r for a new request, keeping its on_field and arg. */
void http_request_init(struct http_request *r);

/*
 * Takes the next line of the head (len bytes, without its CR LF or LF).
 * Empty lines before the request line are skipped, as RFC 9112 allows.
 * Returns HTTP_DONE when the empty line ends the head (r then holds the
 * request), HTTP_MORE for more, or why the request is refused; after a
 * refusal or DONE, call http_request_init before the next request.
 */
enum http_result http_parse_line(struct http_request *r, const char *line,
                                 size_t len);

/* Returns the HTTP status code that answers a refusal (400, 414, ...). */
int http_result_status(enum http_result res);

#endif
