"""IRC basics: registration, the welcome, PING/PONG, messages between IRC
and text users, errors before registration, line limits (docs/irc.md)."""
import re

from harness import check
from irc import SERVER_NAME, IrcMsg, irc_client, irc_user, mixed_server


def test_registration_welcome_numerics(t):
    """NICK and USER get 001-005 (ISUPPORT that states our limits), the
    LUSERS numerics and 422 (no MOTD), all from the server name."""
    srv = mixed_server(t)
    a = irc_client(t, srv)
    msgs = a.register("alice", realname="Alice Liddell")
    cmds = [m.command for m in msgs]
    check(cmds[:4] == ["001", "002", "003", "004"], "welcome starts %s", cmds[:6])
    check(all(m.source == SERVER_NAME for m in msgs), "numerics not from %s: %s", SERVER_NAME, msgs[:3])
    check(msgs[0].params == ["alice", "Welcome to the parley IRC Network alice!~alice@127.0.0.1"], "001: %r", msgs[0].line)
    tokens = set()
    for m in msgs:
        if m.command == "005":
            tokens.update(m.params[1:-1])
    for want in ("CASEMAPPING=ascii", "CHANTYPES=#", "PREFIX=(ov)@+", "NICKLEN=32", "CHANMODES=b,k,l,imnst", "UTF8ONLY"):
        check(want in tokens, "ISUPPORT lacks %s: %s", want, sorted(tokens))
    for num in ("251", "252", "253", "254", "255", "265", "266", "422"):
        check(num in cmds, "no %s in the welcome: %s", num, cmds)
    a.barrier()


def test_commands_before_registration_get_451(t):
    srv = mixed_server(t)
    a = irc_client(t, srv)
    a.send_line("JOIN #dev")
    a.expect_num("451")
    a.send_line("PRIVMSG x :y")
    a.expect_num("451")
    a.send_line("PING early")
    a.expect(":%s PONG %s :early" % (SERVER_NAME, SERVER_NAME))


def test_nick_in_use_and_erroneous(t):
    srv = mixed_server(t)
    t.users(srv, "bob")
    a = irc_client(t, srv)
    a.send_line("NICK bob")
    a.expect_num("433", "bob")
    a.send_line("NICK 9lives")
    a.expect_num("432", "9lives")
    a.send_line("NICK")
    a.expect_num("431")
    a.register("alice")
    a.send_line("NICK BOB")  # one namespace, one case mapping
    a.expect_num("433", "BOB")


def test_irc_and_text_users_talk_byte_for_byte(t):
    """A text user and an IRC user in #lobby see each other's lines, each
    in their own protocol, exactly."""
    srv = mixed_server(t)
    (bob,) = t.users(srv, "bob")
    a = irc_user(t, srv, "alice")
    a.send_line("JOIN #lobby")
    a.expect_cmd("JOIN", "#lobby", source="alice")
    names = a.expect_num("353", "=", "#lobby")
    # bob came first into the empty #lobby: he is its operator.
    check(sorted(names.params[-1].split()) == ["@bob", "alice"], "names: %r", names.line)
    a.expect_num("366", "#lobby")
    bob.expect("* alice joined #lobby")
    bob.say("hello alice")
    a.expect(":bob!~text@127.0.0.1 PRIVMSG #lobby :hello alice")
    a.send_line("PRIVMSG #lobby :hi bob")
    bob.expect("[alice]: hi bob")
    a.send_line("PRIVMSG #lobby :\x01ACTION waves\x01")
    bob.expect("[* alice] waves")
    bob.say("/me nods")
    a.expect(":bob!~text@127.0.0.1 PRIVMSG #lobby :\x01ACTION nods\x01")
    a.send_line("PRIVMSG bob :psst")
    bob.expect("[alice -> bob]: psst")
    bob.say("/msg alice back")
    bob.expect("[bob -> alice]: back")
    a.expect(":bob!~text@127.0.0.1 PRIVMSG alice :back")
    t.barrier(bob)
    a.barrier()


