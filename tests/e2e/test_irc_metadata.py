"""IRCv3 metadata (draft/metadata-3 and draft/metadata-2) and read markers
(draft/read-marker): METADATA GET/LIST/SET/CLEAR/SUB/UNSUB/SUBS/SYNC, who
may change what, the limits, notifications to subscribers, the JOIN burst,
WHOIS, before-connect; MARKREAD and the marker on JOIN (docs/irc.md)."""
import re
import time

from harness import check
from irc import SERVER_NAME, irc_client, irc_user, mixed_server
from test_ircv3 import join

S = ":" + SERVER_NAME
META = ("draft/metadata-3", "batch")
LIMITS = "before-connect,max-subs=50,max-keys=20,max-value-bytes=300"


def read_batch(c, type_, param):
    """Reads one batch BATCH +REF type_ param ... BATCH -REF; returns the
    lines inside it (their batch tag checked, then dropped from .line)."""
    start = c.expect_cmd("BATCH")
    check(start.params[0].startswith("+") and start.params[1:] == [type_, param], "batch start: %r", start.line)
    ref = start.params[0][1:]
    inner = []
    while True:
        m = c.msg()
        if m.command == "BATCH":
            check(m.params == ["-" + ref], "batch end: %r", m.line)
            return inner
        check(m.tags.get("batch") == ref, "line outside batch %s: %r", ref, m.line)
        inner.append(m.line.split(" ", 1)[1])


def meta_user(t, srv, nick, caps=META):
    return irc_user(t, srv, nick, caps=caps)


def sub(c, *keys):
    """Subscribes c to keys (c is in no channel: no SYNCLATER follows)."""
    c.send_line("METADATA * SUB " + " ".join(keys))
    c.expect("%s 770 %s %s" % (S, c.nick, " ".join(keys)))


# --------------------------------------------------------------------------
# Metadata
# --------------------------------------------------------------------------


def test_metadata_caps_carry_their_limits(t):
    """CAP LS 302 offers both metadata drafts with their limits (and
    before-connect) and draft/read-marker; a CAP LS without 302 names them
    without values."""
    srv = mixed_server(t)
    a = irc_client(t, srv)
    a.send_line("CAP LS 302")
    caps = a.expect_cmd("CAP", "*", "LS").params[-1].split()
    for name in ("draft/metadata-2", "draft/metadata-3"):
        check(name + "=" + LIMITS in caps, "%s=%s not in %s", name, LIMITS, caps)
    check("draft/read-marker" in caps, "read-marker not offered: %s", caps)
    b = irc_client(t, srv)  # 302 sticks to a connection: another one
    b.send_line("CAP LS")
    caps = b.expect_cmd("CAP", "*", "LS").params[-1].split()
    check({"draft/metadata-2", "draft/metadata-3", "draft/read-marker"} <= set(caps), "plain LS: %s", caps)
    check(not any("=" in c for c in caps), "values without 302: %s", caps)


def test_metadata_set_get_list_clear_own_keys(t):
    """A user sets, reads, lists, removes and clears its own keys; GET and
    LIST answer in a metadata batch, CLEAR with one 766 per key."""
    srv = mixed_server(t)
    a = meta_user(t, srv, "alice")
    a.send_line("METADATA * SET display-name :Alice A.")
    a.expect("%s 761 alice alice display-name * :Alice A." % S)
    a.send_line("METADATA alice SET avatar :")  # the empty string is a value
    a.expect("%s 761 alice alice avatar * :" % S)
    a.send_line("METADATA * GET display-name homepage Bad$Key")
    check(
        read_batch(a, "metadata", "alice")
        == [
            "%s 761 alice alice display-name * :Alice A." % S,
            "%s 766 alice alice homepage :key not set" % S,
            "%s FAIL METADATA KEY_INVALID Bad$Key :invalid key" % S,
        ],
        "GET",
    )
    a.send_line("METADATA alice LIST")
    check(
        read_batch(a, "metadata", "alice")
        == ["%s 761 alice alice display-name * :Alice A." % S, "%s 761 alice alice avatar * :" % S],
        "LIST",
    )
    a.send_line("METADATA * SET avatar")
    a.expect("%s 766 alice alice avatar :key not set" % S)
    a.send_line("METADATA * SET avatar")
    a.expect("%s FAIL METADATA KEY_NOT_SET alice avatar :key not set" % S)
    a.send_line("METADATA * CLEAR")
    check(read_batch(a, "metadata", "alice") == ["%s 766 alice alice display-name :key not set" % S], "CLEAR")
    a.send_line("METADATA * LIST")
    check(read_batch(a, "metadata", "alice") == [], "LIST after CLEAR")
    a.send_line("METADATA nobody LIST")
    a.expect("%s FAIL METADATA INVALID_TARGET nobody :invalid metadata target" % S)
    a.send_line("METADATA * DESTROY")
    a.expect("%s FAIL METADATA SUBCOMMAND_INVALID DESTROY :invalid subcommand" % S)
    a.barrier()


