/*
 * irc: the IRC client protocol (RFC 1459/2812 as modern servers speak it,
 * with IRCv3 capabilities), a peer of the text protocol on the same core.
 *
 * session.c holds a connection's life (registration, pings, close),
 * out.c everything written to clients (numerics, event formatting and
 * delivery, labeled responses), cmd.c the command table and the commands
 * of connection and messaging; chan.c, query.c, cap.c, history.c,
 * metadata.c and readmarker.c the rest by topic. docs/irc.md is the
 * contract.
 */
#ifndef PARLEY_IRC_H
#define PARLEY_IRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/chat.h"
#include "irc/parse.h"

struct conn;
struct meta;

/* The protocol object for irc:// listeners. */
extern const struct conn_proto irc_proto;

/* chat_event.wire slots: no tags, server-time only, every tag. */
#define IRC_WIRE_PLAIN 1
#define IRC_WIRE_TIME 2
#define IRC_WIRE_TAGS 3

/* Limits stated in ISUPPORT and kept. */
#define IRC_CHANLIMIT 100 /* channels one client may be in */
#define IRC_TARGMAX 4     /* targets of one PRIVMSG or NOTICE */
#define IRC_MODES 20      /* mode changes with an argument per MODE */
#define IRC_LABEL_MAX 64  /* longest label (labeled-response) */
#define IRC_AWAYLEN 300
#define IRC_KICKLEN 300
#define IRC_HISTORY_MAX 100 /* most messages one CHATHISTORY returns */
/* The most tag data a client may send (message-tags): more gets 417. */
#define IRC_CLIENT_TAGS_MAX 4094
/* The most nicks one client may MONITOR (ISUPPORT MONITOR=). */
#define IRC_MONITOR_MAX 100

/* IRCv3 capabilities, as bits of irc_session.caps. */
enum irc_cap {
    IRC_CAP_MESSAGE_TAGS = 1u << 0,
    IRC_CAP_SERVER_TIME = 1u << 1,
    IRC_CAP_ECHO_MESSAGE = 1u << 2,
    IRC_CAP_MULTI_PREFIX = 1u << 3,
    IRC_CAP_USERHOST_IN_NAMES = 1u << 4,
    IRC_CAP_AWAY_NOTIFY = 1u << 5,
    IRC_CAP_EXTENDED_JOIN = 1u << 6,
    IRC_CAP_INVITE_NOTIFY = 1u << 7,
    IRC_CAP_SETNAME = 1u << 8,
    IRC_CAP_BATCH = 1u << 9,
    IRC_CAP_LABELED_RESPONSE = 1u << 10,
    IRC_CAP_STANDARD_REPLIES = 1u << 11,
    IRC_CAP_CHATHISTORY = 1u << 12,
    IRC_CAP_CAP_NOTIFY = 1u << 13,
    IRC_CAP_EXTENDED_MONITOR = 1u << 14,
    IRC_CAP_METADATA = 1u << 15,    /* draft/metadata-3 (metadata.c) */
    IRC_CAP_METADATA_2 = 1u << 16,  /* draft/metadata-2: the same, but
                                       changes come as METADATA messages */
    IRC_CAP_READ_MARKER = 1u << 17, /* draft/read-marker (readmarker.c) */
};

/* Metadata limits (metadata.c), offered in the capabilities' values. */
#define IRC_META_MAX_KEYS 20   /* keys on one user or one channel */
#define IRC_META_MAX_SUBS 50   /* keys one client may subscribe to */
#define IRC_META_MAX_VALUE 300 /* bytes of one value */
#define IRC_META_KEY_MAX 64    /* bytes of one key name */
/* Read markers one connection keeps (the oldest set goes first). */
#define IRC_READ_MARKERS 200

/* Settings of the IRC protocol, set once at start (irc_configure). */
struct irc_config {
    const char *server_name; /* "irc.example.org" */
    const char *server_info; /* its description, e.g. "parley chat server" */
    const char *network;     /* NETWORK= in ISUPPORT */
    char **motd;             /* lines of the message of the day */
    size_t nmotd;            /* 0: none (ERR_NOMOTD) */
    unsigned ping_interval;  /* seconds of silence before a PING; as long
                                again to answer, and to register */
    int64_t created;         /* seconds since the epoch (RPL_CREATED) */
};

struct ev_loop;

/*
 * Sets the protocol's settings (copied; strings must outlive the server)
 * and starts the ping sweep on loop.
 */
void irc_configure(const struct irc_config *cfg, struct ev_loop *loop);

