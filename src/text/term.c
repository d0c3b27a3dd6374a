/*
 * term: the terminal of a telnet user: negotiation, editing, the screen.
 */
#include "text/term.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/room.h"
#include "event/conn.h"
#include "lib/tbuf.h"
#include "lib/xmalloc.h"
#include "text/edit.h"
#include "text/telnet.h"
#include "text/text.h"

/* The window width assumed until NAWS says, and the widths believed. */
#define TERM_WIDTH 80
#define TERM_WIDTH_MIN 20
#define TERM_WIDTH_MAX 1000
/*
 * Most bytes of finished lines one read may give the framer. Up and Enter
 * turn 4 bytes into a whole earlier line, so a read could otherwise grow
 * a thousandfold; a client past this is sending far ahead of any flood
 * budget, and is cut off as an excess flood.
 */
#define TERM_COOKED_MAX (64 * 1024)
/* Candidates a Tab lists at most when it cannot choose. */
#define TERM_TAB_LIST 30

/* When the bell rings. */
enum term_bell { BELL_MENTIONS, BELL_ALL, BELL_OFF };

struct term {
    struct telnet tn;
    struct edit ed;
    size_t view;     /* the first column of the line that is shown */
    size_t slot;     /* index on term_redraw while queued */
    bool shown;      /* the prompt line is on screen, the cursor on it */
    bool queued;     /* on term_redraw: drawn before the loop sleeps */
    bool color;      /* nicks in colour */
    bool color_set;  /* /color chose: the terminal type no longer does */
    bool timestamps; /* HH:MM (UTC) before every line */
    uint8_t bell;    /* enum term_bell */
};

/* Sessions whose prompt is drawn before the loop sleeps. */
static struct {
    struct text_session **v;
    size_t n, cap;
} term_redraw;

static struct tbuf term_out;    /* what one render writes */
static struct tbuf term_cooked; /* the lines term_filter hands on */
static struct tbuf term_reply;  /* negotiation answers */

/* Returns true if s is a terminal in character mode. */
static bool term_active(const struct text_session *s)
{
    return s->term && telnet_echoing(&s->term->tn);
}

/* Puts s on the list of prompts to draw before the loop sleeps. */
static void term_queue(struct text_session *s)
{
    struct term *t = s->term;
    if (t->queued)
        return;
    if (term_redraw.n == term_redraw.cap) {
        term_redraw.cap = term_redraw.cap ? term_redraw.cap * 2 : 64;
        term_redraw.v = xreallocarray(term_redraw.v, term_redraw.cap,
                                      sizeof *term_redraw.v);
    }
    t->slot = term_redraw.n;
    term_redraw.v[term_redraw.n++] = s;
    t->queued = true;
}

void term_new(struct text_session *s)
{
    struct term *t = xcalloc(1, sizeof *t);
    edit_init(&t->ed, conn_get_limits()->max_line);
    t->bell = BELL_MENTIONS;
    s->term = t;
    term_reply.n = 0;
    telnet_start(&t->tn, &term_reply);
    conn_write(s->conn, term_reply.p, term_reply.n);
}

void term_free(struct text_session *s)
{
    struct term *t = s->term;
    if (t == NULL)
        return;
    if (t->queued)
        term_redraw.v[t->slot] = NULL;
    edit_free(&t->ed);
    free(t);
    s->term = NULL;
}

void term_hide(struct text_session *s)
{
    struct term *t = s->term;
    if (!t->shown)
        return;
    conn_write(s->conn, "\r\x1b[K", 4);
    t->shown = false;
    term_queue(s);
}

/* ------------------------------------------------------------------------
 * Drawing the prompt line
 * ------------------------------------------------------------------------ */

/* Returns the window's width in columns. */
static size_t term_width(const struct term *t)
{
    size_t w = t->tn.width ? t->tn.width : TERM_WIDTH;
    return w < TERM_WIDTH_MIN   ? TERM_WIDTH_MIN
           : w > TERM_WIDTH_MAX ? TERM_WIDTH_MAX
                                : w;
}

/* Appends the prompt, "#ROOM> " (or "> " in no room), to b. */
static void term_prompt(struct text_session *s, struct tbuf *b)
{
    struct room *r = text_room(s);
    if (r && r->name_len + 3 <= term_width(s->term) / 2) {
        tbuf_put(b, "#", 1);
        tbuf_put(b, r->name, r->name_len);
    }
    tbuf_put(b, "> ", 2);
}

