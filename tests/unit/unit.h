/*
 * unit: a tiny unit-test harness, header only, no third-party code.
 *
 * A test is a function declared with TEST(name) { ... }; it registers itself
 * before main runs. Checks do not stop a test (CHECK, CHECK_EQ, CHECK_STR,
 * CHECK_MEM...); REQUIRE stops it when going on makes no sense (a NULL
 * pointer). A failed check prints file:line and the values involved.
 *
 * UNIT_MAIN() defines main: it runs every test in file order, each in its
 * own child process (so a crash, a sanitizer report, a leak or a hang fails
 * that test only, and global state such as the chat core starts fresh), and
 * prints `PASS name` or `FAIL name` per test, then `N passed, M failed`.
 * The exit status is 1 if any test failed.
 *
 *   prog            run every test
 *   prog NAME...    run only the named tests
 *   UNIT_NOFORK=1   run in-process (for a debugger); a crash ends the run
 *   UNIT_TIMEOUT=S  seconds one test may take (default 30)
 */
#ifndef PARLEY_UNIT_H
#define PARLEY_UNIT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define UNIT_MAX_TESTS 512
#define UNIT_SHOW_MAX 160 /* bytes of a value shown on failure */

struct unit_test {
    const char *name;
    void (*fn)(void);
    int line;
};

/* The registry and the current test's failure count (per process). */
static struct unit_test unit_tests[UNIT_MAX_TESTS] __attribute__((unused));
static size_t unit_ntests __attribute__((unused));
static int unit_failures __attribute__((unused));

/* Adds a test to the registry; called by TEST's constructor. */
static inline void unit_register(const char *name, void (*fn)(void), int line)
{
    if (unit_ntests == UNIT_MAX_TESTS) {
        fprintf(stderr, "unit: more than %d tests\n", UNIT_MAX_TESTS);
        abort();
    }
    unit_tests[unit_ntests].name = name;
    unit_tests[unit_ntests].fn = fn;
    unit_tests[unit_ntests].line = line;
    unit_ntests++;
}

/* Declares and registers the test function name. */
#define TEST(name)                                                          \
    static void name(void);                                                 \
    __attribute__((constructor)) static void unit_reg_##name(void)          \
    {                                                                       \
        unit_register(#name, name, __LINE__);                               \
    }                                                                       \
    static void name(void)

/* Prints n bytes at p as a C string literal, shortened if long. */
static inline void unit_show(const void *p, size_t n)
{
    const unsigned char *s = p;
    if (s == NULL) {
        printf("NULL");
        return;
    }
    putchar('"');
    for (size_t i = 0; i < n && i < UNIT_SHOW_MAX; i++) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c == '\n')
            printf("\\n");
        else if (c == '\r')
            printf("\\r");
        else if (c == '\t')
            printf("\\t");
        else if (c < 0x20 || c >= 0x7f)
            printf("\\x%02x", c);
        else
            putchar(c);
    }
    putchar('"');
    if (n > UNIT_SHOW_MAX)
        printf("...");
    printf(" (%zu bytes)", n);
}

/* Records a failed check and says where. */
static inline void unit_fail_at(const char *file, int line, const char *what)
{
    unit_failures++;
    printf("  %s:%d: check failed: %s\n", file, line, what);
}

/* Checks that cond holds. */
#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond))                                                        \
            unit_fail_at(__FILE__, __LINE__, #cond);                        \
    } while (0)

