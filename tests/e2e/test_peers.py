"""Per-address limits by network.

These tests build their own networks: Linux network namespaces made with
`ip netns add` (root and iproute2 are required; a missing `ip` fails the
test), deleted again whatever happens.  The server runs inside one with the
harness's `wrap=` argv prefix; clients are ordinary harness clients whose
sockets are made inside a namespace (the test's thread enters it with
setns(2) just for the socket() call and comes back).

Many IPv6 addresses of one /64 are extra addresses on the loopback device
of a namespace.
"""

import contextlib
import ctypes
import itertools
import os
import re
import shutil
import subprocess

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
