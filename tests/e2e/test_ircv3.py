"""IRCv3: capability negotiation, message-tags (msgid, time, client-only
tags, TAGMSG), server-time, echo-message, batch, labeled-response,
standard replies and draft/chathistory, against IRC and text users
(docs/irc.md, IRCv3)."""
import calendar
import re
import time

from harness import check
from irc import SERVER_NAME, IrcMsg, irc_client, irc_user, mixed_server

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def join(c, chan):
    """JOINs chan and reads through the end of NAMES."""
    c.send_line("JOIN " + chan)
    c.until_cmd("366")


def joins(c, n):
    """Reads the JOINs of n others."""
    for _ in range(n):
        c.until_cmd("JOIN")


def users_in(t, srv, chan, *specs):
    """IRC users (nick, caps) in chan, joined in order, every JOIN read."""
    users = []
    for nick, caps in specs:
        c = irc_user(t, srv, nick, caps=caps)
        join(c, chan)
        for earlier in users:
            earlier.until_cmd("JOIN")
        users.append(c)
    return users


def four_in(t, srv, chan, caps):
    """alice (with caps), tags (message-tags), st (server-time) and plain
    (no caps), in chan."""
    return users_in(t, srv, chan, ("alice", caps), ("tags", ("message-tags",)), ("st", ("server-time",)), ("plain", ()))


def read_batch(c, type_=None):
    """Reads one batch: BATCH +REF TYPE ..., the lines tagged batch=REF,
    BATCH -REF. Returns (start, inner)."""
    start = c.expect_cmd("BATCH")
    check(start.params[0].startswith("+"), "not a batch start: %r", start.line)
    ref = start.params[0][1:]
    check(re.match(r"^[A-Za-z0-9-]+$", ref), "batch reference %r", ref)
    if type_ is not None:
        check(start.params[1] == type_, "batch type: %r", start.line)
    inner = []
    while True:
        m = c.msg()
        if m.command == "BATCH":
            check(m.params == ["-" + ref] and "batch" not in m.tags, "batch end: %r", m.line)
            return start, inner
        check(m.tags.get("batch") == ref, "line outside batch %s: %r", ref, m.line)
        inner.append(m)


# --------------------------------------------------------------------------
# CAP
# --------------------------------------------------------------------------

# Every capability parleyd offers; each is implemented and tested here or
# in test_irc.py. Nothing else may be advertised.
CAPS = {
    "away-notify",
    "batch",
    "cap-notify",
    "draft/chathistory",
    "draft/metadata-2",
    "draft/metadata-3",
    "draft/read-marker",
    "echo-message",
    "extended-join",
    "extended-monitor",
    "invite-notify",
    "labeled-response",
    "message-tags",
    "multi-prefix",
    "server-time",
    "setname",
    "standard-replies",
    "userhost-in-names",
}



def test_cap_ls_offers_exactly_what_is_implemented(t):
    """CAP LS 302 and plain CAP LS list the same caps, on one line (short
    enough): exactly the implemented set, standard-replies included; only
    the metadata drafts have a value, and only in 302; ISUPPORT states
    CHATHISTORY=100 and both MSGREFTYPES."""
    srv = mixed_server(t)
    a = irc_client(t, srv)
    a.send_line("CAP LS 302")
    m = a.expect_cmd("CAP", "*", "LS")
    check(len(m.params) == 3, "302 list on one line without '*': %r", m.line)
    names = [c.split("=", 1)[0] for c in m.params[2].split()]
    check(set(names) == CAPS, "offered %s", sorted(names))
    valued = {c.split("=", 1)[0] for c in m.params[2].split() if "=" in c}
    check(valued == {"draft/metadata-2", "draft/metadata-3"}, "caps with a value: %r", m.line)
    b = irc_client(t, srv)  # 302 sticks to a connection
    b.send_line("CAP LS")
    m = b.expect_cmd("CAP", "*", "LS")
    check(set(m.params[2].split()) == CAPS, "offered %s", sorted(m.params[2].split()))
    a.send_line("CAP END")
    msgs = a.register("alice")
    tokens = set()
    for m in msgs:
        if m.command == "005":
            tokens.update(m.params[1:-1])
    check({"CHATHISTORY=100", "MSGREFTYPES=msgid,timestamp"} <= tokens, "ISUPPORT: %s", sorted(tokens))


