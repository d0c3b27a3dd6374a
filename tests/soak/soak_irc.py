"""
The IRC side of the soak (tests/soak/soak.py): what docs/irc.md says
becomes of a line an IRC client sends, and the IRC actors, as a mixin of
the Soak class.

Every line the IRC clients here receive goes through parse() below (by
way of read(), mostly), which parses it with tests/e2e/irc.py's IrcMsg,
the one IRC parser of the soak, and answers the server's PING; the
harness checks each line first (CRLF, UTF-8, no control but IRC's
formatting codes).

The model (expect_unit) takes the bytes an abuser sends and gives, for
each line in them, the server's replies to the sender and what each
witness of #ircab must then receive:
- lines end at LF, CRLF, CR NUL or a CR before any other byte (the
  framer's rules, src/event/frame.h);
- a line over 512 bytes with CRLF, or with a tag block over 8191 bytes,
  as sent or once invalid UTF-8 is replaced, gets `417` and nothing else;
- cleaning replaces each maximal invalid UTF-8 subpart by U+FFFD (as
  Python's "replace" does), removes the controls but IRC's formatting
  codes, bidi controls and C1, turns line separators into spaces and
  trims trailing blanks; a line whose invalid UTF-8 was replaced gets
  `WARN <CMD> INVALID_UTF8` before its replies;
- PRIVMSG and NOTICE reach at most 4 targets (`407` for the 5th), with
  `401`, `403`, `404`, `411`, `412` as docs/irc.md and RFC 2812 give;
  text users get `[nick]: text` with the formatting removed, and no CTCP
  other than ACTION in private messages; NICK gets `431`, `432`, `433`
  or the change; unknown commands `421`.

Not sent, because the server does otherwise than docs/irc.md says, and
the soak must pass: a CTCP other than ACTION to a channel (docs/irc.md:
text users see no other CTCP; they get `[nick]: VERSION`, and so does
the room's history), and a JOIN of a channel one is in already while at
CHANLIMIT (`405` rather than nothing).
"""

import collections
import itertools
import random
import re
import socket
import threading
import time

from harness import BARRIER_REPLY, Ended
from irc import SERVER_NAME, IrcClient, IrcMsg, irc_addr

S = SERVER_NAME
TAGS_MAX = 8191  # the tag block, '@' and its space included
CLIENT_TAGS_MAX = 4094  # tag data a client may send (message-tags)
BODY_MAX = 510  # the rest of the line, CRLF not counted
TARGMAX = 4
CHANLIMIT = 100
# The receive buffer of the readers that stay all along (residents and
# witnesses). Python parses every line they get, on one of the soak's
# hundreds of threads, and can fall a few hundred KB behind a busy room;
# with the kernel's default (about 128 KB for a slow reader) the rest
# passes --sendq-max and the server cuts the witness off (seen once in a
# full run). 4 MiB (capped by net.core.rmem_max) keeps the backlog on
# this side, where the server does not count it.
FIXTURE_RCVBUF = 4 << 20
PING_INTERVAL = 8  # --ping-interval: unregistered connections go after 8 s
KEEP_TALKING = 2  # seconds between the fixtures' own PINGs
KEEP_TOKEN = "fixture"
CAPS = "server-time message-tags echo-message"
# The witnesses of #ircab, whom the abusers also message by nick.
TEXT_WITNESS = "abwit"
IRC_WITNESS = "iabwit"
LIMIT_ROOMS = ["zl%03d" % i for i in range(CHANLIMIT)]  # ilimit's channels
LIMIT_SOURCE = "127.0.0.4"  # their creators' address: its own room budget
# The numerics of the welcome (docs/irc.md, Connection and registration).
WELCOME = re.compile(r"001 002 003 004 (?:005 )+251 252 253 254 255 265 266 422")
# What other people's traffic may be, seen from a channel.
TRAFFIC = {"PRIVMSG", "NOTICE", "JOIN", "PART", "QUIT", "NICK", "TOPIC"}
NICK_RX = re.compile(r"[A-Za-z_\]\\^{}|`][A-Za-z0-9_\-\[\]\\^{}|`]{0,31}")
SOURCE_RX = re.compile(r"([^!@ ]+)!~([^!@ ]+)@127\.0\.0\.[1-4]")
# A part of a flood line in #flood (soak.py's flood actors).
FLOOD_LINE = re.compile(r":user\d+!~text@127\.0\.0\.1 PRIVMSG #flood :(?:\S+ \d+ \d{4} )?f+")


def parse(c, ln):
    """The line ln that IRC client c received, parsed (IrcMsg); None for
    a PING from the server, which this answers with its PONG."""
    m = IrcMsg(ln)
    if m.command == "PING" and m.source is None:
        c.send_line("PONG :" + m.params[-1])
        return None
    return m


def read(c, timeout=10.0):
    """The next line of IRC client c, parsed (PINGs answered)."""
    while True:
        m = parse(c, c.line(timeout))
        if m is not None:
            return m


def bare(m):
    """The line of m without its tags."""
    return m.line.split(" ", 1)[1] if m.line.startswith("@") else m.line


def timed_out(e):
    return "timeout" in str(e) and not isinstance(e, Ended)


def num(nick, code, rest):
    return ":%s %s %s %s" % (S, code, nick, rest)


# -- the model ---------------------------------------------------------------------

