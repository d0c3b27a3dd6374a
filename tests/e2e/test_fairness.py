"""Fairness: flood control, the output cap (sendq), connection limits."""

import time

from harness import check


def wait_refusal_logged(srv, why):
    """A refused connection is logged: `event=refuse ... reason=WHY` (what
    parleyd writes) or `event=disconnect ... reason=full` (the brief)."""
    end = time.monotonic() + 5
    while time.monotonic() < end:
        if srv.events("refuse", reason=why) or srv.events("refuse", reason="full") or srv.events("disconnect", reason="full"):
            return
        srv.wait_log(r"event=(refuse|disconnect)", timeout=max(0.01, end - time.monotonic()))
        time.sleep(0.01)
    raise AssertionError("refused connection not logged (event=refuse reason=%s); log:\n%s" % (why, srv.log_text(tail=10)))


def admitted_soon(t, srv, within):
    """Connects until the server admits the connection (its first line is
    not `! server full ...`), for at most `within` seconds: the server frees a
    slot when it has read the close, which races with our next connect.
    Returns the client with the welcome line still unread."""
    end = time.monotonic() + within
    while True:
        c = t.client(srv)
        first = c.line()
        if not first.startswith("! server full"):
            c.buf = (first + "\r\n").encode() + c.buf  # let welcome() read it
            c.received.pop()
            return c
        c.expect_end()
        c.close()
        if time.monotonic() > end:
            raise AssertionError("a freed slot was not reusable within %.1fs (still `%s`)" % (within, first))
        time.sleep(0.02)  # bounded retry, see above


def test_flood_paced_nothing_dropped(t):
    srv = t.server("--flood-burst", "5", "--flood-rate", "20")
    s, r, o = t.users(srv, None, None, None)
    n = 40
    t0 = time.monotonic()
    s.send(b"".join(b"flood %02d\n" % i for i in range(n)))
    got = []
    other_at = None
    o_sent = False
    while len(got) < n:
        ln = r.line(timeout=10)
        if ln == "[user3]: not blocked":
            other_at = len(got)
            continue
        check(ln == "[user1]: flood %02d" % len(got), "flood line out of order or dropped: got %r after %d lines", ln, len(got))
        got.append(ln)
        if len(got) == 10 and not o_sent:
            # Another client is not held up by the flooder's pacing.
            o.say("not blocked")
            o_sent = True
    elapsed = time.monotonic() - t0
    want = (n - 5) / 20.0
    check(elapsed >= want - 0.35, "40 lines with burst 5 at 20/s took %.2fs, expected at least ~%.2fs (no pacing?)", elapsed, want)
    check(other_at is not None and other_at < n - 5, "another client's line waited behind the flood (arrived after %s flood lines)", other_at)
    s.expect("[user3]: not blocked")
    for i in range(n):
        o.expect("[user1]: flood %02d" % i)
    t.barrier(s, r, o)


def test_flood_commands_paced_in_order(t):
    """Commands count too, and their replies come in order."""
    srv = t.server("--flood-burst", "3", "--flood-rate", "20")
    (s,) = t.users(srv, None)
    t0 = time.monotonic()
    s.send(b"".join(b"/nick n%02d\n" % i for i in range(23)))
    for i in range(23):
        s.expect("* you are now n%02d" % i, timeout=10)
    elapsed = time.monotonic() - t0
    check(elapsed >= 20 / 20.0 - 0.3, "23 commands with burst 3 at 20/s took only %.2fs", elapsed)


