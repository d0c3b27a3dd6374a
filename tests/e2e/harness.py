"""
End-to-end test harness for parleyd: a real server process, real sockets.

A test is a function `test_NAME(t)` in a tests/e2e/test_*.py module; `t` is a
Context.  Everything a test starts through `t` (servers, clients) is cleaned
up by the runner when the test ends, and every server is checked on the way
out: it must exit 0 on SIGTERM within a few seconds and must not have printed
a sanitizer report.

Rules the harness enforces on every line a client receives:
- it ends with CRLF;
- it is valid UTF-8;
- it holds no control character other than TAB (C0, DEL, C1), no bidi
  embedding, override or isolate and no line or paragraph separator
  (U+2028-U+202E, U+2066-U+206F).

Nothing here sleeps and hopes: every wait is a read with a timeout, bounded
again by the test's overall deadline.  To show that something was NOT
received, use Client.barrier(): it sends `/topic` and requires that the very
next line is the topic reply.
"""

import os
import re
import signal
import socket
import subprocess
import threading
import time

# Default per-read timeout (seconds) and per-test deadline.
LINE_TIMEOUT = 5.0
TEST_TIMEOUT = 30.0
STOP_TIMEOUT = 6.0

SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "runtime error:",
    "LeakSanitizer",
    "ERROR: ThreadSanitizer",
    "WARNING: ThreadSanitizer",
    "ERROR: MemorySanitizer",
)

# Characters that must never reach a client: C0 except TAB, DEL, C1, line
# and paragraph separators, bidi embeddings, overrides and isolates, and the
# deprecated format controls after them.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f\x80-\x9f\u2028-\u202e\u2066-\u206f]")

# A /topic reply, used as the barrier.
BARRIER_REPLY = re.compile(r"\* (topic of #[A-Za-z0-9_-]+: .*|#[A-Za-z0-9_-]+ has no topic)")

WELCOME_3 = "* type to talk; /help lists commands; /quit or $exit leaves"

# The frame and lines of replayed history (docs/protocol.md, Rooms and
# history), shown on /join and in the welcome.
HISTORY_HEADER = re.compile(r"\* --- last (\d+) messages? in #([A-Za-z0-9_-]+) \(times in UTC\) ---")
HISTORY_LINE = re.compile(r"\d\d:\d\d (\[.*)")
HISTORY_END = "* --- end of history ---"

# A TLS 1.3 ClientHello record (what a TLS client sends first): its first
# byte 0x16 must make the server close a plain-text connection.
TLS_CLIENT_HELLO = (
    b"\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03"
    + bytes(range(32))
    + b"\x20"
    + bytes(range(32, 64))
    + b"\x00\x08\x13\x01\x13\x02\x13\x03\x00\xff\x01\x00\x00\x73"
    + b"\x00" * 115
)

_FIELD = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)')


class Ended(AssertionError):
    """The peer closed the connection (EOF) or reset it."""


def parse_fields(line):
    """Returns the key=value fields of a log line as a dict (quotes removed)."""
    out = {}
    for k, v in _FIELD.findall(line):
        if v.startswith('"') and v.endswith('"') and len(v) >= 2:
            v = re.sub(r"\\(.)", r"\1", v[1:-1])
        out[k] = v
    return out


def _short(s, n=300):
    s = repr(s)
    return s if len(s) <= n else s[:n] + "..."


def people(n):
    """The doc's count phrase: `1 person`, `N people` (usable in a regex)."""
    return "1 person" if n == 1 else "%d people" % n


def describe_status(rc):
    """'status 3' or 'killed by signal SIGSEGV' for a Popen returncode."""
    if rc is not None and rc < 0:
        try:
            return "killed by signal %s" % signal.Signals(-rc).name
        except ValueError:
            return "killed by signal %d" % -rc
    return "status %s" % rc


