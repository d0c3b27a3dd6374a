/*
 * edit: the line editor of a telnet user in character mode.
 */
#include "text/edit.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"

enum edit_esc {
    ESC_NONE, /* plain keys */
    ESC_ESC,  /* after ESC */
    ESC_CSI,  /* after ESC [: parameters, then a final byte */
    ESC_ARGS, /* in a CSI sequence, past its first parameter */
    ESC_SS3,  /* after ESC O: one final byte */
};

/* The first allocation of a line; a typical chat line fits. */
#define EDIT_CAP_MIN 64

/* U+FFFD, what an invalid byte sequence becomes. */
static const char edit_replacement[] = "\xef\xbf\xbd";

void edit_init(struct edit *e, size_t max)
{
    memset(e, 0, sizeof *e);
    e->max = max > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)max;
}

void edit_free(struct edit *e)
{
    free(e->buf);
    for (size_t i = 0; i < e->nhist; i++)
        free(e->hist[i]);
    free(e->hist);
    free(e->saved);
    memset(e, 0, sizeof *e);
}

/* ------------------------------------------------------------------------
 * UTF-8 and display widths
 * ------------------------------------------------------------------------ */

size_t edit_decode(const char *s, size_t n, uint32_t *cp)
{
    const uint8_t *u = (const uint8_t *)s;
    *cp = 0xFFFD;
    if (n == 0)
        return 0;
    if (u[0] < 0x80) {
        *cp = u[0];
        return 1;
    }
    size_t k = u[0] >= 0xF0 ? 4 : u[0] >= 0xE0 ? 3 : u[0] >= 0xC2 ? 2 : 0;
    if (k == 0 || k > n || u[0] > 0xF4)
        return 1;
    uint32_t v = u[0] & (0x7F >> k);
    for (size_t i = 1; i < k; i++) {
        if ((u[i] & 0xC0) != 0x80)
            return 1;
        v = v << 6 | (u[i] & 0x3F);
    }
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < least[k] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 1;
    *cp = v;
    return k;
}

/* A range of code points, inclusive. */
struct edit_range {
    uint32_t lo, hi;
};

/* Characters that take no column: combining marks, joiners, selectors. */
static const struct edit_range edit_zero[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489},   {0x0591, 0x05BD}, {0x0610, 0x061A},
    {0x064B, 0x065F}, {0x0E31, 0x0E31},   {0x0E34, 0x0E3A}, {0x1AB0, 0x1AFF},
    {0x1DC0, 0x1DFF}, {0x200B, 0x200F},   {0x20D0, 0x20FF}, {0xFE00, 0xFE0F},
    {0xFE20, 0xFE2F}, {0xE0100, 0xE01EF},
};

