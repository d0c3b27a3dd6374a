"""Input handling: line ends, framing across reads, telnet IAC, line limit,
UTF-8 repair, control characters, trimming, EOF and half-close."""

import re
import time

from harness import check


def pair(t, *flags):
    """A server and two welcomed clients: s (user1, sends), r (user2, reads)."""
    srv = t.server(*flags)
    s, r = t.users(srv, None, None)
    return srv, s, r


def test_line_ends_lf_crlf_crnul(t):
    srv, s, r = pair(t)
    s.send(b"via lf\n")
    r.expect("[user1]: via lf")
    s.send(b"via crlf\r\n")
    r.expect("[user1]: via crlf")
    s.send(b"via cr nul\r\x00")
    r.expect("[user1]: via cr nul")
    s.send(b"a\nb\r\nc\r\x00d\n")
    for w in "abcd":
        r.expect("[user1]: " + w)
    t.barrier(s, r)


def test_bare_cr_ends_line(t):
    srv, s, r = pair(t)
    s.send(b"first\rsecond\n")
    r.expect("[user1]: first")
    r.expect("[user1]: second")
    s.send(b"/nick alice\r/who\r\n")
    s.expect("* you are now alice")
    s.expect("* #lobby (2 people): @alice, user2")
    r.expect("* user1 is now alice")
    t.barrier(s, r)


def test_cr_at_end_of_read_then_lf(t):
    srv, s, r = pair(t)
    s.send(b"one\r")
    time.sleep(0.05)  # make a separate read likely; the assertion holds either way
    s.send(b"\ntwo\n")
    r.expect("[user1]: one")
    r.expect("[user1]: two")
    # A command split the same way runs once and gets exactly one reply.
    s.send(b"/who\r")
    time.sleep(0.05)
    s.send(b"\n")
    s.expect("* #lobby (2 people): @user1, user2")
    s.send(b"three\r")
    time.sleep(0.05)
    s.send(b"\x00four\n")
    r.expect("[user1]: three")
    r.expect("[user1]: four")
    t.barrier(s, r)


def test_line_split_byte_by_byte(t):
    srv, s, r = pair(t)
    for ch in b"split into single bytes\n":
        s.send(bytes([ch]))
    r.expect("[user1]: split into single bytes")
    for ch in "/nick bytewise\r\n".encode():
        s.send(bytes([ch]))
    s.expect("* you are now bytewise")
    r.expect("* user1 is now bytewise")
    # A multi-byte UTF-8 character split across sends stays one character.
    for ch in "caf\u00e9 \u2603\n".encode():
        s.send(bytes([ch]))
    r.expect("[bytewise]: caf\u00e9 \u2603")
    t.barrier(s, r)


def test_many_lines_in_one_send(t):
    srv, s, r = pair(t)
    s.send(b"".join(b"line %d\r\n" % i for i in range(200)))
    for i in range(200):
        r.expect("[user1]: line %d" % i)
    s.send(b"/nick alice\nhello\n/who\n")
    s.expect("* you are now alice")
    s.expect("* #lobby (2 people): @alice, user2")
    r.expect("* user1 is now alice")
    r.expect("[alice]: hello")
    t.barrier(s, r)


def test_telnet_iac_removed(t):
    """IAC sequences never reach the text; the server's answers to them
    (test_telnet.py) are raw bytes, read here as such."""
    srv, s, r = pair(t)
    # What a telnet client may send first: negotiations.
    s.send(b"\xff\xfb\x01\xff\xfd\x03\xff\xfb\x18\xff\xfa\x18\x00xterm\xff\xf0")
    s.send(b"a\xff\xfb\x01b\xff\xfd\x03c\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0d\xff\xf1e\xff\xf9f\n")
    r.expect("[user1]: abcdef")
    check(s.read_bytes(15) == b"\xff\xfe\x01\xff\xfc\x03\xff\xfe\x18" b"\xff\xfe\x01\xff\xfc\x03", "wrong answers: %r", s.buf)
    # An IAC sequence split across sends.
    s.send(b"x\xff")
    time.sleep(0.05)
    s.send(b"\xfb")
    time.sleep(0.05)
    s.send(b"\x01y\xff\xfa\x18")
    time.sleep(0.05)
    s.send(b"\x01\xff\xf0z\n")
    r.expect("[user1]: xyz")
    check(s.read_bytes(3) == b"\xff\xfe\x01", "wrong answer: %r", s.buf)
    # IAC WONT / DONT: nothing to answer.
    s.send(b"p\xff\xfc\x01q\xff\xfe\x03r\n")
    r.expect("[user1]: pqr")
    t.barrier(s, r)


