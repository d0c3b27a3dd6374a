/*
 * Unit tests for watch.c: who watches which nick, and what the core tells
 * watchers when a nick comes or goes (registration, nick change, quit) and
 * when a watched person goes away or changes its real name.
 *
 * The clients are fakes (fake.h) whose watched hook logs "ON nick|" or
 * "OFF nick|", so a test states exactly who was told what.
 */
#include "core/watch.h"

#include "core/chat.h"
#include "fake.h"
#include "unit.h"

/* The watched hook of the fakes: logs what came or went. */
static void watched(struct client *w, const char *nick, size_t len,
                    const struct client *who)
{
    struct fake *f = (struct fake *)w;
    if (who)
        fake_log(f, "ON %.*s=%s|", (int)len, nick, who->nick);
    else
        fake_log(f, "OFF %.*s|", (int)len, nick);
}

static const struct client_ops watch_ops = {
    .proto = 1, .deliver = fake_deliver, .watched = watched};

/* Registers f as person id with nick, with the watching fakes' ops. */
static void reg_w(struct fake *f, uint64_t id, const char *nick)
{
    CHECK_EQ(chat_register(&f->c, id, &watch_ops, f, nick, strlen(nick)),
             CHAT_OK);
    chat_set_user_host(&f->c, "~u", "host");
    clear(f);
}

/* Adds nick to f's list (at most max); returns the result. */
static enum watch_result add(struct fake *f, const char *nick, size_t max)
{
    return watch_add(&f->c, nick, strlen(nick), max);
}

/* Checks that every nick f watches is listed once, in any order. */
static void check_list(struct fake *f, const char *const *want, size_t n)
{
    CHECK_EQ(watch_count(&f->c), n);
    for (size_t i = 0; i < n; i++) {
        size_t hits = 0;
        for (size_t k = 0; k < watch_count(&f->c); k++) {
            size_t len;
            const char *nick = watch_nick(&f->c, k, &len);
            hits += len == strlen(want[i]) && !memcmp(nick, want[i], len);
        }
        CHECK_EQ(hits, 1);
    }
}

TEST(add_del_and_list)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake a;
    reg_w(&a, 1, "alice");
    CHECK(a.c.watching == NULL); /* watching nothing costs nothing */
    CHECK_EQ(add(&a, "Bob", 3), WATCH_ADDED);
    CHECK_EQ(add(&a, "bob", 3), WATCH_ALREADY);
    CHECK_EQ(add(&a, "carol", 3), WATCH_ADDED);
    CHECK_EQ(add(&a, "*!*@host", 3), WATCH_INVALID);
    CHECK_EQ(add(&a, "dave", 3), WATCH_ADDED);
    CHECK_EQ(add(&a, "erin", 3), WATCH_FULL);
    check_list(&a, (const char *[]){"Bob", "carol", "dave"}, 3);
    CHECK_EQ(watch_total(), 3);
    CHECK(watch_del(&a.c, "BOB", 3));
    CHECK(!watch_del(&a.c, "bob", 3));
    check_list(&a, (const char *[]){"carol", "dave"}, 2);
    CHECK_EQ(watch_total(), 2);
    watch_clear(&a.c);
    CHECK(a.c.watching == NULL);
    CHECK_EQ(watch_total(), 0);
    CHECK_STR(a.log, ""); /* adding and removing tells nothing */
    fini((struct fake *[]){&a, NULL});
}

