/*
 * sniff: tells a chat client from the probes that knock on every port.
 */
#include "event/sniff.h"

#include <stdint.h>
#include <string.h>

/* Returns the length of the capital letters at the start of p (max 10). */
static size_t sniff_method(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && i < 10 && p[i] >= 'A' && p[i] <= 'Z')
        i++;
    return i;
}

bool sniff_http_line(const char *line, size_t len)
{
    size_t i = sniff_method(line, len);
    if (i < 3 || i >= len || line[i] != ' ')
        return false;
    for (size_t k = i + 1; k + 6 <= len; k++)
        if (memcmp(line + k, " HTTP/", 6) == 0)
            return true;
    return false;
}

bool sniff_http_start(const char *p, size_t n)
{
    size_t i = sniff_method(p, n);
    return i == n || (i >= 3 && p[i] == ' ');
}

bool sniff_tls(const char *p, size_t n)
{
    return n >= 3 && (uint8_t)p[0] == 0x16 && p[1] == 0x03 &&
           (uint8_t)p[2] <= 0x04;
}
