"""The terminal of telnet users (docs/terminal.md): Debian's real `telnet`
in tmux (tmux.py) on a telnet:// listener, beside netcat-like clients on
text://, which must see today's plain lines. What a telnet user sees is
read off the screen with capture-pane, the cursor's column included.
"""
import re
import time

from harness import Client, check
from tmux import Terminal, need

IAC, WILL, WONT, DO, DONT, SB, SE = 255, 251, 252, 253, 254, 250, 240
ECHO, SGA, BINARY, TTYPE, NAWS = 1, 3, 0, 24, 31

# What a telnet:// listener says first: its offers (docs/terminal.md).
OFFERS = bytes([IAC, WILL, ECHO, IAC, WILL, SGA, IAC, WILL, BINARY, IAC, DO, BINARY,
                IAC, DO, NAWS, IAC, DO, TTYPE])


def term_server(t, *flags):
    """parleyd with a telnet:// and a text:// listener on loopback."""
    return t.server(*flags, listen=["telnet://127.0.0.1:0", "text://127.0.0.1:0"])


def addr(srv, scheme):
    """The address of srv's listener for scheme."""
    for url, a in zip(srv.listen, srv.addrs):
        if url.startswith(scheme + "://"):
            return a
    raise AssertionError("no %s:// listener in %s" % (scheme, srv.listen))


EXITED = "[the telnet program has exited]"


class Telnet:
    """Debian's telnet in a tmux pane, in #lobby as nick."""

    def __init__(self, t, srv, nick, width=80, hold=False):
        """hold: a shell stays in the pane after telnet exits, says so
        with EXITED and reads what is still typed. tmux marks a pane dead
        as soon as its program exits, and may then drop the program's last
        output that the tty layer had not yet handed over (seen under
        load: the goodbye and telnet's own last line both lost)."""
        self.nick = nick
        self.term = Terminal(t, "telnet-" + nick)
        _, host, port = addr(srv, "telnet")
        argv = [need("telnet"), host, str(port)]
        if hold:
            argv = ["/bin/sh", "-c", '"$@"; echo "%s"; exec cat >/dev/null' % EXITED, "sh"] + argv
        self.term.start(argv, width=width, height=24)
        self.prompt("")
        self.term.type("/nick " + nick)
        self.term.wait_for("* you are now " + nick)
        self.prompt("")

    def prompt(self, typed, room="lobby"):
        """Waits until the screen's last line is the prompt with typed after
        it, and the cursor right after that."""
        want = ("#%s> %s" % (room, typed)).rstrip()
        self.term.wait_for(re.compile(re.escape(want)))
        self.last_is(want)

    def last_is(self, want):
        lines = [ln for ln in self.term.screen() if ln]
        check(lines and lines[-1] == want, "%s: last screen line %r, not %r; screen:\n%s",
              self.nick, lines[-1] if lines else None, want, "\n".join(lines))

    def cursor(self):
        return int(self.term.cmd("display-message", "-p", "#{cursor_x}").strip())

    def cursor_at(self, col, what, timeout=5.0):
        """Waits until the cursor is in column col (a key that moves it
        changes nothing else on the screen); fails saying what."""
        end = time.monotonic() + timeout
        while self.cursor() != col:
            left = end - time.monotonic()
            check(left > 0, "%s: cursor at column %d, not %d (%s)", self.nick, self.cursor(), col, what)
            self.term._await_output(min(left, 0.5))

    def lines(self):
        return [ln for ln in self.term.screen() if ln]


def nc_user(t, srv, nick):
    """A netcat-like socket client on text://, welcomed and renamed."""
    return t.users(srv, nick, addr=addr(srv, "text"))[0]


