"""Server operators (docs/irc.md, Server operators; docs/protocol.md,
/oper and /kill): accounts from --oper NAME:HASH with the hash that
parleyd --hash-password prints, OPER and /oper, KILL and /kill, WALLOPS,
user mode o, operators in WHO, WHOIS, USERHOST and LUSERS, and the pacing
of password guesses."""
import subprocess
import time

from harness import check
from irc import SERVER_NAME, IrcMsg, irc_user, mixed_server

PASSWORD = "hunter2 with spaces"
# How long a test waits for the answer to an OPER: an Argon2id check takes
# tens of milliseconds alone, but seconds on a machine where other tests
# run theirs at the same time, and it may come 2 s after a failed one.
CHECK_WAIT = 15
_hash = {}


def oper_hash(t, password=PASSWORD):
    """The hash parleyd --hash-password prints for password (made once)."""
    if password not in _hash:
        p = subprocess.run([t.parleyd, "--hash-password"], input=(password + "\n").encode(), capture_output=True, timeout=10)
        check(p.returncode == 0, "--hash-password exited %s: %r", p.returncode, p.stderr)
        _hash[password] = p.stdout.decode().strip()
    return _hash[password]


def oper_server(t, *flags, **kw):
    """A text and IRC server with the account boss (PASSWORD)."""
    return mixed_server(t, "--oper", "boss:" + oper_hash(t), *flags, **kw)


def num(nick, code, rest):
    """The exact line of numeric code sent to nick."""
    return ":%s %s %s %s" % (SERVER_NAME, code, nick, rest)


def irc_oper(c):
    """OPER as boss; requires 381 and MODE +o."""
    c.send_line("OPER boss :" + PASSWORD)
    c.expect(num(c.nick, "381", ":You are now an IRC operator"), timeout=CHECK_WAIT)
    c.expect(":%s!~%s@127.0.0.1 MODE %s +o" % (c.nick, c.nick, c.nick))


def test_hash_password_prints_one_hash(t):
    h = oper_hash(t)
    check(h.startswith("$argon2id$") and "\n" not in h, "not one crypto_pwhash_str line: %r", h)
    check(oper_hash(t, "other") != h, "two passwords, one hash")
    p = subprocess.run([t.parleyd, "--hash-password"], input=b"", capture_output=True, timeout=10)
    check(p.returncode == 2 and b"--hash-password" in p.stderr, "no password: exit %s %r", p.returncode, p.stderr)


def test_bad_oper_flags_rejected(t):
    h = oper_hash(t)
    for spec in ["boss", "boss:", ":" + h, "bo ss:" + h, "boss:plaintext", "x" * 33 + ":" + h]:
        p = subprocess.run([t.parleyd, "--listen", "text://127.0.0.1:0", "--oper", spec], capture_output=True, timeout=5)
        check(p.returncode == 2 and b"--oper" in p.stderr, "--oper %r: exit %s %r", spec, p.returncode, p.stderr)
    twice = ["--oper", "boss:" + h, "--oper", "boss:" + h]
    p = subprocess.run([t.parleyd, "--listen", "text://127.0.0.1:0", *twice], capture_output=True, timeout=5)
    check(p.returncode == 2 and b"twice" in p.stderr, "a name given twice: %s %r", p.returncode, p.stderr)
    many = []
    for i in range(17):
        many += ["--oper", "op%d:%s" % (i, h)]
    p = subprocess.run([t.parleyd, "--listen", "text://127.0.0.1:0", *many], capture_output=True, timeout=5)
    check(p.returncode == 2 and b"at most 16" in p.stderr, "17 accounts: %s %r", p.returncode, p.stderr)


