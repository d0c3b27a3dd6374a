/*
 * nick: the rules for nicks and room names.
 *
 * Nicks are 1-32 characters from ASCII letters, digits and _-[]\^{}|`, not
 * starting with a digit, '-' or '[' (text lines frame a nick in brackets,
 * "[alice]: hi", and "[[alice]]: hi" would blur that frame); never '*', a
 * space or ':', which chat lines use around the nick. "user<digits>" has
 * the form of the default nicks the server hands out (the core decides
 * which of those may be taken). Room names are 1-32 letters, digits, '_'
 * and '-'. Both compare without regard to ASCII case.
 */
#ifndef PARLEY_NICK_H
#define PARLEY_NICK_H

#include <stdbool.h>
#include <stddef.h>

#define NICK_MAX 32
#define ROOM_NAME_MAX 32

/* Returns true if the len bytes at s form a valid nick. */
bool nick_valid(const char *s, size_t len);

/* Returns true if the nick has the reserved form user<digits>. */
bool nick_reserved(const char *s, size_t len);

/* Returns true if the len bytes at s form a valid room name (no '#'). */
bool room_name_valid(const char *s, size_t len);

/* Returns true if a and b (len bytes each) are equal ignoring ASCII case. */
bool name_eq(const char *a, const char *b, size_t len);

#endif
