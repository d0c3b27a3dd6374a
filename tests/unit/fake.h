/*
 * fake: made-up clients for the tests of the core (test_chat.c,
 * test_mode.c), header only.
 *
 * A fake's deliver function writes each event it gets as one readable
 * record ("MSG alice #dev: hi|") into the fake's log, so a test states
 * exactly who heard what, and that nobody else heard it. A fake may be told
 * to refuse the events of one room (deliver returns false), as a protocol
 * does for notices it chose not to show.
 */
#ifndef PARLEY_FAKE_H
#define PARLEY_FAKE_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/chat.h"
#include "core/room.h"
#include "unit.h"

struct fake {
    struct client c;   /* first, so a struct client * is a struct fake * */
    struct room *room; /* where say() talks: the last join() */
    const struct room *refuse; /* events of this room are not shown */
    char log[4096];
    size_t n;
    uint64_t ids[64]; /* the id of each event shown, in order */
    size_t nids;
};

/* Events formatted (their wire slot was empty when they arrived). */
static size_t fake_formats __attribute__((unused));

/* Appends printf-formatted text to f's log (silently truncating). */
__attribute__((format(printf, 2, 3))) static inline void
fake_log(struct fake *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(f->log + f->n, sizeof f->log - f->n, fmt, ap);
    va_end(ap);
    if (n > 0)
        f->n += (size_t)n < sizeof f->log - f->n ? (size_t)n
                                                 : sizeof f->log - f->n - 1;
}

/* Records a private message: PRIV, NOTICE or PACT (an action). */
static inline void fake_log_private(struct fake *f, const struct chat_event *ev)
{
    const char *kind = ev->action ? "PACT" : ev->notice ? "NOTICE" : "PRIV";
    fake_log(f, "%s %.*s->%s: %.*s|", kind, (int)ev->nick_len, ev->nick,
             ev->to ? ev->to->nick : "?", (int)ev->text_len, ev->text);
    CHECK(ev->to == &f->c);
}

/* Records one of the moderation events (kick, mode, invite). */
static inline void fake_log_moderation(struct fake *f,
                                       const struct chat_event *ev)
{
    int nl = (int)ev->nick_len, tl = (int)ev->text_len;
    const char *room = ev->room ? ev->room->name : "?";
    const char *to = ev->to ? ev->to->nick : "?";
    if (ev->kind == CHAT_KICK)
        fake_log(f, "KICK %.*s #%s %s (%.*s)|", nl, ev->nick, room, to, tl,
                 ev->text);
    else if (ev->kind == CHAT_MODE)
        fake_log(f, "MODE %.*s #%s %.*s|", nl, ev->nick, room, tl, ev->text);
    else
        fake_log(f, "INVITE %.*s #%s %s|", nl, ev->nick, room, to);
}

