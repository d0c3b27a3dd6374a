/*
 * batch: gathering one read's messages into one event (see batch.h).
 */
#include "core/batch.h"

#include <string.h>

#include "core/room.h"

/* The fan-out (bytes times audience) at which a batch is due, at most. */
#define CHAT_BATCH_FANOUT (1024 * 1024)

bool chat_batch_fits(const struct chat_batch *b, const void *owner,
                     const struct room *r, bool notice, size_t len)
{
    return b->owner == owner && b->room == r && b->notice == notice &&
           b->n < CHAT_BATCH_LINES && len <= CHAT_BATCH_BYTES - b->used;
}

bool chat_batch_add(struct chat_batch *b, void *owner, struct room *r,
                    bool notice, const char *text, size_t len,
                    size_t flood_bytes)
{
    char *p = b->bytes + b->used;
    memcpy(p, text, len);
    b->used += len;
    b->lines[b->n].text = p;
    b->lines[b->n].len = len;
    b->n++;
    b->owner = owner;
    b->room = r;
    b->notice = notice;
    size_t due = CHAT_BATCH_FANOUT;
    if (flood_bytes > 0 && flood_bytes / 16 < due)
        due = flood_bytes / 16;
    return b->n == CHAT_BATCH_LINES || (r && b->used * r->nmembers >= due);
}

void chat_batch_clear(struct chat_batch *b)
{
    b->owner = NULL;
    b->room = NULL;
    b->n = 0;
    b->used = 0;
}
