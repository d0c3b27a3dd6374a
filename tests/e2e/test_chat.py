"""Chat behaviour: welcome, posting, every command and its errors, history.

Every expected line is quoted from docs/protocol.md.
"""

import re
import time

from harness import WELCOME_3, check, people

INVALID_NICK = '! invalid nick "%s": 1-32 letters, digits or _-[]\\^{}|`, not starting with a digit, - or ['


def expect_invalid_nick(c, nick):
    c.expect(INVALID_NICK % nick)


def invalid_room(name):
    return '! invalid room name "%s": 1-32 letters, digits, _ or -' % name


# -- connecting ------------------------------------------------------------


def test_welcome_lines(t):
    srv = t.server()
    a = t.client(srv)
    a.expect("* welcome to parley, user1")
    a.expect(re.compile(r"\* you are in #lobby \(%s here\)" % people(1)))
    a.expect(WELCOME_3)
    b = t.client(srv)
    b.expect("* welcome to parley, user2")
    b.expect("* you are in #lobby (2 people here)")
    b.expect(WELCOME_3)
    a.expect("* user2 joined #lobby")
    c = t.client(srv)
    c.expect("* welcome to parley, user3")
    c.expect("* you are in #lobby (3 people here)")
    c.expect(WELCOME_3)
    a.expect("* user3 joined #lobby")
    b.expect("* user3 joined #lobby")
    t.barrier(a, b, c)


def test_welcome_shows_lobby_topic_and_history(t):
    """Arriving in #lobby shows its topic and recent history, framed exactly
    as /join shows them, before the closing hint (docs/protocol.md, On
    connect).  Before, the welcome was always the same three lines."""
    srv = t.server()
    a, b = t.users(srv, "alice", "bob")
    t0 = time.time()
    a.say("/topic ship it")
    a.expect("* alice set the topic of #lobby: ship it")
    b.expect("* alice set the topic of #lobby: ship it")
    a.say("hi all")
    b.expect("[alice]: hi all")
    b.say("hello")
    a.expect("[bob]: hello")
    t1 = time.time()
    c = t.client(srv)
    c.expect("* welcome to parley, user3")
    c.expect("* you are in #lobby (3 people here)")
    said = [("alice", "hi all"), ("bob", "hello")]
    expect_replay(c, "lobby", "ship it", said, t0, t1)
    c.expect(WELCOME_3)
    c.barrier()
    # The same lines as /join gives, after its own first line.
    b.say("/join dev")
    b.read_until(re.compile(r"\* you joined #dev .*"))
    b.say("/join lobby")
    b.expect("* you joined #lobby (3 people here)")
    expect_replay(b, "lobby", "ship it", said, t0, t1)
    b.barrier()
    # The harness reads such a welcome too, and keeps what it showed.
    d = t.client(srv)
    d.welcome()
    check(d.welcome_topic == "ship it", "welcome topic %r", d.welcome_topic)
    check(d.welcome_history == ["[alice]: hi all", "[bob]: hello"], "welcome history %r", d.welcome_history)


def test_ids_sequential_never_reused(t):
    srv = t.server()
    a, b, c = t.users(srv, None, None, None)
    first = a.id
    check((b.id, c.id) == (first + 1, first + 2), "ids not sequential: %s %s %s", a.nick, b.nick, c.nick)
    check(first == 1, "ids should start at 1, first was %s", a.nick)
    b.say("/quit")
    b.expect("* bye")
    b.expect_end()
    a.expect("* user2 quit")
    c.expect("* user2 quit")
    d = t.client(srv)
    check(d.welcome() == "user4", "id reused or skipped after a quit: %s", d.nick)
    a.expect("* user4 joined #lobby")
    c.expect("* user4 joined #lobby")
    # A default nick stays its owner's while they are here, even renamed...
    c.say("/nick carol")
    c.expect("* you are now carol")
    a.expect("* user3 is now carol")
    d.expect("* user3 is now carol")
    d.say("/nick user3")
    d.expect('! nick "user3" is reserved')
    # ...and one not handed out yet is reserved for whoever gets it...
    d.say("/nick user5")
    d.expect('! nick "user5" is reserved')
    # ...but a gone user's default nick (ids are never reused) is free.
    d.say("/nick user2")
    d.expect("* you are now user2")
    a.expect("* user4 is now user2")
    t.barrier(d, a)


