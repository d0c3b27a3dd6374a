/*
 * member: who is in which room, found in O(1) from the pair.
 *
 * The core keeps membership twice (a room's array of members, a client's
 * array of rooms); this table maps a (client, room) pair to the index of
 * the room in the client's array, so that "is c in r, and with what
 * status?" costs one lookup however many rooms c is in. Open addressing
 * with linear probing and backward-shift deletion; it grows at 3/4 full
 * and shrinks below 1/8. Pure: keys are only compared, never followed.
 */
#ifndef PARLEY_MEMBER_H
#define PARLEY_MEMBER_H

#include <stddef.h>

struct member_table;

/* Returns a new, empty table. */
struct member_table *member_table_new(void);

/* Frees the table; member_table_free(NULL) is a no-op. */
void member_table_free(struct member_table *t);

/* Stores v under (a, b), replacing any value there. */
void member_put(struct member_table *t, const void *a, const void *b, size_t v);

/* Returns where the value of (a, b) is kept (writable), or NULL. */
size_t *member_get(const struct member_table *t, const void *a, const void *b);

/* Removes (a, b) if it is there. */
void member_del(struct member_table *t, const void *a, const void *b);

/* Returns the number of pairs stored. */
size_t member_count(const struct member_table *t);

#endif
