/*
 * http: the HTTP protocol peer: /metrics and /healthz on metrics://; the
 * web client's files and the WebSocket endpoint on http:// and https://.
 */
#include "http/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/conn.h"
#include "event/ev.h"
#include "http/parse.h"
#include "http/prom.h"
#include "http/upgrade.h"
#include "http/web.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/tbuf.h"
#include "lib/xmalloc.h"

/* One HTTP connection. */
struct http_session {
    struct conn *conn;
    struct ev_timer timer; /* the deadline of the request, or of idleness */
    struct http_request req;
    struct http_fields f; /* the fields an upgrade or an ETag looks at */
    bool done;            /* the last answer is queued: nothing more is read */
    unsigned served;      /* requests answered on this connection */
};

static struct ev_loop *http_loop;
static struct tbuf http_body; /* the answer being built, reused */
static struct http_config http_cfg;

/*
 * What every answer of the web side carries: no inline script or style,
 * nothing from elsewhere, no framing, no sniffing, no referrer. The
 * WebSocket of the same host is added per request (connect-src).
 */
#define HTTP_WEB_HEADERS                                                       \
    "X-Content-Type-Options: nosniff\r\n"                                      \
    "Referrer-Policy: no-referrer\r\n"                                         \
    "Content-Security-Policy: default-src 'self'; img-src 'self' data:; "      \
    "style-src 'self'; script-src 'self'; frame-ancestors 'none'; "            \
    "base-uri 'none'; form-action 'none'; connect-src 'self'"

void http_init(struct ev_loop *loop, const struct http_config *cfg)
{
    http_loop = loop;
    http_cfg = *cfg;
    if (cfg->web_root != NULL)
        web_load(cfg->web_root);
}

void http_reload(void)
{
    if (http_cfg.web_root != NULL)
        web_load(http_cfg.web_root);
}

void http_fini(void)
{
    web_fini();
    free(http_body.p);
    memset(&http_body, 0, sizeof http_body);
}

/* Returns true if s serves the web (http://, https://), not metrics. */
static bool http_is_web(const struct http_session *s)
{
    return conn_proto_of(s->conn) == &http_proto;
}

