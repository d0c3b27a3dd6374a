/*
 * nick: the rules for nicks and room names.
 */
#include "core/nick.h"

#include <string.h>

/* Returns true for the punctuation IRC allows in nicks. */
static bool nick_special(char c)
{
    return c != '\0' && strchr("_-[]\\^{}|`", c) != NULL;
}

/* Returns true for an ASCII letter. */
static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Returns true for an ASCII digit. */
static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool nick_valid(const char *s, size_t len)
{
    /* A leading '[' would double the bracket that frames a nick in chat
     * lines: "/nick [alice]" would speak as "[[alice]]: ...". */
    if (len == 0 || len > NICK_MAX || is_digit(s[0]) || s[0] == '-' ||
        s[0] == '[')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_alpha(s[i]) && !is_digit(s[i]) && !nick_special(s[i]))
            return false;
    return true;
}

bool nick_reserved(const char *s, size_t len)
{
    if (len < 5 || !name_eq(s, "user", 4))
        return false;
    for (size_t i = 4; i < len; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

bool room_name_valid(const char *s, size_t len)
{
    if (len == 0 || len > ROOM_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

bool name_eq(const char *a, const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (char)(y + 32);
        if (x != y)
            return false;
    }
    return true;
}
