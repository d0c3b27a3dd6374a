"""IRC channel moderation and listing: MODE (channel and user modes, the
ban list), KICK, INVITE and LIST, and moderation that holds across the two
protocols (docs/irc.md, Channels)."""
import re

from harness import check
from irc import SERVER_NAME, IrcMsg, irc_user, mixed_server

S = ":" + SERVER_NAME


def src(nick):
    """The source of an IRC user's lines: nick!~nick@127.0.0.1."""
    return "%s!~%s@127.0.0.1" % (nick, nick)


def channel(t, srv, *nicks, chan="#dev", caps=()):
    """Registers IRC users; the first creates chan (and is its operator),
    the others join it in turn. Every JOIN is read by everyone already in,
    so all start with nothing pending. Returns the clients."""
    out = []
    for nick in nicks:
        c = irc_user(t, srv, nick, caps=caps)
        c.send_line("JOIN " + chan)
        c.until_cmd("366")
        for p in out:
            p.expect(":%s JOIN %s" % (src(nick), chan))
        out.append(c)
    return out


def replies(*steps):
    """Runs (client, line sent, numeric reply expected) steps in order; the
    reply is given without the server name in front."""
    for c, line, want in steps:
        c.send_line(line)
        c.expect(S + " " + want)


def text_join(text, chan, irc_clients, nick):
    """A text user moves into chan (it leaves #lobby); the IRC users there
    see the JOIN."""
    text.say("/join " + chan)
    text.read_until(re.compile(r"\* you joined %s \(.*\)" % chan))
    for c in irc_clients:
        c.expect(":%s!~text@127.0.0.1 JOIN %s" % (nick, chan))


# --------------------------------------------------------------------------
# MODE #chan: showing, changing
# --------------------------------------------------------------------------


def test_mode_query_shows_modes_args_to_members_and_creation_time(t):
    """MODE #chan: 324 with the key and limit for members only, then 329
    with the creation time."""
    srv = mixed_server(t)
    a, b = channel(t, srv, "alice", "bob")
    c = irc_user(t, srv, "carol")
    a.send_line("MODE #dev +tkl sekrit 5")
    for u in (a, b):
        u.expect(":%s MODE #dev +tkl sekrit 5" % src("alice"))
    b.send_line("MODE #dev")
    b.expect(S + " 324 bob #dev +ntkl sekrit 5")  # +n: as rooms are made
    m = b.expect_num("329", "#dev")
    check(re.fullmatch(r"\d{10}", m.params[2]), "329: %r", m.line)
    c.send_line("MODE #dev")
    c.expect(S + " 324 carol #dev +ntkl")
    c.expect_num("329", "#dev", m.params[2])
    c.send_line("MODE #nowhere")
    c.expect(S + " 403 carol #nowhere :No such channel")
    a.send_line("MODE #dev -tkl *")
    a.expect(":%s MODE #dev -tkl *" % src("alice"))
    a.send_line("MODE #dev")
    a.expect(S + " 324 alice #dev +n")
    a.expect_num("329")
    a.barrier()


def test_mode_runs_and_parameters_as_servers_read_them(t):
    """+ and - runs; o, v, b and k take a parameter, l only when set; the
    applied changes reach every member as one MODE line, text users too."""
    srv = mixed_server(t)
    a, b = channel(t, srv, "alice", "bob")
    (tx,) = t.users(srv, "tim")
    text_join(tx, "#dev", (a, b), "tim")
    a.send_line("MODE #dev +ov-o+im bob bob bob")
    line = ":%s MODE #dev +ov-o+im bob bob bob" % src("alice")
    a.expect(line)
    b.expect(line)
    tx.expect("* alice set mode +ov-o+im bob bob bob in #dev")
    # -l takes no parameter: "bob" goes to +v. The voice bob has already
    # changes nothing and is left out.
    a.send_line("MODE #dev +l-l+v-v 3 bob bob")
    line = ":%s MODE #dev +l-lv 3 bob" % src("alice")
    a.expect(line)
    b.expect(line)
    tx.expect("* alice set mode +l-lv 3 bob in #dev")
    # A change that changes nothing is not sent at all.
    a.send_line("MODE #dev +i")
    a.barrier()
    b.barrier()
    t.barrier(tx)