def test_formatting_codes_reach_irc_not_text(t):
    """Bold and colour survive IRC to IRC; a text user gets the words."""
    srv = mixed_server(t)
    (bob,) = t.users(srv, "bob")
    a, c = irc_user(t, srv, "alice"), irc_user(t, srv, "carol")
    for u in (a, c):
        u.send_line("JOIN #lobby")
        u.until_cmd("366")
    a.until_cmd("JOIN")  # carol's
    bob.read_until("* carol joined #lobby")
    a.send_line("PRIVMSG #lobby :\x02bold\x02 \x0304,01red\x03 plain")
    c.expect(":alice!~alice@127.0.0.1 PRIVMSG #lobby :\x02bold\x02 \x0304,01red\x03 plain")
    bob.expect("[alice]: bold red plain")


def test_text_user_cannot_break_irc_lines(t):
    """What a text user types reaches IRC as one well-formed line: a
    leading ':' or spaces stay inside the trailing parameter."""
    srv = mixed_server(t)
    (bob,) = t.users(srv, "bob")
    a = irc_user(t, srv, "alice")
    a.send_line("JOIN #lobby")
    a.until_cmd("366")
    bob.read_until("* alice joined #lobby")
    bob.say(":evil!x@y KICK #lobby alice :gone")
    m = a.msg()
    check(m.command == "PRIVMSG" and m.params == ["#lobby", ":evil!x@y KICK #lobby alice :gone"], "got %r", m.line)


def test_long_text_line_splits_for_irc(t):
    """A 3000-byte text line reaches IRC as several PRIVMSGs, each what an
    IRC client could send in one 512-byte line (the source apart), cut
    between UTF-8 characters, together the whole text."""
    srv = mixed_server(t)
    (bob,) = t.users(srv, "bob")
    a = irc_user(t, srv, "alice")
    a.send_line("JOIN #lobby")
    a.until_cmd("366")
    bob.read_until("* alice joined #lobby")
    text = ("héllo wörld " * 300)[:2999]
    bob.say(text)
    got = ""
    while len(got) < len(text):
        ln = a.line()
        m = IrcMsg(ln)
        body = ln.encode()[len(m.source) + 2 :]  # after ":source "
        # What a client may send: "PRIVMSG #lobby WORD" in 510 bytes; the
        # relayed line adds the source and the colon before the text.
        check(len(body) <= 511, "part of %d bytes after its source", len(body))
        check(m.command == "PRIVMSG", "got %r", ln)
        got += m.params[1]
    check(got == text.rstrip(), "text differs after the split")


def test_longest_irc_line_relayed_whole(t):
    """An IRC user's longest line reaches other IRC users whole, in one
    line, though the source makes it longer than 512 bytes (irctest's
    buffering tests; Ergo does the same)."""
    srv = mixed_server(t)
    a, b = irc_user(t, srv, "alice"), irc_user(t, srv, "bob")
    head = "PRIVMSG bob :"
    text = "a" * (510 - len(head) - 4) + "\U0001F603"
    a.send_line(head + text)
    b.expect(":alice!~alice@127.0.0.1 PRIVMSG bob :" + text)


def test_input_too_long_gets_417(t):
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice")
    a.send_line("PRIVMSG #lobby :" + "x" * 600)
    a.expect_num("417")
    a.send_line("@" + "a" * 9000 + " PING x")
    a.expect_num("417")
    a.barrier()


def test_quit_tells_text_users_and_closes(t):
    srv = mixed_server(t)
    (bob,) = t.users(srv, "bob")
    a = irc_user(t, srv, "alice")
    a.send_line("JOIN #lobby")
    a.until_cmd("366")
    bob.read_until("* alice joined #lobby")
    a.send_line("QUIT :see you")
    a.expect(re.compile(r"ERROR :Closing Link: alice\[127\.0\.0\.1\] \(Quit: see you\)"))
    a.expect_end()
    bob.expect("* alice quit (Quit: see you)")