def test_half_typed_lines_survive(t):
    """Two telnet users halfway through a line each: a message from a
    netcat user is printed above their prompts, and each half-typed line
    is redrawn intact with the cursor after it; finished, the lines reach
    the netcat user as plain text, UTF-8 included."""
    srv = term_server(t)
    alice = Telnet(t, srv, "alice")
    bob = Telnet(t, srv, "bob")
    carol = nc_user(t, srv, "carol")
    alice.term.type("fine thanks, typing a lo", enter=False)
    alice.prompt("fine thanks, typing a lo")
    bob.term.type("halfway through ✓ 本", enter=False)
    bob.prompt("halfway through ✓ 本")
    carol.say("this arrives while both type")
    for who, typed in ((alice, "fine thanks, typing a lo"), (bob, "halfway through ✓ 本")):
        who.term.wait_for("[carol]: this arrives while both type")
        who.prompt(typed)
        lines = who.lines()
        check(lines[-2] == "[carol]: this arrives while both type", "%s: %r above the prompt", who.nick, lines[-2])
        who.cursor_at(len("#lobby> ") + len(typed) + typed.count("本"), "after the message")
    alice.term.type("ng line")
    carol.expect("[alice]: fine thanks, typing a long line")
    bob.term.wait_for("[alice]: fine thanks, typing a long line")
    bob.prompt("halfway through ✓ 本")
    alice.prompt("")
    check("#lobby> fine thanks, typing a long line" in alice.lines(), "alice's own line left the screen")
    bob.term.type(" done")
    carol.expect("[bob]: halfway through ✓ 本 done")
    alice.term.wait_for("[bob]: halfway through ✓ 本 done")
    alice.prompt("")
    # A notice the server sends while it closes a connection (after its
    # input was handled for the round) redraws the prompt too.
    alice.term.type("still typing", enter=False)
    alice.prompt("still typing")
    carol.close()
    alice.term.wait_for("* carol quit (connection closed)")
    alice.prompt("still typing")


def test_editing_keys_and_history(t):
    """Left, Right, Home, End, Backspace, Delete, Ctrl-A/E/U/K/W edit the
    line in place, a double-width character moves the cursor two columns,
    and Up/Down walk through the user's earlier lines."""
    srv = term_server(t)
    alice = Telnet(t, srv, "alice")
    carol = nc_user(t, srv, "carol")
    k = alice.term.keys
    alice.term.type("héllo 本wörld", enter=False)
    alice.prompt("héllo 本wörld")
    k("Left", "Left", "Left", "Left", "Left")
    alice.cursor_at(len("#lobby> héllo 本") + 1, "after 5 Left")
    k("Left")
    alice.cursor_at(len("#lobby> héllo "), "a wide character is two columns")
    alice.prompt("héllo 本wörld")
    k("BSpace", "C-a", "DC", "End", "BSpace")
    alice.prompt("éllo本wörl")
    k("Home", "Right", "Right", "C-k")
    alice.prompt("él")
    k("C-e")
    alice.term.type(" one two", enter=False)
    k("C-w")
    alice.prompt("él one ")
    k("C-u")
    alice.prompt("")
    alice.term.type("first line")
    carol.expect("[alice]: first line")
    alice.term.type("second line")
    carol.expect("[alice]: second line")
    alice.term.type("draft", enter=False)
    k("Up")
    alice.prompt("second line")
    k("Up")
    alice.prompt("first line")
    k("Down", "Down")
    alice.prompt("draft")
    k("Up", "Up", "Enter")
    carol.expect("[alice]: first line")


def test_word_keys_redraw_and_ctrl_d(t):
    """Alt-B and Alt-F move by words, Ctrl-W erases a word of UTF-8
    characters whole, Ctrl-L clears the screen and draws the prompt line
    again with the line and the cursor as they were, and Ctrl-D on an empty
    line rings the bell and does nothing else (it does not leave)."""
    srv = term_server(t)
    alice = Telnet(t, srv, "alice")
    carol = nc_user(t, srv, "carol")
    k = alice.term.keys
    p = len("#lobby> ")
    alice.term.type("héllo wörld 本本 end", enter=False)
    alice.prompt("héllo wörld 本本 end")
    k("M-b")
    alice.cursor_at(p + len("héllo wörld 本本 ") + 2, "Alt-B: the start of the last word")
    k("M-b")
    alice.cursor_at(p + len("héllo wörld "), "Alt-B: the start of 本本")
    k("C-a", "M-f")
    alice.cursor_at(p + len("héllo"), "Alt-F: the end of the first word")
    k("M-f")
    alice.cursor_at(p + len("héllo wörld"), "Alt-F: the end of the second word")
    k("C-w")
    alice.prompt("héllo  本本 end")
    alice.cursor_at(p + len("héllo "), "Ctrl-W: where wörld was")
    k("C-e", "M-b", "C-w")
    alice.prompt("héllo  end")
    carol.say("something to clear away")
    alice.term.wait_for("[carol]: something to clear away")
    k("C-a", "M-f")
    alice.cursor_at(p + len("héllo"), "before Ctrl-L")
    k("C-l")
    alice.term.wait_for(re.compile(r"#lobby> héllo  end"))
    lines = alice.lines()
    check(lines == ["#lobby> héllo  end"], "after Ctrl-L the screen is %r", lines)
    check(alice.term.screen()[0] == "#lobby> héllo  end", "the prompt line is not at the top")
    alice.cursor_at(p + len("héllo"), "after Ctrl-L")
    k("C-u", "C-k")
    alice.prompt("")
    k("C-d")  # telnet sends it as it is: no leaving, nothing on screen
    alice.term.type("still here", enter=False)
    alice.prompt("still here")
    check(alice.lines() == ["#lobby> still here"], "after Ctrl-D: %r", alice.lines())
    # The bell is a byte tmux does not show: a client of its own hears it.
    c = _negotiate(t, srv)
    carol.expect("* user3 joined #lobby")
    raw_until(c, rb"#lobby> (\x1b\[K)?")
    c.send(b"\x04")
    got = raw_until(c, rb"\a")
    check(b"\r" not in got and b"bye" not in got, "Ctrl-D on an empty line: %r", got)
    c.send(b"ab\x01\x04\r")
    carol.expect("[user3]: b")
    check(srv.alive(), "the server died")