_DROPPED = re.compile("[\x00\x05-\x08\x0a-\x0e\x10\x12-\x15\x17-\x1c\x7f-\x9f\u202a-\u202e\u2066-\u206f]")
_FORMAT = re.compile("\x03(?:[0-9]{1,2}(?:,[0-9]{1,2})?)?|\x04(?:[0-9a-fA-F]{1,6}(?:,[0-9a-fA-F]{1,6})?)?|[\x00-\x08\x0a-\x1f\x7f]")
_LINE_END = re.compile(rb"\r\n|\r\x00|\r|\n")


def clean(raw):
    """The line raw (bytes) as the server cleans it (a str)."""
    text = raw.decode("utf-8", "replace").replace("\u2028", " ").replace("\u2029", " ")
    return _DROPPED.sub("", text).rstrip(" \t")


def strip_format(text):
    """text as a text user sees it: IRC's formatting codes removed."""
    return _FORMAT.sub("", text)


def over(b):
    """True if the line b (bytes) passes 510 bytes after its tag block,
    or its tag block passes 8191 (src/irc/parse.h)."""
    if not b.strip(b" "):
        return False
    rest = len(b)
    if b[:1] == b"@":
        sp = b.find(b" ")
        if (len(b) if sp < 0 else sp) + 1 > TAGS_MAX:
            return True
        rest = 0 if sp < 0 else len(b) - sp - 1
    return rest > BODY_MAX


def is_action(text):
    return len(text) >= 8 and text.startswith("\x01ACTION") and text[7] in " \x01"


def action_body(text):
    """What a CTCP ACTION says, as the server takes it (src/irc/cmd.c)."""
    body = text[8:] if text[7] == " " else text[7:]
    return body[:-1] if body.endswith("\x01") else body


class Abuser:
    """What the model knows of one abuser's connection."""

    def __init__(self, idx, user, echo):
        self.idx = idx
        self.user = user
        self.nick = user
        self.nicks = {user.lower()}  # every nick this connection had
        self.echo = echo
        self.renames = 0

    def prefix(self):
        return "%s!~%s@127.0.0.1" % (self.nick, self.user)


class Model:
    """expect_unit and its witnesses' queues: per abuser, the lines the
    text witness and the IRC witness of #ircab must get, in order."""

    def __init__(self, lock):
        self.lock = lock
        self.text_q = collections.defaultdict(collections.deque)
        self.irc_q = collections.defaultdict(collections.deque)
        self.counts = collections.Counter()

    def expect_unit(self, st, unit):
        """The replies st's connection gets for the bytes unit (one or
        more lines); queues what the witnesses must get."""
        replies = []
        for raw in _LINE_END.split(unit):
            replies += self.expect_line(st, raw)
        return replies

    def expect_line(self, st, raw):
        text = clean(raw)
        b = text.encode()
        if over(raw) or over(b):
            self.counts["417"] += 1
            return [num(st.nick, "417", ":Input line was too long")]
        m = IrcMsg(text)
        if not b.strip(b" ") or not m.command:
            return []
        out = []
        if text.count("\ufffd") > raw.count(b"\xef\xbf\xbd"):
            self.counts["warn"] += 1
            out.append(":%s WARN %s INVALID_UTF8 :Invalid UTF-8 was replaced by U+FFFD" % (S, m.command))
        if b[:1] == b"@" and b.find(b" ") - 1 > CLIENT_TAGS_MAX:
            self.counts["417"] += 1  # more tag data than message-tags allows
            return out + [num(st.nick, "417", ":Input line was too long")]
        return out + self.expect_command(st, m)

    def expect_command(self, st, m):
        p, cmd = m.params, m.command
        if cmd == "PING":
            self.counts["pong"] += 1
            return [":%s PONG %s :%s" % (S, S, p[0])] if p else [num(st.nick, "461", "PING :Not enough parameters")]
        if cmd in ("PRIVMSG", "NOTICE"):
            return self.expect_message(st, cmd, p)
        if cmd == "NICK":
            return self.expect_nick(st, p[0] if p else "")
        if cmd == "JOIN" and not p:
            return [num(st.nick, "461", "JOIN :Not enough parameters")]
        if cmd in ("USER", "PASS") and p:
            return [num(st.nick, "462", ":You may not reregister")]
        return [num(st.nick, "421", "%s :Unknown command" % cmd)]

    def expect_message(self, st, cmd, p):
        notice = cmd == "NOTICE"
        if not p:
            return [] if notice else [num(st.nick, "411", ":No recipient given (PRIVMSG)")]
        if len(p) < 2 or not p[1]:
            return [] if notice else [num(st.nick, "412", ":No text to send")]
        out, text = [], p[1]
        for i, t in enumerate(x for x in p[0].split(",") if x):
            if i == TARGMAX:
                if not notice:
                    self.counts["407"] += 1
                    out.append(num(st.nick, "407", "%s :Too many targets" % t))
                break
            out += self.expect_target(st, cmd, t, text)
        return out

    def expect_target(self, st, cmd, t, text):
        """Replies to st for one target of a message; queues the
        witnesses' lines."""
        notice = cmd == "NOTICE"
        line = ":%s %s %s :%s" % (st.prefix(), cmd, t, text)
        echo = [line] if st.echo else []
        action = is_action(text)
        body = action_body(text) if action else text
        relayed = line
        if action:  # re-framed; to a channel, always as a PRIVMSG
            relayed = ":%s %s %s :\x01ACTION %s\x01" % (st.prefix(), "PRIVMSG" if t[0] == "#" else cmd, t, body)
        if t == "#ircab":
            self.push(st, ("[* %s] %s" if action else "[%s]: %s") % (st.nick, strip_format(body)), relayed)
            return echo
        if t.startswith("#"):
            if t in ("#hop1", "#flood"):  # exist; the abuser is not in them
                return [] if notice else [num(st.nick, "404", "%s :Cannot send to channel" % t)]
            return [] if notice else [num(st.nick, "403", "%s :No such channel" % t)]
        if t.lower() == st.nick.lower():
            return [relayed] + echo  # to itself: delivered, then echoed
        if t == TEXT_WITNESS:
            if text.startswith("\x01") and not action:
                self.counts["ctcp_hidden"] += 1  # text users see no CTCP
            else:
                fmt = "[* %s -> %s] %s" if action else "[%s -> %s]: %s"
                self.push(st, fmt % (st.nick, t, strip_format(body)), None)
            return echo
        if t == IRC_WITNESS:
            self.push(st, None, relayed)
            return echo
        return [] if notice else [num(st.nick, "401", "%s :No such nick/channel" % t)]

    def expect_nick(self, st, new):
        if not new:
            return [num(st.nick, "431", ":No nickname given")]
        if not NICK_RX.fullmatch(new) or re.fullmatch(r"user\d+", new):
            return [num(st.nick, "432", "%s :Erroneous nickname" % new)]
        if new == st.nick:
            return []
        if new.lower() in (TEXT_WITNESS, IRC_WITNESS):
            return [num(st.nick, "433", "%s :Nickname is already in use" % new)]
        out = [":%s NICK :%s" % (st.prefix(), new)]
        st.nick = new
        st.nicks.add(new.lower())
        self.counts["nicks"] += 1
        return out

    def push(self, st, text_line, irc_line):
        with self.lock:
            if text_line is not None:
                self.text_q[st.idx].append(text_line)
            if irc_line is not None:
                self.irc_q[st.idx].append(irc_line)

    def pop(self, which, idx, got):
        """The witness which ("text" or "irc") got the line got from
        abuser idx: it must be the next one queued."""
        with self.lock:
            q = (self.text_q if which == "text" else self.irc_q)[idx]
            want = q.popleft() if q else None
        if got != want:
            raise AssertionError("%s witness of #ircab: got %r, want %r" % (which, got, want))

    def drained(self):
        with self.lock:
            return not any(self.text_q.values()) and not any(self.irc_q.values())

    def left(self):
        with self.lock:
            return {"text": sum(map(len, self.text_q.values())), "irc": sum(map(len, self.irc_q.values()))}


