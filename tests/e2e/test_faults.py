"""Faults: the machine runs out of descriptors; the server is told to stop
while its output queues are full or while it is busy.

Each case shows the server still serving correctly while the fault lasts
(or, for shutdown, that the exit is clean: status 0 within the deadline and
every reading client told), and says in its docstring which server
behaviour makes it pass.
"""

import re
import signal
import socket
import threading
import time

from harness import Ended, check, people
from test_hostile import ThreadReader, tcp_queues, cpu_over, serving, settle

NOFILE = ["prlimit", "--nofile=64:64"]


def _first_line(c, timeout=5):
    """The first line a new connection gets, or None if it was closed
    without one."""
    try:
        return c.line(timeout=timeout)
    except Ended:
        return None


def _welcomed(c, first):
    """Finishes reading the welcome after its first line; sets c.nick."""
    m = re.fullmatch(r"\* welcome to parley, (user(\d+))", first or "")
    check(m, "unexpected first line %r", first)
    c.nick, c.id = m.group(1), int(m.group(2))
    c.expect(re.compile(r"\* you are in #lobby \(\d+ (?:people|person) here\)"))
    c.expect(re.compile(r"\* type to talk; .*"))


def _chat_in_new_room(t, a, b, room):
    """a and b, already welcomed, meet in a new room and chat both ways."""
    a.say("/join " + room)
    a.read_until(re.compile(r"\* you joined #%s \(%s here\)" % (room, people(1))), timeout=10)
    b.say("/join " + room)
    b.read_until("* you joined #%s (2 people here)" % room, timeout=10)
    a.expect("* %s joined #%s" % (b.nick, room))
    a.say("hello " + room)
    b.expect("[%s]: hello %s" % (a.nick, room))
    b.say("hi back")
    a.expect("[%s]: hi back" % b.nick)
    t.barrier(a, b)


# -- descriptor exhaustion ------------------------------------------------------


def test_fd_limit_default_max_clients(t):
    """Under `ulimit -n 64` with the default --max-clients (derived from the
    limit with a reserve), 20 connections past it get `! server full (max N
    clients)` at once
    and are closed; the server never runs out of descriptors, stays idle,
    serves the others, and admits again when some leave.

    Passes because --max-clients defaults below the open-file limit and
    over-limit connections are refused with a message (server.c
    server_admit).  Without the reserve the server would hit EMFILE and the
    extra connections would wait (the immediate `! server full` fails)."""
    srv = t.server(wrap=NOFILE)
    start = srv.wait_event("start")
    limit = int(start["max_clients"])
    check(0 < limit < 64, "max_clients=%s with a 64-descriptor limit", limit)
    inside = []
    for _ in range(limit):
        c = t.client(srv)
        _welcomed(c, _first_line(c))
        inside.append(c)
    extra = [t.client(srv) for _ in range(20)]
    full = "! server full (max %d clients)" % limit
    t0 = time.monotonic()

    def refused():
        for c in extra:
            c.expect(full, timeout=max(0.1, t0 + 2 - time.monotonic()))
            c.expect_end(timeout=2, allow_reset=True)

    cpu, wall = cpu_over(srv, 1.0, refused)
    check(cpu < 0.3, "server used %.2fs CPU in %.2fs while full", cpu, wall)
    check(not srv.events("accept-pause"), "the server ran out of descriptors: %s", srv.events("accept-pause"))
    srv.wait_refusals("max-clients", 20)
    for c in inside:
        settle(c)
    _chat_in_new_room(t, inside[0], inside[1], "full")
    # Three leave; three new ones are admitted and can chat.
    for c in inside[-3:]:
        c.close()
    srv.wait_log(r"\bevent=disconnect\b", count=3)
    fresh = []
    for _ in range(3):
        c = t.client(srv)
        _welcomed(c, _first_line(c))
        fresh.append(c)
    _chat_in_new_room(t, fresh[0], fresh[1], "again")
    more = t.client(srv)
    more.expect(full)


def _log_time(line):
    """Seconds (within the day) of a log line's ISO timestamp."""
    m = re.match(r"\d{4}-\d\d-\d\dT(\d\d):(\d\d):(\d\d\.\d+)Z", line)
    check(m, "log line without a timestamp: %r", line)
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))