def test_prompt_after_a_quit_nothing_else_wakes(t):
    """The prompt is drawn after the close hooks of the round: a netcat
    user cut off for excess flood is closed by the server at once, so no
    later event wakes the loop, and the quit notice that clears a telnet
    user's prompt line must still be followed by that line, intact."""
    srv = term_server(t, "--flood-burst", "5", "--flood-rate", "1")
    alice = Telnet(t, srv, "alice")
    carol = nc_user(t, srv, "carol")
    alice.term.wait_for("* user2 is now carol")
    alice.term.type("typing on", enter=False)
    alice.prompt("typing on")
    carol.send(b"".join(b"spam %05d\n" % k for k in range(5000)))
    alice.term.wait_for("* carol quit (excess flood)")
    alice.prompt("typing on")
    alice.cursor_at(len("#lobby> typing on"), "after the quit notice")
    # The screen shows the prompt within a wait, however late it came; a
    # client of its own shows when: the prompt comes in the same write as
    # the notice (the old order drew it at the next wake, 0.5 s later).
    c = _negotiate(t, srv)
    dave = nc_user(t, srv, "dave")
    c.send(b"typing on")
    raw_until(c, rb"is now dave\r\n.*typing on")
    dave.send(b"".join(b"spam %05d\n" % k for k in range(5000)))
    raw_until(c, rb"\* dave quit \(excess flood\)\r\n")
    check(re.match(rb"(\x1b\[K|\r)*#lobby> typing on", c.buf),
          "the prompt did not come with the quit notice: %r", c.buf)


def test_big_paste_is_cut_off_with_a_reason(t):
    """A 100 KB paste in character mode waits for the flood budget like
    typed lines; what passes --recvq-max ahead of it is an excess flood:
    the user is told why on the screen before telnet says the connection
    closed, and the room sees the paste's burst, then the quit."""
    srv = term_server(t, "--flood-burst", "5", "--flood-rate", "10")
    alice = Telnet(t, srv, "alice", hold=True)
    carol = nc_user(t, srv, "carol")
    alice.term.wait_for("* user2 is now carol")
    paste = "".join("paste line %d of a long paste\n" % i for i in range(3500))
    check(len(paste) > 100000, "a paste of %d bytes", len(paste))
    path = alice.term.home + "/paste.txt"
    with open(path, "w") as f:
        f.write(paste)
    alice.term.cmd("load-buffer", path)
    alice.term.cmd("paste-buffer")  # each LF typed as Enter (CR)
    got = carol.read_until("* alice quit (excess flood)")
    said = [ln for ln in got if ln.startswith("[alice]: ")]
    check(said and said[0] == "[alice]: paste line 0 of a long paste" and len(said) <= 25,
          "the room got %d lines of the paste: %r", len(said), said[:3])
    # Once telnet has closed, the terminal is back in cooked mode and
    # echoes what is left of the paste itself: the lines may scroll off.
    alice.term.wait_for(EXITED, history=True)
    shown = alice.term.screen(history=True)
    order = [next((i for i, ln in enumerate(shown) if want in ln), None)
             for want in ("! excess flood: over 16384 bytes sent ahead of the flood limit, closing",
                          "Connection closed by foreign host.", EXITED)]
    check(None not in order and order == sorted(order),
          "the goodbye, telnet's last line and its exit at lines %s of:\n%s", order, "\n".join(shown[-40:]))
    srv.wait_event("disconnect", reason="flood")
    # Up and Enter send an earlier line again: 4 bytes for 4 KB. Lines
    # past 64 KiB from one read are cut off the same way.
    c = _negotiate(t, srv)
    carol.expect("* user3 joined #lobby")
    c.send(b"x" * 4000 + b"\r")
    carol.expect("[user3]: " + "x" * 4000)
    c.send(b"\x1b[A\r" * 2048)
    raw_until(c, rb"\r\n! excess flood: [^\r]*, closing\r\n")
    carol.read_until("* user3 quit (excess flood)")
    check(srv.alive(), "the server died")