def test_cap_req_ack_nak_list(t):
    """REQ is all or nothing and case-sensitive; '-' disables; LIST shows
    what is on; a CAP version from 302 up implies cap-notify, which then
    cannot be turned off."""
    srv = mixed_server(t)
    a = irc_client(t, srv)
    a.send_line("CAP LS 303")
    a.expect_cmd("CAP", "*", "LS")
    a.send_line("CAP REQ :multi-prefix server-time")
    a.expect(":%s CAP * ACK :multi-prefix server-time" % SERVER_NAME)
    a.send_line("CAP REQ :echo-message bogus")
    a.expect(":%s CAP * NAK :echo-message bogus" % SERVER_NAME)
    a.send_line("CAP REQ :MULTI-PREFIX")
    a.expect(":%s CAP * NAK :MULTI-PREFIX" % SERVER_NAME)
    a.send_line("CAP REQ :-cap-notify")
    a.expect(":%s CAP * NAK :-cap-notify" % SERVER_NAME)
    a.send_line("CAP LIST")
    m = a.expect_cmd("CAP", "*", "LIST")
    check(set(m.params[2].split()) == {"cap-notify", "multi-prefix", "server-time"}, "LIST: %r", m.line)
    a.send_line("CAP REQ :-server-time")
    a.expect(":%s CAP * ACK :-server-time" % SERVER_NAME)
    a.send_line("CAP FOO")
    a.expect(":%s 410 * FOO :Invalid CAP command" % SERVER_NAME)
    a.send_line("CAP END")
    a.register("alice")  # CAP END let registration through
    a.send_line("CAP LIST")
    a.expect(":%s CAP alice LIST :cap-notify multi-prefix" % SERVER_NAME)
    b = irc_client(t, srv)
    b.send_line("CAP LS")  # no version: cap-notify is not implied
    b.expect_cmd("CAP", "*", "LS")
    b.send_line("CAP LIST")
    b.expect(":%s CAP * LIST :" % SERVER_NAME)


def test_cap_negotiation_holds_registration(t):
    """After CAP LS, NICK and USER do not register until CAP END."""
    srv = mixed_server(t)
    a = irc_client(t, srv)
    a.send_line("CAP LS 302")
    a.send_line("NICK alice")
    a.send_line("USER alice 0 * :A")
    a.expect_cmd("CAP", "*", "LS")
    a.send_line("PING held")
    a.expect(":%s PONG %s :held" % (SERVER_NAME, SERVER_NAME))
    a.send_line("CAP END")
    a.expect_num("001")


# --------------------------------------------------------------------------
# Tags: server-time, msgid, client-only tags, TAGMSG
# --------------------------------------------------------------------------


def test_server_time_and_msgid_by_capability(t):
    """message-tags gets time and msgid, server-time only time, no cap no
    tags; time is UTC with milliseconds, now."""
    srv = mixed_server(t)
    a, tags, st, plain = four_in(t, srv, "#dev", ())
    before = time.time()
    a.send_line("PRIVMSG #dev :hi")
    m = tags.expect_cmd("PRIVMSG", "#dev", "hi")
    check(set(m.tags) == {"time", "msgid"} and TIME.match(m.tags["time"]), "tags: %r", m.line)
    when = calendar.timegm(time.strptime(m.tags["time"][:19], "%Y-%m-%dT%H:%M:%S"))
    check(abs(when - before) < 5, "time %s is not now", m.tags["time"])
    m = st.expect_cmd("PRIVMSG", "#dev", "hi")
    check(set(m.tags) == {"time"} and TIME.match(m.tags["time"]), "server-time only: %r", m.line)
    plain.expect(":alice!~alice@127.0.0.1 PRIVMSG #dev :hi")


def test_msgids_unique_per_line_and_per_part(t):
    """Every message gets its own msgid; a text line too long for one IRC
    line is split, each part with a msgid of its own."""
    srv = mixed_server(t)
    (bob,) = t.users(srv, "bob")
    a = irc_user(t, srv, "alice", caps=("message-tags",))
    join(a, "#lobby")
    bob.read_until("* alice joined #lobby")
    bob.say("one")
    bob.say("two")
    bob.say("x" * 1500)
    ids = [a.expect_cmd("PRIVMSG").tags["msgid"] for _ in range(2)]
    parts = []
    got = ""
    while len(got) < 1500:
        m = a.expect_cmd("PRIVMSG", "#lobby")
        parts.append(m.tags["msgid"])
        got += m.params[1]
    check(len(parts) >= 3, "1500 bytes in %d parts", len(parts))
    check(len(set(ids + parts)) == len(ids) + len(parts), "msgids repeat: %s %s", ids, parts)
    check(all(p.startswith(parts[0]) for p in parts[1:]), "parts of one line: %s", parts)
    a.barrier()