def test_irc_oper_replies(t):
    srv = oper_server(t)
    a = irc_user(t, srv, "alice")
    a.send_line("OPER")
    a.expect(num("alice", "461", "OPER :Not enough parameters"))
    a.send_line("OPER boss")
    a.expect(num("alice", "461", "OPER :Not enough parameters"))
    a.send_line("OPER boss wrong")
    a.expect(num("alice", "464", ":Password incorrect"), timeout=CHECK_WAIT)
    a.send_line("OPER nobody :" + PASSWORD)  # an unknown name: the same reply
    a.expect(num("alice", "464", ":Password incorrect"), timeout=CHECK_WAIT)
    srv.wait_event("oper-failed", nick="alice", name="nobody")
    a.send_line("MODE alice")
    a.expect(num("alice", "221", "+"))
    irc_oper(a)
    srv.wait_event("oper", nick="alice", account="boss")
    a.send_line("MODE alice")
    a.expect(num("alice", "221", "+o"))
    a.send_line("MODE alice +w")
    a.expect(":alice!~alice@127.0.0.1 MODE alice +w")
    a.send_line("MODE alice")
    a.expect(num("alice", "221", "+ow"))


def test_irc_mode_minus_o_drops_it_and_plus_o_is_ignored(t):
    srv = oper_server(t)
    a = irc_user(t, srv, "alice")
    a.send_line("MODE alice +o")  # not an operator: nothing happens
    a.barrier()
    irc_oper(a)
    a.send_line("MODE alice -o")
    a.expect(":alice!~alice@127.0.0.1 MODE alice -o")
    a.send_line("MODE alice")
    a.expect(num("alice", "221", "+"))
    a.send_line("MODE alice +o")
    a.barrier()
    a.send_line("KILL alice")
    a.expect(num("alice", "481", ":Permission Denied- You're not an IRC operator"))


def test_irc_operators_shown_in_who_whois_userhost_lusers(t):
    srv = oper_server(t)
    a = irc_user(t, srv, "alice")
    b = irc_user(t, srv, "bob")
    b.send_line("LUSERS")
    lines = b.until_cmd("266")
    check(any(m.line == num("bob", "252", "0 :operator(s) online") for m in lines), "252 before: %s", lines)
    irc_oper(a)
    b.send_line("WHO alice")
    b.expect(num("bob", "352", "* ~alice 127.0.0.1 %s alice H* :0 Real Name" % SERVER_NAME))
    b.expect(num("bob", "315", "alice :End of WHO list"))
    b.send_line("WHO * o")  # only operators
    b.expect(num("bob", "352", "* ~alice 127.0.0.1 %s alice H* :0 Real Name" % SERVER_NAME))
    b.expect(num("bob", "315", "* :End of WHO list"))
    b.send_line("WHOIS alice")
    lines = b.until_cmd("318")
    check(num("bob", "313", "alice :is an IRC operator") in [m.line for m in lines], "no 313: %s", lines)
    b.send_line("WHOIS bob")
    lines = b.until_cmd("318")
    check(not any(m.command == "313" for m in lines), "313 for a non-operator: %s", lines)
    b.send_line("USERHOST alice bob")
    b.expect(num("bob", "302", ":alice*=+~alice@127.0.0.1 bob=+~bob@127.0.0.1"))
    b.send_line("LUSERS")
    lines = b.until_cmd("266")
    check(any(m.line == num("bob", "252", "1 :operator(s) online") for m in lines), "252 after: %s", lines)
    a.send_line("QUIT")
    a.expect("ERROR :Closing Link: alice[127.0.0.1] (Quit)")
    a.expect_end()
    b.send_line("LUSERS")
    lines = b.until_cmd("266")
    check(any(m.line == num("bob", "252", "0 :operator(s) online") for m in lines), "252 after the quit: %s", lines)