def test_silent_client_is_pinged_then_dropped(t):
    srv = mixed_server(t, "--ping-interval", "1")
    a = irc_user(t, srv, "alice")
    a.expect("PING :%s" % SERVER_NAME, timeout=4)
    a.send_line("PONG :%s" % SERVER_NAME)
    a.expect("PING :%s" % SERVER_NAME, timeout=4)
    a.expect(re.compile(r"ERROR :Closing Link: alice\[127\.0\.0\.1\] \(Ping timeout\)"), timeout=5)
    a.expect_end()
    b = irc_client(t, srv)
    b.send_line("NICK slow")
    b.expect(re.compile(r"ERROR :Closing Link: slow\[127\.0\.0\.1\] \(Registration timed out\)"), timeout=5)


def test_user_with_empty_realname_gets_461(t):
    srv = mixed_server(t)
    a = irc_client(t, srv)
    a.send_line("NICK alice")
    a.send_line("USER alice 0 * :")
    a.expect(":%s 461 alice USER :Not enough parameters" % SERVER_NAME)
    a.send_line("USER alice 0 * :Alice")
    a.expect_num("001")


def test_names_of_several_channels_end_once(t):
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice")
    for ch in ("#one", "#two"):
        a.send_line("JOIN " + ch)
        a.until_cmd("366")
    a.send_line("NAMES #one,#two,#none")
    a.expect(":%s 353 alice = #one :@alice" % SERVER_NAME)
    a.expect(":%s 353 alice = #two :@alice" % SERVER_NAME)
    a.expect(":%s 366 alice #one,#two,#none :End of /NAMES list" % SERVER_NAME)


def test_lusers_counts_and_remembers_the_most(t):
    """LUSERS counts text and IRC users together, and 265/266 keep the
    most there have been at once after people leave."""
    srv = mixed_server(t)
    (bob,) = t.users(srv, "bob")
    a, c = irc_user(t, srv, "alice"), irc_user(t, srv, "carol")
    c.send_line("QUIT")
    c.drain_to_end()
    a.send_line("LUSERS")
    lines = {m.command: m for m in a.until_cmd("266")}
    check(lines["251"].params[-1] == "There are 2 users and 0 invisible on 1 servers", "251: %r", lines["251"].line)
    check(lines["265"].params[1:3] == ["2", "3"], "265: %r", lines["265"].line)


def test_invalid_utf8_is_repaired_and_warned(t):
    srv = mixed_server(t)
    (bob,) = t.users(srv, "bob")
    a, c = irc_user(t, srv, "alice"), irc_user(t, srv, "carol")
    a.send(b"PRIVMSG carol :caf\xe9!\r\n")
    a.expect(":%s WARN PRIVMSG INVALID_UTF8 :Invalid UTF-8 was replaced by U+FFFD" % SERVER_NAME)
    c.expect(":alice!~alice@127.0.0.1 PRIVMSG carol :caf\ufffd!")
    a.send(b"PRIVMSG bob :\xff\xfe\r\n")
    a.expect_cmd("WARN", "PRIVMSG", "INVALID_UTF8")
    bob.expect("[alice -> bob]: \ufffd\ufffd")