def test_mode_unknown_letter_gets_472_and_the_rest_applies(t):
    srv = mixed_server(t)
    (a,) = channel(t, srv, "alice")
    a.send_line("MODE #dev +xiy")
    a.expect(S + " 472 alice x :is unknown mode char to me")
    a.expect(S + " 472 alice y :is unknown mode char to me")
    a.expect(":%s MODE #dev +i" % src("alice"))
    a.send_line("MODE #dev +é")  # no letter: nothing to name
    a.barrier()


def test_mode_by_non_op_gets_482_once_and_non_member_442(t):
    srv = mixed_server(t)
    a, b = channel(t, srv, "alice", "bob")
    c = irc_user(t, srv, "carol")
    b.send_line("MODE #dev +imo bob")
    b.expect(S + " 482 bob #dev :You're not channel operator")
    b.barrier()
    c.send_line("MODE #dev +i")
    c.expect(S + " 442 carol #dev :You're not on that channel")
    c.barrier()
    a.barrier()  # nothing changed, nobody was told anything


def test_mode_targets_401_and_441(t):
    srv = mixed_server(t)
    (a,) = channel(t, srv, "alice")
    irc_user(t, srv, "carol")
    a.send_line("MODE #dev +o nobody")
    a.expect(S + " 401 alice nobody :No such nick/channel")
    a.send_line("MODE #dev +v carol")
    a.expect(S + " 441 alice carol #dev :They aren't on that channel")
    a.barrier()


def test_mode_missing_parameter_is_ignored_and_minus_k_needs_none(t):
    """o, v, +k and +l without their parameter are dropped as servers do;
    +b without one lists the bans; -k may come without the key."""
    srv = mixed_server(t)
    (a,) = channel(t, srv, "alice")
    a.send_line("MODE #dev +o")
    a.send_line("MODE #dev +k")
    a.send_line("MODE #dev +l")
    a.send_line("MODE #dev +v :")
    a.send_line("MODE #dev +k :")
    a.barrier()
    a.send_line("MODE #dev +k key")
    a.expect(":%s MODE #dev +k key" % src("alice"))
    a.send_line("MODE #dev -k")
    a.expect(":%s MODE #dev -k *" % src("alice"))
    a.barrier()


def test_mode_bad_parameters_get_696(t):
    srv = mixed_server(t)
    (a,) = channel(t, srv, "alice")
    bad_key = "696 alice #dev k * :Invalid key: 1-32 characters, no spaces, commas or colons"
    replies(
        (a, "MODE #dev +k :two words", bad_key),
        (a, "MODE #dev +k " + "k" * 33, bad_key),
        (a, "MODE #dev +l abc", "696 alice #dev l abc :Invalid limit: a number from 1"),
        (a, "MODE #dev +l 0", "696 alice #dev l 0 :Invalid limit: a number from 1"),
        # A mask that could not be sent back as one parameter.
        (a, "MODE #dev +b ::x!y@z", "696 alice #dev b * :Invalid ban mask"),
        (a, "MODE #dev", "324 alice #dev +n"),
    )
    a.expect_num("329")


def test_mode_limit_of_ten_digits_is_refused_not_cut(t):
    """+l 1000000000 is refused; it does not become a limit of 100000000."""
    srv = mixed_server(t)
    (a,) = channel(t, srv, "alice")
    a.send_line("MODE #dev +l 1000000000")
    a.expect(S + " 696 alice #dev l 1000000000 :Invalid limit: a number from 1")
    a.send_line("MODE #dev +l 999999999")
    a.expect(":%s MODE #dev +l 999999999" % src("alice"))


