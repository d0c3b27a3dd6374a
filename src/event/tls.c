/*
 * tls: TLS for the server's side of a connection, with OpenSSL 3.
 */
#include "event/tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "lib/xmalloc.h"

/*
 * TLS 1.2 ciphers: ECDHE key exchange (forward secrecy) with AES-GCM or
 * ChaCha20-Poly1305, as in Mozilla's "intermediate" profile without DHE.
 * TLS 1.3: OpenSSL's three suites, all of them AEAD. In both, the server
 * picks, AES-128-GCM first: the key exchange (X25519, P-256) gives 128-bit
 * security, so AES-256 adds no strength, only four rounds per block and
 * SHA-384 instead of SHA-256 (which CPUs do in hardware) in the handshake.
 * ChaCha20 goes first for a client that lists it first, as clients
 * without AES instructions do.
 */
#define TLS_CIPHERS                                                            \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"               \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"               \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_SUITES                                                             \
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"                           \
    "TLS_CHACHA20_POLY1305_SHA256"

struct tls_server {
    SSL_CTX *ctx; /* the current certificate; sessions hold their own ref */
};

struct tls_session {
    SSL *ssl;
    char error[160]; /* why the last call failed */
    char fp[TLS_FP_LEN + 1];
    bool has_fp;
};

/* Writes OpenSSL's oldest queued error (or what) into err; clears them. */
static void tls_errstr(char *err, size_t errsz, const char *what)
{
    unsigned long e = ERR_get_error();
    if (e != 0) {
        char s[120];
        ERR_error_string_n(e, s, sizeof s);
        snprintf(err, errsz, "%s: %s", what, s);
    } else {
        snprintf(err, errsz, "%s", what);
    }
    ERR_clear_error();
}

/*
 * Accepts any client certificate: it is not a proof of who the client is
 * (nobody signs them), only a key it can show again, whose fingerprint
 * services may recognise.
 */
static int tls_accept_any(int ok, X509_STORE_CTX *store)
{
    (void)ok;
    (void)store;
    return 1;
}

/* Applies the protocol rules every connection follows to ctx. */
static bool tls_rules(SSL_CTX *ctx)
{
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_NO_TICKET |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_PRIORITIZE_CHACHA);
    /* Partial writes let a record go out while the next waits; the queue
     * may move between retries (its bytes stay the same). Idle
     * connections give their read and write buffers back. The chain is
     * sent as the certificate file gives it (a full chain), not built
     * again for every handshake, as nginx does. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS |
                              SSL_MODE_NO_AUTO_CHAIN);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE,
                       tls_accept_any);
    return SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
           SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS) == 1 &&
           SSL_CTX_set_ciphersuites(ctx, TLS_SUITES) == 1;
}

/* Returns a context with the certificate and key, or NULL with err. */
static SSL_CTX *tls_ctx_new(const char *cert_path, const char *key_path,
                            char *err, size_t errsz)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    char what[300];
    if (ctx == NULL || !tls_rules(ctx)) {
        tls_errstr(err, errsz, "cannot set up TLS");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
        snprintf(what, sizeof what, "certificate %s", cert_path);
        tls_errstr(err, errsz, what);
    } else if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) !=
               1) {
        snprintf(what, sizeof what, "key %s", key_path);
        tls_errstr(err, errsz, what);
    } else if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(what, sizeof what, "key %s does not match certificate %s",
                 key_path, cert_path);
        tls_errstr(err, errsz, what);
    } else {
        return ctx;
    }
    SSL_CTX_free(ctx);
    return NULL;
}

struct tls_server *tls_server_new(const char *cert_path, const char *key_path,
                                  char *err, size_t errsz)
{
    SSL_CTX *ctx = tls_ctx_new(cert_path, key_path, err, errsz);
    if (ctx == NULL)
        return NULL;
    struct tls_server *ts = xcalloc(1, sizeof *ts);
    ts->ctx = ctx;
    return ts;
}

int tls_server_reload(struct tls_server *ts, const char *cert_path,
                      const char *key_path, char *err, size_t errsz)
{
    SSL_CTX *ctx = tls_ctx_new(cert_path, key_path, err, errsz);
    if (ctx == NULL)
        return -1;
    /* Sessions made with the old context hold a reference to it. */
    SSL_CTX_free(ts->ctx);
    ts->ctx = ctx;
    return 0;
}

void tls_server_describe(const struct tls_server *ts, char *out, size_t size)
{
    X509 *x = SSL_CTX_get0_certificate(ts->ctx);
    char subject[160] = "?";
    if (x) {
        X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof subject);
        for (char *p = subject; *p; p++)
            if (*p == ' ' || *p == '"')
                *p = '_';
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    char fp[TLS_FP_LEN + 1] = "";
    if (x && X509_digest(x, EVP_sha256(), md, &len) == 1)
        for (unsigned i = 0; i < len && i < TLS_FP_LEN / 2; i++)
            snprintf(fp + 2 * i, 3, "%02x", md[i]);
    snprintf(out, size, "subject=%s sha256=%s", subject, fp);
}

