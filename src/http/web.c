/*
 * web: the web client's files, in memory (see web.h).
 */
#include "http/web.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event/outq.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

/* The files served, sorted by path. */
static struct web_file *web_files;
static size_t web_nfiles;

/* A load in progress. */
struct web_load {
    struct web_file *v;
    size_t n;
    size_t bytes;
};

const char *web_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {"html", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"json", "application/json"},
        {"webmanifest", "application/manifest+json"},
        {"svg", "image/svg+xml"},
        {"png", "image/png"},
        {"ico", "image/x-icon"},
        {"txt", "text/plain; charset=utf-8"},
        {"woff2", "font/woff2"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot + 1, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* Reads the file at fs (size n) into a new entry for path; false: failed. */
static bool web_add(struct web_load *ld, const char *fs, const char *path,
                    size_t n)
{
    if (ld->n == WEB_FILES_MAX || ld->bytes + n > WEB_BYTES_MAX) {
        log_warn("event=web-skip path=%s reason=limit",
                 log_q(path, strlen(path)));
        return false;
    }
    char *data = xmalloc(n ? n : 1);
    int fd = open(fs, O_RDONLY | O_CLOEXEC);
    size_t got = 0;
    while (fd >= 0 && got < n) {
        ssize_t r = read(fd, data + got, n - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (fd >= 0)
        close(fd);
    if (got != n) {
        free(data);
        return false;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdn = 0;
    EVP_Digest(data, n, md, &mdn, EVP_sha256(), NULL);
    struct web_file *f = &ld->v[ld->n++];
    f->path = xstrndup(path, strlen(path));
    f->type = web_type(path);
    snprintf(f->etag, sizeof f->etag, "\"%02x%02x%02x%02x%02x%02x%02x%02x\"",
             md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7]);
    f->len = n;
    f->body = outq_block_new(data, n);
    ld->bytes += n;
    free(data);
    return true;
}

/* Reads the folder fs (served as prefix) into ld, depth levels deep. */
static void web_walk(struct web_load *ld, const char *fs, const char *prefix,
                     int depth)
{
    DIR *d = opendir(fs);
    if (d == NULL || depth > 8) {
        if (d)
            closedir(d);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char sub[4096], path[2048];
        struct stat st;
        if ((size_t)snprintf(sub, sizeof sub, "%s/%s", fs, e->d_name) >=
                sizeof sub ||
            (size_t)snprintf(path, sizeof path, "%s/%s", prefix, e->d_name) >=
                sizeof path ||
            stat(sub, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode))
            web_walk(ld, sub, path, depth + 1);
        else if (S_ISREG(st.st_mode))
            web_add(ld, sub, path, (size_t)st.st_size);
    }
    closedir(d);
}

/* qsort and bsearch comparator: files by path. */
static int web_cmp(const void *a, const void *b)
{
    return strcmp(((const struct web_file *)a)->path,
                  ((const struct web_file *)b)->path);
}

/* Frees the files of v (n of them). */
static void web_free(struct web_file *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].path);
        outq_block_unref(v[i].body);
    }
    free(v);
}

int web_load(const char *root)
{
    struct stat st;
    if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode)) {
        log_warn("event=web-root-missing path=%s error=%s",
                 log_q(root, strlen(root)),
                 log_q(strerror(errno ? errno : ENOTDIR),
                       strlen(strerror(errno ? errno : ENOTDIR))));
        web_free(web_files, web_nfiles);
        web_files = NULL;
        web_nfiles = 0;
        return -1;
    }
    struct web_load ld = {.v = xcalloc(WEB_FILES_MAX, sizeof *ld.v)};
    web_walk(&ld, root, "", 0);
    qsort(ld.v, ld.n, sizeof *ld.v, web_cmp);
    web_free(web_files, web_nfiles);
    web_files = ld.v;
    web_nfiles = ld.n;
    log_info("event=web-load path=%s files=%zu bytes=%zu",
             log_q(root, strlen(root)), ld.n, ld.bytes);
    return (int)ld.n;
}

const struct web_file *web_find(const char *path, size_t n)
{
    char key[2048];
    if (n == 1 && path[0] == '/')
        snprintf(key, sizeof key, "/index.html");
    else if (n < sizeof key)
        snprintf(key, sizeof key, "%.*s", (int)n, path);
    else
        return NULL;
    struct web_file k = {.path = key};
    return web_nfiles ? bsearch(&k, web_files, web_nfiles, sizeof k, web_cmp)
                      : NULL;
}

void web_fini(void)
{
    web_free(web_files, web_nfiles);
    web_files = NULL;
    web_nfiles = 0;
}
