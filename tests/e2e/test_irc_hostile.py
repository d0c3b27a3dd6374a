"""IRC under abuse, and IRC's share of the server-wide limits.

Each IRC connection gets the limits every connection gets (flood pacing,
--recvq-max, --sendq-max, --max-per-ip, --max-clients, the shutdown
deadline) with IRC's own replies (`ERROR :...`, numerics), and hostile IRC
clients (thousands of JOINs, huge tag blocks, nick floods, registrations
that never end, bytes no client should see) cost bounded work while a probe
pair elsewhere keeps chatting (docs/security.md, IRC).

The heavy abuse runs with flood control off (the harness default), the
worst case: what protects the others then is the loop's round budget and
the rule that a connection with output waiting is not read.
"""

import re
import signal
import threading
import time

from harness import HISTORY_END, check
from irc import IRC_CONTROL, SERVER_NAME, IrcMsg, irc_client, irc_user, mixed_server, text_addr
from test_hostile import ThreadReader, sanitized_build

HOST = "127.0.0.1"
HISTORY_LINE = re.compile(r"\d\d:\d\d (\[.*)")


def joined(c, chan):
    """Sends JOIN chan and reads through its end of NAMES."""
    c.send_line("JOIN " + chan)
    c.expect_cmd("JOIN", chan, source=c.nick)
    return c.until_cmd("366")


def text_user_in(t, srv, nick, room):
    """A text user called nick, moved from #lobby into room (no '#')."""
    (u,) = t.users(srv, nick, addr=text_addr(srv))
    u.say("/join " + room)
    u.read_until(re.compile(r"\* you joined #%s .*" % room))
    return u


def trio(t, srv, names=("alice", "bob", "carol"), chan="#x"):
    """Two IRC users and a text user (named by names, in that order) in
    chan, with nothing pending."""
    a, b = irc_user(t, srv, names[0]), irc_user(t, srv, names[1])
    joined(a, chan)
    joined(b, chan)
    a.until_cmd("JOIN")
    c = text_user_in(t, srv, names[2], chan[1:])
    a.until_cmd("JOIN")
    b.until_cmd("JOIN")
    return a, b, c


def probe_pair(t, srv, chan="#probe"):
    """Two IRC users in chan, with nothing pending."""
    a, b = irc_user(t, srv, "pa"), irc_user(t, srv, "pb")
    joined(a, chan)
    joined(b, chan)
    a.expect_cmd("JOIN", chan, source="pb")
    return a, b


def pair_rtts(a, b, seconds, chan="#probe", until=None):
    """Ping-pong between a and b in chan for at least seconds and until
    until() is true, if given (bounded at 30 s): as fast as they can while
    until() is false (the abuse is on), then each at 10 lines/s. Returns
    the sorted round trips, and how many came before until() was true."""
    lat = []
    t_end = time.monotonic() + seconds
    hard = time.monotonic() + 30
    during = None
    i = 0
    while True:
        finished = until() if until else True  # asked every round
        if finished and during is None:
            during = len(lat)
        t0 = time.monotonic()
        if t0 >= hard or (t0 >= t_end and finished):
            break
        src, dst = (a, b) if i % 2 == 0 else (b, a)
        src.send_line("PRIVMSG %s :ping %d" % (chan, i))
        dst.expect(":%s!~%s@%s PRIVMSG %s :ping %d" % (src.nick, src.nick, HOST, chan, i), timeout=5)
        lat.append(time.monotonic() - t0)
        i += 1
        if finished:
            time.sleep(max(0, 0.05 - (time.monotonic() - t0)))  # the pair's pace
    return sorted(lat), during


def check_responsive(t, lat, what):
    """The probe pair's round trips stayed short (generous bounds: the
    machine is shared; ASan is about 3x slower)."""
    scale = 4 if sanitized_build(t.parleyd) else 1
    p90 = lat[max(0, int(len(lat) * 0.9) - 1)]
    t.details.append("%s: %d round trips, p90 %.1f ms, max %.1f ms" % (what, len(lat), p90 * 1e3, lat[-1] * 1e3))
    check(len(lat) >= 10, "%s: only %d round trips", what, len(lat))
    check(p90 < 0.1 * scale, "%s: probe p90 %.1f ms", what, p90 * 1e3)
    check(lat[-1] < 1.0 * scale, "%s: probe max %.1f ms", what, lat[-1] * 1e3)


def reader_for(c, seconds=25):
    """Reads c's output on a thread (raw bytes, until EOF or the
    deadline), so a client that asks for much is never cut for sendq."""
    c.sock.settimeout(0.2)
    return ThreadReader(c, time.monotonic() + seconds)


def await_bytes(t, rd, want, timeout=20):
    """Waits until the bytes rd has read contain want; fails after timeout
    seconds or when rd's stream ended without it."""
    end = time.monotonic() + t.bound(timeout)
    seen = 0
    while True:
        data = rd.take()
        if want in data[max(0, seen - len(want)) :]:
            return
        seen = len(data)
        check(rd.end is None and time.monotonic() < end, "%r never came (%d bytes read, ended: %s)", want, seen, rd.end)
        rd.wait_lines(rd.lines + 1, 0.5)