void tls_server_free(struct tls_server *ts)
{
    if (ts == NULL)
        return;
    SSL_CTX_free(ts->ctx);
    free(ts);
}

struct tls_session *tls_session_new(struct tls_server *ts, int fd)
{
    struct tls_session *t = xcalloc(1, sizeof *t);
    t->ssl = SSL_new(ts->ctx);
    if (t->ssl == NULL || SSL_set_fd(t->ssl, fd) != 1)
        abort(); /* out of memory */
    SSL_set_accept_state(t->ssl);
    return t;
}

void tls_session_free(struct tls_session *t)
{
    if (t == NULL)
        return;
    SSL_free(t->ssl);
    free(t);
}

/* Keeps the fingerprint of the peer's certificate, if it sent one. */
static void tls_keep_fingerprint(struct tls_session *t)
{
    X509 *x = SSL_get0_peer_certificate(t->ssl);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (x == NULL || X509_digest(x, EVP_sha256(), md, &len) != 1 ||
        len != TLS_FP_LEN / 2)
        return;
    for (unsigned i = 0; i < len; i++)
        snprintf(t->fp + 2 * i, 3, "%02x", md[i]);
    t->has_fp = true;
}

/*
 * Turns the result rc of an SSL call into an enum tls_status, recording
 * why it failed.
 */
static int tls_status_of(struct tls_session *t, int rc)
{
    int e = SSL_get_error(t->ssl, rc);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        return TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        return TLS_CLOSED;
    case SSL_ERROR_SYSCALL:
        if (errno == EAGAIN || errno == EINTR)
            return TLS_WANT_READ;
        snprintf(t->error, sizeof t->error, "socket: %s",
                 errno ? strerror(errno) : "eof");
        ERR_clear_error();
        return errno == ECONNRESET || errno == EPIPE || errno == 0 ? TLS_RESET
                                                                   : TLS_FAILED;
    default:
        /* A stream that ends without close_notify is told apart from a
         * clean end, so that a cut-short last line is not taken as sent. */
        if (ERR_GET_REASON(ERR_peek_error()) ==
            SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            snprintf(t->error, sizeof t->error, "eof without close_notify");
            ERR_clear_error();
            return TLS_RESET;
        }
        tls_errstr(t->error, sizeof t->error, "tls");
        return TLS_FAILED;
    }
}

int tls_handshake(struct tls_session *t)
{
    ERR_clear_error();
    errno = 0;
    int rc = SSL_do_handshake(t->ssl);
    if (rc == 1) {
        tls_keep_fingerprint(t);
        return TLS_OK;
    }
    int st = tls_status_of(t, rc);
    if (st == TLS_CLOSED || st == TLS_RESET) {
        if (t->error[0] == '\0' || st == TLS_CLOSED)
            snprintf(t->error, sizeof t->error, "peer left mid-handshake");
        return TLS_FAILED;
    }
    return st;
}

long tls_read(struct tls_session *t, void *buf, size_t n)
{
    size_t got = 0;
    ERR_clear_error();
    errno = 0;
    int rc = SSL_read_ex(t->ssl, buf, n, &got);
    if (rc == 1)
        return (long)got;
    return tls_status_of(t, rc);
}

long tls_write(struct tls_session *t, const void *buf, size_t n)
{
    size_t put = 0;
    ERR_clear_error();
    errno = 0;
    int rc = SSL_write_ex(t->ssl, buf, n, &put);
    if (rc == 1)
        return (long)put;
    return tls_status_of(t, rc);
}

bool tls_pending(const struct tls_session *t)
{
    /* Decrypted bytes only: a record still arriving (OpenSSL reads one at
     * a time) is completed by bytes epoll will announce. */
    return SSL_pending(t->ssl) > 0;
}

void tls_shutdown(struct tls_session *t)
{
    ERR_clear_error();
    if (SSL_is_init_finished(t->ssl))
        SSL_shutdown(t->ssl);
    ERR_clear_error();
}

const char *tls_fingerprint(const struct tls_session *t)
{
    return t->has_fp ? t->fp : NULL;
}

const char *tls_version(const struct tls_session *t)
{
    return SSL_get_version(t->ssl);
}

const char *tls_cipher(const struct tls_session *t)
{
    return SSL_get_cipher_name(t->ssl);
}

const char *tls_error(const struct tls_session *t)
{
    return t->error[0] ? t->error : "unknown";
}
