"""Terminal programs driven in tmux, the way a person uses them.

    term = Terminal(t, "irssi")
    term.start(["irssi", "--home=" + term.home + "/.irssi"], files={...})
    term.type("/join #dev")               # the keys, then Enter
    term.wait_for("has joined")           # a screen line holding this
    term.wait_for(re.compile(r"\[#dev\]"))  # a screen line matching whole
    term.screen()                         # the lines shown now

Each Terminal has its own tmux server on a private socket in a throw-away
directory, which is also the program's HOME, so no user's configuration is
read or touched. The window has a fixed size and no status line; the pane's
output is also piped into a FIFO that the test reads only to wake up: what
counts is the screen that `tmux capture-pane` shows. Waits are bounded, and
there is no sleep: a wait reads the screen, then blocks on the FIFO until
the program prints again (or half a second passes).

The Terminal is listed among the test's clients, so the runner closes it at
the end (and on a watchdog abort): the program is killed, then the tmux
server, each by its PID, and the test waits until they are gone.
"""

import os
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from harness import LINE_TIMEOUT, check

# A screen wait wakes at least this often (seconds), even if no output came.
_WAKE = 0.5

# How long closing waits for tmux and its children to end (seconds).
STOP_WAIT = 5.0


def need(prog):
    """The path of prog; fails (never skips) if it is not installed."""
    path = shutil.which(prog)
    check(path is not None, "%s is not installed (tests/deps.sh installs it)", prog)
    return path


def _alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