/*
 * Moves the view so that the cursor's column cc is in it: a cursor that
 * left it puts the view half a window further, as shells do.
 */
static void term_scroll(struct term *t, size_t cc, size_t total, size_t avail)
{
    if (total <= avail)
        t->view = 0;
    else if (cc < t->view)
        t->view = cc > avail / 2 ? cc - avail / 2 : 0;
    else if (cc > t->view + avail)
        t->view = cc - avail / 2;
}

/*
 * Appends the characters of the line that lie in columns [view, view +
 * avail) to b; a wide character cut by the left edge shows as a space.
 */
static void term_visible(const struct edit *e, size_t view, size_t avail,
                         struct tbuf *b)
{
    size_t col = 0;
    for (size_t i = 0; i < e->len;) {
        uint32_t cp;
        size_t k = edit_decode(e->buf + i, e->len - i, &cp);
        size_t w = edit_cp_width(cp);
        if (col + w > view + avail)
            break;
        if (col >= view)
            tbuf_put(b, e->buf + i, k);
        else if (col + w > view)
            tbuf_put(b, " ", 1);
        col += w;
        i += k;
    }
}

/* Appends CSI n D to b: the cursor goes n columns left. */
static void term_left(struct tbuf *b, size_t n)
{
    char seq[32];
    size_t k = sizeof seq;
    seq[--k] = 'D';
    do {
        seq[--k] = (char)('0' + n % 10);
        n /= 10;
    } while (n > 0 && k > 2);
    seq[--k] = '[';
    seq[--k] = '\x1b';
    tbuf_put(b, seq + k, sizeof seq - k);
}

/*
 * Writes the prompt line of s: prompt, the visible part of the line, and,
 * unless the cursor is at its end (the usual case), a move back to it.
 */
static void term_render(struct text_session *s)
{
    struct term *t = s->term;
    struct tbuf *b = &term_out;
    b->n = 0;
    tbuf_put(b, "\r", 1);
    term_prompt(s, b);
    size_t pw = edit_width(b->p + 1, b->n - 1);
    size_t width = term_width(t);
    size_t avail = width > pw + 1 ? width - pw - 1 : 1;
    const struct edit *e = &t->ed;
    size_t cc = edit_width(e->buf, e->cur);
    term_scroll(t, cc, edit_width(e->buf, e->len), avail);
    size_t start = b->n;
    term_visible(e, t->view, avail, b);
    size_t shown = edit_width(b->p + start, b->n - start);
    tbuf_put(b, "\x1b[K", 3);
    if (pw + shown > pw + cc - t->view)
        term_left(b, shown - (cc - t->view));
    conn_write(s->conn, b->p, b->n);
    t->shown = true;
}

void term_before_sleep(void)
{
    for (size_t i = 0; i < term_redraw.n; i++) {
        struct text_session *s = term_redraw.v[i];
        if (s == NULL)
            continue;
        s->term->queued = false;
        if (term_active(s))
            term_render(s);
    }
    term_redraw.n = 0;
}

/* ------------------------------------------------------------------------
 * Tab completion: commands, rooms, nicks in the room
 * ------------------------------------------------------------------------ */

/* What a Tab gathers: the word, the matches. */
struct term_match {
    const char *word; /* the word before the cursor */
    size_t len;
    size_t count;      /* matches found */
    char common[64];   /* the longest prefix all matches share */
    size_t common_len; /* (its length) */
    struct tbuf *list; /* the first TERM_TAB_LIST matches, space-separated */
};

/* Counts name (n bytes) as a match if the word is a prefix of it. */
static void term_consider(struct term_match *m, const char *name, size_t n)
{
    if (n < m->len || strncasecmp(name, m->word, m->len) != 0)
        return;
    if (n > sizeof m->common)
        n = sizeof m->common;
    if (m->count == 0) {
        memcpy(m->common, name, n);
        m->common_len = n;
    } else {
        size_t k = 0;
        while (k < m->common_len && k < n &&
               (m->common[k] == name[k] ||
                (k < m->len && strncasecmp(&m->common[k], &name[k], 1) == 0)))
            k++;
        m->common_len = k;
    }
    if (m->count < TERM_TAB_LIST) {
        tbuf_put(m->list, " ", 1);
        tbuf_put(m->list, name, n);
    }
    m->count++;
}