TEST(many_watchers_leave_in_any_order)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake f[6];
    const char *names[] = {"a1", "a2", "a3", "a4", "a5", "a6"};
    for (int i = 0; i < 6; i++) {
        reg_w(&f[i], (uint64_t)i + 1, names[i]);
        CHECK_EQ(add(&f[i], "x", 8), WATCH_ADDED);
        CHECK_EQ(add(&f[i], "y", 8), WATCH_ADDED);
        CHECK_EQ(add(&f[i], "z", 8), WATCH_ADDED);
    }
    /* Unhook from the middle, both ways, so that back pointers move. */
    CHECK(watch_del(&f[2].c, "x", 1));
    CHECK(watch_del(&f[0].c, "y", 1));
    watch_clear(&f[4].c);
    struct fake z;
    reg_w(&z, 99, "z");
    for (int i = 0; i < 6; i++)
        CHECK_STR(f[i].log, i == 4 ? "" : "ON z=z|");
    chat_unregister(&f[1].c, NULL, 0, false);
    chat_unregister(&z.c, NULL, 0, false);
    for (int i = 0; i < 6; i++)
        CHECK_STR(f[i].log, i == 4 ? "" : i == 1 ? "ON z=z|" : "ON z=z|OFF z|");
    check_list(&f[0], (const char *[]){"x", "z"}, 2);
    check_list(&f[2], (const char *[]){"y", "z"}, 2);
    for (int i = 0; i < 6; i++)
        if (i != 1)
            chat_unregister(&f[i].c, NULL, 0, false);
    CHECK_EQ(watch_total(), 0);
    chat_fini();
}

TEST(nick_changes_come_and_go)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake w, b;
    reg_w(&w, 1, "watcher");
    CHECK_EQ(add(&w, "qux", 8), WATCH_ADDED);
    CHECK_EQ(add(&w, "baz", 8), WATCH_ADDED);
    reg_w(&b, 2, "baz");
    CHECK_STR(w.log, "ON baz=baz|");
    clear(&w);
    CHECK_EQ(chat_set_nick(&b.c, "qux", 3), CHAT_OK);
    CHECK_STR(w.log, "OFF baz|ON qux=qux|");
    clear(&w);
    CHECK_EQ(chat_set_nick(&b.c, "QUX", 3), CHAT_OK);
    CHECK_STR(w.log, ""); /* a change of case is neither */
    CHECK_EQ(chat_set_nick(&b.c, "other", 5), CHAT_OK);
    CHECK_STR(w.log, "OFF QUX|"); /* as it was spelled */
    clear(&w);
    chat_unregister(&b.c, "bye", 3, true);
    CHECK_STR(w.log, "");
    fini((struct fake *[]){&w, NULL});
}

TEST(default_nick_and_quit_are_seen)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake w, t;
    reg_w(&w, 1, "watcher");
    CHECK_EQ(add(&w, "user2", 8), WATCH_ADDED);
    reg(&t, 2);           /* another protocol's default nick counts too */
    CHECK_STR(w.log, ""); /* not yet: it has no user name */
    chat_set_user_host(&t.c, "~text", "host");
    CHECK_STR(w.log, "ON user2=user2|");
    chat_set_user_host(&t.c, "~text", "host");
    CHECK_STR(w.log, "ON user2=user2|"); /* once */
    clear(&w);
    chat_unregister(&t.c, "bye", 3, true);
    CHECK_STR(w.log, "OFF user2|");
    fini((struct fake *[]){&w, NULL});
}

TEST(watchers_get_away_and_setname_once)
{
    struct chat_config c = cfg();
    chat_init(&c);
    struct fake w, near, b;
    reg_w(&w, 1, "watcher");
    reg_w(&near, 2, "near");
    reg_w(&b, 3, "bob");
    CHECK_EQ(add(&w, "bob", 8), WATCH_ADDED);
    CHECK_EQ(add(&near, "bob", 8), WATCH_ADDED);
    join(&near, "dev");
    join(&b, "dev");
    clear_all((struct fake *[]){&w, &near, &b, NULL});
    chat_set_away(&b.c, "afk", 3);
    chat_set_realname(&b.c, "Bob B", 5);
    CHECK_STR(w.log, "AWAY bob: afk|SETNAME bob: Bob B|");
    CHECK_STR(near.log, "AWAY bob: afk|SETNAME bob: Bob B|");
    fini((struct fake *[]){&w, &near, &b, NULL});
}

UNIT_MAIN()
