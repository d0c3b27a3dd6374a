/*
 * Unit tests for http/web.c: reading a web root (subfolders, dot files
 * skipped, a missing root), finding files ("/" is index.html, the query
 * is not part of the path), ETags that follow the content, and a reload
 * that replaces the files.
 */
#include "http/web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event/outq.h"
#include "unit.h"

static char root[64];

/* Writes text to root/name. */
static void put(const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", root, name);
    FILE *f = fopen(p, "w");
    REQUIRE(f != NULL);
    fputs(text, f);
    fclose(f);
}

/* Makes a fresh root with a page, a module, a subfolder and dot files. */
static void make_root(void)
{
    snprintf(root, sizeof root, "/tmp/parley-web-ut-XXXXXX");
    REQUIRE(mkdtemp(root) != NULL);
    char p[256];
    put("index.html", "<!doctype html>\n");
    put("app.js", "export {};\n");
    put(".secret", "no\n");
    snprintf(p, sizeof p, "%s/img", root);
    REQUIRE(mkdir(p, 0700) == 0);
    put("img/logo.svg", "<svg/>\n");
    snprintf(p, sizeof p, "%s/.git", root);
    REQUIRE(mkdir(p, 0700) == 0);
    put(".git/config", "no\n");
}

static void remove_root(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    REQUIRE(system(cmd) == 0);
}

TEST(reads_the_tree_without_dot_files)
{
    make_root();
    CHECK_EQ(web_load(root), 3);
    const struct web_file *f = web_find("/", 1);
    REQUIRE(f != NULL);
    CHECK_STR(f->path, "/index.html");
    CHECK_STR(f->type, "text/html; charset=utf-8");
    CHECK_EQ(f->len, 16);
    CHECK(web_find("/img/logo.svg", 13) != NULL);
    CHECK(web_find("/app.js?v=1", 7) != NULL); /* the path's length */
    CHECK(web_find("/.secret", 8) == NULL);
    CHECK(web_find("/.git/config", 12) == NULL);
    CHECK(web_find("/img", 4) == NULL);
    CHECK(web_find("/../index.html", 14) == NULL);
    web_fini();
    remove_root();
}

TEST(etags_follow_the_content_and_reload_replaces)
{
    make_root();
    web_load(root);
    char before[20];
    snprintf(before, sizeof before, "%s", web_find("/app.js", 7)->etag);
    CHECK_EQ(strlen(before), 18);
    web_load(root);
    CHECK_STR(web_find("/app.js", 7)->etag, before); /* same content */
    put("app.js", "export const x = 2;\n");
    put("new.css", "a{}\n");
    web_load(root);
    CHECK(strcmp(web_find("/app.js", 7)->etag, before) != 0);
    CHECK(web_find("/new.css", 8) != NULL);
    web_fini();
    remove_root();
}

TEST(missing_root_serves_nothing)
{
    make_root();
    web_load(root);
    CHECK_EQ(web_load("/nonexistent/parley-web"), -1);
    CHECK(web_find("/", 1) == NULL);
    web_fini();
    remove_root();
}

UNIT_MAIN()