def test_mode_at_most_20_parameters_per_command(t):
    """MODES=20: a 21st and 22nd mode with a parameter are dropped."""
    srv = mixed_server(t)
    (a,) = channel(t, srv, "alice")
    masks = ["m%d" % i for i in range(22)]
    a.send_line("MODE #dev +" + "b" * 22 + " " + " ".join(masks))
    want = ["%s!*@*" % m for m in masks[:20]]
    a.expect(":%s MODE #dev +%s %s" % (src("alice"), "b" * 20, " ".join(want)))
    a.barrier()


def test_ban_list_with_setter_and_time(t):
    srv = mixed_server(t)
    a, b = channel(t, srv, "alice", "bob")
    a.send_line("MODE #dev +bb bob *!*@10.0.0.1")
    line = ":%s MODE #dev +bb bob!*@* *!*@10.0.0.1" % src("alice")
    a.expect(line)
    b.expect(line)
    for ask in ("MODE #dev +b", "MODE #dev b"):
        b.send_line(ask)
        m1 = b.expect_num("367", "#dev", "bob!*@*", src("alice"))
        check(re.fullmatch(r"\d{10}", m1.params[4]), "367: %r", m1.line)
        b.expect_num("367", "#dev", "*!*@10.0.0.1", src("alice"), m1.params[4])
        b.expect(S + " 368 bob #dev :End of channel ban list")
    a.send_line("MODE #dev -b BOB!*@*")  # case does not matter
    a.expect(":%s MODE #dev -b BOB!*@*" % src("alice"))
    a.send_line("MODE #dev +b")
    a.expect_num("367", "#dev", "*!*@10.0.0.1")
    a.expect_num("368", "#dev")


def test_ban_list_full_gets_478(t):
    """MAXLIST=b:100: the 101st ban is refused with 478."""
    srv = mixed_server(t)
    (a,) = channel(t, srv, "alice")
    for k in range(5):
        masks = ["m%d" % (20 * k + i) for i in range(20)]
        a.send_line("MODE #dev +" + "b" * 20 + " " + " ".join(masks))
        a.expect_cmd("MODE", "#dev", "+" + "b" * 20)
    a.send_line("MODE #dev +bi late")
    a.expect(":%s MODE #dev +i" % src("alice"))
    a.expect(S + " 478 alice #dev late :Channel ban list is full")


def test_user_modes(t):
    """MODE nick: 221; +i and -i (the reply is a MODE line); unknown
    letters 501; someone else's modes 502; no such nick 401."""
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice")
    irc_user(t, srv, "bob")
    replies((a, "MODE alice", "221 alice +"))
    a.send_line("MODE ALICE +i")
    a.expect(":%s MODE alice +i" % src("alice"))
    replies(
        (a, "MODE alice", "221 alice +i"),
        (a, "MODE alice +ix", "501 alice :Unknown MODE flag"),  # +i already
    )
    a.send_line("MODE alice -i")
    a.expect(":%s MODE alice -i" % src("alice"))
    replies(
        (a, "MODE bob +i", "502 alice :Cant change mode for other users"),
        (a, "MODE bob", "502 alice :Cant change mode for other users"),
        (a, "MODE nobody", "401 alice nobody :No such nick/channel"),
        (a, "MODE", "461 alice MODE :Not enough parameters"),
    )


# --------------------------------------------------------------------------
# KICK
# --------------------------------------------------------------------------


def test_kick_with_reason_default_reason_and_several_nicks(t):
    srv = mixed_server(t)
    a, b, c, d = channel(t, srv, "alice", "bob", "carol", "dave")
    a.send_line("KICK #dev bob :bye now")
    line = ":%s KICK #dev bob :bye now" % src("alice")
    for u in (a, b, c, d):
        u.expect(line)
    a.send_line("KICK #dev carol")
    line = ":%s KICK #dev carol :alice" % src("alice")
    for u in (a, c, d):
        u.expect(line)
    b.send_line("JOIN #dev")
    b.until_cmd("366")
    for u in (a, d):
        u.expect(":%s JOIN #dev" % src("bob"))
    a.send_line("KICK #dev bob,dave :both")
    for u in (a, d):
        u.expect(":%s KICK #dev bob :both" % src("alice"))
        if u is a:
            u.expect(":%s KICK #dev dave :both" % src("alice"))
    b.expect(":%s KICK #dev bob :both" % src("alice"))
    d.expect(":%s KICK #dev dave :both" % src("alice"))
    a.send_line("NAMES #dev")
    a.expect(S + " 353 alice = #dev :@alice")
    a.expect(S + " 366 alice #dev :End of /NAMES list")
    for u in (a, b, c, d):
        u.barrier()


