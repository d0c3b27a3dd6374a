"""IRCv3 MONITOR, extended-monitor and bot mode (docs/irc.md, IRCv3):
who watches whom, told when a nick comes, goes or changes whatever
protocol holds it; AWAY and SETNAME of watched nicks; user mode +B with
its WHOIS line, WHO flag and bot tag."""
from harness import check
from irc import SERVER_NAME, IrcMsg, irc_client, irc_user, mixed_server

HOST = "127.0.0.1"


def num(nick, code, rest):
    """The exact line of numeric code sent to nick."""
    return ":%s %s %s %s" % (SERVER_NAME, code, nick, rest)


def isupport(lines):
    """The ISUPPORT tokens of a welcome, as a set."""
    tokens = set()
    for m in lines:
        if m.command == "005":
            tokens.update(m.params[1:-1])
    return tokens


# -- MONITOR ---------------------------------------------------------------


def test_monitor_sees_nicks_of_both_protocols_come_and_go(t):
    """MONITOR + says who is online (730, nick!user@host) and who is not
    (731) at once, then tells the watcher whenever a watched nick comes or
    goes: an IRC user registering or quitting, a text user renaming or
    quitting. A change of case only says nothing."""
    srv = mixed_server(t)
    (carol,) = t.users(srv, "carol")
    a = irc_user(t, srv, "alice")
    a.send_line("MONITOR + Bob,carol,dave")
    a.expect(num("alice", "730", ":carol!~text@%s" % HOST))
    a.expect(num("alice", "731", ":Bob,dave"))
    b = irc_user(t, srv, "bob")
    a.expect(num("alice", "730", ":bob!~bob@%s" % HOST))
    carol.send("/nick dave\n")
    carol.expect("* you are now dave")
    a.expect(num("alice", "731", ":carol"))
    a.expect(num("alice", "730", ":dave!~text@%s" % HOST))
    b.send_line("NICK BOB")
    b.expect_cmd("NICK", "BOB")
    t.barrier(b, a)  # nothing for a change of case
    b.send_line("QUIT :bye")
    a.expect(num("alice", "731", ":BOB"))  # as it was spelled
    carol.send("/quit\n")
    carol.expect("* bye")
    a.expect(num("alice", "731", ":dave"))
    a.barrier()


def test_monitor_list_status_remove_and_clear(t):
    """ISUPPORT MONITOR=100. L lists the nicks as given (732) and ends with
    733; S says who is online; - and C say nothing, and after them the nick
    that comes is not told; targets that are not nicks are skipped."""
    srv = mixed_server(t)
    a = irc_client(t, srv)
    check("MONITOR=100" in isupport(a.register("alice")), "no MONITOR=100 in ISUPPORT")
    irc_user(t, srv, "bob")
    a.send_line("MONITOR + bob,*!*@host,Carol,,#chan")
    a.expect(num("alice", "730", ":bob!~bob@%s" % HOST))
    a.expect(num("alice", "731", ":Carol"))
    a.send_line("MONITOR L")
    a.expect(num("alice", "732", ":bob,Carol"))
    a.expect(num("alice", "733", ":End of MONITOR list"))
    a.send_line("MONITOR S")
    a.expect(num("alice", "730", ":bob!~bob@%s" % HOST))
    a.expect(num("alice", "731", ":Carol"))
    a.send_line("MONITOR + bob")  # already there: its status, nothing added
    a.expect(num("alice", "730", ":bob!~bob@%s" % HOST))
    a.send_line("MONITOR - CAROL")
    a.barrier()
    irc_user(t, srv, "carol")
    a.send_line("MONITOR L")
    a.expect(num("alice", "732", ":bob"))
    a.expect(num("alice", "733", ":End of MONITOR list"))
    a.send_line("MONITOR C")
    a.send_line("MONITOR L")
    a.expect(num("alice", "733", ":End of MONITOR list"))
    a.send_line("MONITOR +")
    a.expect(num("alice", "461", "MONITOR :Not enough parameters"))
    a.send_line("MONITOR X")
    a.expect(":%s NOTICE alice :MONITOR: Unknown subcommand: use +, -, C, L or S" % SERVER_NAME)