# -- posting ---------------------------------------------------------------


def test_post_no_echo(t):
    srv = t.server()
    a, b, c = t.users(srv, None, None, None)
    a.say("hello world")
    b.expect("[user1]: hello world")
    c.expect("[user1]: hello world")
    t.barrier(a)  # the sender got nothing back
    a.say("/nick alice")
    a.expect("* you are now alice")
    b.expect("* user1 is now alice")
    c.expect("* user1 is now alice")
    a.say("second one")
    b.expect("[alice]: second one")
    c.expect("[alice]: second one")
    t.barrier(a, b, c)


def test_double_slash_posts_literal_slash(t):
    srv = t.server()
    a, b = t.users(srv, "alice", "bob")
    a.say("//etc/passwd is a file")
    b.expect("[alice]: /etc/passwd is a file")
    a.say("//")
    b.expect("[alice]: /")
    a.say("//nick carol")
    b.expect("[alice]: /nick carol")
    t.barrier(a, b)  # alice is still alice and got no echo
    b.say("/who")
    b.expect("* #lobby (2 people): @alice, bob")


def test_me_action(t):
    srv = t.server()
    a, b = t.users(srv, "alice", "bob")
    a.say("/me waves at everyone")
    b.expect("[* alice] waves at everyone")
    t.barrier(a)
    a.say("/me")
    a.expect("! usage: /me TEXT")
    a.say("/me   ")
    a.expect("! usage: /me TEXT")
    t.barrier(a, b)


def test_msg_private(t):
    """/msg reaches its recipient only, and the sender sees the very line
    the recipient got, once when messaging oneself (docs/protocol.md,
    Messages).  Before, the sender saw nothing at all."""
    srv = t.server()
    a, b, c = t.users(srv, "alice", "bob", "carol")
    a.say("/msg bob psst, over here")
    b.expect("[alice -> bob]: psst, over here")
    a.expect("[alice -> bob]: psst, over here")
    t.barrier(a, b, c)  # one line each, and carol saw nothing
    # Nicks are case-insensitive; the recipient is shown as the nick is spelled.
    a.say("/msg BOB second")
    b.expect("[alice -> bob]: second")
    a.expect("[alice -> bob]: second")
    # Across rooms.
    b.say("/join dev")
    b.expect(re.compile(r"\* you joined #dev \(%s here\)" % people(1)))
    a.expect("* bob left #lobby")
    c.expect("* bob left #lobby")
    a.say("/msg bob still there?")
    b.expect("[alice -> bob]: still there?")
    a.expect("[alice -> bob]: still there?")
    t.barrier(a, c, b)
    # To oneself: the one line, once.
    a.say("/msg ALICE note to self")
    a.expect("[alice -> alice]: note to self")
    t.barrier(a, b, c)


def test_msg_errors(t):
    srv = t.server()
    (a,) = t.users(srv, "alice")
    a.say("/msg")
    a.expect("! usage: /msg NICK TEXT")
    a.say("/msg bob")
    a.expect("! usage: /msg NICK TEXT")
    a.say("/msg nobody hello")
    a.expect("! no such nick: nobody")
    t.barrier(a)


