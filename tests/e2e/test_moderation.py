"""Moderation from a text client: operators, kicks, bans, mute and voice,
invitations, keys, limits and the general /mode.

Every expected line is quoted from docs/protocol.md (Moderation). The
person who makes a room is its operator; each test sets up its room with
crew(), whose first member made it.
"""

import re
import time

from harness import BARRIER_REPLY, check, people

NOT_OP = "! you are not an operator of #dev"
NO_ROOM = "! you are in no room: /join ROOM"
MODERATED = "! #dev is moderated: only its operators and voiced people may talk"
BANNED_TALK = "! you are banned from #dev and may not talk there"
BAN_LINE = re.compile(r"\*   (\S+) \(by (\S+), (\d{4}-\d\d-\d\d \d\d:\d\d) UTC\)")


def drain(c):
    """Reads and drops what c has pending (notices of others' arrivals),
    up to the reply to a /topic it sends."""
    c.send("/topic\n")
    c.read_until(BARRIER_REPLY)


def crew(t, srv, *names, room="dev", sources=None):
    """One client per name, welcomed, renamed, then joined to #room in
    order: the first made the room, so it is its operator. sources maps a
    name to a loopback address to connect from (each has its own host).
    Every client starts with nothing pending."""
    out = []
    for i, name in enumerate(names):
        c = t.client(srv, source=(sources or {}).get(name))
        c.welcome()
        c.say("/nick " + name)
        c.expect("* you are now " + name)
        c.nick = name
        c.say("/join " + room)
        c.expect("* you joined #%s (%s here)" % (room, people(i + 1)))
        out.append(c)
    for c in out:
        drain(c)
    return out


def roomless_barrier(c):
    """Barrier for a client in no room: its /topic must be answered at
    once with the no-room line."""
    c.send("/topic\n")
    c.expect(NO_ROOM)


def everyone(clients, line):
    """Each client's next line is line."""
    for c in clients:
        c.expect(line)


def ban_list(c):
    """c's /bans, as [(mask, setter, 'YYYY-MM-DD HH:MM')]."""
    c.say("/bans")
    head = c.expect(re.compile(r"\* (\d+) bans? in #dev:"))
    n = int(head.group(1))
    check((n == 1) == head.group(0).startswith("* 1 ban "), "count phrase %r", head.group(0))
    return [c.expect(BAN_LINE).groups() for _ in range(n)]


# -- operators -------------------------------------------------------------


def test_first_joiner_is_op(t):
    """Whoever joins a room nobody is in is its operator, and /who marks
    operators with @ and voiced people with +; the operator may make
    others operators.  Before, rooms had no operators and /op was an
    unknown command."""
    srv = t.server()
    alice, bob, carol = crew(t, srv, "alice", "bob", "carol")
    bob.say("/who")
    bob.expect("* #dev (3 people): @alice, bob, carol")
    alice.say("/op bob")
    everyone((alice, bob, carol), "* alice set mode +o bob in #dev")
    alice.say("/voice carol")
    everyone((alice, bob, carol), "* alice set mode +v carol in #dev")
    carol.say("/who")
    carol.expect("* #dev (3 people): @alice, @bob, +carol")
    # bob is an operator now: he may do what alice does.
    bob.say("/deop alice")
    everyone((alice, bob, carol), "* bob set mode -o alice in #dev")
    alice.say("/op alice")
    alice.expect(NOT_OP)
    # The room empties; the next to come makes it anew and is its operator.
    for c in (alice, bob, carol):
        c.say("/join lobby")
        c.read_until(re.compile(r"\* you joined #lobby .*"))
    carol.say("/join dev")
    carol.expect("* you joined #dev (1 person here)")
    carol.say("/who")
    carol.expect("* #dev (1 person): @carol")
    # The lobby is no different: its first comer is its operator.
    srv2 = t.server()
    a, b = t.users(srv2, "alice", "bob")
    b.say("/who")
    b.expect("* #lobby (2 people): @alice, bob")