class Terminal:
    """One program on a tmux pane of width x height cells."""

    def __init__(self, t, name):
        """Makes the throw-away directory (self.home); start() runs the
        program."""
        self.t = t
        self.name = name
        self.tmux = need("tmux")
        self.dir = tempfile.mkdtemp(prefix="parley-e2e-%s-" % name)
        self.home = self.dir
        self.sock = os.path.join(self.dir, "tmux.sock")
        self.server_pid = None
        self.pane_pid = None
        self.closed = False
        self._lock = threading.Lock()
        fifo = os.path.join(self.dir, "output")
        os.mkfifo(fifo)
        # Read and write: the FIFO never shows EOF, so select() only wakes
        # for output.
        self.fifo = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
        self.env = self._env()
        with t._lock:
            t.clients.append(self)

    def start(self, argv, files=None, width=200, height=50):
        """Starts argv in a new tmux server, on a width x height window, from
        the home directory; returns once the pane is there (wait_for then
        awaits what the program shows). files: {path under home: text}
        written first, e.g. the program's configuration."""
        for rel, text in (files or {}).items():
            path = os.path.join(self.home, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        conf = os.path.join(self.dir, "tmux.conf")
        with open(conf, "w") as f:
            # A history long enough for everything a test prints: a wait
            # may search it (wait_for's history).
            f.write("set -g status off\nset -g remain-on-exit on\n"
                    "set -g history-limit 50000\n")
        script = os.path.join(self.dir, "run.sh")
        with open(script, "w") as f:
            f.write('cd "$HOME" && exec %s\n' % " ".join(shlex.quote(a) for a in argv))
        # The server forks itself off; new-session returns once the session
        # is there. The program runs through sh, which execs it, so the
        # pane's PID is the program's.
        fifo = os.path.join(self.dir, "output")
        self.cmd("-f", conf, "new-session", "-d", "-x", str(width), "-y", str(height),
                 "exec /bin/sh " + shlex.quote(script), ";",
                 "pipe-pane", "-o", "exec cat >> " + shlex.quote(fifo))
        pids = self.cmd("display-message", "-p", "#{pid} #{pane_pid}").split()
        self.server_pid, self.pane_pid = int(pids[0]), int(pids[1])

    def __repr__(self):
        return "<terminal %s>" % self.name

    def _env(self):
        """The environment of the tmux server, and so of the program: the
        throw-away HOME, a UTF-8 locale, nothing of an outer tmux."""
        drop = ("TMUX", "LC_", "XDG_", "WEECHAT_", "IRSSI")
        env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
        env.update(HOME=self.home, LANG="C.UTF-8", TMUX_TMPDIR=self.dir)
        return env

    # -- tmux ---------------------------------------------------------------

    def cmd(self, *args):
        """Runs one tmux command against this server; returns its output."""
        check(not self.closed, "%r is closed", self)
        r = subprocess.run(
            [self.tmux, "-S", self.sock] + list(args),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=self.env,
            timeout=self.t.bound(LINE_TIMEOUT),
        )
        check(r.returncode == 0, "tmux %s failed: %s", args[0], r.stderr.decode(errors="replace").strip())
        return r.stdout.decode("utf-8", "replace")

    def _await_output(self, timeout):
        """Blocks until the pane prints something (or timeout seconds pass);
        drains the FIFO. Returns False on timeout."""
        ready, _, _ = select.select([self.fifo], [], [], self.t.bound(timeout))
        if not ready:
            return False
        try:
            while os.read(self.fifo, 65536):
                pass
        except BlockingIOError:
            pass
        return True

    # -- keys and screen ------------------------------------------------------

    def keys(self, *keys):
        """Sends tmux key names (Enter, C-c, PageUp...)."""
        self.cmd("send-keys", *keys)

    def type(self, text, enter=True):
        """Types text literally, then Enter unless enter is false."""
        self.cmd("send-keys", "-l", "--", text)
        if enter:
            self.keys("Enter")

    def screen(self, history=False):
        """The lines the screen shows now, trailing blanks removed; with
        history, every line the pane printed, scrolled off or not."""
        args = ("capture-pane", "-p") + (("-S", "-") if history else ())
        return [ln.rstrip() for ln in self.cmd(*args).split("\n")]

    def wait_for(self, want, timeout=LINE_TIMEOUT, history=False):
        """Waits until a screen line contains want (a str) or fullmatches it
        (a compiled regex); returns that line (or the match). With history,
        lines scrolled off the screen count too. Fails after timeout
        seconds with the screen in the message."""
        end = time.monotonic() + self.t.bound(timeout)
        while True:
            lines = self.screen(history)
            for ln in lines:
                if isinstance(want, str):
                    if want in ln:
                        return ln
                else:
                    m = want.fullmatch(ln)
                    if m:
                        return m
            left = end - time.monotonic()
            if left <= 0:
                what = want if isinstance(want, str) else "/%s/" % want.pattern
                raise AssertionError(
                    "%r never showed %r in %.0fs; its screen:\n%s"
                    % (self, what, timeout, "\n".join([ln for ln in lines if ln][-60:]))
                )
            self._await_output(min(left, _WAKE))

    # -- teardown -------------------------------------------------------------

    def close(self):
        """Kills the program and what else the tmux server started, then the
        server, each by its PID; waits until all are dead and removes the
        directory. Safe to call twice, and from the runner's watchdog. It
        never raises, so the runner goes on to close the rest; what went
        wrong goes to stderr, where it is seen even if the test passed."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
        try:
            if self.server_pid is None:
                self.server_pid = self._find_server()
            if self.server_pid is not None:
                self._kill_all()
        except Exception as e:  # noqa: BLE001
            sys.stderr.write("    | %s: closing %r: %s\n" % (self.t.name, self, e))
        finally:
            os.close(self.fifo)
            shutil.rmtree(self.dir, ignore_errors=True)

    def _find_server(self):
        """The PID of a server that start() left half made, or None."""
        if not os.path.exists(self.sock):
            return None
        r = subprocess.run([self.tmux, "-S", self.sock, "display-message", "-p", "#{pid}"],
                           stdin=subprocess.DEVNULL, capture_output=True, env=self.env, timeout=STOP_WAIT)
        return int(r.stdout) if r.returncode == 0 and r.stdout.strip().isdigit() else None

    def _kill_all(self):
        """SIGKILL to the server's children (the program, the FIFO's cat);
        once they are dead, SIGTERM to the server (SIGKILL if it lingers).
        tmux does not always reap a killed pane at once, and the server is
        not our child (tmux forks it off), so what is left of them are
        zombies that init reaps. Each wait is bounded; a process still
        alive at the end is a failure."""
        try:
            with open("/proc/%d/task/%d/children" % (self.server_pid, self.server_pid)) as f:
                children = [int(p) for p in f.read().split()]
        except OSError:
            children = []
        children = sorted(set(children + [self.pane_pid]) - {None})
        for pid in children:
            _signal(pid, signal.SIGKILL)
        end = time.monotonic() + STOP_WAIT
        _wait_until(lambda: not any(_alive(p) for p in children), end)
        _signal(self.server_pid, signal.SIGTERM)
        if not _wait_until(lambda: not _alive(self.server_pid), end):
            _signal(self.server_pid, signal.SIGKILL)
            _wait_until(lambda: not _alive(self.server_pid), time.monotonic() + 1)
        left = [p for p in children + [self.server_pid] if _alive(p)]
        check(not left, "processes %s still alive %.0fs after SIGKILL", left, STOP_WAIT)


def _wait_until(cond, end):
    """Polls cond until it holds (True) or the time end passes (False).
    Only for processes already signalled: the kernel is all that is left."""
    while not cond():
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


def _signal(pid, sig):
    """Sends sig to pid unless it is already gone."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
