#!/usr/bin/python3
"""
A bounded soak of parleyd: churn, floods, slow readers, room hopping, nick
changes and private messages, all at once, against one server process.

    /usr/bin/python3 tests/soak/soak.py --parleyd build/parleyd --seconds 30

What runs (each actor is a thread; every wait is bounded):
- churn: connections opened and closed in six ways (close at once, reset,
  partial line, read the welcome, /quit with a reason, /nick then quit);
- floods: clients that join #flood, post 300 lines of 1000 bytes in one
  packet (paced by flood control), read what others post, and /quit;
- slow readers: clients that join #flood and never read, until the server
  cuts them off (reason=sendq), then the next one;
- hoppers: clients that /join between five rooms, post, change nick, ask
  /who, /rooms and set topics, and now and then quit and come back;
- steady: a talker and three listeners in #steady that stay connected all
  along, plus a sender of private messages to the listeners: every message
  must arrive, in order (the loss check).

The server's RSS (VmRSS) is sampled after a warm-up (a few clients
connected, every room's history filled to its steady size), every second
during the run, and after everyone has left and the server holds no
connection.  The run fails if the server crashed or exited non-zero on
SIGTERM, printed a sanitizer report, a steady client lost or reordered a
message, any actor saw a protocol error, or the RSS after is above the start
by more than the margin (see RSS_MARGIN_*).  It ends with `N passed, M
failed` (the soak counts as one test).
"""

import argparse
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

FLOOD_LINES = 300
FLOOD_PAD = "f" * 990
HOP_ROOMS = ["hop%d" % i for i in range(5)]


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


