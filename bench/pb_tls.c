/*
 * pb_tls.c - TLS for parley-bench's connections (--tls), with OpenSSL 3.
 *
 * After the TCP connect, a connection runs a non-blocking TLS handshake
 * before its protocol's login; then every read and write goes through
 * SSL_read and SSL_write, which this file maps to what recv and send
 * return (EAGAIN when they must wait). Certificates are not verified: the
 * benchmark measures the server's work, not who it is. Clients release
 * their buffers while idle, as the server does, so that thousands fit.
 */
#include "pb.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <sys/socket.h>

static SSL_CTX *pb_tls_ctx; /* NULL: plain TCP */

/* Bytes one read of a busy connection may take at once. */
#define PB_TLS_READ_BUF (64 * 1024)

/* Accepts the server's certificate without looking at it. */
static int pb_tls_trust_any(X509_STORE_CTX *store, void *arg)
{
    (void)store;
    (void)arg;
    return 1;
}

bool pb_tls_init(void)
{
    pb_tls_ctx = SSL_CTX_new(TLS_client_method());
    if (pb_tls_ctx == NULL)
        return false;
    SSL_CTX_set_verify(pb_tls_ctx, SSL_VERIFY_NONE, NULL);
    /* Not even the chain is built: OpenSSL would build it and ignore the
     * result. */
    SSL_CTX_set_cert_verify_callback(pb_tls_ctx, pb_tls_trust_any, NULL);
    SSL_CTX_set_mode(pb_tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                     SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                     SSL_MODE_RELEASE_BUFFERS);
    /* Read ahead: one recv takes as many records as have arrived, up to
     * PB_TLS_READ_BUF bytes, instead of two recvs (header, then body) per
     * record; SSL_has_pending tells when records wait in the buffer. */
    SSL_CTX_set_read_ahead(pb_tls_ctx, 1);
    SSL_CTX_set_default_read_buffer_len(pb_tls_ctx, PB_TLS_READ_BUF);
    return true;
}

bool pb_tls_on(void)
{
    return pb_tls_ctx != NULL;
}

void pb_tls_start(struct pb_conn *c)
{
    SSL *s = SSL_new(pb_tls_ctx);
    if (s == NULL || SSL_set_fd(s, c->fd) != 1) {
        fprintf(stderr, "parley-bench: out of memory for TLS\n");
        exit(1);
    }
    SSL_set_connect_state(s);
    c->ssl = s;
    c->tls_hs = 1;
}

/* Maps the SSL result rc of c to -1 with errno (EAGAIN: wait). */
static ssize_t pb_tls_errno(struct pb_conn *c, int rc, bool *want_write)
{
    int e = SSL_get_error(c->ssl, rc);
    ERR_clear_error();
    if (want_write)
        *want_write = e == SSL_ERROR_WANT_WRITE;
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    if (e != SSL_ERROR_SYSCALL || errno == 0)
        errno = EPROTO;
    return -1;
}

int pb_tls_handshake(struct pb_conn *c, bool *want_write)
{
    int rc = SSL_do_handshake(c->ssl);
    if (rc == 1) {
        c->tls_hs = 0;
        return 1;
    }
    if (pb_tls_errno(c, rc, want_write) < 0 && errno == EAGAIN)
        return 0;
    return -1;
}

ssize_t pb_io_recv(struct pb_conn *c, void *buf, size_t n)
{
    if (c->ssl == NULL)
        return recv(c->fd, buf, n, 0);
    size_t got = 0;
    int rc = SSL_read_ex(c->ssl, buf, n, &got);
    return rc == 1 ? (ssize_t)got : pb_tls_errno(c, rc, NULL);
}

ssize_t pb_io_send(struct pb_conn *c, const void *buf, size_t n)
{
    if (c->ssl == NULL)
        return send(c->fd, buf, n, MSG_NOSIGNAL);
    size_t put = 0;
    int rc = SSL_write_ex(c->ssl, buf, n, &put);
    if (rc == 1)
        return (ssize_t)put;
    ssize_t st = pb_tls_errno(c, rc, NULL);
    if (st == 0)
        errno = EPIPE;
    return -1;
}

bool pb_io_pending(const struct pb_conn *c)
{
    return c->ssl != NULL && SSL_has_pending(c->ssl) == 1;
}

void pb_tls_free(struct pb_conn *c)
{
    SSL_free(c->ssl);
    c->ssl = NULL;
}