def test_metadata_permissions(t):
    """Only a user sets its own keys, only a channel's operators the
    channel's; anyone reads a user's keys and a public channel's, but not
    those of an invite-only channel it is not in."""
    srv = mixed_server(t)
    a, b, c = (meta_user(t, srv, n) for n in ("alice", "bob", "carol"))
    join(a, "#dev")
    join(b, "#dev")
    a.until_cmd("JOIN")
    b.send_line("METADATA * SET color :red")
    b.expect("%s 761 bob bob color * :red" % S)
    a.send_line("METADATA bob SET color :blue")
    a.expect("%s FAIL METADATA KEY_NO_PERMISSION bob color :permission denied" % S)
    a.send_line("METADATA bob CLEAR")
    a.expect("%s FAIL METADATA KEY_NO_PERMISSION bob * :permission denied" % S)
    a.send_line("METADATA bob GET color")
    check(read_batch(a, "metadata", "bob") == ["%s 761 alice bob color * :red" % S], "alice reads bob's")
    b.send_line("METADATA #dev SET url :https://example.org")
    b.expect("%s FAIL METADATA KEY_NO_PERMISSION #dev url :permission denied" % S)
    b.send_line("METADATA #dev CLEAR")
    b.expect("%s FAIL METADATA KEY_NO_PERMISSION #dev * :permission denied" % S)
    a.send_line("METADATA #DEV SET url :https://example.org")  # the op
    a.expect("%s 761 alice #dev url * :https://example.org" % S)
    c.send_line("METADATA #dev GET url")  # public: outsiders read it
    check(read_batch(c, "metadata", "#dev") == ["%s 761 carol #dev url * :https://example.org" % S], "public")
    a.send_line("MODE #dev +i")
    a.expect_cmd("MODE")
    b.expect_cmd("MODE")
    for what in ("GET url", "LIST", "SYNC"):
        c.send_line("METADATA #dev " + what)
        c.expect("%s FAIL METADATA KEY_NO_PERMISSION #dev * :permission denied" % S)
    b.send_line("METADATA #dev LIST")  # a member still may
    check(read_batch(b, "metadata", "#dev") == ["%s 761 bob #dev url * :https://example.org" % S], "member")
    for x in (a, b, c):
        x.barrier()


