/*
 * libFuzzer target for http/parse.c: any bytes, split into lines at LF as
 * the connection layer would, fed to one request after another (a refusal
 * or a complete head starts the next, as on a kept-alive connection).
 * Checks what the parser promises: a complete head has a request line, a
 * NUL-terminated target no longer than HTTP_TARGET_MAX starting with '/'
 * or being "*", a path within it, and a Host field if it is HTTP/1.1;
 * every refusal maps to a 4xx or 5xx status. The fields also go through
 * http/upgrade.c as http.c passes them, and every complete head is asked
 * whether it may become a WebSocket: the answer is 101 with an accept key
 * of 28 base64 characters, or 400, 403 or 426.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/parse.h"
#include "http/upgrade.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks a request the parser called complete. */
static void check_done(const struct http_request *r)
{
    if (!r->started || r->target_len == 0 ||
        r->target_len > HTTP_TARGET_MAX ||
        strlen(r->target) != r->target_len || r->path_len > r->target_len)
        abort();
    if (r->target[0] != '/' && strcmp(r->target, "*") != 0)
        abort();
    if (r->minor >= 1 && !r->has_host)
        abort();
}

/* Checks the upgrade's verdict on a complete head's fields. */
static void check_upgrade(const struct http_fields *f)
{
    static const char origins[1][256] = {"https://chat.example"};
    char accept[29];
    enum http_ws_sub sub;
    bool offered;
    for (size_t n = 0; n < 2; n++) {
        int st = http_upgrade_check(f, n == 1, origins, n, accept, &sub,
                                    &offered);
        if (st == 101 && strlen(accept) != 28)
            abort();
        if (st != 101 && st != 400 && st != 403 && st != 426)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_request r = {0};
    struct http_fields f;
    http_fields_init(&f);
    r.on_field = http_fields_take;
    r.arg = &f;
    http_request_init(&r);
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *line = malloc(n ? n : 1); /* exactly its size, for ASan */
        memcpy(line, p, n);
        enum http_result res = http_parse_line(&r, line, n);
        free(line);
        if (res == HTTP_DONE) {
            check_done(&r);
            check_upgrade(&f);
        }
        if (res != HTTP_MORE && res != HTTP_DONE) {
            int st = http_result_status(res);
            if (st < 400 || st > 599)
                abort();
        }
        if (res != HTTP_MORE) {
            http_request_init(&r);
            http_fields_init(&f);
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}