def test_irc_kill(t):
    srv = oper_server(t)
    a = irc_user(t, srv, "alice")
    b = irc_user(t, srv, "bob")
    c = irc_user(t, srv, "carol")
    (x,) = t.users(srv, "xavier")
    for u in (b, c):
        u.send_line("JOIN #lobby")
        u.until_cmd("366")
    x.expect("* bob joined #lobby")
    x.expect("* carol joined #lobby")
    b.until_cmd("JOIN")  # carol's
    b.send_line("KILL carol :nope")
    b.expect(num("bob", "481", ":Permission Denied- You're not an IRC operator"))
    a.send_line("KILL")
    a.expect(num("alice", "461", "KILL :Not enough parameters"))
    irc_oper(a)
    a.send_line("KILL nosuch :why")
    a.expect(num("alice", "401", "nosuch :No such nick/channel"))
    a.send_line("KILL bob :spamming the lobby")
    b.expect("ERROR :Closing Link: bob[127.0.0.1] (Killed (alice (spamming the lobby)))")
    b.expect_end()
    c.expect(":bob!~bob@127.0.0.1 QUIT :Killed (alice (spamming the lobby))")
    x.expect("* bob quit (Killed (alice (spamming the lobby)))")
    srv.wait_event("kill", oper="alice", account="boss", victim="bob")
    srv.wait_event("disconnect", reason="killed")
    a.send_line("KILL carol")  # no reason
    c.expect("ERROR :Closing Link: carol[127.0.0.1] (Killed (alice (No reason given)))")
    c.expect_end()
    x.expect("* carol quit (Killed (alice (No reason given)))")
    a.barrier()  # alice was told nothing more


def test_irc_oper_kills_text_user(t):
    srv = oper_server(t)
    a = irc_user(t, srv, "alice")
    x, y = t.users(srv, "xavier", "yolanda")
    irc_oper(a)
    a.send_line("KILL xavier :\x02bold\x02 move")
    x.expect("! killed by alice (bold move)")
    x.expect_end()
    y.expect("* xavier quit (Killed (alice (bold move)))")


def test_text_oper_and_kill(t):
    srv = oper_server(t)
    b = irc_user(t, srv, "bob")
    x, y, z = t.users(srv, "xavier", "yolanda", "zed")
    x.say("/oper")
    x.expect("! usage: /oper NAME PASSWORD")
    x.say("/kill")
    x.expect("! usage: /kill NICK [REASON]")
    x.say("/kill yolanda")
    x.expect("! only server operators may /kill")
    x.say("/oper boss wrong")
    x.expect("! wrong operator name or password", timeout=CHECK_WAIT)
    x.say("/oper boss " + PASSWORD)
    x.expect("* you are now a server operator (boss)", timeout=CHECK_WAIT)
    x.say("/kill nosuch")
    x.expect("! no such nick: nosuch")
    x.say("/kill yolanda go away now")
    y.expect("! killed by xavier (go away now)")
    y.expect_end()
    x.expect("* yolanda quit (Killed (xavier (go away now)))")
    x.expect("* killed yolanda")
    z.expect("* yolanda quit (Killed (xavier (go away now)))")
    b.send_line("WHOIS xavier")
    lines = b.until_cmd("318")
    check(num("bob", "313", "xavier :is an IRC operator") in [m.line for m in lines], "a text operator in WHOIS: %s", lines)
    x.say("/kill bob")
    b.expect("ERROR :Closing Link: bob[127.0.0.1] (Killed (xavier (No reason given)))")
    b.expect_end()
    x.expect("* killed bob")
    x.say("/kill xavier bye")  # oneself
    x.expect("! killed by xavier (bye)")
    x.expect_end()
    z.expect("* xavier quit (Killed (xavier (bye)))")


