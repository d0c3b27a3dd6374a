/*
 * log: one line per event on stderr, as key=value fields.
 *
 * Every line starts with an RFC 3339 UTC timestamp and `level=`; callers add
 * `event=NAME` and their own fields. Values that may hold spaces or quotes
 * are written with log_quote() so a line stays machine-readable.
 */
#ifndef PARLEY_LOG_H
#define PARLEY_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the lowest level that is written; lower levels are discarded. */
void log_set_level(enum log_level level);

/* Parses "debug", "info", "warn" or "error"; returns false otherwise. */
bool log_parse_level(const char *name, enum log_level *out);

/* Returns true if a line at level would be written. */
bool log_enabled(enum log_level level);

/* Writes one line: timestamp, level=, then the printf-formatted fields. */
void log_write(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Formats the n bytes at s as a log value into out (size outsz): plain if it
 * has no space, quote, backslash or control byte, else double-quoted with
 * escapes. Truncates to fit and always NUL-terminates; returns out.
 */
const char *log_quote(char *out, size_t outsz, const char *s, size_t n);

#define log_debug(...)                                                         \
    (log_enabled(LOG_DEBUG) ? log_write(LOG_DEBUG, __VA_ARGS__) : (void)0)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

#endif
