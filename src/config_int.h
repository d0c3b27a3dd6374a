/*
 * config_int: the table of settings that config.c (flags, --help) and
 * config_file.c (the file, the reload) share. Not for other modules.
 */
#ifndef PARLEY_CONFIG_INT_H
#define PARLEY_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct config_setting;

/* Parses value into the setting's field; false with why in err. */
typedef bool (*config_set_fn)(struct config *cfg,
                              const struct config_setting *s, const char *value,
                              char *err, size_t cap);
/* Writes the setting's value i (0 for a single one) as text into out. */
typedef void (*config_show_fn)(const struct config *cfg,
                               const struct config_setting *s, size_t i,
                               char *out, size_t cap);

/* The most settings the table may hold (arrays indexed by setting). */
#define CONFIG_SETTINGS_MAX 56

/* The longest line of a config file: libinih reads lines into 200 bytes. */
#define CONFIG_LINE_MAX 199

/* What a setting may do. */
enum {
    CONFIG_LIVE = 1,     /* SIGHUP may change it while the server runs */
    CONFIG_LIST = 2,     /* repeatable: each value adds one */
    CONFIG_SECRET = 4,   /* the reload log does not show its values */
    CONFIG_SWITCH = 8,   /* a flag without a value; "yes"/"no" in the file */
    CONFIG_DEFAULT = 16, /* --help appends "(default DEF)" */
};

/* One setting: a flag --NAME and a key NAME. */
struct config_setting {
    const char *name;
    const char *arg;  /* the value's name in --help; NULL for a switch */
    const char *help; /* what it does, one or two sentences */
    config_set_fn set;
    config_show_fn show;
    size_t offset, size;     /* the field in struct config */
    size_t count_offset;     /* a list's count field (CONFIG_LIST only) */
    uintmax_t min, max, def; /* numbers: bounds and default */
    unsigned flags;
};

/* The settings, ended by an entry with a NULL name. */
extern const struct config_setting config_settings[];

/* Returns the setting called name (len bytes), or NULL. */
const struct config_setting *config_find(const char *name, size_t len);

/* Returns how many values the setting holds in cfg (1 unless a list). */
size_t config_count(const struct config *cfg, const struct config_setting *s);

/* Empties a list setting (a no-op for others). */
void config_clear(struct config *cfg, const struct config_setting *s);

/*
 * Writes all of the setting's values, separated by spaces, into out (cap
 * bytes); "" for an empty list. Two configurations hold the same value
 * exactly when this writes the same text.
 */
void config_show_all(const struct config *cfg, const struct config_setting *s,
                     char *out, size_t cap);

/*
 * Reads the file at path over cfg (config_parse_text). False with why in
 * err: "PATH:LINE: ..." or "PATH: " and why it cannot be read.
 */
bool config_load_file(struct config *cfg, const char *path, char *err,
                      size_t cap);

/* Sets the defaults of every setting (not yet the default listeners). */
void config_defaults(struct config *cfg);

#endif