/* Characters that take two columns: East Asian wide ones, most emoji. */
static const struct edit_range edit_wide[] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},
    {0x23E9, 0x23EC},   {0x23F0, 0x23F0},   {0x23F3, 0x23F3},
    {0x25FD, 0x25FE},   {0x2614, 0x2615},   {0x2648, 0x2653},
    {0x267F, 0x267F},   {0x2693, 0x2693},   {0x26A1, 0x26A1},
    {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},
    {0x26CE, 0x26CE},   {0x26D4, 0x26D4},   {0x26EA, 0x26EA},
    {0x26F2, 0x26F3},   {0x26F5, 0x26F5},   {0x26FA, 0x26FA},
    {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},
    {0x2728, 0x2728},   {0x274C, 0x274C},   {0x274E, 0x274E},
    {0x2753, 0x2755},   {0x2757, 0x2757},   {0x2795, 0x2797},
    {0x27B0, 0x27B0},   {0x27BF, 0x27BF},   {0x2B1B, 0x2B1C},
    {0x2B50, 0x2B50},   {0x2B55, 0x2B55},   {0x2E80, 0x303E},
    {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},
    {0xA000, 0xA4CF},   {0xA960, 0xA97F},   {0xAC00, 0xD7A3},
    {0xF900, 0xFAFF},   {0xFE10, 0xFE19},   {0xFE30, 0xFE6F},
    {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x18AFF},
    {0x1B000, 0x1B2FF}, {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF},
    {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F251},
    {0x1F300, 0x1F320}, {0x1F32D, 0x1F335}, {0x1F337, 0x1F37C},
    {0x1F37E, 0x1F393}, {0x1F3A0, 0x1F3CA}, {0x1F3CF, 0x1F3D3},
    {0x1F3E0, 0x1F3F0}, {0x1F3F4, 0x1F3F4}, {0x1F3F8, 0x1F43E},
    {0x1F440, 0x1F440}, {0x1F442, 0x1F4FC}, {0x1F4FF, 0x1F53D},
    {0x1F54B, 0x1F54E}, {0x1F550, 0x1F567}, {0x1F57A, 0x1F57A},
    {0x1F595, 0x1F596}, {0x1F5A4, 0x1F5A4}, {0x1F5FB, 0x1F64F},
    {0x1F680, 0x1F6C5}, {0x1F6CC, 0x1F6CC}, {0x1F6D0, 0x1F6D2},
    {0x1F6D5, 0x1F6D7}, {0x1F6EB, 0x1F6EC}, {0x1F6F4, 0x1F6FC},
    {0x1F7E0, 0x1F7EB}, {0x1F90C, 0x1F93A}, {0x1F93C, 0x1F945},
    {0x1F947, 0x1F9FF}, {0x1FA70, 0x1FAFF}, {0x20000, 0x3FFFD},
};

/* Returns true if cp is in one of the n sorted ranges at r. */
static bool edit_in(const struct edit_range *r, size_t n, uint32_t cp)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < r[mid].lo)
            hi = mid;
        else if (cp > r[mid].hi)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

unsigned edit_cp_width(uint32_t cp)
{
    if (cp < 0x300)
        return cp < 0x20 || (cp >= 0x7F && cp < 0xA0) ? 0 : 1;
    if (edit_in(edit_zero, sizeof edit_zero / sizeof *edit_zero, cp))
        return 0;
    if (edit_in(edit_wide, sizeof edit_wide / sizeof *edit_wide, cp))
        return 2;
    return 1;
}

size_t edit_width(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += edit_decode(s + i, n - i, &cp);
        w += edit_cp_width(cp);
    }
    return w;
}

/* ------------------------------------------------------------------------
 * The line
 * ------------------------------------------------------------------------ */

/* Returns the offset of the character before offset i (0 stays 0). */
static uint32_t edit_prev(const struct edit *e, uint32_t i)
{
    while (i > 0 && ((uint8_t)e->buf[--i] & 0xC0) == 0x80)
        ;
    return i;
}

/* Returns the offset of the character after offset i. */
static uint32_t edit_next(const struct edit *e, uint32_t i)
{
    if (i >= e->len)
        return e->len;
    uint32_t cp;
    return i + (uint32_t)edit_decode(e->buf + i, e->len - i, &cp);
}

bool edit_insert(struct edit *e, const char *s, size_t n)
{
    if (n > e->max - e->len)
        return false;
    if (e->len + n > e->cap) {
        size_t cap = e->cap ? e->cap : EDIT_CAP_MIN;
        while (cap < e->len + n)
            cap *= 2;
        e->buf = xreallocarray(e->buf, cap, 1);
        e->cap = (uint32_t)cap;
    }
    memmove(e->buf + e->cur + n, e->buf + e->cur, e->len - e->cur);
    memcpy(e->buf + e->cur, s, n);
    e->len += (uint32_t)n;
    e->cur += (uint32_t)n;
    return true;
}

/* Removes the bytes [from, to) of the line; the cursor goes to from. */
static enum edit_action edit_cut(struct edit *e, uint32_t from, uint32_t to)
{
    if (from >= to)
        return EDIT_BELL;
    memmove(e->buf + from, e->buf + to, e->len - to);
    e->len -= to - from;
    e->cur = from;
    return EDIT_REDRAW;
}

