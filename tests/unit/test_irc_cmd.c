/*
 * Unit tests for irc/cmd.c's command table: irc_dispatch finds a command
 * by binary search, so the table must be sorted, names upper case.
 */
#include "irc/irc.h"

#include "unit.h"

TEST(table_sorted_upper_case_no_duplicates)
{
    const char *prev = NULL, *name;
    size_t n = 0;
    for (size_t i = 0; (name = irc_command_name(i)) != NULL; i++, n++) {
        for (const char *p = name; *p; p++)
            CHECK(*p >= 'A' && *p <= 'Z');
        if (prev)
            CHECK(strcmp(prev, name) < 0);
        prev = name;
    }
    CHECK(n > 30);
}

UNIT_MAIN()
