/*
 * log: one line per event on stderr, as key=value fields.
 *
 * Every line starts with an RFC 3339 UTC timestamp and `level=`; callers add
 * `event=NAME` and their own fields. Values that may hold spaces or quotes
 * are written with log_quote() so a line stays machine-readable.
 *
 * Logging never blocks the server. Lines go to a bounded buffer
 * (LOG_BUF_SIZE) that is written to stderr without waiting: at once when
 * stderr takes them, else from log_tick(), which the event loop calls before
 * it sleeps. When the buffer is full, lines are dropped and counted, and
 * once there is room again one line `event=log-dropped count=N` says how
 * many were lost. Events that can repeat without bound (refused
 * connections, accept errors) go through a struct log_rate, which writes
 * LOG_RATE_BURST of them per second and sums up the rest in one line
 * `... suppressed=N` when the second is over.
 */
#ifndef PARLEY_LOG_H
#define PARLEY_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of log lines held while stderr does not take them. */
#define LOG_BUF_SIZE (64 * 1024)
/* The longest line; longer ones are cut (the newline is kept). */
#define LOG_LINE_MAX 1024
/* Lines of one rate-limited kind written per LOG_RATE_WINDOW_MS. */
#define LOG_RATE_BURST 5
#define LOG_RATE_WINDOW_MS 1000
/* How long log_close() waits for stderr to take what is still buffered. */
#define LOG_EXIT_WAIT_MS 500
/* Room log_q() gives a quoted value. */
#define LOG_QUOTE_MAX 256

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/*
 * A rate limit for one kind of repeated event, e.g. refusals for one
 * reason. Define it static with LOG_RATE_INIT; the log module keeps it on a
 * list while it owes a summary line, so it must outlive the loop.
 */
struct log_rate {
    enum log_level level;
    const char *what;         /* leading fields of the summary line */
    uint64_t window;          /* start of the current window (ms) */
    unsigned written;         /* lines written in this window */
    unsigned long suppressed; /* lines held back in this window */
    struct log_rate *next;    /* on the list of pending summaries */
    bool pending;
};

/* Initializer: at LEVEL, summary lines start with the fields WHAT. */
#define LOG_RATE_INIT(LEVEL, WHAT)                                             \
    {                                                                          \
        .level = (LEVEL), .what = (WHAT)                                       \
    }

/* Sets the lowest level that is written; lower levels are discarded. */
void log_set_level(enum log_level level);

/* Parses "debug", "info", "warn" or "error"; returns false otherwise. */
bool log_parse_level(const char *name, enum log_level *out);

/* Returns true if a line at level would be written. */
bool log_enabled(enum log_level level);

/*
 * Makes writing to fd (normally stderr) non-blocking from now on: a pipe or
 * a terminal is opened again through /proc/self/fd with O_NONBLOCK (a
 * description of our own, so whoever shares fd is not affected; if that
 * fails for a pipe, fd itself is made non-blocking), a socket is written
 * with MSG_DONTWAIT, and a regular file is written as it is. Before this
 * call, lines are written to stderr with plain (blocking) writes.
 */
void log_open(int fd);

/*
 * Writes out what is buffered, waiting up to LOG_EXIT_WAIT_MS for the
 * reader, then closes what log_open opened. What stderr has not taken by
 * then is lost. Later lines go to stderr with plain writes again.
 */
void log_close(void);

/*
 * Writes buffered lines and owed summaries (log-dropped, suppressed) as far
 * as stderr takes them, without waiting. Returns the milliseconds after
 * which it wants to be called again (lines still waiting, or a rate window
 * still to end), or -1 if it has nothing left to do.
 */
int log_tick(void);

/* Writes one line: timestamp, level=, then the printf-formatted fields. */
void log_write(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Writes one line as log_write does at rate->level, unless LOG_RATE_BURST
 * lines of this kind were written in the current window: then it only
 * counts it, for the summary line `WHAT suppressed=N` that log_tick() (or
 * the next line of this kind) writes once the window is over.
 */
void log_rated(struct log_rate *rate, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Formats the n bytes at s as a log value into out (size outsz): plain if it
 * has no space, quote, backslash or control byte, else double-quoted with
 * escapes. Truncates to fit and always NUL-terminates; returns out.
 */
const char *log_quote(char *out, size_t outsz, const char *s, size_t n);

/* log_quote into a temporary that lives until the end of the statement. */
#define log_q(s, n) log_quote((char[LOG_QUOTE_MAX]){0}, LOG_QUOTE_MAX, (s), (n))

#define log_debug(...)                                                         \
    (log_enabled(LOG_DEBUG) ? log_write(LOG_DEBUG, __VA_ARGS__) : (void)0)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

#endif