/* Replaces the line with the n bytes at s, the cursor at its end. */
static void edit_set(struct edit *e, const char *s, size_t n)
{
    e->len = e->cur = 0;
    if (n > 0 && !edit_insert(e, s, n))
        e->len = e->cur = 0;
}

/* Moves the cursor to i; a bell if it is already there. */
static enum edit_action edit_move(struct edit *e, uint32_t i)
{
    if (i == e->cur)
        return EDIT_BELL;
    e->cur = i;
    return EDIT_REDRAW;
}

/* Returns the start of the word before offset i (Ctrl-W, Alt-B). */
static uint32_t edit_word_left(const struct edit *e, uint32_t i)
{
    while (i > 0 && e->buf[i - 1] == ' ')
        i--;
    while (i > 0 && e->buf[i - 1] != ' ')
        i--;
    return i;
}

/* Returns the end of the word after offset i (Alt-F). */
static uint32_t edit_word_right(const struct edit *e, uint32_t i)
{
    while (i < e->len && e->buf[i] == ' ')
        i++;
    while (i < e->len && e->buf[i] != ' ')
        i++;
    return i;
}

size_t edit_word(const struct edit *e, size_t *start)
{
    uint32_t i = e->cur;
    while (i > 0 && e->buf[i - 1] != ' ')
        i--;
    *start = i;
    return e->cur - i;
}

/* ------------------------------------------------------------------------
 * History
 * ------------------------------------------------------------------------ */

/* Shows history line i (nhist: the new line that was being typed). */
static enum edit_action edit_show(struct edit *e, size_t i)
{
    if (e->hpos == e->nhist) { /* leaving the new line: keep it */
        free(e->saved);
        e->saved = xstrndup(e->buf ? e->buf : "", e->len);
    }
    e->hpos = (uint8_t)i;
    const char *s = i < e->nhist ? e->hist[i] : e->saved;
    edit_set(e, s, strlen(s));
    if (i == e->nhist) {
        free(e->saved);
        e->saved = NULL;
    }
    return EDIT_REDRAW;
}

/* Adds the n bytes at s to the history (not twice in a row). */
static void edit_remember(struct edit *e, const char *s, size_t n)
{
    if (n == 0)
        return;
    if (e->nhist > 0) {
        const char *last = e->hist[e->nhist - 1];
        if (strlen(last) == n && memcmp(last, s, n) == 0)
            return;
    }
    if (e->hist == NULL)
        e->hist = xcalloc(EDIT_HISTORY, sizeof *e->hist);
    if (e->nhist == EDIT_HISTORY) {
        free(e->hist[0]);
        memmove(e->hist, e->hist + 1, (EDIT_HISTORY - 1) * sizeof *e->hist);
        e->nhist--;
    }
    e->hist[e->nhist++] = xstrndup(s, n);
}

void edit_take(struct edit *e, const char **line, size_t *len)
{
    static char *taken; /* the line handed out, until the next call */
    free(taken);
    taken = e->buf;
    *line = e->buf ? e->buf : "";
    *len = e->len;
    edit_remember(e, *line, *len);
    e->buf = NULL;
    e->len = e->cap = e->cur = 0;
    free(e->saved);
    e->saved = NULL;
    e->hpos = e->nhist;
}

/* ------------------------------------------------------------------------
 * Keys
 * ------------------------------------------------------------------------ */

/* The keys that escape sequences name. */
enum edit_keyname {
    KEY_UP,
    KEY_DOWN,
    KEY_RIGHT,
    KEY_LEFT,
    KEY_HOME,
    KEY_END,
    KEY_DELETE,
    KEY_WORD_LEFT,
    KEY_WORD_RIGHT,
    KEY_NONE,
};

