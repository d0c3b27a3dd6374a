/*
 * history: queries over what a room remembers: its ring in memory, or,
 * with a store open (--db), the store, which answers the same queries
 * from disk (store/store_read.c) and keeps private conversations too.
 *
 * A ring query is two binary searches for its bounds and a walk over the
 * messages between them, so its cost is O(log n + limit).
 */
#include "core/history.h"

#include "core/chat.h"
#include "core/room.h"
#include "store/store.h"

/* Returns true if m comes before ref (past: or is at ref). */
static bool hist_before(const struct room_msg *m,
                        const struct chat_hist_ref *ref, bool past)
{
    if (ref->kind == CHAT_REF_ID)
        return past ? m->id <= ref->id : m->id < ref->id;
    return past ? m->time_ms <= ref->time_ms : m->time_ms < ref->time_ms;
}

/*
 * Returns the index of r's first message at or after ref (past: after
 * ref), or unbound when ref gives no bound.
 */
static size_t hist_pos(const struct room *r, const struct chat_hist_ref *ref,
                       bool past, size_t unbound)
{
    if (ref == NULL || ref->kind == CHAT_REF_NONE)
        return unbound;
    size_t lo = 0, hi = r->hist_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (hist_before(room_history(r, mid), ref, past))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*
 * Gives fn the messages with index in [lo, hi), at most limit of them: the
 * newest ones if newest, else the oldest. Returns how many.
 */
static size_t hist_emit(const struct room *r, size_t lo, size_t hi,
                        size_t limit, bool newest, chat_hist_fn fn, void *arg)
{
    if (hi <= lo || limit == 0)
        return 0;
    if (hi - lo > limit) {
        if (newest)
            lo = hi - limit;
        else
            hi = lo + limit;
    }
    for (size_t i = lo; i < hi; i++)
        fn(room_history(r, i), arg);
    return hi - lo;
}

/* AROUND: half the limit before a (fewer if there are fewer), the rest
 * from a on; what one side lacks goes to the other. */
static size_t hist_around(const struct room *r, const struct chat_hist_ref *a,
                          size_t limit, chat_hist_fn fn, void *arg)
{
    size_t n = r->hist_count;
    size_t p = hist_pos(r, a, false, n);
    size_t before = p < limit / 2 ? p : limit / 2;
    size_t after = n - p < limit - before ? n - p : limit - before;
    before = p < limit - after ? p : limit - after;
    return hist_emit(r, p - before, p + after, limit, false, fn, arg);
}

size_t chat_history(const struct room *r, enum chat_hist_dir dir,
                    const struct chat_hist_ref *a,
                    const struct chat_hist_ref *b, size_t limit,
                    chat_hist_fn fn, void *arg)
{
    if (store_on()) {
        char key[STORE_TARGET_MAX];
        size_t klen = store_room_target(r->name, r->name_len, key);
        return store_history(key, klen, dir, a, b, limit, fn, arg);
    }
    size_t n = r->hist_count;
    switch (dir) {
    case CHAT_HIST_LATEST:
        return hist_emit(r, hist_pos(r, a, true, 0), n, limit, true, fn, arg);
    case CHAT_HIST_BEFORE:
        return hist_emit(r, 0, hist_pos(r, a, false, n), limit, true, fn, arg);
    case CHAT_HIST_AFTER:
        return hist_emit(r, hist_pos(r, a, true, 0), n, limit, false, fn, arg);
    case CHAT_HIST_AROUND:
        return hist_around(r, a, limit, fn, arg);
    case CHAT_HIST_BETWEEN:
        break;
    }
    size_t fa = hist_pos(r, a, false, 0), fb = hist_pos(r, b, false, n);
    if (fa <= fb)
        return hist_emit(r, hist_pos(r, a, true, 0), fb, limit, false, fn, arg);
    return hist_emit(r, hist_pos(r, b, true, 0), fa, limit, true, fn, arg);
}

bool chat_history_may_read(const struct client *c, const struct room *r)
{
    if (chat_is_member(c, r))
        return true;
    return !(r->modes & (ROOM_SECRET | ROOM_INVITE_ONLY)) && r->key == NULL &&
           !chat_is_banned(c, r);
}

size_t chat_history_private(const struct client *c, const char *peer,
                            size_t len, enum chat_hist_dir dir,
                            const struct chat_hist_ref *a,
                            const struct chat_hist_ref *b, size_t limit,
                            chat_hist_fn fn, void *arg)
{
    if (!store_on())
        return 0;
    char key[STORE_TARGET_MAX];
    size_t klen = store_mailbox(c->nick, c->nick_len, c->host, peer, len, key);
    return store_history(key, klen, dir, a, b, limit, fn, arg);
}

size_t chat_history_peers(const struct client *c, int64_t lo, int64_t hi,
                          size_t limit, chat_hist_peer_fn fn, void *arg)
{
    if (!store_on())
        return 0;
    char key[STORE_TARGET_MAX];
    size_t klen = store_mailbox(c->nick, c->nick_len, c->host, "", 0, key);
    return store_mailboxes(key, klen, lo, hi, limit, fn, arg);
}

bool chat_history_on_disk(void)
{
    return store_on();
}