/*
 * Reads the MOTD from the file at path (lines cleaned, at most 200 of 400
 * bytes), replacing the one read before. Returns 0, or a negative errno
 * (keeping the MOTD there was). Call after irc_configure.
 */
int irc_load_motd(const char *path);

/* Stops the sweep and frees what the protocol keeps (at exit). */
void irc_fini(void);

/* The settings given to irc_configure. */
extern struct irc_config irc_conf;

/* What a connection says about itself before registration completes. */
struct irc_pending {
    char nick[NICK_MAX + 1];  /* the nick asked for */
    char user[CHAT_USER_MAX]; /* USER's name (the ~ goes before it) */
    char *realname;           /* USER's real name */
};

/*
 * One person on an IRC connection. Kept small: an idle client costs this,
 * its connection and its nick; what only registration needs is in pending.
 */
struct irc_session {
    struct client client; /* first: the core's person, once registered */
    struct conn *conn;
    struct irc_pending *pending; /* until registration completes */
    uint64_t last_ms;     /* last input or registration; before: connect */
    uint32_t caps;        /* enum irc_cap */
    uint16_t cap_version; /* 0, or 302 after CAP LS 302 */
    bool registered;      /* in the core, welcomed */
    bool cap_wait;        /* CAP LS/REQ seen and no CAP END yet */
    bool ping_sent;       /* a PING is out, unanswered */
    bool gone;            /* unregistered from the core already (QUIT) */
    bool invisible;       /* user mode +i */
    bool wallops;         /* user mode +w: gets WALLOPS */
    bool bot;             /* user mode +B (bot-mode): tagged "bot" */

    /* IRCv3 metadata and read markers (metadata.c, readmarker.c). */
    bool bad_utf8;          /* the line being run had invalid UTF-8 */
    struct meta *meta;      /* its metadata keys; NULL: none */
    struct meta *meta_subs; /* the metadata keys it subscribed to */
    struct meta *markers;   /* read markers: folded target -> timestamp */
    uint64_t meta_mark;     /* the last metadata change it was told of */
};

/* ------------------------------------------------------------------------
 * Output (out.c)
 * ------------------------------------------------------------------------ */

/*
 * Returns how many of the n bytes at p (valid UTF-8) fit in max bytes
 * without cutting a character in two.
 */
size_t irc_fit_utf8(const char *p, size_t n, size_t max);

/* Returns s's nick, or "*" before registration. */
const char *irc_nick(const struct irc_session *s);

/*
 * Queues n bytes (whole lines, CRLF included) to s; while a labeled command
 * of s runs, they are gathered into its labeled response instead.
 */
void irc_write(struct irc_session *s, const char *p, size_t n);