def test_help_lists_commands(t):
    srv = t.server()
    (a,) = t.users(srv, None)
    a.say("/help")
    a.expect("* commands:")
    a.send("/topic\n")
    lines = a.read_until(lambda ln: ln == "* #lobby has no topic")[:-1]
    check(lines, "/help listed no commands after '* commands:'")
    for ln in lines:
        check(ln.startswith("* "), "/help line is not a notice: %r", ln)
    text = "\n".join(lines)
    for cmd in ("/help", "/nick", "/join", "/rooms", "/list", "/who", "/msg", "/me", "/topic", "/quit") + (
        # Moderation (test_moderation.py).
        "/kick", "/ban", "/unban", "/bans", "/op", "/deop", "/voice", "/devoice", "/mute", "/unmute", "/invite", "/mode",
    ):
        check(re.search(re.escape(cmd) + r"\b", text), "/help does not mention %s:\n%s", cmd, text)
    # Case-insensitive command name.
    a.say("/HELP")
    a.expect("* commands:")


def test_unknown_command(t):
    srv = t.server()
    a, b = t.users(srv, None, None)
    a.say("/frobnicate now")
    a.expect("! unknown command: /frobnicate (try /help)")
    a.say("/x")
    a.expect("! unknown command: /x (try /help)")
    t.barrier(a, b)  # nothing was posted to the room


def test_commands_case_insensitive(t):
    srv = t.server()
    a, b = t.users(srv, None, None)
    a.say("/NICK alice")
    a.expect("* you are now alice")
    b.expect("* user1 is now alice")
    a.say("/Me jumps")
    b.expect("[* alice] jumps")
    a.say("/MSG user2 hi")
    b.expect("[alice -> user2]: hi")
    a.expect("[alice -> user2]: hi")
    a.say("/ToPiC Loud")
    a.expect("* alice set the topic of #lobby: Loud")
    b.expect("* alice set the topic of #lobby: Loud")
    a.say("/WHO")
    a.expect("* #lobby (2 people): @alice, user2")
    a.say("/LIST")
    a.expect("* #lobby: 2 people, topic: Loud")
    a.say("/ROOMS")
    a.expect("* #lobby: 2 people, topic: Loud")
    a.say("/JOIN dev")
    a.expect(re.compile(r"\* you joined #dev \(%s here\)" % people(1)))
    b.expect("* alice left #lobby")
    a.say("$EXIT")
    a.expect("* bye")
    a.expect_end()
    b.say("/Quit")
    b.expect("* bye")
    b.expect_end()


# -- /nick -----------------------------------------------------------------


def test_nick_change_and_errors(t):
    srv = t.server()
    a, b = t.users(srv, None, "bob")
    a.say("/nick alice")
    a.expect("* you are now alice")
    b.expect("* user1 is now alice")
    a.say("/nick")
    a.expect("! usage: /nick NAME")
    a.say("/nick two words")
    a.expect("! usage: /nick NAME")
    a.say("/nick bob")
    a.expect('! nick "bob" is taken')
    a.say("/nick BOB")
    a.expect('! nick "BOB" is taken')
    a.say("/nick user99")
    a.expect('! nick "user99" is reserved')
    a.say("/nick User2")
    a.expect(re.compile(r'! nick "User2" is (?:reserved|taken)'))
    for bad in ("1abc", "-dash", "has.dot", "x" * 33, "caf\u00e9", "a,b", "[alice]", "[", "*x"):
        a.say("/nick " + bad)
        expect_invalid_nick(a, bad)
    t.barrier(a, b)  # none of the failures was announced
    a.say("/who")
    a.expect("* #lobby (2 people): @alice, bob")


def test_nick_valid_edge_cases(t):
    srv = t.server()
    a, b = t.users(srv, None, None)
    for good in ("x" * 32, "a_-[]\\^{}|`9", "x[y]", "`tick", "_", "Z"):
        a.say("/nick " + good)
        a.expect("* you are now " + good)
        b.read_until(lambda ln: ln.endswith(" is now " + good))
    # Back to one's own default nick is allowed.
    a.say("/nick user1")
    a.expect("* you are now user1")
    b.expect("* Z is now user1")
    # userN that is not all digits after "user" is an ordinary nick.
    a.say("/nick user1x")
    a.expect("* you are now user1x")
    b.expect("* user1 is now user1x")
    t.barrier(a, b)