def test_kick_errors(t):
    srv = mixed_server(t)
    a, b = channel(t, srv, "alice", "bob")
    c = irc_user(t, srv, "carol")
    replies(
        (c, "KICK #nowhere bob", "403 carol #nowhere :No such channel"),
        (c, "KICK #dev bob", "442 carol #dev :You're not on that channel"),
        (b, "KICK #dev alice", "482 bob #dev :You're not channel operator"),
        (a, "KICK #dev nobody", "401 alice nobody :No such nick/channel"),
        (a, "KICK #dev carol", "441 alice carol #dev :They aren't on that channel"),
        (a, "KICK #dev", "461 alice KICK :Not enough parameters"),
    )
    for u in (a, b, c):
        u.barrier()


def test_kick_reason_is_cut_to_kicklen(t):
    """KICKLEN=300: a longer reason is cut there, between characters."""
    srv = mixed_server(t)
    a, b = channel(t, srv, "alice", "bob")
    reason = "x" + "é" * 200  # 401 bytes
    a.send_line("KICK #dev bob :" + reason)
    m = b.expect_cmd("KICK", "#dev", "bob", source="alice")
    check(m.params[2] == "x" + "é" * 149, "reason of %d bytes: %r", len(m.params[2].encode()), m.line)


# --------------------------------------------------------------------------
# INVITE
# --------------------------------------------------------------------------


def test_invite_lets_into_invite_only_channel(t):
    srv = mixed_server(t)
    (a,) = channel(t, srv, "alice")
    b = irc_user(t, srv, "bob")
    a.send_line("MODE #dev +i")
    a.expect(":%s MODE #dev +i" % src("alice"))
    b.send_line("JOIN #dev")
    b.expect(S + " 473 bob #dev :Cannot join channel (+i)")
    a.send_line("INVITE bob #dev")
    a.expect(S + " 341 alice bob #dev")
    b.expect(":%s INVITE bob #dev" % src("alice"))
    b.send_line("JOIN #dev")
    b.expect(":%s JOIN #dev" % src("bob"))
    a.expect(":%s JOIN #dev" % src("bob"))


def test_invite_errors_and_empty_list(t):
    srv = mixed_server(t)
    a, b = channel(t, srv, "alice", "bob")
    c = irc_user(t, srv, "carol")
    replies(
        (a, "INVITE nobody #dev", "401 alice nobody :No such nick/channel"),
        (a, "INVITE carol #nowhere", "403 alice #nowhere :No such channel"),
        (a, "INVITE bob #dev", "443 alice bob #dev :is already on channel"),
        (c, "INVITE bob #dev", "442 carol #dev :You're not on that channel"),
    )
    a.send_line("MODE #dev +i")
    a.expect(":%s MODE #dev +i" % src("alice"))
    b.expect(":%s MODE #dev +i" % src("alice"))
    replies(
        (b, "INVITE carol #dev", "482 bob #dev :You're not channel operator"),
        (c, "INVITE", "337 carol :End of /INVITE list"),
        (c, "INVITE carol", "461 carol INVITE :Not enough parameters"),
    )
    for u in (a, b, c):
        u.barrier()


def test_invite_by_non_op_does_not_pass_a_ban(t):
    """An operator's invitation lets a banned person in once; anyone
    else's is only a notice: the ban still holds."""
    srv = mixed_server(t)
    a, c = channel(t, srv, "alice", "carol")
    b = irc_user(t, srv, "bob")
    a.send_line("MODE #dev +b bob")
    for u in (a, c):
        u.expect(":%s MODE #dev +b bob!*@*" % src("alice"))
    c.send_line("INVITE bob #dev")
    c.expect(S + " 341 carol bob #dev")
    b.expect(":%s INVITE bob #dev" % src("carol"))
    b.send_line("JOIN #dev")
    b.expect(S + " 474 bob #dev :Cannot join channel (+b)")
    a.send_line("INVITE bob #dev")
    a.expect(S + " 341 alice bob #dev")
    b.expect(":%s INVITE bob #dev" % src("alice"))
    b.send_line("JOIN #dev")
    b.expect(":%s JOIN #dev" % src("bob"))