def test_client_tags_reach_message_tags_users_only(t):
    """Client-only tags ride on PRIVMSG and NOTICE, escaped as sent, to
    those who took message-tags; other tags are dropped; others get the
    message without them; text users get the text."""
    srv = mixed_server(t)
    (bob,) = t.users(srv, "bob")
    a, tags, st, plain = four_in(t, srv, "#lobby", ("message-tags",))
    bob.read_until("* plain joined #lobby")
    a.send_line(r"@+draft/react=l\sol;fizz=buzz;+typing=active PRIVMSG #lobby :hi")
    m = tags.expect_cmd("PRIVMSG", "#lobby", "hi")
    check(m.line.startswith("@time=") and m.line.endswith(r";+draft/react=l\sol;+typing=active :alice!~alice@127.0.0.1 PRIVMSG #lobby :hi"), "relay: %r", m.line)
    check("fizz" not in m.tags and m.tags["+draft/react"] == "l ol", "tags: %r", m.tags)
    m = st.expect_cmd("PRIVMSG", "#lobby", "hi")
    check(set(m.tags) == {"time"}, "server-time only: %r", m.line)
    plain.expect(":alice!~alice@127.0.0.1 PRIVMSG #lobby :hi")
    bob.expect("[alice]: hi")
    a.send_line("@+x=1 NOTICE tags :psst")
    m = tags.expect_cmd("NOTICE", "tags", "psst")
    check(m.tags.get("+x") == "1", "notice tags: %r", m.line)
    a.send_line("@+x=1 PRIVMSG plain :psst")
    plain.expect(":alice!~alice@127.0.0.1 PRIVMSG plain :psst")
    t.barrier(bob)
    for c in (a, tags, st, plain):
        c.barrier()


def test_tagmsg_to_channel_and_nick(t):
    """TAGMSG goes to channel members and to nicks that took message-tags,
    never to others or to text users; its errors are PRIVMSG's."""
    srv = mixed_server(t)
    (bob,) = t.users(srv, "bob")
    a = irc_user(t, srv, "alice", caps=("message-tags",))
    tags = irc_user(t, srv, "tags", caps=("message-tags",))
    plain = irc_user(t, srv, "plain", caps=("server-time",))
    for c in (a, tags, plain):
        join(c, "#lobby")
    joins(a, 2)
    joins(tags, 1)
    bob.read_until("* plain joined #lobby")
    a.send_line("@+typing=active;label=nope TAGMSG #lobby")
    m = tags.expect_cmd("TAGMSG", "#lobby", source="alice")
    check(set(m.tags) == {"time", "msgid", "+typing"} and m.tags["+typing"] == "active", "TAGMSG: %r", m.line)
    a.send_line("@+typing=paused TAGMSG tags")
    m = tags.expect_cmd("TAGMSG", "tags", source="alice")
    check(m.tags["+typing"] == "paused", "TAGMSG to nick: %r", m.line)
    a.send_line("@+typing=paused TAGMSG plain")
    a.send_line("@+typing=paused TAGMSG bob")
    a.send_line("TAGMSG #nowhere")
    a.expect_num("403", "#nowhere")
    a.send_line("TAGMSG nobody")
    a.expect_num("401", "nobody")
    a.send_line("TAGMSG")
    a.expect_num("411")
    t.barrier(bob)
    for c in (a, tags, plain):
        c.barrier()
    tags.send_line("PART #lobby")
    tags.expect_cmd("PART")
    tags.send_line("TAGMSG #lobby")
    tags.expect_num("404", "#lobby")


def test_client_tag_data_over_4094_bytes_gets_417(t):
    """4094 bytes of tag data pass intact; one more is refused with 417
    and nothing is relayed."""
    srv = mixed_server(t)
    a, b = users_in(t, srv, "#dev", ("alice", ("message-tags", "echo-message")), ("bob", ("message-tags",)))
    big = "a" * 4081
    line = "@foo=bar;+baz=%s TAGMSG #dev" % big
    check(line.index("TAGMSG") == 4096, "setup")
    a.send_line(line)
    echo, relay = a.expect_cmd("TAGMSG", "#dev"), b.expect_cmd("TAGMSG", "#dev")
    for m in (echo, relay):
        check(m.tags.get("+baz") == big and "foo" not in m.tags, "tags cut: %r", m.line[:80])
    check(echo.tags["msgid"] == relay.tags["msgid"], "echo and relay differ")
    a.send_line("@foo=bar;+baz=%s TAGMSG #dev" % (big + "a"))
    a.expect_num("417")
    a.send_line("@+baz=%s PRIVMSG #dev :hi" % ("a" * 4090))
    a.expect_num("417")
    b.barrier()
    a.barrier()


# --------------------------------------------------------------------------
# echo-message
# --------------------------------------------------------------------------