/* Queues one printf-formatted line (CRLF added) to s. */
void irc_send(struct irc_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Queues ":SERVER NUM NICK " + the formatted rest, as one line. */
void irc_num(struct irc_session *s, const char *num, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Queues an IRCv3 standard reply ":SERVER TYPE CMD CODE [context] :text"
 * (type "FAIL", "WARN" or "NOTE"; context, may be NULL, is one or more
 * parameters joined by spaces), whatever s negotiated: for features whose
 * spec calls for standard replies (CHATHISTORY).
 */
void irc_reply(struct irc_session *s, const char *type, const char *cmd,
               const char *code, const char *context, const char *text);

/*
 * Queues an IRCv3 standard reply ("FAIL CMD CODE :text") if s took
 * standard-replies, else the numeric fallback NUM (NULL: a NOTICE).
 */
void irc_fail(struct irc_session *s, const char *cmd, const char *code,
              const char *num, const char *text);

/*
 * Writes the tags s gets on a message with this id and time (msgid and
 * time as its caps allow, after extra, a tag list without '@', may be NULL)
 * into out (IRC_TAGS_OUT bytes): "@a=b;c=d " or "". Returns the length.
 */
#define IRC_TAGS_OUT 256
size_t irc_tags(const struct irc_session *s, uint64_t id, int64_t time_ms,
                const char *extra, char *out);

/* Formats the msgid of event id (part k of a split line if k > 0). */
size_t irc_msgid(uint64_t id, unsigned k, char *out, size_t cap);

/*
 * Formats ms (milliseconds since the epoch) as server-time does,
 * "2026-11-30T06:00:00.123Z", into out (cap bytes); returns the length.
 */
size_t irc_time(int64_t ms, char *out, size_t cap);

/* The core's deliver hook for IRC clients. */
bool irc_deliver(struct client *to, struct chat_event *ev);

/*
 * Starts gathering the replies to one command of s under label (labeled-
 * response); irc_label_end sends them: ACK if none, the label on the one
 * line, or a labeled-response batch around several.
 */
void irc_label_begin(struct irc_session *s, const char *label, size_t len);
void irc_label_end(void);

/* Returns true while a labeled command runs (its replies are gathered). */
bool irc_label_running(void);

/*
 * Batching of plain channel messages (cmd.c): irc_batch_before, called
 * before each command m of a session runs (labeled: it carries a label),
 * says the gathered messages unless m may join them; irc_batch_flush says
 * them now (the end of a read, a close, a reply that must come after them).
 */
void irc_batch_before(const struct irc_msg *m, bool labeled);
void irc_batch_flush(void);

/* Returns a fresh batch reference ("b1", "b2", ...) in out (16 bytes). */
void irc_batch_ref(char out[16]);

/* A message (PRIVMSG, NOTICE or TAGMSG) as IRC shows it. */
struct irc_message {
    const char *cmd;    /* "PRIVMSG", "NOTICE" or "TAGMSG" */
    uint64_t id;        /* msgid; part k > 0 of a split line gets "id.k" */
    int64_t time_ms;    /* server-time */
    const char *from;   /* "nick!user@host" */
    const char *target; /* "#room" or a nick */
    const char *text;   /* NULL for TAGMSG */
    size_t len;
    bool action;             /* text is the body of a CTCP ACTION */
    const char *client_tags; /* "+a=b;+c", escaped; to message-tags only */
    size_t client_tags_len;
    const char *batch; /* the reference of its batch, or NULL */
    bool bot;          /* from a bot: a "bot" tag for message-tags */
};

/*
 * Sends m to s as it would arrive (echo-message, chathistory): with the
 * tags s took, split as out.c says. A TAGMSG goes
 * only to a session that took message-tags.
 */
void irc_send_message(struct irc_session *s, const struct irc_message *m);

/*
 * Writes the target a room message is shown with into out (cap bytes):
 * "#room", or "@#room" / "+#room" for one to members of min_status
 * (CHAT_OP, CHAT_VOICE) and up (STATUSMSG).
 */
void irc_status_target(unsigned min_status, const struct room *r, char *out,
                       size_t cap);

/* Sends the RPL_NAMREPLY lines for room r to s. */
void irc_names_replies(struct irc_session *s, const struct room *r);

/* Sends RPL_NAMREPLY lines and RPL_ENDOFNAMES for room r to s. */
void irc_names(struct irc_session *s, const struct room *r);

/* Sends RPL_TOPIC and RPL_TOPICWHOTIME (or RPL_NOTOPIC if asked). */
void irc_topic_reply(struct irc_session *s, const struct room *r,
                     bool say_none);

/* ------------------------------------------------------------------------
 * Commands (cmd.c and the files by topic)
 * ------------------------------------------------------------------------ */

/*
 * Returns the name of command i of the command table (sorted by name), or
 * NULL past its end: what HELP lists.
 */
const char *irc_command_name(size_t i);

/* Handles one parsed line from s. */
void irc_dispatch(struct irc_session *s, struct irc_msg *m);

/* Returns param i of m as a NUL-terminated copy in buf (cap bytes). */
const char *irc_arg(const struct irc_msg *m, size_t i, char *buf, size_t cap);

/* Finds the room of an IRC channel name "#name" (len bytes), or NULL. */
struct room *irc_find_channel(const char *chan, size_t len);

/* Completes registration if NICK and USER are in and CAP is not pending. */
void irc_try_register(struct irc_session *s);

/* Leaves with a QUIT reason and closes the connection. */
void irc_quit(struct irc_session *s, const char *reason, size_t len);

/* Sends the MOTD (or ERR_NOMOTD). */
void irc_motd(struct irc_session *s);

/* Sends LUSERS' numerics. */
void irc_lusers(struct irc_session *s);

/* A command handler: m's slices die when it returns. */
typedef void (*irc_cmd_fn)(struct irc_session *s, struct irc_msg *m);

/* The command handlers, by file. */
void irc_cmd_join(struct irc_session *s, struct irc_msg *m);
void irc_cmd_part(struct irc_session *s, struct irc_msg *m);
void irc_cmd_privmsg(struct irc_session *s, struct irc_msg *m);
void irc_cmd_notice(struct irc_session *s, struct irc_msg *m);
void irc_cmd_names(struct irc_session *s, struct irc_msg *m);
void irc_cmd_topic(struct irc_session *s, struct irc_msg *m);
void irc_cmd_cap(struct irc_session *s, struct irc_msg *m);
/* IRCv3: TAGMSG (cmd.c, beside PRIVMSG), CHATHISTORY (history.c). */
void irc_cmd_tagmsg(struct irc_session *s, struct irc_msg *m);
void irc_cmd_chathistory(struct irc_session *s, struct irc_msg *m);

/* query.c: questions about people, and about the server. */
void irc_cmd_admin(struct irc_session *s, struct irc_msg *m);
void irc_cmd_away(struct irc_session *s, struct irc_msg *m);
void irc_cmd_info(struct irc_session *s, struct irc_msg *m);
void irc_cmd_links(struct irc_session *s, struct irc_msg *m);
void irc_cmd_ison(struct irc_session *s, struct irc_msg *m);
void irc_cmd_setname(struct irc_session *s, struct irc_msg *m);
void irc_cmd_summon(struct irc_session *s, struct irc_msg *m);
void irc_cmd_userhost(struct irc_session *s, struct irc_msg *m);
void irc_cmd_users(struct irc_session *s, struct irc_msg *m);
void irc_cmd_who(struct irc_session *s, struct irc_msg *m);
void irc_cmd_whois(struct irc_session *s, struct irc_msg *m);
void irc_cmd_whowas(struct irc_session *s, struct irc_msg *m);

/* help.c: HELP and HELPOP. */
void irc_cmd_help(struct irc_session *s, struct irc_msg *m);

/* Channel moderation and listing: mode.c (MODE), chan.c (the rest). */
void irc_cmd_mode(struct irc_session *s, struct irc_msg *m);
void irc_cmd_kick(struct irc_session *s, struct irc_msg *m);
void irc_cmd_invite(struct irc_session *s, struct irc_msg *m);
void irc_cmd_list(struct irc_session *s, struct irc_msg *m);

/* Server operators: oper.c (OPER, KILL, WALLOPS). */
void irc_cmd_oper(struct irc_session *s, struct irc_msg *m);
void irc_cmd_kill(struct irc_session *s, struct irc_msg *m);
void irc_cmd_wallops(struct irc_session *s, struct irc_msg *m);
/* Takes s's operator status away (MODE nick -o), telling it. */
void irc_oper_drop(struct irc_session *s);
/* Server bans: ban.c (KLINE, DLINE, UNKLINE, UNDLINE, STATS). */
void irc_cmd_kline(struct irc_session *s, struct irc_msg *m);
void irc_cmd_dline(struct irc_session *s, struct irc_msg *m);
void irc_cmd_unkline(struct irc_session *s, struct irc_msg *m);
void irc_cmd_undline(struct irc_session *s, struct irc_msg *m);
void irc_cmd_stats(struct irc_session *s, struct irc_msg *m);
/*
 * At registration, once s is in the core with its nick, user and host: if
 * a server ban matches it, sends 465 and ERROR, takes it out of the core
 * and closes it; returns true then.
 */
bool irc_ban_refused(struct irc_session *s);
/* The core's client_ops.killed for IRC clients: ERROR, then the close. */
void irc_killed(struct client *c, const struct client *by, const char *reason,
                size_t len);

/* Returns true if c is an IRC user who set user mode +B (mode.c). */
bool irc_is_bot(const struct client *c);

/*
 * monitor.c: MONITOR (IRCv3 monitor), on the core's watch lists, and the
 * core's client_ops.watched hook, which sends 730 or 731 to the watcher.
 */
void irc_cmd_monitor(struct irc_session *s, struct irc_msg *m);
void irc_watched(struct client *watcher, const char *nick, size_t len,
                 const struct client *who);
/*
 * IRCv3 metadata (metadata.c): METADATA; what a joiner is told of r and
 * its members (after RPL_ENDOFNAMES); what s is told of its own keys on
 * registration; WHOIS's RPL_WHOISKEYVALUE lines about target; freeing
 * what s keeps.
 */
void irc_cmd_metadata(struct irc_session *s, struct irc_msg *m);
void irc_meta_joined(struct irc_session *s, const struct room *r);
void irc_meta_welcome(struct irc_session *s);
void irc_meta_whois(struct irc_session *s, const struct client *target);
void irc_meta_free(struct irc_session *s);

/*
 * IRCv3 read markers (readmarker.c): MARKREAD, and the MARKREAD a joiner
 * with draft/read-marker gets before RPL_ENDOFNAMES.
 */
void irc_cmd_markread(struct irc_session *s, struct irc_msg *m);
void irc_markread_joined(struct irc_session *s, const struct room *r);

/* Tells s it may not act on r: 442 for NOT_MEMBER, 482 for NOT_OP. */
void irc_chan_denied(struct irc_session *s, const struct room *r,
                     enum chat_error e);

#endif
