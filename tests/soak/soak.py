#!/usr/bin/python3
"""
A bounded soak of parleyd: churn, floods, slow readers, room hopping, nick
changes and private messages, and the abuse one client can try (room
churn, invalid UTF-8, /rooms spam, vanishing peers, telnet ^C, input left
behind, HTTP and TLS probes), over the text protocol and over IRC, all at
once, against one server process with a text and an IRC listener.

    /usr/bin/python3 tests/soak/soak.py --parleyd build/parleyd --seconds 30

What runs (each actor is a thread, a fixed number of each, that loops until
the end of the run; every wait is bounded):
- churn: connections opened and closed in six ways (close at once, reset,
  partial line, read the welcome, /quit with a reason, /nick then quit);
- floods: clients that join #flood, post 300 lines of 1000 bytes in one
  packet (paced by flood control), read what others post, and /quit;
- slow readers: clients that join #flood and never read, until the server
  cuts them off (reason=sendq), then the next one;
- hoppers: clients that /join between five rooms, post, change nick, ask
  /who, /rooms and set topics, and now and then quit and come back;
- steady: two talkers (text "talker", IRC "italker") and four listeners
  (three text, IRC "ilistener") in #steady that stay connected all along,
  plus a sender of private messages ("pm") to the listeners: every message
  must arrive, in order, in each listener's protocol (IRC listeners get
  `:talker!~text@127.0.0.1 PRIVMSG #steady :steady N`, text ones
  `[italker]: isteady N`), and each talker gets all of the other's (the
  loss check);
- IRC churn (soak_irc.py): IRC connections closed at once, reset, left
  after a NICK or mid-line, or registered (half of them with CAP LS 302,
  REQ server-time message-tags echo-message, END; the welcome checked
  numeric by numeric), in 1-3 of the rooms text users are in, talking
  (with echo-message their lines come back exactly), parting one, then
  QUIT (`ERROR :Closing Link: NICK[127.0.0.1] (Quit: R)`, then the end),
  a close or a reset; and connections that never finish registering,
  closed after --ping-interval with `(Registration timed out)`.
The abuse (see each method for what it checks):
- room churn (2, from 127.0.0.2 and .3): clients that create rooms with one
  line each until refused, so rooms without members but with history pile
  up far past --max-rooms and --history-mem.  A /join of a new room gets
  `* you joined #R (1 person here)` or `! too many new rooms: try again in
  N s`, never `! too many rooms`; rooms made long ago are found freed, and
  /rooms never counts more than --max-rooms;
- invalid UTF-8 (2): bursts of lines of invalid bytes (lone continuation
  bytes, overlong forms, surrogates, cut-short sequences), bidi controls,
  line separators and C0/C1 controls, near and just over --max-line.  The
  replies must be exactly those docs/protocol.md gives (none, `! line too
  long ...` or `! line too long once invalid UTF-8 is replaced ...`), and
  the witness in #utf8 must receive each accepted line exactly as the
  cleaning rules make it;
- /rooms spam (1): a member of #big (BIG_MEMBERS idle members) that sends
  /rooms, /rooms hop, /who big and /who in bursts and checks every reply
  (sorted, counts right, the held rooms there, /who names exactly the
  members);
- ghosts (2): clients that vanish without FIN or RST (a socket closed in
  TCP_REPAIR mode; needs root); with --keepalive 1 each must be dropped
  within 15 s, and its nick is then free for the next ghost;
- telnet (1): what telnet sends on ^C and inside some UTF-8 characters
  (IAC IP or IAC BRK, then IAC DO TIMING-MARK), then /who: every timing
  mark must be answered with IAC WILL TIMING-MARK and the /who reply must
  come; the mangled characters arrive as U+FFFD;
- paused close (1): a client that queues 800 lines (4 s of flood budget)
  and sends its FIN while flood-paused: the server must drop the rest
  (event=input-dropped) and close within 4 s;
- probes (1): connections that speak HTTP or TLS first: they get no byte,
  are logged as closed for http/tls before they were ever greeted
  (nick=-), and the watcher in #lobby never sees them arrive;
- IRC abuse (2, soak_irc.py): in #ircab, beside a text and an IRC witness,
  bursts of tag blocks around 8191 bytes, lines around 512 bytes, lines
  past 8 KB, NUL, ESC, CR and formatting codes inside parameters, invalid
  UTF-8, PRIVMSG and NOTICE to 5-7 targets, nick floods (valid, taken,
  invalid, reserved), CTCP and commands missing parameters; after each
  burst a PING: the replies before its PONG must be exactly those
  docs/irc.md gives (417, WARN INVALID_UTF8, 401, 403, 404, 407, 411,
  412, 421, 431-433, 461, 462, PONG, NICK, echoes), in order, and each
  witness must get exactly each message as docs/irc.md makes it (the
  text one with formatting removed and no CTCP but ACTION);
- JOIN flood (1): ilimit, in CHANLIMIT (100) channels all along, sends
  bursts of JOINs: `405 #C :You have joined too many channels` for each
  channel, `403` for a name without `#`;
- slow IRC readers (1): join #flood and never read until cut off at
  --sendq-max: #flood's IRC resident sees `QUIT :SendQ exceeded`; what
  reached the reader is whole lines and, if the (best-effort) ERROR line
  got through, `ERROR :Closing Link: NICK[127.0.0.1] (SendQ exceeded)`
  last.
Residents stay in #flood, #utf8 and the hop rooms all along, so those rooms
are never freed; they and the watcher read every line (the harness checks
each: CRLF, UTF-8, no control, bidi or separator characters; on IRC lines,
no control but IRC's formatting codes).  IRC residents (with message-tags
in #utf8, #lobby and the hop rooms; one in #flood) check that every line
is someone's traffic, that each line of #utf8 comes to IRC as parts of at
most 510 bytes (msgid ID, ID.1, ...) that join up into exactly what the
text witness gets, and note the QUITs of the slow IRC readers.

The server's RSS (VmRSS) is sampled after a warm-up (the fixtures and the
steady group connected, every room's history filled to its steady size,
every actor run once, IRC ones too, the room table filled by room churn),
every second during the run, and after everyone has left and the server
holds no connection (every ghost dropped).  The run fails if the server
crashed or exited non-zero on SIGTERM, printed a sanitizer report, a
steady client lost or reordered a message, any actor saw a protocol error
or a reply other than the one docs/protocol.md or docs/irc.md gives, a
kind of abuse never happened, or the RSS after is above the start by more
than the margin (see RSS_MARGIN_*).  It ends with `N passed, M failed`
(the soak counts as one test).
"""

import argparse
import collections
import itertools
import os
import random
import re
import socket
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import harness  # noqa: E402
from harness import BARRIER_REPLY, Ended  # noqa: E402
from irc import SERVER_NAME, IrcClient  # noqa: E402
from soak_irc import FIXTURE_RCVBUF, PING_INTERVAL, IrcActors, bare, read, timed_out  # noqa: E402

