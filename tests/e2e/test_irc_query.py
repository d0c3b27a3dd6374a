"""IRC queries about people and the server: WHO (and WHOX), WHOIS, WHOWAS,
ISON, USERHOST, AWAY, SETNAME, ADMIN, INFO, USERS, SUMMON
(docs/irc.md, Questions about people). Text users are asked about like anyone: user ~text,
their address, real name "text user"."""
import re
import time

from harness import check
from irc import SERVER_NAME, IrcMsg, irc_client, irc_user, mixed_server

HOST = "127.0.0.1"


def num(nick, code, rest):
    """The exact line of numeric code sent to nick."""
    return ":%s %s %s %s" % (SERVER_NAME, code, nick, rest)


def ask(c, line, *replies):
    """Sends line and requires these replies next, in order: (code, rest)
    for a numeric to c, or an exact line, or a compiled pattern."""
    c.send_line(line)
    for want in replies:
        c.expect(num(c.nick, *want) if isinstance(want, tuple) else want)


def until_num(c, code):
    """Reads lines up to numeric code; returns them as strings, it last."""
    return c.read_until(lambda ln: IrcMsg(ln).command == code)


def join(c, chan):
    """Joins chan and reads through the end of its names."""
    c.send_line("JOIN " + chan)
    c.until_cmd("366")


def bob_and_alice(t, *flags, caps=()):
    """A text user bob (first in #lobby: its operator) and an IRC user alice
    in #lobby, with nothing pending."""
    srv = mixed_server(t, *flags)
    (bob,) = t.users(srv, "bob")
    a = irc_user(t, srv, "alice", caps=caps)
    join(a, "#lobby")
    bob.expect("* alice joined #lobby")
    return srv, bob, a


# -- WHO -------------------------------------------------------------------


def test_who_channel_lists_text_and_irc_members(t):
    """WHO #chan: one 352 per member, the text user with user ~text, real
    name "text user" and its operator status, then 315 with the mask as
    given."""
    srv, bob, a = bob_and_alice(t)
    a.send_line("WHO #LOBBY")
    lines = until_num(a, "315")
    check(
        sorted(lines[:-1])
        == sorted(
            [
                num("alice", "352", "#lobby ~text %s irc.test bob H@ :0 text user" % HOST),
                num("alice", "352", "#lobby ~alice %s irc.test alice H :0 Real Name" % HOST),
            ]
        ),
        "replies: %r",
        lines,
    )
    check(lines[-1] == num("alice", "315", "#LOBBY :End of WHO list"), "end: %r", lines[-1])
    ask(a, "WHO #nowhere", ("315", "#nowhere :End of WHO list"))
    a.barrier()


def test_who_nick_and_masks(t):
    """WHO NICK answers for that person, with a channel it is in; masks
    match nicks, user names and hosts; "WHO" alone, "*" and "0" are
    everyone; someone in no channel shows "*"; nobody matched: 315 only."""
    srv, bob, a = bob_and_alice(t)
    c = irc_user(t, srv, "carol")
    ask(a, "WHO BOB", ("352", "#lobby ~text %s irc.test bob H@ :0 text user" % HOST), ("315", "BOB :End of WHO list"))
    ask(a, "WHO carol", ("352", "* ~carol %s irc.test carol H :0 Real Name" % HOST), ("315", "carol :End of WHO list"))
    ask(a, "WHO ~tex?",
        ("352", "#lobby ~text %s irc.test bob H@ :0 text user" % HOST),
        ("315", "~tex? :End of WHO list"),
    )
    ask(a, "WHO a*", ("352", "#lobby ~alice %s irc.test alice H :0 Real Name" % HOST), ("315", "a* :End of WHO list"))
    for mask, end in (("", "*"), ("*", "*"), ("0", "0"), ("127.0.0.*", "127.0.0.*")):
        a.send_line(("WHO " + mask).strip())
        lines = until_num(a, "315")
        nicks = sorted(IrcMsg(ln).params[5] for ln in lines[:-1])
        check(nicks == ["alice", "bob", "carol"], "WHO %r: %r", mask, lines)
        check(lines[-1] == num("alice", "315", "%s :End of WHO list" % end), "end: %r", lines[-1])
    ask(a, "WHO nobody", ("315", "nobody :End of WHO list"))
    # operators only: parley has none
    ask(a, "WHO * o", ("315", "* :End of WHO list"))
    a.barrier()
    c.barrier()


def test_who_away_shows_g(t):
    srv, bob, a = bob_and_alice(t)
    c = irc_user(t, srv, "carol")
    a.send_line("AWAY :lunch")
    a.expect_num("306")
    ask(c, "WHO alice",
        ("352", "#lobby ~alice %s irc.test alice G :0 Real Name" % HOST),
        ("315", "alice :End of WHO list"),
    )