def test_echo_message_privmsg_notice_tagmsg(t):
    """The sender gets back exactly what recipients got (same msgid, time
    and client tags) for PRIVMSG, NOTICE and TAGMSG, to a channel and to a
    nick; TAGMSG echoes only with message-tags."""
    srv = mixed_server(t)
    a, b = users_in(t, srv, "#dev", ("alice", ("message-tags", "echo-message")), ("bob", ("message-tags",)))
    for cmd, target, text in (
        ("PRIVMSG", "#dev", " :hello"),
        ("NOTICE", "#dev", " :note"),
        ("TAGMSG", "#dev", ""),
        ("PRIVMSG", "bob", " :psst"),
        ("NOTICE", "bob", " :psst"),
        ("TAGMSG", "bob", ""),
        ("PRIVMSG", "#DEV", " :\x01ACTION waves\x01"),
    ):
        a.send_line("@+r=%s %s %s%s" % (cmd, cmd, target, text))
        echo, got = a.msg(), b.msg()
        check(echo.line == got.line, "%s %s: echo %r, delivery %r", cmd, target, echo.line, got.line)
        check(echo.command == cmd and echo.tags["+r"] == cmd and echo.nick == "alice", "echo %r", echo.line)
    a.send_line("PRIVMSG #dev :\x01ACTION waves")  # the final form comes back
    check(a.msg().params[1] == "\x01ACTION waves\x01", "action echo")
    b.msg()
    c = irc_user(t, srv, "carol", caps=("echo-message",))
    join(c, "#dev")
    a.until_cmd("JOIN")
    b.until_cmd("JOIN")
    c.send_line("@+r=1 TAGMSG #dev")  # no message-tags: no echo of TAGMSG
    a.expect_cmd("TAGMSG", "#dev", source="carol")
    b.expect_cmd("TAGMSG", "#dev", source="carol")
    c.send_line("@+r=1 PRIVMSG #dev :x")
    c.expect(":carol!~carol@127.0.0.1 PRIVMSG #dev :x")
    a.expect_cmd("PRIVMSG", "#dev", "x", source="carol")
    b.expect_cmd("PRIVMSG", "#dev", "x", source="carol")
    for u in (a, b, c):
        u.barrier()


def test_one_read_of_messages_keeps_order_ids_and_replies(t):
    """Messages that arrive in one read are said together (docs/irc.md,
    Limits), yet each keeps its place: the sender's echoes, PONG and 404s
    come back in the order sent, each delivery has its own msgid, in
    order, equal to its echo's, and IRC and text users see the lines in
    the order sent."""
    srv = mixed_server(t)
    (carol,) = t.users(srv, "carol")
    carol.say("/join dev")
    b, a = users_in(t, srv, "#dev", ("bob", ("message-tags",)), ("alice", ("message-tags", "echo-message")))
    carol.read_until("* alice joined #dev")
    for chan in ("#quiet", "#ops"):
        join(b, chan)
        join(a, chan)
        b.until_cmd("JOIN")
    b.send_line("MODE #quiet +m")
    for u in (a, b):
        u.expect_cmd("MODE", "#quiet", "+m", source="bob")
    sent = [
        ("PRIVMSG #dev :one", ("PRIVMSG", "#dev", "one")),
        ("PRIVMSG #dev :two", ("PRIVMSG", "#dev", "two")),
        ("NOTICE #dev :three", ("NOTICE", "#dev", "three")),
        ("PING :mid", ("PONG", SERVER_NAME, "mid")),
        ("PRIVMSG #dev :four", ("PRIVMSG", "#dev", "four")),
        ("PRIVMSG #quiet :no", ("404", "alice", "#quiet", "Cannot send to channel")),
        ("PRIVMSG #quiet :no", ("404", "alice", "#quiet", "Cannot send to channel")),
        ("@+x=1 PRIVMSG #dev :five", ("PRIVMSG", "#dev", "five")),
        ("PRIVMSG #ops :six", ("PRIVMSG", "#ops", "six")),
        ("PRIVMSG #dev :seven", ("PRIVMSG", "#dev", "seven")),
        ("PRIVMSG #dev,bob :eight", ("PRIVMSG", "#dev", "eight")),
        ("", ("PRIVMSG", "bob", "eight")),
        ("PRIVMSG #dev :nine", ("PRIVMSG", "#dev", "nine")),
        ("PRIVMSG #dev", ("412", "alice", "No text to send")),
        ("PRIVMSG #dev :ten", ("PRIVMSG", "#dev", "ten")),
    ]
    a.send("".join(line + "\r\n" for line, _ in sent if line))
    echoes = {}
    for line, want in sent:
        m = a.msg()
        check((m.command, *m.params) == want, "after %r: got %r, want %r", line, m.line, want)
        if m.command in ("PRIVMSG", "NOTICE") and m.params[0] == "#dev" or m.params[1] == "six":
            echoes[m.params[1]] = m
    ids = []
    for text in ("one", "two", "three", "four", "five", "six", "seven", "eight", "eight", "nine", "ten"):
        m = b.msg()
        check(m.params[1] == text and m.nick == "alice", "bob got %r, want %r", m.line, text)
        if m.params[0] != "bob":
            check(m.line == echoes[text].line, "delivery %r, echo %r", m.line, echoes[text].line)
        ids.append(m.tags["msgid"])
    check(len(set(ids)) == len(ids), "msgids repeat: %s", ids)
    for text in ("one", "two", "three", "four", "five", "seven", "eight", "nine", "ten"):
        carol.expect("[alice]: " + text)
    for u in (a, b):
        u.barrier()