# --------------------------------------------------------------------------
# LIST
# --------------------------------------------------------------------------


def list_of(c, ask):
    """Sends ask; requires 321, then 322s, then 323; returns {chan: line}."""
    c.send_line(ask)
    c.expect(S + " 321 %s Channel :Users  Name" % c.nick)
    got = {}
    while True:
        ln = c.line()
        if ln == S + " 323 %s :End of /LIST" % c.nick:
            return got
        m = IrcMsg(ln)
        check(m.command == "322" and m.params[0] == c.nick, "in LIST: %r", ln)
        got[m.params[1]] = ln
    return got


def test_list_channels_with_people_and_topics(t):
    """LIST: one 322 per channel that has people in it (not the empty
    #lobby), with its user count and topic."""
    srv = mixed_server(t)
    a, b = channel(t, srv, "alice", "bob", chan="#two")
    a.send_line("TOPIC #two :all about two")
    a.until_cmd("TOPIC")
    b.until_cmd("TOPIC")
    channel(t, srv, "carol", chan="#one")
    got = list_of(b, "LIST")
    check(
        got
        == {
            "#two": S + " 322 bob #two 2 :all about two",
            "#one": S + " 322 bob #one 1 :",
        },
        "LIST: %r",
        got,
    )
    check(list_of(b, "LIST #one,#nowhere") == {"#one": got["#one"]}, "LIST #one")


def test_list_hides_secret_channels_from_non_members(t):
    srv = mixed_server(t)
    a, b = channel(t, srv, "alice", "bob", chan="#hush")
    c = irc_user(t, srv, "carol")
    a.send_line("MODE #hush +s")
    a.until_cmd("MODE")
    b.until_cmd("MODE")
    check(list_of(c, "LIST") == {}, "carol sees the secret channel")
    check(list_of(c, "LIST #hush") == {}, "carol sees the secret channel by name")
    check(list(list_of(b, "LIST")) == ["#hush"], "bob does not see his channel")


def test_list_filters_by_users_and_masks(t):
    """ELIST=MNU: >N, <N, masks and !masks, combined."""
    srv = mixed_server(t)
    channel(t, srv, "a1", "a2", "a3", chan="#big")
    channel(t, srv, "b1", "b2", chan="#mid")
    (c,) = channel(t, srv, "c1", chan="#small")
    cases = {
        ">1": {"#big", "#mid"},
        "<3": {"#mid", "#small"},
        ">1,<3": {"#mid"},
        "<1": set(),
        ">0": {"#big", "#mid", "#small"},
        "#m*": {"#mid"},
        "*i*": {"#big", "#mid"},
        "!*i*": {"#small"},
        "*i*,!#b??,>0": {"#mid"},
        "#BIG,#small": {"#big", "#small"},
        "#b*,#s*": {"#big", "#small"},
    }
    for ask, want in cases.items():
        got = set(list_of(c, "LIST " + ask))
        check(got == want, "LIST %s: %r, want %r", ask, got, want)


