"""Peers that vanish without a word, and per-address limits by network.

These tests build their own networks: Linux network namespaces made with
`ip netns add` (root and iproute2 are required; a missing `ip` fails the
test), deleted again whatever happens.  The server runs inside one with the
harness's `wrap=` argv prefix; clients are ordinary harness clients whose
sockets are made inside a namespace (the test's thread enters it with
setns(2) just for the socket() call and comes back).

- A vanished peer: the client sits in its own namespace, joined to the
  server's by a veth pair.  It then goes silent as a crashed machine or a
  laptop that went to sleep would: its namespace gets a blackhole route to
  the server, so the server's packets arrive and get no answer at all,
  neither ACK nor RST (the kernel reports ETIMEDOUT); or its link goes down,
  as an unplugged cable would (the server then hears no ARP reply either,
  and the kernel reports EHOSTUNREACH).
- Many IPv6 addresses of one /64: extra addresses on the loopback device of
  a namespace.
"""

import contextlib
import ctypes
import itertools
import os
import re
import shutil
import subprocess
import time

from harness import check

CLONE_NEWNET = 0x40000000
IP = shutil.which("ip") or "/usr/sbin/ip"  # root's PATH has it; others' may not
SERVER_FULL = re.compile(r"! server full.*")

_libc = ctypes.CDLL(None, use_errno=True)
_names = itertools.count(1)