# -- /join and rooms -------------------------------------------------------


def test_join_and_leave_notices(t):
    srv = t.server()
    a, b, c = t.users(srv, "alice", "bob", "carol")
    c.say("/join dev")
    c.expect(re.compile(r"\* you joined #dev \(%s here\)" % people(1)))
    a.expect("* carol left #lobby")
    b.expect("* carol left #lobby")
    a.say("/join #dev")
    a.expect("* you joined #dev (2 people here)")
    b.expect("* alice left #lobby")
    c.expect("* alice joined #dev")
    # Messages stay in their room.
    a.say("dev talk")
    c.expect("[alice]: dev talk")
    b.say("lobby talk")
    t.barrier(b, a, c)
    a.say("/join lobby")
    a.expect("* you joined #lobby (2 people here)")
    # bob's "lobby talk" is the lobby's history now.
    a.expect(re.compile(r"\* --- last 1 messages? in #lobby \(times in UTC\) ---"))
    a.expect(re.compile(r"\d\d:\d\d \[bob\]: lobby talk"))
    a.expect("* --- end of history ---")
    c.expect("* alice left #dev")
    b.expect("* alice joined #lobby")
    b.say("back")
    a.expect("[bob]: back")
    t.barrier(a, b, c)


def test_join_errors(t):
    srv = t.server()
    a, b = t.users(srv, "alice", "bob")
    a.say("/join")
    a.expect("! usage: /join ROOM [KEY]")
    a.say("/join a b c")
    a.expect("! usage: /join ROOM [KEY]")
    a.say("/join lobby")
    a.expect("! you are already in #lobby")
    a.say("/join #LOBBY")
    a.expect("! you are already in #lobby")
    for bad in ("bad.room", "x" * 33, "caf\u00e9", "a+b"):
        a.say("/join " + bad)
        a.expect(invalid_room(bad))
    a.say("/join " + "r" * 32)
    a.expect(re.compile(r"\* you joined #%s \(%s here\)" % ("r" * 32, people(1))))
    b.expect("* alice left #lobby")
    t.barrier(a, b)


def test_room_names_case_insensitive_keep_spelling(t):
    srv = t.server()
    a, b = t.users(srv, "alice", "bob")
    a.say("/join #Dev")
    a.expect(re.compile(r"\* you joined #Dev \(%s here\)" % people(1)))
    b.expect("* alice left #lobby")
    a.say("/join dev")
    a.expect("! you are already in #Dev")
    a.say("/join #DEV")
    a.expect("! you are already in #Dev")
    b.say("/join DEV")
    b.expect("* you joined #Dev (2 people here)")
    a.expect("* bob joined #Dev")
    b.say("/who")
    b.expect("* #Dev (2 people): @alice, bob")
    b.say("/who #dev")
    b.expect("* #Dev (2 people): @alice, bob")
    t.barrier(a, b)


def test_max_rooms(t):
    srv = t.server("--max-rooms", "2")
    a, b, c = t.users(srv, "alice", "bob", "carol")
    a.say("/join one")
    a.expect(re.compile(r"\* you joined #one \(%s here\)" % people(1)))
    b.expect("* alice left #lobby")
    c.expect("* alice left #lobby")
    b.say("/join two")
    ln = b.line()
    if ln.startswith("* you joined #two"):
        # #lobby was not counted; the next new room must fail.
        c.expect("* bob left #lobby")
        c.say("/join three")
        c.expect("! too many rooms (max 2)")
    else:
        check(ln == "! too many rooms (max 2)", "expected too many rooms, got %r", ln)
        c.say("/join three")
        c.expect("! too many rooms (max 2)")
    # Existing rooms can still be joined.
    c.say("/join one")
    c.read_until(re.compile(r"\* you joined #one \(2 people here\)"))


