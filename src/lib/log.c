/*
 * log: one line per event on stderr, as key=value fields, never blocking.
 */

#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How soon log_tick wants to run again while stderr is not taking lines. */
#define LOG_RETRY_MS 100

static enum log_level log_min = LOG_INFO;

static const char *const log_names[] = {"debug", "info", "warn", "error"};

static int log_fd = STDERR_FILENO;
static bool log_use_send;        /* a socket: send with MSG_DONTWAIT */
static bool log_own_fd;          /* log_fd was opened by log_open */
static int log_saved_flags = -1; /* fd's flags before we set O_NONBLOCK */
static char log_buf[LOG_BUF_SIZE];
static size_t log_off, log_len; /* unwritten bytes: log_buf[log_off..log_len) */
static unsigned long log_dropped;    /* lines lost since the last note */
static struct log_rate *log_pending; /* rate limits that owe a summary */

void log_set_level(enum log_level level)
{
    log_min = level;
}

bool log_parse_level(const char *name, enum log_level *out)
{
    for (size_t i = 0; i < sizeof log_names / sizeof log_names[0]; i++) {
        if (strcmp(name, log_names[i]) == 0) {
            *out = (enum log_level)i;
            return true;
        }
    }
    return false;
}

bool log_enabled(enum log_level level)
{
    return level >= log_min;
}

/* Returns a monotonic clock in milliseconds. */
static uint64_t log_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------------------
 * The buffer and the descriptor
 * ------------------------------------------------------------------------ */

/*
 * Writes buffered bytes until stderr would block. Returns true when the
 * buffer is empty: written, or thrown away because stderr is gone for good
 * (closed, EPIPE, EIO), where nobody is left to read it.
 */
static bool log_flush(void)
{
    while (log_off < log_len) {
        const char *p = log_buf + log_off;
        size_t n = log_len - log_off;
        ssize_t w = log_use_send
                        ? send(log_fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL)
                        : write(log_fd, p, n);
        if (w > 0) {
            log_off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return false;
        break;
    }
    log_off = log_len = 0;
    return true;
}

/* Returns true if n more bytes fit in the buffer, compacting it if needed. */
static bool log_fits(size_t n)
{
    if (log_len + n > sizeof log_buf && log_off > 0) {
        memmove(log_buf, log_buf + log_off, log_len - log_off);
        log_len -= log_off;
        log_off = 0;
    }
    return log_len + n <= sizeof log_buf;
}

/* Appends n bytes that fit (see log_fits). */
static void log_push(const char *s, size_t n)
{
    memcpy(log_buf + log_len, s, n);
    log_len += n;
}

/*
 * Formats one whole line (timestamp, level, fields, newline) into line,
 * which has LOG_LINE_MAX bytes; returns its length. Longer lines are cut.
 */
static size_t log_format(char *line, enum log_level level, const char *fmt,
                         va_list ap) __attribute__((format(printf, 3, 0)));

static size_t log_format(char *line, enum log_level level, const char *fmt,
                         va_list ap)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(line, LOG_LINE_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
    int k = snprintf(line + n, LOG_LINE_MAX - n, ".%03ldZ level=%s ",
                     ts.tv_nsec / 1000000L, log_names[level]);
    if (k > 0)
        n += (size_t)k;
    if (n > LOG_LINE_MAX - 2)
        n = LOG_LINE_MAX - 2;
    k = vsnprintf(line + n, LOG_LINE_MAX - n - 1, fmt, ap);
    if (k > 0)
        n += (size_t)k;
    if (n > LOG_LINE_MAX - 2)
        n = LOG_LINE_MAX - 2;
    line[n++] = '\n';
    return n;
}

/* Formats a line from variadic arguments (see log_format). */
static size_t log_formatf(char *line, enum log_level level, const char *fmt,
                          ...) __attribute__((format(printf, 3, 4)));

static size_t log_formatf(char *line, enum log_level level, const char *fmt,
                          ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = log_format(line, level, fmt, ap);
    va_end(ap);
    return n;
}

/*
 * If lines were dropped and the buffer is back to half full or less, says
 * how many. (Waiting for half, not for one line's room, keeps a reader
 * that takes a few bytes at a time from getting a note per line.)
 */
static void log_note_dropped(void)
{
    if (log_dropped == 0 || log_len - log_off > sizeof log_buf / 2)
        return;
    char line[LOG_LINE_MAX];
    size_t n =
        log_formatf(line, LOG_WARN, "event=log-dropped count=%lu", log_dropped);
    if (log_fits(n)) {
        log_push(line, n);
        log_dropped = 0;
    }
}

/* Queues one formatted line, or drops and counts it; writes what it can. */
static void log_emit(const char *line, size_t n)
{
    log_flush();
    log_note_dropped();
    if (log_dropped > 0 || !log_fits(n)) {
        log_dropped++;
        return;
    }
    log_push(line, n);
    log_flush();
}

/* Formats and queues one line at level (no level check). */
static void log_vwrite(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
    int saved = errno;
    char line[LOG_LINE_MAX];
    size_t n = log_format(line, level, fmt, ap);
    log_emit(line, n);
    errno = saved;
}

void log_write(enum log_level level, const char *fmt, ...)
{
    if (level < log_min)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, fmt, ap);
    va_end(ap);
}

