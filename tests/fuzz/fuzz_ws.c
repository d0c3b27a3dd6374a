/*
 * libFuzzer target for event/ws.c: any bytes as what a WebSocket client
 * sends, handed to the decoder in pieces (their size from the first byte,
 * so that frames are cut everywhere), through the same calls the
 * connection layer makes. Checks what the decoder promises: it never
 * writes more than it was given room for, never more in all than it read
 * (frame headers are at least 6 bytes, the "\r\n" it adds 2), answers
 * only with pongs, and fails only with the codes ws.h names.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct src {
    const uint8_t *p;
    size_t n, piece;
};

static size_t src_read(void *arg, uint8_t *buf, size_t n)
{
    struct src *s = arg;
    size_t k = s->n < n ? s->n : n;
    if (k > s->piece)
        k = s->piece;
    memcpy(buf, s->p, k);
    s->p += k;
    s->n -= k;
    return k;
}

static void on_send(void *arg, const uint8_t *p, size_t n)
{
    (void)arg;
    if (n < 2 || n > 127 || p[0] != 0x8a) /* a pong, at most 125 bytes */
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    struct src s = {data + 1, size - 1, (size_t)data[0] * 37 + 1};
    struct ws w = {0};
    size_t cap = WS_RX_HOLD + 1 + (data[0] & 0x3f) * 512;
    char *out = malloc(cap); /* exactly its size, for ASan */
    size_t total = 0;
    enum ws_status st = WS_GOING;
    while (st == WS_GOING && s.n > 0) {
        size_t got;
        st = ws_recv(&w, src_read, &s, out, cap, &got, on_send, NULL);
        if (got > cap)
            abort();
        total += got;
    }
    if (total > size)
        abort();
    if (st == WS_FAILED && w.code != WS_PROTOCOL && w.code != WS_BAD_DATA &&
        w.code != WS_TOO_BIG)
        abort();
    ws_free(&w);
    free(out);
    return 0;
}