def test_sendq_cuts_off_slow_reader_only(t):
    srv = t.server("--sendq-max", "65536")
    slow = t.client(srv, rcvbuf=4096)
    slow.welcome()
    f, r1, r2 = t.users(srv, None, None, None)
    slow_nick = slow.nick
    # Consume the welcome notices the slow client would get: not needed, it
    # never reads again.
    pad = "p" * 900
    batch = 30
    seq = 0
    cut = False
    readers = {r1: 0, r2: 0}
    quit_seen = {r1: False, r2: False}
    for _ in range(330):  # at most 330 * 30 * ~910 bytes = ~9 MB
        f.send("".join("%06d %s\n" % (seq + i, pad) for i in range(batch)))
        seq += batch
        for r in readers:
            while readers[r] < seq:
                ln = r.line(timeout=10)
                if ln == "* %s quit (too slow: output queue full)" % slow_nick:
                    quit_seen[r] = True
                    continue
                want = "[%s]: %06d %s" % (f.nick, readers[r], pad)
                check(ln == want, "reader %r: expected message %d, got %r", r, readers[r], ln[:80])
                readers[r] += 1
        if srv.events("disconnect", reason="sendq"):
            cut = True
            break
    check(cut, "slow reader was never cut off after %d messages (~%d bytes)", seq, seq * 908)
    ev = srv.wait_event("disconnect", reason="sendq")
    check(ev.get("id") == str(slow.id), "the sendq disconnect was id=%s, expected the slow client id=%s", ev.get("id"), slow.id)
    check(len(srv.events("disconnect")) == 1, "other connections were closed too: %s", srv.events("disconnect"))
    for r in readers:
        if not quit_seen[r]:
            r.expect("* %s quit (too slow: output queue full)" % slow_nick)
    f.expect("* %s quit (too slow: output queue full)" % slow_nick)
    # The slow client finally reads: whatever it gets ends with a close (a
    # line may be cut short, so no line checks here).
    slow.raw_drain(timeout=10)
    t.barrier(f, r1, r2)


def test_max_clients(t):
    srv = t.server("--max-clients", "3")
    a, b, c = t.users(srv, None, None, None)
    d = t.client(srv)
    d.expect("! server full (max 3 clients)")
    d.expect_end()
    t.barrier(a, b, c)  # nobody was told about d
    wait_refusal_logged(srv, "max-clients")
    # After one leaves, a new connection is admitted.
    c.say("/quit")
    c.expect("* bye")
    c.expect_end()
    c.close()  # as telnet does on EOF; the server may linger until then
    a.expect("* %s quit" % c.nick)
    b.expect("* %s quit" % c.nick)
    e = admitted_soon(t, srv, within=1.0)
    e.welcome(count=3)
    a.expect("* %s joined #lobby" % e.nick)
    b.expect("* %s joined #lobby" % e.nick)
    e.say("hi")
    a.expect("[%s]: hi" % e.nick)
    b.expect("[%s]: hi" % e.nick)
    # The same after a client that just closes.
    b.close()
    a.expect("* %s quit (connection closed)" % b.nick)
    g = admitted_soon(t, srv, within=1.0)
    g.welcome(count=3)


def test_max_per_ip_with_limit_loopback(t):
    srv = t.server("--max-per-ip", "2", "--limit-loopback")
    a, b = t.users(srv, None, None)
    c = t.client(srv)
    c.expect("! server full (max 2 connections per address)")
    c.expect_end()
    t.barrier(a, b)
    wait_refusal_logged(srv, "max-per-ip")
    # Another loopback address counts separately.
    other = t.client(srv, source="127.0.0.2")
    other.welcome(count=3)
    a.expect("* %s joined #lobby" % other.nick)
    # One leaves; 127.0.0.1 may connect again.
    b.close()
    a.expect("* %s quit (connection closed)" % b.nick)
    d = t.client(srv)
    d.welcome(count=3)


def test_max_per_ip_loopback_exempt_by_default(t):
    srv = t.server("--max-per-ip", "2")
    cs = t.users(srv, None, None, None, None)
    check(len(cs) == 4, "loopback connections were limited")
    cs[0].say("/who")
    cs[0].expect("* #lobby (4 people): @user1, user2, user3, user4")


def test_sendq_counts_what_the_kernel_refused(t):
    """A reader that keeps up is not cut off because one loop round queued
    more than --sendq-max for it: the limit caps what the kernel would not
    take (docs/protocol.md, Limits). 6000 short lines in one packet become
    about 126 KB of output for the reader in one round, twice the limit;
    a server that checked the limit when queueing would cut it off."""
    srv = t.server("--sendq-max", "65536")
    s, r = t.users(srv, "sender", "reader")
    n = 6000
    s.send(b"".join(b"m%08d\n" % i for i in range(n)))
    for i in range(n):
        r.expect("[sender]: m%08d" % i)
    t.barrier(s, r)
    check(not srv.events("disconnect"), "someone was cut off: %s", srv.events("disconnect"))
