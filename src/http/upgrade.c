/*
 * upgrade: the WebSocket opening handshake (see upgrade.h).
 */
#include "http/upgrade.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The GUID RFC 6455 appends to the key before hashing it. */
#define HTTP_WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

void http_fields_init(struct http_fields *f)
{
    memset(f, 0, sizeof *f);
}

/* Copies value (n bytes) into dst (cap bytes); a longer one is cut to "". */
static void http_fields_copy(char *dst, size_t cap, const char *v, size_t n)
{
    if (n >= cap)
        n = 0;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

/* Returns true if name (n bytes) is want, in any case. */
static bool http_is(const char *name, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

void http_fields_take(void *arg, const char *name, size_t nlen, const char *v,
                      size_t vlen)
{
    struct http_fields *f = arg;
    char tmp[256];
    if (http_is(name, nlen, "host")) {
        f->bad = f->bad || f->host[0];
        http_fields_copy(f->host, sizeof f->host, v, vlen);
    } else if (http_is(name, nlen, "origin")) {
        f->bad = f->bad || f->has_origin;
        f->has_origin = true;
        http_fields_copy(f->origin, sizeof f->origin, v, vlen);
    } else if (http_is(name, nlen, "sec-websocket-key")) {
        f->bad = f->bad || f->key[0];
        http_fields_copy(f->key, sizeof f->key, v, vlen);
    } else if (http_is(name, nlen, "sec-websocket-version")) {
        http_fields_copy(tmp, sizeof tmp, v, vlen);
        f->version = (unsigned)strtoul(tmp, NULL, 10);
    } else if (http_is(name, nlen, "sec-websocket-protocol")) {
        size_t used = strlen(f->protocols);
        if (used + vlen + 2 < sizeof f->protocols)
            snprintf(f->protocols + used, sizeof f->protocols - used, "%s%.*s",
                     used ? "," : "", (int)vlen, v);
    } else if (http_is(name, nlen, "if-none-match")) {
        http_fields_copy(f->if_none_match, sizeof f->if_none_match, v, vlen);
    } else if (http_is(name, nlen, "upgrade")) {
        http_fields_copy(tmp, sizeof tmp, v, vlen);
        f->upgrade_ws = f->upgrade_ws || http_has_token(tmp, "websocket");
    } else if (http_is(name, nlen, "connection")) {
        http_fields_copy(tmp, sizeof tmp, v, vlen);
        f->conn_upgrade = f->conn_upgrade || http_has_token(tmp, "upgrade");
    }
}

bool http_has_token(const char *s, const char *token)
{
    size_t tn = strlen(token);
    while (*s) {
        s += strspn(s, " \t,");
        size_t n = strcspn(s, ",");
        size_t k = n;
        while (k > 0 && (s[k - 1] == ' ' || s[k - 1] == '\t'))
            k--;
        if (k == tn && strncasecmp(s, token, tn) == 0)
            return true;
        s += n;
    }
    return false;
}

bool http_wants_upgrade(const struct http_fields *f)
{
    return f->upgrade_ws;
}

/* Returns true if the key is base64 of 16 bytes (RFC 6455, 4.1). */
static bool http_key_valid(const char *key)
{
    if (strlen(key) != 24 || strcmp(key + 22, "==") != 0)
        return false;
    unsigned char raw[20];
    return EVP_DecodeBlock(raw, (const unsigned char *)key, 24) == 18;
}

/* Returns true if the request's Origin is allowed. */
static bool http_origin_ok(const struct http_fields *f, bool tls,
                           const char (*origins)[256], size_t n)
{
    if (!f->has_origin)
        return true; /* not a browser: nothing to protect it from */
    if (n == 0) {
        char own[300];
        snprintf(own, sizeof own, "%s://%s", tls ? "https" : "http", f->host);
        return f->host[0] && strcasecmp(f->origin, own) == 0;
    }
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(f->origin, origins[i]) == 0 ||
            strcmp(origins[i], "*") == 0)
            return true;
    return false;
}

/* Picks the subprotocol: the first one offered that is ours. */
static void http_pick_sub(const char *s, enum http_ws_sub *sub, bool *offered)
{
    *sub = HTTP_WS_TEXT;
    *offered = false;
    while (*s) {
        s += strspn(s, " \t,");
        size_t n = strcspn(s, ", \t");
        if (n == 14 && strncmp(s, "text.ircv3.net", n) == 0) {
            *offered = true;
            return;
        }
        if (n == 16 && strncmp(s, "binary.ircv3.net", n) == 0) {
            *sub = HTTP_WS_BINARY;
            *offered = true;
            return;
        }
        s += n;
    }
}

int http_upgrade_check(const struct http_fields *f, bool tls,
                       const char (*origins)[256], size_t n, char accept[29],
                       enum http_ws_sub *sub, bool *offered)
{
    if (f->bad || !f->upgrade_ws || !f->conn_upgrade || !http_key_valid(f->key))
        return 400;
    if (f->version != 13)
        return 426;
    if (!http_origin_ok(f, tls, origins, n))
        return 403;
    char in[64 + sizeof HTTP_WS_GUID];
    snprintf(in, sizeof in, "%s%s", f->key, HTTP_WS_GUID);
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)in, strlen(in), md);
    EVP_EncodeBlock((unsigned char *)accept, md, sizeof md);
    http_pick_sub(f->protocols, sub, offered);
    return 101;
}