def test_tab_completion(t):
    """Tab completes a nick in the room, a command and a room name."""
    srv = term_server(t)
    dave = nc_user(t, srv, "dave")
    dave.say("/join dev")
    dave.expect(re.compile(r"\* you joined #dev .*"))
    nc_user(t, srv, "carolyn")
    alice = Telnet(t, srv, "alice")
    alice.term.type("hi car", enter=False)
    alice.term.keys("Tab")
    alice.prompt("hi carolyn")
    alice.term.keys("C-u")
    alice.term.type("/jo", enter=False)
    alice.term.keys("Tab")
    alice.prompt("/join")
    alice.term.type("#de", enter=False)
    alice.term.keys("Tab", "Enter")
    alice.term.wait_for("* you joined #dev (2 people here)")
    alice.prompt("", room="dev")


def test_long_lines_scroll_sideways(t):
    """On a 40-column window (NAWS), a 100-character line scrolls within
    the prompt line, the screen never wraps, a wider window shows more of
    it at once, and the whole line is sent."""
    srv = term_server(t)
    alice = Telnet(t, srv, "alice", width=40)
    carol = nc_user(t, srv, "carol")
    text = "".join("%d" % (i % 10) for i in range(100))
    alice.term.type(text, enter=False)
    alice.term.wait_for(re.compile(r"#lobby> \d*" + re.escape(text[-10:])))
    last = alice.lines()[-1]
    check(len(last) < 40, "the prompt line wraps: %r", last)
    check(text.endswith(last[len("#lobby> "):]), "the prompt line shows %r", last)
    alice.term.keys("Home")
    alice.prompt(text[:40 - len("#lobby> ") - 1])
    alice.term.cmd("resize-window", "-x", "60")  # telnet sends NAWS again
    alice.prompt(text[:60 - len("#lobby> ") - 1])
    alice.term.keys("Enter")
    carol.expect("[alice]: " + text)


def test_plain_clients_see_no_negotiation(t):
    """text:// sends today's plain lines, no negotiation; on telnet://, a
    client that never answers the offers stays in line mode: after them it
    gets plain lines, without prompts or colours, and its lines work."""
    srv = term_server(t)
    plain = Client(t, addr(srv, "text"))
    raw = Client(t, addr(srv, "telnet"))
    with t._lock:
        t.clients.extend([plain, raw])
    plain.welcome()
    check(raw.read_bytes(len(OFFERS)) == OFFERS, "the offers are not %r", OFFERS)
    raw.welcome()
    plain.expect("* user2 joined #lobby")
    raw.say("/color on")
    raw.expect("! /color needs character mode, which your client did not agree to")
    raw.say("hello from line mode")
    plain.expect("[user2]: hello from line mode")
    plain.say("hi there")
    raw.expect("[user1]: hi there")
    raw.barrier()


def test_ready_line_sends_people_to_telnet(t):
    """With a telnet:// listener beside a text:// one, the ready line says
    telnet for the first and nc for the second: a person who ran telnet on
    the text:// port would miss the line editor."""
    srv = term_server(t)
    with srv.cond:
        srv.cond.wait_for(lambda: srv.out_lines or not srv.alive(), timeout=srv.ctx.bound(5))
        lines = list(srv.out_lines)
    tel, txt = ("%s %d" % addr(srv, s)[1:] for s in ("telnet", "text"))
    want = "parley is ready: telnet %s (line editing); nc %s (scripts)" % (tel, txt)
    check(lines == [want], "stdout says %r, want %r", lines, want)


def _negotiate(t, srv):
    """A socket client that agrees to character mode by hand."""
    c = Client(t, addr(srv, "telnet"))
    with t._lock:
        t.clients.append(c)
    check(c.read_bytes(len(OFFERS)) == OFFERS, "no offers")
    c.send(bytes([IAC, DO, ECHO, IAC, DO, SGA, IAC, WILL, NAWS,
                  IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE]))
    return c