def _read_firsts(t, conns):
    """Reads the first line of each connection (in order, all within 15 s):
    returns (welcomed clients, times at which refused ones were answered,
    count of those closed without a word)."""
    welcomed, refused_at, silent = [], [], 0
    end = time.monotonic() + 15
    for c in conns:
        first = _first_line(c, timeout=max(0.1, end - time.monotonic()))
        if first is None:
            silent += 1
        elif first == "! server full (out of file descriptors)":
            refused_at.append(time.monotonic())
            c.expect_end(timeout=2, allow_reset=True)
        else:
            _welcomed(c, first)
            welcomed.append(c)
    return welcomed, refused_at, silent


def test_fd_exhaustion_no_spin_and_recovers(t):
    """Under `ulimit -n 64` with --max-clients 1000, 80 connections: the
    server runs out of descriptors; while it is saturated, with clients
    waiting and new ones arriving all the time, it uses little CPU; those
    past the limit get `! server full (out of file descriptors)` (or are
    closed) in bounded time,
    paced by the 100 ms accept pause (docs/protocol.md); the welcomed
    clients chat; once some leave, new connections are accepted again and
    can chat.

    Passes because on EMFILE the server spends a spare descriptor to refuse
    one waiting client and pauses accepting for 100 ms (server.c
    server_on_emfile).  Without the spare descriptor waiting clients hang
    with no answer (the bounded first-line wait fails), and the listener
    spins (the CPU bound fails); without the pause the refusals are not
    paced (the pacing check fails)."""
    srv = t.server("--max-clients", "1000", "--max-per-ip", "0", wrap=NOFILE)
    conns = [t.client(srv) for _ in range(80)]
    srv.wait_event("accept-pause")

    # Saturated, connections keep arriving (one every 80 ms): measure CPU.
    stop = threading.Event()
    late = []

    def knock():
        while not stop.is_set() and len(late) < 15:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            late.append(s)
            try:
                s.settimeout(2)
                s.connect(srv.addr[1:])
            except OSError:
                pass
            stop.wait(0.08)

    th = threading.Thread(target=knock, daemon=True)
    th.start()
    try:
        cpu, wall = cpu_over(srv, 1.2)
    finally:
        stop.set()
        th.join(5)
    check(cpu < 0.3 * wall, "server used %.2fs CPU in %.2fs while out of descriptors (spinning?)", cpu, wall)

    welcomed, refused_at, silent = _read_firsts(t, conns)
    refused = len(refused_at) + silent
    t.details.append("saturated: %.3fs CPU in %.2fs; %d welcomed, %d refused, %d closed silently" % (cpu, wall, len(welcomed), len(refused_at), silent))
    check(refused > 0, "all 80 connections were served with a 64-descriptor limit?")
    check(20 < len(welcomed) < 64, "%d connections welcomed with a 64-descriptor limit", len(welcomed))
    # The server's own timestamps of its refusals for lack of descriptors:
    # accepting pauses 100 ms after each (docs/protocol.md).  The log shows
    # 5 a second in full (the `suppressed=N` lines sum up the rest).
    stamps = [_log_time(ln) for ln in srv.log_text().splitlines() if "event=refuse" in ln and "reason=no-descriptors" in ln and "suppressed=" not in ln]
    check(len(stamps) >= 5, "only %d refusals for lack of descriptors logged", len(stamps))
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    check(min(gaps) >= 0.09, "refusals %.3fs apart: accepting did not pause 100 ms after running out of descriptors", min(gaps))
    for c in welcomed:
        settle(c)
    # Still serving correctly while saturated.
    _chat_in_new_room(t, welcomed[0], welcomed[1], "saturated")
    # Every late knocker is answered: `! server full (...)` or closed, never
    # a hang.
    for s in late:
        s.settimeout(t.bound(10))
        try:
            data = s.recv(100)
            check(data in (b"", b"! server full (out of file descriptors)" b"\r\n"), "a connection past the limit got %r", data)
        except ConnectionResetError:
            pass
        finally:
            s.close()

    # Lift the fault: free ten descriptors; new clients are accepted.
    for c in welcomed[-10:]:
        c.close()
    keep = welcomed[:-10]
    fresh = []
    end = time.monotonic() + 10
    while len(fresh) < 2:
        check(time.monotonic() < end, "no connection accepted after descriptors were freed")
        c = t.client(srv)
        first = _first_line(c)
        if first in (None, "! server full (out of file descriptors)"):
            # Refused before the server saw the descriptors freed; try again
            # (bounded above).  The doc's pause is 100 ms.
            c.close()
            time.sleep(0.1)
            continue
        _welcomed(c, first)
        fresh.append(c)
    _chat_in_new_room(t, fresh[0], fresh[1], "recovered")
    keep[0].say("/who recovered")
    keep[0].read_until(re.compile(r"\* #recovered \(2 people\): .*"))
    serving(t, srv)