class Context:
    """One test's world: its deadline, servers and clients."""

    def __init__(self, name, parleyd, timeout=TEST_TIMEOUT):
        self.name = name
        self.parleyd = parleyd
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.servers = []
        self.clients = []
        self.details = []  # extra text shown when the test fails
        self.aborted = False
        self._lock = threading.Lock()

    # -- time ---------------------------------------------------------------

    def remaining(self):
        return self.deadline - time.monotonic()

    def bound(self, timeout):
        """Clamps a wait to the test deadline; fails once it has passed."""
        if self.aborted:
            raise AssertionError("test aborted (overall timeout)")
        left = self.remaining()
        if left <= 0:
            raise AssertionError("test deadline of %.0fs exceeded" % self.timeout)
        return max(0.001, min(timeout, left))

    # -- factories ----------------------------------------------------------

    def server(self, *flags, listen=None, wrap=None, flood=False, env=None, addr=None, stderr_unread=False):
        """Starts parleyd and waits for its listen log line(s).

        flags: extra command-line flags.  listen: list of URLs (default one
        text://127.0.0.1:0).  wrap: argv prefix (e.g. prlimit).  Unless
        flood is true or the flags mention --flood-rate, --flood-rate 0 is
        added so tests run fast.  stderr_unread: stderr is a pipe that is
        read only up to the listen lines, then left to fill up until the
        test calls srv.drain_stderr() (or stops the server).
        """
        srv = Server(self, list(flags), listen=listen, wrap=wrap, flood=flood, env=env, stderr_unread=stderr_unread)
        with self._lock:
            self.servers.append(srv)
        srv.start(addr=addr)
        return srv

    def client(self, srv_or_addr, **kw):
        addr = srv_or_addr.addr if isinstance(srv_or_addr, Server) else srv_or_addr
        c = Client(self, addr, **kw)
        with self._lock:
            self.clients.append(c)
        return c

    def users(self, srv, *names, addr=None):
        """Connects one client per name, in order; each is welcomed and renamed
        (unless the name is None).  Every notice the earlier clients get
        (joins, renames) is consumed, so all clients start with nothing
        pending.  Returns the clients."""
        out = []
        for name in names:
            c = self.client(addr or srv)
            nick = c.welcome()
            for p in out:
                p.expect("* %s joined #lobby" % nick)
            if name is not None:
                c.send("/nick %s\n" % name)
                c.expect("* you are now %s" % name)
                for p in out:
                    p.expect("* %s is now %s" % (nick, name))
                c.nick = name
            out.append(c)
        return out

    def barrier(self, *clients):
        """Barrier on each client in order (put a sender first)."""
        for c in clients:
            c.barrier()

    # -- teardown -----------------------------------------------------------

    def abort(self):
        """Called by the runner's watchdog: unblock everything at once."""
        self.aborted = True
        for c in list(self.clients):
            c.close()
        for s in list(self.servers):
            s.kill()

    def cleanup(self):
        """Closes clients, stops servers; returns a list of problems."""
        problems = []
        for c in list(self.clients):
            c.close()
        for s in list(self.servers):
            try:
                s.stop()
            except AssertionError as e:
                problems.append(str(e))
            except Exception as e:  # noqa: BLE001
                problems.append("stopping server: %r" % e)
            rep = s.sanitizer_report()
            if rep:
                problems.append("sanitizer report from parleyd: " + rep)
        return problems