/* chat_foreach_room callback: a room name, with '#' if the word has it. */
static void term_consider_room(struct room *r, void *arg)
{
    struct term_match *m = arg;
    if (r->modes & ROOM_SECRET)
        return;
    char name[ROOM_NAME_MAX + 2];
    bool hash = m->len > 0 && m->word[0] == '#';
    name[0] = '#';
    memcpy(name + 1, r->name, r->name_len);
    term_consider(m, hash ? name : name + 1, r->name_len + hash);
}

/*
 * Gathers the matches of the word at [start, start + len) of the line:
 * a command at the start of a line, a room after '#' or /join, else a
 * nick in the room.
 */
static void term_gather(struct text_session *s, struct term_match *m,
                        size_t start)
{
    const struct edit *e = &s->term->ed;
    static const char *const own[] = {"/color", "/bell", "/timestamps"};
    if (start == 0 && m->len > 0 && m->word[0] == '/') {
        const char *name;
        char cmd[32];
        for (size_t i = 0; (name = text_command_name(i)) != NULL; i++) {
            size_t n = strlen(name);
            if (n + 1 < sizeof cmd) {
                cmd[0] = '/';
                memcpy(cmd + 1, name, n);
                term_consider(m, cmd, n + 1);
            }
        }
        for (size_t i = 0; i < sizeof own / sizeof *own; i++)
            term_consider(m, own[i], strlen(own[i]));
    } else if ((m->len > 0 && m->word[0] == '#') ||
               (start == 6 && strncasecmp(e->buf, "/join ", 6) == 0)) {
        chat_foreach_room(term_consider_room, m);
    } else {
        struct room *r = text_room(s);
        for (size_t i = 0; r && i < r->nmembers; i++)
            term_consider(m, r->members[i]->nick, r->members[i]->nick_len);
    }
}

/*
 * Completes the word before the cursor: one match is put in whole, and a
 * space after it; several are completed as far as they agree, and listed
 * when that adds nothing. Returns false if nothing matched.
 */
static bool term_complete(struct text_session *s)
{
    struct edit *e = &s->term->ed;
    static struct tbuf list;
    list.n = 0;
    size_t start;
    struct term_match m = {.list = &list};
    m.len = edit_word(e, &start);
    m.word = e->buf ? e->buf + start : "";
    term_gather(s, &m, start);
    if (m.count == 0)
        return false;
    if (m.common_len > m.len) {
        edit_insert(e, m.common + m.len, m.common_len - m.len);
        if (m.count == 1)
            edit_insert(e, " ", 1);
    } else if (m.count > 1) {
        text_reply(s, "*%.*s%s", (int)list.n, list.p,
                   m.count > TERM_TAB_LIST ? " ..." : "");
    }
    return true;
}

/* ------------------------------------------------------------------------
 * Input
 * ------------------------------------------------------------------------ */

/*
 * Enter: the whole line stays on screen after its prompt (wrapped by the
 * terminal if it is long), and goes on to the framer, ended by LF.
 * Returns false if the lines of this read passed TERM_COOKED_MAX.
 */
static bool term_enter(struct text_session *s)
{
    struct term *t = s->term;
    const char *line;
    size_t len;
    edit_take(&t->ed, &line, &len);
    struct tbuf *b = &term_out;
    b->n = 0;
    tbuf_put(b, "\r", 1);
    term_prompt(s, b);
    tbuf_put(b, line, len);
    tbuf_str(b, "\x1b[K\r\n");
    conn_write(s->conn, b->p, b->n);
    t->shown = false;
    t->view = 0;
    if (term_cooked.n + len + 1 > TERM_COOKED_MAX)
        return false;
    tbuf_put(&term_cooked, line, len);
    tbuf_put(&term_cooked, "\n", 1);
    return true;
}

/*
 * Feeds the n keys at p to s's editor and shows what they did. A Tab is
 * served once per read (completion looks at every member of a room), a
 * bell rung once. Returns false if the connection must end (see above).
 */
