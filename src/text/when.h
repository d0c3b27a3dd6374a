/*
 * when: the times /history takes (docs/protocol.md), in UTC:
 * "YYYY-MM-DD" (that day's start), "YYYY-MM-DDTHH:MM", "YYYY-MM-DDTHH:MM:SS",
 * or "HH:MM" (today). A parser of its own, so that it can be fuzzed alone.
 */
#ifndef PARLEY_WHEN_H
#define PARLEY_WHEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Reads the n bytes at s as one of the forms above; "today" is the UTC
 * day of now_ms (milliseconds since the epoch). On success stores the time
 * in milliseconds since the epoch in *out and returns true; returns false
 * for anything else (a field out of range included).
 */
bool when_parse(const char *s, size_t n, int64_t now_ms, int64_t *out);

#endif
