/*
 * config_file: the config file (INI, read with libinih), --check-config's
 * listing, and what a reload may change.
 *
 * The file holds NAME = VALUE lines, NAME being a flag without its "--";
 * lines starting with ';' or '#' are comments, as is what follows " ;" on
 * a line. There are no sections and no continuation lines (leading blanks
 * are dropped), so every line stands alone and every error has a line.
 */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

/* The longest value text shown, for the listing and the reload log. */
#define CONFIG_SHOW_MAX 4096

/* One parse of a file's text. */
struct config_file {
    struct config *cfg;
    const char *name;    /* the file's name, for messages */
    const char *p, *end; /* the text not yet read */
    int line;            /* the line the reader gave last */
    int err_line;        /* the line of the first error, 0: none */
    char *err;           /* the first error, "NAME:LINE: why" */
    size_t cap;
    int first_line[CONFIG_SETTINGS_MAX]; /* where each setting was set */
};

/* Records an error on the current line, unless one was recorded before. */
__attribute__((format(printf, 2, 3))) static void
config_file_error(struct config_file *f, const char *fmt, ...)
{
    if (f->err_line)
        return;
    f->err_line = f->line;
    int n = snprintf(f->err, f->cap, "%s:%d: ", f->name, f->line);
    if (n < 0 || (size_t)n >= f->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->err + n, f->cap - (size_t)n, fmt, ap);
    va_end(ap);
}

/*
 * libinih's reader: gives it the next line into out (size bytes) without
 * its leading blanks (so none continues the one before). A line too long
 * to fit, with a NUL byte, or opening a section is an error of its own.
 */
static char *config_file_reader(char *out, int size, void *arg)
{
    struct config_file *f = arg;
    if (f->p >= f->end)
        return NULL;
    const char *nl = memchr(f->p, '\n', (size_t)(f->end - f->p));
    const char *stop = nl ? nl + 1 : f->end;
    f->line++;
    while (f->p < stop && (*f->p == ' ' || *f->p == '\t'))
        f->p++;
    size_t n = (size_t)(stop - f->p);
    const char *line = f->p;
    f->p = stop;
    out[0] = '\0';
    if (n + 1 > (size_t)size)
        config_file_error(f, "a line is longer than %d bytes", size - 1);
    else if (memchr(line, '\0', n))
        config_file_error(f, "a NUL byte");
    else if (n > 0 && line[0] == '[')
        config_file_error(f, "sections are not used: every line is "
                             "NAME = VALUE");
    else {
        memcpy(out, line, n);
        out[n] = '\0';
    }
    return out;
}

/* libinih's handler: applies one NAME = VALUE; 0 on an error. */
static int config_file_handler(void *arg, const char *section, const char *name,
                               const char *value)
{
    (void)section; /* the reader lets no section through */
    struct config_file *f = arg;
    const struct config_setting *s = config_find(name, strlen(name));
    if (s == NULL) {
        config_file_error(f, "unknown key \"%s\"", name);
        return 0;
    }
    int *first = &f->first_line[s - config_settings];
    if (*first && !(s->flags & CONFIG_LIST)) {
        config_file_error(f, "%s is set twice (first on line %d)", name,
                          *first);
        return 0;
    }
    if (*first == 0)
        config_clear(f->cfg, s);
    *first = f->line;
    char why[256];
    if (!s->set(f->cfg, s, value, why, sizeof why)) {
        config_file_error(f, "%s: %s", name, why);
        return 0;
    }
    return 1;
}

bool config_parse_text(struct config *cfg, const char *name, const char *text,
                       size_t len, char *err, size_t cap)
{
    struct config_file f = {
        .cfg = cfg,
        .name = name,
        .p = text,
        .end = text + len,
        .err = err,
        .cap = cap,
    };
    int rc = ini_parse_stream(config_file_reader, &f, config_file_handler, &f);
    /* libinih reports the first line it could not read as NAME = VALUE. */
    if (rc > 0 && (f.err_line == 0 || rc < f.err_line)) {
        f.err_line = 0;
        f.line = rc;
        config_file_error(&f, "expected NAME = VALUE");
    }
    if (rc < 0 && f.err_line == 0) {
        f.line = 0;
        config_file_error(&f, "cannot be parsed");
    }
    return f.err_line == 0;
}