/* Returns the reason phrase of status. */
static const char *http_reason(int status)
{
    switch (status) {
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 304:
        return "Not Modified";
    case 403:
        return "Forbidden";
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
    case 426:
        return "Upgrade Required";
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
 * Writes into out (cap bytes) the headers every answer of s carries:
 * caching off for metrics; the security headers for the web, with the
 * WebSocket of the request's host allowed (if the Host is a plain one).
 */
static void http_common_headers(const struct http_session *s, char *out,
                                size_t cap)
{
    if (!http_is_web(s)) {
        snprintf(out, cap, "Cache-Control: no-store\r\n");
        return;
    }
    const char *h = s->f.host;
    bool plain = h[0] && h[strspn(h, "abcdefghijklmnopqrstuvwxyz"
                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789.-:[]")] == '\0';
    snprintf(out, cap, HTTP_WEB_HEADERS "%s%s%s%s;\r\n", plain ? " ws://" : "",
             plain ? h : "", plain ? " wss://" : "", plain ? h : "");
}

/*
 * Queues an answer: the status line, the headers, then the body (n bytes
 * at body, or the shared block blk) unless the request was HEAD. Closes
 * after it unless the connection is kept alive; else waits for the next
 * request.
 */
static void http_answer_body(struct http_session *s, int status,
                             const char *type, const char *body,
                             struct outq_block *blk, size_t n,
                             const char *extra)
{
    bool keep = s->req.keep_alive && status < 400;
    char common[1024], head[2048];
    http_common_headers(s, common, sizeof common);
    int k = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\n%s"
                     "%sConnection: %s\r\n\r\n",
                     status, http_reason(status), type, n, common, extra,
                     keep ? "keep-alive" : "close");
    conn_write(s->conn, head, (size_t)k);
    if (s->req.method != HTTP_HEAD && n > 0 && status != 304) {
        if (blk != NULL)
            conn_write_block(s->conn, blk);
        else
            conn_write(s->conn, body, n);
    }
    metrics.http_requests++;
    s->served++;
    if (!keep) {
        s->done = true;
        ev_timer_stop(http_loop, &s->timer);
        conn_close(s->conn, CONN_QUIT, true);
        return;
    }
    http_request_init(&s->req);
    http_fields_init(&s->f);
    ev_timer_start(http_loop, &s->timer, HTTP_IDLE_MS, http_on_timer);
}

/* Queues an answer whose body is the n bytes at body. */
static void http_answer(struct http_session *s, int status, const char *type,
                        const char *body, size_t n, const char *extra)
{
    http_answer_body(s, status, type, body, NULL, n, extra);
}

/* Answers a refusal with its status and a one-line body. */
static void http_refuse(struct http_session *s, int status)
{
    char body[64];
    int n = snprintf(body, sizeof body, "%d %s\n", status, http_reason(status));
    http_answer(s, status, "text/plain; charset=utf-8", body, (size_t)n, "");
}

/* Answers a file of the web client, or 304 if the browser has it. */
static void http_serve_file(struct http_session *s, const struct web_file *f)
{
    char extra[128];
    snprintf(extra, sizeof extra, "ETag: %s\r\nCache-Control: no-cache\r\n",
             f->etag);
    bool fresh =
        s->f.if_none_match[0] && (strstr(s->f.if_none_match, f->etag) != NULL ||
                                  strcmp(s->f.if_none_match, "*") == 0);
    if (fresh)
        http_answer_body(s, 304, f->type, NULL, NULL, 0, extra);
    else
        http_answer_body(s, 200, f->type, NULL, f->body, f->len, extra);
}

/*
 * A GET of the WebSocket path: answers 101 and hands the connection to
 * the IRC protocol over WebSocket, or refuses it (400, 403, 426).
 */
static void http_upgrade(struct http_session *s)
{
    char accept[29];
    enum http_ws_sub sub;
    bool offered;
    int st = http_upgrade_check(&s->f, conn_is_tls(s->conn), http_cfg.origins,
                                http_cfg.norigins, accept, &sub, &offered);
    if (st == 426) {
        char body[] = "426 Upgrade Required\n";
        http_answer(s, 426, "text/plain; charset=utf-8", body, sizeof body - 1,
                    "Sec-WebSocket-Version: 13\r\n");
        return;
    }
    if (st != 101) {
        log_info("event=ws-refused id=%llu status=%d origin=%s",
                 (unsigned long long)conn_id(s->conn), st,
                 log_q(s->f.origin, strlen(s->f.origin)));
        http_refuse(s, st);
        return;
    }
    char head[512];
    int k = snprintf(head, sizeof head,
                     "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n%s%s%s\r\n",
                     accept, offered ? "Sec-WebSocket-Protocol: " : "",
                     offered ? (sub == HTTP_WS_BINARY ? "binary.ircv3.net"
                                                      : "text.ircv3.net")
                             : "",
                     offered ? "\r\n" : "");
    struct conn *c = s->conn;
    conn_write(c, head, (size_t)k);
    metrics.http_requests++;
    log_info("event=ws-open id=%llu subprotocol=%s",
             (unsigned long long)conn_id(c),
             sub == HTTP_WS_BINARY ? "binary" : "text");
    ev_timer_stop(http_loop, &s->timer);
    free(s);
    conn_upgrade_ws(c, http_cfg.ws_proto, sub == HTTP_WS_BINARY);
}

/* Routes a request of the web side. */
static void http_route_web(struct http_session *s)
{
    const struct http_request *r = &s->req;
    if (r->path_len == strlen(HTTP_WS_PATH) &&
        memcmp(r->target, HTTP_WS_PATH, r->path_len) == 0 &&
        r->method == HTTP_GET && http_wants_upgrade(&s->f) &&
        http_cfg.ws_proto != NULL) {
        http_upgrade(s);
        return;
    }
    const struct web_file *f = web_find(r->target, r->path_len);
    if (f != NULL)
        http_serve_file(s, f);
    else
        http_refuse(s, 404);
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
    if (http_is_web(s)) {
        http_route_web(s);
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
    http_fields_init(&s->f);
    s->req.on_field = http_fields_take;
    s->req.arg = &s->f;
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
    else if (res == HTTP_MORE)
        conn_line_free(c); /* a request counts as one line, its last */
    else
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

/* The hooks of both HTTP protocols; the name tells them apart. */
#define HTTP_PROTO(NAME)                                                       \
    {                                                                          \
        .name = NAME, .raw = true, .http = true, .max_line = HTTP_LINE_MAX,    \
        .server_line = http_server_line, .open = http_open, .line = http_line, \
        .too_long = http_too_long, .close = http_close,                        \
    }

const struct conn_proto http_metrics_proto = HTTP_PROTO("metrics");
const struct conn_proto http_proto = HTTP_PROTO("http");