def test_whox_fields_in_fixed_order_with_token(t):
    """WHOX: exactly the fields asked for, in the order t c u i h s n f d l
    a o r whatever order they were asked in; account 0, op level n/a, the
    real name last; a token of 1-3 digits comes back, another is 0."""
    srv, bob, a = bob_and_alice(t)
    full = re.compile(
        re.escape(":irc.test 354 alice 42 #lobby ~text %s %s irc.test bob H@ 0 " % (HOST, HOST))
        + r"\d+"
        + re.escape(" 0 n/a :text user")
    )
    for fields in ("%tcuihsnfdlaor,42", "%roaldfnshiuct,42"):
        a.send_line("WHO bob " + fields)
        a.expect(full)
        a.expect(num("alice", "315", "bob :End of WHO list"))
    a.send_line("WHO #lobby %nar")
    lines = until_num(a, "315")
    check(
        sorted(lines[:-1]) == sorted([num("alice", "354", "bob 0 :text user"), num("alice", "354", "alice 0 :Real Name")]),
        "replies: %r",
        lines,
    )
    # not a valid token
    ask(a, "WHO alice %tn,1234", ("354", "0 alice"), ("315", "alice :End of WHO list"))
    # a token without t is not sent
    ask(a, "WHO alice %n,7", ("354", "alice"), ("315", "alice :End of WHO list"))
    a.barrier()


def test_who_stops_at_1000_replies(t):
    """A WHO matching more than 1000 people sends 1000 replies, then 416
    and 315: the output of one WHO is bounded."""
    srv = mixed_server(t)
    clients = []
    for i in range(1001):
        c = irc_client(t, srv)
        c.send_line("NICK n%d\r\nUSER u 0 * :r" % i)
        clients.append(c)
    for c in clients:
        until_num(c, "422")
    a = clients[0]
    a.send_line("WHO n*")
    lines = until_num(a, "315")
    replies = [ln for ln in lines if IrcMsg(ln).command == "352"]
    check(len(replies) == 1000, "%d replies", len(replies))
    check(len(lines) == 1002, "%d lines", len(lines))
    check(lines[-2] == num("n0", "416", "WHO :Output truncated at 1000 replies"), "got %r", lines[-2])
    check(lines[-1] == num("n0", "315", "n* :End of WHO list"), "got %r", lines[-1])


# -- WHOIS -----------------------------------------------------------------


def test_whois_text_user(t):
    """WHOIS of a text user: 311 with ~text and "text user", its channels
    with its status, 312, 317, 318."""
    srv, bob, a = bob_and_alice(t)
    ask(a, "WHOIS bob",
        ("311", "bob ~text %s * :text user" % HOST),
        ("319", "bob :@#lobby"),
        ("312", "bob irc.test :parley chat server"),
    )
    m = a.expect(re.compile(re.escape(":irc.test 317 alice bob ") + r"(\d+) (\d+) :seconds idle, signon time"))
    check(int(m.group(1)) <= 5, "idle %s", m.group(1))
    a.expect(num("alice", "318", "bob :End of /WHOIS list"))
    a.barrier()


def test_whois_irc_user_away_and_server_forms(t):
    """WHOIS of an IRC user in two channels, away: 301 too. The two-
    parameter form takes the server name or a nick; another server: 402."""
    srv, bob, a = bob_and_alice(t)
    join(a, "#dev")
    a.send_line("AWAY :gone fishing")
    a.expect_num("306")
    c = irc_user(t, srv, "carol")
    for cmd in ("WHOIS alice", "WHOIS irc.test alice", "WHOIS ALICE alice", "WHOIS bob alice"):
        ask(c, cmd,
            ("311", "alice ~alice %s * :Real Name" % HOST),
            ("319", "alice :#lobby @#dev"),
            ("312", "alice irc.test :parley chat server"),
            ("301", "alice :gone fishing"),
            re.compile(re.escape(":irc.test 317 carol alice ") + r"\d+ \d+ :seconds idle, signon time"),
            ("318", "alice :End of /WHOIS list"),
        )
    ask(c, "WHOIS other.server alice", ("402", "other.server :No such server"), ("318", "alice :End of /WHOIS list"))
    c.barrier()


def test_whois_unknown_and_missing_nick(t):
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice")
    ask(a, "WHOIS Nobody", ("401", "Nobody :No such nick/channel"), ("318", "Nobody :End of /WHOIS list"))
    ask(a, "WHOIS", ("431", ":No nickname given"))
    # one target: the first
    ask(a, "WHOIS nobody,alice", ("401", "nobody :No such nick/channel"), ("318", "nobody,alice :End of /WHOIS list"))
    a.barrier()