def test_metadata_limits(t):
    """Values of at most 300 bytes of UTF-8 (invalid UTF-8 is refused, not
    repaired), keys of a-z0-9_./- up to 64 bytes, 20 keys per target, 50
    subscriptions; refusals change nothing."""
    srv = mixed_server(t)
    a = meta_user(t, srv, "alice")
    a.send_line("METADATA * SET k :" + "x" * 301)
    a.expect("%s FAIL METADATA INVALID_VALUE k :value is too long" % S)
    heart = "\U0001f49c"
    a.send_line("METADATA * SET k :" + heart * 75)  # 300 bytes
    a.expect("%s 761 alice alice k * :%s" % (S, heart * 75))
    a.send(b"METADATA * SET k :bad \xc3 utf-8\r\n")
    a.expect("%s FAIL METADATA INVALID_UTF8 :value is not UTF-8" % S)
    a.barrier()  # one FAIL, no WARN besides it
    for key in ("Upper", "k" * 65, "sp$ce"):
        a.send_line("METADATA * SET %s :v" % key)
        a.expect("%s FAIL METADATA KEY_INVALID %s :invalid key" % (S, key))
    a.send_line("METADATA * SET " + "k" * 64 + " :v")
    a.expect("%s 761 alice alice %s * :v" % (S, "k" * 64))
    for i in range(18):
        a.send_line("METADATA * SET key%d :v" % i)
        a.expect("%s 761 alice alice key%d * :v" % (S, i))
    a.send_line("METADATA * SET one.more :v")
    a.expect("%s FAIL METADATA LIMIT_REACHED alice :metadata limit reached" % S)
    a.send_line("METADATA * SET key0 :replaced")  # replacing is fine
    a.expect("%s 761 alice alice key0 * :replaced" % S)
    a.send_line("METADATA * GET k")
    check(read_batch(a, "metadata", "alice") == ["%s 761 alice alice k * :%s" % (S, heart * 75)], "k kept")
    keys = ["s%d" % i for i in range(60)]
    a.send_line("METADATA * SUB " + " ".join(keys[:10]) + " BAD")
    a.expect("%s FAIL METADATA KEY_INVALID BAD :invalid key" % S)
    a.expect("%s 770 alice %s" % (S, " ".join(keys[:10])))
    for i in range(10, 60, 10):
        a.send_line("METADATA * SUB " + " ".join(keys[i : i + 10]))
    for i in range(10, 50, 10):
        a.expect("%s 770 alice %s" % (S, " ".join(keys[i : i + 10])))
    a.expect("%s FAIL METADATA TOO_MANY_SUBS s50 :too many subscriptions" % S)
    a.send_line("METADATA * SUBS")
    start = a.expect_cmd("BATCH")
    check(start.params[1:] == ["metadata-subs"], "SUBS batch: %r", start.line)
    got = []
    while True:
        m = a.msg()
        if m.command == "BATCH":
            break
        check(m.command == "772" and len(m.line) <= 512, "772: %r", m.line)
        got += m.params[1:]
    check(got == keys[:50], "SUBS: %s", got)
    a.barrier()


def test_metadata_notifies_subscribers(t):
    """A change reaches those subscribed to its key who share a channel
    with the user (or are in the channel): 761 and 766 with metadata-3, a
    METADATA message with metadata-2; never the one who made it, nobody
    unsubscribed, nobody outside."""
    srv = mixed_server(t)
    a = meta_user(t, srv, "alice")
    b = meta_user(t, srv, "bob")
    c = meta_user(t, srv, "carol", caps=("draft/metadata-2", "batch"))
    d = meta_user(t, srv, "dave")  # subscribed, in no shared channel
    e = meta_user(t, srv, "erin")  # in the channel, not subscribed
    for x in (b, c, d):
        sub(x, "avatar", "display-name")
    joined = []
    for x in (a, b, c, e):
        join(x, "#dev")
        for y in joined:
            y.until_cmd("JOIN")
        joined.append(x)
    a.send_line("METADATA * SET display-name :Alice")
    a.expect("%s 761 alice alice display-name * :Alice" % S)
    b.expect("%s 761 bob alice display-name * :Alice" % S)
    c.expect("%s METADATA alice display-name * :Alice" % S)
    a.send_line("METADATA * SET display-name")
    a.expect("%s 766 alice alice display-name :key not set" % S)
    b.expect("%s 766 bob alice display-name :key not set" % S)
    c.expect("%s METADATA alice display-name *" % S)
    a.send_line("METADATA #dev SET avatar :https://example.org/a.png")
    a.expect("%s 761 alice #dev avatar * :https://example.org/a.png" % S)
    b.expect("%s 761 bob #dev avatar * :https://example.org/a.png" % S)
    c.expect("%s METADATA #dev avatar * :https://example.org/a.png" % S)
    a.send_line("METADATA * SET homepage :https://alice.example")  # nobody subscribed
    a.expect_cmd("761")
    b.send_line("METADATA * UNSUB avatar display-name nothing")
    b.expect("%s 771 bob avatar display-name nothing" % S)
    a.send_line("METADATA * SET avatar :x")
    a.expect_cmd("761")
    c.expect("%s METADATA alice avatar * :x" % S)
    for x in (a, b, c, d, e):
        x.barrier()


