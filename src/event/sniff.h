/*
 * sniff: tells a chat client from the probes that knock on every port.
 *
 * HTTP clients and TLS clients speak first; a person waits to be greeted.
 * These checks look at a connection's first bytes or first line. Pure
 * functions, tested and fuzzed on their own.
 */
#ifndef PARLEY_SNIFF_H
#define PARLEY_SNIFF_H

#include <stdbool.h>
#include <stddef.h>

/* Returns true if the line (without its end) is an HTTP request line. */
bool sniff_http_line(const char *line, size_t len);

/*
 * Returns true if the n bytes at p, the first of a connection, could begin
 * an HTTP request line: a method of capital letters, then a space or the
 * end of what arrived so far.
 */
bool sniff_http_start(const char *p, size_t n);

/*
 * Returns true if the n bytes at p start a TLS handshake record: type 22,
 * then version 3.0 to 3.4 (SSL 3 to TLS 1.3). Three bytes are needed, so
 * a lone 0x16 (Ctrl-V typed first in telnet) is not taken for one.
 */
bool sniff_tls(const char *p, size_t n);

#endif