def lines_of(data):
    """The IrcMsgs in raw bytes a ThreadReader took, each line checked as
    the harness checks a client's lines (UTF-8, no stray controls)."""
    lines = data.decode("utf-8").split("\r\n")
    check(lines[-1] == "", "output does not end in CRLF: %r", lines[-1][-80:])
    for ln in lines[:-1]:
        check("\n" not in ln and not IRC_CONTROL.search(ln), "a control character in %r", ln[:200])
    return [IrcMsg(ln) for ln in lines[:-1]]


def under_abuse(t, srv, x, payload, replies, what):
    """x, a registered client, sends payload as fast as the server takes
    it while its output is read on a thread, until `replies` lines came
    back; meanwhile a probe pair in #probe chats, and its round trips must
    stay short. Ends with a barrier for x; returns x's IrcMsgs."""
    a, b = probe_pair(t, srv)
    rd = reader_for(x, seconds=40)
    out = x.sock.dup()  # the reader polls x.sock; this one may block
    out.settimeout(t.bound(30))
    sender = threading.Thread(target=out.sendall, args=(payload,), daemon=True)
    done = []

    def answered():
        if not done and rd.lines >= replies:
            done.append(time.monotonic())
        return bool(done)

    t0, cpu0 = time.monotonic(), srv.cpu_seconds()
    sender.start()
    lat, during = pair_rtts(a, b, 2, until=answered)
    cpu = srv.cpu_seconds() - cpu0
    sender.join(t.bound(10))
    out.close()
    check(rd.wait_lines(replies, 20), "%s: %d lines back of %d", what, rd.lines, replies)
    answered()
    t.details.append("%s: %d bytes sent, %d lines back within %.2fs, %d round trips meanwhile; server CPU %.2fs"
                     % (what, len(payload), rd.lines, done[0] - t0, during, cpu))
    ThreadReader.stop_all([rd])
    check_responsive(t, lat, what)
    x.barrier()
    return lines_of(rd.take())


def read_text(c, chan, source, n):
    """Reads PRIVMSGs from source to chan until n characters of text came
    (a long message arrives split); returns the text."""
    got = ""
    while len(got) < n:
        m = c.expect_cmd("PRIVMSG", chan, source=source)
        # What a client may send ("PRIVMSG #chan WORD" in 510 bytes) is
        # relayed whole, the source and a colon added (test_irc.py).
        body = m.line.encode()[len(m.source) + 2 :]
        check(len(body) <= 511, "a part of %d bytes after its source", len(body))
        got += m.params[1]
    return got


WARN_UTF8 = ":" + SERVER_NAME + " WARN %s INVALID_UTF8 :Invalid UTF-8 was replaced by U+FFFD"


def closing_link(nick, why):
    return "ERROR :Closing Link: %s[%s] (%s)" % (nick, HOST, why)


# -- the server-wide limits, IRC's way ------------------------------------------


def test_irc_burst_paced_nothing_dropped(t):
    """With the default flood settings (burst 20, 10 lines/s), 40 PRIVMSGs
    from an IRC client in one packet all arrive, in order, but paced (the
    last about 2 s later), and another client's line arrives at once
    meanwhile: the conn layer paces IRC lines as it paces text."""
    srv = mixed_server(t, flood=True)
    f, o = irc_user(t, srv, "flooder"), irc_user(t, srv, "other")
    r = text_user_in(t, srv, "reader", "flood")
    joined(f, "#flood")
    joined(o, "#flood")
    r.read_until("* other joined #flood")
    f.until_cmd("JOIN")  # other's
    n = 40
    t0 = time.monotonic()
    f.send(b"".join(b"PRIVMSG #flood :flood %02d\r\n" % i for i in range(n)))
    got = 0
    o_sent = o_got = None
    while got < n:
        ln = r.line(timeout=10)
        if ln == "[other]: prompt":
            o_got = time.monotonic()
            continue
        check(ln == "[flooder]: flood %02d" % got, "flood line %d: got %r", got, ln)
        got += 1
        if got == 22 and o_sent is None:
            o.send_line("PRIVMSG #flood :prompt")
            o_sent = time.monotonic()
    elapsed = time.monotonic() - t0
    check(elapsed >= (n - 20) / 10.0 - 0.35, "40 lines with burst 20 at 10/s all arrived in %.2fs: not paced", elapsed)
    check(o_got is not None and o_got - o_sent < 0.5, "the other client's line was held up by the flood")
    for i in range(n):
        o.expect(":flooder!~flooder@%s PRIVMSG #flood :flood %02d" % (HOST, i), timeout=5)
    f.expect(":other!~other@%s PRIVMSG #flood :prompt" % HOST)
    f.barrier()
    o.barrier()
    t.barrier(r)


