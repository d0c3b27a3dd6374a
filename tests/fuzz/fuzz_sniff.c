/*
 * libFuzzer target for sniff.c: any bytes, as a first read and as a first
 * line. Checks that the answers agree with each other: a complete HTTP
 * request line also counts as the start of one, and a TLS record never
 * starts like one (0x16 is no capital letter).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "event/sniff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    bool line = sniff_http_line(p, size);
    bool start = sniff_http_start(p, size);
    bool tls = sniff_tls(p, size);
    if (line && !start)
        abort();
    if (tls && start)
        abort();
    return 0;
}
