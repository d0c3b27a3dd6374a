"""Command line and logging."""

import os
import re
import socket
import subprocess
import time

from harness import check, ipv6_loopback_available

FLAGS = {
    # flag: default that --help must show (None: no default to show)
    "--listen": "3030",
    "--max-line": "4096",
    "--history": "20",
    "--history-keep": "100",
    "--flood-burst": "20",
    "--flood-rate": "10",
    "--sendq-max": "1048576",
    "--max-clients": None,
    "--max-per-ip": "16",
    "--ipv4-prefix": "32",
    "--ipv6-prefix": "64",
    "--limit-loopback": None,
    "--quiet-above": "64",
    "--topic-max": "300",
    "--max-rooms": "10000",
    "--history-mem": "67108864",
    "--room-burst": "5",
    "--room-rate": "2",
    "--room-burst-per-ip": "20",
    "--room-rate-per-ip": "10",
    "--shutdown-timeout": "3",
    "--keepalive": "60",
    "--server-name": None,
    "--motd": None,
    "--ping-interval": "120",
    "--max-bans": "100",
    "--log-level": "info",
    "--oper": None,
    "--hash-password": None,
    "--help": None,
    "--version": None,
}

LOG_LINE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=(debug|info|warn|error) event=\S+( .*)?")


def run(t, *args, timeout=5):
    if "--listen" in args and "--db" not in args:
        args = (*args, "--db", "none")  # no history file where tests run
    try:
        return subprocess.run([t.parleyd, *args], stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError("parleyd %s did not exit within %ss" % (" ".join(args), timeout)) from None


def test_help_lists_every_flag(t):
    p = run(t, "--help")
    out = (p.stdout + p.stderr).decode("utf-8", "replace")
    check(p.returncode == 0, "--help exited %s", p.returncode)
    check(p.stdout.strip(), "--help printed nothing on stdout")
    missing = [f for f in FLAGS if not re.search(re.escape(f) + r"(?![A-Za-z0-9-])", out)]
    check(not missing, "--help does not mention %s", ", ".join(missing))
    for flag, default in FLAGS.items():
        if default is None:
            continue
        # The default appears on the flag's own line or the lines right after it.
        idx = [i for i, ln in enumerate(out.splitlines()) if re.search(re.escape(flag) + r"(?![A-Za-z0-9-])", ln)]
        window = "\n".join("\n".join(out.splitlines()[i : i + 3]) for i in idx)
        check(re.search(r"(?<![0-9])" + re.escape(default) + r"(?![0-9])", window), "--help does not show the default %s of %s", default, flag)


def test_version(t):
    p = run(t, "--version")
    check(p.returncode == 0, "--version exited %s", p.returncode)
    out = p.stdout.decode("utf-8", "replace")
    check(re.search(r"\d+\.\d+", out), "--version printed no version number: %r", out)
    check("parley" in out.lower(), "--version does not name the program: %r", out)


def test_bad_command_lines_rejected(t):
    cases = [
        ["--bogus"],
        ["--max-line"],
        ["--max-line", "abc"],
        ["--max-line", "-5"],
        ["--max-line", "12x"],
        ["--max-line", "99999999999999999999999"],
        ["--history", ""],
        ["--flood-rate", "fast"],
        ["--sendq-max", "1e9"],
        ["--log-level", "loud"],
        ["--listen", "irc://127.0.0.1:0x"],
        ["--listen", "carrier-pigeon://127.0.0.1:0"],
        ["--listen", "text://127.0.0.1:99999"],
        ["--listen", "text://not an address:1"],
        ["--listen", "text://[::1:0"],
        ["positional"],
    ]
    bad = []
    for args in cases:
        argv = list(args) if args[0] == "--listen" else ["--listen", "text://127.0.0.1:0", *args]
        try:
            p = run(t, *argv, timeout=3)
        except AssertionError:
            bad.append("%s: accepted (still running after 3s)" % " ".join(args))
            continue
        err = p.stderr.decode("utf-8", "replace").strip()
        if p.returncode == 0 or p.returncode < 0:
            bad.append("%s: exit status %s" % (" ".join(args), p.returncode))
        elif not err:
            bad.append("%s: no message on stderr" % " ".join(args))
        elif "event=listen" in err:
            bad.append("%s: started listening" % " ".join(args))
    check(not bad, "bad command lines not rejected properly: %s", "; ".join(bad))


def test_port_in_use_fails(t):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        p = run(t, "--listen", "text://127.0.0.1:%d" % port)
    finally:
        s.close()
    check(p.returncode not in (0, None) and p.returncode > 0, "listening on a used port: exit status %s", p.returncode)
    check(p.stderr.strip(), "no message when the port is in use")


def test_ipv6_listen(t):
    if not ipv6_loopback_available():
        # No ::1 here: the server must say so and fail, not hang or crash.
        p = run(t, "--listen", "text://[::1]:0")
        check(p.returncode > 0 and p.stderr.strip(), "--listen text://[::1]:0 without IPv6: status %s", p.returncode)
        return
    srv = t.server(listen=["text://[::1]:0"])
    check(srv.addr[0] == socket.AF_INET6 and srv.addr[1] == "::1", "listen line does not show [::1]: %s", srv.addr)
    a, b = t.users(srv, "alice", "bob")
    a.say("over six")
    b.expect("[alice]: over six")
    ev = srv.wait_event("connect", id=a.id)
    check(ev.get("addr", "").startswith("[::1]:"), "connect log addr for IPv6 is %r", ev.get("addr"))


def test_two_listeners(t):
    listen = ["text://127.0.0.1:0", "text://127.0.0.1:0"]
    if ipv6_loopback_available():
        listen[1] = "text://[::1]:0"
    srv = t.server(listen=listen)
    check(len(srv.addrs) == 2 and srv.addrs[0] != srv.addrs[1], "two listen lines expected: %s", srv.addrs)
    a = t.client(srv.addrs[0])
    a.welcome()
    b = t.client(srv.addrs[1])
    b.welcome(count=2)
    a.expect("* %s joined #lobby" % b.nick)
    b.say("from the second listener")
    a.expect("[%s]: from the second listener" % b.nick)
    a.say("from the first")
    b.expect("[%s]: from the first" % a.nick)


def test_log_lines(t):
    srv = t.server()
    for ln in srv.log_text().splitlines():
        check(LOG_LINE.fullmatch(ln), "log line not in the documented format: %r", ln)
    lst = srv.events("listen")[0]
    check(lst.get("proto") == "text" and lst.get("level") == "info", "listen line fields: %s", lst)
    a, b = t.users(srv, "alice", "bob")
    ev = srv.wait_event("connect", id=a.id)
    check(ev.get("addr") == "127.0.0.1:%d" % a.local[1], "connect addr=%s, client is 127.0.0.1:%d", ev.get("addr"), a.local[1])
    check(ev.get("proto") == "text", "connect proto=%s", ev.get("proto"))
    srv.wait_event("connect", id=b.id)
    a.say("/quit")
    a.expect("* bye")
    a.expect_end()
    srv.wait_event("disconnect", id=a.id, nick="alice", reason="quit")
    b.close()
    srv.wait_event("disconnect", id=b.id, nick="bob", reason="eof")
    for ln in srv.log_text().splitlines():
        check(LOG_LINE.fullmatch(ln), "log line not in the documented format: %r", ln)


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_log_level_warn_hides_info(t):
    port = _free_port()
    srv = t.server("--log-level", "warn", listen=["text://127.0.0.1:%d" % port], addr=(socket.AF_INET, "127.0.0.1", port))
    a, b = t.users(srv, "alice", "bob")
    a.say("quietly")
    b.expect("[alice]: quietly")
    a.close()
    b.expect("* alice quit (connection closed)")
    b.barrier()
    info = [ln for ln in srv.log_text().splitlines() if "level=info" in ln or "level=debug" in ln]
    check(not info, "--log-level warn still logs: %s", info[:3])


def test_log_level_debug_accepted(t):
    srv = t.server("--log-level", "debug")
    a, b = t.users(srv, "alice", "bob")
    a.close()
    srv.wait_event("disconnect", id=a.id, reason="eof")


# -- logging never blocks the server -------------------------------------------


def _cycle(srv, n):
    """Connects, sends /quit and reads until the server closes, n times in
    a row (so each is gone before the next comes); each must be over
    within 5 s."""
    for i in range(n):
        s = socket.create_connection(srv.addr[1:], timeout=5)
        try:
            s.sendall(b"/quit\n")
            data = b""
            while True:
                try:
                    chunk = s.recv(4096)
                except socket.timeout:
                    raise AssertionError("connection %d of %d: not served within 5 s (server stuck?)" % (i + 1, n)) from None
                if not chunk:
                    break
                data += chunk
            check(data.endswith(b"* bye\r\n"), "connection %d of %d got %r", i + 1, n, data[-100:])
        finally:
            s.close()


def test_log_pipe_nobody_reads(t):
    """stderr is a pipe nobody reads: 1,200 connect/disconnect cycles (2,400
    log lines, far more than the pipe and the log buffer hold) and the
    server still serves them all and chat works.  Once the pipe is read
    again, `event=log-dropped count=N` says how many lines were lost, and
    every connect/disconnect line is either there or counted in N."""
    srv = t.server(stderr_unread=True)
    cycles = 1200
    _cycle(srv, cycles)
    a, b = t.users(srv, "alice", "bob")
    a.say("still serving")
    b.expect("[alice]: still serving")
    srv.drain_stderr()
    dropped = srv.wait_event("log-dropped")
    check(dropped.get("level") == "warn" and int(dropped.get("count", "0")) > 0, "log-dropped line: %s", dropped)
    srv.stop()
    seen = len(srv.events("connect")) + len(srv.events("disconnect"))
    lost = sum(int(f["count"]) for f in srv.events("log-dropped"))
    want = 2 * cycles + 4  # the cycles, and alice and bob in and out
    check(seen + lost == want, "%d connect/disconnect lines logged + %d counted as dropped != %d", seen, lost, want)
    for ln in srv.log_text().splitlines():
        check(LOG_LINE.fullmatch(ln), "log line not in the documented format: %r", ln)


def test_refuse_flood_rate_limited(t):
    """60 connections refused in a row (--max-clients 1) get the line that
    names the limit; the log shows at most 5 refusals a second in full and
    sums up the rest in `event=refuse reason=max-clients suppressed=N`
    lines, so that every refusal is accounted for."""
    srv = t.server("--max-clients", "1")
    a = t.client(srv)
    a.welcome()
    n = 60
    t0 = time.monotonic()
    for _ in range(n):
        c = t.client(srv)
        c.expect("! server full (max 1 clients)")
        c.expect_end(allow_reset=True)
        c.close()
    elapsed = time.monotonic() - t0
    total = srv.wait_refusals("max-clients", n, timeout=3)
    lines = srv.events("refuse", reason="max-clients")
    full = [f for f in lines if "suppressed" not in f]
    summed = total - len(full)
    check(total == n, "%d refusals logged + %d suppressed != %d", len(full), summed, n)
    check(summed > 0, "no refusal was suppressed: %d full lines", len(full))
    check(len(full) <= 5 * (int(elapsed) + 2), "%d refusals logged in full in %.1fs", len(full), elapsed)
    check(all(f.get("level") == "warn" for f in lines), "refuse lines not at level warn: %s", lines[:3])
    t.barrier(a)


# -- what a newcomer runs --------------------------------------------------------


def test_short_help_and_version(t):
    """-h and -V print what --help and --version print."""
    for short, long in (("-h", "--help"), ("-V", "--version")):
        p, q = run(t, short), run(t, long)
        check(p.returncode == 0, "%s exited %s: %r", short, p.returncode, p.stderr)
        check(p.stdout == q.stdout and p.stdout, "%s printed %r, %s printed %r", short, p.stdout[:80], long, q.stdout[:80])


def _ready_line(srv):
    """The `parley is ready: ...` line of srv's stdout (its only line)."""
    with srv.cond:
        srv.cond.wait_for(lambda: srv.out_lines or not srv.alive(), timeout=srv.ctx.bound(5))
        lines = list(srv.out_lines)
    check(len(lines) == 1, "stdout after the listen lines: %r", lines)
    return lines[0]


def test_ready_line_says_how_to_connect(t):
    """Once listening, the server prints on stdout how to connect, with the
    port it actually bound; an any-address listener is reached as
    localhost, and that works."""
    srv = t.server(listen=["text://0.0.0.0:0"])
    port = srv.addr[2]
    line = _ready_line(srv)
    want = "parley is ready: telnet localhost %d (or nc localhost %d)" % (port, port)
    check(line == want, "stdout says %r, want %r", line, want)
    s = socket.create_connection(("localhost", port), timeout=5)
    s.close()
    listen = ["text://127.0.0.1:0", "text://127.0.0.1:0"]
    two = t.server(listen=listen)
    line = _ready_line(two)
    targets = ["127.0.0.1 %d" % a[2] for a in two.addrs]
    want = "parley is ready: " + "; ".join("telnet %s (or nc %s)" % (x, x) for x in targets)
    check(line == want, "stdout says %r, want %r", line, want)


def _debug_session(t, srv):
    """Joins, parts, renames and four refused commands; returns alice."""
    a, b = t.users(srv, "alice", "bob")
    a.say("/join dev")
    a.expect(re.compile(r"\* you joined #dev .*"))
    b.expect("* alice left #lobby")
    a.say("/nick bob")
    a.expect('! nick "bob" is taken')
    a.say("/frobnicate now")
    a.expect("! unknown command: /frobnicate (try /help)")
    a.say('/fr"ob')
    a.expect('! unknown command: /fr"ob (try /help)')
    a.say("/join")
    a.expect("! usage: /join ROOM [KEY]")
    a.say("/nick carol")
    a.expect("* you are now carol")
    a.barrier()
    return a


def test_log_level_debug_shows_chat_events(t):
    """--log-level debug logs joins, parts, nick changes and refused
    commands as key=value lines; --log-level info logs none of them."""
    srv = t.server("--log-level", "debug")
    a = _debug_session(t, srv)
    for ev, want in (
        ("join", {"id": a.id, "nick": "alice", "room": "dev"}),
        ("part", {"id": a.id, "nick": "alice", "room": "lobby"}),
        ("nick", {"id": a.id, "old": "alice", "new": "carol"}),
        ("refused", {"id": a.id, "cmd": "nick", "reason": "taken"}),
        ("refused", {"id": a.id, "cmd": "frobnicate", "reason": "unknown"}),
        ("refused", {"id": a.id, "cmd": 'fr"ob', "reason": "unknown"}),
        ("refused", {"id": a.id, "reason": "usage", "usage": "/join ROOM [KEY]"}),
    ):
        f = srv.wait_event(ev, **want)
        check(f.get("level") == "debug", "%s line at level %s", ev, f.get("level"))
    for ln in srv.log_text().splitlines():
        check(LOG_LINE.fullmatch(ln), "log line not in the documented format: %r", ln)
    quiet = t.server()
    _debug_session(t, quiet)
    shown = [ln for ln in quiet.log_text().splitlines() if "level=debug" in ln or re.search(r"event=(join|part|nick|refused)\b", ln)]
    check(not shown, "--log-level info shows debug events: %s", shown[:3])


MAN_PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "parleyd.8")