test_fd_exhaustion_no_spin_and_recovers.timeout = 45


def test_sigterm_while_out_of_descriptors(t):
    """SIGTERM while the server is out of descriptors (accepting paused,
    clients waiting in the backlog): every welcomed client gets `* server
    shutting down`, and the server exits 0 promptly.

    Passes because shutdown stops the pause timer and closes the listeners
    before telling everyone (server.c server_shutdown).  A pause timer left
    running would re-arm a closed listener (epoll_ctl on a closed
    descriptor aborts)."""
    srv = t.server("--max-clients", "1000", "--max-per-ip", "0", "--shutdown-timeout", "2", wrap=NOFILE)
    welcomed = []
    conns = [t.client(srv) for _ in range(80)]
    # Read the first 40 welcomes; the rest wait in the backlog, unanswered.
    for c in conns[:40]:
        _welcomed(c, _first_line(c))
        welcomed.append(c)
    srv.wait_event("accept-pause")
    _chat_in_new_room(t, welcomed[0], welcomed[1], "busy")
    t0 = time.monotonic()
    srv.send_signal(signal.SIGTERM)
    for c in welcomed:
        lines = c.drain_to_end(timeout=5)
        check(lines and lines[-1] == "* server shutting down", "%r got %s at shutdown", c, lines[-3:])
    waited = srv.expect_exit(timeout=2 + 2)
    check(time.monotonic() - t0 < 2 + 1.5, "exit took %.2fs after SIGTERM", time.monotonic() - t0)
    t.details.append("exit %.2fs after SIGTERM" % waited)


# -- shutdown under pressure -------------------------------------------------------


def test_shutdown_with_full_output_queues(t):
    """Three clients that never read, each with ~800 KB queued, and SIGTERM
    with --shutdown-timeout 1: the server exits 0 within the timeout plus a
    margin, the reading clients get `* server shutting down`, and the stuck
    ones are logged reason=shutdown (not cut off earlier).

    Passes because the flush after SIGTERM is bounded by the shutdown
    deadline (server.c server_on_deadline) and no write blocks.  Without
    that deadline the stuck readers hold the server until their own 2 s
    drain timers (conn.c) or forever (the 1.75 s bound fails)."""
    srv = t.server("--shutdown-timeout", "1")
    stuck = []
    for _ in range(3):
        c = t.client(srv, rcvbuf=4096)
        c.welcome()
        stuck.append(c)
    f, r = t.users(srv, None, None)
    pad = "q" * 1000
    f.send("".join("%04d %s\n" % (i, pad) for i in range(800)))
    for i in range(800):
        r.expect("[%s]: %04d %s" % (f.nick, i, pad))
    t.barrier(f, r)
    check(not srv.events("disconnect"), "someone was disconnected before the shutdown: %s", srv.events("disconnect"))
    t0 = time.monotonic()
    srv.send_signal(signal.SIGTERM)
    for c in (f, r):
        c.expect("* server shutting down")
        c.expect_end()
    srv.expect_exit(timeout=1 + 3)
    took = time.monotonic() - t0
    t.details.append("exit %.2fs after SIGTERM" % took)
    check(took < 1 + 0.75, "shutdown with --shutdown-timeout 1 took %.2fs", took)
    for c in stuck:
        srv.wait_event("disconnect", id=c.id, reason="shutdown")
    srv.wait_event("shutdown-deadline")


