/*
 * tls: TLS for the server's side of a connection, with OpenSSL 3.
 *
 * A tls_server holds the certificate, the key and the rules every TLS
 * connection follows: TLS 1.2 and 1.3 only, forward-secret AEAD ciphers,
 * no renegotiation, no compression, no session cache or tickets (chat
 * clients stay connected), OpenSSL's buffers released while a connection
 * is idle. A client certificate is asked for but not required; its SHA-256
 * fingerprint is kept (IRC's CertFP). tls_server_reload swaps in a new
 * certificate and key for new connections; the established ones keep the
 * old until they end.
 *
 * A tls_session is one connection's TLS on a non-blocking socket. Its
 * calls never block: they return TLS_WANT_READ or TLS_WANT_WRITE when the
 * socket must become readable or writable first. The module knows nothing
 * of connections, lines or protocols; event/conn drives it.
 */
#ifndef PARLEY_TLS_H
#define PARLEY_TLS_H

#include <stdbool.h>
#include <stddef.h>

struct tls_server;
struct tls_session;

/* Length of a fingerprint: SHA-256 in lower-case hex, without colons. */
#define TLS_FP_LEN 64

/* What a call on a session reports besides a byte count. */
enum tls_status {
    TLS_OK = 0,          /* done (handshake) or bytes moved (read, write) */
    TLS_WANT_READ = -1,  /* call again once the socket is readable */
    TLS_WANT_WRITE = -2, /* call again once the socket is writable */
    TLS_CLOSED = -3,     /* the peer ended the stream (close_notify) */
    TLS_RESET = -4,      /* the peer vanished without close_notify */
    TLS_FAILED = -5,     /* a protocol or socket error; see tls_error */
};

/*
 * Returns a new server context with the certificate chain in cert_path and
 * the private key in key_path (PEM), or NULL with the reason in err.
 */
struct tls_server *tls_server_new(const char *cert_path, const char *key_path,
                                  char *err, size_t errsz);

/*
 * Reads cert_path and key_path again and uses them for connections made
 * from now on. Returns 0, or -1 with the reason in err, keeping the
 * certificate it had.
 */
int tls_server_reload(struct tls_server *ts, const char *cert_path,
                      const char *key_path, char *err, size_t errsz);

/* Writes the certificate's subject and expiry, for the log, into out. */
void tls_server_describe(const struct tls_server *ts, char *out, size_t size);

/* Frees ts; sessions still open keep what they use. NULL is a no-op. */
void tls_server_free(struct tls_server *ts);

/* Returns a new session for the accepted socket fd (borrowed). */
struct tls_session *tls_session_new(struct tls_server *ts, int fd);

/* Frees a session without a word to the peer. NULL is a no-op. */
void tls_session_free(struct tls_session *t);

/*
 * Advances the handshake: TLS_OK once it is complete, TLS_WANT_READ or
 * TLS_WANT_WRITE to be called again, or TLS_FAILED (tls_error says why).
 */
int tls_handshake(struct tls_session *t);

/*
 * Reads up to n bytes into buf: returns the count (> 0), or a negative
 * enum tls_status.
 */
long tls_read(struct tls_session *t, void *buf, size_t n);

/*
 * Writes up to n bytes from buf as one call to OpenSSL (at most one record
 * is sent if n is at most 16 KiB): returns the count taken (> 0), or a
 * negative enum tls_status. After TLS_WANT_WRITE, the next call must offer
 * the same bytes again (they may have moved), at least as many.
 */
long tls_write(struct tls_session *t, const void *buf, size_t n);

/* Returns true if decrypted input waits inside OpenSSL, unseen by epoll. */
bool tls_pending(const struct tls_session *t);

/* Sends close_notify if the socket takes it now; never waits. */
void tls_shutdown(struct tls_session *t);

/* Returns the peer's certificate fingerprint, or NULL if it sent none. */
const char *tls_fingerprint(const struct tls_session *t);

/* Returns the negotiated protocol version ("TLSv1.3") and cipher. */
const char *tls_version(const struct tls_session *t);
const char *tls_cipher(const struct tls_session *t);

/* Returns why the last call failed, for the log (never NULL). */
const char *tls_error(const struct tls_session *t);

#endif
