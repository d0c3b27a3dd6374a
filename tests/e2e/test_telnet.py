"""Telnet on the text port, at the byte level: which requests the server
answers and with exactly which bytes, that it never speaks telnet to a
client that does not, and that telnet commands never eat a line end or the
line around them (docs/protocol.md, "Telnet"). The real telnet program is
driven in test_real_clients.py."""

import time

from harness import check

IAC, WILL, WONT, DO, DONT, SB, SE = 255, 251, 252, 253, 254, 250, 240
AYT, IP, BRK = 246, 244, 243
TM, ECHO, SGA, TTYPE, NAWS, BINARY = 6, 1, 3, 24, 31, 0

AYT_LINE = "* yes, parley is here"


def cmd(*b):
    return bytes(b)


def pair(t, *flags):
    """A server and two welcomed clients: s (user1, sends), r (user2, reads)."""
    srv = t.server(*flags)
    s, r = t.users(srv, None, None)
    return srv, s, r


def test_do_timing_mark_answered_with_will(t):
    """RFC 860: telnet sends IAC DO TIMING-MARK after ^C and some 8-bit
    characters and shows no output until the answer comes."""
    srv, s, r = pair(t)
    s.send(cmd(IAC, DO, TM))
    check(s.read_bytes(3) == cmd(IAC, WILL, TM), "wrong answer to DO TM: %r", s.buf)
    # Each DO TM is answered, not only the first.
    s.send(cmd(IAC, IP, IAC, DO, TM) + b"/who\r\n" + cmd(IAC, DO, TM))
    check(s.read_bytes(3) == cmd(IAC, WILL, TM), "no answer to the second DO TM")
    s.expect("* #lobby (2 people): @user1, user2")
    check(s.read_bytes(3) == cmd(IAC, WILL, TM), "no answer to the third DO TM")
    t.barrier(s, r)


def test_options_refused_with_exact_bytes(t):
    """DO x gets WONT x, WILL x gets DONT x (the server enables nothing),
    one answer per request, in order; WONT and DONT get none."""
    srv, s, r = pair(t)
    s.send(cmd(IAC, DO, ECHO, IAC, WILL, NAWS, IAC, DO, SGA, IAC, WILL, TTYPE, IAC, WILL, TM, IAC, DO, BINARY))
    want = cmd(IAC, WONT, ECHO, IAC, DONT, NAWS, IAC, WONT, SGA, IAC, DONT, TTYPE, IAC, DONT, TM, IAC, WONT, BINARY)
    got = s.read_bytes(len(want))
    check(got == want, "answers %r, want %r", got, want)
    # Refusals of what is already off are not answered (no loops): the
    # barrier's reply must be the very next bytes.
    s.send(cmd(IAC, WONT, ECHO, IAC, DONT, ECHO, IAC, WONT, TM, IAC, DONT, NAWS))
    t.barrier(s, r)
    check(s.buf == b"", "bytes after the barrier: %r", s.buf)


def test_option_mid_line_keeps_the_line(t):
    srv, s, r = pair(t)
    s.send(b"hel" + cmd(IAC, DO, TM) + b"lo")
    check(s.read_bytes(3) == cmd(IAC, WILL, TM), "no answer to DO TM mid-line")
    s.send(b" wor" + cmd(IAC, WILL, NAWS) + b"ld\r\n")
    check(s.read_bytes(3) == cmd(IAC, DONT, NAWS), "no answer to WILL NAWS mid-line")
    r.expect("[user1]: hello world")
    t.barrier(s, r)


def test_ayt_answered_with_a_line(t):
    """IAC AYT gets one visible line, to the asker only."""
    srv, s, r = pair(t)
    s.send(b"ab" + cmd(IAC, AYT) + b"c\n")
    s.expect(AYT_LINE)
    r.expect("[user1]: abc")
    t.barrier(s, r)


def test_option_answers_free_ayt_costs_a_line(t):
    """Refusals are not charged to the flood budget; an AYT answer is (it
    is a line of output, like a command's reply)."""
    srv = t.server("--flood-burst", "1", "--flood-rate", "4")
    s, r = t.users(srv, None, None)
    # One line costs 250 ms of budget. 500 refusals and a /who: if the
    # refusals were charged, /who would wait two minutes; as they are free
    # it waits at most for the one line the nick change above cost.
    t0 = time.monotonic()
    s.send(cmd(IAC, DO, ECHO) * 500 + b"/who\n")
    got = s.read_bytes(1500)
    check(got == cmd(IAC, WONT, ECHO) * 500, "wrong answers: %r", got[:30])
    s.expect("* #lobby (2 people): @user1, user2")
    free = time.monotonic() - t0
    check(free < 1.0, "500 refused options delayed the next line by %.2fs", free)
    # Four AYTs and /who are five lines: at 4 per second, at least a
    # second after the /who just charged; with AYT free, /who would
    # come after 250 ms.
    t0 = time.monotonic()
    s.send(cmd(IAC, AYT) * 4 + b"/who\n")
    for _ in range(4):
        s.expect(AYT_LINE)
    s.expect("* #lobby (2 people): @user1, user2")
    paced = time.monotonic() - t0
    check(paced > 0.75, "four AYT answers and /who took only %.2fs: AYT is free", paced)


def test_commands_inside_subnegotiation_not_answered(t):
    srv, s, r = pair(t)
    s.send(cmd(IAC, SB, TTYPE, IAC, DO, TM, IAC, AYT, IAC, SE) + b"ok\n")
    r.expect("[user1]: ok")
    t.barrier(s, r)
    check(s.buf == b"", "bytes after the barrier: %r", s.buf)


def test_iac_then_line_end_does_not_glue_lines(t):
    """An IAC (or IAC WILL/WONT/DO/DONT) followed by CR or LF ends the line:
    a stray 0xff typed before Enter must not glue two lines together."""
    srv, s, r = pair(t)
    s.send(b"one\xff\ntwo\xff\r\nthree\xff\rfour\xff\r\x00five\n")
    for w in ("one", "two", "three", "four", "five"):
        r.expect("[user1]: " + w)
    s.send(b"six" + cmd(IAC, DO) + b"\nseven" + cmd(IAC, WILL) + b"\r\n/who\n")
    r.expect("[user1]: six")
    r.expect("[user1]: seven")
    s.expect("* #lobby (2 people): @user1, user2")
    t.barrier(s, r)


def test_no_telnet_bytes_to_a_client_that_sends_none(t):
    """A client that never sends IAC (nc, scripts) gets clean text only:
    the server never starts a negotiation, whatever else it is sent."""
    srv = t.server()
    s = t.client(srv)
    s.welcome()
    # Every byte value but IAC, in lines and commands.
    junk = bytes(b for b in range(256) if b not in (IAC, 10, 13))
    s.send(junk + b"\n/who " + junk + b"\n/help\n/me " + junk + b"\n/msg user1 " + junk + b"\n")
    s.send(b"/nick x\xfd\xfb\xfc\xfe\n" + bytes(range(0xf0, 0xff)) + b"\n/quit\n")
    data, how = s.raw_drain()
    check(how == "eof", "the connection ended with %s", how)
    check(b"\xff" not in data, "the server sent an IAC byte to a client that sent none: %r", data)
    check(data.endswith(b"* bye\r\n"), "the session did not end normally: %r", data[-200:])