def test_metadata_join_burst_and_sync(t):
    """A subscriber that joins gets the channel's and its members' keys it
    subscribed to after RPL_ENDOFNAMES, in a batch; SYNC gives the same;
    SUB while in channels asks it to SYNC them (774)."""
    srv = mixed_server(t)
    a = meta_user(t, srv, "alice")
    b = meta_user(t, srv, "bob")
    join(a, "#dev")
    a.send_line("METADATA * SET display-name :Alice")
    a.expect_cmd("761")
    a.send_line("METADATA * SET homepage :https://alice.example")
    a.expect_cmd("761")
    a.send_line("METADATA #dev SET display-name :Dev room")
    a.expect_cmd("761")
    sub(b, "display-name")
    b.send_line("JOIN #dev")
    b.until_cmd("366")
    want = ["%s 761 bob #dev display-name * :Dev room" % S, "%s 761 bob alice display-name * :Alice" % S]
    check(read_batch(b, "metadata", "#dev") == want, "JOIN burst")
    b.send_line("METADATA #dev SYNC")
    check(read_batch(b, "metadata", "#dev") == want, "SYNC")
    b.send_line("METADATA alice SYNC")
    check(read_batch(b, "metadata", "alice") == want[1:], "SYNC of a user")
    b.send_line("METADATA * SUB homepage")
    b.expect("%s 770 bob homepage" % S)
    b.expect("%s 774 bob #dev" % S)
    b.barrier()


def test_metadata_whois_and_freed_with_the_session(t):
    """WHOIS shows a user's keys (760) to a client with metadata; the keys
    die with the connection: the next user of the nick has none; a text
    user has none."""
    srv = mixed_server(t)
    a = meta_user(t, srv, "alice")
    b = meta_user(t, srv, "bob")
    plain = irc_user(t, srv, "plain")
    a.send_line("METADATA * SET display-name :Alice")
    a.expect_cmd("761")
    b.send_line("WHOIS alice")
    lines = b.until_cmd("318")
    check("%s 760 bob alice display-name * :Alice" % S in [m.line for m in lines], "760: %s", lines)
    plain.send_line("WHOIS alice")
    check(not any(m.command == "760" for m in plain.until_cmd("318")), "760 without the cap")
    a.send_line("QUIT")
    a.drain_to_end()
    a2 = meta_user(t, srv, "alice")
    a2.send_line("METADATA * LIST")
    check(read_batch(a2, "metadata", "alice") == [], "a new alice has no keys")
    (tom,) = t.users(srv, "tom")  # a text user: no keys, none to set
    a2.send_line("METADATA tom LIST")
    check(read_batch(a2, "metadata", "tom") == [], "a text user has no keys")
    a2.send_line("METADATA tom SET k :v")
    a2.expect("%s FAIL METADATA KEY_NO_PERMISSION tom k :permission denied" % S)


def test_metadata_of_a_channel_goes_with_it(t):
    """A channel's keys stay while the channel does (empty, it is kept as
    a cache, as one with a topic is) and are freed with it: once it gives
    way to a new channel at --max-rooms, the channel made again under its
    name has none."""
    srv = mixed_server(t, "--max-rooms", "3")  # #lobby and two more
    a = meta_user(t, srv, "alice")
    join(a, "#old")
    a.send_line("METADATA #old SET url :https://example.org")
    a.expect_cmd("761")
    a.send_line("PART #old")
    a.expect_cmd("PART")
    a.send_line("METADATA #old GET url")  # empty, still there
    check(read_batch(a, "metadata", "#old") == ["%s 761 alice #old url * :https://example.org" % S], "kept")
    join(a, "#new")  # the third room
    join(a, "#newer")  # a fourth: #old, which nobody is in, gives way
    a.send_line("METADATA #old GET url")
    a.expect("%s FAIL METADATA INVALID_TARGET #old :invalid metadata target" % S)
    a.send_line("PART #newer")
    a.expect_cmd("PART")
    join(a, "#old")  # made again: no keys
    a.send_line("METADATA #old LIST")
    check(read_batch(a, "metadata", "#old") == [], "a new #old has no keys")


def test_metadata_before_connect(t):
    """With the capability, a client sets its own keys before it registers
    (target and nick '*'); the welcome brings them back in a batch before
    the end of the MOTD. Without it, METADATA waits for registration."""
    srv = mixed_server(t)
    a = irc_client(t, srv)
    a.send_line("CAP LS 302")
    a.send_line("CAP REQ :draft/metadata-3 batch")
    a.send_line("METADATA * SET display-name :Early")
    a.send_line("METADATA bob GET x")
    a.expect_cmd("CAP", "*", "LS")
    a.expect_cmd("CAP", "*", "ACK")
    a.expect("%s 761 * * display-name * :Early" % S)
    a.expect("%s FAIL METADATA INVALID_TARGET bob :invalid metadata target" % S)
    a.send_line("NICK alice")
    a.send_line("USER alice 0 * :A")
    a.send_line("CAP END")
    burst = a.read_until(re.compile(r".* (376|422) .*"))
    i = next(k for k, ln in enumerate(burst) if " BATCH +" in ln)
    check(burst[i].endswith(" metadata alice"), "welcome batch: %r", burst[i])
    check(burst[i + 1].endswith(" 761 alice alice display-name * :Early"), "in it: %r", burst[i + 1])
    check(" BATCH -" in burst[i + 2], "its end: %r", burst[i + 2])
    b = irc_client(t, srv)
    b.send_line("METADATA * SET display-name :Early")
    b.expect("%s 451 * :You have not registered" % S)


