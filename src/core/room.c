/*
 * room: one chat room as data. Its members, its topic, its recent history.
 */
#include "core/room.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/meta.h"
#include "lib/xmalloc.h"

struct room *room_new(const char *name, size_t len, size_t hist_cap)
{
    struct room *r = xcalloc(1, sizeof *r);
    if (len > ROOM_NAME_MAX)
        len = ROOM_NAME_MAX;
    memcpy(r->name, name, len);
    r->name_len = len;
    r->hist_cap = hist_cap;
    r->created = (int64_t)time(NULL);
    return r;
}

void room_free(struct room *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->hist_count; i++)
        free(r->hist[(r->hist_head + i) % r->hist_cap]);
    free(r->hist);
    for (size_t i = 0; i < r->nbans; i++) {
        free(r->bans[i].mask);
        free(r->bans[i].setter);
    }
    free(r->bans);
    free(r->invited);
    free(r->key);
    free(r->topic);
    free(r->topic_by);
    free(r->members);
    meta_free(r->meta);
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

void room_set_topic(struct room *r, const char *text, size_t len,
                    const char *by, int64_t when)
{
    free(r->topic);
    free(r->topic_by);
    r->topic = len ? xstrndup(text, len) : NULL;
    r->topic_len = len;
    r->topic_by = by ? xstrndup(by, strlen(by)) : NULL;
    r->topic_at = when;
}

size_t room_msg_cost(size_t src_len, size_t text_len)
{
    return sizeof(struct room_msg) + src_len + text_len + ROOM_MSG_OVERHEAD;
}

void room_remember(struct room *r, uint64_t id, int64_t time_ms,
                   enum room_msg_kind kind, const char *src, size_t src_len,
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
    struct room_msg *m = xmalloc(sizeof *m + src_len + text_len);
    m->id = id;
    m->time_ms = time_ms;
    m->kind = (uint8_t)kind;
    m->nick_len = (uint8_t)nick_len;
    m->src_len = (uint8_t)src_len;
    m->text_len = (uint32_t)text_len;
    memcpy(m->data, src, src_len);
    memcpy(m->data + src_len, text, text_len);
    r->hist[(r->hist_head + r->hist_count++) % r->hist_cap] = m;
    r->hist_bytes += room_msg_cost(src_len, text_len);
}

void room_forget_oldest(struct room *r)
{
    struct room_msg *m = r->hist[r->hist_head];
    r->hist_bytes -= room_msg_cost(m->src_len, m->text_len);
    free(m);
    r->hist[r->hist_head] = NULL;
    r->hist_head = (r->hist_head + 1) % r->hist_cap;
    r->hist_count--;
}

const struct room_msg *room_history(const struct room *r, size_t i)
{
    return r->hist[(r->hist_head + i) % r->hist_cap];
}

void room_ban_add(struct room *r, const char *mask, size_t len,
                  const char *setter, int64_t when)
{
    if (r->nbans == r->capbans) {
        r->capbans = r->capbans ? r->capbans * 2 : 4;
        r->bans = xreallocarray(r->bans, r->capbans, sizeof *r->bans);
    }
    r->bans[r->nbans].mask = xstrndup(mask, len);
    r->bans[r->nbans].setter = xstrndup(setter, strlen(setter));
    r->bans[r->nbans].when = when;
    r->nbans++;
}

long room_ban_find(const struct room *r, const char *mask, size_t len)
{
    for (size_t i = 0; i < r->nbans; i++)
        if (strlen(r->bans[i].mask) == len &&
            strncasecmp(r->bans[i].mask, mask, len) == 0)
            return (long)i;
    return -1;
}

void room_ban_remove(struct room *r, size_t i)
{
    free(r->bans[i].mask);
    free(r->bans[i].setter);
    memmove(&r->bans[i], &r->bans[i + 1], (r->nbans - i - 1) * sizeof *r->bans);
    r->nbans--;
}

bool room_invite_add(struct room *r, uint64_t id, size_t max)
{
    for (size_t i = 0; i < r->ninvited; i++)
        if (r->invited[i] == id)
            return true;
    if (r->ninvited >= max)
        return false;
    if (r->ninvited == r->capinvited) {
        r->capinvited = r->capinvited ? r->capinvited * 2 : 4;
        r->invited =
            xreallocarray(r->invited, r->capinvited, sizeof *r->invited);
    }
    r->invited[r->ninvited++] = id;
    return true;
}

bool room_invite_take(struct room *r, uint64_t id)
{
    for (size_t i = 0; i < r->ninvited; i++) {
        if (r->invited[i] == id) {
            memmove(&r->invited[i], &r->invited[i + 1],
                    (r->ninvited - i - 1) * sizeof *r->invited);
            r->ninvited--;
            return true;
        }
    }
    return false;
}

void room_set_key(struct room *r, const char *key, size_t len)
{
    free(r->key);
    r->key = key ? xstrndup(key, len) : NULL;
}