static bool term_keys(struct text_session *s, const uint8_t *p, size_t n)
{
    struct term *t = s->term;
    bool tabbed = false, bell = false;
    for (size_t i = 0; i < n; i++) {
        switch (edit_key(&t->ed, p[i])) {
        case EDIT_LINE:
            if (!term_enter(s))
                return false;
            break;
        case EDIT_TAB:
            if (tabbed || !term_complete(s))
                bell = true;
            tabbed = true;
            break;
        case EDIT_CLEAR:
            conn_write(s->conn, "\x1b[H\x1b[2J", 7);
            t->shown = false;
            break;
        case EDIT_BELL:
            bell = true;
            break;
        default:
            break;
        }
    }
    if (bell)
        conn_write(s->conn, "\a", 1);
    term_queue(s); /* the line is drawn once, whatever the keys did */
    return true;
}

/* Returns true if a terminal of type name shows ANSI colours. */
static bool term_colorful(const char *name)
{
    static const char *const kinds[] = {
        "xterm", "screen", "tmux",    "rxvt",  "linux",     "color",
        "ansi",  "putty",  "konsole", "kitty", "alacritty",
    };
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (strstr(name, kinds[i]))
            return true;
    return false;
}

/* Acts on what the negotiation changed (TELNET_EV_ bits). */
static void term_negotiated(struct text_session *s, unsigned events)
{
    struct term *t = s->term;
    if ((events & TELNET_EV_TTYPE) && !t->color_set)
        t->color = term_colorful(t->tn.ttype);
    if (events & TELNET_EV_ECHO) {
        if (telnet_echoing(&t->tn)) {
            term_queue(s);
        } else if (t->shown) { /* back to line mode */
            conn_write(s->conn, "\r\x1b[K", 4);
            t->shown = false;
        }
    }
    if ((events & TELNET_EV_SIZE) && term_active(s))
        term_queue(s);
}

size_t term_filter(struct conn *c, char *p, size_t n, char **out)
{
    struct text_session *s = conn_data(c);
    struct term *t = s->term;
    unsigned events = 0;
    term_reply.n = 0;
    size_t k = telnet_feed(&t->tn, (const uint8_t *)p, n, (uint8_t *)p,
                           &term_reply, &events);
    if (term_reply.n > 0) {
        if (term_active(s))
            term_hide(s); /* the answer to AYT is a line to show */
        conn_write(c, term_reply.p, term_reply.n);
    }
    term_negotiated(s, events);
    if (!telnet_echoing(&t->tn)) {
        *out = p; /* line mode: the data is the framer's */
        return k;
    }
    term_cooked.n = 0;
    if (!term_keys(s, (const uint8_t *)p, k)) {
        conn_cut_off(c, CONN_FLOOD);
        return 0;
    }
    *out = term_cooked.p;
    return term_cooked.n;
}

/* ------------------------------------------------------------------------
 * Output for a terminal: colours, mentions, bells, times
 * ------------------------------------------------------------------------ */

/* Returns true if c may be part of a nick (so a mention ends before it). */
static bool term_nick_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c && strchr("_-[]\\`^{}|", c));
}

/* Returns c in lower case if it is an ASCII letter. */
static inline char term_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* Returns true if the k bytes at a and b are the same but for ASCII case. */
static bool term_same(const char *a, const char *b, size_t k)
{
    for (size_t i = 0; i < k; i++)
        if (term_lower(a[i]) != term_lower(b[i]))
            return false;
    return true;
}

/*
 * Returns the first byte of the n at p that is c in either case (lo and
 * up), or NULL: memchr scans many bytes at a time.
 */
static const char *term_find_either(const char *p, size_t n, char lo, char up)
{
    const char *a = memchr(p, lo, n);
    if (lo == up)
        return a;
    const char *b = memchr(p, up, a ? (size_t)(a - p) : n);
    return b ? b : a;
}

/*
 * Returns the offset of the first mention of nick (k bytes, any case, as a
 * whole word) in the n bytes at p, or n if there is none. Every recipient
 * of a busy room runs this on every message, so places are found by their
 * first byte first.
 */
