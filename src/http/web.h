/*
 * web: the files of the web client (--web-root), served by http.c.
 *
 * The files under the root are read into memory at start and again on
 * SIGHUP (web_load), never from disk for a request. Each has its content
 * type (by extension), an ETag from a hash of its content, and its bytes
 * as one shared output block, so a file sent to many browsers is queued
 * by reference, never copied per request. A missing root is logged once,
 * and then no file is served.
 */
#ifndef PARLEY_WEB_H
#define PARLEY_WEB_H

#include <stddef.h>

struct outq_block;

/* The most files kept, and the most bytes in all of them. */
#define WEB_FILES_MAX 1024
#define WEB_BYTES_MAX (64 * 1024 * 1024)

/* One file served. */
struct web_file {
    char *path;              /* as requested: "/index.html" */
    const char *type;        /* Content-Type */
    char etag[20];           /* "\"" 16 hex digits "\"" */
    size_t len;              /* its size */
    struct outq_block *body; /* its bytes */
};

/*
 * (Re)reads every regular file under root (dot files and dot folders are
 * skipped) and replaces the files served. Returns the number read, or -1
 * if root cannot be read (logged; nothing is served then). Blocks still
 * queued to connections live on until they are sent.
 */
int web_load(const char *root);

/*
 * Returns the file served at path (n bytes, the request's path without
 * its query): "/" is "/index.html". NULL: none.
 */
const struct web_file *web_find(const char *path, size_t n);

/* Returns the Content-Type for a file name, by its extension. */
const char *web_type(const char *name);

/* Frees the files (at exit). */
void web_fini(void);

#endif