bool config_load_file(struct config *cfg, const char *path, char *err,
                      size_t cap)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return false;
    }
    char *text = xmalloc(CONFIG_FILE_MAX + 1);
    size_t len = fread(text, 1, CONFIG_FILE_MAX + 1, fp);
    bool ok = !ferror(fp) && len <= CONFIG_FILE_MAX;
    if (!ok)
        snprintf(err, cap, "%s: %s", path,
                 ferror(fp) ? strerror(errno) : "bigger than 1 MiB");
    fclose(fp);
    if (ok)
        ok = config_parse_text(cfg, path, text, len, err, cap);
    free(text);
    return ok;
}

void config_print(const struct config *cfg, FILE *out)
{
    for (const struct config_setting *s = config_settings; s->name; s++) {
        size_t n = config_count(cfg, s);
        if (n == 0 && (s->flags & CONFIG_LIST))
            fprintf(out, "; %s is not set\n", s->name);
        for (size_t i = 0; i < n; i++) {
            char v[CONFIG_SHOW_MAX];
            s->show(cfg, s, i, v, sizeof v);
            /* " ;" starts a comment, so a value starting with ';' (given
             * as NAME=;...) follows the '=' at once; so does one that
             * would not fit in a line otherwise, its newline counted (it
             * came as NAME=VALUE). */
            bool tight = v[0] == ';' ||
                         strlen(s->name) + 3 + strlen(v) + 1 > CONFIG_LINE_MAX;
            if (v[0])
                fprintf(out, "%s%s%s\n", s->name, tight ? "=" : " = ", v);
            else
                fprintf(out, "; %s is not set\n", s->name);
        }
    }
}

/* Copies the setting's field (and a list's count) from src to dst. */
static void config_copy(struct config *dst, const struct config *src,
                        const struct config_setting *s)
{
    memcpy((char *)dst + s->offset, (const char *)src + s->offset, s->size);
    if (s->flags & CONFIG_LIST)
        memcpy((char *)dst + s->count_offset,
               (const char *)src + s->count_offset, sizeof(size_t));
}

/*
 * One setting differs between cur (shown as a) and next (shown as b):
 * takes it if it may change live, and logs what happened. Returns 1 if it
 * was taken.
 */
static size_t config_update_one(struct config *cur, const struct config *next,
                                const struct config_setting *s, const char *a,
                                const char *b)
{
    if (!(s->flags & CONFIG_LIVE)) {
        log_warn("event=reload-skipped key=%s reason=restart running=%s "
                 "wanted=%s",
                 s->name, log_q(a, strlen(a)), log_q(b, strlen(b)));
        return 0;
    }
    if (s->flags & CONFIG_SECRET)
        log_info("event=reload key=%s old_count=%zu new_count=%zu", s->name,
                 config_count(cur, s), config_count(next, s));
    else
        log_info("event=reload key=%s old=%s new=%s", s->name,
                 log_q(a, strlen(a)), log_q(b, strlen(b)));
    config_copy(cur, next, s);
    return 1;
}

/*
 * Returns true if setting s differs between cur and next. A list is
 * compared value by value (a and b, CONFIG_SHOW_MAX bytes each, are
 * scratch), so that a long list, shown cut, or values with spaces, shown
 * joined by spaces, cannot hide a change.
 */
static bool config_differs(const struct config *cur, const struct config *next,
                           const struct config_setting *s, char *a, char *b)
{
    size_t n = config_count(cur, s);
    if (!(s->flags & CONFIG_LIST)) {
        config_show_all(cur, s, a, CONFIG_SHOW_MAX);
        config_show_all(next, s, b, CONFIG_SHOW_MAX);
        return strcmp(a, b) != 0;
    }
    if (n != config_count(next, s))
        return true;
    for (size_t i = 0; i < n; i++) {
        s->show(cur, s, i, a, CONFIG_SHOW_MAX);
        s->show(next, s, i, b, CONFIG_SHOW_MAX);
        if (strcmp(a, b) != 0)
            return true;
    }
    return false;
}

size_t config_update(struct config *cur, const struct config *next)
{
    size_t changed = 0;
    char *a = xmalloc(CONFIG_SHOW_MAX), *b = xmalloc(CONFIG_SHOW_MAX);
    for (const struct config_setting *s = config_settings; s->name; s++) {
        if (!config_differs(cur, next, s, a, b))
            continue;
        config_show_all(cur, s, a, CONFIG_SHOW_MAX);
        config_show_all(next, s, b, CONFIG_SHOW_MAX);
        changed += config_update_one(cur, next, s, a, b);
    }
    free(a);
    free(b);
    return changed;
}