def test_non_op_is_refused(t):
    """Every operator command from a non-operator gets one line, and
    nothing happens.  Before, each was an unknown command."""
    srv = t.server()
    alice, bob = crew(t, srv, "alice", "bob")
    for cmd in (
        "/kick alice",
        "/kick nobody",
        "/ban alice",
        "/ban spam!*@*",
        "/unban spam!*@*",
        "/op bob",
        "/deop alice",
        "/voice bob",
        "/devoice bob",
        "/mute",
        "/unmute",
    ):
        bob.say(cmd)
        bob.expect(NOT_OP)
    # The general form too, once for all its changes.
    bob.say("/mode +mi-t+o bob")
    bob.expect(NOT_OP)
    t.barrier(bob, alice)
    alice.say("/who")
    alice.expect("* #dev (2 people): @alice, bob")
    alice.say("/mode")
    alice.expect("* modes of #dev: +n")  # as every room is made


# -- kicks -----------------------------------------------------------------


def test_kick(t):
    """/kick puts a person out of the room: the room and the kicked see it,
    the kicked is in no room then, and may come back.  Before, /kick was an
    unknown command."""
    srv = t.server()
    alice, bob, carol = crew(t, srv, "alice", "bob", "carol")
    alice.say("/kick bob stop spamming")
    alice.expect("* alice kicked bob from #dev (stop spamming)")
    carol.expect("* alice kicked bob from #dev (stop spamming)")
    bob.expect("* alice kicked you from #dev (stop spamming)")
    # bob is in no room: what he types reaches nobody, and he is told.
    bob.say("hello?")
    bob.expect(NO_ROOM)
    bob.say("/me waves")
    bob.expect(NO_ROOM)
    bob.say("/who")
    bob.expect(NO_ROOM)
    roomless_barrier(bob)
    t.barrier(alice, carol)
    carol.say("/who")
    carol.expect("* #dev (2 people): @alice, carol")
    # A kick is no ban.
    bob.say("/join dev")
    bob.expect("* you joined #dev (3 people here)")
    alice.expect("* bob joined #dev")
    carol.expect("* bob joined #dev")
    # Without a reason.
    alice.say("/kick BOB")
    everyone((alice, carol), "* alice kicked bob from #dev")
    bob.expect("* alice kicked you from #dev")
    t.barrier(alice, carol)


def test_kick_errors(t):
    """The errors of /kick, each one line; nobody else hears of them."""
    srv = t.server()
    alice, bob = crew(t, srv, "alice", "bob")
    (dave,) = t.users(srv, "dave")  # in #lobby
    alice.say("/kick")
    alice.expect("! usage: /kick NICK [REASON]")
    alice.say("/kick nobody")
    alice.expect("! no such nick: nobody")
    alice.say("/kick dave why not")
    alice.expect("! dave is not in #dev")
    t.barrier(alice, bob, dave)
    # Kicking oneself is allowed; then one is in no room.
    alice.say("/kick alice bye")
    alice.expect("* alice kicked you from #dev (bye)")
    bob.expect("* alice kicked alice from #dev (bye)")
    alice.say("/kick bob")
    alice.expect(NO_ROOM)


# -- bans ------------------------------------------------------------------


def test_kick_and_ban_keep_out(t):
    """/ban NICK bans the host of a present person (and says so), who may no
    longer talk inside; after /kick they cannot come back, under any nick,
    until /unban.  /bans lists the bans with who set them and when.  Before,
    /ban, /kick, /bans and /unban were unknown commands."""
    srv = t.server()
    alice, bob, carol = crew(t, srv, "alice", "bob", "carol", sources={"bob": "127.0.0.2"})
    t0 = time.time()
    alice.say("/ban bob")
    everyone((alice, bob, carol), "* alice set mode +b *!*@127.0.0.2 in #dev")
    alice.expect("* that bans bob's host: anyone from 127.0.0.2")
    t1 = time.time()
    # Inside, bob is silenced; the room hears nothing of him.
    bob.say("can you hear me")
    bob.expect(BANNED_TALK)
    bob.say("/me shouts")
    bob.expect(BANNED_TALK)
    t.barrier(bob, alice, carol)
    carol.say("carol may")
    alice.expect("[carol]: carol may")
    bob.expect("[carol]: carol may")
    # Out, he stays out, whatever his nick.
    alice.say("/kick bob")
    everyone((alice, carol), "* alice kicked bob from #dev")
    bob.expect("* alice kicked you from #dev")
    bob.say("/join dev")
    bob.expect("! you are banned from #dev")
    bob.say("/nick robert")
    bob.expect("* you are now robert")
    bob.say("/join #DEV")
    bob.expect("! you are banned from #dev")
    roomless_barrier(bob)
    t.barrier(alice, carol)
    # Anyone inside may list the bans.
    bans = ban_list(carol)
    check(len(bans) == 1 and bans[0][:2] == ("*!*@127.0.0.2", "alice"), "bans %r", bans)
    allowed = {time.strftime("%Y-%m-%d %H:%M", time.gmtime(x)) for x in range(int(t0) - 1, int(t1) + 2)}
    check(bans[0][2] in allowed, "ban time %s is not the UTC time it was set %s", bans[0][2], sorted(allowed))
    # /unban with the mask /bans shows lets him in again.
    alice.say("/unban *!*@127.0.0.2")
    everyone((alice, carol), "* alice set mode -b *!*@127.0.0.2 in #dev")
    carol.say("/bans")
    carol.expect("* #dev has no bans")
    bob.say("/join dev")
    bob.expect("* you joined #dev (3 people here)")
    bob.say("back")
    alice.read_until("[robert]: back")