def test_iac_iac_is_data_byte_255(t):
    srv, s, r = pair(t)
    s.send(b"a\xff\xffb\n")
    r.expect("[user1]: a\ufffdb")  # byte 255 is not UTF-8
    t.barrier(s, r)


def test_line_too_long(t):
    srv, s, r = pair(t, "--max-line", "64")
    s.send(b"x" * 65 + b"\n")
    s.expect("! line too long (max 64 bytes)")
    t.barrier(s, r)
    s.send(b"y" * 64 + b"\n")  # exactly at the limit
    r.expect("[user1]: " + "y" * 64)
    # 32 two-byte characters are 64 bytes: fine; 33 are too many.
    s.send(("\u00e9" * 32 + "\n").encode())
    r.expect("[user1]: " + "\u00e9" * 32)
    s.send(("\u00e9" * 33 + "\n").encode())
    s.expect("! line too long (max 64 bytes)")
    # The limit counts bytes after IAC removal.
    s.send(b"z" * 32 + b"\xff\xfb\x01\xff\xfd\x03\xff\xf1" + b"z" * 32 + b"\n")
    r.expect("[user1]: " + "z" * 64)
    check(s.read_bytes(6) == b"\xff\xfe\x01\xff\xfc\x03", "wrong answers: %r", s.buf)
    # The line end is not counted, whichever it is.
    s.send(b"c" * 64 + b"\r\n")
    r.expect("[user1]: " + "c" * 64)
    s.send(b"d" * 64 + b"\r\x00")
    r.expect("[user1]: " + "d" * 64)
    s.send(b"e" * 64 + b"\r" + b"f" * 64 + b"\n")
    r.expect("[user1]: " + "e" * 64)
    r.expect("[user1]: " + "f" * 64)
    s.send(b"g" * 64 + b"\r")
    time.sleep(0.05)  # make a separate read likely; the assertion holds either way
    s.send(b"\n")
    r.expect("[user1]: " + "g" * 64)
    # IAC IAC is one byte (255) before UTF-8 repair turns it into U+FFFD:
    # 64 bytes pass the limit as they arrive, but U+FFFD takes 3 bytes, and
    # the cleaned line must fit too (docs/protocol.md, Limits).
    s.send(b"h" * 63 + b"\xff\xff\n")
    s.expect("! line too long once invalid UTF-8 is replaced (max 64 bytes)")
    s.send(b"h" * 61 + b"\xff\xff\n")
    r.expect("[user1]: " + "h" * 61 + "\ufffd")
    # A long line: one error, its tail is not a message, the next line works.
    s.send(b"w" * 1000 + b"TAIL\n" + b"after\n")
    s.expect("! line too long (max 64 bytes)")
    r.expect("[user1]: after")
    t.barrier(s, r)


def test_line_too_long_refused_before_line_end(t):
    srv, s, r = pair(t, "--max-line", "64")
    s.send(b"v" * 100)  # no line end yet
    s.expect("! line too long (max 64 bytes)")
    s.send(b"v" * 5000)
    s.send(b"more tail, still the same line\n")
    s.send(b"ok\n")
    r.expect("[user1]: ok")
    t.barrier(s, r)
    s.say("/who")
    s.expect("* #lobby (2 people): @user1, user2")


def test_line_too_long_default_limit(t):
    srv, s, r = pair(t)
    s.send(b"q" * 4096 + b"\n")
    r.expect("[user1]: " + "q" * 4096)
    s.send(b"q" * 4097 + b"\n")
    s.expect("! line too long (max 4096 bytes)")
    t.barrier(s, r)


def _clean(text):
    """What the doc says a client receives: U+FFFD for invalid UTF-8, then
    control characters other than TAB removed, trailing blanks trimmed."""
    text = re.sub("[\x00-\x08\x0a-\x1f\x7f\x80-\x9f]", "", text)
    return text.rstrip(" \t")