class Soak:
    def __init__(self, parleyd, seconds, seed):
        self.parleyd = os.path.abspath(parleyd)
        self.seconds = seconds
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
        }
        self.rss = {}
        self.asan = is_asan(self.parleyd)
        self.steady_sent = self.pm_sent = None

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

    def client(self, rcvbuf=None):
        """A harness client (line checks: CRLF, UTF-8, no controls) that
        the soak closes itself."""
        return harness.Client(self.ctx, self.srv.addr, rcvbuf=rcvbuf)

    def welcome(self, c):
        c.welcome()
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

    def talker(self, name, c):
        """Posts numbered messages to #steady at a moderate pace."""
        seq = 0
        while not self.stop.is_set():
            c.send("".join("steady %07d\n" % (seq + i) for i in range(5)))
            seq += 5
            self.count("steady", 5)
            self.stop.wait(0.05)
        self.steady_sent = seq
        c.say("steady END")

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
        self.pm_sent = seq
        for lst in listeners:
            c.say("/msg %s pm END" % lst.nick)

    def listener(self, name, c, talker, pm):
        """Reads everything; messages from the talker and PMs from pm must
        come complete and in order; nothing else may come."""
        want_msg = want_pm = 0
        got_end = got_pm_end = False
        rx_msg = re.compile(r"\[%s\]: steady (\d{7}|END)" % re.escape(talker.nick))
        rx_pm = re.compile(r"\[%s -> %s\]: pm (\d{7}|END)" % (re.escape(pm.nick), re.escape(c.nick)))
        deadline = time.monotonic() + self.seconds + 60
        while not (got_end and got_pm_end):
            if time.monotonic() > deadline:
                raise AssertionError("listener did not get the end markers")
            try:
                ln = c.line(timeout=1)
            except AssertionError as e:
                if "timeout" in str(e):
                    continue
                raise
            m = rx_msg.fullmatch(ln)
            if m:
                if m.group(1) == "END":
                    got_end = True
                    continue
                if int(m.group(1)) != want_msg:
                    self.fail(name, "expected steady %d, got %r (lost or reordered)" % (want_msg, ln))
                    return
                want_msg += 1
                continue
            m = rx_pm.fullmatch(ln)
            if m:
                if m.group(1) == "END":
                    got_pm_end = True
                    continue
                if int(m.group(1)) != want_pm:
                    self.fail(name, "expected pm %d, got %r (lost or reordered)" % (want_pm, ln))
                    return
                want_pm += 1
                continue
            self.fail(name, "unexpected line %r" % ln)
            return
        self.listened[name] = (want_msg, want_pm)

    # -- phases ------------------------------------------------------------------

    def sample(self, key):
        v = rss_kib(self.srv.pid)
        self.rss.setdefault(key, []).append(v)
        return v

    def warm_up(self):
        """A few clients, every room's history filled to its steady size
        (--history-keep messages of the size its actors post), every kind of
        actor once."""
        c = self.welcome(self.client())
        for room, text in [("flood", FLOOD_PAD), ("steady", "steady 0000000")] + [(r, "x" * 220) for r in HOP_ROOMS] + [("lobby", "x" * 20)]:
            c.say("/join " + room)
            c.read_until(re.compile(r"\* you joined #%s .*|! you are already in #%s" % (room, room)), timeout=10)
            c.send("".join("warm %03d %s\n" % (i, text) for i in range(110)))
            c.send("/topic\n")
            c.read_until(BARRIER_REPLY, timeout=10)
        c.say("/quit")
        c.read_until("* bye")
        c.close()
        # One of each actor's moves, briefly, so every code path has
        # allocated what it keeps (scratch buffers, tables).
        stop = self.stop
        self.stop = threading.Event()
        ths = [self.actor("warm-churn", self.churn, 1), self.actor("warm-hop", self.hopper, 9, 2), self.actor("warm-flood", self.flood, 3)]
        end = time.monotonic() + 3
        while time.monotonic() < end and not self.errors:
            time.sleep(0.1)  # let the warm-up actors run for their 3 s
        self.stop.set()
        for th in ths:
            th.join(40)
        self.stop = stop

    def run(self):
        self.ctx = harness.Context("soak", self.parleyd, timeout=self.seconds + 300)
        env = {}
        if self.asan:
            env["ASAN_OPTIONS"] = "quarantine_size_mb=%d:detect_leaks=1:abort_on_error=0" % ASAN_QUARANTINE_MB
        # The warm-up client creates all 7 rooms: past the default burst of
        # new rooms per client (5).
        flags = ["--flood-burst", "40", "--flood-rate", "200", "--sendq-max", "262144", "--max-per-ip", "0", "--room-burst", "10"]
        self.srv = self.ctx.server(*flags, flood=True, env=env)
        print("soak: %ds against %s (pid %d%s), flags %s" % (self.seconds, self.parleyd, self.srv.pid, ", ASan" if self.asan else "", " ".join(flags)), flush=True)
        base_fds = fd_count(self.srv.pid)
        self.listened = {}
        try:
            self.warm_up()
            # The steady group stays connected all along.
            talker = self.welcome(self.client())
            pm = self.welcome(self.client())
            listeners = [self.welcome(self.client()) for _ in range(3)]
            for x in [talker] + listeners:
                x.say("/join steady")
                x.read_until(re.compile(r"\* you joined #steady \(\d+ (?:people|person) here\)"), timeout=10)
            for x in [talker, pm] + listeners:
                x.send("/topic\n")
                x.read_until(BARRIER_REPLY, timeout=10)
            for x in [talker, pm] + listeners:
                x.received.clear()
            # Nobody else comes into #steady, so its members hear only the
            # talker and the private messages from here on.
            self.sample("start")
            start_rss = self.rss["start"][0]
            print("warm-up done: RSS %d KiB with %d connections" % (start_rss, fd_count(self.srv.pid) - base_fds), flush=True)

            t0 = time.monotonic()
            ths = []
            for i, x in enumerate(listeners):
                ths.append(self.actor("listener%d" % i, self.listener, x, talker, pm))
            steady_ths = [self.actor("talker", self.talker, talker), self.actor("pm", self.pm_sender, pm, listeners)]
            ths += [self.actor("churn%d" % i, self.churn, 100 + i) for i in range(2)]
            ths += [self.actor("flood%d" % i, self.flood, 200 + i) for i in range(2)]
            ths += [self.actor("slow", self.slow)]
            ths += [self.actor("hop%d" % i, self.hopper, i, 300 + i) for i in range(3)]
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
            for i, x in enumerate(listeners):
                got = self.listened.get("listener%d" % i)
                if got is None:
                    self.fail("listener%d" % i, "did not finish")
                elif got != (self.steady_sent, self.pm_sent):
                    self.fail("listener%d" % i, "got %d of %d messages and %d of %d private messages" % (got[0], self.steady_sent, got[1], self.pm_sent))
            for x in [talker, pm] + listeners:
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
            problems = self.ctx.cleanup()
            for p in problems:
                self.fail("server", p)
        return self.report()

    def report(self):
        start = self.rss.get("start", [0])[0]
        peak = max(self.rss.get("during", [0]) + [start])
        after = self.rss.get("after", [None])[0]
        margin = max(RSS_MARGIN_KIB, int(RSS_MARGIN_FRACTION * start))
        if self.asan:
            margin += ASAN_QUARANTINE_MB * 1024 * 3 // 2
        print("activity: %s" % ", ".join("%s %d" % kv for kv in self.stats.items()))
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
    args = ap.parse_args()
    rc = Soak(args.parleyd, args.seconds, args.seed).run()
    sys.stdout.flush()
    os._exit(rc)


if __name__ == "__main__":
    main()
