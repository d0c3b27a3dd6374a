/*
 * libFuzzer target for the config file parser (config_file.c, through
 * libinih): any bytes as a file. It must never crash, and a file it
 * accepts must survive a round trip: the settings --check-config prints
 * from it, read back as a file, are accepted and print the same.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "core/chat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* core/oper.c and core/sban.c link against these; the parser never
 * reaches them. */
void chat_foreach_client(void (*fn)(struct client *c, void *arg), void *arg)
{
    (void)fn;
    (void)arg;
    abort();
}

void chat_unregister(struct client *c, const char *reason, size_t len,
                     bool announce)
{
    (void)c;
    (void)reason;
    (void)len;
    (void)announce;
    abort();
}

size_t chat_client_count(void)
{
    abort();
}

size_t chat_prefix(const struct client *c, char *out, size_t cap)
{
    (void)c;
    (void)out;
    (void)cap;
    abort();
}

/* Returns what config_print writes for cfg (malloc'd), with its length. */
static char *fuzz_print(const struct config *cfg, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (f == NULL)
        abort();
    config_print(cfg, f);
    fclose(f);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct config a, b;
    char err[512];
    config_defaults(&a);
    if (!config_parse_text(&a, "fuzz.conf", (const char *)data, size, err,
                           sizeof err)) {
        if (strncmp(err, "fuzz.conf:", 10) != 0)
            abort(); /* every error names the file and the line */
        return 0;
    }
    size_t n1, n2;
    char *one = fuzz_print(&a, &n1);
    config_defaults(&b);
    if (!config_parse_text(&b, "again.conf", one, n1, err, sizeof err)) {
        fprintf(stderr, "printed settings rejected: %s\n%s", err, one);
        abort();
    }
    char *two = fuzz_print(&b, &n2);
    if (n1 != n2 || memcmp(one, two, n1) != 0) {
        fprintf(stderr, "round trip differs:\n%s---\n%s", one, two);
        abort();
    }
    free(one);
    free(two);
    return 0;
}
