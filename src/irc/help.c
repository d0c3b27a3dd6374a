/*
 * help: HELP and HELPOP, the server's own help on its commands.
 *
 * The index lists the command table itself (irc_command_name), so it
 * names what the server takes and nothing else; each command's text is
 * here, one short entry per command. A command without an entry answers
 * ERR_HELPNOTFOUND like any unknown topic (the e2e tests ask for every
 * command the index lists, so one added without its text is caught).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "irc/irc.h"

/* One topic: its name and its lines, the first a usage line. */
struct irc_help {
    const char *topic;
    const char *lines[4];
};

static const struct irc_help irc_help_topics[] = {
    {"ADMIN", {"ADMIN [server]", "Who runs this server."}},
    {"AWAY",
     {"AWAY [:message]", "Marks you away with a message, or back without."}},
    {"CAP",
     {"CAP LS [302] | CAP REQ :caps | CAP LIST | CAP END",
      "Negotiates IRCv3 capabilities."}},
    {"CHATHISTORY",
     {"CHATHISTORY LATEST|BEFORE|AFTER|AROUND|BETWEEN target ...",
      "Replays a channel's stored messages (the chathistory cap)."}},
    {"DLINE",
     {"DLINE [duration] address[/bits] [:reason]",
      "Bans an address or network from the server (server operators);",
      "duration in minutes, or with s, m, h, d or w."}},
    {"HELP", {"HELP [command]", "Lists the commands, or explains one."}},
    {"HELPOP", {"HELPOP [command]", "The same as HELP."}},
    {"INFO", {"INFO [server]", "What this server is."}},
    {"INVITE", {"INVITE nick #channel", "Invites someone into a channel."}},
    {"ISON", {"ISON nick [nick ...]", "Which of these nicks are online."}},
    {"JOIN",
     {"JOIN #channel[,#channel...] [key[,key...]]",
      "Joins channels, creating those that do not exist. JOIN 0 leaves "
      "them all."}},
    {"KICK",
     {"KICK #channel nick[,nick...] [:reason]",
      "Puts someone out of a channel (channel operators)."}},
    {"KILL",
     {"KILL nick [:reason]",
      "Disconnects someone from the server (server operators)."}},
    {"KLINE",
     {"KLINE [duration] [nick!]user@host [:reason]",
      "Bans a mask from the server (server operators); duration as DLINE."}},
    {"LINKS", {"LINKS [[server] mask]", "The servers of the network."}},
    {"LIST",
     {"LIST [#chan,...|mask,!mask|>N,<N|C>N,C<N|T>N,T<N]",
      "Lists channels: by name or mask, by number of people (>N, <N),",
      "by age in minutes (C>N, C<N) or by topic age (T>N, T<N)."}},
    {"LUSERS", {"LUSERS", "How many people and channels there are."}},
    {"MARKREAD",
     {"MARKREAD target [timestamp=YYYY-MM-DDThh:mm:ss.sssZ]",
      "Gets or moves forward your read marker of a channel or nick",
      "(the draft/read-marker cap; kept while you are connected)."}},
    {"METADATA",
     {"METADATA target|* GET|LIST|SET|CLEAR|SYNC|SUB|UNSUB|SUBS ...",
      "Reads and sets keys on users and channels, and subscribes to",
      "their changes (the draft/metadata-3 and -2 caps)."}},
    {"MODE",
     {"MODE #channel [+|-modes [args]] | MODE nick [+|-modes]",
      "Shows or changes channel modes (b i k l m n o s t v), or your own",
      "(B: a bot, i: invisible, w: gets WALLOPS, -o: not an operator)."}},
    {"MONITOR",
     {"MONITOR +|- nick[,nick...] | MONITOR C|L|S",
      "Tells you when these nicks come and go: + adds, - removes, C clears,",
      "L lists them, S says who of them is online (at most 100)."}},
    {"MOTD", {"MOTD", "The message of the day."}},
    {"NAMES", {"NAMES [#channel[,#channel...]]", "Who is in a channel."}},
    {"NICK", {"NICK nick", "Picks or changes your nick."}},
    {"NOTICE",
     {"NOTICE target[,target...] :text",
      "Like PRIVMSG, but never answered automatically."}},
    {"OPER",
     {"OPER name password",
      "Makes you a server operator, with an account of --oper."}},
    {"PART", {"PART #channel[,#channel...] [:reason]", "Leaves channels."}},
    {"PASS", {"PASS password", "Accepted and ignored: no password is needed."}},
    {"PING", {"PING token", "The server answers PONG with the token."}},
    {"PONG", {"PONG token", "The answer to the server's PING."}},
    {"PRIVMSG",
     {"PRIVMSG target[,target...] :text",
      "Sends text to a nick or a #channel; @#channel reaches its operators",
      "only, +#channel its voiced members and operators."}},
    {"QUIT", {"QUIT [:reason]", "Leaves the server."}},
    {"SETNAME", {"SETNAME :realname", "Changes your real name."}},
    {"STATS",
     {"STATS letter", "K: the K-lines, D: the D-lines (server operators)."}},
    {"SUMMON", {"SUMMON", "Disabled."}},
    {"TAGMSG", {"TAGMSG target", "Sends tags alone (the message-tags cap)."}},
    {"TIME", {"TIME [server]", "The server's time."}},
    {"TOPIC", {"TOPIC #channel [:topic]", "Shows or sets a channel's topic."}},
    {"UNDLINE",
     {"UNDLINE address[/bits]", "Lifts a D-line (server operators)."}},
    {"UNKLINE", {"UNKLINE mask", "Lifts a K-line (server operators)."}},
    {"USER",
     {"USER username 0 * :realname", "Registers, with NICK, on connecting."}},
    {"USERHOST",
     {"USERHOST nick [nick ...]", "The user@host of up to 5 nicks."}},
    {"USERS", {"USERS", "Disabled."}},
    {"VERSION", {"VERSION [server]", "The server's version."}},
    {"WALLOPS",
     {"WALLOPS :text", "Tells every operator and +w user (server operators)."}},
    {"WHO",
     {"WHO mask|#channel [flags[%fields]]",
      "Who matches a mask, or is in a channel (WHOX fields with %)."}},
    {"WHOIS", {"WHOIS [server] nick", "About someone online."}},
    {"WHOWAS", {"WHOWAS nick [count]", "About someone who left."}},
};