def test_irc_excess_flood_closes_with_error(t):
    """An IRC client that sends far more than --recvq-max ahead of its
    budget gets `ERROR :Closing Link: NICK[HOST] (Excess Flood)` and is
    cut off; its channel hears the QUIT with that reason, and saw no more
    than the burst and a few paced lines."""
    srv = mixed_server(t, "--flood-burst", "5", "--flood-rate", "10")
    s, w = irc_user(t, srv, "spammer"), irc_user(t, srv, "watcher")
    r = text_user_in(t, srv, "room", "spam")
    joined(s, "#spam")
    joined(w, "#spam")
    s.until_cmd("JOIN")
    r.read_until("* watcher joined #spam")
    s.send(b"".join(b"PRIVMSG #spam :spam %05d\r\n" % k for k in range(5000)))  # 135 KB
    s.expect(closing_link("spammer", "Excess Flood"))
    s.expect_end(allow_reset=True)  # its unread input makes the close a reset
    lines = r.read_until("* spammer quit (Excess Flood)")
    check(len(lines) <= 25, "the room got %d lines from the spammer", len(lines) - 1)
    msgs = w.until_cmd("QUIT")
    check(msgs[-1].line == ":spammer!~spammer@%s QUIT :Excess Flood" % HOST, "watcher got %r", msgs[-1].line)
    srv.wait_event("disconnect", reason="flood", nick="spammer")
    w.barrier()
    t.barrier(r)


def test_irc_slow_reader_cut_at_sendq(t):
    """An IRC client that never reads, in a channel where others talk fast
    (--sendq-max 65536): it alone is cut (reason=sendq), the others get
    every line in order and see it QUIT with `SendQ exceeded`."""
    srv = mixed_server(t, "--sendq-max", "65536")
    slow = irc_client(t, srv, rcvbuf=4096)
    slow.register("slow")
    joined(slow, "#busy")
    f = irc_user(t, srv, "fast")
    joined(f, "#busy")
    r = text_user_in(t, srv, "reader", "busy")
    f.until_cmd("JOIN")  # reader's
    pad = "p" * 400
    seq, got_r, got_f = 0, 0, 0
    quits = {"r": None, "f": None}
    for _ in range(400):  # at most 400 * 30 * ~450 bytes = ~5 MB
        f.send("".join("PRIVMSG #busy :%06d %s\r\n" % (seq + i, pad) for i in range(30)))
        seq += 30
        while got_r < seq:
            ln = r.line(timeout=10)
            if ln.startswith("* slow quit"):
                quits["r"] = ln
                continue
            check(ln == "[fast]: %06d %s" % (got_r, pad), "reader: expected message %d, got %r", got_r, ln[:80])
            got_r += 1
        if srv.events("disconnect", reason="sendq"):
            break
    check(srv.events("disconnect", reason="sendq"), "the never-reader was not cut after %d lines", seq)
    ev = srv.wait_event("disconnect", reason="sendq")
    check(ev.get("nick") == "slow", "the sendq disconnect was %s", ev)
    check(len(srv.events("disconnect")) == 1, "others were closed too: %s", srv.events("disconnect"))
    if quits["r"] is None:
        quits["r"] = r.read_until(re.compile(r"\* slow quit.*"))[-1]
    check(quits["r"] == "* slow quit (SendQ exceeded)", "reader saw %r", quits["r"])
    m = f.until_cmd("QUIT")
    check(m[-1].line == ":slow!~slow@%s QUIT :SendQ exceeded" % HOST, "fast saw %r", m[-1].line)
    f.barrier()
    t.barrier(r)
    # The slow client's last bytes: whatever it gets ends in a close (the
    # socket is reset; its best-effort ERROR rarely fits).
    slow.raw_drain(timeout=10)


def test_irc_refused_past_max_per_ip(t):
    """--max-per-ip refuses an IRC client with one `ERROR :server full
    (...)` line, then the close; a text client gets its own line."""
    srv = mixed_server(t, "--max-per-ip", "2", "--limit-loopback")
    a = irc_user(t, srv, "alice")
    (b,) = t.users(srv, "bob", addr=text_addr(srv))
    c = irc_client(t, srv)
    c.expect("ERROR :server full (max 2 connections per address)")
    c.expect_end()
    d = t.client(text_addr(srv))
    d.expect("! server full (max 2 connections per address)")
    d.expect_end()
    a.barrier()
    t.barrier(b)
    srv.wait_event("refuse", reason="max-per-ip")


def test_irc_refused_past_max_clients(t):
    """--max-clients refuses an IRC client with one `ERROR :server full
    (max N clients)` line, then the close."""
    srv = mixed_server(t, "--max-clients", "2")
    a, b = irc_user(t, srv, "alice"), irc_user(t, srv, "bob")
    c = irc_client(t, srv)
    c.expect("ERROR :server full (max 2 clients)")
    c.expect_end()
    a.barrier()
    b.barrier()


def test_irc_sigterm_tells_everyone(t):
    """SIGTERM: each IRC client gets `ERROR :server shutting down`, each
    text client `* server shutting down`, then the close; exit 0."""
    srv = mixed_server(t)
    a, b = irc_user(t, srv, "alice"), irc_user(t, srv, "bob")
    joined(a, "#x")
    (c,) = t.users(srv, "carol", addr=text_addr(srv))
    u = irc_client(t, srv)  # not registered yet: told too
    u.send_line("NICK later")
    srv.send_signal(signal.SIGTERM)
    for x in (a, b, u):
        x.expect("ERROR :server shutting down")
        x.expect_end()
    c.expect("* server shutting down")
    c.expect_end()
    srv.expect_exit()