def test_hostile_keys(t):
    """Escape sequences split across reads, a bare ESC, IAC inside a
    sequence, invalid UTF-8 and a 10 KB paste neither garble the line nor
    hurt the server; flood control paces the paste's lines as it paces
    typed ones."""
    srv = term_server(t, "--flood-burst", "5", "--flood-rate", "5")
    carol = nc_user(t, srv, "carol")
    c = _negotiate(t, srv)
    carol.expect("* user2 joined #lobby")
    for part in (b"ab\x1b", b"[", b"Dx\x1b[1", b";5", b"C", b"\x1bq\x1b", bytes([IAC, NOP]),
                 b"[Cy\xff\xff\x1b[999999999999A\xe2\x9c", b"\x93\r\x00"):
        c.send(part)
    carol.expect("[user2]: axbqy\ufffd✓")
    # Are You There, as PuTTY sends it: the answer takes the prompt line's
    # place like any other line, and the half-typed line comes back.
    c.send(b"half")
    raw_until(c, rb"#lobby> half")
    c.send(bytes([IAC, AYT]))
    got = raw_until(c, rb"\* yes, parley is here\r\n.*#lobby> half")
    check(re.match(rb"(\x1b\[K)?\r\x1b\[K\* yes", got), "the answer to AYT is not on a line of its own: %r", got)
    c.send(b"\x15")
    paste = "".join("line %d of a paste\r\n" % i for i in range(600)).encode()
    check(len(paste) > 10000, "paste of %d bytes", len(paste))
    c.send(paste)
    carol.expect("[user2]: line 0 of a paste")
    start = time.monotonic()
    for i in range(1, 12):
        carol.expect("[user2]: line %d of a paste" % i)
    # Paced like typed lines: after a burst of 5, 5 lines a second.
    took = time.monotonic() - start
    check(took > 1.0, "11 lines of a paste in %.2fs: not paced", took)
    check(srv.alive(), "the server died")


NOP, AYT = 241, 246


def raw_until(c, rx, timeout=5.0):
    """Reads c's raw bytes until the regex rx (bytes) matches them; returns
    the bytes up to the end of the match and keeps the rest."""
    end = time.monotonic() + timeout
    while True:
        m = re.search(rx, c.buf, re.S)
        if m:
            got, c.buf = c.buf[: m.end()], c.buf[m.end():]
            return got
        left = end - time.monotonic()
        check(left > 0, "%r never got %r; got %r", c, rx, c.buf[-300:])
        try:
            c._fill(min(left, 0.5))
        except AssertionError as e:
            if not str(e).startswith("timeout"):
                raise


def test_bells_timestamps_and_colours(t):
    """A mention and a private message ring the bell (/bell off stops it),
    /timestamps puts the time before lines, a terminal whose type can show
    colours gets the sender's nick in colour and its own nick highlighted,
    and none of it reaches the netcat user."""
    srv = term_server(t)
    c = _negotiate(t, srv)
    raw_until(c, rb"#lobby> ")
    carol = nc_user(t, srv, "carol")
    carol.say("hello user1, bells?")
    got = raw_until(c, rb"\[carol\]: hello user1, bells\?\r\n[^#]*")
    check(b"\a" in got, "no bell on a mention: %r", got)
    check(b"\x1b[3" not in got and b"\x1b[9" not in got, "colour without a terminal type: %r", got)
    carol.say("/msg user1 psst")
    carol.expect("[carol -> user1]: psst")
    check(b"\a" in raw_until(c, rb"\[carol -> user1\]: psst\r\n[^#]*"), "no bell on a private message")
    c.send(b"/bell off\r/timestamps on\r")
    raw_until(c, rb"\* timestamps are on \(UTC\)")
    carol.say("user1 again")
    got = raw_until(c, rb"\d\d:\d\d \[carol\]: user1 again\r\n[^#]*")
    check(b"\a" not in got, "a bell after /bell off: %r", got)
    carol.barrier()
    alice = Telnet(t, srv, "alice")
    alice.term.type("/color")
    alice.term.wait_for("* colour is on")
    carol.say("hi alice, look")
    alice.term.wait_for("[carol]: hi alice, look")
    shown = [ln for ln in alice.term.cmd("capture-pane", "-e", "-p").split("\n") if "hi " in ln and "look" in ln]
    check(shown and re.search(r"\x1b\[[0-9;]*m+carol", shown[-1]), "carol's nick not in colour: %r", shown)
    check(re.search(r"\x1b\[[0-9;]*[17][0-9;]*malice", shown[-1]), "alice not highlighted: %r", shown)
    alice.term.type("/color off")
    alice.term.wait_for("* colour is off")