# -- what the abusers send -----------------------------------------------------------

IRC_ODD = [
    lambda r: r.choice([b"\x00", b"\x1b", b"\x1b[31m", b"\x07", b"\x7f", b"\x08", b"\x10", b"\t"]),  # removed (TAB kept)
    lambda r: r.choice(["\x02", "\x0304,01", "\x0312", "\x03,5", "\x0f", "\x1d", "\x1f", "\x16", "\x11", "\x04ff00ff", "\x1e", "\x01"]).encode(),  # formatting
    lambda r: r.choice(["\u202e", "\u2066", "\u2028", "\u2029", "\u0085", "\u009b"]).encode(),  # bidi, separators, C1
    lambda r: r.choice(["✓", "日本語", "всем", "🏽", "é", "\ufffd", " ", "  "]).encode(),  # valid
    lambda r: ("w%d " % r.randrange(10000)).encode(),
]


def hostile(rnd, bad_pieces, n):
    """About n bytes of text: invalid UTF-8 (bad_pieces), controls,
    formatting and valid characters."""
    out = bytearray()
    share = rnd.choice([0.0, 0.3, 0.8])
    while len(out) < n:
        out += rnd.choice(bad_pieces if rnd.random() < share else IRC_ODD)(rnd)
    return bytes(out)


def tag_block(rnd, size):
    """'@', tags and nothing else, size - 1 bytes (the space follows):
    keys, escapes, client-only tags, and now and then NUL, ESC or a
    lone continuation byte (invalid UTF-8 that can never join its
    neighbours into a character)."""
    out = bytearray(b"@")
    pieces = [b"a=b;", b"+draft/x=\\s\\:\\\\;", b"time=2026;", b"k%d=" % rnd.randrange(99), b"v" * 40, "é日".encode()]
    dirty = rnd.random() < 0.3
    while len(out) < size - 1:
        if dirty and rnd.random() < 0.05:
            out += rnd.choice([b"\x00", b"\x1b", bytes([rnd.randrange(0x80, 0xc0)])])
        else:
            out += rnd.choice(pieces)
    return bytes(out[: size - 1])