def test_irc_line_limits_body_and_tags(t):
    """IRC's line limits are its own, whatever --max-line says: 510 bytes
    of body (512 with CRLF) and, from a client, 4094 bytes of tag data
    (message-tags; the tag block itself may be 8191 bytes with '@' and the
    space). One byte more of either is 417 ERR_INPUTTOOLONG, once, and the
    connection goes on; so does a line with a full 8191-byte tag block and
    one far past every limit."""
    srv = mixed_server(t, "--max-line", "100")
    a, b = irc_user(t, srv, "alice"), irc_user(t, srv, "bob")
    joined(a, "#x")
    joined(b, "#x")
    a.until_cmd("JOIN")
    head = "PRIVMSG #x :"
    body = head + "y" * (510 - len(head))
    tags = "@a=" + "t" * (4094 - 2) + " "
    a.send_line(tags + body)
    text = body[len(head) :]
    check(read_text(b, "#x", "alice", len(text)) == text, "the longest line arrived changed")
    for line in (tags + body + "z", "@a=" + "t" * (4094 - 1) + " " + head + "short",
                 "@a=" + "t" * (8191 - 4) + " " + body, "@a=" + "t" * 100000 + " " + head + "very long"):
        a.send_line(line)
        a.expect_num("417")
    a.send_line(head + "still here")
    b.expect(":alice!~alice@%s PRIVMSG #x :still here" % HOST)
    a.barrier()
    b.barrier()


# -- channels ---------------------------------------------------------------------


def test_ten_thousand_joins_stop_at_chanlimit(t):
    """10,000 JOINs of distinct channels in one burst, new-channel rate
    limits off: the first 100 are joined (CHANLIMIT=#:100), each of the
    9,900 others gets `405 NICK #chan :You have joined too many channels`,
    in order; a probe pair in another channel keeps chatting meanwhile."""
    srv = mixed_server(t, "--room-rate", "0", "--room-rate-per-ip", "0")
    j = irc_user(t, srv, "joiner")
    n = 10000
    payload = b"".join(b"JOIN #c%05d\r\n" % i for i in range(n))
    msgs = under_abuse(t, srv, j, payload, 100 * 3 + (n - 100), "10,000 JOINs")
    joins = [m.params[0] for m in msgs if m.command == "JOIN"]
    check(joins == ["#c%05d" % i for i in range(100)], "joined %d channels: %s...", len(joins), joins[:3])
    full = [m for m in msgs if m.command == "405"]
    check(len(full) == n - 100, "%d 405s, expected %d", len(full), n - 100)
    for i, m in enumerate(full):
        check(m.params == ["joiner", "#c%05d" % (100 + i), "You have joined too many channels"], "405 #%d: %r", i, m.line)


test_ten_thousand_joins_stop_at_chanlimit.timeout = 60


def test_new_channels_rate_limited_with_the_wait(t):
    """At the default new-room limits (5 at once, then 2 a minute), 10,000
    JOINs of new channels create 5; each other gets `405 NICK #chan :too
    many new channels: try again in N s`; joining a channel that exists
    stays free."""
    srv = mixed_server(t)
    j = irc_user(t, srv, "joiner")
    n = 10000
    payload = b"".join(b"JOIN #n%05d\r\n" % i for i in range(n)) + b"JOIN #lobby\r\n"
    msgs = under_abuse(t, srv, j, payload, 5 * 3 + (n - 5) + 3, "10,000 rate-limited JOINs")
    joins = [m.params[0] for m in msgs if m.command == "JOIN"]
    check(joins == ["#n%05d" % i for i in range(5)] + ["#lobby"], "joined %s", joins[:8])
    full = [m for m in msgs if m.command == "405"]
    check(len(full) == n - 5, "%d 405s, expected %d", len(full), n - 5)
    for i, m in enumerate(full):
        check(m.params[:2] == ["joiner", "#n%05d" % (5 + i)] and re.fullmatch(r"too many new channels: try again in (2\d|30) s", m.params[2]), "405 #%d: %r", i, m.line)


test_new_channels_rate_limited_with_the_wait.timeout = 60


def test_join_of_many_channels_in_one_line(t):
    """JOIN of 1,000 channels in one line passes 512 bytes: one 417 and
    nothing joined. The most that fit (126 short names) join up to
    CHANLIMIT (100) and get 405 for the rest, in order; a JOIN of a
    channel the client is in is silent, at the limit too."""
    srv = mixed_server(t, "--room-rate", "0", "--room-rate-per-ip", "0")
    j = irc_user(t, srv, "joiner")
    j.send_line("JOIN " + ",".join("#k%d" % i for i in range(1000)))
    j.expect_num("417")
    j.barrier()
    names = ["#%s%s" % (x, y) for x in "abcdefghijklm" for y in "0123456789"][:126]
    line = "JOIN " + ",".join(names)
    check(len(line) <= 510, "line of %d bytes", len(line))
    j.send_line(line)
    for chan in names[:100]:
        j.expect_cmd("JOIN", chan, source="joiner")
        j.expect_num("353", "=", chan)
        j.expect_num("366", chan)
    for chan in names[100:]:
        j.expect_num("405", chan, "You have joined too many channels")
    j.barrier()
    # At the limit, a JOIN of a channel it is in is still nothing to say.
    j.send_line("JOIN %s,%s" % (names[0], names[99]))
    j.barrier()


