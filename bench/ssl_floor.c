/*
 * ssl_floor.c - what OpenSSL itself keeps per established server-side TLS
 * session, measured with malloc's own count (mallinfo2), so that parley's
 * memory per idle TLS connection can be read against it.
 *
 *     cc -O1 bench/ssl_floor.c -o build/ssl_floor -lssl -lcrypto
 *     build/ssl_floor CERT.pem KEY.pem
 *
 * A child process connects N clients over socketpairs; the parent makes
 * one server SSL per connection with the settings parleyd uses (no tickets
 * or session cache, buffers released while idle), and prints the bytes in
 * use per session after SSL_new, and after the TLS 1.3 handshake and one
 * SSL_write.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define N 200

/* The client side: N handshakes, one after the other, then a pause. */
static void clients(int fds[N][2])
{
    SSL_CTX *cc = SSL_CTX_new(TLS_client_method());
    for (int i = 0; i < N; i++) {
        SSL *c = SSL_new(cc);
        SSL_set_fd(c, fds[i][1]);
        if (SSL_connect(c) != 1)
            fprintf(stderr, "client handshake failed\n");
    }
    sleep(1);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: ssl_floor CERT.pem KEY.pem\n");
        return 2;
    }
    SSL_CTX *sc = SSL_CTX_new(TLS_server_method());
    if (SSL_CTX_use_certificate_chain_file(sc, argv[1]) != 1 ||
        SSL_CTX_use_PrivateKey_file(sc, argv[2], SSL_FILETYPE_PEM) != 1) {
        fprintf(stderr, "cannot load %s, %s\n", argv[1], argv[2]);
        return 1;
    }
    SSL_CTX_set_mode(sc, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_options(sc, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(sc, 0);
    SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_OFF);
    static int fds[N][2];
    for (int i = 0; i < N; i++)
        socketpair(AF_UNIX, SOCK_STREAM, 0, fds[i]);
    pid_t pid = fork();
    if (pid == 0) {
        clients(fds);
        _exit(0);
    }
    static SSL *s[N];
    size_t u0 = mallinfo2().uordblks;
    for (int i = 0; i < N; i++) {
        s[i] = SSL_new(sc);
        SSL_set_fd(s[i], fds[i][0]);
    }
    size_t u1 = mallinfo2().uordblks;
    for (int i = 0; i < N; i++)
        if (SSL_accept(s[i]) != 1 || SSL_write(s[i], "x", 1) != 1)
            fprintf(stderr, "server handshake failed\n");
    size_t u2 = mallinfo2().uordblks;
    printf("OpenSSL %s: bytes in use per session: after SSL_new %zu, "
           "established and idle %zu\n",
           OpenSSL_version(OPENSSL_VERSION), (u1 - u0) / N, (u2 - u0) / N);
    for (int i = 0; i < N; i++)
        SSL_free(s[i]);
    waitpid(pid, NULL, 0);
    return 0;
}