/* Records one event as "KIND fields|"; refuses those of f->refuse. */
static inline bool fake_deliver(struct client *to, struct chat_event *ev)
{
    struct fake *f = (struct fake *)to;
    int nl = (int)ev->nick_len, tl = (int)ev->text_len;
    const char *room = ev->room ? ev->room->name : "?";
    if (f->refuse && ev->room == f->refuse)
        return false;
    /* The event is shared by all recipients: format it once. */
    if (ev->wire[1].p == NULL) {
        fake_formats++;
        ev->wire[1].p = "formatted";
        ev->wire[1].n = 9;
    }
    CHECK(ev->from != NULL);
    CHECK(ev->text_len == 0 || ev->text != NULL);
    if (f->nids < sizeof f->ids / sizeof f->ids[0])
        f->ids[f->nids++] = ev->id;
    switch (ev->kind) {
    case CHAT_MESSAGE:
        for (size_t i = 0; i < ev->nlines; i++)
            fake_log(f, "%s %.*s #%s: %.*s|", ev->notice ? "NOTE" : "MSG", nl,
                     ev->nick, room, (int)ev->lines[i].len, ev->lines[i].text);
        break;
    case CHAT_ACTION:
        fake_log(f, "ACT %.*s #%s: %.*s|", nl, ev->nick, room, tl, ev->text);
        break;
    case CHAT_PRIVATE:
        fake_log_private(f, ev);
        break;
    case CHAT_JOIN:
        fake_log(f, "JOIN %.*s #%s|", nl, ev->nick, room);
        break;
    case CHAT_PART:
        fake_log(f, "PART %.*s #%s|", nl, ev->nick, room);
        break;
    case CHAT_QUIT:
        fake_log(f, "QUIT %.*s (%.*s)|", nl, ev->nick, tl, ev->text);
        break;
    case CHAT_NICK:
        fake_log(f, "NICK %.*s -> %.*s|", nl, ev->nick, tl, ev->text);
        break;
    case CHAT_TOPIC:
        fake_log(f, "TOPIC %.*s #%s: %.*s|", nl, ev->nick, room, tl, ev->text);
        break;
    case CHAT_KICK:
    case CHAT_MODE:
    case CHAT_INVITE:
        fake_log_moderation(f, ev);
        break;
    case CHAT_AWAY:
        fake_log(f, "AWAY %.*s: %.*s|", nl, ev->nick, tl, ev->text);
        break;
    case CHAT_SETNAME:
        fake_log(f, "SETNAME %.*s: %.*s|", nl, ev->nick, tl, ev->text);
        break;
    case CHAT_TAGMSG:
        fake_log(f, "TAGMSG %.*s: %.*s|", nl, ev->nick,
                 (int)ev->client_tags_len, ev->client_tags);
        break;
    }
    return true;
}

static const struct client_ops fake_ops
    __attribute__((unused)) = {.proto = 1, .deliver = fake_deliver};

/* Empties f's log and its list of ids. */
static inline void clear(struct fake *f)
{
    f->n = 0;
    f->log[0] = '\0';
    f->nids = 0;
}

/* Empties the logs of a NULL-terminated list of fakes. */
static inline void clear_all(struct fake *const *fs)
{
    for (; *fs; fs++)
        clear(*fs);
}

/* Registers f as person id, with nick (NULL: the default user<id>). */
static inline void reg_nick(struct fake *f, uint64_t id, const char *nick)
{
    enum chat_error e =
        chat_register(&f->c, id, &fake_ops, f, nick, nick ? strlen(nick) : 0);
    CHECK_EQ(e, CHAT_OK);
    f->room = NULL;
    f->refuse = NULL;
    clear(f);
}

/* Registers f as person id, with the default nick. */
static inline void reg(struct fake *f, uint64_t id)
{
    reg_nick(f, id, NULL);
}

/* Joins the room called name; returns it (NULL on error). */
static inline struct room *join(struct fake *f, const char *name)
{
    struct room *r = NULL;
    enum chat_error e = chat_join(&f->c, name, strlen(name), NULL, 0, &r);
    CHECK_EQ(e, CHAT_OK);
    if (e != CHAT_OK)
        return NULL;
    f->room = r;
    return r;
}

/* Tries to join name with key (may be NULL); returns the result. */
static inline enum chat_error try_join_key(struct fake *f, const char *name,
                                           const char *key)
{
    struct room *r = NULL;
    return chat_join(&f->c, name, strlen(name), key, key ? strlen(key) : 0, &r);
}

/* Says text in the room f joined last; returns what chat_say says. */
static inline enum chat_error say(struct fake *f, const char *text)
{
    struct chat_line line = {text, strlen(text)};
    return chat_say(&f->c, f->room, &line, 1, false, NULL, NULL);
}

/* The default configuration of the tests. */
static inline struct chat_config cfg(void)
{
    return (struct chat_config){
        .history_keep = 100,
        .topic_max = 300,
        .max_rooms = 100,
        .max_bans = 8,
    };
}

/* Starts the core with c and registers the NULL-terminated fakes, ids 1... */
static inline void start(const struct chat_config *c, struct fake *const *fs)
{
    chat_init(c);
    for (uint64_t id = 1; *fs; fs++, id++)
        reg(*fs, id);
}

/* Unregisters everyone in a NULL-terminated list, then ends the core. */
static inline void fini(struct fake *const *fs)
{
    for (; *fs; fs++)
        chat_unregister(&(*fs)->c, NULL, 0, false);
    chat_fini();
}

#endif