class Server:
    """One parleyd process with its stderr drained into memory."""

    def __init__(self, ctx, flags, listen=None, wrap=None, flood=False, env=None, stderr_unread=False):
        self.ctx = ctx
        self.flags = flags
        self.listen = listen if listen is not None else ["text://127.0.0.1:0"]
        args = []
        for url in self.listen:
            args += ["--listen", url]
        args += flags
        if not flood and "--flood-rate" not in flags:
            args += ["--flood-rate", "0"]
        if not flood and "--flood-bytes" not in flags:
            args += ["--flood-bytes", "0"]
        # History on disk only for tests that ask for it (--db PATH).
        if "--db" not in flags:
            args += ["--db", "none"]
        self.argv = list(wrap or []) + [ctx.parleyd] + args
        self.env = env
        self.proc = None
        self.err_lines = []
        self.out_lines = []
        self.cond = threading.Condition()
        self.stopped = False
        self.addrs = []
        self.addr = None
        self.threads = []
        self.stderr_unread = stderr_unread
        self._err_pipe = None  # stderr while nobody reads it

    # -- process ------------------------------------------------------------

    def start(self, addr=None):
        """Starts the process.  Without addr, waits for the listen log
        lines; with addr (family, host, port), retries connecting there
        instead (for runs whose log level hides the listen line)."""
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        err_r, err_w = os.pipe() if self.stderr_unread else (None, subprocess.PIPE)
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err_w,
            env=env,
            close_fds=True,
        )
        self.pid = self.proc.pid
        streams = [(self.proc.stdout, self.out_lines)]
        if err_r is None:
            streams.insert(0, (self.proc.stderr, self.err_lines))
        else:
            os.close(err_w)
            self._err_pipe = os.fdopen(err_r, "rb")
        for stream, sink in streams:
            self._start_drain(stream, sink)
        if self._err_pipe is not None and addr is None:
            self._read_err_until(r"\bevent=listen\b", len(self.listen))
        if addr is not None:
            self._wait_connectable(addr)
            self.addrs = [addr]
            self.addr = addr
            return
        n = len(self.listen)
        lines = self.wait_log(r"\bevent=listen\b", count=n, timeout=10)
        for ln in lines:
            f = parse_fields(ln)
            m = re.fullmatch(r"(\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d+)", f.get("addr", ""))
            if not m:
                raise AssertionError("cannot parse addr= in listen line: %r" % ln)
            host = m.group(1)
            port = int(m.group(2))
            if host.startswith("["):
                self.addrs.append((socket.AF_INET6, host[1:-1], port))
            else:
                self.addrs.append((socket.AF_INET, host, port))
        self.addr = self.addrs[0]

    def _wait_connectable(self, addr):
        end = time.monotonic() + self.ctx.bound(10)
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("parleyd exited (%s); stderr:\n%s" % (describe_status(self.proc.returncode), self.log_text(tail=25)))
            s = socket.socket(addr[0], socket.SOCK_STREAM)
            try:
                s.settimeout(1)
                s.connect(addr[1:])
                # A chat connection: read the welcome, quit, and wait for the
                # close, so no later client hears of this probe.
                s.settimeout(self.ctx.bound(5))
                s.sendall(b"/quit\n")
                while s.recv(4096):
                    pass
                return
            except OSError:
                if time.monotonic() > end:
                    raise AssertionError("parleyd never accepted connections on %s" % (addr,)) from None
                time.sleep(0.02)  # bounded poll for the port to open
            finally:
                s.close()

    def _start_drain(self, stream, sink):
        th = threading.Thread(target=self._drain, args=(stream, sink), daemon=True)
        th.start()
        self.threads.append(th)

    def _read_err_until(self, pattern, count):
        """stderr_unread: reads stderr here, line by line, until `count`
        lines match `pattern` (or EOF), then leaves the pipe alone.  A
        server that never logs them is killed by the test's watchdog."""
        rx = re.compile(pattern)
        while sum(1 for ln in self.err_lines if rx.search(ln)) < count:
            raw = self._err_pipe.readline()
            if not raw:
                return
            with self.cond:
                self.err_lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()

    def drain_stderr(self):
        """stderr_unread: from now on stderr is read as for other servers."""
        if self._err_pipe is not None:
            self._start_drain(self._err_pipe, self.err_lines)
            self._err_pipe = None

    def _drain(self, stream, sink):
        for raw in iter(stream.readline, b""):
            with self.cond:
                sink.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self, tail=None):
        with self.cond:
            lines = list(self.err_lines)
        if tail:
            lines = lines[-tail:]
        return "\n".join(lines)

    def wait_log(self, pattern, count=1, timeout=LINE_TIMEOUT, start=0):
        """Waits until `count` stderr lines (from index `start`) match the
        regex `pattern`; returns them."""
        rx = re.compile(pattern)
        end = time.monotonic() + self.ctx.bound(timeout)
        with self.cond:
            while True:
                hits = [ln for ln in self.err_lines[start:] if rx.search(ln)]
                if len(hits) >= count:
                    return hits[:count]
                if self.proc.poll() is not None and all(not t.is_alive() for t in self.threads):
                    raise AssertionError(
                        "parleyd exited (%s) before logging %r; stderr:\n%s"
                        % (describe_status(self.proc.returncode), pattern, self._tail_locked())
                    )
                left = end - time.monotonic()
                if left <= 0 or self.ctx.aborted:
                    raise AssertionError(
                        "timeout waiting for log line %r (x%d); stderr tail:\n%s"
                        % (pattern, count, self._tail_locked())
                    )
                self.cond.wait(min(left, 0.2))

    def _tail_locked(self, n=25):
        return "\n".join(self.err_lines[-n:] + ["(stdout) " + s for s in self.out_lines[-5:]])

    def events(self, event=None, **want):
        """Log lines (as field dicts) with event=event and the given fields."""
        with self.cond:
            lines = list(self.err_lines)
        out = []
        for ln in lines:
            f = parse_fields(ln)
            if event is not None and f.get("event") != event:
                continue
            if all(f.get(k) == str(v) for k, v in want.items()):
                out.append(f)
        return out

    def wait_event(self, event, timeout=LINE_TIMEOUT, **want):
        """Waits for a log line with event=event and the given field values."""
        end = time.monotonic() + self.ctx.bound(timeout)
        while True:
            hits = self.events(event, **want)
            if hits:
                return hits[0]
            left = end - time.monotonic()
            if left <= 0 or self.ctx.aborted:
                raise AssertionError(
                    "timeout waiting for log event=%s %s; stderr tail:\n%s"
                    % (event, " ".join("%s=%s" % kv for kv in want.items()), self.log_text(tail=25))
                )
            if not self.alive():
                # Give the drain thread a moment to deliver the last lines.
                for th in self.threads:
                    th.join(min(1.0, max(left, 0.01)))
                hits = self.events(event, **want)
                if hits:
                    return hits[0]
                raise AssertionError(
                    "parleyd exited (%s) before logging event=%s %s; stderr tail:\n%s"
                    % (describe_status(self.proc.returncode), event, want, self.log_text(tail=25))
                )
            with self.cond:
                self.cond.wait(min(left, 0.2))

    def refusals(self, reason):
        """How many connections were refused for reason: `event=refuse`
        lines in full, plus those counted in the `suppressed=N` lines the
        rate limit of the log writes instead of the rest."""
        return sum(int(f.get("suppressed", 1)) for f in self.events("refuse", reason=reason))

    def wait_refusals(self, reason, count, timeout=LINE_TIMEOUT):
        """Waits until refusals(reason) reaches count (a summary line comes
        when the log's one-second window is over); returns the total."""
        end = time.monotonic() + self.ctx.bound(timeout)
        while True:
            n = self.refusals(reason)
            if n >= count:
                return n
            lines = len(self.events("refuse"))
            self.wait_log(r"\bevent=refuse\b", count=lines + 1, timeout=max(0.01, end - time.monotonic()))

    def cpu_seconds(self):
        """utime + stime of the server process, from /proc/PID/stat."""
        with open("/proc/%d/stat" % self.pid) as f:
            data = f.read()
        rest = data[data.rindex(")") + 2 :].split()
        utime, stime = int(rest[11]), int(rest[12])
        return (utime + stime) / os.sysconf("SC_CLK_TCK")

    def send_signal(self, sig):
        if self.alive():
            self.proc.send_signal(sig)

    def wait_exit(self, timeout=STOP_TIMEOUT):
        """Waits for the process to end; returns its status or None."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Sends sig and requires exit status 0 within timeout (seconds)."""
        if self.stopped or self.proc is None:
            return self.proc.returncode if self.proc else None
        self.stopped = True
        self.drain_stderr()
        if self.proc.poll() is not None:
            self._join_drain()
            raise AssertionError(
                "parleyd died (%s) before the test stopped it; stderr tail:\n%s"
                % (describe_status(self.proc.returncode), self.log_text(tail=25))
            )
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        rc = self.wait_exit(timeout)
        if rc is None:
            self.proc.kill()
            self.proc.wait()
            self._join_drain()
            raise AssertionError(
                "parleyd did not exit within %.1fs of %s; stderr tail:\n%s"
                % (timeout, signal.Signals(sig).name, self.log_text(tail=25))
            )
        self._join_drain()
        if rc != 0:
            raise AssertionError(
                "parleyd ended (%s) after %s, want exit status 0; stderr tail:\n%s"
                % (describe_status(rc), signal.Signals(sig).name, self.log_text(tail=25))
            )
        self.stop_seconds = time.monotonic() - t0
        return rc

    def expect_exit(self, timeout=STOP_TIMEOUT, status=0):
        """After the test signalled the server itself: requires that it exits
        with `status` within timeout seconds; returns the seconds waited."""
        t0 = time.monotonic()
        self.stopped = True
        self.drain_stderr()
        rc = self.wait_exit(self.ctx.bound(timeout))
        waited = time.monotonic() - t0
        if rc is None:
            self.proc.kill()
            self.proc.wait()
            self._join_drain()
            raise AssertionError("parleyd did not exit within %.1fs; stderr tail:\n%s" % (timeout, self.log_text(tail=25)))
        self._join_drain()
        if rc != status:
            raise AssertionError("parleyd ended (%s), want exit status %s; stderr tail:\n%s" % (describe_status(rc), status, self.log_text(tail=25)))
        return waited

    def kill(self):
        self.stopped = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()

    def _join_drain(self):
        for th in self.threads:
            th.join(3)

    def sanitizer_report(self):
        with self.cond:
            lines = list(self.err_lines)
        for i, ln in enumerate(lines):
            if any(m in ln for m in SANITIZER_MARKERS):
                return "\n".join([ln.strip()] + lines[max(0, i - 2) : i + 40])
        return None


