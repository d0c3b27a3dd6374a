/*
 * http: the HTTP protocol peer (http:// listeners).
 *
 * An HTTP/1.1 server for operators' tools, next to the chat protocols: it
 * serves GET and HEAD of /metrics (the Prometheus text format, prom.h) and
 * /healthz, and nothing else (404; other methods 405). Requests are read
 * as lines by the connection layer like any other protocol's, so the same
 * limits hold (line length, flood budget, per-address caps, sendq); on top
 * of them a request head must arrive within HTTP_REQUEST_MS, an idle
 * keep-alive connection is closed after HTTP_IDLE_MS, and a request with
 * a body is refused. Answers are built in memory and queued like chat
 * output, so a client that does not read never holds the loop up.
 * Parsing is http/parse.h's; this file routes and answers.
 */
#ifndef PARLEY_HTTP_H
#define PARLEY_HTTP_H

struct ev_loop;

/* How long a request head may take, from its first line, in ms. */
#define HTTP_REQUEST_MS 10000
/* How long a connection may wait between requests, in ms. */
#define HTTP_IDLE_MS 60000
/* The longest line of a request head, in bytes. */
#define HTTP_LINE_MAX 8192

/* The protocol object for http:// listeners. */
extern const struct conn_proto http_proto;

/* Sets up the protocol: the loop its timers run on. */
void http_init(struct ev_loop *loop);

#endif