void log_open(int fd)
{
    struct stat st;
    log_fd = fd;
    if (fstat(fd, &st) < 0)
        return;
    if (S_ISSOCK(st.st_mode)) {
        log_use_send = true;
        return;
    }
    if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))
        return; /* a regular file: writes do not wait for a reader */
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int own = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (own >= 0) {
        log_fd = own;
        log_own_fd = true;
        return;
    }
    /* No /proc: a pipe is made non-blocking for everyone who shares it. */
    int flags = fcntl(fd, F_GETFL);
    if (S_ISFIFO(st.st_mode) && flags >= 0 &&
        fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0)
        log_saved_flags = flags;
}

/* ------------------------------------------------------------------------
 * Rate limits
 * ------------------------------------------------------------------------ */

/*
 * Starts a new window for rate if its current one is over (or force),
 * first writing the summary of what the old window held back.
 */
static void log_rate_roll(struct log_rate *rate, uint64_t now, bool force)
{
    if (!force && now - rate->window < LOG_RATE_WINDOW_MS)
        return;
    if (rate->suppressed > 0 && log_enabled(rate->level)) {
        char line[LOG_LINE_MAX];
        size_t n = log_formatf(line, rate->level, "%s suppressed=%lu",
                               rate->what, rate->suppressed);
        log_emit(line, n);
    }
    rate->window = now;
    rate->written = 0;
    rate->suppressed = 0;
}

void log_rated(struct log_rate *rate, const char *fmt, ...)
{
    if (!log_enabled(rate->level))
        return;
    log_rate_roll(rate, log_now_ms(), false);
    if (rate->written >= LOG_RATE_BURST) {
        rate->suppressed++;
        if (!rate->pending) {
            rate->pending = true;
            rate->next = log_pending;
            log_pending = rate;
        }
        return;
    }
    rate->written++;
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(rate->level, fmt, ap);
    va_end(ap);
}

/*
 * Writes the summaries whose window is over (all of them if force);
 * returns the milliseconds until the next one is due, or -1 for none.
 */
static int log_rate_summaries(uint64_t now, bool force)
{
    int wait = -1;
    struct log_rate **pp = &log_pending;
    while (*pp) {
        struct log_rate *r = *pp;
        uint64_t age = now - r->window;
        if (!force && r->suppressed > 0 && age < LOG_RATE_WINDOW_MS) {
            int left = (int)(LOG_RATE_WINDOW_MS - age);
            wait = wait < 0 || left < wait ? left : wait;
            pp = &r->next;
            continue;
        }
        log_rate_roll(r, now, true);
        r->pending = false;
        *pp = r->next;
    }
    return wait;
}

int log_tick(void)
{
    int wait = log_rate_summaries(log_now_ms(), false);
    log_flush();
    log_note_dropped();
    if (log_flush() && log_dropped == 0)
        return wait;
    return wait >= 0 && wait < LOG_RETRY_MS ? wait : LOG_RETRY_MS;
}

void log_close(void)
{
    uint64_t end = log_now_ms() + LOG_EXIT_WAIT_MS;
    log_rate_summaries(log_now_ms(), true);
    for (;;) {
        log_note_dropped();
        bool empty = log_flush();
        uint64_t now = log_now_ms();
        if ((empty && log_dropped == 0) || now >= end)
            break;
        struct pollfd p = {.fd = log_fd, .events = POLLOUT};
        if (poll(&p, 1, (int)(end - now)) == 0)
            break;
    }
    if (log_own_fd)
        close(log_fd);
    if (log_saved_flags >= 0)
        fcntl(log_fd, F_SETFL, log_saved_flags);
    log_fd = STDERR_FILENO;
    log_own_fd = log_use_send = false;
    log_saved_flags = -1;
    log_off = log_len = 0;
    log_dropped = 0;
}

const char *log_quote(char *out, size_t outsz, const char *s, size_t n)
{
    bool plain = n > 0;
    for (size_t i = 0; i < n && plain; i++) {
        unsigned char c = (unsigned char)s[i];
        plain = c > ' ' && c != '"' && c != '\\' && c != 0x7f;
    }
    size_t o = 0;
    if (!plain && o + 1 < outsz)
        out[o++] = '"';
    for (size_t i = 0; i < n && o + 4 < outsz; i++) {
        unsigned char c = (unsigned char)s[i];
        if (plain || (c >= ' ' && c != '"' && c != '\\' && c != 0x7f)) {
            out[o++] = (char)c;
        } else if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else {
            o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
        }
    }
    if (!plain && o + 1 < outsz)
        out[o++] = '"';
    out[o < outsz ? o : outsz - 1] = '\0';
    return out;
}
