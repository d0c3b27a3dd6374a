/*
 * Unit tests for nick.c: nick and room name rules, the reserved default
 * nicks, and case-insensitive comparison.
 */
#include "core/nick.h"

#include "unit.h"

/* nick_valid on a NUL-terminated string. */
static bool nick_ok(const char *s)
{
    return nick_valid(s, strlen(s));
}

/* room_name_valid on a NUL-terminated string. */
static bool room_ok(const char *s)
{
    return room_name_valid(s, strlen(s));
}

/* nick_reserved on a NUL-terminated string. */
static bool reserved(const char *s)
{
    return nick_reserved(s, strlen(s));
}

TEST(valid_nicks)
{
    static const char *const ok[] = {
        "a", "alice", "Bob", "x1", "_", "_under", "br[ack]et", "back\\slash",
        "^caret", "{brace}", "pipe|", "`tick", "a-b", "Z9-_[]\\^{}|`",
        "abcdefghijklmnopqrstuvwxyz012345", /* 32 characters */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (!nick_ok(ok[i]))
            printf("    rejected: \"%s\"\n", ok[i]);
        CHECK(nick_ok(ok[i]));
    }
}

TEST(invalid_nicks)
{
    static const char *const bad[] = {
        "", "1abc", "9", "-dash", "a b", "a.b", "a#", "#a", "a@b", "a!",
        "caf\xc3\xa9", "a\tb", "a:b", "a,b", "a*", "a\"b", "a'b", "~a",
        "[bracket]", "[", "[]", "*a", /* '[' first would blur "[NICK]:" */
        "abcdefghijklmnopqrstuvwxyz0123456", /* 33 characters */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (nick_ok(bad[i]))
            printf("    accepted: \"%s\"\n", bad[i]);
        CHECK(!nick_ok(bad[i]));
    }
}

TEST(nick_with_nul_is_invalid)
{
    CHECK(!nick_valid("ab\0c", 4));
    CHECK(!nick_valid("\0", 1));
}

TEST(nick_length_is_the_given_length)
{
    /* Only len bytes count: a prefix of an invalid string may be valid. */
    CHECK(nick_valid("alice bob", 5));
    CHECK(!nick_valid("alice", 0));
}

TEST(reserved_default_nicks)
{
    CHECK(reserved("user1"));
    CHECK(reserved("user0"));
    CHECK(reserved("user007"));
    CHECK(reserved("user18446744073709551615"));
    CHECK(reserved("USER7"));
    CHECK(reserved("User42"));
    CHECK(!reserved("user"));
    CHECK(!reserved("users"));
    CHECK(!reserved("user1a"));
    CHECK(!reserved("user-1"));
    CHECK(!reserved("xuser1"));
    CHECK(!reserved("use1"));
    CHECK(!reserved("alice"));
    CHECK(!reserved(""));
}

TEST(valid_room_names)
{
    static const char *const ok[] = {
        "a", "lobby", "Dev", "dev-ops", "dev_ops", "1", "123", "-", "_",
        "-x", "abcdefghijklmnopqrstuvwxyz012345",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (!room_ok(ok[i]))
            printf("    rejected: \"%s\"\n", ok[i]);
        CHECK(room_ok(ok[i]));
    }
}

TEST(invalid_room_names)
{
    static const char *const bad[] = {
        "", "#lobby", "a b", "a.b", "a[b]", "a\\b", "a|b", "a^", "a{",
        "caf\xc3\xa9", "a,b", "a:b", "a\tb",
        "abcdefghijklmnopqrstuvwxyz0123456",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (room_ok(bad[i]))
            printf("    accepted: \"%s\"\n", bad[i]);
        CHECK(!room_ok(bad[i]));
    }
    CHECK(!room_name_valid("a\0", 2));
}

TEST(name_eq_ignores_ascii_case)
{
    CHECK(name_eq("Alice", "aLICE", 5));
    CHECK(name_eq("[]\\^", "[]\\^", 4));
    CHECK(name_eq("", "", 0));
    CHECK(name_eq("abc", "abd", 2));
    CHECK(!name_eq("abc", "abd", 3));
    CHECK(!name_eq("alice", "alicf", 5));
}

TEST(name_eq_folds_only_ascii_letters)
{
    /* '@' + 32 is '`' and '[' + 32 is '{': not the same letter. */
    CHECK(!name_eq("@", "`", 1));
    CHECK(!name_eq("[", "{", 1));
    CHECK(!name_eq("\\", "|", 1));
    CHECK(!name_eq("^", "~", 1));
    /* Bytes above ASCII are compared as they are. */
    CHECK(!name_eq("\xc3\xa9", "\xc3\x89", 2));
    CHECK(name_eq("\xc3\xa9", "\xc3\xa9", 2));
}

UNIT_MAIN()
