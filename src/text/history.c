/*
 * history: the text protocol's /history, which pages back through the
 * room's history (the core's one history query, as the replay on /join
 * and IRC's CHATHISTORY use it).
 *
 *   /history [N]             N messages before the oldest one shown to you
 *                            in this room (on joining it, or by the last
 *                            /history), or the latest N if none was
 *   /history before TIME [N] N messages before TIME (text/when.h), UTC
 *
 * N defaults to --history and is at most TEXT_HISTORY_MAX.
 */
#include <stdio.h>
#include <string.h>

#include "core/history.h"
#include "core/room.h"
#include "event/conn.h"
#include "lib/log.h"
#include "text/text.h"
#include "text/when.h"

/* The most messages one /history shows. */
#define TEXT_HISTORY_MAX 1000

void text_history_mark(struct text_session *s, const struct room *r,
                       uint64_t oldest)
{
    s->hist_oldest = oldest;
    memcpy(s->hist_room, r->name, r->name_len + 1);
}

/* Reads a count of 1 to TEXT_HISTORY_MAX (len bytes); 0 if it is not one. */
static size_t text_history_count(const char *p, size_t len)
{
    size_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9' || v > TEXT_HISTORY_MAX)
            return 0;
        v = v * 10 + (size_t)(p[i] - '0');
    }
    return v <= TEXT_HISTORY_MAX ? v : 0;
}

/*
 * Reads the arguments of /history into a reference and a count; replies
 * with the usage and returns false if they are not valid.
 */
static bool text_history_args(struct text_session *s, const struct room *r,
                              const char *args, size_t len,
                              struct chat_hist_ref *ref, size_t *count)
{
    const char *w;
    size_t wn = text_word(&args, &len, &w);
    *count = text_get_config()->history_replay;
    if (*count == 0 || *count > TEXT_HISTORY_MAX)
        *count = *count ? TEXT_HISTORY_MAX : 20;
    *ref = (struct chat_hist_ref){.kind = CHAT_REF_NONE};
    if (wn == 6 && memcmp(w, "before", 6) == 0) {
        wn = text_word(&args, &len, &w);
        ref->kind = CHAT_REF_TIME;
        if (!when_parse(w, wn, chat_wall_ms(), &ref->time_ms))
            return false;
        wn = text_word(&args, &len, &w);
    } else if (s->hist_oldest && strcmp(s->hist_room, r->name) == 0) {
        *ref =
            (struct chat_hist_ref){.kind = CHAT_REF_ID, .id = s->hist_oldest};
    }
    if (wn > 0 && (*count = text_history_count(w, wn)) == 0)
        return false;
    return text_word(&args, &len, &w) == 0;
}

void text_cmd_history(struct text_session *s, const char *args, size_t len)
{
    struct room *r = text_here(s);
    if (r == NULL)
        return;
    struct chat_hist_ref ref;
    size_t count;
    if (!text_history_args(s, r, args, len, &ref, &count)) {
        text_usage(s, "/history [N] or /history before TIME [N], TIME as "
                      "YYYY-MM-DD, YYYY-MM-DDTHH:MM or HH:MM (UTC)");
        return;
    }
    static struct tbuf lines;
    lines.n = 0;
    struct text_replay rp = {.lines = &lines, .dated = true};
    chat_history(r, CHAT_HIST_BEFORE, &ref, NULL, count, text_replay_line, &rp);
    if (rp.oldest)
        text_history_mark(s, r, rp.oldest);
    if (rp.shown == 0) {
        text_reply(s, "* no earlier messages in #%s", r->name);
        return;
    }
    text_reply(s, "* --- %zu earlier message%s in #%s (times in UTC) ---",
               rp.shown, rp.shown == 1 ? "" : "s", r->name);
    conn_write(s->conn, lines.p, lines.n);
    text_reply(s, "* --- end of history ---");
}
