"""IRC: HELP and HELPOP, LINKS, INFO, LIST by age (ELIST C and T) and
messages to a channel's operators or voiced members (STATUSMSG)
(docs/irc.md)."""

from harness import check
from irc import SERVER_NAME, IrcMsg, irc_client, irc_user, mixed_server


def num(nick, code, rest):
    """The exact line of numeric code sent to nick."""
    return ":%s %s %s %s" % (SERVER_NAME, code, nick, rest)


def until_num(c, code):
    """Reads lines up to numeric code; returns them as IrcMsgs, it last."""
    return [IrcMsg(ln) for ln in c.read_until(lambda ln: IrcMsg(ln).command == code)]


def join(c, chan):
    """Joins chan and reads through the end of its names."""
    c.send_line("JOIN " + chan)
    c.until_cmd("366")


# -- HELP ------------------------------------------------------------------


def help_index(c, cmd="HELP"):
    """Sends cmd alone; checks the 704/705.../706 frame; returns the
    command names the index lists."""
    c.send_line(cmd)
    lines = until_num(c, "706")
    check(lines[0].command == "704" and lines[0].params[1] == "*", "start: %r", lines[0].line)
    names = []
    for m in lines[1:-1]:
        check(m.command == "705" and m.params[1] == "*", "text: %r", m.line)
        names += m.params[2].split()
    return names


def test_help_lists_every_command_and_explains_each(t):
    """HELP alone lists the commands the server takes (PRIVMSG, LINKS,
    HELP among them, nothing it does not take); HELP <command>, in any
    case, explains each one: 704 with its usage, 705s, 706, all with the
    command as subject. HELPOP answers the same."""
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice")
    names = help_index(a)
    for want in ("PRIVMSG", "LINKS", "HELP", "HELPOP", "LIST", "WHOIS"):
        check(want in names, "%s not listed: %r", want, names)
    check(names == sorted(names), "index not sorted: %r", names)
    check(help_index(a, "HELPOP") == names, "HELPOP's index differs")
    for name in names:
        a.send_line("HELP " + name.lower())
        lines = until_num(a, "706")
        check(lines[0].command == "704", "HELP %s: %r", name, lines[0].line)
        for m in lines:
            check(m.params[1] == name, "HELP %s subject: %r", name, m.line)
    a.send_line("HELPOP privmsg")
    a.expect(num("alice", "704", "PRIVMSG :PRIVMSG target[,target...] :text"))
    until_num(a, "706")
    # A command the server does not take has no help.
    a.send_line("HELP THISISNOTACOMMAND")
    a.expect(num("alice", "524", "THISISNOTACOMMAND :No help available on this topic"))
    a.send_line("HELP KNOCK")
    a.expect(num("alice", "524", "KNOCK :No help available on this topic"))
    a.barrier()


# -- LINKS and INFO --------------------------------------------------------


def test_links_shows_this_server_only(t):
    """LINKS lists this one server with hop count 0 and its description
    (--server-info); a mask that does not match gives the end alone; a
    remote server that is not this one is 402."""
    srv = mixed_server(t, "--server-info", "a test of links")
    a = irc_user(t, srv, "alice")
    a.send_line("LINKS")
    a.expect(num("alice", "364", "%s %s :0 a test of links" % (SERVER_NAME, SERVER_NAME)))
    a.expect(num("alice", "365", "* :End of /LINKS list"))
    a.send_line("LINKS *.test")
    a.expect(num("alice", "364", "%s %s :0 a test of links" % (SERVER_NAME, SERVER_NAME)))
    a.expect(num("alice", "365", "*.test :End of /LINKS list"))
    a.send_line("LINKS *.example")
    a.expect(num("alice", "365", "*.example :End of /LINKS list"))
    a.send_line("LINKS other.example *")
    a.expect(num("alice", "402", "other.example :No such server"))
    a.barrier()


def test_info_answers_for_this_server_only(t):
    """INFO (alone, naming this server or someone on it) is 371s then 374;
    INFO naming another server is 402 alone."""
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice")
    for line in ("INFO", "INFO " + SERVER_NAME, "INFO alice"):
        a.send_line(line)
        lines = until_num(a, "374")
        check(len(lines) > 1, "%s: no 371: %r", line, lines)
        for m in lines[:-1]:
            check(m.command == "371" and m.params[0] == "alice", "%s: %r", line, m.line)
    a.send_line("INFO other.example")
    a.expect(num("alice", "402", "other.example :No such server"))
    a.barrier()