def test_monitor_list_is_bounded(t):
    """A list holds 100 nicks: past them, 734 names the targets left, cut
    at a comma to fit one line, and they are not added. A line of 200
    targets costs one short answer; the list still holds 100."""
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice")
    first = ",".join("n%03d" % i for i in range(60))
    a.send_line("MONITOR + " + first)
    a.expect(num("alice", "731", ":" + first))
    many = ",".join("m%03d" % i for i in range(100))
    a.send_line("MONITOR + " + many)
    added = ",".join("m%03d" % i for i in range(40))
    a.expect(num("alice", "731", ":" + added))
    rest = ",".join("m%03d" % i for i in range(40, 100))
    a.expect(num("alice", "734", "100 %s :Monitor list is full" % rest))
    long = ",".join("x%04d" % i for i in range(83))  # 497 bytes of targets
    a.send_line("MONITOR + " + long)
    m = a.expect_cmd("734")
    check(len(m.line) + 2 <= 512, "734 longer than a line: %d", len(m.line))
    check(long.startswith(m.params[2]) and m.params[2].endswith(("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")), "734 cut: %r", m.line)
    a.send_line("MONITOR L")
    listed = []
    for m in a.until_cmd("733")[:-1]:
        check(m.command == "732", "not a 732: %r", m.line)
        check(len(m.line) + 2 <= 512, "732 longer than a line")
        listed += m.params[-1].split(",")
    check(sorted(listed) == sorted(first.split(",") + added.split(",")), "list: %r", listed)
    a.send_line("MONITOR - n000")
    a.send_line("MONITOR + later")
    a.expect(num("alice", "731", ":later"))


def test_monitor_watchers_gone_are_forgotten(t):
    """A watcher that quits is told nothing more, and its nicks are freed:
    another watcher of the same nick is still told."""
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice")
    b = irc_user(t, srv, "bob")
    for c in (a, b):
        c.send_line("MONITOR + zed")
        c.expect(num(c.nick, "731", ":zed"))
    a.send_line("QUIT")
    a.until_cmd("ERROR")
    z = irc_user(t, srv, "zed")
    b.expect(num("bob", "730", ":zed!~zed@%s" % HOST))
    z.send_line("NICK zed2")
    b.expect(num("bob", "731", ":zed"))
    b.barrier()


# -- extended-monitor -------------------------------------------------------


def test_extended_monitor_sends_away_and_setname_to_those_who_asked(t):
    """With extended-monitor, a watcher gets the AWAY (with away-notify)
    and SETNAME (with setname) of a nick it watches though they share no
    channel; a watcher without extended-monitor does not. One who also
    shares a channel gets each line once."""
    srv = mixed_server(t)
    caps = ("extended-monitor", "away-notify", "setname")
    ext = irc_user(t, srv, "ext", caps=caps)
    plain = irc_user(t, srv, "plain", caps=("away-notify", "setname"))
    near = irc_user(t, srv, "near", caps=caps)
    bob = irc_user(t, srv, "bob")
    for c in (ext, plain, near):
        c.send_line("MONITOR + bob")
        c.expect(num(c.nick, "730", ":bob!~bob@%s" % HOST))
    for c in (near, bob):
        c.send_line("JOIN #dev")
        c.until_cmd("366")
    near.expect_cmd("JOIN", "#dev", source="bob")
    bob.send_line("AWAY :lunch")
    bob.expect_num("306")
    bob.send_line("SETNAME :Bob B")
    bob.barrier()
    for c in (ext, near):
        c.expect(":bob!~bob@%s AWAY :lunch" % HOST)
        c.expect(":bob!~bob@%s SETNAME :Bob B" % HOST)
    bob.send_line("AWAY")
    bob.expect_num("305")
    ext.expect(":bob!~bob@%s AWAY" % HOST)
    near.expect(":bob!~bob@%s AWAY" % HOST)
    t.barrier(bob, ext, near, plain)


