/*
 * upgrade: the WebSocket opening handshake (RFC 6455, 4.2), server side,
 * and the IRCv3 subprotocols (text.ircv3.net, binary.ircv3.net).
 *
 * http.c gathers the header fields that matter here while the request
 * head is parsed (http_fields_take, from the parser's field callback),
 * then asks http_upgrade_check whether a GET of the WebSocket path may
 * become a WebSocket, and with what answer. Pure: tested on its own.
 */
#ifndef PARLEY_HTTP_UPGRADE_H
#define PARLEY_HTTP_UPGRADE_H

#include <stdbool.h>
#include <stddef.h>

/* The request's fields an upgrade or a conditional GET looks at. */
struct http_fields {
    char host[256];          /* Host, "" if none (or too long) */
    char origin[256];        /* Origin, "" if none */
    char key[64];            /* Sec-WebSocket-Key */
    char protocols[256];     /* Sec-WebSocket-Protocol, the lists joined */
    char if_none_match[256]; /* If-None-Match */
    unsigned version;        /* Sec-WebSocket-Version; 0: none */
    bool has_origin;         /* an Origin field came */
    bool upgrade_ws;         /* Upgrade names websocket */
    bool conn_upgrade;       /* Connection names upgrade */
    bool bad;                /* a field that must be single came twice */
};

/* The subprotocol chosen. */
enum http_ws_sub {
    HTTP_WS_TEXT,   /* text.ircv3.net, or none offered: text frames */
    HTTP_WS_BINARY, /* binary.ircv3.net: binary frames */
};

/* Clears f for a new request. */
void http_fields_init(struct http_fields *f);

/* Takes one header field (the parser's field callback, arg = f). */
void http_fields_take(void *f, const char *name, size_t nlen, const char *value,
                      size_t vlen);

/* Returns true if the request asks for a WebSocket (Upgrade: websocket). */
bool http_wants_upgrade(const struct http_fields *f);

/*
 * Checks an upgrade request whose fields are f, on a TLS connection or
 * not (tls), against the allowed origins (n of them; none: the request's
 * own scheme://Host only). A request without Origin (not a browser) is
 * allowed. Returns 101 with the Sec-WebSocket-Accept value in accept (29
 * bytes with its NUL) and the subprotocol in *sub (*offered says if the
 * client offered it by name, so that the answer names it); or the status
 * that refuses it: 400 (malformed), 403 (origin), 426 (version).
 */
int http_upgrade_check(const struct http_fields *f, bool tls,
                       const char (*origins)[256], size_t n, char accept[29],
                       enum http_ws_sub *sub, bool *offered);

/* Returns true if the comma-separated list s has token (any case). */
bool http_has_token(const char *s, const char *token);

#endif