def test_privmsg_to_many_targets(t):
    """PRIVMSG to 1,000 targets passes 512 bytes: 417. Within 512 bytes,
    TARGMAX=PRIVMSG:4: the first four targets are served (a missing one
    gets 401), the fifth gets `407 NICK TARGET :Too many targets`, and
    nothing goes past it."""
    srv = mixed_server(t)
    a = irc_user(t, srv, "alice")
    b, c, d = irc_user(t, srv, "bob"), irc_user(t, srv, "carol"), irc_user(t, srv, "dave")
    joined(b, "#x")
    joined(a, "#x")
    b.until_cmd("JOIN")
    a.send_line("PRIVMSG %s :hello" % ",".join("u%d" % i for i in range(1000)))
    a.expect_num("417")
    targets = ["#x", "bob", "nosuch", "carol", "dave"] + ["u%d" % i for i in range(80)]
    a.send_line("PRIVMSG %s :hello" % ",".join(targets))
    a.expect_num("401", "nosuch")
    a.expect_num("407", "dave", "Too many targets")
    b.expect(":alice!~alice@%s PRIVMSG #x :hello" % HOST)
    b.expect(":alice!~alice@%s PRIVMSG bob :hello" % HOST)
    c.expect(":alice!~alice@%s PRIVMSG carol :hello" % HOST)
    a.barrier()
    for x in (b, c, d):
        x.barrier()


# -- lines ------------------------------------------------------------------------


def test_huge_tag_blocks_cost_others_nothing(t):
    """4,000 PINGs with the most tag data a client may send (4094 bytes),
    1,000 with full 8191-byte tag blocks and 1,000 with blocks past that
    (34 MB), sent as fast as the socket takes them: every PING within the
    limit is answered in order, every other line gets its 417, and the
    probe pair keeps chatting."""
    srv = mixed_server(t)
    x = irc_user(t, srv, "tagger")
    tags = b"@a=" + b"t" * (4094 - 2) + b" "
    n, m = 4000, 1000
    big = b"".join(tags + b"PING p%04d\r\n" % i for i in range(n))
    over = b"@a=" + b"o" * (8191 - 4) + b" PING over\r\n" + b"@a=" + b"o" * 9000 + b" PING over\r\n"
    msgs = under_abuse(t, srv, x, big + over * m, n + 2 * m, "34 MB of tag blocks")
    pongs = [mm.params[-1] for mm in msgs if mm.command == "PONG"]
    check(pongs == ["p%04d" % i for i in range(n)], "%d PONGs, first wrong: %s", len(pongs),
          next(((i, p) for i, p in enumerate(pongs) if p != "p%04d" % i), None))
    check(sum(1 for mm in msgs if mm.command == "417") == 2 * m, "417s: %d of %d", sum(1 for mm in msgs if mm.command == "417"), 2 * m)


test_huge_tag_blocks_cost_others_nothing.timeout = 60


def test_many_pings_answered_in_order(t):
    """100,000 PINGs in one send: 100,000 PONGs, in order, and the probe
    pair keeps chatting."""
    srv = mixed_server(t)
    x = irc_user(t, srv, "pinger")
    n = 100000
    payload = b"".join(b"PING :token %06d\r\n" % i for i in range(n))
    msgs = under_abuse(t, srv, x, payload, n, "100,000 PINGs")
    want = ["PONG irc.test :token %06d" % i for i in range(n)]
    check([m.line.partition(" ")[2] for m in msgs] == want and all(m.source == SERVER_NAME for m in msgs), "the PONGs differ from the PINGs")


def test_control_bytes_never_reach_others(t):
    """NUL and ESC inside parameters are removed before anyone sees them; a
    CR ends the line (IRC's line end), so what follows it is a line of its
    own, never part of another client's line. The harness checks every
    line each client gets for control characters."""
    srv = mixed_server(t)
    a, b, c = trio(t, srv)
    a.send(b"PRIVMSG #x :nul\x00here esc\x1b[31mred\x1b[0m bel\x07 del\x7f\r\n")
    want = "nulhere esc[31mred[0m bel del"
    b.expect(":alice!~alice@%s PRIVMSG #x :%s" % (HOST, want))
    c.expect("[alice]: " + want)
    a.send(b"PRIVMSG #x :one\rPRIVMSG #x :two\r\n")
    for w in ("one", "two"):
        b.expect(":alice!~alice@%s PRIVMSG #x :%s" % (HOST, w))
        c.expect("[alice]: " + w)
    a.send(b"PRIVMSG b\x00ob :private\x1b\r\n")  # the NUL goes, the nick stays
    b.expect(":alice!~alice@%s PRIVMSG bob :private" % HOST)
    a.send(b"PRIVMSG #x :\x1b]0;title\x07\r\n")  # an OSC: what is left is text
    b.expect(":alice!~alice@%s PRIVMSG #x :]0;title" % HOST)
    c.expect("[alice]: ]0;title")
    a.barrier()
    b.barrier()
    t.barrier(c)


