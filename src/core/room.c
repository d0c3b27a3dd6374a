/*
 * room: one chat room as data. Its members, its topic, its recent history.
 */
#include "core/room.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"

struct room *room_new(const char *name, size_t len, size_t hist_cap)
{
    struct room *r = xcalloc(1, sizeof *r);
    if (len > ROOM_NAME_MAX)
        len = ROOM_NAME_MAX;
    memcpy(r->name, name, len);
    r->name_len = len;
    r->hist_cap = hist_cap;
    return r;
}

void room_free(struct room *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->hist_count; i++)
        free(r->hist[(r->hist_head + i) % r->hist_cap]);
    free(r->hist);
    free(r->topic);
    free(r->members);
    free(r);
}

size_t room_add(struct room *r, struct client *c)
{
    if (r->nmembers == r->capmembers) {
        r->capmembers = r->capmembers ? r->capmembers * 2 : 8;
        r->members =
            xreallocarray(r->members, r->capmembers, sizeof *r->members);
    }
    r->members[r->nmembers] = c;
    return r->nmembers++;
}

struct client *room_remove(struct room *r, size_t slot)
{
    struct client *last = r->members[--r->nmembers];
    if (slot == r->nmembers)
        return NULL;
    r->members[slot] = last;
    return last;
}

void room_set_topic(struct room *r, const char *text, size_t len)
{
    free(r->topic);
    r->topic = len ? xstrndup(text, len) : NULL;
    r->topic_len = len;
}

size_t room_msg_cost(size_t nick_len, size_t text_len)
{
    return sizeof(struct room_msg) + nick_len + text_len + ROOM_MSG_OVERHEAD;
}

void room_remember(struct room *r, time_t when, const char *nick,
                   size_t nick_len, const char *text, size_t text_len)
{
    if (r->hist_cap == 0)
        return;
    if (r->hist == NULL) {
        r->hist = xcalloc(r->hist_cap, sizeof *r->hist);
        r->hist_bytes += r->hist_cap * sizeof *r->hist;
    }
    if (r->hist_count == r->hist_cap)
        room_forget_oldest(r);
    struct room_msg *m = xmalloc(sizeof *m + nick_len + text_len);
    m->when = when;
    m->nick_len = (uint8_t)nick_len;
    m->text_len = (uint32_t)text_len;
    memcpy(m->data, nick, nick_len);
    memcpy(m->data + nick_len, text, text_len);
    r->hist[(r->hist_head + r->hist_count++) % r->hist_cap] = m;
    r->hist_bytes += room_msg_cost(nick_len, text_len);
}

void room_forget_oldest(struct room *r)
{
    struct room_msg *m = r->hist[r->hist_head];
    r->hist_bytes -= room_msg_cost(m->nick_len, m->text_len);
    free(m);
    r->hist[r->hist_head] = NULL;
    r->hist_head = (r->hist_head + 1) % r->hist_cap;
    r->hist_count--;
}

const struct room_msg *room_history(const struct room *r, size_t i)
{
    return r->hist[(r->hist_head + i) % r->hist_cap];
}