def test_invalid_utf8_replaced(t):
    srv, s, r = pair(t)
    # One U+FFFD for each of these (every reading of the doc agrees).
    single = [
        b"a\x80b",  # lone continuation byte
        b"c\xc3(d",  # truncated 2-byte sequence
        b"\xe2\x82",  # truncated 3-byte sequence at the end of the line
        b"n\xf0\x9f\x98o",  # truncated 4-byte sequence
        b"p\xc3",  # lead byte at the end of the line
    ]
    for raw in single:
        s.send(raw + b"\n")
        r.expect("[user1]: " + _clean(raw.decode("utf-8", "replace")))
    # Ill-formed sequences that are "maximal subparts" per Unicode (one
    # U+FFFD per byte here, as Python does) or one invalid run: accept both,
    # but never a valid decoding of them and never the raw bytes.
    multi = [
        b"e\xed\xa0\x80f",  # UTF-16 surrogate
        b"g\xc0\xafh",  # overlong "/"
        b"i\xf4\x90\x80\x80j",  # above U+10FFFF
        b"k\xfe\xfelm",  # never valid
    ]
    for raw in multi:
        s.send(raw + b"\n")
        want = _clean(raw.decode("utf-8", "replace"))
        got = r.line()
        check(
            got in ("[user1]: " + want, "[user1]: " + re.sub("\ufffd+", "\ufffd", want)),
            "invalid UTF-8 %r: expected %r (or one U+FFFD per run), got %r",
            raw,
            "[user1]: " + want,
            got,
        )
    good = "ok \u00e9\u2603\U0001F600 \u4e2d\u6587"
    s.send((good + "\n").encode())
    r.expect("[user1]: " + good)
    t.barrier(s, r)


def test_control_characters_removed(t):
    srv, s, r = pair(t)
    s.send(b"a\x1b[31mred\x1b[0m\x07b\x00c\x7fd\xc2\x9be\x08f\x0cg\x1b]0;title\x07h\n")
    r.expect("[user1]: a[31mred[0mbcdef" + "g]0;titleh")
    # The same in every other place text reaches someone.
    s.send(b"/me waves\x1b[2J\x07\n")
    r.expect("[* user1] waves[2J")
    s.send(b"/msg user2 psst\x1b\xc2\x9b\x00!\n")
    r.expect("[user1 -> user2]: psst!")
    s.expect("[user1 -> user2]: psst!")
    s.send(b"/topic top\x1b[5mic\x07\n")
    s.expect("* user1 set the topic of #lobby: top[5mic")
    r.expect("* user1 set the topic of #lobby: top[5mic")
    s.send(b"/quit bye\x1b[H\x07\xc2\x85now\n")
    s.expect("* bye")
    s.expect_end()
    r.expect("* user1 quit (bye[Hnow)")
    r.barrier()


def test_bidi_controls_and_separators_neutralised(t):
    """Bidi embeddings, overrides and isolates could reorder what others see
    ("Trojan source"), line and paragraph separators split one line into
    two: the first are removed, the second become spaces, everywhere text
    reaches someone. Marks without scope (LRM, RLM, ALM) and other
    invisibles stay."""
    srv, s, r = pair(t)
    kept = "\u200f\u05e9\u05dc\u05d5\u05dd\u200e ok \u061c\u0633 \ufeff\u200b\u2060 \U0001F469\u200d\U0001F4BB"
    for sent, seen in (
        ("invoice\u202etxt.exe", "[user1]: invoicetxt.exe"),
        ("a\u202ab\u202bc\u202cd\u202de\u2066f\u2067g\u2068h\u2069i\u206aj\u206fk", "[user1]: abcdefghijk"),
        ("one\u2028two\u2029three\u2028", "[user1]: one two three"),
        (kept, "[user1]: " + kept),
        ("/me waves\u202e\u2028back", "[* user1] waves back"),
        ("/msg user2 psst\u2067!\u2029", "[user1 -> user2]: psst!"),
    ):
        s.say(sent)
        r.expect(seen)
        if sent.startswith("/msg"):
            s.expect(seen)  # the sender is shown what was sent
    s.send("/topic top\u202eic\u2028two\n".encode())
    s.expect("* user1 set the topic of #lobby: topic two")
    r.expect("* user1 set the topic of #lobby: topic two")
    s.send("/quit gone\u2066\u2029now\n".encode())
    s.expect("* bye")
    s.expect_end()
    r.expect("* user1 quit (gone now)")
    r.barrier()