def test_unban_by_nick_and_ban_masks(t):
    """/unban NICK lifts what /ban NICK set; masks are completed as IRC
    does (a nick alone, a host with dots); a nick nobody has is refused
    with the way to ban it anyway."""
    srv = t.server()
    alice, bob = crew(t, srv, "alice", "bob", sources={"bob": "127.0.0.3"})
    alice.say("/ban bob")
    everyone((alice, bob), "* alice set mode +b *!*@127.0.0.3 in #dev")
    alice.expect("* that bans bob's host: anyone from 127.0.0.3")
    alice.say("/unban bob")
    everyone((alice, bob), "* alice set mode -b *!*@127.0.0.3 in #dev")
    for typed, mask in (
        ("spam*", "spam*!*@*"),
        ("10.0.0.1", "*!*@10.0.0.1"),
        ("eve!*@*", "eve!*@*"),
        ("*!~text@192.0.2.?", "*!~text@192.0.2.?"),
        ("x@example.org", "*!x@example.org"),
    ):
        alice.say("/ban " + typed)
        everyone((alice, bob), "* alice set mode +b %s in #dev" % mask)
    bans = ban_list(bob)
    check([b[0] for b in bans] == ["spam*!*@*", "*!*@10.0.0.1", "eve!*@*", "*!~text@192.0.2.?", "*!x@example.org"], "bans %r", bans)
    # A nick alone that nobody has: refused, with the way to ban it.
    alice.say("/ban nobody")
    alice.expect("! no such nick: nobody")
    alice.expect("! to ban that nick anyway: /ban nobody!*@*")
    # ... but /unban of one is the mask "NICK!*@*".
    alice.say("/unban eve")
    everyone((alice, bob), "* alice set mode -b eve!*@* in #dev")
    t.barrier(alice, bob)


def test_ban_errors(t):
    """The errors of /ban and /unban: usage, already banned, no such ban,
    bad mask, and a full ban list (100, IRC's usual MAXLIST)."""
    srv = t.server()
    alice, bob = crew(t, srv, "alice", "bob")
    alice.say("/ban")
    alice.expect("! usage: /ban NICK|MASK")
    alice.say("/ban a b")
    alice.expect("! usage: /ban NICK|MASK")
    alice.say("/unban")
    alice.expect("! usage: /unban NICK|MASK")
    alice.say("/bans all")
    alice.expect("! usage: /bans")
    alice.say("/ban spam*")
    everyone((alice, bob), "* alice set mode +b spam*!*@* in #dev")
    alice.say("/ban spam*")
    alice.expect("! #dev already bans spam*")
    alice.say("/unban ham*")
    alice.expect("! #dev has no ban ham* (see /bans)")
    long_mask = "*!*@" + "x" * 200
    alice.say("/ban " + long_mask)
    alice.expect('! bad mask "%s": NICK!USER@HOST, where * and ? are wildcards' % long_mask)
    t.barrier(alice, bob)
    for i in range(99):
        alice.say("/ban n%d!*@*" % i)
    for i in range(99):
        alice.expect("* alice set mode +b n%d!*@* in #dev" % i)
    alice.say("/ban one!*@*")
    alice.expect("! the ban list of #dev is full (max 100)")
    check(len(ban_list(alice)) == 100, "the ban list is not 100 long")
    bob.read_until("* alice set mode +b n98!*@* in #dev")
    t.barrier(bob)


