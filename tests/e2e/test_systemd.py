"""systemd: the notification protocol (READY=1, RELOADING=1, STOPPING=1,
WATCHDOG=1) seen on a NOTIFY_SOCKET the test owns, `make install` with
PREFIX and DESTDIR, and the installed unit checked by systemd-analyze and
run with the example config (docs/operations.md, systemd)."""
import os
import re
import shlex
import signal
import socket
import subprocess
import tempfile
import time

from harness import check
from test_cli import _free_port as free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class NotifySocket:
    """A unix datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, t):
        self.t = t
        self.path = os.path.join(tempfile.mkdtemp(prefix="parley-notify-"), "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.seen = []  # every message, in order

    def expect(self, word, timeout=10):
        """Waits for a message holding the line word (e.g. READY=1);
        returns the messages received up to and including it."""
        start = len(self.seen)
        end = time.monotonic() + self.t.bound(timeout)
        while True:
            for i, msg in enumerate(self.seen[start:]):
                if word in msg.split("\n"):
                    return self.seen[start : start + i + 1]
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s on NOTIFY_SOCKET; got %r" % (word, self.seen[start:]))
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            self.seen.append(data.decode("utf-8", "replace"))

    def close(self):
        self.sock.close()


def _states(msgs):
    """The state lines (READY=1, ...) of msgs, without STATUS= and watchdog pings."""
    out = []
    for m in msgs:
        out += [ln for ln in m.split("\n") if ln and not ln.startswith("STATUS=") and ln != "WATCHDOG=1"]
    return out


def test_notify_ready_reloading_stopping(t):
    """READY=1 once the server listens (a client can connect when it
    comes), RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 on SIGTERM."""
    ns = NotifySocket(t)
    try:
        srv = t.server(env={"NOTIFY_SOCKET": ns.path})
        got = ns.expect("READY=1")
        check(_states(got) == ["READY=1"], "before READY=1: %r", got)
        check(srv.events("listen"), "READY=1 before the listen line")
        (a,) = t.users(srv, "alice")
        srv.send_signal(signal.SIGHUP)
        got = ns.expect("READY=1")
        check(_states(got) == ["RELOADING=1", "READY=1"], "reload said %r", got)
        srv.wait_event("reload-done")
        a.say("/who")
        a.expect(re.compile(r"\* #lobby \(1 person\): @?alice"))
        srv.stop()  # SIGTERM; requires exit status 0
        got = ns.expect("STOPPING=1")
        check(_states(got) == ["STOPPING=1"], "stop said %r", got)
    finally:
        ns.close()


def test_notify_watchdog(t):
    """With WATCHDOG_USEC set (WatchdogSec=), WATCHDOG=1 comes from the
    loop every half period; without it, none comes."""
    ns = NotifySocket(t)
    try:
        srv = t.server(env={"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "200000"})
        ns.expect("READY=1")
        start = time.monotonic()
        for _ in range(5):
            ns.expect("WATCHDOG=1", timeout=5)
        check(srv.events("watchdog", period_ms="100"), "no event=watchdog period_ms=100: %s", srv.log_text(tail=5))
        # Five pings at 100 ms take 0.4 s at least: not one burst.
        check(time.monotonic() - start >= 0.35, "five pings in %.2fs", time.monotonic() - start)
    finally:
        ns.close()
    ns = NotifySocket(t)
    try:
        srv = t.server(env={"NOTIFY_SOCKET": ns.path})
        ns.expect("READY=1")
        srv.send_signal(signal.SIGHUP)  # a round of the loop and a reload
        ns.expect("READY=1")
        srv.stop()
        ns.expect("STOPPING=1")
        check(not any("WATCHDOG=1" in m for m in ns.seen), "a watchdog ping without WatchdogSec: %r", ns.seen)
        check(not srv.events("watchdog"), "event=watchdog without WATCHDOG_USEC")
    finally:
        ns.close()


def make_install(t, *args):
    """Runs make install with args, installing the binary under test."""
    build = os.path.dirname(os.path.abspath(t.parleyd))
    cmd = ["make", "-s", "-C", ROOT, "-o", os.path.join(build, "parleyd"), "BUILD=" + build, "install", *args]
    p = subprocess.run(cmd, capture_output=True, timeout=60)
    check(p.returncode == 0, "%s: exit %s %s", " ".join(cmd), p.returncode, p.stderr.decode()[-2000:])


def test_make_install_honours_prefix_and_destdir(t):
    """make install DESTDIR=D PREFIX=/usr puts the binary, both man pages,
    the unit (naming the final paths, not D) and the example config under
    D; a second install keeps an edited config file."""
    d = tempfile.mkdtemp(prefix="parley-destdir-")
    make_install(t, "DESTDIR=" + d, "PREFIX=/usr")
    for path, mode in [
        ("usr/sbin/parleyd", 0o755),
        ("usr/share/man/man8/parleyd.8", 0o644),
        ("usr/share/man/man5/parley.conf.5", 0o644),
        ("usr/lib/systemd/system/parleyd.service", 0o644),
        ("usr/share/doc/parley/parley.conf.example", 0o644),
        ("etc/parley/parley.conf", 0o644),
    ]:
        full = os.path.join(d, path)
        check(os.path.isfile(full), "make install did not make %s", path)
        check(os.stat(full).st_mode & 0o777 == mode, "%s has mode %o", path, os.stat(full).st_mode & 0o777)
    p = subprocess.run([os.path.join(d, "usr/sbin/parleyd"), "--version"], capture_output=True, timeout=5)
    check(p.returncode == 0 and b"parleyd" in p.stdout, "installed binary: %r", p)
    with open(os.path.join(d, "usr/lib/systemd/system/parleyd.service")) as f:
        unit = f.read()
    check("\nExecStart=/usr/sbin/parleyd -c /etc/parley/parley.conf\n" in unit, "ExecStart does not name the final paths:\n%s", unit)
    check(d not in unit, "the unit names DESTDIR")
    with open(os.path.join(d, "etc/parley/parley.conf")) as f:
        check("\nweb-root = /usr/share/parley/web\n" in f.read(), "the config does not name the installed web client")
    check(os.path.isdir(os.path.join(d, "usr/share/parley/web")), "make install made no web folder")
    conf = os.path.join(d, "etc/parley/parley.conf")
    with open(conf, "a") as f:
        f.write("history = 3\n")
    make_install(t, "DESTDIR=" + d, "PREFIX=/usr")
    with open(conf) as f:
        check(f.read().endswith("history = 3\n"), "a second make install overwrote the config file")
    for page in ("man8/parleyd.8", "man5/parley.conf.5"):
        p = subprocess.run(["man", "--warnings", "-l", "-Tutf8", os.path.join(d, "usr/share/man", page)], capture_output=True, timeout=20)
        check(p.returncode == 0 and not p.stderr, "man %s: %s %r", page, p.returncode, p.stderr[:500])


def _installed(t):
    """Installs under a private PREFIX and SYSCONFDIR (no DESTDIR), so the
    unit names files that exist; returns (prefix, sysconfdir, unit path)."""
    d = tempfile.mkdtemp(prefix="parley-prefix-")
    prefix, etc = os.path.join(d, "usr"), os.path.join(d, "etc")
    make_install(t, "PREFIX=" + prefix, "SYSCONFDIR=" + etc)
    return prefix, etc, os.path.join(prefix, "lib/systemd/system/parleyd.service")


def test_unit_passes_systemd_analyze_verify(t):
    """systemd-analyze verify finds nothing to say about the installed unit
    (it checks the commands and the man pages it names), and the unit is
    Type=notify, hardened, with a state directory."""
    prefix, _, unit = _installed(t)
    env = dict(os.environ, MANPATH=os.path.join(prefix, "share/man"))
    p = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, env=env, timeout=60)
    check(p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(), "systemd-analyze verify: %s %r %r", p.returncode, p.stdout, p.stderr)
    with open(unit) as f:
        text = f.read()
    for line in ["Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "WatchdogSec=", "StateDirectory=parley", "DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "LimitNOFILE="]:
        check("\n" + line in text, "the unit has no %s", line)
    p = subprocess.run(["systemd-analyze", "security", "--offline=yes", unit], capture_output=True, timeout=60)
    m = re.search(rb"Overall exposure level for parleyd.service: ([0-9.]+)", p.stdout)
    check(m and float(m.group(1)) <= 2.0, "systemd-analyze security: %r", p.stdout[-300:])


def test_unit_command_line_runs_with_the_example_config(t):
    """The installed unit's ExecStartPre and ExecStart, with the config
    make install put in place (the example), check and start a server
    (its listen lines replaced by a free port on the command line, which
    overrides the file); a client talks to it."""
    prefix, etc, unit = _installed(t)
    with open(unit) as f:
        text = f.read()
    pre = shlex.split(re.search(r"^ExecStartPre=(.*)$", text, re.M).group(1))
    start = shlex.split(re.search(r"^ExecStart=(.*)$", text, re.M).group(1))
    check(os.path.exists(os.path.join(etc, "parley/parley.conf")), "no config file installed")
    p = subprocess.run(pre, capture_output=True, timeout=10)
    check(p.returncode == 0, "ExecStartPre %s: %s %r", pre, p.returncode, p.stderr)
    port = free_port()
    saved = t.parleyd
    t.parleyd = start[0]
    try:
        srv = t.server(*start[1:], listen=["text://127.0.0.1:%d" % port])
    finally:
        t.parleyd = saved
    (a, b) = t.users(srv, "alice", "bob")
    a.say("hello over the installed server")
    b.expect("[alice]: hello over the installed server")