def ip(*args):
    """Runs `ip ARGS...`; a failure fails the test with ip's message."""
    check(os.path.exists(IP), "iproute2's `ip` is not installed (tests/deps.sh installs it)")
    p = subprocess.run([IP, *args], stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    check(p.returncode == 0, "ip %s: %s", " ".join(args), p.stderr.decode("utf-8", "replace").strip())
    return p.stdout.decode("utf-8", "replace")


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: %s" % os.strerror(e))


class Netns:
    """A network namespace of its own, with its loopback device up."""

    def __init__(self, tag):
        self.name = "parley-e2e-%d-%d-%s" % (os.getpid(), next(_names), tag)
        ip("netns", "add", self.name)
        ip("-n", self.name, "link", "set", "lo", "up")
        # The server runs in here: `ip netns exec` switches and execs it.
        self.wrap = [IP, "netns", "exec", self.name]

    def ip(self, *args):
        return ip("-n", self.name, *args)

    @contextlib.contextmanager
    def inside(self):
        """Runs the block with this thread in the namespace: sockets made
        there belong to it for good, wherever they are used later."""
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            target = os.open("/run/netns/" + self.name, os.O_RDONLY)
            try:
                _setns(target)
                try:
                    yield
                finally:
                    _setns(own)
            finally:
                os.close(target)
        finally:
            os.close(own)

    def delete(self):
        # What still uses it (the server, client sockets) keeps it alive
        # until the harness closes them; the name goes now.
        subprocess.run([IP, "netns", "del", self.name], capture_output=True, timeout=10)


@contextlib.contextmanager
def namespaces(*tags):
    """Makes one namespace per tag and deletes them all afterwards."""
    made = []
    try:
        for tag in tags:
            made.append(Netns(tag))
        yield made
    finally:
        for ns in made:
            ns.delete()


@contextlib.contextmanager
def cable():
    """Two namespaces joined by a veth pair: the server's end `vs` is
    10.77.0.1/24, the client's end `vc` is 10.77.0.2/24."""
    with namespaces("srv", "cli") as (srv_ns, cli_ns):
        ip("link", "add", "vs", "netns", srv_ns.name, "type", "veth", "peer", "name", "vc", "netns", cli_ns.name)
        srv_ns.ip("addr", "add", "10.77.0.1/24", "dev", "vs")
        srv_ns.ip("link", "set", "vs", "up")
        cli_ns.ip("addr", "add", "10.77.0.2/24", "dev", "vc")
        cli_ns.ip("link", "set", "vc", "up")
        yield srv_ns, cli_ns


def wait_all_acked(t, ns, peer, timeout=5):
    """Waits until the sockets of namespace ns connected to peer have no
    unacknowledged bytes (Send-Q 0 in `ss`), so that what comes next starts
    from an idle connection, not one with data still in flight."""
    end = time.monotonic() + t.bound(timeout)
    while True:
        out = ip("netns", "exec", ns.name, "ss", "-Htn", "state", "established", "dst", peer)
        queues = [int(ln.split()[1]) for ln in out.splitlines() if ln.strip()]
        if queues and not any(queues):
            return
        check(time.monotonic() < end, "output to %s never acknowledged: %s", peer, out.strip())
        time.sleep(0.02)  # bounded poll of the kernel's socket table


def join_lobby(c, nick, others):
    """Welcomes c, renames it to nick, and consumes the notices others get."""
    old = c.welcome()
    for p in others:
        p.expect("* %s joined #lobby" % old)
    c.say("/nick %s" % nick)
    c.expect("* you are now %s" % nick)
    for p in others:
        p.expect("* %s is now %s" % (old, nick))
    c.nick = nick
    return c


def vanished_peer(t, how, talk):
    """alice and a silent sleeper sit next to the server; ghost is across
    the cable and then vanishes (how: "blackhole" or "unplug").  If talk,
    alice speaks after that, so the server has data in flight to ghost that
    will never be acknowledged; otherwise the connection is idle and only
    keepalive can notice.  Requires that ghost is dropped within the
    keepalive bound, that the room hears why, that its nick is free again
    and that the sleeper, silent all along but alive, stays."""
    keepalive = 1  # probes after 1 s, every 1 s, 6 of them: dropped in 7 s
    with cable() as (srv_ns, cli_ns):
        srv = t.server("--keepalive", str(keepalive), listen=["text://10.77.0.1:0"], wrap=srv_ns.wrap)
        with srv_ns.inside():
            alice = join_lobby(t.client(srv), "alice", [])
            sleeper = join_lobby(t.client(srv), "sleeper", [alice])
        with cli_ns.inside():
            ghost = join_lobby(t.client(srv), "ghost", [alice, sleeper])
        t.barrier(ghost, alice, sleeper)
        wait_all_acked(t, srv_ns, "10.77.0.2")

        # No FIN, no RST: silence.
        if how == "blackhole":
            cli_ns.ip("route", "add", "blackhole", "10.77.0.1/32")
        else:
            cli_ns.ip("link", "set", "vc", "down")
        cut = time.monotonic()
        if talk:
            alice.say("anyone there?")
            sleeper.expect("[alice]: anyone there?")
        alice.expect("* ghost quit (connection timed out)", timeout=25)
        took = time.monotonic() - cut
        srv.wait_event("disconnect", nick="ghost", reason="timeout")
        # keepalive + 6 probes at 1 s = 7 s, with room for a slow machine.
        check(took < 15, "ghost was dropped %.1fs after the cut, want about 7s", took)

        # The silent but alive peer answered every probe and is still here.
        sleeper.expect("* ghost quit (connection timed out)")
        t.barrier(sleeper, alice)
        check(not srv.events("disconnect", nick="sleeper"), "the idle sleeper was dropped")

        # The nick and the slot are free again.
        with srv_ns.inside():
            again = t.client(srv)
        join_lobby(again, "ghost", [alice, sleeper])
        again.say("/who")
        again.expect("* #lobby (3 people): @alice, ghost, sleeper")


def test_vanished_idle_peer_dropped(t):
    """Keepalive: an idle connection whose peer vanished (no FIN, no RST)
    is probed and dropped; the room sees `* NICK quit (connection timed
    out)` (docs/protocol.md, Disconnect reasons)."""
    vanished_peer(t, "blackhole", talk=False)


test_vanished_idle_peer_dropped.timeout = 60


def test_vanished_peer_with_unacked_output_dropped(t):
    """TCP_USER_TIMEOUT: output sent to a vanished peer is never
    acknowledged; keepalive stays silent while data is in flight, so
    without a user timeout the kernel would retransmit for about 15
    minutes.  Here the cable is pulled instead."""
    vanished_peer(t, "unplug", talk=True)


test_vanished_peer_with_unacked_output_dropped.timeout = 60


def test_closed_receive_window_dropped(t):
    """A peer that is alive but keeps its receive window closed (it never
    reads) while output waits for it is dropped within the same bound
    (TCP_USER_TIMEOUT covers zero-window probes), well before --sendq-max
    would be reached: docs/security.md, vanished peers."""
    srv = t.server("--keepalive", "1")
    talker = t.users(srv, "talker")[0]
    t.client(srv, rcvbuf=4096)  # user2: never reads a byte
    talker.expect("* user2 joined #lobby")
    line = "z" * 100
    # 300 KB: far more than the stuck reader's buffers, far less than the
    # 1 MiB --sendq-max.
    for _ in range(3000):
        talker.say(line)
    start = time.monotonic()
    talker.expect("* user2 quit (connection timed out)", timeout=25)
    took = time.monotonic() - start
    srv.wait_event("disconnect", id=2, reason="timeout")
    check(took < 15, "the stuck reader was dropped after %.1fs, want about 7s", took)
    talker.barrier()


test_closed_receive_window_dropped.timeout = 45


# -- per-address limits by network -----------------------------------------

NET_A = "2001:db8:a:1::"  # one /64
NET_B = "2001:db8:a:2::"  # the next /64, in the same /48


@contextlib.contextmanager
def v6_lan():
    """A namespace whose loopback device holds the server's address
    NET_A1 and client addresses NET_A{a,b,c} and NET_B{a,b}."""
    with namespaces("v6") as (ns,):
        for a in ("1", "a", "b", "c"):
            ns.ip("-6", "addr", "add", NET_A + a + "/128", "dev", "lo", "nodad")
        for a in ("a", "b"):
            ns.ip("-6", "addr", "add", NET_B + a + "/128", "dev", "lo", "nodad")
        yield ns


def v6_server(t, ns, *flags):
    return t.server(*flags, listen=["text://[%s1]:0" % NET_A], wrap=ns.wrap)


def v6_client(t, ns, srv, source):
    with ns.inside():
        return t.client(srv, source=source)


def two_admitted(t, ns, srv, source_a, source_b):
    """Connects from two addresses, both welcomed; returns the clients."""
    a = v6_client(t, ns, srv, source_a)
    a.welcome(count=1)
    b = v6_client(t, ns, srv, source_b)
    b.welcome(count=2)
    a.expect("* %s joined #lobby" % b.nick)
    return a, b


def log_mark(srv):
    """The number of log lines so far, to wait for lines after them."""
    return len(srv.err_lines)


def expect_refused(srv, c, mark):
    """c hears `! server full` and is closed; the log says max-per-ip."""
    c.expect(SERVER_FULL)
    c.expect_end()
    srv.wait_log(r"\bevent=refuse\b.*\breason=max-per-ip\b", start=mark)


def test_ipv6_clients_counted_by_64(t):
    """--max-per-ip counts IPv6 clients by their /64 by default: a client
    with many addresses of one /64 cannot get around it, another /64 is
    counted apart, and a leaving client frees its network's slot."""
    with v6_lan() as ns:
        srv = v6_server(t, ns, "--max-per-ip", "2")
        a, b = two_admitted(t, ns, srv, NET_A + "a", NET_A + "b")
        n = log_mark(srv)
        c = v6_client(t, ns, srv, NET_A + "c")
        expect_refused(srv, c, n)
        # Another /64 has its own count.
        d = v6_client(t, ns, srv, NET_B + "a")
        d.welcome(count=3)
        a.expect("* %s joined #lobby" % d.nick)
        b.expect("* %s joined #lobby" % d.nick)
        # One leaves: its /64 may connect again, from any of its addresses.
        # (Closing is enough: the server sees EOF and frees it at once.)
        b.close()
        a.expect("* %s quit (connection closed)" % b.nick)
        d.expect("* %s quit (connection closed)" % b.nick)
        c2 = v6_client(t, ns, srv, NET_A + "c")
        c2.welcome(count=3)
        a.expect("* %s joined #lobby" % c2.nick)
        d.expect("* %s joined #lobby" % c2.nick)
        t.barrier(a, d, c2)


def test_ipv6_prefix_flag(t):
    """--ipv6-prefix 128 counts each IPv6 address; 48 counts a whole /48."""
    with v6_lan() as ns:
        per_addr = v6_server(t, ns, "--max-per-ip", "1", "--ipv6-prefix", "128")
        a, b = two_admitted(t, ns, per_addr, NET_A + "a", NET_A + "b")
        n = log_mark(per_addr)
        expect_refused(per_addr, v6_client(t, ns, per_addr, NET_A + "a"), n)

        per_48 = v6_server(t, ns, "--max-per-ip", "1", "--ipv6-prefix", "48")
        c = v6_client(t, ns, per_48, NET_A + "c")
        c.welcome(count=1)
        n = log_mark(per_48)
        expect_refused(per_48, v6_client(t, ns, per_48, NET_B + "b"), n)
        t.barrier(a, b, c)