def whois_idle(c, nick):
    c.send_line("WHOIS " + nick)
    lines = until_num(c, "318")
    for ln in lines:
        m = IrcMsg(ln)
        if m.command == "317":
            return int(m.params[2]), int(m.params[3])
    raise AssertionError("no 317 in %r" % lines)


def test_whois_idle_counts_from_the_last_message(t):
    """317's idle time grows while the person is silent and starts again
    from 0 when it speaks (a text user's line counts too); signon stays."""
    srv, bob, a = bob_and_alice(t)
    deadline = time.monotonic() + 5
    idle, signon = whois_idle(a, "bob")
    while idle < 1 and time.monotonic() < deadline:  # await a second of silence
        time.sleep(0.1)
        idle, signon = whois_idle(a, "bob")
    check(idle >= 1, "idle stayed %d", idle)
    bob.say("back")
    a.expect(":bob!~text@%s PRIVMSG #lobby :back" % HOST)
    idle2, signon2 = whois_idle(a, "bob")
    check(idle2 == 0 and signon2 == signon, "idle %d signon %d -> %d", idle2, signon, signon2)


# -- WHOWAS ----------------------------------------------------------------


def test_whowas_after_nick_change_and_quit(t):
    """WHOWAS: 314 and 312 per past user of the nick, newest first, then
    369; a count limits them; an unknown nick gets 406 and 369."""
    srv = mixed_server(t)
    (bob,) = t.users(srv, "bob")
    a = irc_user(t, srv, "alice")
    bob.say("/nick robert")
    bob.expect("* you are now robert")
    x = irc_user(t, srv, "bob")
    x.send_line("QUIT :bye")
    x.until_cmd("ERROR")
    when = r"\w{3} \w{3} \d\d \d\d:\d\d:\d\d \d{4} UTC"
    ask(a, "WHOWAS bob",
        ("314", "bob ~bob %s * :Real Name" % HOST),
        re.compile(re.escape(":irc.test 312 alice bob irc.test :") + when),
        ("314", "bob ~text %s * :text user" % HOST),
        re.compile(re.escape(":irc.test 312 alice bob irc.test :") + when),
        ("369", "bob :End of WHOWAS"),
    )
    ask(a, "WHOWAS BOB 1",
        ("314", "bob ~bob %s * :Real Name" % HOST),
        re.compile(re.escape(":irc.test 312 alice bob irc.test :") + when),
        ("369", "BOB :End of WHOWAS"),
    )
    ask(a, "WHOWAS ghost", ("406", "ghost :There was no such nickname"), ("369", "ghost :End of WHOWAS"))
    ask(a, "WHOWAS", ("431", ":No nickname given"))
    a.barrier()


# -- ISON, USERHOST --------------------------------------------------------


def test_ison(t):
    """ISON: those present, as they spell their nicks; words of a trailing
    parameter count too."""
    srv, bob, a = bob_and_alice(t)
    ask(a, "ISON BOB nobody :ALICE ghost", ("303", ":bob alice"))
    ask(a, "ISON ghost", ("303", ":"))
    ask(a, "ISON", ("461", "ISON :Not enough parameters"))
    a.barrier()


def test_userhost_marks_away_with_minus(t):
    """USERHOST: nick=+user@host, '-' for the away, never '*'; at most 5."""
    srv, bob, a = bob_and_alice(t)
    ask(a, "USERHOST bob alice nobody", ("302", ":bob=+~text@%s alice=+~alice@%s" % (HOST, HOST)))
    a.send_line("AWAY :brb")
    a.expect_num("306")
    ask(a, "USERHOST alice", ("302", ":alice=-~alice@%s" % HOST))
    ask(a, "USERHOST a b c d e alice", ("302", ":"))
    a.barrier()


# -- AWAY, SETNAME ---------------------------------------------------------


def test_away_numerics_notify_and_301(t):
    """AWAY :TEXT gets 306; away-notify peers see AWAY; a PRIVMSG to the
    away person gets 301; AWAY alone (or empty) gets 305 and AWAY without
    text. An away message is cut to AWAYLEN (300 bytes)."""
    srv, bob, a = bob_and_alice(t)
    c = irc_user(t, srv, "carol", caps=("away-notify",))
    join(c, "#lobby")
    a.until_cmd("JOIN")
    bob.expect("* carol joined #lobby")
    ask(a, "AWAY :at lunch", ("306", ":You have been marked as being away"))
    c.expect(":alice!~alice@%s AWAY :at lunch" % HOST)
    ask(c, "PRIVMSG alice :hi", ("301", "alice :at lunch"))
    a.expect(":carol!~carol@%s PRIVMSG alice :hi" % HOST)
    ask(a, "AWAY", ("305", ":You are no longer marked as being away"))
    c.expect(":alice!~alice@%s AWAY" % HOST)
    a.send_line("AWAY :" + "é" * 200)  # 400 bytes
    a.expect_num("306")
    c.expect(":alice!~alice@%s AWAY :%s" % (HOST, "é" * 150))
    a.send_line("AWAY :")
    a.expect_num("305")
    c.expect(":alice!~alice@%s AWAY" % HOST)
    t.barrier(a, c, bob)