def test_rooms_and_list(t):
    srv = t.server()
    a, b, c = t.users(srv, "alice", "bob", "carol")
    a.say("/rooms")
    a.expect("* #lobby: 3 people")
    t.barrier(a)
    b.say("/join dev")
    b.expect(re.compile(r"\* you joined #dev \(%s here\)" % people(1)))
    c.say("/join dev")
    c.read_until("* you joined #dev (2 people here)")
    b.expect("* carol joined #dev")
    b.say("/topic build things")
    b.expect("* bob set the topic of #dev: build things")
    c.read_until("* bob set the topic of #dev: build things")
    a.read_until("* carol left #lobby")
    a.say("/join zoo")
    a.expect(re.compile(r"\* you joined #zoo \(%s here\)" % people(1)))
    for cmd in ("/rooms", "/list"):
        c.say(cmd)
        c.expect("* #dev: 2 people, topic: build things")
        c.expect("* #lobby: 0 people")
        c.expect("* #zoo: 1 person")
        t.barrier(c)


def test_room_without_history_vanishes(t):
    srv = t.server()
    a, b = t.users(srv, "alice", "bob")
    a.say("/join empty")
    a.expect(re.compile(r"\* you joined #empty \(%s here\)" % people(1)))
    a.say("/join lobby")
    a.expect("* you joined #lobby (2 people here)")
    b.expect("* alice left #lobby")
    b.expect("* alice joined #lobby")
    b.say("/who empty")
    b.expect("! no such room: #empty")
    # A room with history outlives its members.
    a.say("/join kept")
    a.expect(re.compile(r"\* you joined #kept \(%s here\)" % people(1)))
    a.say("remember me")
    a.say("/join lobby")
    a.expect("* you joined #lobby (2 people here)")
    b.expect("* alice left #lobby")
    b.expect("* alice joined #lobby")
    b.say("/rooms")
    b.expect("* #kept: 0 people")
    b.expect("* #lobby: 2 people")
    t.barrier(b)


def test_who(t):
    srv = t.server()
    a, b, c = t.users(srv, "carol", "alice", "bob")
    a.say("/who")
    a.expect("* #lobby (3 people): alice, bob, @carol")  # carol came first
    c.say("/join dev")
    c.expect(re.compile(r"\* you joined #dev \(%s here\)" % people(1)))
    b.say("/join dev")
    b.read_until("* you joined #dev (2 people here)")
    a.say("/who dev")
    a.read_until("* #dev (2 people): alice, @bob")
    a.say("/who #DEV")
    a.expect("* #dev (2 people): alice, @bob")
    a.say("/who nope")
    a.expect("! no such room: #nope")
    a.say("/who")
    a.expect(re.compile(r"\* #lobby \(%s\): @carol" % people(1)))
    t.barrier(a)


def test_who_empty_room(t):
    """/who of a room kept only for its history says it is empty (docs/
    protocol.md, Commands), rather than `* #dev (0 people): ` with nothing
    after the colon."""
    srv = t.server()
    a, b = t.users(srv, "alice", "bob")
    a.say("/join dev")
    a.expect("* you joined #dev (1 person here)")
    b.expect("* alice left #lobby")
    a.say("kept as history")
    a.say("/join lobby")
    a.expect("* you joined #lobby (2 people here)")
    b.expect("* alice joined #lobby")
    b.say("/who dev")
    b.expect("* #dev is empty")
    b.say("/who #DEV")
    b.expect("* #dev is empty")
    t.barrier(b, a)