def test_shutdown_slow_reader_gets_goodbye_within_timeout(t):
    """A client that reads steadily but not fast, with ~9 MB queued for it
    when SIGTERM comes (--shutdown-timeout 8, --sendq-max 8 MiB): it reads
    its backlog in about 4.5 s and must then get `* server shutting down`
    (whole lines to the end), and the server exits 0 within the timeout.
    docs/protocol.md, Shutdown: the server "sends every connection `*
    server shutting down`, flushes within `--shutdown-timeout` seconds (3),
    and exits 0".

    Passes if the shutdown flush is bounded by --shutdown-timeout.  Most of
    the backlog (~6 MB) sits in the server's own queue, which at this pace
    needs about 3 s to reach the kernel: a shorter per-connection drain
    deadline cuts the reader first, and it loses the rest of its queue and
    the goodbye (its stream then ends inside a line)."""
    srv = t.server("--shutdown-timeout", "8", "--sendq-max", "8388608")
    slow = t.client(srv, rcvbuf=4096)
    slow.welcome()
    f, r = t.users(srv, None, None)
    pad = b"k" * 1000

    def post(n):
        f.send(b"".join(b"%06d %s\n" % (post.seq + i, pad) for i in range(n)))
        for i in range(n):
            r.expect("[%s]: %06d %s" % (f.nick, post.seq + i, pad.decode()))
        post.seq += n

    post.seq = 0
    # Fill the slow client's kernel send buffer (until it stops growing).
    last, steady = -1, 0
    while steady < 3:
        check(post.seq < 20000, "the kernel kept taking data for the slow client")
        post(50)
        tx = tcp_queues(srv.addr[2], slow.local[1])[0]
        steady = steady + 1 if tx == last else 0
        last = tx
    kernel = last
    # Then ~6 MB more, which stays in the server's queue.
    for _ in range(120):
        post(50)
    check(not srv.events("disconnect"), "disconnected before the shutdown: %s", srv.events("disconnect"))
    queued = post.seq * 1008
    rate = queued / 4.5  # bytes per second
    t0 = time.monotonic()
    srv.send_signal(signal.SIGTERM)
    for c in (f, r):
        c.expect("* server shutting down")
        c.expect_end()
    data = bytearray()
    slow.sock.settimeout(1)
    how = None
    while time.monotonic() - t0 < 12:
        # Read at `rate`: the client's own pace, not a wait for the server.
        ahead = len(data) - rate * (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(min(0.05, ahead / rate))
            continue
        try:
            chunk = slow.sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            how = "reset"
            break
        if not chunk:
            how = "eof"
            break
        data += chunk
    took = time.monotonic() - t0
    t.details.append(
        "slow reader: %d of ~%d bytes queued (%d in the kernel) read in %.2fs at %.1f MB/s, ended by %s; log tail:\n%s"
        % (len(data), queued, kernel, took, rate / 1e6, how, srv.log_text(tail=2))
    )
    srv.expect_exit(timeout=max(0.1, t0 + 8 + 3 - time.monotonic()))
    exited = time.monotonic() - t0
    check(
        data.endswith(b"* server shutting down\r\n"),
        "the slow reader got %d of ~%d bytes in %.2fs, then %s, without the goodbye (last bytes %r)",
        len(data), queued, took, how, bytes(data[-40:]),
    )
    check(exited < 8 + 1.5, "exit took %.2fs", exited)


test_shutdown_slow_reader_gets_goodbye_within_timeout.timeout = 45


def test_repeated_signals_during_shutdown(t):
    """SIGTERM, then SIGINT and SIGTERM again half a second later while a
    stuck reader holds the flush (--shutdown-timeout 1): one shutdown, one
    goodbye, exit 0 at the first deadline.

    Passes because a signal during shutdown is ignored (server.c
    server_stopping).  Handling it again restarts the deadline (exit at
    1.5 s: the 1.35 s bound fails) or sends a second goodbye."""
    srv = t.server("--shutdown-timeout", "1")
    stuck = t.client(srv, rcvbuf=4096)
    stuck.welcome()
    f, r = t.users(srv, None, None)
    f.send("".join("%04d %s\n" % (i, "s" * 1000) for i in range(600)))
    for i in range(600):
        r.expect("[%s]: %04d %s" % (f.nick, i, "s" * 1000))
    t0 = time.monotonic()
    srv.send_signal(signal.SIGTERM)
    r.expect("* server shutting down")
    f.expect("* server shutting down")
    # The second and third signals come half-way through the flush.
    while time.monotonic() < t0 + 0.5:
        time.sleep(t0 + 0.5 - time.monotonic())
    srv.send_signal(signal.SIGINT)
    srv.send_signal(signal.SIGTERM)
    r.expect_end()
    f.expect_end()
    srv.expect_exit(timeout=1 + 3)
    took = time.monotonic() - t0
    check(took < 1.35, "exit took %.2fs after the first signal (deadline restarted?)", took)
    check(len(srv.events("shutdown")) == 1, "%d shutdowns logged", len(srv.events("shutdown")))


def test_sigterm_under_heavy_load(t):
    """Four rooms of five, each with a sender posting as fast as its room
    reads (windowed), every client reading on its own thread; SIGTERM in
    the middle: the server exits 0 within --shutdown-timeout plus a margin,
    and every client's stream is whole lines, in order, ending with `*
    server shutting down`, then EOF.

    Passes because shutdown queues the goodbye behind each client's pending
    output and flushes before the deadline (server.c server_shutdown,
    conn_close_with).  A shutdown that closed at once, dropped queued
    output, or missed busy connections fails the per-client checks."""
    srv = t.server("--shutdown-timeout", "3")
    rooms = []
    for k in range(4):
        cs = []
        for _ in range(5):
            c = t.client(srv)
            c.welcome()
            c.say("/join load%d" % k)
            c.read_until(re.compile(r"\* you joined #load%d \(\d+ (?:people|person) here\)" % k))
            cs.append(c)
        rooms.append(cs)
    everyone = [c for cs in rooms for c in cs]
    for c in everyone:
        settle(c)
        c.sock.settimeout(0.5)
    deadline = time.monotonic() + t.bound(25)
    readers = {c: ThreadReader(c, deadline, shut_wr=True) for c in everyone}
    stop = threading.Event()
    sent = {}
    pad = "L" * 100
    batch = 50

    def post(cs):
        snd, probe = cs[0], readers[cs[1]]
        seq = 0
        while not stop.is_set() and time.monotonic() < deadline:
            # At most 4 batches ahead of the slowest... of one reader.
            if not probe.wait_lines(seq - 4 * batch, 2):
                break
            data = "".join("%s %06d %s\n" % (snd.nick, seq + i, pad) for i in range(batch)).encode()
            try:
                snd.sock.sendall(data)
            except OSError:
                break
            seq += batch
            sent[snd] = seq

    senders = [threading.Thread(target=post, args=(cs,), daemon=True) for cs in rooms]
    for th in senders:
        th.start()
    # Let the load build: every room moved at least 5000 lines.
    for cs in rooms:
        check(readers[cs[1]].wait_lines(5000, t.bound(10)), "room of %s did not get going" % cs[0].nick)
    t0 = time.monotonic()
    srv.send_signal(signal.SIGTERM)
    try:
        srv.expect_exit(timeout=3 + 3)
    finally:
        stop.set()
    took = time.monotonic() - t0
    for th in senders:
        th.join(5)
    for rd in readers.values():
        rd.th.join(max(0.1, deadline - time.monotonic()))
    total = sum(sent.values())
    t.details.append("heavy load: %d lines posted, exit %.2fs after SIGTERM" % (total, took))
    check(took < 3 + 1.5, "exit took %.2fs after SIGTERM with --shutdown-timeout 3", took)
    for k, cs in enumerate(rooms):
        snd = cs[0]
        for c in cs:
            rd = readers[c]
            data = bytes(rd.data)
            check(rd.end == "eof", "%r: stream ended by %s", c, rd.end)
            check(data.endswith(b"* server shutting down\r\n"), "%r: stream does not end with the goodbye: %r", c, data[-120:])
            want = 0
            for raw in data.split(b"\r\n")[:-1]:
                ln = raw.decode("utf-8")
                if c is snd or not ln.startswith("[%s]: " % snd.nick):
                    check(ln == "* server shutting down" or ln.startswith("[user"), "%r: unexpected line %r", c, ln[:100])
                    continue
                check(ln == "[%s]: %s %06d %s" % (snd.nick, snd.nick, want, pad), "%r: expected message %d, got %r", c, want, ln[:60])
                want += 1
            check(data.count(b"* server shutting down") == 1, "%r got the goodbye %d times", c, data.count(b"* server shutting down"))
    for c in everyone:
        srv.wait_event("disconnect", id=c.id, reason="shutdown")


test_sigterm_under_heavy_load.timeout = 40