# RSS margin.  The RSS after the run may exceed the start by at most
# max(RSS_MARGIN_KIB, RSS_MARGIN_FRACTION * start).  Why not zero: glibc's
# malloc keeps some freed memory (its mmap threshold adapts upwards after
# large frees, so later big output queues come from the heap, and a heap
# with a live block near its top cannot be trimmed), and tables that grow
# with the peak number of connections (the connection array, hash buckets)
# are not shrunk.  That slack is bounded and does not grow with the length
# of the run; a leak of per-connection or per-message state does: the churn
# alone makes tens of thousands of connections in a few minutes, so 50
# bytes leaked per connection or a buffer kept per cut-off client shows up
# past 2 MiB.  Valgrind (tests/soak/valgrind.sh) checks for exact leaks.
RSS_MARGIN_KIB = 2048
RSS_MARGIN_FRACTION = 0.20
# Sanitizer builds: ASan keeps freed memory in a quarantine (capped here
# with ASAN_OPTIONS quarantine_size_mb), plus shadow and allocator caches,
# and returns memory to the system lazily, so their RSS after is allowed
# 1.5 x the quarantine more (measured: +8.2 MiB over a 30 s run with 8 MiB).
# There, the exact leak check is LeakSanitizer at exit: the server runs
# with detect_leaks=1 and any sanitizer report fails the soak.
ASAN_QUARANTINE_MB = 8
# --db: SQLite's page caches (the writer's 16 MiB, the reads' 2 MiB) fill
# as history is written, so the RSS after is allowed that much more.
DB_CACHE_KIB = 18 * 1024

FLOOD_LINES = 300
FLOOD_PAD = "f" * 990
HOP_ROOMS = ["hop%d" % i for i in range(5)]

# The soak server's room limits.  Room churn makes far more rooms than
# MAX_ROOMS, each with one line of history (each client's lines short, or
# 2-4 KB), and the rooms the other actors use hold about 500 KB of history
# (#utf8 alone up to 100 lines near 4 KB), so rooms without members are
# freed both for room count (while lines are short) and for history memory
# (while they are long): /rooms counts between about 240 and MAX_ROOMS.
# Room churn runs from its own loopback addresses (127.0.0.2, .3), whose
# per-address creation rate it reaches; the other actors, on 127.0.0.1,
# stay far below it.
MAX_ROOMS = 300  # ilimit (soak_irc.py) holds 100 of them all along
HISTORY_MEM = 768 * 1024
ROOM_BURST_PER_IP = 60
ROOM_RATE_PER_IP = 1200  # a minute: 20 a second
KEEPALIVE = 1  # a silent peer is probed after 1 s and dropped within ~7 s
MAX_LINE = 4096  # the default --max-line
BIG_MEMBERS = 200  # idle members of #big, the room /who is asked about
# Rooms that somebody is in all along (a resident or a fixture), so they
# are never freed and joining them is never limited.
HELD_ROOMS = ["flood", "utf8", "big"] + HOP_ROOMS

TCP_REPAIR = 19  # linux/tcp.h: a closed socket in repair mode sends nothing
IAC_IP_DO_TM = b"\xff\xf4\xff\xfd\x06"  # what telnet sends on ^C
WILL_TM = b"\xff\xfb\x06"  # the answer telnet waits for
# What telnet sends for "✓" (e2 9c 93): 0x9c looks like ^\ to it, so it
# becomes IAC BRK IAC DO TIMING-MARK; and for "у" (d1 83): 0x83 is ^C.
TELNET_CHECK = b"\xe2\xff\xf3\xff\xfd\x06\x93"
TELNET_U = b"\xd1" + IAC_IP_DO_TM
HTTP_PROBES = [
    b"GET / HTTP/1.1\r\nHost: soak\r\nUser-Agent: probe\r\n\r\n",
    b"HEAD /robots.txt HTTP/1.0\r\n\r\n",
    b"POST /login HTTP/1.1\r\nHost: soak\r\nContent-Length: 3\r\n\r\na=b",
    b"OPTIONS * HTTP/1.1\r\nHost: soak\r\n\r\n",
]


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    return 0


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def is_asan(path):
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


# -- invalid UTF-8 ---------------------------------------------------------------