# --------------------------------------------------------------------------
# labeled-response and batch
# --------------------------------------------------------------------------


def test_labeled_join_is_one_batch(t):
    """A labeled JOIN: JOIN, 353 and 366 in one labeled-response batch
    whose start carries the label."""
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice", caps=("batch", "labeled-response"))
    a.send_line("@label=j1 JOIN #dev")
    start, inner = read_batch(a, "labeled-response")
    check(start.tags == {"label": "j1"} and start.source == SERVER_NAME, "start: %r", start.line)
    check([m.command for m in inner] == ["JOIN", "353", "366"], "inner: %r", [m.line for m in inner])
    check(inner[0].line.endswith(" :alice!~alice@127.0.0.1 JOIN #dev"), "JOIN: %r", inner[0].line)
    check(all("label" not in m.tags for m in inner), "label inside the batch")
    a.barrier()


def test_labeled_single_line_ack_and_errors(t):
    """One reply line carries the label; none gives a labeled ACK; an
    unknown command's 421 is labeled; a label with odd bytes comes back
    escaped as sent."""
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice", caps=("batch", "labeled-response"))
    a.send_line("@label=p1 PING tok")
    a.expect("@label=p1 :%s PONG %s :tok" % (SERVER_NAME, SERVER_NAME))
    a.send_line("@label=p2 PONG tok")
    a.expect("@label=p2 :%s ACK" % SERVER_NAME)
    a.send_line("@label=p3 FROBNICATE")
    a.expect("@label=p3 :%s 421 alice FROBNICATE :Unknown command" % SERVER_NAME)
    a.send_line(r"@label=a\sb\:c PING x")
    a.expect(r"@label=a\sb\:c :%s PONG %s :x" % (SERVER_NAME, SERVER_NAME))
    b = irc_user(t, srv, "bob")  # no labeled-response: labels are ignored
    b.send_line("@label=p1 PING tok")
    b.expect(":%s PONG %s :tok" % (SERVER_NAME, SERVER_NAME))


def test_labeled_echo_and_messages_to_self(t):
    """A labeled PRIVMSG's echo carries the label, the recipients' copies
    do not; to oneself, the delivered copy comes unlabeled and the echo
    labeled; without echo-message, ACK."""
    srv = mixed_server(t)
    caps = ("batch", "labeled-response", "echo-message", "message-tags")
    a, b = users_in(t, srv, "#dev", ("alice", caps), ("bob", caps))
    a.send_line("@label=m1 PRIVMSG #dev :hi")
    echo, got = a.expect_cmd("PRIVMSG"), b.expect_cmd("PRIVMSG")
    check(echo.tags.get("label") == "m1" and "label" not in got.tags, "echo %r / %r", echo.line, got.line)
    for cmd in ("PRIVMSG", "NOTICE", "TAGMSG"):
        a.send_line("@label=s1 %s alice%s" % (cmd, "" if cmd == "TAGMSG" else " :me"))
        first, second = a.expect_cmd(cmd, "alice"), a.expect_cmd(cmd, "alice")
        check("label" not in first.tags and second.tags.get("label") == "s1", "%s to self: %r %r", cmd, first.line, second.line)
        check(first.tags["msgid"] == second.tags["msgid"], "one message")
    c = irc_user(t, srv, "carol", caps=("batch", "labeled-response"))
    c.send_line("@label=c1 PRIVMSG bob :x")
    c.expect("@label=c1 :%s ACK" % SERVER_NAME)
    b.expect_cmd("PRIVMSG", "bob", "x")
    a.barrier()
    b.barrier()


def test_long_labeled_echo_is_one_labeled_line(t):
    """The echo of the longest line a client may send is one line, whole
    (what an IRC user sent is never split), and so carries the label."""
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice", caps=("batch", "labeled-response", "echo-message"))
    join(a, "#dev")
    text = "y" * 490
    a.send_line("@label=L PRIVMSG #dev :" + text)
    a.expect("@label=L :alice!~alice@127.0.0.1 PRIVMSG #dev :" + text)