def test_who_long_list_continues(t):
    """/who of a crowded room: nicks sorted; continuation lines `* #ROOM: d, e`."""
    srv = t.server()
    names = ["n%02d_%s" % (i, "x" * 26) for i in range(40)]
    order = list(reversed(names))  # join in reverse to make sorting matter
    clients = []
    for name in order:
        c = t.client(srv)
        c.welcome()
        c.say("/nick " + name)
        c.expect("* you are now " + name)
        clients.append(c)
    q = clients[-1]
    q.say("/who")
    head = q.expect(re.compile(r"\* #lobby \(40 people\): (.*)"))
    got = head.group(1).split(", ")
    q.send("/topic\n")
    for ln in q.read_until(lambda ln: ln == "* #lobby has no topic")[:-1]:
        m = re.fullmatch(r"\* #lobby: (.*)", ln)
        check(m, "unexpected /who continuation line %r", ln)
        got += m.group(1).split(", ")
    # Sorted by nick; the first to come is the lobby's operator.
    want = [("@" if n == order[0] else "") + n for n in sorted(names)]
    check(got == want, "/who nicks not complete or not sorted: %s", got)
    for c in clients:
        c.close()


# -- /topic ----------------------------------------------------------------


def test_topic(t):
    srv = t.server()
    a, b, c = t.users(srv, "alice", "bob", "carol")
    c.say("/join dev")
    c.expect(re.compile(r"\* you joined #dev \(%s here\)" % people(1)))
    a.read_until("* carol left #lobby")
    b.read_until("* carol left #lobby")
    a.say("/topic")
    a.expect("* #lobby has no topic")
    a.say("/topic Welcome,  friends: be nice")
    a.expect("* alice set the topic of #lobby: Welcome,  friends: be nice")
    b.expect("* alice set the topic of #lobby: Welcome,  friends: be nice")
    t.barrier(c)  # other rooms do not see it
    b.say("/topic")
    b.expect("* topic of #lobby: Welcome,  friends: be nice")
    c.say("/topic")
    c.expect("* #dev has no topic")
    b.say("/topic changed")
    b.expect("* bob set the topic of #lobby: changed")
    a.expect("* bob set the topic of #lobby: changed")
    # The topic is shown on /join.
    c.say("/join lobby")
    c.expect("* you joined #lobby (3 people here)")
    c.expect("* topic: changed")
    c.barrier()


def test_topic_too_long(t):
    srv = t.server()
    a, b = t.users(srv, "alice", "bob")
    a.say("/topic " + "t" * 301)
    a.expect("! topic too long (max 300 bytes)")
    a.say("/topic " + "\u00e9" * 151)  # 302 bytes
    a.expect("! topic too long (max 300 bytes)")
    t.barrier(a, b)
    a.say("/topic " + "t" * 300)
    a.expect("* alice set the topic of #lobby: " + "t" * 300)
    b.expect("* alice set the topic of #lobby: " + "t" * 300)


def test_topic_max_flag(t):
    srv = t.server("--topic-max", "10")
    (a,) = t.users(srv, "alice")
    a.say("/topic 12345678901")
    a.expect("! topic too long (max 10 bytes)")
    a.say("/topic 1234567890")
    a.expect("* alice set the topic of #lobby: 1234567890")


# -- history ---------------------------------------------------------------

_TIME = r"(\d\d):(\d\d)"


def expect_replay(c, room, topic, said, t0, t1):
    """What /join and the welcome show of a room after their first line: the
    topic line if topic is set, then the framed history of said, a list of
    (nick, text) said between times t0 and t1."""
    if topic is not None:
        c.expect("* topic: " + topic)
    if said:
        c.expect("* --- last %d message%s in #%s (times in UTC) ---" % (len(said), "" if len(said) == 1 else "s", room))
        for nick, text in said:
            expect_history_line(c, nick, text, t0, t1)
        c.expect("* --- end of history ---")