def test_lobby_ban_keeps_newcomers_out(t):
    """#lobby has operators too: a host it bans gets the /join error as the
    second line of its welcome, no hint, and is in no room until it joins
    another."""
    srv = t.server()
    (alice,) = t.users(srv, "alice")
    alice.say("/ban 127.0.0.4")
    alice.expect("* alice set mode +b *!*@127.0.0.4 in #lobby")
    c = t.client(srv, source="127.0.0.4")
    c.expect("* welcome to parley, user2")
    c.expect("! you are banned from #lobby")
    c.say("hello?")
    c.expect(NO_ROOM)
    c.say("/join dev")
    c.expect("* you joined #dev (1 person here)")
    t.barrier(alice, c)


# -- mute and voice --------------------------------------------------------


def test_mute_lets_only_ops_and_voiced_talk(t):
    """/mute (+m): only operators and voiced people may talk; /voice lets
    one in, /devoice and /unmute undo them.  Before, /mute was unknown and
    everyone could always talk."""
    srv = t.server()
    alice, bob, carol = crew(t, srv, "alice", "bob", "carol")
    alice.say("/mute")
    everyone((alice, bob, carol), "* alice set mode +m in #dev")
    bob.say("may I?")
    bob.expect(MODERATED)
    carol.say("/me protests")
    carol.expect(MODERATED)
    t.barrier(bob, carol, alice)
    alice.say("ops may")
    bob.expect("[alice]: ops may")
    carol.expect("[alice]: ops may")
    alice.say("/voice bob")
    everyone((alice, bob, carol), "* alice set mode +v bob in #dev")
    bob.say("now I may")
    alice.expect("[bob]: now I may")
    carol.expect("[bob]: now I may")
    carol.say("and me?")
    carol.expect(MODERATED)
    carol.say("/who")
    carol.expect("* #dev (3 people): @alice, +bob, carol")
    alice.say("/devoice bob")
    everyone((alice, bob, carol), "* alice set mode -v bob in #dev")
    bob.say("again?")
    bob.expect(MODERATED)
    alice.say("/unmute")
    everyone((alice, bob, carol), "* alice set mode -m in #dev")
    carol.say("free at last")
    alice.expect("[carol]: free at last")
    bob.expect("[carol]: free at last")
    t.barrier(alice, bob, carol)


def test_status_errors(t):
    """Each refused /op, /deop, /voice, /devoice, /mute, /unmute gets one
    line, and nobody else hears of it."""
    srv = t.server()
    alice, bob = crew(t, srv, "alice", "bob")
    (dave,) = t.users(srv, "dave")
    for cmd, line in (
        ("/op", "! usage: /op NICK"),
        ("/deop a b", "! usage: /deop NICK"),
        ("/voice", "! usage: /voice NICK"),
        ("/devoice", "! usage: /devoice NICK"),
        ("/mute now", "! usage: /mute"),
        ("/unmute now", "! usage: /unmute"),
        ("/op nobody", "! no such nick: nobody"),
        ("/op dave", "! dave is not in #dev"),
        ("/op alice", "! alice is already an operator of #dev"),
        ("/deop bob", "! bob is not an operator of #dev"),
        ("/devoice bob", "! bob has no voice in #dev"),
        ("/unmute", "! #dev is not +m"),
    ):
        alice.say(cmd)
        alice.expect(line)
    alice.say("/voice bob")
    everyone((alice, bob), "* alice set mode +v bob in #dev")
    alice.say("/voice bob")
    alice.expect("! bob already has voice in #dev")
    alice.say("/mute")
    everyone((alice, bob), "* alice set mode +m in #dev")
    alice.say("/mute")
    alice.expect("! #dev is already +m")
    t.barrier(alice, bob, dave)


# -- invitations, keys, limits ---------------------------------------------