/* Acts on a named key. */
static enum edit_action edit_named(struct edit *e, enum edit_keyname k)
{
    switch (k) {
    case KEY_UP:
        return e->hpos == 0 ? EDIT_BELL : edit_show(e, e->hpos - 1u);
    case KEY_DOWN:
        return e->hpos >= e->nhist ? EDIT_BELL : edit_show(e, e->hpos + 1u);
    case KEY_RIGHT:
        return edit_move(e, edit_next(e, e->cur));
    case KEY_LEFT:
        return edit_move(e, edit_prev(e, e->cur));
    case KEY_HOME:
        return edit_move(e, 0);
    case KEY_END:
        return edit_move(e, e->len);
    case KEY_DELETE:
        return edit_cut(e, e->cur, edit_next(e, e->cur));
    case KEY_WORD_LEFT:
        return edit_move(e, edit_word_left(e, e->cur));
    case KEY_WORD_RIGHT:
        return edit_move(e, edit_word_right(e, e->cur));
    default:
        return EDIT_NONE;
    }
}

/* Acts on a control character (below 32, or DEL). */
static enum edit_action edit_control(struct edit *e, uint8_t c)
{
    switch (c) {
    case 0x01: /* Ctrl-A */
        return edit_named(e, KEY_HOME);
    case 0x02: /* Ctrl-B */
        return edit_named(e, KEY_LEFT);
    case 0x03: /* Ctrl-C: start over */
        e->hpos = e->nhist;
        return edit_cut(e, 0, e->len);
    case 0x04: /* Ctrl-D */
        return edit_named(e, KEY_DELETE);
    case 0x05: /* Ctrl-E */
        return edit_named(e, KEY_END);
    case 0x06: /* Ctrl-F */
        return edit_named(e, KEY_RIGHT);
    case 0x08: /* Ctrl-H */
    case 0x7F: /* Backspace */
        return edit_cut(e, edit_prev(e, e->cur), e->cur);
    case 0x09:
        return EDIT_TAB;
    case 0x0B: /* Ctrl-K */
        return edit_cut(e, e->cur, e->len);
    case 0x0C: /* Ctrl-L */
        return EDIT_CLEAR;
    case 0x0E: /* Ctrl-N */
        return edit_named(e, KEY_DOWN);
    case 0x10: /* Ctrl-P */
        return edit_named(e, KEY_UP);
    case 0x15: /* Ctrl-U */
        return edit_cut(e, 0, e->cur);
    case 0x17: /* Ctrl-W */
        return edit_cut(e, edit_word_left(e, e->cur), e->cur);
    case 0x1B:
        e->esc = ESC_ESC;
        return EDIT_NONE;
    default:
        return EDIT_NONE;
    }
}

/* Returns the key a CSI sequence names: final byte f, first parameter. */
static enum edit_keyname edit_csi_key(uint8_t f, unsigned arg)
{
    switch (f) {
    case 'A':
        return KEY_UP;
    case 'B':
        return KEY_DOWN;
    case 'C':
        return arg == 5 ? KEY_WORD_RIGHT : KEY_RIGHT; /* 1;5C: Ctrl-Right */
    case 'D':
        return arg == 5 ? KEY_WORD_LEFT : KEY_LEFT;
    case 'H':
        return KEY_HOME;
    case 'F':
        return KEY_END;
    case '~':
        return arg == 1 || arg == 7   ? KEY_HOME
               : arg == 4 || arg == 8 ? KEY_END
               : arg == 3             ? KEY_DELETE
                                      : KEY_NONE;
    default:
        return KEY_NONE;
    }
}

/*
 * Handles byte c inside an escape sequence. Returns true if it was used;
 * false if it ended the sequence without being part of it (a control
 * character, or a key after a bare ESC), so the caller handles it anew.
 */