def test_wallops(t):
    srv = oper_server(t)
    a = irc_user(t, srv, "alice")
    b = irc_user(t, srv, "bob")
    w = irc_user(t, srv, "wendy")
    w.send_line("MODE wendy +w")
    w.expect(":wendy!~wendy@127.0.0.1 MODE wendy +w")
    b.send_line("WALLOPS :hello")
    b.expect(num("bob", "481", ":Permission Denied- You're not an IRC operator"))
    b.send_line("WALLOPS")
    b.expect(num("bob", "461", "WALLOPS :Not enough parameters"))
    irc_oper(a)
    a.send_line("WALLOPS :the server restarts at noon")
    line = ":alice!~alice@127.0.0.1 WALLOPS :the server restarts at noon"
    a.expect(line)
    w.expect(line)
    t.barrier(a, b, w)  # bob, neither operator nor +w, got nothing
    w.send_line("MODE wendy -w")
    w.expect(":wendy!~wendy@127.0.0.1 MODE wendy -w")
    a.send_line("WALLOPS :again")
    a.expect(":alice!~alice@127.0.0.1 WALLOPS :again")
    t.barrier(a, w)


def test_oper_guesses_are_paced_and_cost_the_guesser(t):
    """Twenty wrong OPERs in one packet are checked one per 2 s: the
    guesser waits, everyone else is served at once meanwhile."""
    srv = oper_server(t)
    g = irc_user(t, srv, "guesser")
    o = irc_user(t, srv, "other")
    (x,) = t.users(srv, "xavier")
    start = time.monotonic()
    g.send("".join("OPER boss guess%d\r\n" % i for i in range(20)))
    g.expect(num("guesser", "464", ":Password incorrect"), timeout=CHECK_WAIT)
    worst = 0.0
    while time.monotonic() - start < 5.0:
        t0 = time.monotonic()
        o.barrier()
        x.barrier()
        worst = max(worst, time.monotonic() - t0)
    check(worst < 0.5, "others waited %.2fs for an answer during the guesses", worst)
    # One guess per 2 s plus its check's time: at most 4 in 5 s. (Fewer on
    # a loaded machine, where a check can take seconds; that the guesser
    # is still served is checked next.)
    tried = len(srv.events("oper-failed", nick="guesser"))
    check(tried <= 4, "%d guesses checked in about 5 s (one per 2 s expected)", tried)
    g.send_line("PING :after")  # queued behind the guesses still waiting
    g.read_until(lambda ln: ln.endswith(" :Password incorrect"), timeout=CHECK_WAIT)
    check(len(srv.events("oper-failed", nick="guesser")) <= 6, "guesses not paced")


def test_oper_success_does_not_stall_with_flood_limits(t):
    """With the default flood limits, an honest OPER costs 2 s of budget,
    not its check's time a thousand times over: the next line is answered
    at once."""
    srv = oper_server(t, "--flood-rate", "10")
    a = irc_user(t, srv, "alice")
    irc_oper(a)
    t0 = time.monotonic()
    a.barrier(timeout=3)
    check(time.monotonic() - t0 < 1.5, "the line after OPER waited %.2fs", time.monotonic() - t0)


BUSY = ":too many operator logins in progress, try again"