/* Checks that cond holds; stops the test if it does not. */
#define REQUIRE(cond)                                                       \
    do {                                                                    \
        if (!(cond)) {                                                      \
            unit_fail_at(__FILE__, __LINE__, #cond);                        \
            return;                                                         \
        }                                                                   \
    } while (0)

/* Checks two integers for equality (compared as 64-bit two's complement). */
#define CHECK_EQ(a, b)                                                      \
    do {                                                                    \
        uintmax_t unit_a = (uintmax_t)(a), unit_b = (uintmax_t)(b);         \
        if (unit_a != unit_b) {                                             \
            unit_fail_at(__FILE__, __LINE__, #a " == " #b);                 \
            printf("    left:  %jd (0x%jx)\n    right: %jd (0x%jx)\n",      \
                   (intmax_t)unit_a, unit_a, (intmax_t)unit_b, unit_b);     \
        }                                                                   \
    } while (0)

/* Checks two NUL-terminated strings (either may be NULL) for equality. */
#define CHECK_STR(a, b)                                                     \
    do {                                                                    \
        const char *unit_a = (a), *unit_b = (b);                            \
        if (!unit_str_eq(unit_a, unit_b)) {                                 \
            unit_fail_at(__FILE__, __LINE__, #a " == " #b);                 \
            printf("    left:  ");                                          \
            unit_show(unit_a, unit_a ? strlen(unit_a) : 0);                 \
            printf("\n    right: ");                                        \
            unit_show(unit_b, unit_b ? strlen(unit_b) : 0);                 \
            printf("\n");                                                   \
        }                                                                   \
    } while (0)

/* Checks that the an bytes at a equal the bn bytes at b. */
#define CHECK_EQ_MEM(a, an, b, bn)                                          \
    do {                                                                    \
        const void *unit_a = (a), *unit_b = (b);                            \
        size_t unit_an = (an), unit_bn = (bn);                              \
        if (!unit_mem_eq(unit_a, unit_an, unit_b, unit_bn)) {               \
            unit_fail_at(__FILE__, __LINE__,                                \
                         "[" #a ", " #an "] == [" #b ", " #bn "]");         \
            printf("    left:  ");                                          \
            unit_show(unit_a, unit_an);                                     \
            printf("\n    right: ");                                        \
            unit_show(unit_b, unit_bn);                                     \
            printf("\n");                                                   \
        }                                                                   \
    } while (0)

/* Checks that the n bytes at p equal the string literal or C string s. */
#define CHECK_MEM(p, n, s) CHECK_EQ_MEM(p, n, s, strlen(s))

/* Returns true if both strings are NULL or both equal. */
static inline bool unit_str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

/* Returns true if the two byte ranges are equal. */
static inline bool unit_mem_eq(const void *a, size_t an, const void *b,
                               size_t bn)
{
    if (an != bn)
        return false;
    if (an == 0)
        return true;
    if (a == NULL || b == NULL)
        return false;
    return memcmp(a, b, an) == 0;
}

/* qsort comparator: tests in the order they appear in the file. */
static inline int unit_by_line(const void *a, const void *b)
{
    const struct unit_test *x = a, *y = b;
    return (x->line > y->line) - (x->line < y->line);
}

/* Runs one test in this process; returns true if no check failed. */
static inline bool unit_run_here(const struct unit_test *t)
{
    unit_failures = 0;
    t->fn();
    fflush(stdout);
    return unit_failures == 0;
}

/* Runs one test in a child process; returns true if it passed. */
static inline bool unit_run_forked(const struct unit_test *t,
                                   unsigned timeout)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("unit: fork");
        return false;
    }
    if (pid == 0) {
        alarm(timeout);
        /* exit() rather than _exit(): LeakSanitizer checks at exit. */
        exit(unit_run_here(t) ? 0 : 1);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        ;
    if (WIFEXITED(status))
        return WEXITSTATUS(status) == 0;
    if (WIFSIGNALED(status))
        printf("  %s: killed by signal %d (%s)\n", t->name, WTERMSIG(status),
               WTERMSIG(status) == SIGALRM ? "timeout" : strsignal(WTERMSIG(status)));
    return false;
}

/* Returns true if the test was named on the command line (or none were). */
static inline bool unit_selected(const struct unit_test *t, int argc,
                                 char **argv)
{
    if (argc < 2)
        return true;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], t->name) == 0)
            return true;
    return false;
}

/* Runs the selected tests and prints the report; returns the exit status. */
static inline int unit_main(int argc, char **argv)
{
    const char *nofork = getenv("UNIT_NOFORK");
    const char *tmo = getenv("UNIT_TIMEOUT");
    unsigned timeout = tmo ? (unsigned)atoi(tmo) : 30;
    bool fork_each = !(nofork && *nofork && strcmp(nofork, "0") != 0);
    setvbuf(stdout, NULL, _IOLBF, 0);
    qsort(unit_tests, unit_ntests, sizeof unit_tests[0], unit_by_line);
    int passed = 0, failed = 0;
    for (size_t i = 0; i < unit_ntests; i++) {
        const struct unit_test *t = &unit_tests[i];
        if (!unit_selected(t, argc, argv))
            continue;
        bool ok = fork_each ? unit_run_forked(t, timeout) : unit_run_here(t);
        printf("%s %s\n", ok ? "PASS" : "FAIL", t->name);
        if (ok)
            passed++;
        else
            failed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

/* Defines main for a test program. */
#define UNIT_MAIN()                                                         \
    int main(int argc, char **argv)                                         \
    {                                                                       \
        return unit_main(argc, argv);                                       \
    }

#endif