def test_invite_only_with_invite(t):
    """+i keeps out all but the invited; an operator's /invite lets one in,
    once.  Before, /invite and /mode were unknown commands."""
    srv = t.server()
    alice, bob = crew(t, srv, "alice", "bob")
    (dave,) = t.users(srv, "dave")
    alice.say("/mode +i")
    everyone((alice, bob), "* alice set mode +i in #dev")
    dave.say("/join dev")
    dave.expect("! #dev is invite-only: an operator must /invite you")
    bob.say("/invite dave")
    bob.expect("! #dev is invite-only: only its operators may invite")
    alice.say("/invite dave")
    dave.expect("* alice invites you to #dev: /join #dev")
    alice.expect("* alice invited dave to #dev")
    t.barrier(bob)  # not an operator: not told
    dave.say("/join dev")
    dave.expect("* you joined #dev (3 people here)")
    alice.expect("* dave joined #dev")
    bob.expect("* dave joined #dev")
    # The invitation is used up.
    alice.say("/kick dave")
    everyone((alice, bob), "* alice kicked dave from #dev")
    dave.expect("* alice kicked you from #dev")
    dave.say("/join dev")
    dave.expect("! #dev is invite-only: an operator must /invite you")
    t.barrier(alice, bob)


def test_invite_without_invite_only(t):
    """In a room that is not +i anyone inside may invite; the inviter sees
    the line the operators see.  And the errors of /invite."""
    srv = t.server()
    alice, bob = crew(t, srv, "alice", "bob")
    (dave,) = t.users(srv, "dave")
    bob.say("/invite dave")
    dave.expect("* bob invites you to #dev: /join #dev")
    bob.expect("* bob invited dave to #dev")
    alice.expect("* bob invited dave to #dev")
    for cmd, line in (
        ("/invite", "! usage: /invite NICK"),
        ("/invite a b", "! usage: /invite NICK"),
        ("/invite nobody", "! no such nick: nobody"),
        ("/invite alice", "! alice is already in #dev"),
    ):
        bob.say(cmd)
        bob.expect(line)
    t.barrier(alice, bob, dave)


def test_key(t):
    """+k: /join ROOM KEY gets in, without the key or with a wrong one not;
    members see the key in /mode.  Before, /mode was unknown."""
    srv = t.server()
    alice, bob = crew(t, srv, "alice", "bob")
    (dave,) = t.users(srv, "dave")
    alice.say("/mode +k sesame")
    everyone((alice, bob), "* alice set mode +k sesame in #dev")
    for cmd in ("/join dev", "/join dev open", "/join dev SESAME"):
        dave.say(cmd)
        dave.expect("! #dev needs a key: /join #dev KEY")
    dave.say("/join #dev sesame")
    dave.expect("* you joined #dev (3 people here)")
    everyone((alice, bob), "* dave joined #dev")
    dave.say("/mode")
    dave.expect("* modes of #dev: +nk sesame")
    alice.say("/mode +k a,b")
    alice.expect('! bad key "a,b": 1-32 characters, no spaces, commas or colons')
    alice.say("/mode -k")
    everyone((alice, bob, dave), "* alice set mode -k * in #dev")
    alice.say("/mode -k")
    alice.expect("! #dev has no key")
    t.barrier(alice, bob, dave)


def test_limit(t):
    """+l N: nobody joins a room of N people.  Before, /mode was unknown."""
    srv = t.server()
    alice, bob = crew(t, srv, "alice", "bob")
    (carol,) = t.users(srv, "carol")
    alice.say("/mode +l 2")
    everyone((alice, bob), "* alice set mode +l 2 in #dev")
    carol.say("/join dev")
    carol.expect("! #dev is full (limit 2)")
    alice.say("/mode +l 0")
    alice.expect('! bad limit "0": a number, 1 or more')
    alice.say("/mode +l 3")
    everyone((alice, bob), "* alice set mode +l 3 in #dev")
    carol.say("/join dev")
    carol.expect("* you joined #dev (3 people here)")
    everyone((alice, bob), "* carol joined #dev")
    alice.say("/mode -l")
    everyone((alice, bob, carol), "* alice set mode -l in #dev")
    alice.say("/mode -l")
    alice.expect("! #dev has no limit")
    t.barrier(alice, bob, carol)