def test_cap_ls_offers_extended_monitor(t):
    """extended-monitor is offered and may be taken."""
    srv = mixed_server(t)
    c = irc_client(t, srv)
    c.send_line("CAP LS 302")
    ls = c.expect_cmd("CAP")
    check("extended-monitor" in ls.params[-1].split(), "not offered: %r", ls.line)
    c.send_line("CAP REQ :extended-monitor")
    c.expect(":%s CAP * ACK :extended-monitor" % SERVER_NAME)


# -- bot mode ----------------------------------------------------------------


def test_bot_mode_is_shown_in_whois_who_and_tags(t):
    """BOT=B: MODE nick +B marks a bot (004 lists B among user modes, 221
    shows it); WHOIS says 335, WHO has B in the flags; its messages and
    other lines carry a bot tag for message-tags clients (its echo too),
    never for others; -B ends it."""
    srv = mixed_server(t)
    bot = irc_client(t, srv)
    welcome = bot.register("robo", caps=("message-tags", "echo-message"))
    check("BOT=B" in isupport(welcome), "no BOT=B in ISUPPORT")
    check(any(m.command == "004" and m.params[3] == "Biow" for m in welcome), "004 user modes")
    tags = irc_user(t, srv, "tags", caps=("message-tags",))
    plain = irc_user(t, srv, "plain")
    for c in (tags, plain):
        c.send_line("JOIN #dev")
        c.until_cmd("366")
    tags.expect_cmd("JOIN", "#dev", source="plain")
    bot.send_line("MODE robo +B")
    bot.expect(":robo!~robo@%s MODE robo +B" % HOST)
    bot.send_line("MODE robo")
    bot.expect(num("robo", "221", "+B"))
    plain.send_line("WHOIS robo")
    lines = plain.read_until(lambda ln: IrcMsg(ln).command == "318")
    check(num("plain", "335", "robo :is a bot") in lines, "no 335: %r", lines)
    bot.send_line("JOIN #dev")
    bot.until_cmd("366")
    m = tags.expect_cmd("JOIN", "#dev", source="robo")
    check("bot" in m.tags, "JOIN without bot tag: %r", m.line)
    plain.expect(":robo!~robo@%s JOIN #dev" % HOST)
    plain.send_line("WHO #dev")
    who = [ln for ln in plain.read_until(lambda ln: IrcMsg(ln).command == "315") if " 352 " in ln]
    check(num("plain", "352", "#dev ~robo %s %s robo HB :0 Real Name" % (HOST, SERVER_NAME)) in who, "WHO: %r", who)
    bot.send_line("PRIVMSG #dev :beep")
    echo = bot.expect_cmd("PRIVMSG", "#dev", "beep")
    got = tags.expect_cmd("PRIVMSG", "#dev", "beep")
    check("bot" in echo.tags and "bot" in got.tags and got.tags["bot"] in (None, ""), "bot tag: %r %r", echo.line, got.line)
    plain.expect(":robo!~robo@%s PRIVMSG #dev :beep" % HOST)
    bot.send_line("PRIVMSG tags :hi")
    bot.expect_cmd("PRIVMSG", "tags", "hi")
    check("bot" in tags.expect_cmd("PRIVMSG", "tags", "hi").tags, "no bot tag in private")
    bot.send_line("MODE robo -B")
    bot.expect(":robo!~robo@%s MODE robo -B" % HOST)
    bot.send_line("PRIVMSG #dev :human")
    bot.expect_cmd("PRIVMSG", "#dev", "human")
    check("bot" not in tags.expect_cmd("PRIVMSG", "#dev", "human").tags, "bot tag after -B")