static size_t term_find_nick(const char *p, size_t n, const char *nick,
                             size_t k)
{
    if (k == 0 || k > n)
        return n;
    char lo = term_lower(nick[0]);
    char up = lo >= 'a' && lo <= 'z' ? (char)(lo - 32) : lo;
    size_t last = n - k; /* the last place a mention may start */
    for (size_t i = 0; i <= last; i++) {
        const char *q = term_find_either(p + i, last - i + 1, lo, up);
        if (q == NULL)
            break;
        i = (size_t)(q - p);
        if (!term_same(q, nick, k))
            continue;
        bool left = i == 0 || !term_nick_char(p[i - 1]);
        bool right = i + k == n || !term_nick_char(p[i + k]);
        if (left && right)
            return i;
    }
    return n;
}

/* Returns the ANSI colour of nick: one of twelve, the same every time. */
static unsigned term_nick_color(const char *nick, size_t n)
{
    static const uint8_t colors[] = {31, 32, 33, 35, 36, 91,
                                     92, 93, 94, 95, 96, 34};
    uint32_t h = 2166136261u; /* FNV-1a over the nick in lower case */
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (uint8_t)term_lower(nick[i])) * 16777619u;
    }
    return colors[h % sizeof colors];
}

/* Appends the n bytes at p to b, s's nick in them shown in reverse. */
static void term_highlight(struct text_session *s, const char *p, size_t n,
                           struct tbuf *b)
{
    const char *me = s->client.nick;
    size_t k = s->client.nick_len;
    for (;;) {
        size_t at = term_find_nick(p, n, me, k);
        tbuf_put(b, p, at);
        if (at == n)
            return;
        tbuf_str(b, "\x1b[1;7m");
        tbuf_put(b, p + at, k);
        tbuf_str(b, "\x1b[0m");
        p += at + k;
        n -= at + k;
    }
}

/*
 * Appends one line of an event (n bytes, its CRLF included) to b as t
 * shows it: the time first, the sender's nick in its colour, s's nick
 * highlighted.
 */
static void term_line(struct text_session *s, const struct chat_event *ev,
                      const char *line, size_t n, struct tbuf *b)
{
    struct term *t = s->term;
    if (t->timestamps) {
        time_t when = ev->time_ms ? (time_t)(ev->time_ms / 1000) : time(NULL);
        struct tm tm;
        gmtime_r(&when, &tm);
        tbuf_printf(b, "%02d:%02d ", tm.tm_hour % 24, tm.tm_min % 60);
    }
    if (!t->color) {
        tbuf_put(b, line, n);
        return;
    }
    size_t at = n > 3 && memcmp(line, "[* ", 3) == 0 ? 3 : 1;
    if (line[0] == '[' && at + ev->nick_len <= n &&
        memcmp(line + at, ev->nick, ev->nick_len) == 0) {
        tbuf_put(b, line, at);
        tbuf_printf(b, "\x1b[%um", term_nick_color(ev->nick, ev->nick_len));
        tbuf_put(b, ev->nick, ev->nick_len);
        tbuf_str(b, "\x1b[0m");
        line += at + ev->nick_len;
        n -= at + ev->nick_len;
    }
    term_highlight(s, line, n, b);
}

/* Returns true if what ev's sender wrote names s's nick. */
static bool term_mentioned(const struct text_session *s,
                           const struct chat_event *ev)
{
    const char *me = s->client.nick;
    size_t k = s->client.nick_len;
    if (ev->kind != CHAT_MESSAGE)
        return term_find_nick(ev->text, ev->text_len, me, k) < ev->text_len;
    for (size_t i = 0; i < ev->nlines; i++)
        if (term_find_nick(ev->lines[i].text, ev->lines[i].len, me, k) <
            ev->lines[i].len)
            return true;
    return false;
}

/* Returns true if ev is someone else's message, action or private one. */
static bool term_said(const struct text_session *s, const struct chat_event *ev)
{
    bool said = ev->kind == CHAT_MESSAGE || ev->kind == CHAT_ACTION ||
                ev->kind == CHAT_PRIVATE;
    return said && ev->from != &s->client;
}