def test_line_limits_hold_as_sent_and_once_cleaned(t):
    """512 bytes (and 8191 of tags) is the limit of the line as sent: NUL
    or ESC bytes, or trailing spaces, that cleaning removes never make a
    longer line fit; and a line that replacing invalid UTF-8 makes longer
    than that gets 417 too (docs/irc.md, Limits)."""
    srv = mixed_server(t)
    a, c = irc_user(t, srv, "alice"), irc_user(t, srv, "carol")
    head = b"PRIVMSG carol :"
    a.send(head + b"\x00\x1b" * 20 + b"x" * (510 - len(head) - 30) + b"\r\n")  # 520 bytes sent
    a.expect_num("417")
    a.send(b"PING :x" + b" " * 600 + b"\r\n")
    a.expect_num("417")
    a.send(b"@+a=" + b"\x00" * 8200 + b" PING :tags\r\n")
    a.expect_num("417")
    a.send(head + b"\xff" * 100 + b"y" * 300 + b"\r\n")  # 415 bytes sent, 615 once repaired
    a.expect_num("417")
    # At the limit, as sent: 510 bytes, some of them removed.
    text = b"\x1b" * 5 + b"z" * (510 - len(head) - 5)
    a.send(head + text + b"\r\n")
    c.expect(":alice!~alice@127.0.0.1 PRIVMSG carol :" + "z" * (510 - len(head) - 5))
    a.barrier()


def test_channel_ctcp_is_not_shown_to_text_users(t):
    """A CTCP request to a channel (VERSION) reaches IRC members as sent;
    text members see nothing of it, live or in the join replay."""
    srv = mixed_server(t)
    (bob,) = t.users(srv, "bob")
    a, c = irc_user(t, srv, "alice"), irc_user(t, srv, "carol")
    for u in (a, c):
        u.send_line("JOIN #lobby")
        u.until_cmd("366")
    a.until_cmd("JOIN")
    bob.read_until("* carol joined #lobby")
    a.send_line("PRIVMSG #lobby :\x01VERSION\x01")
    c.expect(":alice!~alice@127.0.0.1 PRIVMSG #lobby :\x01VERSION\x01")
    a.send_line("PRIVMSG #lobby :after")
    bob.expect("[alice]: after")
    d = t.client(srv)
    d.welcome()  # reads through the replay
    check(any("[alice]: after" in ln for ln in d.received), "no replay: %r", d.received)
    check(not any("VERSION" in ln for ln in d.received), "replay shows the CTCP: %r", d.received)


def test_join_of_a_channel_one_is_in_says_nothing_at_chanlimit(t):
    srv = mixed_server(t, "--room-burst", "200", "--room-burst-per-ip", "200")
    a = irc_user(t, srv, "alice")
    a.send_line("JOIN " + ",".join("#c%d" % i for i in range(100)))
    for _ in range(100):
        a.until_cmd("366")
    a.send_line("JOIN #c5")
    a.send_line("JOIN #c100")
    a.expect(":%s 405 alice #c100 :You have joined too many channels" % SERVER_NAME)


def test_quit_without_reason(t):
    srv = mixed_server(t)
    (bob,) = t.users(srv, "bob")
    a = irc_user(t, srv, "alice")
    a.send_line("JOIN #lobby")
    a.until_cmd("366")
    bob.read_until("* alice joined #lobby")
    a.send_line("QUIT")
    a.expect(re.compile(r"ERROR :Closing Link: alice\[127\.0\.0\.1\] \(Quit\)"))
    bob.expect("* alice quit (Quit)")


def test_default_nick_forms_free_unless_someone_here_was_given_them(t):
    """user<N> (the text protocol's default nicks) may be an IRC nick
    unless it is held, belongs to a text user still here (renamed or not),
    or has not been handed out yet (irctest names its users user2 ...)."""
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice")  # connection 1: chose its own nick
    b = irc_user(t, srv, "user1")  # so user1 was nobody's default
    (carol,) = t.users(srv, "carol")  # connection 3: was user3
    c = irc_client(t, srv)
    c.send_line("USER x 0 * :x")
    c.send_line("NICK user3")
    c.expect_num("432", "user3")
    c.send_line("NICK user99")  # not handed out yet
    c.expect_num("432", "user99")
    c.send_line("NICK user2")  # connection 2 chose "user1": user2 is free
    c.expect_num("001")
    a.barrier()
    b.barrier()