def test_tab_kept_trailing_blanks_trimmed(t):
    srv, s, r = pair(t)
    s.send(b"a\tb\n")
    r.expect("[user1]: a\tb")
    s.send(b"trailing   \t \n")
    r.expect("[user1]: trailing")
    s.send(b"  leading kept\n")
    r.expect("[user1]:   leading kept")
    s.send(b"x\x1b \t\n")  # trimming after control removal
    r.expect("[user1]: x")
    t.barrier(s, r)


def test_empty_and_blank_lines_ignored(t):
    srv, s, r = pair(t)
    s.send(b"\n\r\n   \n\t\t\n \t \r\x00\x1b\x07\n\x00\n")
    s.send(b"real\n")
    r.expect("[user1]: real")
    t.barrier(s, r)  # and no error came back to the sender


def test_eof_after_final_line_without_newline(t):
    srv, s, r = pair(t)
    s.send(b"first\nlast words")
    s.shut_wr()
    r.expect("[user1]: first")
    r.expect("[user1]: last words")
    r.expect("* user1 quit (connection closed)")
    s.expect_end()
    r.barrier()
    srv.wait_event("disconnect", id=s.id, reason="eof")


def test_half_close_still_gets_reply(t):
    srv, s, r = pair(t)
    s.send(b"/who\n")
    s.shut_wr()
    s.expect("* #lobby (2 people): @user1, user2")
    s.expect_end()
    r.expect("* user1 quit (connection closed)")
    # Also with a final command without a line end and much pending output.
    s2 = t.client(srv)
    s2.welcome()
    r.expect("* user3 joined #lobby")
    s2.send(b"/help\n/who")
    s2.shut_wr()
    s2.expect("* commands:")
    lines = s2.drain_to_end()
    check(lines and lines[-1] == "* #lobby (2 people): user2, user3", "after half-close the /who reply did not come last: %s", lines[-3:])
    r.expect("* user3 quit (connection closed)")
    r.barrier()


def test_garbage_does_not_hurt_server(t):
    """Random bytes (seeded) from one client; the server and others go on."""
    import random

    rnd = random.Random(20261127)
    srv, s, r = pair(t, "--max-line", "512")
    # No byte 255: an unterminated IAC SB would rightly swallow the rest.
    blob = bytes(rnd.randrange(255) for _ in range(200000))
    s.send(blob + b"\n/nick survivor\n")
    s.read_until("* you are now survivor", timeout=10)
    r.read_until("* user1 is now survivor", timeout=10)
    s.say("still here")
    r.expect("[survivor]: still here")
    t.barrier(s, r)


def test_messages_and_commands_in_one_packet_keep_order(t):
    """The messages of one read are said as one batch; a command in the
    middle of them must still come between them, for others and in the
    room's history (docs/protocol.md: order is kept)."""
    srv = t.server()
    a, b = t.users(srv, "alice", "bob")
    a.send("one\ntwo\n/nick alicia\nthree\n/me waves\nfour\n")
    b.expect("[alice]: one")
    b.expect("[alice]: two")
    b.expect("* alice is now alicia")
    b.expect("[alicia]: three")
    b.expect("[* alicia] waves")
    b.expect("[alicia]: four")
    a.expect("* you are now alicia")
    t.barrier(a, b)
    c = t.client(srv)
    c.welcome()
    c.send("/join dev\n/join lobby\n")
    c.expect("* you joined #dev (1 person here)")
    c.expect("* you joined #lobby (3 people here)")
    c.expect("* --- last 5 messages in #lobby (times in UTC) ---")
    for nick, text in (("alice", "one"), ("alice", "two"), ("alicia", "three"), ("* alicia", "waves"), ("alicia", "four")):
        sep = " " if nick.startswith("*") else ": "
        c.expect(re.compile(r"\d\d:\d\d \[%s\]%s%s" % (re.escape(nick), sep, text)))
    c.expect("* --- end of history ---")