# --------------------------------------------------------------------------
# draft/chathistory
# --------------------------------------------------------------------------

ALL = ("message-tags", "server-time", "echo-message", "batch", "labeled-response", "draft/chathistory")


def history(c, query, target):
    """Sends CHATHISTORY query; returns the messages of its batch."""
    c.send_line("CHATHISTORY " + query)
    start, inner = read_batch(c, "chathistory")
    check(start.params[2:] == [target], "batch params: %r", start.line)
    return inner



def history_room(t):
    """#lobby with ten messages: alice (IRC, all caps) and bob (text) in
    turn, bob's fourth an action and alice's last a NOTICE. Returns the
    server, alice, bob, and what alice saw of the ten (her echoes and bob's
    lines), oldest first."""
    srv = mixed_server(t)
    (bob,) = t.users(srv, "bob")
    a = irc_user(t, srv, "alice", caps=ALL)
    join(a, "#lobby")
    bob.read_until("* alice joined #lobby")
    seen = []
    for i in range(5):
        bob.say("/me waves %d" % i if i == 3 else "bob %d" % i)
        seen.append(a.expect_cmd("PRIVMSG", "#lobby", source="bob"))
        a.send_line("%s #lobby :alice %d" % ("NOTICE" if i == 4 else "PRIVMSG", i))
        seen.append(a.expect_cmd("NOTICE" if i == 4 else "PRIVMSG", "#lobby", source="alice"))
        bob.read_until("[alice]: alice %d" % i)
    return srv, a, bob, seen


def same(got, want):
    """Checks that history lines are the lines first seen, tags and all."""
    check([m.line for m in got] == [m.line for m in want], "history:\n  %s\nwant:\n  %s",
          "\n  ".join(m.line for m in got), "\n  ".join(m.line for m in want))


def strip_batch(msgs):
    """The lines as they would be outside a batch (batch tag removed)."""
    out = []
    for m in msgs:
        line = re.sub(r"^@batch=[^; ]+;", "@", m.line)
        out.append(IrcMsg(line))
    return out


def test_chathistory_latest_before_after(t):
    """LATEST, BEFORE and AFTER by msgid and by timestamp give back the
    messages of IRC and text users exactly as first seen: msgid, time,
    source, NOTICE as NOTICE, a text user's /me as CTCP ACTION."""
    srv, a, bob, seen = history_room(t)
    check(seen[6].params[1] == "\x01ACTION waves 3\x01", "bob's action: %r", seen[6].line)
    check(seen[9].command == "NOTICE", "alice's notice: %r", seen[9].line)
    same(strip_batch(history(a, "LATEST #lobby * 100", "#lobby")), seen)
    same(strip_batch(history(a, "LATEST #lobby * 3", "#lobby")), seen[-3:])
    ids = [m.tags["msgid"] for m in seen]
    times = [m.tags["time"] for m in seen]
    same(strip_batch(history(a, "LATEST #lobby msgid=%s 100" % ids[4], "#lobby")), seen[5:])
    same(strip_batch(history(a, "BEFORE #lobby msgid=%s 100" % ids[6], "#lobby")), seen[:6])
    same(strip_batch(history(a, "BEFORE #lobby msgid=%s 2" % ids[6], "#lobby")), seen[4:6])
    same(strip_batch(history(a, "AFTER #lobby msgid=%s 3" % ids[3], "#lobby")), seen[4:7])
    # By time: the expected set follows from the times seen (two messages
    # may share a millisecond).
    t5 = times[5]
    same(strip_batch(history(a, "AFTER #lobby timestamp=%s 100" % t5, "#lobby")), [m for m in seen if m.tags["time"] > t5])
    same(strip_batch(history(a, "BEFORE #lobby timestamp=%s 100" % t5, "#lobby")), [m for m in seen if m.tags["time"] < t5])
    same(strip_batch(history(a, "LATEST #LOBBY timestamp=%s 100" % t5, "#lobby")), [m for m in seen if m.tags["time"] > t5])
    # Text users' lines are kept the same way: bob sees the same through
    # IRC as alice does.
    b2 = irc_user(t, srv, "bob2", caps=("batch", "server-time", "message-tags"))
    same(strip_batch(history(b2, "LATEST #lobby * 100", "#lobby")), seen)