def test_lines_of_only_cr_or_spaces(t):
    """A client that sends only CRs, or lines of only spaces, before and
    after registering: nothing is answered, nobody sees anything, and it
    still registers and talks afterwards. Blank lines are lines: the flood
    budget paces them like any other."""
    srv = mixed_server(t)
    b = irc_user(t, srv, "bob")
    joined(b, "#x")
    a = irc_client(t, srv)
    a.send(b"\r" * 20000)
    a.send((b" " * 500 + b"\r\n") * 1000)
    a.send(b"    \r\n\r\n \r \n")
    a.register("alice")
    a.send(b"\r" * 20000 + (b" " * 509 + b"\r\n") * 1000)
    joined(a, "#x")
    a.send_line("PRIVMSG #x :still fine")
    b.until_cmd("JOIN")
    b.expect(":alice!~alice@%s PRIVMSG #x :still fine" % HOST)
    a.barrier()
    b.barrier()


def test_invalid_utf8_repaired_for_everyone(t):
    """UTF8ONLY: invalid UTF-8 in a channel PRIVMSG reaches IRC and text
    users with each maximal invalid sequence replaced by U+FFFD; the
    sender is warned (WARN PRIVMSG INVALID_UTF8)."""
    srv = mixed_server(t)
    a, b, c = trio(t, srv)
    raw = b"caf\xe9 \xc3\x28 \xed\xa0\x80 \xf0\x9f\x98 ok \xc3\xa9 \xff\xfe"
    want = raw.decode("utf-8", "replace")
    a.send(b"PRIVMSG #x :" + raw + b"\r\n")
    a.expect(WARN_UTF8 % "PRIVMSG")
    b.expect(":alice!~alice@%s PRIVMSG #x :%s" % (HOST, want))
    c.expect("[alice]: " + want)
    a.barrier()
    b.barrier()
    t.barrier(c)


def test_ctcp_to_text_users(t):
    """CTCP is for IRC clients: a CTCP request (VERSION, PING, DCC) sent
    to a text user, privately or in a channel, is not shown to text users;
    CTCP ACTION is, as an action. IRC users in the channel get every CTCP
    as sent."""
    srv = mixed_server(t)
    a, b, c = trio(t, srv)
    for req in ("\x01VERSION\x01", "\x01PING 12345\x01", "\x01DCC SEND x 1 2 3\x01", "\x01CLIENTINFO"):
        a.send_line("PRIVMSG carol :" + req)
        a.send_line("NOTICE carol :" + req)
        a.send_line("PRIVMSG #x :" + req)
        b.expect(":alice!~alice@%s PRIVMSG #x :%s" % (HOST, req))
    t.barrier(c)
    a.send_line("PRIVMSG carol :\x01ACTION waves\x01")
    c.expect("[* alice -> carol] waves")
    a.send_line("PRIVMSG #x :\x01ACTION bows\x01")
    c.expect("[* alice] bows")
    b.expect(":alice!~alice@%s PRIVMSG #x :\x01ACTION bows\x01" % HOST)
    a.send_line("PRIVMSG #x :plain")
    c.expect("[alice]: plain")
    b.expect(":alice!~alice@%s PRIVMSG #x :plain" % HOST)
    # Nor in the history a text user is shown on joining.
    (d,) = t.users(srv, "dan")
    d.say("/join x")
    got = d.read_until(HISTORY_END)
    check([HISTORY_LINE.sub(r"\1", ln) for ln in got[-4:]] == [
        "* --- last 2 messages in #x (times in UTC) ---", "[* alice] bows", "[alice]: plain", HISTORY_END], "dan got %s", got)
    for x in (a, b):
        x.expect_cmd("JOIN", "#x", source="dan")
    c.expect("* dan joined #x")
    a.barrier()
    b.barrier()
    t.barrier(c, d)


# -- nicks and registration ---------------------------------------------------------


def test_nick_flood_paced_and_registry_consistent(t):
    """200 NICK changes in one send (burst 20, then 50 a second): all are
    made, in order, paced (about 3.6 s); a channel's IRC and text members
    see the whole chain. Afterwards the old nicks are free for others and
    the last one is taken."""
    srv = mixed_server(t, "--flood-burst", "20", "--flood-rate", "50", flood=True)
    f, o, c = trio(t, srv, ("nf", "watch", "carol"), "#nicks")
    time.sleep(0.5)  # let the flooder's budget refill after registering
    n = 200
    t0 = time.monotonic()
    f.send(b"".join(b"NICK nf%03d\r\n" % i for i in range(n)))
    prev = "nf"
    for i in range(n):
        new = "nf%03d" % i
        o.expect(":%s!~nf@%s NICK :%s" % (prev, HOST, new), timeout=10)
        prev = new
    took = time.monotonic() - t0
    check(took >= (n - 20) / 50.0 - 0.35, "200 NICKs with burst 20 at 50/s took only %.2fs", took)
    prev = "nf"
    for i in range(n):
        f.expect(":%s!~nf@%s NICK :%s" % (prev, HOST, "nf%03d" % i))
        c.expect("* %s is now nf%03d" % (prev, i))
        prev = "nf%03d" % i
    # The registry: old nicks free, the last one taken, case-insensitively.
    g = irc_client(t, srv)
    g.send_line("NICK NF199")
    g.expect_num("433", "NF199")
    g.register("nf")
    g.send_line("NICK nf100")
    g.expect_cmd("NICK", "nf100", source="nf")
    c.say("/nick NF050")
    c.expect("* you are now NF050")
    for x in (f, o):
        x.expect(":carol!~text@%s NICK :NF050" % HOST)
    f.barrier()
    o.barrier()
    g.barrier()
    t.barrier(c)