def oper_crowd(t, srv, n, first=0, net=10):
    """n registered IRC users (guessFIRST, ...), four from each address
    127.0.0.NET, NET+1 ..., so that no address reaches the checker's bound
    per origin (OPER_ORIGIN_MAX, 4)."""
    return [irc_user(t, srv, "guess%d" % i, source="127.0.0.%d" % (net + i // 4)) for i in range(first, first + n)]


def worst_wait_while(clients, busy, start):
    """Runs barriers of clients until busy() is false; returns the longest
    round-trip seen (at least one round is run) and the time from start
    until then."""
    worst = 0.0
    while True:
        t0 = time.monotonic()
        for c in clients:
            c.barrier()
        worst = max(worst, time.monotonic() - t0)
        if not busy():
            return worst, time.monotonic() - start


def test_oper_checks_do_not_stall_others(t):
    """Twenty wrong OPERs from twenty connections at once: their checks run
    off the loop, so uninvolved users' round-trips stay short while they
    are under way. On the loop, a round-trip waited for all of them (4.4 s
    of 4.4 s here): the bound is a third of the checks' time, so that a
    slow or loaded machine does not change the verdict."""
    srv = oper_server(t, "--max-per-ip", "100")
    crowd = oper_crowd(t, srv, 20)
    o = irc_user(t, srv, "other")
    (x,) = t.users(srv, "xavier")
    start = time.monotonic()
    for g in crowd:
        g.send_line("OPER boss wrong")

    def busy():
        return len(srv.events("oper-failed")) < len(crowd)

    worst, took = worst_wait_while([o, x], busy, start)
    answered = [g.expect_num("464", timeout=CHECK_WAIT).params[-1] for g in crowd]
    check(worst < took / 3, "others waited %.3fs while the checks took %.3fs", worst, took)
    check(answered.count("Password incorrect") >= 1, "no check was answered: %s", answered)


# Twenty Argon2id checks one after another: about 5 s here, more on a
# loaded machine; the deadline leaves room for three times that.
test_oper_checks_do_not_stall_others.timeout = 60


def test_oper_then_more_lines_in_one_packet_keep_their_order(t):
    """OPER and the lines after it in the same packet: the answer to OPER
    comes first, then theirs (the connection's input waits for the check)."""
    srv = oper_server(t)
    a = irc_user(t, srv, "alice")
    v = irc_user(t, srv, "victim")
    a.send("OPER boss wrong\r\nPING :one\r\nOPER boss :%s\r\nKILL victim :bye\r\nPING :two\r\n" % PASSWORD)
    a.expect(num("alice", "464", ":Password incorrect"), timeout=CHECK_WAIT)
    a.expect(":%s PONG %s :one" % (SERVER_NAME, SERVER_NAME))
    a.expect(num("alice", "381", ":You are now an IRC operator"), timeout=CHECK_WAIT)
    a.expect(":alice!~alice@127.0.0.1 MODE alice +o")
    a.expect(":%s PONG %s :two" % (SERVER_NAME, SERVER_NAME))
    v.read_until(lambda ln: ln.startswith("ERROR :Closing Link: victim"))
    (x,) = t.users(srv, "xavier")
    x.send("/oper boss wrong\n/oper boss %s\n/kill alice\n" % PASSWORD)
    x.expect("! wrong operator name or password", timeout=CHECK_WAIT)
    x.expect("* you are now a server operator (boss)", timeout=CHECK_WAIT)
    x.expect("* killed alice")


def test_oper_queue_is_bounded(t):
    """More simultaneous attempts than the checker's queue holds (16): the
    rest are refused at once with "try again", logged, and paced as
    failures; those queued are answered as usual."""
    srv = oper_server(t, "--max-per-ip", "100")
    crowd = oper_crowd(t, srv, 30)
    sent = time.monotonic()
    for g in crowd:
        g.send_line("OPER boss wrong")
    replies = [g.expect_num("464", timeout=CHECK_WAIT).params[-1] for g in crowd]
    refused = replies.count(BUSY[1:])
    check(refused >= 1, "no attempt refused with a full queue: %s", replies)
    check(refused + replies.count("Password incorrect") == len(crowd), "other replies: %s", replies)
    srv.wait_log(r"event=oper-failed .*reason=busy", count=refused)  # the log may lag the replies
    check(len(srv.events("oper-failed", reason="busy")) == refused, "refusals not logged as busy")
    crowd[replies.index(BUSY[1:])].barrier()
    check(time.monotonic() - sent >= 1.9, "a refused attempt was not paced as a failure")


test_oper_queue_is_bounded.timeout = 60  # sixteen checks in a row, as above


def test_oper_client_gone_during_its_check(t):
    """Clients that send OPER and leave while it waits or runs: nothing is
    answered or logged for them but their disconnect, and an OPER asked
    right after them works."""
    srv = oper_server(t, "--max-per-ip", "100")
    crowd = oper_crowd(t, srv, 8)
    o = irc_user(t, srv, "other")
    for g in crowd:
        g.send_line("OPER boss :" + PASSWORD)
        g.reset()
    o.send_line("OPER boss :" + PASSWORD)
    o.expect(num("other", "381", ":You are now an IRC operator"), timeout=CHECK_WAIT)
    o.expect(":other!~other@127.0.0.1 MODE other +o")
    # The log comes through a pipe of its own: it may lag the reply.
    srv.wait_event("oper", nick="other")
    for i in range(len(crowd)):
        srv.wait_event("disconnect", nick="guess%d" % i)
    o.barrier()
    check([e["nick"] for e in srv.events("oper")] == ["other"], "operators that left: %s", srv.events("oper"))
    check(srv.events("oper-failed") == [], "checks of clients gone logged as failures")
    check(not [ln for ln in srv.log_text().splitlines() if "level=error" in ln], "errors logged")


def test_one_address_cannot_fill_the_oper_queue(t):
    """Twelve wrong OPERs at once from one address: at most four of them
    (OPER_ORIGIN_MAX) wait or run at once, the others are refused at once
    with "try again"; meanwhile an operator from another address is
    checked and let in. Without the bound per origin all twelve fit in the
    queue (16) and none is refused."""
    srv = oper_server(t, "--max-per-ip", "100")
    crowd = [irc_user(t, srv, "guess%d" % i) for i in range(12)]
    boss = irc_user(t, srv, "boss", source="127.0.0.2")
    for g in crowd:
        g.send_line("OPER boss wrong")
    boss.send_line("OPER boss :" + PASSWORD)
    replies = [g.expect_num("464", timeout=CHECK_WAIT).params[-1] for g in crowd]
    boss.expect(num("boss", "381", ":You are now an IRC operator"), timeout=CHECK_WAIT)
    refused = replies.count(BUSY[1:])
    check(refused >= 1, "none of twelve at once from one address refused: %s", replies)
    check(refused + replies.count("Password incorrect") == len(crowd), "other replies: %s", replies)
    srv.wait_log(r"event=oper-failed .*reason=busy", count=refused)  # the log may lag the replies
    check(len(srv.events("oper-failed", reason="busy")) == refused, "refusals not logged as busy")


test_one_address_cannot_fill_the_oper_queue.timeout = 60


def test_oper_checks_of_clients_gone_free_their_places(t):
    """Sixteen clients fill the checker's queue with OPERs and leave: the
    checks that had not started are dropped, so eight honest attempts made
    right after are all checked, none told "try again". Without dropping,
    the leavers' checks would still hold the queue for seconds."""
    srv = oper_server(t, "--max-per-ip", "100")
    leavers = oper_crowd(t, srv, 16)
    honest = oper_crowd(t, srv, 8, first=16, net=20)
    for g in leavers:
        g.send_line("OPER boss wrong")
    for g in leavers:
        g.reset()
    for i in range(len(leavers)):
        srv.wait_event("disconnect", nick="guess%d" % i)
    for g in honest:
        g.send_line("OPER boss wrong")
    replies = [g.expect_num("464", timeout=CHECK_WAIT).params[-1] for g in honest]
    check(replies == ["Password incorrect"] * len(honest), "honest attempts after the leavers: %s", replies)
    check(srv.events("oper-failed", reason="busy") == [], "refused as busy: %s", srv.events("oper-failed", reason="busy"))


test_oper_checks_of_clients_gone_free_their_places.timeout = 60


def test_oper_answered_after_half_close(t):
    """A client that sends OPER and then its FIN (with or without a line
    end after it) gets the answer before the server closes."""
    srv = oper_server(t)
    for i, end in enumerate(["\r\n", ""]):
        g = irc_user(t, srv, "half%d" % i)
        g.send("OPER boss wrong" + end)
        g.shut_wr()
        g.expect(num("half%d" % i, "464", ":Password incorrect"), timeout=CHECK_WAIT)
        g.drain_to_end()
        srv.wait_event("disconnect", nick="half%d" % i)