def test_list_is_capped_at_1000_with_a_notice(t):
    """With 1005 channels, LIST shows 1000 and a NOTICE says how many more
    there are."""
    srv = mixed_server(t, "--room-rate", "0", "--room-rate-per-ip", "0", "--room-burst", "2000",
                       "--room-burst-per-ip", "2000")
    users = []
    for k in range(11):
        u = irc_user(t, srv, "u%d" % k)
        names = ["#c%d" % (100 * k + i) for i in range(100 if k < 10 else 5)]
        for i in range(0, len(names), 25):
            u.send_line("JOIN " + ",".join(names[i:i + 25]))
        for _ in names:
            u.until_cmd("366")
        users.append(u)
    c = users[-1]
    c.send_line("LIST")
    c.expect(S + " 321 u10 Channel :Users  Name")
    seen = set()
    for _ in range(1000):
        m = c.msg()
        check(m.command == "322", "in LIST: %r", m.line)
        seen.add(m.params[1])
    check(len(seen) == 1000, "%d distinct channels", len(seen))
    c.expect(S + " NOTICE u10 :LIST: 5 more not shown (at most 1000 per LIST); narrow it with a mask, >N or <N")
    c.expect(S + " 323 u10 :End of /LIST")


# --------------------------------------------------------------------------
# Across the protocols
# --------------------------------------------------------------------------


def test_irc_op_kicks_and_bans_a_text_user(t):
    """An IRC operator kicks a text user (who is told, as is a text
    observer), then bans the address: the text user cannot /join again, and
    a banned text user still inside cannot speak."""
    srv = mixed_server(t)
    (a,) = channel(t, srv, "alice")
    bob, carol = t.users(srv, "bob", "carol")
    text_join(bob, "#dev", (a,), "bob")
    text_join(carol, "#dev", (a,), "carol")
    bob.expect("* carol joined #dev")
    a.send_line("KICK #dev bob :spam")
    a.expect(":%s KICK #dev bob :spam" % src("alice"))
    bob.expect("* alice kicked you from #dev (spam)")
    carol.expect("* alice kicked bob from #dev (spam)")
    a.send_line("MODE #dev +b *!*@127.0.0.1")
    a.expect(":%s MODE #dev +b *!*@127.0.0.1" % src("alice"))
    carol.expect("* alice set mode +b *!*@127.0.0.1 in #dev")
    bob.say("/join dev")
    bob.expect("! you are banned from #dev")
    carol.say("can I talk?")
    carol.expect("! you are banned from #dev and may not talk there")
    a.barrier()
    # The operator, banned by the same mask, still talks.
    a.send_line("PRIVMSG #dev :I can")
    carol.expect("[alice]: I can")


def test_text_op_is_out_of_reach_of_irc_non_ops(t):
    """A text user who made the room is its operator: an IRC member may not
    kick, ban or deop them, and sees them as @ in NAMES."""
    srv = mixed_server(t)
    (bob,) = t.users(srv, "bob")
    bob.say("/join dev")
    bob.read_until(re.compile(r"\* you joined #dev \(1 person here\)"))
    a = irc_user(t, srv, "alice")
    a.send_line("JOIN #dev")
    msgs = a.until_cmd("366")
    names = [m for m in msgs if m.command == "353"]
    check(names and sorted(names[0].params[-1].split()) == ["@bob", "alice"], "names: %r", msgs)
    bob.expect("* alice joined #dev")
    a.send_line("KICK #dev bob")
    a.expect(S + " 482 alice #dev :You're not channel operator")
    a.send_line("MODE #dev +b-o bob bob")
    a.expect(S + " 482 alice #dev :You're not channel operator")
    t.barrier(bob)
    bob.say("still here")
    a.expect(":bob!~text@127.0.0.1 PRIVMSG #dev :still here")


def test_banned_irc_user_cannot_speak_or_rejoin(t):
    srv = mixed_server(t)
    a, b = channel(t, srv, "alice", "bob")
    a.send_line("MODE #dev +b bob")
    b.expect(":%s MODE #dev +b bob!*@*" % src("alice"))
    b.send_line("PRIVMSG #dev :hello?")
    b.expect(S + " 404 bob #dev :Cannot send to channel")
    a.send_line("KICK #dev bob")
    b.expect(":%s KICK #dev bob :alice" % src("alice"))
    b.send_line("JOIN #dev")
    b.expect(S + " 474 bob #dev :Cannot join channel (+b)")
    a.expect(":%s MODE #dev +b bob!*@*" % src("alice"))
    a.expect(":%s KICK #dev bob :alice" % src("alice"))
    a.barrier()