test_nick_flood_paced_and_registry_consistent.timeout = 45


def test_nick_races_keep_one_owner_per_nick(t):
    """Two clients flood NICK over the same three nicks, interleaved, one
    in lower case and one in upper: each change either happens, seen by
    everyone in the channel, or gets 433. At the end NAMES agrees with the
    chain of NICKs a third member saw and with what each of the two saw
    of itself, and no two people share a nick in any case."""
    srv = mixed_server(t)
    a, b, o = irc_user(t, srv, "alpha"), irc_user(t, srv, "beta"), irc_user(t, srv, "obs")
    for x in (a, b, o):
        joined(x, "#swap")
    a.until_cmd("JOIN")
    a.until_cmd("JOIN")
    b.until_cmd("JOIN")
    readers = {a: reader_for(a), b: reader_for(b)}
    for i in range(300):  # small sends, so that the two interleave
        a.send(b"NICK x%d\r\nNICK x%d\r\n" % (i % 3, (i + 1) % 3))
        b.send(b"NICK X%d\r\nNICK X%d\r\n" % ((i + 1) % 3, (i + 2) % 3))
    # Each PONG says the server has handled that client's NICKs; the other
    # racer's may still follow it on the wire. Once both are in, nothing
    # more is sent, so a second PONG is the last line either will get.
    for token in ("done", "last"):
        for x in (a, b):
            x.send_line("PING " + token)
        for rd in readers.values():
            await_bytes(t, rd, b" PONG irc.test :%s\r\n" % token.encode())
    ThreadReader.stop_all(list(readers.values()))
    now = {"alpha": "alpha", "beta": "beta"}
    o.send_line("NAMES #swap")
    for msg in o.until_cmd("366"):
        if msg.command == "NICK":
            who = [k for k, v in now.items() if v == msg.nick]
            check(len(who) == 1, "NICK from %s, who is none of %s", msg.nick, now)
            now[who[0]] = msg.params[0]
        elif msg.command == "353":
            names = sorted(x.lstrip("@+") for x in msg.params[-1].split())
    check(names == sorted(list(now.values()) + ["obs"]), "NAMES says %s, the NICKs said %s", names, now)
    check(now["alpha"].lower() != now["beta"].lower(), "both hold %s", now)
    for x, first in ((a, "alpha"), (b, "beta")):
        mine, refused = first, 0
        for m in lines_of(readers[x].take()):
            if m.command == "NICK" and m.nick == mine:
                mine = m.params[0]
            refused += m.command == "433"
        check(mine == now[first], "%s thinks it is %s, the channel says %s", first, mine, now[first])
        t.details.append("%s: %d changes refused with 433" % (first, refused))
    o.barrier()


def test_registration_that_never_ends(t):
    """--ping-interval 1: CAP LS with no CAP END, NICK without USER, a
    client that says nothing, and one that keeps talking (PING, CAP LS)
    but never registers: each gets `ERROR :Closing Link: NICK[HOST]
    (Registration timed out)` between 1 and 3 s after connecting."""
    srv = mixed_server(t, "--ping-interval", "1")
    cap, nick, mute = (irc_client(t, srv) for _ in range(3))
    t0 = time.monotonic()
    cap.send_line("CAP LS 302")
    cap.send_line("NICK capper")
    cap.send_line("USER capper 0 * :x")
    cap.expect_cmd("CAP", "*", "LS")
    nick.send_line("NICK nouser")
    for x, who in ((cap, "capper"), (nick, "nouser"), (mute, "*")):
        x.expect(closing_link(who, "Registration timed out"), timeout=4)
        x.expect_end()
        took = time.monotonic() - t0
        check(1.0 <= took < 3.0, "%s dropped after %.2fs", who, took)
    chatty = irc_client(t, srv)
    t0 = time.monotonic()
    chatty.send_line("NICK chatty")
    k = 0
    while True:
        k += 1
        chatty.send_line("PING k%d" % k if k % 2 else "CAP LS")
        ln = chatty.line(timeout=4)
        if ln.startswith("ERROR"):
            break
        check(time.monotonic() - t0 < 4, "the chatty client is still there after %.2fs", time.monotonic() - t0)
        time.sleep(0.2)  # a client that talks five times a second
    took = time.monotonic() - t0
    check(ln == closing_link("chatty", "Registration timed out"), "got %r", ln)
    check(took < 3.5, "chatty dropped after %.2fs", took)
    # A client that registers in time is not dropped for it.
    ok = irc_user(t, srv, "intime")
    ok.barrier()