def test_away_notify_on_join(t):
    """Someone away who joins a channel is followed by its AWAY for the
    members with away-notify; not for itself, not for the others."""
    srv = mixed_server(t)
    c = irc_user(t, srv, "carol", caps=("away-notify",))
    d = irc_user(t, srv, "dave")
    join(c, "#x")
    join(d, "#x")
    c.until_cmd("JOIN")
    a = irc_user(t, srv, "alice", caps=("away-notify",))
    a.send_line("AWAY :asleep")
    a.expect_num("306")
    a.send_line("JOIN #x")
    a.expect_cmd("JOIN", "#x", source="alice")
    until_num(a, "366")
    c.expect(":alice!~alice@%s JOIN #x" % HOST)
    c.expect(":alice!~alice@%s AWAY :asleep" % HOST)
    d.expect(":alice!~alice@%s JOIN #x" % HOST)
    t.barrier(a, c, d)


def test_setname(t):
    """SETNAME: those with the cap in shared channels, and the sender, see
    it; others do not; WHOIS shows the new name; NAMELEN is 128; an empty
    or longer name gets FAIL SETNAME INVALID_REALNAME."""
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice", caps=("setname",))
    welcome = a.received
    check(any(" NAMELEN=128 " in ln for ln in welcome), "no NAMELEN=128 in ISUPPORT")
    b = irc_user(t, srv, "bob", caps=("setname",))
    c = irc_user(t, srv, "carol")
    for u in (a, b, c):
        join(u, "#x")
    a.until_cmd("JOIN")
    a.until_cmd("JOIN")
    b.until_cmd("JOIN")
    a.send_line("SETNAME :Alice Liddell")
    a.expect(":alice!~alice@%s SETNAME :Alice Liddell" % HOST)
    b.expect(":alice!~alice@%s SETNAME :Alice Liddell" % HOST)
    ask(c, "WHOIS alice", ("311", "alice ~alice %s * :Alice Liddell" % HOST))
    until_num(c, "318")
    c.barrier()
    for bad in ("", "x" * 129):
        a.send_line("SETNAME :" + bad)
        a.expect(":irc.test FAIL SETNAME INVALID_REALNAME :Realname is not valid")
    a.send_line("SETNAME :" + "y" * 128)
    for u in (a, b):
        u.expect(":alice!~alice@%s SETNAME :%s" % (HOST, "y" * 128))
    t.barrier(a, b, c)


def test_extended_join_shows_text_users_real_name(t):
    """A text user's real name is "text user", wherever IRC shows one."""
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice", caps=("extended-join",))
    join(a, "#lobby")
    (bob,) = t.users(srv, None)
    a.expect(":%s!~text@%s JOIN #lobby * :text user" % (bob.nick, HOST))


# -- The server ------------------------------------------------------------


def test_admin_info_users_summon(t):
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice")
    for cmd in ("ADMIN", "ADMIN irc.test", "ADMIN alice"):
        ask(a, cmd,
            ("256", "irc.test :Administrative info"),
            ("257", ":Location not configured"),
            re.compile(re.escape(num("alice", "258", ":Server software: parleyd ")) + r"\d+\.\d+\.\d+"),
            ("259", ":No administrative e-mail address configured"),
        )
    ask(a, "ADMIN elsewhere.example", ("402", "elsewhere.example :No such server"))
    a.send_line("INFO")
    a.expect(re.compile(re.escape(num("alice", "371", ":parleyd ")) + r"\d+\.\d+\.\d+, a chat server"))
    a.expect(num("alice", "371", ':Text (telnet) and IRC clients share its nicks and rooms: a room "dev" is the channel #dev.'))
    a.expect(re.compile(re.escape(num("alice", "371", ":Running since ")) + r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"))
    a.expect(num("alice", "374", ":End of /INFO list"))
    ask(a, "USERS", ("446", ":USERS has been disabled"))
    ask(a, "SUMMON bob", ("445", ":SUMMON has been disabled"))
    ask(a, "FROB", ("421", "FROB :Unknown command"))
    a.barrier()