#define IRC_HELP_TOPICS (sizeof irc_help_topics / sizeof irc_help_topics[0])

/* Returns the entry of topic, whatever its case, or NULL. */
static const struct irc_help *irc_help_find(const char *topic)
{
    for (size_t i = 0; i < IRC_HELP_TOPICS; i++)
        if (strcasecmp(irc_help_topics[i].topic, topic) == 0)
            return &irc_help_topics[i];
    return NULL;
}

/* Sends the index: every command of the table, several to a line. */
static void irc_help_index(struct irc_session *s)
{
    irc_num(s, "704", "* :parley IRC server: the commands it takes");
    irc_num(s, "705", "* :");
    char line[IRC_BODY_MAX + 1];
    size_t n = 0;
    const char *name;
    for (size_t i = 0; (name = irc_command_name(i)) != NULL; i++) {
        if (n > 0 && n + strlen(name) + 1 > 60) {
            irc_num(s, "705", "* :%s", line);
            n = 0;
        }
        n += (size_t)snprintf(line + n, sizeof line - n, "%s%s", n ? " " : "",
                              name);
    }
    if (n > 0)
        irc_num(s, "705", "* :%s", line);
    irc_num(s, "705", "* :");
    irc_num(s, "706", "* :HELP <command> explains one");
}

/* HELP [TOPIC] and HELPOP [TOPIC]: the index, or one command's help. */
void irc_cmd_help(struct irc_session *s, struct irc_msg *m)
{
    char topic[IRC_BODY_MAX + 1];
    irc_arg(m, 0, topic, sizeof topic);
    if (topic[0] == '\0') {
        irc_help_index(s);
        return;
    }
    const struct irc_help *h = irc_help_find(topic);
    if (h == NULL) {
        /* Only a topic that stands as one parameter is named back. */
        bool plain =
            strlen(topic) <= 32 && !strchr(topic, ' ') && topic[0] != ':';
        irc_num(s, "524", "%s :No help available on this topic",
                plain ? topic : "*");
        return;
    }
    irc_num(s, "704", "%s :%s", h->topic, h->lines[0]);
    for (size_t i = 1; i < 4 && h->lines[i]; i++)
        irc_num(s, "705", "%s :%s", h->topic, h->lines[i]);
    irc_num(s, "706", "%s :End of /HELP", h->topic);
}