def abuse_unit(rnd, st, seq, bad_pieces):
    """One hostile unit (bytes, line end included) of a random kind;
    returns (kind, bytes)."""
    kind = rnd.choice(["msg"] * 5 + ["tags", "huge", "cr", "targets", "nick", "ctcp", "misc"])
    tag = b"ia%d-%06d " % (st.idx, seq)
    if kind == "msg":
        head = rnd.choice([b"PRIVMSG", b"NOTICE"]) + b" #ircab :" + tag
        size = rnd.choice([rnd.randrange(1, 300), 505, 508, 509, 510, 511, 512, 520]) - len(head)
        return kind, head + hostile(rnd, bad_pieces, max(size, 1))[: max(size, 1)] + b"\r\n"
    if kind == "tags":
        size = rnd.choice([rnd.randrange(3, 300), CLIENT_TAGS_MAX + 1, CLIENT_TAGS_MAX + 2, CLIENT_TAGS_MAX + 3,
                           TAGS_MAX - 2, TAGS_MAX - 1, TAGS_MAX, TAGS_MAX + 1, TAGS_MAX + 40])
        return kind, tag_block(rnd, size) + b" PING :tg%d\r\n" % seq
    if kind == "huge":
        return kind, b"PRIVMSG #ircab :" + tag + b"h" * rnd.randrange(8700, 12000) + b"\r\n"
    if kind == "cr":
        end = rnd.choice([b"\r", b"\r\x00", b"\r\r\n"])
        return kind, b"PRIVMSG #ircab :" + tag + b"before CR" + end + b"PING :cr%d\r\n" % seq
    if kind == "targets":
        pool = ["#ircab", "#nx%d" % rnd.randrange(99), "nobody%d" % rnd.randrange(99), "#hop1", st.nick, TEXT_WITNESS, IRC_WITNESS]
        targets = [rnd.choice(pool) for _ in range(rnd.randrange(TARGMAX + 1, TARGMAX + 4))]
        cmd = rnd.choice([b"PRIVMSG"] * 3 + [b"NOTICE"])
        return kind, cmd + b" " + ",".join(targets).encode() + b" :" + tag + b"to many\r\n"
    if kind == "nick":
        out = b""
        for _ in range(rnd.randrange(1, 6)):
            st.renames += 1
            new = rnd.choice(["ia%dn%d" % (st.idx, st.renames)] * 4 + [TEXT_WITNESS, TEXT_WITNESS.upper(), IRC_WITNESS, "9lives", "-dash", "[brk", "x" * 33, "user%d" % rnd.randrange(10**9, 2 * 10**9), "a!b", "é", "", st.nick])
            out += b"NICK " + new.encode() + b"\r\n"
        return kind, out
    if kind == "ctcp":
        return kind, rnd.choice(
            [
                b"PRIVMSG %s :\x01VERSION\x01\r\n" % TEXT_WITNESS.encode(),
                b"NOTICE %s :\x01PING %d\x01\r\n" % (TEXT_WITNESS.encode(), seq),
                b"PRIVMSG %s :\x01VERSION\x01\r\n" % IRC_WITNESS.encode(),
                b"PRIVMSG #ircab :\x01ACTION " + tag + b"waves\x01\r\n",
                b"PRIVMSG %s :\x01ACTION " % TEXT_WITNESS.encode() + tag + b"nods\x01\r\n",
            ]
        )
    return kind, rnd.choice([b"PRIVMSG\r\n", b"PRIVMSG #ircab\r\n", b"PRIVMSG #ircab :\r\n", b"JOIN\r\n", b"FOO bar\r\n", b"NOTICE\r\n", b"USER a 0 * :b\r\n", b"PASS x\r\n", b"ping :low%d\r\n" % seq, b"\x00\x00\r\n", b"@a=b\r\n", b":src\r\n", b"   \r\n"])


# -- the actors ------------------------------------------------------------------------