# Pieces of the hostile lines: invalid bytes of every kind (no 0xff, which
# is telnet's IAC), bidi controls, line separators, C0 and C1 controls,
# and valid text around them.
U8_BAD = [
    lambda r: bytes([r.randrange(0x80, 0xff)]),  # any high byte
    lambda r: bytes([r.randrange(0x80, 0xc0)]) * r.randrange(1, 5),  # lone continuation bytes
    lambda r: r.choice([b"\xc0\xaf", b"\xc1\xbf", b"\xe0\x80\xaf", b"\xe0\x9f\xbf", b"\xf0\x80\x80\xaf", b"\xf0\x8f\xbf\xbf", b"\xc0\x80"]),  # overlong
    lambda r: r.choice([b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80", b"\xfc\x84\x80\x80\x80\x80"]),  # surrogates, past U+10FFFF, 5 and 6 bytes
    lambda r: r.choice([b"\xe2\x82", b"\xf0\x9f\x98", b"\xc3", b"\xe2"]),  # cut short
]
U8_ODD = [
    lambda r: r.choice(["\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u202a", "\u202d", "\u206f"]).encode(),  # bidi
    lambda r: r.choice(["\u2028", "\u2029"]).encode(),  # line and paragraph separators
    lambda r: r.choice(["\u0085", "\u009b[2J", "\x1b[31m", "\x07", "\x7f", "\t", "\x1b]0;x\x07"]).encode(),  # C0, C1
    lambda r: r.choice(["✓", "本", "日本語", "всему миру", "🏽", "é", "\ufeff", "\u200f", "\u200d"]).encode(),  # valid
    lambda r: ("w%d " % r.randrange(10000)).encode(),
]
_U8_DROPPED = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u206f]")


def u8_line(rnd, tag):
    """A hostile line (bytes, no line end) that starts with tag: mostly
    invalid UTF-8, or mostly characters that cleaning removes, or both; of
    a length near MAX_LINE (just under, at, just over) or short."""
    target = rnd.choice([MAX_LINE - 2, MAX_LINE - 1, MAX_LINE, MAX_LINE, MAX_LINE + 1, MAX_LINE + 2, rnd.randrange(20, 400)])
    bad_share = rnd.choice([0.9, 0.0, 0.5])  # invalid bytes, odd characters, both
    out = bytearray(tag)
    while len(out) < target:
        out += rnd.choice(U8_BAD if rnd.random() < bad_share else U8_ODD)(rnd)
    return bytes(out[:target])


def u8_fate(raw):
    """What docs/protocol.md says becomes of the line raw: ("long", None)
    (over --max-line as it arrives), ("grown", None) (over it once
    cleaned), ("empty", None) or ("ok", the text others see)."""
    if len(raw) > MAX_LINE:
        return "long", None
    # Python replaces each maximal invalid subpart by one U+FFFD, as the
    # server does; then controls and bidi controls go, separators become
    # spaces and trailing blanks are trimmed.
    text = raw.decode("utf-8", "replace")
    text = _U8_DROPPED.sub("", text.replace("\u2028", " ").replace("\u2029", " ")).rstrip(" \t")
    if not text:
        return "empty", None
    if len(text.encode("utf-8")) > MAX_LINE:
        return "grown", None
    return "ok", text


U8_REPLY = {
    "long": "! line too long (max %d bytes)" % MAX_LINE,
    "grown": "! line too long once invalid UTF-8 is replaced (max %d bytes)" % MAX_LINE,
}


def read_telnet_answer(c, want, timeout=10):
    """Takes the raw telnet answer want out of c's input: it must come
    between whole lines, which are left for c.line() to read and check."""
    end = time.monotonic() + timeout
    while True:
        i = c.buf.find(want)
        if i >= 0:
            head = c.buf[:i]
            if (head and not head.endswith(b"\r\n")) or b"\xff" in head:
                raise AssertionError("%r: telnet answer %r not between lines: %r" % (c, want, c.buf[: i + 40]))
            c.buf = head + c.buf[i + len(want) :]
            return
        if b"\xff" in c.buf[:-2]:
            raise AssertionError("%r: unexpected telnet bytes, want %r: %r" % (c, want, c.buf[-80:]))
        left = end - time.monotonic()
        if left <= 0:
            raise AssertionError("%r: no telnet answer %r within %.0fs; got %r" % (c, want, timeout, c.buf[-80:]))
        try:
            c._fill(left)
        except AssertionError as e:
            if "timeout" not in str(e):
                raise


def read_raw_to_end(s, timeout):
    """Reads a raw socket until the server closes it; returns (bytes,
    'eof' or 'reset')."""
    data = b""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            raise AssertionError("connection not closed within %.0fs (%d bytes read)" % (timeout, len(data)))
        s.settimeout(left)
        try:
            got = s.recv(65536)
        except ConnectionResetError:
            return data, "reset"
        except socket.timeout:
            continue
        if not got:
            return data, "eof"
        data += got


class Streams:
    """The numbered streams one member of #steady must receive whole and
    in order: name -> regex whose group 1 is the number or END."""

    def __init__(self, rx):
        self.rx = rx
        self.next = {k: 0 for k in rx}
        self.ended = set()

    def feed(self, ln):
        """Takes one line; False if it is in no stream."""
        for k, rx in self.rx.items():
            m = rx.fullmatch(ln)
            if not m:
                continue
            if k in self.ended:
                raise AssertionError("%r after its END" % ln)
            if m.group(1) == "END":
                self.ended.add(k)
            elif int(m.group(1)) != self.next[k]:
                raise AssertionError("expected %s %d, got %r (lost or reordered)" % (k, self.next[k], ln))
            else:
                self.next[k] += 1
            return True
        return False

    def done(self):
        return len(self.ended) == len(self.rx)


# What the members of #steady see of the talkers and the sender of private
# messages: "t" (the text talker), "i" (the IRC talker), "p" (private).
STEADY_TEXT = {"t": r"\[talker\]: steady (\d{7}|END)", "i": r"\[italker\]: isteady (\d{7}|END)", "p": r"\[pm -> %s\]: pm (\d{7}|END)"}
STEADY_IRC = {
    "t": r":talker!~text@127\.0\.0\.1 PRIVMSG #steady :steady (\d{7}|END)",
    "i": r":italker!~italker@127\.0\.0\.1 PRIVMSG #steady :isteady (\d{7}|END)",
    "p": r":pm!~text@127\.0\.0\.1 PRIVMSG %s :pm (\d{7}|END)",
}


class Soak(IrcActors):
    def __init__(self, parleyd, seconds, seed, db=None):
        self.parleyd = os.path.abspath(parleyd)
        self.seconds = seconds
        self.db = db
        self.rnd = random.Random(seed)
        self.stop = threading.Event()
        self.errors = []
        self.lock = threading.Lock()
        self.stats = {
            "churn": 0,
            "floods": 0,
            "flood_lines": 0,
            "slow_cut": 0,
            "slow_uncut": 0,
            "hops": 0,
            "nicks": 0,
            "hopper_quits": 0,
            "pms": 0,
            "steady": 0,
            "rooms_made": 0,
            "rooms_refused": 0,
            "rooms_kept": 0,
            "rooms_freed": 0,
            "u8_lines": 0,
            "u8_long": 0,
            "u8_grown": 0,
            "u8_ok": 0,
            "u8_seen": 0,
            "rooms_calls": 0,
            "who_calls": 0,
            "ghosts": 0,
            "telnet": 0,
            "paused_dropped": 0,
            "probes": 0,
        }
        self.rss = {}
        self.asan = is_asan(self.parleyd)
        self.sent = {}  # stream ("t", "i", "p") -> messages sent, at the end
        self.irc_rooms = HOP_ROOMS + ["lobby"]  # where IRC churn talks
        self.irc_init()
        # Set once every actor has stopped: the fixtures (residents, the
        # witness of #utf8, the lobby watcher) read until then.
        self.final = threading.Event()
        self.most_rooms = 0  # the most rooms /rooms ever counted
        self.fewest_rooms = None  # the fewest after the warm-up
        self.ghost_ids = []
        self.probe_ids = []
        self.lobby_joined = set()  # ids the lobby watcher saw arrive
        self.u8_expect = {}  # nick -> deque of texts #utf8 must get from it
        self.big_nicks = set()
        self.room_seq = itertools.count()  # room churn's names are never reused
        self.worst = {"ghost_s": 0.0, "paused_s": 0.0}  # slowest drops seen
        self.ghost_reasons = collections.Counter()

    # -- bookkeeping ----------------------------------------------------------

    def count(self, key, n=1):
        with self.lock:
            self.stats[key] += n

    def fail(self, who, msg):
        with self.lock:
            if len(self.errors) < 50:
                self.errors.append("%s: %s" % (who, msg))
        self.stop.set()

    def actor(self, name, fn, *args):
        """Runs fn in a thread; any exception is a failure of the soak."""

        def body():
            try:
                fn(name, *args)
            except Exception as e:  # noqa: BLE001
                if not (self.stop.is_set() and isinstance(e, (Ended, OSError))):
                    self.fail(name, "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc(limit=4)))

        th = threading.Thread(target=body, name=name, daemon=True)
        th.start()
        return th

    def client(self, rcvbuf=None, source=None):
        """A harness client (line checks: CRLF, UTF-8, no controls) that
        the soak closes itself."""
        return harness.Client(self.ctx, self.srv.addr, rcvbuf=rcvbuf, source=source)

    def welcome(self, c):
        c.welcome()
        return c

    def renamed(self, c, nick):
        """c, welcomed and renamed nick."""
        c.welcome()
        c.say("/nick " + nick)
        c.read_until("* you are now " + nick, timeout=10)
        c.nick = nick
        return c

    # -- actors -----------------------------------------------------------------

    def churn(self, name, seed):
        rnd = random.Random(seed)
        while not self.stop.is_set():
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.settimeout(5)
                s.connect(self.srv.addr[1:])
                way = rnd.randrange(6)
                if way == 1:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                elif way == 2:
                    s.sendall(b"a partial li")
                elif way == 3:
                    s.recv(200)
                elif way == 4:
                    s.sendall(b"/quit churn\n")
                    self._read_to_eof(s)
                elif way == 5:
                    s.sendall(b"/nick churner%d\n/quit\n" % rnd.randrange(1000))
                    self._read_to_eof(s)
            finally:
                s.close()
            self.count("churn")
            self.stop.wait(0.01)

    def _read_to_eof(self, s):
        end = time.monotonic() + 5
        while time.monotonic() < end:
            try:
                if not s.recv(65536):
                    return
            except (socket.timeout, ConnectionResetError):
                return

    def flood(self, name, seed):
        k = 0
        while not self.stop.is_set():
            c = self.welcome(self.client())
            try:
                c.say("/join flood")
                c.read_until(re.compile(r"\* you joined #flood \(\d+ (?:people|person) here\)"), timeout=10)
                c.send("".join("%s %d %04d %s\n" % (name, k, i, FLOOD_PAD) for i in range(FLOOD_LINES)))
                c.say("/quit flooded")
                c.read_until("* bye", timeout=30, limit=10**6)
                c.expect_end(timeout=5, allow_reset=True)
            finally:
                c.close()
            k += 1
            self.count("floods")
            self.count("flood_lines", FLOOD_LINES)

    def slow(self, name):
        while not self.stop.is_set():
            c = self.welcome(self.client(rcvbuf=4096))
            try:
                c.say("/join flood")
                end = time.monotonic() + 20
                cut = False
                while time.monotonic() < end and not self.stop.is_set():
                    if self.srv.events("disconnect", id=c.id, reason="sendq"):
                        cut = True
                        break
                    self.stop.wait(0.1)  # polling the server log; bounded above
                self.count("slow_cut" if cut else "slow_uncut")
            finally:
                c.close()

    def hopper(self, name, idx, seed):
        rnd = random.Random(seed)
        j = 0
        while not self.stop.is_set():
            c = self.welcome(self.client())
            try:
                for _ in range(rnd.randrange(5, 30)):
                    if self.stop.is_set():
                        break
                    j += 1
                    room = rnd.choice(HOP_ROOMS)
                    c.say("/join " + room)
                    ln = c.read_until(re.compile(r"\* you joined #%s \(\d+ (?:people|person) here\)|! you are already in #%s" % (room, room)), timeout=10)[-1]
                    if ln.startswith("* you joined"):
                        self.count("hops")
                    c.say("%s says %d %s" % (name, j, "h" * rnd.randrange(1, 200)))
                    nick = "%s_%d" % (name, j % 40)
                    c.say("/nick " + nick)
                    ln = c.read_until(re.compile(r"\* you are now %s|! nick \"%s\" is taken|! you are already %s" % (nick, nick, nick)), timeout=10)[-1]
                    if ln.startswith("* you are now"):
                        c.nick = nick
                        self.count("nicks")
                    if rnd.random() < 0.2:
                        c.say("/topic hopping by %s" % c.nick)
                        c.read_until(re.compile(r"\* %s set the topic of #%s: hopping by %s" % (re.escape(c.nick), room, re.escape(c.nick))), timeout=10)
                    c.say("/who")
                    c.say("/rooms")
                    c.say("/msg nobody-here hi")
                    c.read_until("! no such nick: nobody-here", timeout=10)
                    c.send("/topic\n")
                    c.read_until(BARRIER_REPLY, timeout=10)
                c.say("/quit hop over")
                c.read_until("* bye", timeout=10, limit=10**6)
                self.count("hopper_quits")
            finally:
                c.close()

    def streams(self, c, keys):
        """The streams of #steady c must receive (a Streams)."""
        table = STEADY_IRC if isinstance(c, IrcClient) else STEADY_TEXT
        return Streams({k: re.compile(table[k] % re.escape(c.nick) if k == "p" else table[k]) for k in keys})

    def steady_read(self, c, st, end):
        """Feeds c's lines to st until st.done() or the time end; any line
        in none of its streams is an error."""
        while not st.done():
            left = end - time.monotonic()
            if left <= 0:
                return
            try:
                ln = bare(read(c, left)) if isinstance(c, IrcClient) else c.line(left)
            except AssertionError as e:
                if timed_out(e):
                    continue
                raise
            if not st.feed(ln):
                raise AssertionError("%r: unexpected line %r" % (c, ln))

    def talker(self, name, c, key, fmt, st):
        """Posts numbered messages (fmt) to #steady at a moderate pace,
        reading between posts what the other talker posts (st)."""
        seq = 0
        while not self.stop.is_set():
            c.send("".join(fmt % ("%07d" % (seq + i)) for i in range(5)))
            seq += 5
            self.count("steady" if key == "t" else "isteady", 5)
            self.steady_read(c, st, time.monotonic() + 0.05)  # the pace
        self.sent[key] = seq
        c.send(fmt % "END")
        self.listener(name, c, st)

    def pm_sender(self, name, c, listeners):
        seq = 0
        while not self.stop.is_set():
            for lst in listeners:
                c.say("/msg %s pm %07d" % (lst.nick, seq))
            # Each /msg is shown to its sender: read up to the last one
            # (lobby notices come in between), so the queue stays short.
            c.read_until("[%s -> %s]: pm %07d" % (c.nick, listeners[-1].nick, seq), timeout=10, limit=10**6)
            seq += 1
            self.count("pms", len(listeners))
            self.stop.wait(0.05)
        self.sent["p"] = seq
        for lst in listeners:
            c.say("/msg %s pm END" % lst.nick)

    def listener(self, name, c, st):
        """Reads everything until every stream of st has ended: each must
        come complete and in order; nothing else may come."""
        self.steady_read(c, st, time.monotonic() + self.seconds + 60)
        if not st.done():
            raise AssertionError("did not get the end markers of %s" % sorted(set(st.rx) - st.ended))
        self.listened[name] = dict(st.next)

    # -- abusive actors ------------------------------------------------------------

    def reply(self, c, line, *starts):
        """Sends line; returns the first line then received that starts
        with one of starts (notices before it are skipped)."""
        c.say(line)
        return c.read_until(lambda ln: ln.startswith(starts), timeout=10)[-1]

    def join_alone(self, c, room):
        """Joins room, in which nobody else may be (it may have history)."""
        ln = self.reply(c, "/join " + room, "* you joined #", "! ")
        if ln != "* you joined #%s (1 person here)" % room:
            raise AssertionError("%r: /join %s: got %r" % (c, room, ln))

    def room_churn(self, name, idx):
        """Creates rooms with one line each (so they stay, without
        members, as a cache), as many as it may, from its own address;
        then asks /who about the first room it made and about one made
        15 s ago or more (kept: `* #R is empty`, or freed: `! no such
        room: #R`), and quits.  Only `* you joined #R (1 person here)`
        (and no history) or `! too many new rooms: try again in N s` may
        answer a /join of a new room: rooms left behind never keep anyone
        from creating one (`! too many rooms`)."""
        rnd = random.Random(1000 + idx)
        src = "127.0.0.%d" % (2 + idx)
        made = collections.deque()  # (time, room) of rooms made, oldest first
        while not self.stop.is_set():
            c = self.welcome(self.client(source=src))
            try:
                big = rnd.random() < 0.5  # lines of up to 4 KB, or short ones
                first = True
                n = 0  # rooms made by this client
                while not self.stop.is_set():
                    room = "r%d_%d" % (idx, next(self.room_seq))
                    c.say("/join " + room)
                    got = c.read_until(lambda ln: ln.startswith(("* you joined #", "! ")), timeout=10)
                    # After the lobby, nobody talks to this client.
                    if not first and len(got) > 1:
                        raise AssertionError("%r: unexpected lines %r" % (c, got[:-1]))
                    first = False
                    ln = got[-1]
                    if re.fullmatch(r"! too many new rooms: try again in [1-9]\d* s", ln):
                        self.count("rooms_refused")
                        break
                    if ln != "* you joined #%s (1 person here)" % room:
                        raise AssertionError("%r: /join %s: got %r" % (c, room, ln))
                    c.say("%s %s" % (room, "r" * (rnd.randrange(2000, 4000) if big else rnd.randrange(1, 60))))
                    made.append((time.monotonic(), room))
                    n += 1
                    self.count("rooms_made")
                # The first room this client made (just now) and one made
                # 15 s ago or more: each kept (with its line) or freed.
                asked = [made[-n][1]] if n >= 2 else []  # it is in the last one
                if made and made[0][0] < time.monotonic() - 15:
                    asked.append(made.popleft()[1])
                    while made and made[0][0] < time.monotonic() - 15:
                        made.popleft()
                for old in asked:
                    ln = self.reply(c, "/who " + old, "* #", "! ")
                    if ln == "* #%s is empty" % old:
                        self.count("rooms_kept")
                    elif ln == "! no such room: #%s" % old:
                        self.count("rooms_freed")
                    else:
                        raise AssertionError("%r: /who %s: got %r" % (c, old, ln))
                c.say("/quit")
                c.read_until("* bye", timeout=10)
            finally:
                c.close()

    def u8_flood(self, name, idx):
        """Posts bursts of hostile lines (u8_line) to #utf8, each burst
        followed by a /topic barrier: the replies before the barrier must
        be exactly those u8_fate predicts, in order; what the line becomes
        is queued for the witness, who must receive exactly that."""
        rnd = random.Random(2000 + idx)
        seq = 0
        while not self.stop.is_set():
            c = self.welcome(self.client())
            try:
                queue, iqueue = collections.deque(), collections.deque()
                with self.lock:
                    self.u8_expect[c.nick] = queue
                    self.u8_irc_expect[c.nick] = iqueue
                c.say("/join utf8")
                c.send("/topic\n")
                c.read_until(BARRIER_REPLY, timeout=10)
                for _ in range(rnd.randrange(5, 20)):
                    if self.stop.is_set():
                        break
                    lines, replies = [], []
                    for _ in range(rnd.randrange(5, 25)):
                        raw = u8_line(rnd, b"u8 %d-%06d " % (idx, seq))
                        seq += 1
                        fate, text = u8_fate(raw)
                        self.count("u8_" + fate)
                        if fate == "ok":
                            with self.lock:
                                queue.append(text)
                                iqueue.append(text)
                        elif fate in U8_REPLY:
                            replies.append(U8_REPLY[fate])
                        lines.append(raw + b"\n")
                    self.count("u8_lines", len(lines))
                    c.send(b"".join(lines) + b"/topic\n")
                    # Others' messages and notices from #utf8 may come in
                    # between; every "! " line is a reply to this client.
                    got = [ln for ln in c.read_until(BARRIER_REPLY, timeout=30, limit=10**6)[:-1] if ln.startswith("! ")]
                    if got != replies:
                        raise AssertionError("%r: replies %r, want %r" % (c, got, replies))
                c.say("/quit")
                c.read_until("* bye", timeout=10, limit=10**6)
            finally:
                c.close()

    def rooms_spam(self, name):
        """Sits in #big and sends /rooms (and /rooms hop, /who big, /who) in
        bursts of 22 lines, each call followed by a /topic barrier, and
        checks every reply: /rooms is sorted, counts right, never counts
        more than MAX_ROOMS rooms and lists the held rooms; /who big names
        exactly the members of #big."""
        while not self.stop.is_set():
            c = self.welcome(self.client())
            try:
                c.say("/join big")
                c.read_until("* you joined #big (%d people here)" % (BIG_MEMBERS + 1), timeout=10)
                c.send("/topic\n")
                c.read_until(BARRIER_REPLY, timeout=10)
                members = self.big_nicks | {c.nick}
                calls = ["/rooms"] * 8 + ["/rooms hop", "/who big", "/who"]
                while not self.stop.is_set():
                    c.send("".join("%s\n/topic\n" % q for q in calls))
                    for q in calls:
                        got = c.read_until(BARRIER_REPLY, timeout=30, limit=10**6)[:-1]
                        if q.startswith("/rooms"):
                            self.check_rooms(c, got, q == "/rooms hop")
                            self.count("rooms_calls")
                        else:
                            self.check_who(c, got, "big", members)
                            self.count("who_calls")
                c.say("/quit")
                c.read_until("* bye", timeout=10, limit=10**6)
            finally:
                c.close()

    def check_rooms(self, c, got, hop):
        """One /rooms reply (docs/protocol.md, Commands)."""
        rooms, more = {}, 0
        for i, ln in enumerate(got):
            m = re.fullmatch(r"\* #([A-Za-z0-9_-]+): (\d+) (people|person)(?:, topic: .*)?", ln)
            if m and (m.group(3) == "person") == (m.group(2) == "1") and m.group(1) not in rooms:
                rooms[m.group(1)] = int(m.group(2))
                continue
            m = re.fullmatch(r"\* \.\.\. and (\d+) more \(the 100 biggest are shown; /rooms WORD lists those named with WORD\)", ln)
            if m and i == len(got) - 1 and len(rooms) == 100:
                more = int(m.group(1))
                continue
            raise AssertionError("%r: bad /rooms line %r" % (c, ln))
        names = list(rooms)
        if names != sorted(names, key=str.lower):
            raise AssertionError("%r: /rooms not sorted: %r" % (c, names))
        if hop:
            if names != HOP_ROOMS:
                raise AssertionError("%r: /rooms hop listed %r" % (c, names))
            return
        total = len(rooms) + more
        with self.lock:
            self.most_rooms = max(self.most_rooms, total)
            if self.rss.get("start"):
                self.fewest_rooms = min(self.fewest_rooms or total, total)
        if total > MAX_ROOMS:
            raise AssertionError("%r: /rooms counts %d rooms, over --max-rooms %d" % (c, total, MAX_ROOMS))
        for r in HELD_ROOMS + ["lobby"]:
            if rooms.get(r, 0) < 1:
                raise AssertionError("%r: /rooms does not show #%s with its members: %r" % (c, r, got))
        if rooms["big"] != BIG_MEMBERS + 1:
            raise AssertionError("%r: /rooms shows #big with %d people" % (c, rooms["big"]))

    def check_who(self, c, got, room, members):
        """One /who reply for a room whose members are known."""
        m = re.fullmatch(r"\* #%s \((\d+) people\): (.*)" % room, got[0]) if got else None
        if not m or int(m.group(1)) != len(members):
            raise AssertionError("%r: /who %s: got %r" % (c, room, got[:1]))
        nicks = m.group(2).split(", ")
        for ln in got[1:]:
            m = re.fullmatch(r"\* #%s: (.*)" % room, ln)
            if not m:
                raise AssertionError("%r: /who %s: bad line %r" % (c, room, ln))
            nicks += m.group(1).split(", ")
        nicks = [n.lstrip("@+") for n in nicks]  # operators and voiced are marked
        if nicks != sorted(members, key=str.lower):
            raise AssertionError("%r: /who %s named %d people, not the %d members in order" % (c, room, len(nicks), len(members)))

    def note_worst(self, key, seconds):
        with self.lock:
            self.worst[key] = max(self.worst[key], seconds)

    def ghost(self, name, idx):
        """Takes the nick ghostN, speaks in #lobby (ghost0) or in a room of
        its own (the others: nothing is written to them after that, so
        only keepalive can notice), then vanishes without a FIN or RST (a
        socket in TCP_REPAIR mode is closed silently).  The server must
        drop it within the keepalive bound (`--keepalive 1`: about 7 s; on
        loopback its first probe or write draws an RST), and then the nick
        is free for the next ghost."""
        nick = "ghost%d" % idx
        while not self.stop.is_set():
            c = self.welcome(self.client())
            try:
                ln = self.reply(c, "/nick " + nick, "* you are now ", "! ")
                if ln != "* you are now " + nick:
                    raise AssertionError("%r: the last ghost's nick is not free: %r" % (c, ln))
                if idx > 0:
                    self.join_alone(c, nick)
                c.say("%s was here" % nick)
                c.send("/topic\n")
                c.read_until(BARRIER_REPLY, timeout=10)
                try:
                    c.sock.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 1)
                except PermissionError:
                    raise AssertionError("TCP_REPAIR needs CAP_NET_ADMIN: run the soak as root") from None
            finally:
                c.close()
            with self.lock:
                self.ghost_ids.append(c.id)
            t0 = time.monotonic()
            ev = self.srv.wait_event("disconnect", id=c.id, timeout=20)
            took = time.monotonic() - t0
            if ev.get("reason") not in ("timeout", "eof", "error") or took > 15:
                raise AssertionError("ghost %d dropped after %.1fs with reason=%s" % (c.id, took, ev.get("reason")))
            self.note_worst("ghost_s", took)
            with self.lock:
                self.ghost_reasons["%s %s" % ("lobby" if idx == 0 else "alone", ev.get("reason"))] += 1
            self.count("ghosts")

    def telnet(self, name, idx):
        """Sends what telnet sends on ^C and inside some UTF-8 characters
        (a telnet command, then IAC DO TIMING-MARK), then /who: each
        timing mark must be answered (IAC WILL TIMING-MARK, read as raw
        bytes between lines) and the /who reply must come."""
        rnd = random.Random(3000 + idx)
        nick = "tel%d" % idx
        who = re.compile(r"\* #lobby \(\d+ (?:people|person)\): .*")
        while not self.stop.is_set():
            c = self.welcome(self.client())
            try:
                c.send("/nick %s\r\n" % nick)
                c.read_until("* you are now " + nick, timeout=10)
                # ^C, then /who: typed later or in the same packet.
                if rnd.random() < 0.5:
                    c.send(IAC_IP_DO_TM)
                    read_telnet_answer(c, WILL_TM)
                    c.send(b"/who\r\n")
                else:
                    c.send(IAC_IP_DO_TM + b"/who\r\n")
                    read_telnet_answer(c, WILL_TM)
                c.read_until(who, timeout=10)
                # ✓ and у typed: each answered; the characters arrive
                # as U+FFFD (docs/protocol.md, Telnet).
                c.send(b"/msg %s ctrl %s ok\r\n" % (nick.encode(), TELNET_CHECK))
                read_telnet_answer(c, WILL_TM)
                c.read_until("[%s -> %s]: ctrl \ufffd ok" % (nick, nick), timeout=10)
                c.send(b"/msg " + nick.encode() + " всем".encode() + TELNET_U + " мир".encode() + TELNET_U + b"\r\n/who\r\n")
                read_telnet_answer(c, WILL_TM)
                read_telnet_answer(c, WILL_TM)
                c.read_until("[%s -> %s]: всем\ufffd мир\ufffd" % (nick, nick), timeout=10)
                c.read_until(who, timeout=10)
                c.send(b"/quit\r\n")
                c.read_until("* bye", timeout=10)
                c.expect_end(timeout=10, allow_reset=True)
                self.count("telnet")
            finally:
                c.close()
            self.stop.wait(0.05)  # pacing: a telnet user, not a flood

    def paused_close(self, name, idx):
        """Queues 800 short lines (14 KB, under --recvq-max; 4 s at
        --flood-rate 200) in its own room, then sends its FIN while
        flood-paused: the server must stop serving it within about 2 s
        (event=input-dropped) and close."""
        room = "paused%d" % idx
        while not self.stop.is_set():
            c = self.welcome(self.client())
            try:
                self.join_alone(c, room)
                c.send("".join("%s spam %04d\n" % (room, i) for i in range(800)))
                c.shut_wr()
                t0 = time.monotonic()
                c.drain_to_end(timeout=15)
                took = time.monotonic() - t0
            finally:
                c.close()
            dropped = self.srv.wait_event("input-dropped", id=c.id, timeout=10)
            ev = self.srv.wait_event("disconnect", id=c.id, timeout=10)
            self.note_worst("paused_s", took)
            if took > 4 or ev.get("reason") != "eof" or int(dropped.get("bytes", 0)) <= 0:
                raise AssertionError("paused client %d: served %.1fs after its FIN, reason=%s, %s bytes dropped" % (c.id, took, ev.get("reason"), dropped.get("bytes")))
            self.count("paused_dropped")

    def probe(self, name):
        """Connects and speaks HTTP or TLS first: it must get no byte (no
        banner), and the log must show it closed as http or tls before it
        ever became a person (nick=-); the lobby watcher checks that nobody
        saw it join."""
        rnd = random.Random(4000)
        while not self.stop.is_set():
            tls = rnd.random() < 0.5
            mark = len(self.srv.err_lines)
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                # With MSG_FASTOPEN the kernel connects and sends at once
                # (the data follows the handshake, or rides in the SYN), so
                # the probe speaks well within --probe-wait however long
                # this thread then waits for its turn to run.
                s.sendto(harness.TLS_CLIENT_HELLO if tls else rnd.choice(HTTP_PROBES), socket.MSG_FASTOPEN, self.srv.addr[1:])
                port = s.getsockname()[1]
                data, how = read_raw_to_end(s, 10)
            finally:
                s.close()
            if data:
                raise AssertionError("a %s probe was sent %r" % ("TLS" if tls else "HTTP", data[:200]))
            ln = self.srv.wait_log(r"\bevent=disconnect\b.*\baddr=127\.0\.0\.1:%d reason=(http|tls)\b" % port, start=mark, timeout=10)[0]
            f = harness.parse_fields(ln)
            if f.get("nick") != "-" or f.get("reason") != ("tls" if tls else "http"):
                raise AssertionError("probe closed as %r" % ln)
            with self.lock:
                self.probe_ids.append(int(f["id"]))
            self.count("probes")
            self.stop.wait(0.05)  # pacing: a scanner now and then

    # -- fixtures: they stay connected and read until self.final ------------------

    def fixture(self, name, c, handle=None, drained=None):
        """Reads c's lines (each checked by the harness) until the run is
        over and drained() is true; handle(line) checks each further."""
        while not (self.final.is_set() and (drained is None or drained())):
            try:
                ln = c.line(timeout=0.5)
            except AssertionError as e:
                if "timeout" in str(e) and not isinstance(e, Ended):
                    continue
                raise
            if handle:
                handle(ln)
            elif not ln.startswith(("[", "* ")):
                raise AssertionError("%r: unexpected line %r" % (c, ln))

    def witness(self, ln):
        """#utf8's reader: each message must be the next one its sender's
        line was to become; notices of arrivals and departures pass."""
        m = re.fullmatch(r"\[([^\]]+)\]: (.*)", ln)
        if not m:
            if not re.fullmatch(r"\* \S+ (joined #utf8|left #utf8|quit.*)", ln):
                raise AssertionError("witness: unexpected line %r" % ln)
            return
        with self.lock:
            queue = self.u8_expect.get(m.group(1))
            want = queue.popleft() if queue else None
        if m.group(2) != want:
            raise AssertionError("witness: got %r from %s, want %r" % (m.group(2), m.group(1), want))
        self.count("u8_seen")

    def witness_drained(self):
        with self.lock:
            return all(not q for q in self.u8_expect.values())

    def lobby_watch(self, ln):
        """#lobby's reader: notes who arrives; a probe must never appear."""
        if not ln.startswith(("[", "* ")) or "(not a chat client)" in ln:
            raise AssertionError("lobby watcher: unexpected line %r" % ln)
        m = re.fullmatch(r"\* user(\d+) joined #lobby", ln)
        if m:
            with self.lock:
                self.lobby_joined.add(int(m.group(1)))

    # -- phases ------------------------------------------------------------------

    def sample(self, key):
        v = rss_kib(self.srv.pid)
        self.rss.setdefault(key, []).append(v)
        return v

    def warm_up(self):
        """A few clients, every room's history filled to its steady size
        (--history-keep messages of the size its actors post)."""
        c = self.welcome(self.client())
        fill = [("flood", FLOOD_PAD), ("steady", "steady 0000000"), ("utf8", "x" * 4000), ("ircab", "x" * 480)] + [(r, "x" * 220) for r in HOP_ROOMS] + [("lobby", "x" * 20)]
        for room, text in fill:
            c.say("/join " + room)
            c.read_until(re.compile(r"\* you joined #%s .*|! you are already in #%s" % (room, room)), timeout=10)
            c.send("".join("warm %03d %s\n" % (i, text) for i in range(110)))
            c.send("/topic\n")
            c.read_until(BARRIER_REPLY, timeout=10)
        c.say("/quit")
        c.read_until("* bye")
        c.close()

    def start_fixtures(self):
        """The clients that stay all along: BIG_MEMBERS idle members of
        #big (they never read again), a resident reader in each room of
        HELD_ROOMS (#utf8's is the witness) and a watcher in #lobby.
        Returns the clients and the readers' threads."""
        clients = []
        for _ in range(BIG_MEMBERS):
            c = self.client()
            # Speaking first, it is greeted at once (no --probe-wait).
            c.say("/join big")
            c.welcome()
            c.read_until(re.compile(r"\* you joined #big \(\d+ (?:people|person) here\)"), timeout=10)
            clients.append(c)
        self.big_nicks = {c.nick for c in clients}
        ths = []
        for room in ["flood", "utf8"] + HOP_ROOMS + ["lobby"]:
            c = self.welcome(self.client(rcvbuf=FIXTURE_RCVBUF))
            if room != "lobby":
                c.say("/join " + room)
            c.send("/topic\n")
            c.read_until(BARRIER_REPLY, timeout=10)  # past any history
            clients.append(c)
            if room == "utf8":
                ths.append(self.actor("witness", self.fixture, c, self.witness, self.witness_drained))
            elif room == "lobby":
                ths.append(self.actor("watcher", self.fixture, c, self.lobby_watch))
            else:
                ths.append(self.actor("resident-" + room, self.fixture, c))
        irc_clients, irc_ths = self.start_irc_fixtures()
        return clients + irc_clients, ths + irc_ths

    def abusers(self, prefix, n=2):
        """Starts the abusive actors (n of the kinds that come in twos);
        returns their threads."""
        ths = [self.actor("%sroomchurn%d" % (prefix, i), self.room_churn, i) for i in range(2)]
        ths += [self.actor("%su8flood%d" % (prefix, i), self.u8_flood, i) for i in range(n)]
        ths += [self.actor("%sghost%d" % (prefix, i), self.ghost, i) for i in range(n)]
        ths += [self.actor(prefix + "roomspam", self.rooms_spam), self.actor(prefix + "telnet", self.telnet, 0)]
        ths += [self.actor(prefix + "paused", self.paused_close, 0), self.actor(prefix + "probe", self.probe)]
        return ths + self.irc_abusers(prefix, n, U8_BAD)

    def warm_actors(self):
        """One of each actor's moves, briefly, so every code path has
        allocated what it keeps (scratch buffers, tables), and room churn
        until the room table is full (MAX_ROOMS)."""
        stop = self.stop
        self.stop = threading.Event()
        ths = [self.actor("warm-churn", self.churn, 1), self.actor("warm-hop", self.hopper, 9, 2), self.actor("warm-flood", self.flood, 3)]
        ths.append(self.actor("warm-ichurn", self.irc_churn, 9, 4))
        ths += self.abusers("warm-", n=1)
        t0 = time.monotonic()
        while not self.errors and time.monotonic() - t0 < 60:
            if time.monotonic() - t0 >= 3 and self.stats["rooms_made"] >= MAX_ROOMS + 20:
                break
            time.sleep(0.1)  # the warm-up's length: 3 s, or until rooms fill the table
        else:
            if not self.errors:
                self.fail("soak", "warm-up made only %d rooms in 60 s" % self.stats["rooms_made"])
        self.stop.set()
        for th in ths:
            th.join(40)
        self.stop = stop

    def run(self):
        self.ctx = harness.Context("soak", self.parleyd, timeout=self.seconds + 300)
        env = {}
        if self.asan:
            env["ASAN_OPTIONS"] = "quarantine_size_mb=%d:detect_leaks=1:abort_on_error=0" % ASAN_QUARANTINE_MB
        # The warm-up client creates 8 rooms: past the default burst of new
        # rooms per client (5).  Room limits: see MAX_ROOMS.  --keepalive 1
        # finds the ghosts.
        # The floods send 300 KB at once and rely on the server queueing what
        # waits for their flood budget: a receive queue that takes it (the
        # default 16 KiB would cut them off for excess flood at once).
        flags = ["--flood-burst", "40", "--flood-rate", "200", "--sendq-max", "262144", "--recvq-max", "1048576", "--max-per-ip", "0", "--room-burst", "10"]
        flags += ["--max-rooms", str(MAX_ROOMS), "--history-mem", str(HISTORY_MEM), "--room-burst-per-ip", str(ROOM_BURST_PER_IP)]
        flags += ["--room-rate-per-ip", str(ROOM_RATE_PER_IP), "--keepalive", str(KEEPALIVE)]
        # IRC beside text; silent IRC clients are pinged after 8 s, and
        # unregistered ones dropped (soak_irc.py).
        flags += ["--server-name", SERVER_NAME, "--ping-interval", str(PING_INTERVAL)]
        # --db: the same with durable history (output held until committed).
        if self.db:
            flags += ["--db", self.db]
        self.srv = self.ctx.server(*flags, flood=True, env=env, listen=["text://127.0.0.1:0", "irc://127.0.0.1:0"])
        print("soak: %ds against %s (pid %d%s), flags %s" % (self.seconds, self.parleyd, self.srv.pid, ", ASan" if self.asan else "", " ".join(flags)), flush=True)
        base_fds = fd_count(self.srv.pid)
        self.listened = {}
        fixtures, fixture_ths = [], []
        try:
            self.warm_up()
            fixtures, fixture_ths = self.start_fixtures()
            self.warm_actors()
            # The steady group stays connected all along: two talkers (text
            # and IRC), three text listeners and an IRC one, and a sender
            # of private messages to the listeners.
            talker, pm = self.renamed(self.client(), "talker"), self.renamed(self.client(), "pm")
            listeners = [self.welcome(self.client()) for _ in range(3)]
            italker = self.irc_register(self.irc(), "italker", "italker")
            ilistener = self.irc_register(self.irc(), "ilistener", "ilistener")
            for x in [talker] + listeners:
                x.say("/join steady")
                x.read_until(re.compile(r"\* you joined #steady \(\d+ (?:people|person) here\)"), timeout=10)
            for x in [italker, ilistener]:
                self.irc_join(x, "#steady", "%s!~%s@127.0.0.1" % (x.nick, x.nick))
            for x in [talker, pm] + listeners:
                x.send("/topic\n")
                x.read_until(BARRIER_REPLY, timeout=10)
            for x in [italker, ilistener]:
                self.irc_barrier(x, "steady", lambda m: False)
            steady = [talker, pm, italker] + listeners + [ilistener]
            for x in steady:
                x.received.clear()
            # Nobody else comes into #steady, so its members hear only the
            # talkers and the private messages from here on.
            self.sample("start")
            start_rss = self.rss["start"][0]
            print("warm-up done: RSS %d KiB with %d connections" % (start_rss, fd_count(self.srv.pid) - base_fds), flush=True)

            t0 = time.monotonic()
            ths, members = [], {"talker": "i", "italker": "t", "ilistener": "tip"}
            for i, x in enumerate(listeners):
                members["listener%d" % i] = "tip"
                ths.append(self.actor("listener%d" % i, self.listener, x, self.streams(x, "tip")))
            ths.append(self.actor("ilistener", self.listener, ilistener, self.streams(ilistener, "tip")))
            steady_ths = [self.actor("talker", self.talker, talker, "t", "steady %s\n", self.streams(talker, "i"))]
            steady_ths.append(self.actor("italker", self.talker, italker, "i", "PRIVMSG #steady :isteady %s\r\n", self.streams(italker, "t")))
            steady_ths.append(self.actor("pm", self.pm_sender, pm, listeners + [ilistener]))
            ths += [self.actor("churn%d" % i, self.churn, 100 + i) for i in range(2)]
            ths += [self.actor("ichurn%d" % i, self.irc_churn, i, 400 + i) for i in range(2)]
            ths += [self.actor("flood%d" % i, self.flood, 200 + i) for i in range(2)]
            ths += [self.actor("slow", self.slow)]
            ths += [self.actor("hop%d" % i, self.hopper, i, 300 + i) for i in range(3)]
            ths += self.abusers("")
            next_report = t0 + 10
            while time.monotonic() - t0 < self.seconds and not self.stop.is_set():
                time.sleep(1)  # the run's wall-clock length; sampling RSS each second
                if not self.srv.alive():
                    self.fail("server", "parleyd died (%s); stderr tail:\n%s" % (harness.describe_status(self.srv.proc.returncode), self.srv.log_text(tail=20)))
                    break
                self.sample("during")
                if time.monotonic() >= next_report:
                    next_report += 10
                    print("  %3ds: RSS %d KiB, %d connections, %s" % (time.monotonic() - t0, self.rss["during"][-1], fd_count(self.srv.pid) - base_fds, self.stats), flush=True)
            self.stop.set()
            for th in steady_ths + ths:
                th.join(60)
            alive = [th.name for th in steady_ths + ths if th.is_alive()]
            if alive:
                self.fail("soak", "actors still running after the stop: %s" % alive)
            for who, keys in members.items():
                got, want = self.listened.get(who), {k: self.sent.get(k) for k in keys}
                if got != want:
                    self.fail(who, "got %s of the messages sent, want %s (t: text talker, i: IRC talker, p: private)" % (got, want))
            # The fixtures read what is left, the witnesses until they got
            # every line they were told of.
            self.final.set()
            for th in fixture_ths:
                th.join(30)
            alive = [th.name for th in fixture_ths if th.is_alive()]
            if alive:
                self.fail("witness", "%s still waiting; missing from #utf8: %s, from #ircab: %s, IRC parts: %s, QUITs of %s" % (alive, {n: len(q) for n, q in self.u8_expect.items() if q}, self.model.left(), self.u8_part, [n for n in self.islow_cut if n not in self.irc_quits]))
            self.check_abuse()
            for x in steady + fixtures:
                x.close()
            # Everyone has left: wait until the server holds no connection.
            end = time.monotonic() + 20
            while fd_count(self.srv.pid) > base_fds and time.monotonic() < end:
                time.sleep(0.05)  # polling /proc; bounded above
            left = fd_count(self.srv.pid) - base_fds
            if left > 0:
                self.fail("server", "%d descriptors still open 20 s after every client left" % left)
            self.sample("after")
        except Exception as e:  # noqa: BLE001
            self.fail("soak", "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc(limit=6)))
        finally:
            self.stop.set()
            self.final.set()
            problems = self.ctx.cleanup()
            for p in problems:
                self.fail("server", p)
        return self.report()

    def check_abuse(self):
        """What the abusive actors show together, once they have stopped:
        every ghost was dropped, no probe was ever seen in #lobby, and
        each kind of abuse really happened."""
        for gid in self.ghost_ids:
            if not self.srv.events("disconnect", id=gid):
                self.fail("ghost", "ghost %d was never dropped" % gid)
        seen = sorted(self.lobby_joined.intersection(self.probe_ids))
        if seen:
            self.fail("probe", "probes seen joining #lobby: user%s" % ", user".join(map(str, seen)))
        # With --db a room that had a line is kept (on disk), never freed.
        freed = [] if self.db else ["rooms_freed"]
        for key in ["rooms_made", "rooms_refused", "rooms_kept"] + freed + ["u8_ok", "u8_long", "u8_grown", "rooms_calls", "who_calls", "ghosts", "telnet", "paused_dropped", "probes"]:
            if self.stats[key] == 0:
                self.fail(key, "%s is 0: that abuse did not happen (the run is too short?)" % key)
        self.check_irc()

    def report(self):
        start = self.rss.get("start", [0])[0]
        peak = max(self.rss.get("during", [0]) + [start])
        after = self.rss.get("after", [None])[0]
        margin = max(RSS_MARGIN_KIB, int(RSS_MARGIN_FRACTION * start))
        if self.asan:
            margin += ASAN_QUARANTINE_MB * 1024 * 3 // 2
        if self.db:
            margin += DB_CACHE_KIB
        print("activity: %s" % ", ".join("%s %d" % kv for kv in self.stats.items()))
        # Below MAX_ROOMS, rooms were freed for --history-mem.
        print("rooms: /rooms counted at most %d (--max-rooms %d), %s after the warm-up" % (self.most_rooms, MAX_ROOMS, self.fewest_rooms))
        print("ghosts dropped: %s; slowest after %.1f s" % (dict(self.ghost_reasons), self.worst["ghost_s"]))
        print("paused clients: slowest closed %.1f s after its FIN" % self.worst["paused_s"])
        st = self.stats
        print("slow IRC readers: %d cut off at --sendq-max (%d got the ERROR line before the reset), %d not" % (st["islow_cut"], st["islow_error"], st["islow_uncut"]))
        if after is not None:
            print("rss: start %d KiB, peak %d KiB, after %d KiB (%+d KiB; allowed +%d KiB)" % (start, peak, after, after - start, margin))
            if after - start > margin:
                self.fail("rss", "RSS after the run is %d KiB, %+d KiB over the start (allowed +%d KiB)" % (after, after - start, margin))
        else:
            print("rss: start %d KiB, peak %d KiB, after: not measured" % (start, peak))
        if self.stats["slow_cut"] == 0:
            self.fail("slow", "no slow reader was cut off (the run is too short or the flood too thin)")
        for e in self.errors:
            print("FAIL %s" % e.rstrip().replace("\n", "\n    | "))
        ok = not self.errors
        print("%s soak" % ("PASS" if ok else "FAIL"))
        print("%d passed, %d failed" % (1 if ok else 0, 0 if ok else 1), flush=True)
        return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description="bounded soak of parleyd")
    ap.add_argument("--parleyd", required=True)
    ap.add_argument("--seconds", type=int, default=180)
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument("--db", help="a database file to keep history in (default: none)")
    args = ap.parse_args()
    rc = Soak(args.parleyd, args.seconds, args.seed, args.db).run()
    sys.stdout.flush()
    os._exit(rc)


if __name__ == "__main__":
    main()