def expect_history_line(c, nick, text, t0, t1):
    """One `HH:MM [NICK]: TEXT` line (or `HH:MM [* NICK] TEXT` for an action,
    nick given as "* NICK") whose time is UTC between t0 and t1."""
    sep = " " if nick.startswith("* ") else ": "
    m = c.expect(re.compile(_TIME + r" \[" + re.escape(nick) + r"\]" + sep + re.escape(text)))
    allowed = {time.strftime("%H:%M", time.gmtime(x)) for x in range(int(t0) - 1, int(t1) + 2)}
    check("%s:%s" % m.groups() in allowed, "history time %s:%s is not the UTC time of the message %s", m.group(1), m.group(2), sorted(allowed))


def test_history_replayed_on_join(t):
    srv = t.server()
    a, b = t.users(srv, "alice", "bob")
    t0 = time.time()
    a.say("/join dev")
    a.expect(re.compile(r"\* you joined #dev \(%s here\)" % people(1)))
    b.expect("* alice left #lobby")
    a.say("hi all")
    a.say("/me is history too")
    a.say("//slash kept")
    a.say("/topic dev stuff")
    a.expect("* alice set the topic of #dev: dev stuff")
    t1 = time.time()
    b.say("/join dev")
    b.expect("* you joined #dev (2 people here)")
    expect_replay(b, "dev", "dev stuff", [("alice", "hi all"), ("* alice", "is history too"), ("alice", "/slash kept")], t0, t1)
    b.barrier()
    a.expect("* bob joined #dev")
    # History lines are not new messages: alice got nothing else.
    a.barrier()


def test_history_times_say_utc(t):
    """History times are UTC and the header says so (docs/protocol.md, Rooms
    and history), even on a server whose local zone is 5:30 ahead.  Before,
    the header named no zone at all."""
    srv = t.server(env={"TZ": "IST-5:30"})
    a, b = t.users(srv, "alice", "bob")
    t0 = time.time()
    a.say("when is this")
    b.expect("[alice]: when is this")
    t1 = time.time()
    b.say("/join dev")
    b.read_until(re.compile(r"\* you joined #dev .*"))
    b.say("/join lobby")
    b.expect("* you joined #lobby (2 people here)")
    b.expect("* --- last 1 message in #lobby (times in UTC) ---")
    expect_history_line(b, "alice", "when is this", t0, t1)
    b.expect("* --- end of history ---")
    b.barrier()


def test_history_limit(t):
    srv = t.server("--history", "2")
    a, b = t.users(srv, "alice", "bob")
    t0 = time.time()
    a.say("/join dev")
    a.expect(re.compile(r"\* you joined #dev \(%s here\)" % people(1)))
    for w in ("one", "two", "three"):
        a.say(w)
    a.barrier()
    t1 = time.time()
    b.read_until("* alice left #lobby")
    b.say("/join dev")
    b.expect("* you joined #dev (2 people here)")
    expect_replay(b, "dev", None, [("alice", "two"), ("alice", "three")], t0, t1)
    b.barrier()


def test_history_keep(t):
    srv = t.server("--history", "10", "--history-keep", "3")
    a, b = t.users(srv, "alice", "bob")
    t0 = time.time()
    a.say("/join dev")
    a.expect(re.compile(r"\* you joined #dev \(%s here\)" % people(1)))
    for i in range(6):
        a.say("m%d" % i)
    a.barrier()
    t1 = time.time()
    b.read_until("* alice left #lobby")
    b.say("/join dev")
    b.expect("* you joined #dev (2 people here)")
    expect_replay(b, "dev", None, [("alice", "m%d" % i) for i in (3, 4, 5)], t0, t1)
    b.barrier()


def test_history_none_when_empty(t):
    srv = t.server()
    a, b = t.users(srv, "alice", "bob")
    a.say("/join dev")
    a.expect(re.compile(r"\* you joined #dev \(%s here\)" % people(1)))
    a.say("/topic no messages")
    a.expect("* alice set the topic of #dev: no messages")
    b.read_until("* alice left #lobby")
    b.say("/join dev")
    b.expect("* you joined #dev (2 people here)")
    b.expect("* topic: no messages")
    b.barrier()  # no history frame at all
    # Back to the lobby, where nothing was ever said.
    b.say("/join lobby")
    b.expect(re.compile(r"\* you joined #lobby \(%s here\)" % people(1)))
    b.barrier()


