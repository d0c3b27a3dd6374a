"""The clients people really use: netcat and telnet, as programs.

These tests run Debian's `nc` (netcat-openbsd) and `telnet` against the
server, the way the README tells a person to. telnet runs on a
pseudo-terminal, as it would in a terminal window; what it prints is read
from there. A missing program is a failure, never a skip (tests/deps.sh
installs both).
"""

import os
import pty
import select
import shutil
import subprocess
import time

from harness import WELCOME_3, check


def _need(prog):
    path = shutil.which(prog)
    check(path is not None, "%s is not installed (tests/deps.sh installs it)", prog)
    return path


class Pty:
    """A program on a pseudo-terminal: type lines, await text on screen."""

    def __init__(self, t, argv):
        self.t = t
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the program
            os.execv(argv[0], argv)
        self.screen = b""

    def type(self, text):
        os.write(self.fd, text.encode())

    def wait_for(self, text, timeout=5.0):
        """Reads the screen until text shows up; fails after timeout."""
        want = text.encode()
        end = time.monotonic() + self.t.bound(timeout)
        while want not in self.screen:
            left = end - time.monotonic()
            check(left > 0, "telnet never showed %r; screen so far: %r", text, self.screen[-500:])
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:  # the program ended
                    chunk = b""
                check(chunk != b"", "telnet ended before showing %r: %r", text, self.screen[-500:])
                self.screen += chunk

    def close(self):
        try:
            os.kill(self.pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def test_netcat_pipes_commands_and_gets_replies(t):
    """`printf ... | nc` sends commands, closes its side at EOF (-N), and
    must still get every reply: the server flushes after a half-close."""
    nc = _need("nc")
    srv = t.server()
    (watcher,) = t.users(srv, "watcher")
    script = "/nick carol\n/join dev\n/who\nhello from nc\n/rooms\n"
    out = subprocess.run(
        [nc, "-N", "-w", "5", "127.0.0.1", str(srv.addr[2])],
        input=script.encode(), capture_output=True, timeout=t.bound(10),
    ).stdout.decode()
    lines = out.split("\r\n")
    for want in (
        "* you are now carol",
        "* you joined #dev (1 person here)",
        "* #dev (1 person): @carol",
        "* #dev: 1 person",
        "* #lobby: 1 person",
    ):
        check(want in lines, "nc output lacks %r: %r", want, out)
    watcher.expect("* user2 joined #lobby")
    watcher.expect("* user2 is now carol")
    watcher.expect("* carol left #lobby")


def test_telnet_session_in_two_rooms(t):
    """The README's session: three telnet users, two rooms, a private
    message, a topic and $exit, typed into real telnet clients."""
    telnet = _need("telnet")
    srv = t.server()
    port = str(srv.addr[2])
    # One after the other, so that ids (and so default nicks) are known.
    started = []
    try:
        for n in (1, 2, 3):
            p = Pty(t, [telnet, "127.0.0.1", port])
            started.append(p)
            p.wait_for("* welcome to parley, user%d" % n)
        a, b, c = started
        a.type("/nick alice\r\n")
        a.wait_for("* you are now alice")
        b.type("/nick bob\r\n")
        b.wait_for("* you are now bob")
        c.type("/nick carol\r\n")
        c.wait_for("* you are now carol")
        a.type("hi all\r\n")
        b.wait_for("[alice]: hi all")
        c.wait_for("[alice]: hi all")
        b.type("/join dev\r\n")
        b.wait_for("* you joined #dev (1 person here)")
        a.wait_for("* bob left #lobby")
        c.type("/join dev\r\n")
        c.wait_for("* you joined #dev (2 people here)")
        b.wait_for("* carol joined #dev")
        b.type("/topic parley internals\r\n")
        c.wait_for("* bob set the topic of #dev: parley internals")
        c.type("only dev hears this\r\n")
        b.wait_for("[carol]: only dev hears this")
        a.type("/msg carol psst\r\n")
        c.wait_for("[alice -> carol]: psst")
        a.type("/rooms\r\n")
        a.wait_for("* #dev: 2 people, topic: parley internals")
        c.type("$exit\r\n")
        c.wait_for("* bye")
        b.wait_for("* carol quit")
        check(b"only dev hears this" not in a.screen, "the lobby heard #dev: %r", a.screen)
    finally:
        for p in started:
            p.close()


def _telnet(t, srv):
    """Starts telnet on a pty to srv and waits for the welcome."""
    p = Pty(t, [_need("telnet"), "127.0.0.1", str(srv.addr[2])])
    p.wait_for(WELCOME_3)
    return p


def test_telnet_ctrl_c_then_who(t):
    """^C in telnet sends IAC IP IAC DO TIMING-MARK, and telnet then shows
    no output until the server answers the timing mark (RFC 860). The server
    answers, so the reply to the next command shows up."""
    srv = t.server()
    p = _telnet(t, srv)
    try:
        p.type("\x03")
        p.type("/who\r\n")
        p.wait_for("* #lobby (1 person): @user1")
        # Twice: every timing mark is answered, not only the first.
        p.type("\x03")
        p.type("/nick alice\r\n")
        p.wait_for("* you are now alice")
    finally:
        p.close()


# What Debian's telnet, in its default mode, sends for this line: a byte
# whose low 7 bits are one of its special characters (0x83: ^C, 0x9c: ^\,
# 0x8f: ^O) becomes a telnet command plus IAC DO TIMING-MARK, so the byte is
# lost and the character around it becomes U+FFFD (docs/protocol.md).
TYPED_8BIT = "всему миру ✓ 本 🏽"
SEEN_8BIT = "всем\ufffd мир\ufffd \ufffd \ufffd \ufffd"


def test_telnet_8bit_text_then_who(t):
    """Cyrillic, ✓, 本 and a skin-tone emoji typed into telnet: the user
    stays able to hear (their /who is answered), and the room gets the
    line, mangled by telnet as the doc says."""
    srv = t.server()
    (w,) = t.users(srv, "watcher")
    p = _telnet(t, srv)
    try:
        w.expect("* user2 joined #lobby")
        p.type(TYPED_8BIT + "\r\n")
        w.expect("[user2]: " + SEEN_8BIT)
        p.type("/who\r\n")
        p.wait_for("* #lobby (2 people): user2, @watcher")
        w.say("hello telnet")
        p.wait_for("[watcher]: hello telnet")
        w.barrier()
    finally:
        p.close()


def test_telnet_send_ayt(t):
    """`send ayt` at telnet's escape prompt: the server shows it is there."""
    srv = t.server()
    p = _telnet(t, srv)
    try:
        p.type("\x1d")  # ^], telnet's escape character
        p.wait_for("telnet> ")
        p.type("send ayt\r\n")
        p.wait_for("* yes, parley is here")
    finally:
        p.close()
