/*
 * http: the HTTP protocol peer (http://, https:// and metrics:// listeners).
 *
 * An HTTP/1.1 server. On metrics:// listeners, for operators' tools, it
 * serves GET and HEAD of /metrics (the Prometheus text format, prom.h) and
 * /healthz, and nothing else (404; other methods 405). On http:// and
 * https:// it serves the web client's files (web.h) with strict security
 * headers, and GET /irc upgrades to a WebSocket (upgrade.h) that speaks
 * IRC: the connection becomes an IRC session (conn_upgrade_ws). Requests are
 * read as lines by the connection layer like any other protocol's, so the same
 * limits hold (line length, flood budget, per-address caps, sendq); on top
 * of them a request head must arrive within HTTP_REQUEST_MS, an idle
 * keep-alive connection is closed after HTTP_IDLE_MS, and a request with
 * a body is refused. Answers are built in memory and queued like chat
 * output, so a client that does not read never holds the loop up.
 * Parsing is http/parse.h's; this file routes and answers.
 */
#ifndef PARLEY_HTTP_H
#define PARLEY_HTTP_H

#include <stddef.h>

struct ev_loop;

/* How long a request head may take, from its first line, in ms. */
#define HTTP_REQUEST_MS 10000
/* How long a connection may wait between requests, in ms. */
#define HTTP_IDLE_MS 60000
/* The longest line of a request head, in bytes. */
#define HTTP_LINE_MAX 8192

/* The WebSocket endpoint's path. */
#define HTTP_WS_PATH "/irc"

/* The protocol objects: http:// and https:// (the web), metrics://. */
extern const struct conn_proto http_proto;
extern const struct conn_proto http_metrics_proto;

/* What the web side serves. */
struct http_config {
    const char *web_root;              /* the web client's files (web.h) */
    const char (*origins)[256];        /* Origins allowed to open a WebSocket */
    size_t norigins;                   /* 0: the server's own origin only */
    const struct conn_proto *ws_proto; /* what a WebSocket speaks (IRC) */
};

/*
 * Sets up the protocol: the loop its timers run on, and what the web side
 * serves (cfg is copied; the strings it points to must live on). Reads
 * the web client's files.
 */
void http_init(struct ev_loop *loop, const struct http_config *cfg);

/* Reads the web client's files again (SIGHUP). */
void http_reload(void);

/* Frees the files (at exit). */
void http_fini(void);

#endif