class IrcActors:
    """The IRC actors and fixtures; mixed into Soak, whose srv, ctx,
    stop, final, lock, count(), fail(), actor() and stats they use."""

    def irc_init(self):
        self.model = Model(self.lock)
        self.irc_quits = {}  # nick -> QUIT reason, as #flood's IRC resident saw it
        self.quit_seen = threading.Condition(self.lock)
        self.islow_cut = []  # the slow IRC readers cut off (by nick)
        self.u8_irc_expect = {}  # nick -> what #utf8's IRC resident must get from it
        self.u8_part = None  # (nick, msgid, text so far) of a split message
        self.limit_client = None
        self.irc_seq = itertools.count(1)  # numbers the nicks of islow and iunreg
        for key in ["irc_churn", "irc_sessions", "irc_quits", "irc_unreg", "irc_ab_lines", "irc_417", "irc_warn", "irc_407", "irc_405", "irc_nicks", "irc_ctcp", "irc_ab_seen", "islow_cut", "islow_uncut", "islow_error", "u8_irc_seen", "isteady"]:
            self.stats[key] = 0

    def irc(self, rcvbuf=None, source=None):
        """An IRC connection (not registered) that the soak closes itself."""
        return IrcClient(self.ctx, irc_addr(self.srv), rcvbuf=rcvbuf, source=source)

    def irc_register(self, c, nick, user, caps=False):
        """Registers c (with CAP negotiation if caps) and checks the
        welcome line by line up to 422."""
        c.nick = nick
        out = "CAP LS 302\r\nCAP REQ :%s\r\n" % CAPS if caps else ""
        out += "NICK %s\r\nUSER %s 0 * :soak %s\r\n" % (nick, user, nick)
        c.send(out + ("CAP END\r\n" if caps else ""))
        if caps:
            m = read(c)
            if not m.line.startswith(":%s CAP * LS :" % S) or not set(CAPS.split()) <= set(m.params[-1].split()):
                raise AssertionError("%r: CAP LS: %r" % (c, m.line))
            m = read(c)
            if m.line != ":%s CAP * ACK :%s" % (S, CAPS):
                raise AssertionError("%r: CAP REQ: %r" % (c, m.line))
        m = read(c)
        want = num(nick, "001", ":Welcome to the parley IRC Network %s!~%s@%s" % (nick, user, c.local[0]))
        if m.line != want:
            raise AssertionError("%r: got %r, want %r" % (c, m.line, want))
        nums = [m.command]
        while nums[-1] != "422":
            nums.append(read(c).command)
        if not WELCOME.fullmatch(" ".join(nums)):
            raise AssertionError("%r: welcome numerics %s" % (c, nums))
        return c

    def traffic(self, c, m):
        """Checks a line from someone else in c's channels."""
        if m.command not in TRAFFIC or not SOURCE_RX.fullmatch(m.source or ""):
            raise AssertionError("%r: unexpected line %r" % (c, m.line))

    def irc_join(self, c, chan, prefix):
        """Joins chan: the JOIN, then 332 and 333 if it has a topic, its
        names (c among them) and 366; others' traffic may come first."""
        c.send_line("JOIN " + chan)
        while True:
            m = read(c)
            if bare(m) == ":%s JOIN %s" % (prefix, chan):
                break
            self.traffic(c, m)
        m = read(c)
        if m.command == "332":
            m = read(c)
            if m.command != "333" or m.params[1] != chan:
                raise AssertionError("%r: after 332: %r" % (c, m.line))
            m = read(c)
        names = []
        while m.command == "353" and m.params[1:3] == ["=", chan]:
            names += [n.lstrip("@+") for n in m.params[3].split()]
            m = read(c)
        if m.line != num(c.nick, "366", "%s :End of /NAMES list" % chan) or c.nick not in names:
            raise AssertionError("%r: JOIN %s: names %s, then %r" % (c, chan, names[:5], m.line))

    def irc_barrier(self, c, token, mine):
        """Sends PING token; returns the lines before its PONG for which
        mine(m) is true (others go through self.traffic)."""
        c.send_line("PING :" + token)
        got = []
        while True:
            m = read(c, 30)
            if m.line == ":%s PONG %s :%s" % (S, S, token):
                return got
            if mine(m):
                got.append(bare(m))
            else:
                self.traffic(c, m)

    def irc_quit(self, c, prefix, reason):
        """QUIT: the ERROR line (others' traffic may come first), then
        the end."""
        c.send_line("QUIT :" + reason if reason is not None else "QUIT")
        why = "Quit: " + reason if reason else "Quit"
        want = "ERROR :Closing Link: %s[127.0.0.1] (%s)" % (prefix.split("!")[0], why)
        while True:
            m = read(c)
            if m.command == "ERROR":
                break
            self.traffic(c, m)
        if m.line != want:
            raise AssertionError("%r: got %r, want %r" % (c, m.line, want))
        c.expect_end(timeout=10)
        self.count("irc_quits")

    # -- churn ---------------------------------------------------------------------

    def irc_churn(self, name, idx, seed):
        """IRC connections opened and closed in eight ways: at once, by
        reset, after a NICK (never registered), mid-line; or registered
        (half of them with CAP LS 302 and REQ), in 1-3 rooms text users
        are in (the hop rooms, #lobby), saying a few lines (with
        echo-message each comes back exactly), parting one, then QUIT
        with or without a reason (ERROR line, then the end), or just
        closing or resetting."""
        rnd = random.Random(seed)
        k = 0
        while not self.stop.is_set():
            k += 1
            way = rnd.randrange(8)
            if way < 3:
                self.irc_churn_raw(rnd, way, "ic%d_%d" % (idx, k))
            else:
                self.irc_session(rnd, way, "ic%d_%d" % (idx, k), "ic%d" % idx)
            self.count("irc_churn")
            self.stop.wait(0.01)

    def irc_churn_raw(self, rnd, way, nick):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.settimeout(5)
            s.connect(irc_addr(self.srv)[1:])
            if way == 1:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            elif way == 2:
                s.sendall(rnd.choice([b"NICK %s\r\n" % nick.encode(), b"NICK %s\r\nUSER x 0 * :y\r\nCAP LS" % nick.encode(), b"CAP LS 302\r\nNICK %s\r\nUSER x 0 * :y\r\n" % nick.encode()]))
        finally:
            s.close()

    def irc_session(self, rnd, way, nick, user):
        caps = rnd.random() < 0.5
        c = self.irc()
        try:
            self.irc_register(c, nick, user, caps)
            self.count("irc_sessions")
            prefix = "%s!~%s@127.0.0.1" % (nick, user)
            rooms = rnd.sample(["#" + r for r in self.irc_rooms], rnd.randrange(1, 4))
            for chan in rooms:
                self.irc_join(c, chan, prefix)
            said = []
            for chan in rooms:
                for text in ["%s says %d" % (nick, rnd.randrange(999)), "\x01ACTION waves\x01", "\x02bold\x02 \x0304red"]:
                    cmd = rnd.choice(["PRIVMSG", "PRIVMSG", "NOTICE"])
                    c.send_line("%s %s :%s" % (cmd, chan, text))
                    said.append(":%s %s %s :%s" % (prefix, cmd, chan, text))
            got = self.irc_barrier(c, "said", lambda m: m.nick == nick)
            if got != (said if caps else []):
                raise AssertionError("%r: echoes %r, want %r" % (c, got, said if caps else []))
            c.send_line("PART %s :churned" % rooms[0])
            got = self.irc_barrier(c, "parted", lambda m: m.nick == nick)
            if got != [":%s PART %s :churned" % (prefix, rooms[0])]:
                raise AssertionError("%r: PART: %r" % (c, got))
            if way == 3:
                self.irc_quit(c, prefix, "churn %d" % rnd.randrange(99))
            elif way == 4:
                self.irc_quit(c, prefix, None)
            elif way == 5:
                c.reset()
            elif way == 6:
                c.shut_wr()
                c.drain_to_end(timeout=10)
        finally:
            c.close()

    def irc_unreg(self, name):
        """Connections that never finish registering (NICK only, USER
        only, or CAP LS without END): each must be closed after
        --ping-interval with `ERROR :Closing Link: NICK[127.0.0.1]
        (Registration timed out)` (`*` for no nick)."""
        rnd = random.Random(6000)
        while not self.stop.is_set():
            c = self.irc()
            try:
                nick = "iu%d" % next(self.irc_seq)
                how = rnd.randrange(3)
                c.send_line(["NICK " + nick, "USER iu 0 * :never", "CAP LS 302\r\nNICK " + nick + "\r\nUSER iu 0 * :never"][how])
                if how == 1:
                    nick = "*"
                end = time.monotonic() + PING_INTERVAL + 6
                while not self.stop.is_set():
                    if time.monotonic() > end:
                        raise AssertionError("%r: not closed %d s after it stopped registering" % (c, PING_INTERVAL + 6))
                    try:
                        m = read(c, 0.5)
                    except AssertionError as e:
                        if timed_out(e):
                            continue
                        raise
                    if how == 2 and m.line.startswith(":%s CAP * LS :" % S):
                        continue
                    if m.line != "ERROR :Closing Link: %s[127.0.0.1] (Registration timed out)" % nick:
                        raise AssertionError("%r: got %r" % (c, m.line))
                    c.expect_end(timeout=10)
                    self.count("irc_unreg")
                    break
            finally:
                c.close()

    # -- abuse -------------------------------------------------------------------------

    def irc_abuse(self, name, idx, bad_pieces):
        """In #ircab (with a text and an IRC witness), bursts of hostile
        lines (abuse_unit), each burst followed by a PING barrier: the
        replies before the PONG must be exactly those the model gives,
        in order, and each witness must get exactly the lines the model
        queued for it (no more: nothing that should be hidden)."""
        rnd = random.Random(5000 + idx)
        seq = 0
        while not self.stop.is_set():
            st = Abuser(idx, "ia%d" % idx, rnd.random() < 0.5)
            c = self.irc()
            try:
                self.irc_register(c, st.nick, st.user, st.echo)
                self.irc_join(c, "#ircab", st.prefix())
                for _ in range(rnd.randrange(5, 20)):
                    if self.stop.is_set():
                        break
                    units, want = [], []
                    for _ in range(rnd.randrange(5, 25)):
                        seq += 1
                        kind, unit = abuse_unit(rnd, st, seq, bad_pieces)
                        want += self.model.expect_unit(st, unit)
                        units.append(unit)
                        self.count("irc_ctcp" if kind == "ctcp" else "irc_ab_lines")
                    c.send(b"".join(units))
                    got = self.irc_barrier(c, "ab%d-%d" % (idx, seq), lambda m: m.source == S or m.nick.lower() in st.nicks)
                    if got != want:
                        raise AssertionError("%r: replies differ at %s" % (c, first_difference(got, want)))
                self.irc_quit(c, st.prefix(), "abused")
            finally:
                c.close()

    def irc_limit_setup(self):
        """ilimit joins CHANLIMIT channels (#zl000...), made by it and by
        helpers from LIMIT_SOURCE (10 each: --room-burst), who then quit;
        it stays in all of them all along."""
        h = self.irc_register(self.irc(source=LIMIT_SOURCE), "ilimit", "ilimit")
        prefix = "ilimit!~ilimit@" + LIMIT_SOURCE
        for g in range(0, CHANLIMIT, 10):
            maker = h if g == 0 else self.irc_register(self.irc(source=LIMIT_SOURCE), "izh%d" % g, "izh")
            for room in LIMIT_ROOMS[g : g + 10]:
                self.irc_make(maker, "#" + room, "%s!~%s@%s" % (maker.nick, "ilimit" if maker is h else "izh", LIMIT_SOURCE))
            if maker is not h:
                for room in LIMIT_ROOMS[g : g + 10]:
                    self.irc_join(h, "#" + room, prefix)
                maker.send_line("QUIT")
                maker.drain_to_end(timeout=10)
                maker.close()
        self.limit_client = h
        return h

    def irc_make(self, c, chan, prefix):
        """Creates chan, waiting out the per-address rate of new rooms."""
        for _ in range(20):
            c.send_line("JOIN " + chan)
            m = read(c)
            rate = re.fullmatch(r"too many new channels: try again in (\d+) s", m.params[-1])
            if m.command == "405" and m.params[1] == chan and rate:
                time.sleep(int(rate.group(1)))  # the server's own wait: bounded by the loop
                continue
            if bare(m) != ":%s JOIN %s" % (prefix, chan):
                raise AssertionError("%r: JOIN %s: %r" % (c, chan, m.line))
            while m.command != "366":
                m = read(c)
            return
        raise AssertionError("%r: could not create %s" % (c, chan))

    def irc_join_flood(self, name):
        """ilimit, in CHANLIMIT channels, sends bursts of JOINs of new,
        existing and misnamed channels: each `#` channel gets `405 CHAN
        :You have joined too many channels`, a name without `#` `403`."""
        rnd = random.Random(7000)
        h, k = self.limit_client, 0
        while not self.stop.is_set():
            lines, want = [], []
            for _ in range(rnd.randrange(5, 30)):
                k += 1
                chans = ["#zq%d" % k, rnd.choice(["#hop0", "#lobby", "#ircab", "#flood"]), "nochan%d" % k]
                rnd.shuffle(chans)
                lines.append("JOIN %s%s\r\n" % (",".join(chans), rnd.choice(["", " key"])))
                for ch in chans:
                    if ch.startswith("#"):
                        want.append(num("ilimit", "405", "%s :You have joined too many channels" % ch))
                    else:
                        want.append(num("ilimit", "403", "%s :No such channel" % ch))
            h.send("".join(lines))
            got = self.irc_barrier(h, "jf%d" % k, lambda m: m.source == S)
            if got != want:
                raise AssertionError("%r: replies differ at %s" % (h, first_difference(got, want)))
            self.count("irc_405", sum(1 for w in want if " 405 " in w))
            self.stop.wait(0.05)  # pacing: many JOINs, not a flood of them

    def irc_slow(self, name):
        """Slow IRC readers: join #flood and never read (a PING a second
        keeps them from timing out), until the server cuts them off at
        --sendq-max. #flood's IRC resident must see `QUIT :SendQ
        exceeded`; what the reader's kernel kept is whole lines (the last
        may be cut short by the reset) and, if the best-effort ERROR line
        got through, it is `ERROR :Closing Link: NICK[127.0.0.1] (SendQ
        exceeded)`, last."""
        while not self.stop.is_set():
            nick = "islow%d" % next(self.irc_seq)
            c = self.irc(rcvbuf=4096)
            try:
                self.irc_register(c, nick, "islow")
                c.send_line("JOIN #flood")
                end = time.monotonic() + 20
                reason = None
                while reason is None and time.monotonic() < end and not self.stop.is_set():
                    try:
                        c.send_line("PING :alive")
                    except OSError:
                        pass  # cut off: the resident tells why
                    with self.quit_seen:  # a PING a second until then
                        self.quit_seen.wait_for(lambda: nick in self.irc_quits, 1)
                        reason = self.irc_quits.get(nick)
                if reason is None:
                    self.count("islow_uncut")
                    continue
                if reason != "SendQ exceeded":
                    raise AssertionError("%s quit with %r" % (nick, reason))
                with self.lock:
                    self.islow_cut.append(nick)
                self.count("islow_cut")
                self.check_slow_rest(c, nick)
            finally:
                c.close()

    def check_slow_rest(self, c, nick):
        data, _ = c.raw_drain(timeout=10)
        lines = data.split(b"\r\n")[:-1]
        for i, ln in enumerate(lines):
            m = IrcMsg(ln.decode("utf-8"))
            if m.command == "ERROR":
                want = "ERROR :Closing Link: %s[127.0.0.1] (SendQ exceeded)" % nick
                if m.line != want or i != len(lines) - 1:
                    raise AssertionError("%s: got %r (line %d of %d), want %r last" % (nick, m.line, i + 1, len(lines), want))
                self.count("islow_error")
            elif m.command not in TRAFFIC | {"PONG"} and not m.command.isdigit():
                raise AssertionError("%s: unexpected line %r" % (nick, m.line))

    # -- fixtures ----------------------------------------------------------------------

    def irc_fixture(self, name, c, handle, drained=None, plain=None):
        """Reads c's lines until the run is over and drained() is true;
        handle(m) checks each, but those that fullmatch the regex plain,
        which need no more check than the harness's (the floods, too many
        to parse). A fixture is a witness, not a subject: it says a PING
        of its own every KEEP_TALKING seconds, so that a reader that falls
        seconds behind a busy room on a slow machine (its server PINGs
        queued behind the traffic) is not taken for a silent one. If the
        server drops it all the same, the failure says why."""
        nick = c.nick
        said = time.monotonic()
        try:
            while not (self.final.is_set() and (drained is None or drained())):
                if time.monotonic() - said > KEEP_TALKING:
                    c.send_line("PING :" + KEEP_TOKEN)
                    said = time.monotonic()
                try:
                    ln = c.line(0.5)
                except AssertionError as e:
                    if timed_out(e):
                        continue
                    raise
                m = None if plain and plain.fullmatch(ln) else parse(c, ln)
                if m is not None and not (m.command == "PONG" and m.params[-1] == KEEP_TOKEN):
                    handle(m)
        except OSError as e:
            gone = self.srv.events("disconnect", nick=nick)
            raise AssertionError("%s: %s; the server's log: %s" % (nick, e, gone[-1:] or "no disconnect")) from e

    def start_irc_fixtures(self):
        """The IRC residents (one in #utf8, #lobby and the hop rooms, with
        message-tags; one in #flood), the witnesses of #ircab (one text, one IRC),
        and ilimit in its CHANLIMIT channels. Returns the clients and the
        readers' threads."""
        res = self.irc_register(self.irc(rcvbuf=FIXTURE_RCVBUF), "ires", "ires", caps=True)
        for room in self.irc_rooms + ["utf8"]:
            self.irc_join(res, "#" + room, "ires!~ires@127.0.0.1")
        flood = self.irc_register(self.irc(rcvbuf=FIXTURE_RCVBUF), "iflood", "iflood")
        self.irc_join(flood, "#flood", "iflood!~iflood@127.0.0.1")
        tw = self.welcome(self.client(rcvbuf=FIXTURE_RCVBUF))
        tw.say("/nick " + TEXT_WITNESS)
        tw.read_until("* you are now " + TEXT_WITNESS, timeout=10)
        tw.say("/join ircab")
        tw.send("/topic\n")
        tw.read_until(BARRIER_REPLY, timeout=10)
        iw = self.irc_register(self.irc(rcvbuf=FIXTURE_RCVBUF), IRC_WITNESS, IRC_WITNESS)
        self.irc_join(iw, "#ircab", "%s!~%s@127.0.0.1" % (IRC_WITNESS, IRC_WITNESS))
        h = self.irc_limit_setup()
        ths = [
            self.actor("irc-resident", self.irc_fixture, res, self.resident_watch, self.resident_drained),
            self.actor("irc-resident-flood", self.irc_fixture, flood, self.resident_watch, self.resident_drained, FLOOD_LINE),
            self.actor("text-witness-ircab", self.fixture, tw, self.ab_text_watch, self.model.drained),
            self.actor("irc-witness-ircab", self.irc_fixture, iw, self.ab_irc_watch, self.model.drained),
        ]
        return [res, flood, tw, iw, h], ths

    def resident_watch(self, m):
        """The IRC resident: others' traffic only; #utf8's messages (split
        in parts of at most 510 bytes, `msgid` ID, ID.1, ...) must join up
        into exactly the next line its sender's text was to become; notes
        the QUITs (for the slow readers) and who arrives in #lobby."""
        if m.source == S:
            raise AssertionError("IRC resident: unexpected line %r" % m.line)
        self.traffic("ires", m)
        if m.command == "QUIT":
            with self.quit_seen:
                self.irc_quits[m.nick] = m.params[0]
                self.quit_seen.notify_all()
        if m.command == "JOIN" and m.params[0] == "#lobby":
            u = re.fullmatch(r"user(\d+)", m.nick)
            if u:
                with self.lock:
                    self.lobby_joined.add(int(u.group(1)))
        if m.command == "PRIVMSG" and m.params[0] == "#utf8":
            self.u8_irc_part(m)

    def u8_irc_part(self, m):
        base, _, part = m.tags.get("msgid", "").partition(".")
        cur = self.u8_part
        if part:
            if cur is None or (cur[0], cur[1], cur[3]) != (m.nick, base, int(part)):
                raise AssertionError("IRC resident: part %r of no message being split (%r)" % (m.line[:80], cur and cur[:2]))
            text = cur[2] + m.params[1]
        else:
            if cur is not None:
                raise AssertionError("IRC resident: message %s from %s cut short: %r" % (cur[1], cur[0], cur[2][-40:]))
            text = m.params[1]
        with self.lock:
            q = self.u8_irc_expect.get(m.nick)
            want = q[0] if q else ""
        if len(bare(m).encode()) - len(m.source.encode()) - 2 > BODY_MAX + 1:
            raise AssertionError("IRC resident: a part longer than a client could send: %r" % m.line[:80])
        if not want.startswith(text):
            raise AssertionError("IRC resident: from %s got %r..., want %r..." % (m.nick, text[:60], want[:60]))
        if text == want:
            with self.lock:
                q.popleft()
            self.u8_part = None
            self.count("u8_irc_seen")
        else:
            self.u8_part = (m.nick, base, text, int(part or 0) + 1)

    def resident_drained(self):
        with self.lock:
            return self.u8_part is None and all(not q for q in self.u8_irc_expect.values()) and all(n in self.irc_quits for n in self.islow_cut)

    def ab_text_watch(self, ln):
        """#ircab's text witness: each message from an abuser must be the
        next one the model queued; notices pass."""
        m = re.match(r"\[(?:\* )?ia(\d+)", ln)
        if m:
            self.model.pop("text", int(m.group(1)), ln)
            self.count("irc_ab_seen")
        elif not re.fullmatch(r"\* \S+ (joined #ircab|left #ircab|quit.*|is now \S+)", ln):
            raise AssertionError("text witness of #ircab: unexpected line %r" % ln)

    def ab_irc_watch(self, m):
        """#ircab's IRC witness: the same, byte for byte."""
        self.traffic("iabwit", m)
        mm = re.match(r"ia(\d+)", m.nick)
        if m.command in ("PRIVMSG", "NOTICE") and mm:
            self.model.pop("irc", int(mm.group(1)), bare(m))
        elif m.command not in ("JOIN", "PART", "QUIT", "NICK"):
            raise AssertionError("IRC witness of #ircab: unexpected line %r" % m.line)

    def irc_abusers(self, prefix, n, bad_pieces):
        """Starts the IRC abuse actors; returns their threads."""
        ths = [self.actor("%siabuse%d" % (prefix, i), self.irc_abuse, i, bad_pieces) for i in range(n)]
        ths += [self.actor(prefix + "ijoinflood", self.irc_join_flood), self.actor(prefix + "islow", self.irc_slow)]
        return ths + [self.actor(prefix + "iunreg", self.irc_unreg)]

    def check_irc(self):
        """What the IRC actors show together, once they have stopped."""
        self.stats["irc_417"] = self.model.counts["417"]
        self.stats["irc_warn"] = self.model.counts["warn"]
        self.stats["irc_407"] = self.model.counts["407"]
        self.stats["irc_nicks"] = self.model.counts["nicks"]
        for key in ["irc_churn", "irc_sessions", "irc_quits", "irc_unreg", "irc_417", "irc_warn", "irc_407", "irc_405", "irc_nicks", "irc_ctcp", "irc_ab_seen", "islow_cut", "u8_irc_seen"]:
            if self.stats[key] == 0:
                self.fail(key, "%s is 0: that did not happen (the run is too short?)" % key)


def first_difference(got, want):
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            return "line %d: got %r, want %r" % (i, g[:300], w[:300])
    return "length: got %d lines, want %d; extra %r" % (len(got), len(want), (got[len(want) :] or want[len(got) :])[:3])