bool term_deliver(struct text_session *s, const struct chat_event *ev,
                  const struct chat_wire *w)
{
    if (!term_active(s))
        return false;
    struct term *t = s->term;
    term_hide(s);
    bool said = term_said(s, ev);
    bool to_me = said && ev->kind == CHAT_PRIVATE;
    bool mention = said && !to_me && term_mentioned(s, ev);
    bool bell = t->bell == BELL_ALL        ? said
                : t->bell == BELL_MENTIONS ? mention || to_me
                                           : false;
    if (!t->color && !t->timestamps) {
        if (w->ref)
            conn_write_block(s->conn, w->ref);
        else
            conn_write(s->conn, w->p, w->n);
    } else {
        struct tbuf *b = &term_out;
        b->n = 0;
        for (const char *p = w->p, *end = w->p + w->n; p < end;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *next = nl ? nl + 1 : end;
            term_line(s, ev, p, (size_t)(next - p), b);
            p = next;
        }
        conn_write(s->conn, b->p, b->n);
    }
    if (bell)
        conn_write(s->conn, "\a", 1);
    return true;
}

/* ------------------------------------------------------------------------
 * Commands
 * ------------------------------------------------------------------------ */

/* Parses "on" or "off" (n bytes) into *on; false if it is neither. */
static bool term_on_off(const char *arg, size_t n, bool *on)
{
    if (n == 2 && strncasecmp(arg, "on", 2) == 0)
        *on = true;
    else if (n == 3 && strncasecmp(arg, "off", 3) == 0)
        *on = false;
    else
        return false;
    return true;
}

/* /color [on|off] */
static void term_cmd_color(struct text_session *s, const char *arg, size_t n)
{
    struct term *t = s->term;
    bool on;
    if (n > 0 && !term_on_off(arg, n, &on)) {
        text_usage(s, "/color on|off");
        return;
    }
    if (n > 0) {
        t->color = on;
        t->color_set = true;
    }
    text_reply(s, "* colour is %s", t->color ? "on" : "off");
}

/* /bell [all|mentions|off] */
static void term_cmd_bell(struct text_session *s, const char *arg, size_t n)
{
    static const char *const names[] = {"mentions", "all", "off"};
    struct term *t = s->term;
    size_t i = 0;
    while (n > 0 && i < 3 &&
           !(strlen(names[i]) == n && strncasecmp(names[i], arg, n) == 0))
        i++;
    if (i == 3) {
        text_usage(s, "/bell all|mentions|off");
        return;
    }
    if (n > 0)
        t->bell = (uint8_t)i;
    text_reply(s, "* bell: %s", names[t->bell]);
}

/* /timestamps [on|off] */
static void term_cmd_timestamps(struct text_session *s, const char *arg,
                                size_t n)
{
    struct term *t = s->term;
    bool on;
    if (n > 0 && !term_on_off(arg, n, &on)) {
        text_usage(s, "/timestamps on|off");
        return;
    }
    if (n > 0)
        t->timestamps = on;
    text_reply(s, "* timestamps are %s (UTC)", t->timestamps ? "on" : "off");
}

/* The terminal's commands, as /help shows them. */
static const struct {
    const char *name;
    void (*fn)(struct text_session *s, const char *arg, size_t n);
    const char *usage, *help;
} term_cmds[] = {
    {"color", term_cmd_color, "/color on|off", "nicks in colour (or not)"},
    {"colour", term_cmd_color, NULL, NULL},
    {"bell", term_cmd_bell, "/bell all|mentions|off",
     "ring on every message, on mentions and private ones, or never"},
    {"timestamps", term_cmd_timestamps, "/timestamps on|off",
     "show the time (UTC) before every line"},
};

bool term_command(struct text_session *s, const char *name, size_t n,
                  const char *args, size_t len)
{
    for (size_t i = 0; i < sizeof term_cmds / sizeof *term_cmds; i++) {
        if (strlen(term_cmds[i].name) != n ||
            strncasecmp(term_cmds[i].name, name, n) != 0)
            continue;
        if (!term_active(s)) {
            text_reply(s,
                       "! /%s needs character mode, which your client "
                       "did not agree to",
                       term_cmds[i].name);
            return true;
        }
        const char *arg = "";
        size_t k = text_word(&args, &len, &arg);
        term_cmds[i].fn(s, arg, k);
        return true;
    }
    return false;
}

void term_help(struct text_session *s)
{
    for (size_t i = 0; i < sizeof term_cmds / sizeof *term_cmds; i++)
        if (term_cmds[i].help)
            text_reply(s, "*   %-20s %s", term_cmds[i].usage,
                       term_cmds[i].help);
}
