/* Placeholder until the parser module lands; replaced on merge. */
#ifndef PARLEY_IRC_PARSE_H
#define PARLEY_IRC_PARSE_H
#include <stdbool.h>
#include <stddef.h>
#define IRC_MAX_PARAMS 15
#define IRC_BODY_MAX 510
#define IRC_TAGS_MAX 8191
struct irc_slice {
    const char *p;
    size_t n;
};
struct irc_msg {
    struct irc_slice tags, source, cmd;
    struct irc_slice params[IRC_MAX_PARAMS];
    size_t nparams;
};
enum irc_parse {
    IRC_PARSE_OK,
    IRC_PARSE_EMPTY,
    IRC_PARSE_TAGS_TOO_LONG,
    IRC_PARSE_TOO_LONG,
    IRC_PARSE_NO_COMMAND
};
enum irc_parse irc_parse(const char *line, size_t len, struct irc_msg *m);
bool irc_cmd_is(const struct irc_msg *m, const char *upper);
bool irc_tag_next(struct irc_slice *rest, struct irc_slice *key,
                  struct irc_slice *raw_value);
size_t irc_tag_unescape(const char *in, size_t n, char *out);
size_t irc_tag_escape(const char *in, size_t n, char *out);
#endif