class Client:
    """A chat client over a real TCP socket."""

    # Characters no server line may hold (IrcClient allows IRC's formatting).
    control = _CONTROL

    def __init__(self, ctx, addr, rcvbuf=None, source=None, nodelay=True, connect_timeout=5):
        self.ctx = ctx
        family, host, port = addr
        self.addr = addr
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if nodelay:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if source is not None:
            self.sock.bind((source, 0))
        self.sock.settimeout(ctx.bound(connect_timeout))
        self.sock.connect((host, port))
        self.local = self.sock.getsockname()
        self.buf = b""
        self.ended = None  # None, "eof" or "reset"
        self.closed = False
        self.received = []  # every line received, for failure messages
        self.nick = None

    def __repr__(self):
        return "<client %s port %s>" % (self.nick, self.local[1])

    # -- sending ------------------------------------------------------------

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.settimeout(self.ctx.bound(LINE_TIMEOUT))
        self.sock.sendall(data)

    def say(self, text):
        """Sends one line ending in LF."""
        self.send(text + "\n")

    # -- receiving ----------------------------------------------------------

    def _fill(self, timeout):
        """Reads more bytes into buf; raises Ended at EOF/reset and
        AssertionError on timeout."""
        if self.ended:
            raise Ended("connection already ended (%s)" % self.ended)
        self.sock.settimeout(self.ctx.bound(timeout))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise AssertionError("timeout after %.1fs" % timeout) from None
        except ConnectionResetError:
            self.ended = "reset"
            raise Ended("connection reset by server") from None
        except OSError:
            if self.ctx.aborted or self.closed:
                raise AssertionError("test aborted") from None
            raise
        if not data:
            self.ended = "eof"
            raise Ended("EOF from server")
        self.buf += data

    def line(self, timeout=LINE_TIMEOUT):
        """Returns the next server line without its CRLF."""
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    "%r: timeout after %.1fs waiting for a line; partial %s; last lines %s"
                    % (self, timeout, _short(self.buf), self.received[-5:])
                )
            try:
                self._fill(left)
            except Ended:
                if self.buf:
                    raise AssertionError(
                        "%r: connection ended inside a line (no CRLF): %s" % (self, _short(self.buf))
                    ) from None
                raise
            except AssertionError as e:
                if str(e).startswith("timeout"):
                    continue
                raise
        raw, self.buf = self.buf.split(b"\n", 1)
        if not raw.endswith(b"\r"):
            raise AssertionError("%r: server line not terminated by CRLF: %s" % (self, _short(raw + b"\n")))
        raw = raw[:-1]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise AssertionError("%r: server line is not valid UTF-8: %s" % (self, _short(raw))) from None
        m = self.control.search(text)
        if m:
            raise AssertionError(
                "%r: server line contains control character %r: %s" % (self, m.group(0), _short(text))
            )
        self.received.append(text)
        return text

    def expect(self, want, timeout=LINE_TIMEOUT):
        """Reads the next line and requires it to equal `want` (a str) or to
        fullmatch `want` (a compiled regex).  Returns the line or the match."""
        try:
            got = self.line(timeout)
        except Ended as e:
            raise Ended("%r: expected %s, got %s" % (self, _desc(want), e)) from None
        except AssertionError as e:
            raise AssertionError("expected %s; %s" % (_desc(want), e)) from None
        if isinstance(want, str):
            if got != want:
                raise AssertionError("%r: expected %s, got %s" % (self, _short(want), _short(got)))
            return got
        m = want.fullmatch(got)
        if not m:
            raise AssertionError("%r: expected /%s/, got %s" % (self, want.pattern, _short(got)))
        return m

    def read_until(self, pred, timeout=LINE_TIMEOUT, limit=100000):
        """Reads lines until pred(line) is true (pred may be a str or regex
        too); returns all lines read, the matching one last.  The timeout
        applies to the whole wait."""
        if isinstance(pred, str):
            s = pred
            pred = lambda ln: ln == s  # noqa: E731
        elif isinstance(pred, re.Pattern):
            rx = pred
            pred = lambda ln: rx.fullmatch(ln) is not None  # noqa: E731
        end = time.monotonic() + timeout
        got = []
        while len(got) < limit:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("%r: read_until timed out after %.1fs; last lines %s" % (self, timeout, got[-8:]))
            try:
                ln = self.line(left)
            except Ended as e:
                raise Ended("%r: read_until: %s; last lines %s" % (self, e, got[-8:])) from None
            got.append(ln)
            if pred(ln):
                return got
        raise AssertionError("%r: read_until read %d lines without a match" % (self, limit))

    def expect_end(self, timeout=LINE_TIMEOUT, allow_reset=False):
        """Requires that the server closes the connection with no further
        line.  Returns 'eof' or 'reset'."""
        try:
            ln = self.line(timeout)
        except Ended:
            if self.ended == "reset" and not allow_reset:
                raise AssertionError("%r: connection was reset, expected a clean close" % self) from None
            return self.ended
        raise AssertionError("%r: expected the connection to close, got line %s" % (self, _short(ln)))

    def drain_to_end(self, timeout=LINE_TIMEOUT):
        """Reads and returns all lines until the server closes."""
        got = []
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("%r: connection not closed within %.1fs; last lines %s" % (self, timeout, got[-5:]))
            try:
                got.append(self.line(left))
            except Ended:
                return got

    def raw_drain(self, timeout=LINE_TIMEOUT):
        """Reads raw bytes until the server closes (EOF or reset), without
        line checks; returns (bytes, 'eof' or 'reset')."""
        data = self.buf
        self.buf = b""
        end = time.monotonic() + timeout
        while not self.ended:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("%r: connection not closed within %.1fs (%d bytes read)" % (self, timeout, len(data)))
            try:
                self._fill(left)
            except Ended:
                break
            except AssertionError as e:
                if str(e).startswith("timeout"):
                    continue
                raise
            data += self.buf
            self.buf = b""
        return data, self.ended

    def read_bytes(self, n, timeout=LINE_TIMEOUT):
        """Returns exactly the next n raw bytes, without line checks (for
        telnet answers, which are not lines)."""
        end = time.monotonic() + timeout
        while len(self.buf) < n:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("%r: timeout after %.1fs waiting for %d raw bytes; got %s" % (self, timeout, n, _short(self.buf)))
            try:
                self._fill(left)
            except AssertionError as e:
                if str(e).startswith("timeout"):
                    continue
                raise
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def welcome(self, count=None):
        """Reads the welcome: its first two lines, then #lobby's topic and
        history when it has them, then the closing hint; returns the default
        nick.  The topic (or None) and the history lines (without their
        times) are kept in welcome_topic and welcome_history; tests that put
        a topic or messages in #lobby check them, the others need not."""
        m = self.expect(re.compile(r"\* welcome to parley, (user(\d+))"))
        self.nick = m.group(1)
        self.id = int(m.group(2))
        if count is None:
            m2 = self.expect(re.compile(r"\* you are in #lobby \((\d+) (person|people) here\)"))
            self.lobby_count = int(m2.group(1))
            if (self.lobby_count == 1) != (m2.group(2) == "person"):
                raise AssertionError("%r: wrong count phrase %r" % (self, m2.group(0)))
        else:
            self.expect(re.compile(r"\* you are in #lobby \(%s here\)" % people(count)))
            self.lobby_count = count
        self.welcome_topic = None
        self.welcome_history = []
        ln = self.line()
        if ln.startswith("* topic: "):
            self.welcome_topic = ln[len("* topic: ") :]
            ln = self.line()
        m = HISTORY_HEADER.fullmatch(ln)
        if m:
            check(m.group(2) == "lobby", "welcome replays #%s", m.group(2))
            self.welcome_history = self.history(int(m.group(1)))
            ln = self.line()
        if ln != WELCOME_3:
            raise AssertionError("%r: expected %s to end the welcome, got %s" % (self, _short(WELCOME_3), _short(ln)))
        return self.nick

    def history(self, n):
        """Reads n history lines and the closing frame line (the header was
        read already); returns the lines without their HH:MM times."""
        out = [self.expect(HISTORY_LINE).group(1) for _ in range(n)]
        self.expect(HISTORY_END)
        return out

    def barrier(self, timeout=LINE_TIMEOUT):
        """Sends /topic and requires its reply to be the very next line:
        proves that nothing else was queued for this client before it."""
        self.send("/topic\n")
        try:
            return self.expect(BARRIER_REPLY, timeout)
        except AssertionError as e:
            raise AssertionError("barrier (unexpected line before the /topic reply): %s" % e) from None

    # -- closing ------------------------------------------------------------

    def shut_wr(self):
        self.sock.shutdown(socket.SHUT_WR)

    def reset(self):
        """Closes with SO_LINGER 0: the kernel sends RST."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.close()

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass


def _desc(want):
    return _short(want) if isinstance(want, str) else "/%s/" % want.pattern


def ipv6_loopback_available():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            s.bind(("::1", 0))
        finally:
            s.close()
        return True
    except OSError:
        return False


def check(cond, msg, *args):
    if not cond:
        raise AssertionError(msg % args if args else msg)
