/*
 * Unit tests for oper.c: operator accounts (the NAME:HASH form, limits)
 * and the check of a name and password against them.
 */
#include "core/oper.h"

#include "unit.h"

/* Hashes password into out (OPER_HASH_MAX bytes). */
static void hash_of(const char *password, char *out)
{
    REQUIRE(oper_hash(password, strlen(password), out, OPER_HASH_MAX) == 0);
}

/* Adds NAME:HASH; returns what oper_add returns. */
static int add(const char *name, const char *hash)
{
    char spec[OPER_NAME_MAX + OPER_HASH_MAX + 2], err[256];
    snprintf(spec, sizeof spec, "%s:%s", name, hash);
    return oper_add(spec, err, sizeof err);
}

/* oper_check on NUL-terminated strings. */
static const char *check_pw(const char *name, const char *password)
{
    return oper_check(name, strlen(name), password, strlen(password));
}

TEST(right_name_and_password_only)
{
    REQUIRE(oper_init() == 0);
    char h1[OPER_HASH_MAX], h2[OPER_HASH_MAX];
    hash_of("secret one", h1);
    hash_of("secret two", h2);
    CHECK(strncmp(h1, "$argon2id$", 10) == 0);
    CHECK(add("boss", h1) == 0);
    CHECK(add("deputy", h2) == 0);
    CHECK(oper_accounts() == 2);
    const char *who = check_pw("boss", "secret one");
    REQUIRE(who != NULL);
    CHECK_STR(who, "boss");
    CHECK_STR(check_pw("deputy", "secret two"), "deputy");
    CHECK(check_pw("boss", "secret two") == NULL);  /* another's password */
    CHECK(check_pw("boss", "secret on") == NULL);   /* a prefix */
    CHECK(check_pw("boss", "secret one ") == NULL); /* longer */
    CHECK(check_pw("Boss", "secret one") == NULL);  /* names are exact */
    CHECK(check_pw("nobody", "secret one") == NULL);
    CHECK(check_pw("", "") == NULL);
    /* A name is compared by its length too, not as a prefix. */
    CHECK(oper_check("bossy", 4, "secret one", 10) != NULL);
    CHECK(oper_check("boss", 3, "secret one", 10) == NULL);
    oper_fini();
    CHECK(oper_accounts() == 0);
    CHECK(check_pw("boss", "secret one") == NULL);
}

TEST(bad_specs_refused)
{
    char h[OPER_HASH_MAX], err[256];
    hash_of("pw", h);
    CHECK(oper_add("boss", err, sizeof err) != 0);
    CHECK(strlen(err) > 0);
    CHECK(add("boss", "") != 0);
    CHECK(add("boss", "plain password") != 0);
    CHECK(add("", h) != 0);
    CHECK(add("bo ss", h) != 0);
    CHECK(add("bo:ss", h) != 0);
    CHECK(add("abcdefghijabcdefghijabcdefghijabc", h) != 0); /* 33 bytes */
    CHECK(add("abcdefghijabcdefghijabcdefghijab", h) == 0);  /* 32 bytes */
    CHECK(add("abcdefghijabcdefghijabcdefghijab", h) != 0);  /* twice */
    CHECK(oper_accounts() == 1);
    oper_fini();
}

TEST(at_most_sixteen_accounts)
{
    char h[OPER_HASH_MAX], name[16];
    hash_of("pw", h);
    for (int i = 0; i < OPER_ACCOUNTS_MAX; i++) {
        snprintf(name, sizeof name, "op%d", i);
        CHECK(add(name, h) == 0);
    }
    CHECK(add("one-more", h) != 0);
    CHECK_STR(check_pw("op15", "pw"), "op15");
    oper_fini();
}

TEST(overlong_password_never_matches)
{
    static char pw[OPER_PASSWORD_MAX + 2];
    memset(pw, 'x', sizeof pw - 1);
    char h[OPER_HASH_MAX];
    REQUIRE(oper_hash(pw, sizeof pw - 1, h, sizeof h) == 0);
    CHECK(add("long", h) == 0);
    CHECK(oper_check("long", 4, pw, sizeof pw - 1) == NULL);
    oper_fini();
}

UNIT_MAIN()