def _man_examples():
    """The lines of the man page's EXAMPLES section inside .nf/.fi blocks,
    roff escapes undone."""
    with open(MAN_PAGE) as f:
        text = f.read()
    section = text.split(".SH EXAMPLES", 1)[1].split("\n.SH ", 1)[0]
    blocks = re.findall(r"^\.nf\n(.*?)^\.fi$", section, re.S | re.M)
    return [ln.replace("\\-", "-") for b in blocks for ln in b.splitlines()]


def test_man_page_matches_the_server(t):
    """docs/parleyd.8 lists every flag --help lists, and its example shows
    what the server really prints: the listen lines and the ready line for
    the default listeners (run here on free ports, shown as 3030, 3031,
    6667 and 8080), the welcome a client gets, and command lines the server
    accepts."""
    with open(MAN_PAGE) as f:
        man = f.read().replace("\\-", "-")
    help_text = run(t, "--help").stdout.decode()
    flags = set(re.findall(r"(?<![\w-])(--[a-z-]+|-[a-zA-Z])\b", help_text))
    missing = sorted(f for f in flags if not re.search(re.escape(f) + r"(?![\w-])", man))
    check(not missing, "the man page does not mention %s", missing)

    example = _man_examples()
    # The default listeners, each on a free port shown as its default.
    ports = {"3030": _free_port(), "3031": _free_port(), "6667": _free_port(), "8080": _free_port()}
    listen = []
    for shown_port, scheme in (("3030", "telnet"), ("3031", "text"), ("6667", "irc"), ("8080", "http")):
        listen.append("%s://0.0.0.0:%d" % (scheme, ports[shown_port]))
        if ipv6_loopback_available():
            listen.append("%s://[::]:%d" % (scheme, ports[shown_port]))

    def as_shown(s):
        for shown_port, port in ports.items():
            s = s.replace(":%d" % port, ":" + shown_port).replace(" %d" % port, " " + shown_port)
        return s

    srv = t.server(listen=listen)
    real = [as_shown(ln) for ln in srv.log_text().splitlines() if "event=listen" in ln]
    shown = [ln for ln in example if "event=listen" in ln]
    strip = lambda ln: ln.split(" level=", 1)[1]  # noqa: E731
    check([strip(x) for x in shown[: len(real)]] == [strip(x) for x in real], "man page listen lines %s, real %s", shown, real)
    for ln in example:
        if "level=" in ln:
            check(LOG_LINE.fullmatch(ln), "man page log line not in the real format: %r", ln)
    ready = as_shown(_ready_line(srv))
    check(ready in example, "the man page does not show the ready line %r", ready)
    c = t.client(srv)  # on telnet://: the offers, then the welcome
    c.read_bytes(18)
    c.welcome()
    check(all(ln in example for ln in c.received), "the man page's welcome is not %s", c.received)
    for ln in example:
        if ln.startswith("$ build/parleyd "):
            args = ln.split()[2:]
            urls = [args[i + 1] for i, a in enumerate(args) if a == "--listen"]
            flags = [a for i, a in enumerate(args) if a != "--listen" and (i == 0 or args[i - 1] != "--listen")]
            check(urls == ["text://127.0.0.1:0"], "man page example %r: a port other than 0 cannot be tested here", ln)
            other = t.server(*flags, listen=urls)
            check(other.alive(), "the man page's %r does not run", ln)