def test_secret_room_hidden_from_outside(t):
    """+s: /rooms and /who do not show the room to those not in it.
    Before, /mode was unknown and /rooms listed every room."""
    srv = t.server()
    alice, bob = crew(t, srv, "alice", "bob")
    (carol,) = t.users(srv, "carol")
    alice.say("/mode +s")
    everyone((alice, bob), "* alice set mode +s in #dev")
    carol.say("/rooms")
    carol.expect("* #lobby: 1 person")
    carol.say("/rooms dev")
    carol.expect('* no room has "dev" in its name')
    carol.say("/who dev")
    carol.expect("! no such room: #dev")
    bob.say("/rooms")
    bob.expect("* #dev: 2 people")
    bob.expect("* #lobby: 1 person")
    t.barrier(bob, carol)
    # Secret is not closed: carol may join, and then sees it.
    carol.say("/join dev")
    carol.expect("* you joined #dev (3 people here)")
    everyone((alice, bob), "* carol joined #dev")
    carol.say("/rooms")
    carol.expect("* #dev: 3 people")
    carol.expect("* #lobby: 0 people")
    t.barrier(carol, alice, bob)


def test_empty_invite_only_room_goes_to_its_next_comer(t):
    """A +i room kept (here for its topic) after everyone left has nobody to
    invite anyone: the first to come is let in and is its operator; it
    stays invite-only for the next.  Before, nobody could ever enter it."""
    srv = t.server()
    alice, bob = crew(t, srv, "alice", "bob")
    alice.say("/topic private")
    everyone((alice, bob), "* alice set the topic of #dev: private")
    alice.say("/mode +i")
    everyone((alice, bob), "* alice set mode +i in #dev")
    for c in (alice, bob):
        c.say("/join lobby")
        c.read_until(re.compile(r"\* you joined #lobby .*"))
    bob.say("/join dev")
    bob.expect("* you joined #dev (1 person here)")
    bob.expect("* topic: private")
    bob.say("/who")
    bob.expect("* #dev (1 person): @bob")
    alice.expect("* bob joined #lobby")
    alice.expect("* bob left #lobby")
    alice.say("/join dev")
    alice.expect("! #dev is invite-only: an operator must /invite you")


# -- the general /mode -----------------------------------------------------


def test_mode_general_form(t):
    """/mode +MODES [ARGS] with IRC's letters: several changes at once go
    out as one line, and each refused one gets its own error.  Before,
    /mode was an unknown command."""
    srv = t.server()
    alice, bob, carol = crew(t, srv, "alice", "bob", "carol")
    alice.say("/mode")
    alice.expect("* modes of #dev: +n")  # as every room is made
    alice.say("/mode -n")
    everyone((alice, bob, carol), "* alice set mode -n in #dev")
    alice.say("/mode")
    alice.expect("* #dev has no modes set")
    alice.say("/mode +nt-m+ov+lk bob carol 10 key")
    everyone((alice, bob, carol), "* alice set mode +ntovlk bob carol 10 key in #dev")
    alice.expect("! #dev is not +m")
    bob.say("/mode")
    bob.expect("* modes of #dev: +ntkl key 10")
    carol.say("/who")
    carol.expect("* #dev (3 people): @alice, @bob, +carol")
    # +t: only operators set the topic.
    carol.say("/topic mine")
    carol.expect("! only operators of #dev may set its topic")
    bob.say("/topic ours")
    everyone((alice, bob, carol), "* bob set the topic of #dev: ours")
    # Applied changes and refused ones in one command.
    alice.say("/mode -o+qs-v bob carol")
    everyone((alice, bob, carol), "* alice set mode -o+s-v bob carol in #dev")
    alice.expect("! unknown mode: q (modes: i m n s t k l b o v)")
    for cmd, line in (
        ("/mode o", '! bad modes "o": + or -, then letters among i m n s t k l b o v'),
        ("/mode +", '! bad modes "+": + or -, then letters among i m n s t k l b o v'),
        ("/mode +\u00e9", '! bad modes "+\u00e9": + or -, then letters among i m n s t k l b o v'),
        ("/mode +o", "! mode +o needs an argument"),
        ("/mode +b", "! mode +b needs an argument"),
        ("/mode +o nobody", "! no such nick: nobody"),
        ("/mode +s extra", '! too many arguments for +s: "extra" is left over'),
        ("/mode +imnstimnstimn", "! too many mode changes at once (max 12)"),
    ):
        alice.say(cmd)
        alice.expect(line)
    # Nothing of the refused reached anyone.
    t.barrier(alice, bob, carol)
    carol.say("/mode")
    carol.expect("* modes of #dev: +nstkl key 10")