# -- LIST by age -----------------------------------------------------------



def listed(c, terms):
    """The channel names LIST terms gives c."""
    c.send_line("LIST " + terms)
    return {m.params[1] for m in until_num(c, "323") if m.command == "322"}


def test_list_by_creation_and_topic_age(t):
    """ELIST=CMNTU is advertised. LIST C>N and C<N select channels made
    more or less than N minutes ago, T>N and T<N those whose topic was set
    more or less than N minutes ago (a channel without a topic has no topic
    age). Channels made just now are 0 minutes old: below 1, above
    nothing."""
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice")
    join(a, "#old")
    a.send_line("TOPIC #old :a topic")
    a.until_cmd("TOPIC")
    join(a, "#bare")
    check(listed(a, "C<1") == {"#old", "#bare"}, "C<1")
    check(listed(a, "C>0") == set(), "C>0")
    check(listed(a, "C<0") == set(), "C<0")
    check(listed(a, "T<1") == {"#old"}, "T<1: a channel without a topic has no age")
    check(listed(a, "T>0") == set(), "T>0")
    check(listed(a, "C<10,T<10") == {"#old"}, "C<10,T<10")
    check(listed(a, "#b*,C<1") == {"#bare"}, "#b*,C<1")
    check(listed(a, "C>x") == {"#old", "#bare"}, "a bad number bounds nothing")


def test_isupport_names_elist_and_statusmsg(t):
    """RPL_ISUPPORT advertises ELIST=CMNTU and STATUSMSG=@+."""
    srv = mixed_server(t)
    c = irc_client(t, srv)
    lines = c.register("alice")
    tokens = [p for m in lines if m.command == "005" for p in m.params[1:-1]]
    check("ELIST=CMNTU" in tokens, "ELIST: %r", tokens)
    check("STATUSMSG=@+" in tokens, "STATUSMSG: %r", tokens)


# -- STATUSMSG -------------------------------------------------------------


def test_statusmsg_reaches_ops_or_voiced_only(t):
    """PRIVMSG @#chan reaches the channel's operators only (IRC ones see
    the target as sent, text ones "[nick -> @#chan]: text"); +#chan reaches
    voiced members and operators; the others get nothing; with
    echo-message the sender sees its message with the same target; and
    the channel's history keeps none of them."""
    srv = mixed_server(t)
    (bob,) = t.users(srv, "bob")  # the first in #lobby: its operator
    caps = ("echo-message", "batch", "server-time", "message-tags", "draft/chathistory")
    a = irc_user(t, srv, "alice", caps=caps)
    v = irc_user(t, srv, "vic")
    p = irc_user(t, srv, "pat")
    for c in (a, v, p):
        join(c, "#lobby")
        bob.expect("* %s joined #lobby" % c.nick)
    bob.say("/op alice")
    a.until_cmd("MODE")
    a.send_line("MODE #lobby +v vic")
    a.until_cmd("MODE")
    for c in (v, p):
        c.until_cmd("MODE")
        c.until_cmd("MODE")
    bob.read_until(lambda ln: "vic" in ln and "mode" in ln)
    # From a plain member to the operators.
    p.send_line("PRIVMSG @#lobby :for ops")
    bob.expect("[pat -> @#lobby]: for ops")
    a.expect_cmd("PRIVMSG", "@#lobby", "for ops", source="pat")
    # From an operator to voiced members and up, echoed as sent.
    a.send_line("NOTICE +#lobby :for voices")
    a.expect_cmd("NOTICE", "+#lobby", "for voices", source="alice")
    v.expect_cmd("NOTICE", "+#lobby", "for voices", source="alice")
    bob.expect("[alice -> +#lobby]: for voices")
    # A CTCP ACTION to the operators stays one.
    v.send_line("PRIVMSG @#lobby :\x01ACTION waves\x01")
    a.expect_cmd("PRIVMSG", "@#lobby", "\x01ACTION waves\x01", source="vic")
    bob.expect("[* vic -> @#lobby] waves")
    for c in (v, p):
        c.barrier()
    # None of it is in the room's history.
    a.send_line("CHATHISTORY LATEST #lobby * 10")
    got = a.until_cmd("BATCH") + a.until_cmd("BATCH")
    check(not [m for m in got if m.command in ("PRIVMSG", "NOTICE")], "history kept: %r", [m.line for m in got])
    a.barrier()