# -- /quit and disconnects -------------------------------------------------


def test_quit_plain(t):
    srv = t.server()
    a, b = t.users(srv, "alice", "bob")
    a.say("/quit")
    a.expect("* bye")
    a.expect_end()
    b.expect("* alice quit")
    b.barrier()
    srv.wait_event("disconnect", nick="alice", reason="quit", id=a.id)


def test_quit_with_reason(t):
    srv = t.server()
    a, b = t.users(srv, "alice", "bob")
    a.say("/quit gone fishing, back soon")
    a.expect("* bye")
    a.expect_end()
    b.expect("* alice quit (gone fishing, back soon)")
    b.barrier()


def test_dollar_exit(t):
    srv = t.server()
    a, b, c, d = t.users(srv, "alice", "bob", "carol", "dave")
    a.say("$exit")
    a.expect("* bye")
    a.expect_end()
    b.expect("* alice quit")
    c.expect("* alice quit")
    d.expect("* alice quit")
    b.say("$Exit")
    b.expect("* bye")
    b.expect_end()
    c.expect("* bob quit")
    d.expect("* bob quit")
    # "$exit" with more text is a message, not a quit.
    c.say("$exit now")
    d.expect("[carol]: $exit now")
    t.barrier(c, d)
    srv.wait_event("disconnect", nick="alice", reason="quit")


def test_quit_seen_only_by_room(t):
    srv = t.server()
    a, b, c = t.users(srv, "alice", "bob", "carol")
    c.say("/join dev")
    c.expect(re.compile(r"\* you joined #dev \(%s here\)" % people(1)))
    a.expect("* carol left #lobby")
    b.expect("* carol left #lobby")
    a.say("/quit")
    a.expect("* bye")
    a.expect_end()
    b.expect("* alice quit")
    c.barrier()


def test_disconnect_without_quit(t):
    srv = t.server()
    a, b = t.users(srv, "alice", "bob")
    a.close()
    b.expect("* alice quit (connection closed)")
    b.barrier()
    srv.wait_event("disconnect", nick="alice", reason="eof", id=a.id)


def test_quiet_above(t):
    srv = t.server("--quiet-above", "2")
    a = t.client(srv)
    a.welcome()
    b = t.client(srv)
    b.welcome()
    a.expect("* user2 joined #lobby")  # 2 people, counting user2
    c = t.client(srv)
    c.welcome()
    t.barrier(a, b)  # 3 people: nobody told
    c.say("/nick carol")
    c.expect("* you are now carol")
    t.barrier(a, b)
    c.say("hello")
    a.expect("[carol]: hello")  # messages are never quiet
    b.expect("[carol]: hello")
    # Leaving a room of 3 (counting carol): quiet; joining #dev alone.
    c.say("/join dev")
    c.expect(re.compile(r"\* you joined #dev \(%s here\)" % people(1)))
    t.barrier(a, b)
    c.say("/join lobby")
    c.expect("* you joined #lobby (3 people here)")
    c.expect(re.compile(r"\* --- last 1 messages? in #lobby \(times in UTC\) ---"))
    c.expect(re.compile(r"\d\d:\d\d \[carol\]: hello"))
    c.expect("* --- end of history ---")
    t.barrier(a, b)
    c.say("/quit")
    c.expect("* bye")
    c.expect_end()
    # carol's quit concerned a room of 3 counting her: quiet.
    t.barrier(a, b)
    b.say("/nick bob")
    b.expect("* you are now bob")
    a.expect("* user2 is now bob")  # back to 2 people
    b.say("/join dev")
    b.expect(re.compile(r"\* you joined #dev \(%s here\)" % people(1)))
    a.expect("* bob left #lobby")