def test_long_names_and_parameters_cut_between_characters(t):
    """A USER name and a real name past their limits (15 and 128 bytes),
    and a parameter longer than what a command keeps of it (CAP's
    subcommand, echoed in 410), are cut between characters, never inside
    one: others see the names in prefixes and extended-join, the sender
    the parameter, all as valid UTF-8 (the harness checks every line)."""
    srv = mixed_server(t)
    b = irc_user(t, srv, "bob", caps=("extended-join",))
    joined(b, "#x")
    a = irc_client(t, srv)
    a.send_line("CAP " + "\u00e9" * 10)
    a.expect(":%s 410 * %s :Invalid CAP command" % (SERVER_NAME, "\u00e9" * 7))
    a.send_line("NICK alice")
    a.send_line("USER %s 0 * :x%s" % ("\u00e9" * 12, "\u00e9" * 100))
    a.until_cmd("422")
    joined(a, "#x")
    j = b.expect_cmd("JOIN", "#x", "*")
    check(j.params[2] == "x" + "\u00e9" * 63, "real name %r", j.params[2])
    check(j.source == "alice!~%s@%s" % ("\u00e9" * 7, HOST), "prefix %r", j.source)
    a.barrier()
    b.barrier()


# -- modes ---------------------------------------------------------------------------
#
# MODE comes with the channel-moderation branch (wt-ircchan): until it is
# merged these two fail with 421 Unknown command. They are written to the
# numerics in modern.ircdocs.horse and the ISUPPORT parley sends.


def isupport(msgs):
    """The ISUPPORT tokens of a welcome, as a dict."""
    out = {}
    for m in msgs:
        if m.command == "005":
            for tok in m.params[1:-1]:
                k, _, v = tok.partition("=")
                out[k] = v
    return out


def full(m, mask):
    """m is ERR_BANLISTFULL for #b: `478 NICK #b MASK :...` as most servers
    send it, or with the mode letter where the mask is."""
    check(m.command == "478" and m.params[1] == "#b" and m.params[2] in (mask, "b") and len(m.params) == 4,
          "expected 478 for %s, got %r", mask, m.line)


def test_ban_list_flood_stops_at_maxlist(t):
    """An operator adds bans past MAXLIST=b:N, one MODE line each: the
    first N are set (the channel sees each MODE), every other gets
    ERR_BANLISTFULL (478) and changes nothing; the
    list (`MODE #chan +b`) then holds exactly N entries (367s, then 368).
    Removing one makes room for one more."""
    srv = mixed_server(t)
    op = irc_client(t, srv)
    limit = int(isupport(op.register("op"))["MAXLIST"].split(":")[1])
    w = irc_user(t, srv, "watch")
    joined(op, "#b")
    joined(w, "#b")
    op.until_cmd("JOIN")
    n = limit + 20
    op.send(b"".join(b"MODE #b +b m%03d!*@*\r\n" % i for i in range(n)))
    src = ":op!~op@%s" % HOST
    for i in range(limit):
        op.expect("%s MODE #b +b m%03d!*@*" % (src, i))
        w.expect("%s MODE #b +b m%03d!*@*" % (src, i))
    for i in range(limit, n):
        full(op.msg(), "m%03d!*@*" % i)
    w.barrier()
    op.send_line("MODE #b +b")
    for i in range(limit):
        m = op.expect_num("367", "#b", "m%03d!*@*" % i)
    op.expect_num("368", "#b")
    op.send_line("MODE #b -b m000!*@*")
    op.expect("%s MODE #b -b m000!*@*" % src)
    op.send_line("MODE #b +b last!*@*")
    op.expect("%s MODE #b +b last!*@*" % src)
    op.send_line("MODE #b +b more!*@*")
    full(op.msg(), "more!*@*")
    op.barrier()


def test_mode_flood_paced_and_seen_in_order(t):
    """An operator toggles +m/-m and +v/-v 200 times in one send (burst 20,
    then 50 a second): every change is made, in order, paced; the IRC and
    text members see each one. 5,000 MODE queries in one send (flood
    control off) are answered in order while a probe pair keeps
    chatting."""
    srv = mixed_server(t, "--flood-burst", "20", "--flood-rate", "50", flood=True)
    op, v, c = trio(t, srv, ("op", "voice", "carol"), "#m")
    time.sleep(0.5)  # let the operator's budget refill after registering
    changes = ["+m", "-m", "+v voice", "-v voice"] * 50
    t0 = time.monotonic()
    op.send("".join("MODE #m %s\r\n" % ch for ch in changes))
    for ch in changes:
        v.expect(":op!~op@%s MODE #m %s" % (HOST, ch), timeout=10)
    took = time.monotonic() - t0
    check(took >= (len(changes) - 20) / 50.0 - 0.35, "200 MODEs with burst 20 at 50/s took only %.2fs", took)
    for ch in changes:
        op.expect(":op!~op@%s MODE #m %s" % (HOST, ch))
        c.expect("* op set mode %s in #m" % ch)
    op.barrier()
    v.barrier()
    t.barrier(c)
    # Queries, unpaced.
    srv2 = mixed_server(t)
    q = irc_user(t, srv2, "asker")
    joined(q, "#q")
    n = 5000
    msgs = under_abuse(t, srv2, q, b"MODE #q\r\n" * n, n, "5,000 MODE queries")
    modes = [m for m in msgs if m.command == "324"]
    check(len(modes) == n and all(m.params[1] == "#q" for m in modes), "%d 324s for %d queries", len(modes), n)


test_mode_flood_paced_and_seen_in_order.timeout = 45