def test_chathistory_around_between(t):
    """AROUND centres on a message; BETWEEN counts from its first bound,
    forwards or backwards, the bounds themselves excluded."""
    srv, a, bob, seen = history_room(t)
    ids = [m.tags["msgid"] for m in seen]
    same(strip_batch(history(a, "AROUND #lobby msgid=%s 1" % ids[7], "#lobby")), seen[7:8])
    same(strip_batch(history(a, "AROUND #lobby msgid=%s 3" % ids[7], "#lobby")), seen[6:9])
    # By time, the first message of that time is the centre (times may be
    # shared by messages said within a millisecond): one before it if there
    # is one, and the rest from it on.
    t7 = seen[7].tags["time"]
    p = [m.tags["time"] >= t7 for m in seen].index(True)
    first = max(0, min(p - 1, len(seen) - 3))
    same(strip_batch(history(a, "AROUND #lobby timestamp=%s 3" % t7, "#lobby")), seen[first : first + 3])
    same(strip_batch(history(a, "BETWEEN #lobby msgid=%s msgid=%s 100" % (ids[0], ids[-1]), "#lobby")), seen[1:-1])
    same(strip_batch(history(a, "BETWEEN #lobby msgid=%s msgid=%s 100" % (ids[-1], ids[0]), "#lobby")), seen[1:-1])
    same(strip_batch(history(a, "BETWEEN #lobby msgid=%s msgid=%s 3" % (ids[0], ids[-1]), "#lobby")), seen[1:4])
    same(strip_batch(history(a, "BETWEEN #lobby msgid=%s msgid=%s 3" % (ids[-1], ids[0]), "#lobby")), seen[-4:-1])
    t0, t9 = seen[0].tags["time"], seen[-1].tags["time"]
    want = [m for m in seen if t0 < m.tags["time"] < t9]
    same(strip_batch(history(a, "BETWEEN #lobby timestamp=%s timestamp=%s 100" % (t9, t0), "#lobby")), want)


def test_chathistory_split_lines_keep_their_msgids(t):
    """A text line split for IRC comes back from history in the same parts
    with the same msgids."""
    srv = mixed_server(t)
    (bob,) = t.users(srv, "bob")
    a = irc_user(t, srv, "alice", caps=ALL)
    join(a, "#lobby")
    bob.read_until("* alice joined #lobby")
    bob.say("z" * 1200)
    seen = []
    while sum(len(m.params[1]) for m in seen) < 1200:
        seen.append(a.expect_cmd("PRIVMSG", "#lobby"))
    same(strip_batch(history(a, "LATEST #lobby * 1", "#lobby")), seen)
    same(strip_batch(history(a, "AFTER #lobby msgid=%s 5" % seen[1].tags["msgid"], "#lobby")), [])


def test_chathistory_targets(t):
    """TARGETS lists the channels one is in whose latest message falls
    between the two times, oldest first, up to the limit."""
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice", caps=ALL)
    times = {}
    for chan in ("#one", "#two", "#three"):
        join(a, chan)
        a.send_line("PRIVMSG %s :in %s" % (chan, chan))
        times[chan] = a.expect_cmd("PRIVMSG", chan).tags["time"]
    join(a, "#empty")
    lo, hi = "timestamp=2020-01-01T00:00:00.000Z", "timestamp=2262-01-01T00:00:00.000Z"

    def targets(query):
        a.send_line("CHATHISTORY TARGETS " + query)
        start, inner = read_batch(a, "draft/chathistory-targets")
        for m in inner:
            check(m.source == SERVER_NAME and m.command == "CHATHISTORY" and m.params[0] == "TARGETS", "%r", m.line)
        return [(m.params[1], m.params[2]) for m in inner]

    order = sorted(times, key=lambda c: times[c])  # equal times: in the order said
    check(targets("%s %s 100" % (lo, hi)) == [(c, times[c]) for c in order], "all three")
    check(targets("%s %s 100" % (hi, lo)) == [(c, times[c]) for c in order], "bounds either way")
    check([c for c, _ in targets("%s %s 2" % (lo, hi))] == order[:2], "limit")
    after = [c for c in order if times[c] > times[order[0]]]
    check([c for c, _ in targets("timestamp=%s %s 100" % (times[order[0]], hi))] == after, "exclusive bound")
    a.send_line("CHATHISTORY TARGETS msgid=1 %s 10" % hi)
    a.expect_cmd("FAIL", "CHATHISTORY", "INVALID_PARAMS", "TARGETS", "msgid=1")


