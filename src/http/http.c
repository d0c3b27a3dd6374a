/*
 * http: the HTTP protocol peer: /metrics and /healthz.
 */
#include "http/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/conn.h"
#include "event/ev.h"
#include "http/parse.h"
#include "http/prom.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/tbuf.h"
#include "lib/xmalloc.h"

/* One HTTP connection. */
struct http_session {
    struct conn *conn;
    struct ev_timer timer; /* the deadline of the request, or of idleness */
    struct http_request req;
    bool done;       /* the last answer is queued: nothing more is read */
    unsigned served; /* requests answered on this connection */
};

static struct ev_loop *http_loop;
static struct tbuf http_body; /* the answer being built, reused */

void http_init(struct ev_loop *loop)
{
    http_loop = loop;
}

/* Returns the reason phrase of status. */
static const char *http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Bad Request";
    }
}

/* The deadline passed: a request that began gets 408; then close. */
static void http_on_timer(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct http_session *s =
        (struct http_session *)((char *)t -
                                offsetof(struct http_session, timer));
    if (s->done)
        return;
    s->done = true;
    if (s->req.started) {
        static const char timeout[] = "HTTP/1.1 408 Request Timeout\r\n"
                                      "Content-Length: 0\r\n"
                                      "Connection: close\r\n\r\n";
        conn_write(s->conn, timeout, sizeof timeout - 1);
    }
    conn_close(s->conn, CONN_TIMEOUT, true);
}

/*
 * Queues an answer: the status line, the headers, then the body (n bytes
 * at body) unless the request was HEAD. Closes after it unless the
 * connection is kept alive; else waits for the next request.
 */
static void http_answer(struct http_session *s, int status, const char *type,
                        const char *body, size_t n, const char *extra)
{
    bool keep = s->req.keep_alive && status < 400;
    char head[512];
    int k = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\nCache-Control: no-store\r\n"
                     "%sConnection: %s\r\n\r\n",
                     status, http_reason(status), type, n, extra,
                     keep ? "keep-alive" : "close");
    conn_write(s->conn, head, (size_t)k);
    if (s->req.method != HTTP_HEAD && n > 0)
        conn_write(s->conn, body, n);
    metrics.http_requests++;
    s->served++;
    if (!keep) {
        s->done = true;
        ev_timer_stop(http_loop, &s->timer);
        conn_close(s->conn, CONN_QUIT, true);
        return;
    }
    http_request_init(&s->req);
    ev_timer_start(http_loop, &s->timer, HTTP_IDLE_MS, http_on_timer);
}

/* Answers a refusal with its status and a one-line body. */
static void http_refuse(struct http_session *s, int status)
{
    char body[64];
    int n = snprintf(body, sizeof body, "%d %s\n", status, http_reason(status));
    http_answer(s, status, "text/plain; charset=utf-8", body, (size_t)n, "");
}

/* Routes a complete request head to what answers it. */
static void http_route(struct http_session *s)
{
    const struct http_request *r = &s->req;
    if (r->has_body) {
        http_refuse(s, 413); /* nothing here takes a body */
        return;
    }
    if (r->method == HTTP_OTHER) {
        char body[] = "405 Method Not Allowed\n";
        http_answer(s, 405, "text/plain; charset=utf-8", body, sizeof body - 1,
                    "Allow: GET, HEAD\r\n");
        return;
    }
    const char *path = r->target;
    size_t n = r->path_len;
    if (n == 8 && memcmp(path, "/metrics", 8) == 0) {
        http_body.n = 0;
        prom_page(&http_body);
        http_answer(s, 200, PROM_CONTENT_TYPE, http_body.p, http_body.n, "");
    } else if (n == 8 && memcmp(path, "/healthz", 8) == 0) {
        http_answer(s, 200, "text/plain; charset=utf-8", "ok\n", 3, "");
    } else {
        http_refuse(s, 404);
    }
}

/* ------------------------------------------------------------------------
 * Connection hooks
 * ------------------------------------------------------------------------ */

/* A new connection: its first request must come in time. */
static void http_open(struct conn *c)
{
    struct http_session *s = xcalloc(1, sizeof *s);
    s->conn = c;
    http_request_init(&s->req);
    conn_set_data(c, s);
    ev_timer_start(http_loop, &s->timer, HTTP_REQUEST_MS, http_on_timer);
}

/* One line of a request head. */
static void http_line(struct conn *c, const char *line, size_t len)
{
    struct http_session *s = conn_data(c);
    if (s->done)
        return;
    bool was_started = s->req.started;
    enum http_result res = http_parse_line(&s->req, line, len);
    /* The next request on a kept-alive connection has its own deadline. */
    if (!was_started && s->req.started && s->served > 0)
        ev_timer_start(http_loop, &s->timer, HTTP_REQUEST_MS, http_on_timer);
    if (res == HTTP_DONE)
        http_route(s);
    else if (res != HTTP_MORE)
        http_refuse(s, http_result_status(res));
}

/* A line over HTTP_LINE_MAX: 414 for a request line, else 431. */
static void http_too_long(struct conn *c, size_t max_line)
{
    (void)max_line;
    struct http_session *s = conn_data(c);
    if (!s->done)
        http_refuse(s, s->req.started ? 431 : 414);
}

/* The connection ended. */
static void http_close(struct conn *c, enum conn_reason reason)
{
    (void)reason;
    struct http_session *s = conn_data(c);
    ev_timer_stop(http_loop, &s->timer);
    free(s);
}

/*
 * A line from the server itself (server full, shutting down, banned): a
 * 503 answer carrying the text, or, if that does not fit in size bytes, a
 * bare one.
 */
static size_t http_server_line(bool error, const char *text, char *out,
                               size_t size)
{
    (void)error;
    int k = snprintf(out, size,
                     "HTTP/1.1 503 Service Unavailable\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
                     strlen(text) + 1, text);
    if (k > 0 && (size_t)k < size)
        return (size_t)k;
    k = snprintf(out, size,
                 "HTTP/1.1 503 Service Unavailable\r\n"
                 "Content-Length: 0\r\nConnection: close\r\n\r\n");
    return k > 0 && (size_t)k < size ? (size_t)k : 0;
}

const struct conn_proto http_proto = {
    .name = "http",
    .raw = true,
    .http = true,
    .max_line = HTTP_LINE_MAX,
    .server_line = http_server_line,
    .open = http_open,
    .line = http_line,
    .too_long = http_too_long,
    .close = http_close,
};