static bool edit_escape(struct edit *e, uint8_t c, enum edit_action *act)
{
    *act = EDIT_NONE;
    uint8_t state = e->esc;
    e->esc = ESC_NONE;
    if (state == ESC_ESC) {
        if (c == '[' || c == 'O') {
            e->esc = c == '[' ? ESC_CSI : ESC_SS3;
            e->csi_arg = 0;
            return true;
        }
        if (c == 'b' || c == 'f') { /* Alt-B, Alt-F */
            *act = edit_named(e, c == 'b' ? KEY_WORD_LEFT : KEY_WORD_RIGHT);
            return true;
        }
        return c == 0x1B ? (e->esc = ESC_ESC, true) : false;
    }
    if (c < 0x20 || c >= 0x7F)
        return false; /* not part of any sequence: cut it short */
    if (state == ESC_SS3) {
        *act = edit_named(e, edit_csi_key(c, 0));
        return true;
    }
    if (c >= 0x40) { /* the final byte */
        *act = edit_named(e, edit_csi_key(c, e->csi_arg));
        return true;
    }
    e->esc = state; /* a parameter byte: the sequence goes on */
    if (state == ESC_CSI && c >= '0' && c <= '9') {
        if (e->csi_arg < 1000)
            e->csi_arg = (uint16_t)(e->csi_arg * 10 + (c - '0'));
    } else if (state == ESC_CSI && c == ';' && e->csi_arg == 1) {
        e->csi_arg = 0; /* "1;5C": the modifier is what counts */
    } else {
        e->esc = ESC_ARGS; /* later parameters are not looked at */
    }
    return true;
}

/* Inserts one character; a bell if the line is full. */
static enum edit_action edit_put(struct edit *e, const char *s, size_t n)
{
    e->hpos = e->nhist;
    return edit_insert(e, s, n) ? EDIT_REDRAW : EDIT_BELL;
}

/*
 * Handles a byte of a UTF-8 character. Returns true if it was used; false
 * if it broke the character off (which then became U+FFFD in *act), so the
 * caller handles it anew.
 */
static bool edit_utf8(struct edit *e, uint8_t c, enum edit_action *act)
{
    *act = EDIT_NONE;
    if (e->utf_need > 0 && (c & 0xC0) == 0x80) {
        e->utf[e->utf_have++] = c;
        if (--e->utf_need > 0)
            return true;
        uint32_t cp;
        size_t k = edit_decode((const char *)e->utf, e->utf_have, &cp);
        /* C1 controls (U+0080 to U+009F) are no characters to show. */
        bool ok = k == e->utf_have && !(cp >= 0x80 && cp < 0xA0);
        *act = ok ? edit_put(e, (const char *)e->utf, e->utf_have)
                  : edit_put(e, edit_replacement, 3);
        e->utf_have = 0;
        return true;
    }
    if (e->utf_need > 0) { /* cut short */
        e->utf_need = e->utf_have = 0;
        *act = edit_put(e, edit_replacement, 3);
        return false;
    }
    size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (k == 0 || c > 0xF4) {
        *act = edit_put(e, edit_replacement, 3);
        return true;
    }
    e->utf[0] = c;
    e->utf_have = 1;
    e->utf_need = (uint8_t)(k - 1);
    return true;
}

/* Returns the more visible of two actions a byte caused. */
static enum edit_action edit_both(enum edit_action a, enum edit_action b)
{
    return a == EDIT_NONE ? b : b == EDIT_NONE ? a : b;
}

enum edit_action edit_key(struct edit *e, uint8_t c)
{
    enum edit_action first = EDIT_NONE;
    if (e->cr) {
        e->cr = false;
        if (c == '\n' || c == '\0')
            return EDIT_NONE; /* the rest of CR LF or CR NUL */
    }
    if (e->esc != ESC_NONE && edit_escape(e, c, &first))
        return first;
    if ((e->utf_need > 0 || c >= 0x80) && c != 0x7F) {
        enum edit_action a;
        bool used = edit_utf8(e, c, &a);
        first = edit_both(first, a);
        if (!used && c >= 0x80) { /* it cut a character short: a new one */
            used = edit_utf8(e, c, &a);
            first = edit_both(first, a);
        }
        if (used)
            return first;
    }
    if (c == '\r' || c == '\n') {
        e->cr = c == '\r';
        return EDIT_LINE;
    }
    if (c < 0x20 || c == 0x7F)
        return edit_both(first, edit_control(e, c));
    char ch = (char)c;
    return edit_both(first, edit_put(e, &ch, 1));
}