def test_chathistory_errors(t):
    """Standard replies for bad subcommands, parameters, references and
    targets; history of a nick is empty (not stored)."""
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice", caps=ALL)
    irc_user(t, srv, "bob", caps=ALL)
    fails = (
        ("FROB #x * 10", ["INVALID_PARAMS", "FROB", "Unknown command"]),
        ("LATEST #x *", ["INVALID_PARAMS", "LATEST", "Insufficient parameters"]),
        ("BEFORE #x msgid=1 10 20", ["INVALID_PARAMS", "BEFORE", "Too many parameters"]),
        ("BEFORE #lobby timestamp=2026-13-01T00:00:00.000Z 10", ["INVALID_PARAMS", "BEFORE", "timestamp=2026-13-01T00:00:00.000Z", "Invalid timestamp"]),
        ("BEFORE #lobby * 10", ["INVALID_PARAMS", "BEFORE", "*", "Invalid reference"]),
        ("LATEST #lobby * 0", ["INVALID_PARAMS", "LATEST", "0", "Invalid limit"]),
        ("LATEST #lobby * :1 0", ["INVALID_PARAMS", "LATEST", "*", "Invalid limit"]),
        ("AFTER #lobby msgid=abc 10", ["MESSAGE_ERROR", "AFTER", "#lobby", "Unknown message ID"]),
        ("LATEST #nowhere * 10", ["INVALID_TARGET", "LATEST", "#nowhere", "Messages could not be retrieved"]),
        ("LATEST nobody * 10", ["INVALID_TARGET", "LATEST", "nobody", "Messages could not be retrieved"]),
    )
    for query, want in fails:
        a.send_line("CHATHISTORY " + query)
        m = a.msg()
        check(m.source == SERVER_NAME and m.command == "FAIL" and m.params == ["CHATHISTORY"] + want, "%s: %r", query, m.line)
    check(history(a, "LATEST bob * 10", "bob") == [], "private history is not stored")
    a.send_line("CHATHISTORY")
    a.expect_num("461", "CHATHISTORY")
    a.barrier()


def test_chathistory_for_non_members(t):
    """Anyone may read an open channel (the rule for +s, +i, +k and bans is
    the core's, unit-tested in test_history.c); a channel nobody is in any
    more keeps its history; no FAIL without standard-replies is needed."""
    srv = mixed_server(t)
    b = irc_user(t, srv, "bob", caps=ALL)
    a = irc_user(t, srv, "alice", caps=("batch", "draft/chathistory"))
    join(b, "#open")
    b.send_line("PRIVMSG #open :in #open")
    b.expect_cmd("PRIVMSG")
    check([m.params for m in history(a, "LATEST #open * 10", "#open")] == [["#open", "in #open"]], "open channel")
    b.send_line("PART #open")
    b.expect_cmd("PART")
    check(len(history(a, "LATEST #open * 10", "#open")) == 1, "kept after everyone left")
    a.send_line("CHATHISTORY LATEST #nowhere * 10")
    a.expect(":%s FAIL CHATHISTORY INVALID_TARGET LATEST #nowhere :Messages could not be retrieved" % SERVER_NAME)


def test_chathistory_without_batch_and_limit(t):
    """Without batch the messages come bare; a limit over CHATHISTORY=100
    gives 100."""
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice", caps=("draft/chathistory", "server-time", "echo-message"))
    join(a, "#dev")
    for i in range(105):
        a.send_line("PRIVMSG #dev :m%d" % i)
    for i in range(105):
        a.expect_cmd("PRIVMSG", "#dev", "m%d" % i)
    a.send_line("CHATHISTORY LATEST #dev * 500")
    got = [a.msg() for _ in range(100)]
    check([m.params[1] for m in got] == ["m%d" % i for i in range(5, 105)], "the newest 100")
    check(all(set(m.tags) == {"time"} for m in got), "server-time only: %r", got[0].line)
    a.barrier()


def test_labeled_chathistory_labels_its_own_batch(t):
    """A labeled CHATHISTORY: the chathistory batch is the response, its
    start carries the label; an empty result is still a batch."""
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice", caps=ALL)
    join(a, "#dev")
    a.send_line("PRIVMSG #dev :one")
    a.expect_cmd("PRIVMSG")
    a.send_line("@label=h1 CHATHISTORY LATEST #dev * 10")
    start, inner = read_batch(a, "chathistory")
    check(start.tags == {"label": "h1"} and start.params[2] == "#dev", "start: %r", start.line)
    check([m.params for m in inner] == [["#dev", "one"]], "inner: %r", [m.line for m in inner])
    a.send_line("@label=h2 CHATHISTORY LATEST #dev msgid=%s 10" % inner[0].tags["msgid"])
    start, inner = read_batch(a, "chathistory")
    check(start.tags == {"label": "h2"} and inner == [], "empty: %r", start.line)
    a.send_line("@label=h3 CHATHISTORY LATEST #nowhere * 10")
    a.expect("@label=h3 :%s FAIL CHATHISTORY INVALID_TARGET LATEST #nowhere :Messages could not be retrieved" % SERVER_NAME)