# --------------------------------------------------------------------------
# Read markers
# --------------------------------------------------------------------------


def test_markread_get_set_and_only_forward(t):
    """MARKREAD gets ('*' when none) and sets a marker per target (case
    folded); an older timestamp gets the stored one back; one in the
    future is cut to now."""
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice", caps=("draft/read-marker",))
    a.send_line("MARKREAD #nowhere")
    a.expect("%s MARKREAD #nowhere *" % S)
    a.send_line("MARKREAD bob timestamp=2023-07-04T00:00:00.000Z")
    a.expect("%s MARKREAD bob timestamp=2023-07-04T00:00:00.000Z" % S)
    a.send_line("MARKREAD BOB timestamp=2022-01-01T00:00:00.000Z")
    a.expect("%s MARKREAD BOB timestamp=2023-07-04T00:00:00.000Z" % S)
    a.send_line("MARKREAD Bob")
    a.expect("%s MARKREAD Bob timestamp=2023-07-04T00:00:00.000Z" % S)
    before = time.time()
    a.send_line("MARKREAD #dev timestamp=2999-01-01T00:00:00.000Z")
    m = a.expect_cmd("MARKREAD", "#dev")
    got = time.mktime(time.strptime(m.params[1][10:29], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    check(before - 2 <= got <= time.time() + 1, "future cut to now: %r", m.line)
    for bad in ("timestamp=not-a-timestamp", "*", "2023-07-04T00:00:00.000Z"):
        a.send_line("MARKREAD #dev " + bad)
        a.expect("%s FAIL MARKREAD INVALID_PARAMS * :Invalid timestamp" % S)
    a.send_line("MARKREAD")
    a.expect("%s FAIL MARKREAD NEED_MORE_PARAMS :Missing parameters" % S)
    a.send_line("MARKREAD #bad,name")
    a.expect("%s FAIL MARKREAD INVALID_PARAMS * :Invalid target" % S)
    a.barrier()


def test_markread_on_join_before_end_of_names(t):
    """With draft/read-marker a joiner gets MARKREAD for the channel before
    RPL_ENDOFNAMES, the stored marker after a rejoin; without it, none."""
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice", caps=("draft/read-marker",))
    plain = irc_user(t, srv, "plain")
    a.send_line("JOIN #dev")
    lines = [m.line for m in a.until_cmd("366")]
    check(lines[-2] == "%s MARKREAD #dev *" % S, "MARKREAD before 366: %s", lines)
    a.send_line("MARKREAD #dev timestamp=2020-03-15T10:00:00.000Z")
    a.expect_cmd("MARKREAD")
    a.send_line("PART #dev")
    a.expect_cmd("PART")
    a.send_line("JOIN #dev")
    lines = [m.line for m in a.until_cmd("366")]
    check(lines[-2] == "%s MARKREAD #dev timestamp=2020-03-15T10:00:00.000Z" % S, "after rejoin: %s", lines)
    plain.send_line("JOIN #dev")
    check(not any(" MARKREAD " in m.line for m in plain.until_cmd("366")), "MARKREAD without the cap")


def test_markread_keeps_a_bounded_number(t):
    """One connection keeps 200 markers: the 201st forgets the first set."""
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice", caps=("draft/read-marker",))
    for i in range(201):
        a.send_line("MARKREAD #c%d timestamp=2020-01-01T00:00:00.000Z" % i)
    for i in range(201):
        a.expect("%s MARKREAD #c%d timestamp=2020-01-01T00:00:00.000Z" % (S, i))
    a.send_line("MARKREAD #c0")
    a.expect("%s MARKREAD #c0 *" % S)
    a.send_line("MARKREAD #c1")
    a.expect("%s MARKREAD #c1 timestamp=2020-01-01T00:00:00.000Z" % S)
