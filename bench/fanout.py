#!/usr/bin/python3
"""Fan-out fairness: what one room's traffic costs everyone else.

Three measurements, each against a fresh parleyd on 127.0.0.1, with
MEMBERS silent members in #lobby (sockets that connect and never read)
and a probe pair in #probe exchanging a line every 50 ms (each side at
10 lines/s, the default flood rate):

  talker   one client sends 4000-byte lines into #lobby at the flood limit
           (defaults: 20 at once, then as the budget allows). Reports the
           probe's median, p99 and max latency and the server's peak RSS.
  burst    every member sends one 4000-byte line at once. Same figures,
           plus how many members were cut off and why.
  share    copy vs share: 60 lines of 4000 bytes into a room of MEMBERS
           silent members with the flood limits off, once with parleyd
           (messages of CONN_SHARE_MIN bytes or more shared as one block)
           and once with a build that copies every message to every
           recipient (-DCONN_SHARE_MIN=SIZE_MAX, built here into
           build/copy/). Reports server CPU seconds and peak RSS of each.

    /usr/bin/python3 bench/fanout.py                 # MEMBERS = 10000
    /usr/bin/python3 bench/fanout.py --members 2000 --only talker

Needs `make` first (build/parleyd). Prints one line per measurement and a
markdown table at the end. Standard library only.
"""

import argparse
import os
import re
import resource
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINE = 4000


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    return 0


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(self, binary, flags):
        self.log = open(os.path.join(ROOT, "bench", "out", "fanout-parleyd.log"), "w")
        self.proc = subprocess.Popen([binary, "--listen", "text://127.0.0.1:0", "--db", "none", "--max-per-ip", "0",
                                      "--quiet-above", "0"] + flags,
                                     stderr=subprocess.PIPE, text=True)
        self.port = None
        while self.port is None:
            ln = self.proc.stderr.readline()
            if not ln:
                raise SystemExit("parleyd exited")
            m = re.search(r"event=listen .*:(\d+)$", ln.strip())
            if m:
                self.port = int(m.group(1))
        # Keep draining stderr so logging never blocks the server.
        threading.Thread(target=self._drain, daemon=True).start()
        self.peak = 0
        self.stop = False
        threading.Thread(target=self._sample, daemon=True).start()

    def _drain(self):
        for ln in self.proc.stderr:
            self.log.write(ln)

    def _sample(self):
        while not self.stop and self.proc.poll() is None:
            try:
                self.peak = max(self.peak, rss_kib(self.proc.pid))
            except OSError:
                return
            time.sleep(0.02)

    def close(self):
        self.stop = True
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


class Client:
    def __init__(self, port, nick=None):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        if nick:
            self.say("/nick " + nick)
            self.until(b"* you are now " + nick.encode())

    def say(self, text):
        self.s.sendall(text.encode() + b"\n")

    def until(self, want, timeout=30):
        self.s.settimeout(timeout)
        while want not in self.buf:
            data = self.s.recv(1 << 16)
            if not data:
                raise SystemExit("server closed a probe connection")
            self.buf += data
        self.buf = self.buf[self.buf.index(want) + len(want):]


def silent(port, n):
    """n members that connect and never read (default kernel buffers)."""
    out = []
    for _ in range(n):
        s = socket.socket()
        s.connect(("127.0.0.1", port))
        out.append(s)
    return out


def lobby_size(c):
    c.say("/rooms")
    c.until(b"* #lobby: ")
    c.s.settimeout(10)
    while b" " not in c.buf:
        c.buf += c.s.recv(4096)
    return int(c.buf.split(b" ", 1)[0])


def wait_members(c, n):
    end = time.time() + 120
    while lobby_size(c) < n:
        if time.time() > end:
            raise SystemExit("members never all arrived")
        time.sleep(0.2)


def probe(a, b, seconds):
    lat = []
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        t0 = time.monotonic()
        src, dst, nick = (a, b, "pa") if i % 2 == 0 else (b, a, "pb")
        src.say("ping %d" % i)
        dst.until(("[%s]: ping %d\r\n" % (nick, i)).encode())
        lat.append(time.monotonic() - t0)
        i += 1
        time.sleep(max(0.0, 0.05 - (time.monotonic() - t0)))
    lat.sort()
    return {"n": len(lat), "median_ms": lat[len(lat) // 2] * 1e3,
            "p99_ms": lat[max(0, int(len(lat) * 0.99) - 1)] * 1e3, "max_ms": lat[-1] * 1e3}


def setup(binary, flags, members):
    srv = Server(binary, flags)
    a, b = Client(srv.port, "pa"), Client(srv.port, "pb")
    for c in (a, b):
        c.say("/join probe")
        c.until(b"* you joined #probe")
    talker = Client(srv.port, "talker")
    socks = silent(srv.port, members)
    wait_members(talker, members + 1)
    return srv, a, b, talker, socks


def run_talker(args):
    srv, a, b, talker, socks = setup(args.parleyd, [], args.members)
    base = rss_kib(srv.proc.pid)
    talker.say("\n".join("%02d %s" % (i, "t" * (LINE - 3)) for i in range(20)))
    res = probe(a, b, args.seconds)
    res.update(scenario="talker", idle_rss_kib=base, peak_rss_kib=srv.peak)
    t0 = time.monotonic()
    srv.close()
    res["sigterm_s"] = time.monotonic() - t0
    return res


def run_burst(args):
    srv, a, b, talker, socks = setup(args.parleyd, [], args.members)
    base = rss_kib(srv.proc.pid)
    line = ("b" * (LINE - 1) + "\n").encode()
    for s in socks:
        s.setblocking(False)
        try:
            s.send(line)
        except BlockingIOError:
            pass
    res = probe(a, b, args.seconds)
    res.update(scenario="burst", idle_rss_kib=base, peak_rss_kib=srv.peak)
    with open(srv.log.name) as f:
        log = f.read()
    res["cut_sendq"] = log.count("reason=sendq")
    res["cut_memory"] = log.count("reason=memory")
    t0 = time.monotonic()
    srv.close()
    res["sigterm_s"] = time.monotonic() - t0
    for s in socks:
        s.close()
    # After the attack: how fast memory comes back is the e2e test's job.
    return res


def run_share_one(binary, label, args):
    srv = Server(binary, ["--flood-rate", "0", "--flood-bytes", "0", "--out-mem-max", "0"])
    talker = Client(srv.port, "talker")
    socks = silent(srv.port, args.members)
    wait_members(talker, args.members + 1)
    cpu0, base = cpu_s(srv.proc.pid), rss_kib(srv.proc.pid)
    talker.say("\n".join("%02d %s" % (i, "s" * (LINE - 3)) for i in range(60)))
    talker.say("/topic done")  # the reply comes after every line was fanned out
    talker.until(b"* talker set the topic of #lobby: done", timeout=120)
    time.sleep(0.5)  # let the last flush finish before reading the counters
    res = {"scenario": "share", "build": label, "cpu_s": cpu_s(srv.proc.pid) - cpu0,
           "idle_rss_kib": base, "peak_rss_kib": srv.peak}
    srv.close()
    for s in socks:
        s.close()
    return res


def build_copy():
    subprocess.run(["make", "-s", "BUILD=build/copy", "CFLAGS=-O2 -g -DCONN_SHARE_MIN=SIZE_MAX",
                    "build/copy/parleyd"], cwd=ROOT, check=True)
    return os.path.join(ROOT, "build", "copy", "parleyd")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parleyd", default=os.path.join(ROOT, "build", "parleyd"))
    ap.add_argument("--members", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--only", choices=("talker", "burst", "share"))
    args = ap.parse_args()
    os.makedirs(os.path.join(ROOT, "bench", "out"), exist_ok=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    results = []
    if args.only in (None, "talker"):
        results.append(run_talker(args))
        print(results[-1], flush=True)
    if args.only in (None, "burst"):
        results.append(run_burst(args))
        print(results[-1], flush=True)
    if args.only in (None, "share"):
        copy = build_copy()
        for binary, label in ((args.parleyd, "share"), (copy, "copy"), (args.parleyd, "share"), (copy, "copy")):
            results.append(run_share_one(binary, label, args))
            print(results[-1], flush=True)
    print("\n| scenario | build | members | probe median ms | p99 ms | max ms | peak RSS MiB | CPU s | SIGTERM s | cut |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print("| %s | %s | %d | %s | %s | %s | %.1f | %s | %s | %s |" % (
            r["scenario"], r.get("build", "parleyd"), args.members,
            "%.1f" % r["median_ms"] if "median_ms" in r else "",
            "%.1f" % r["p99_ms"] if "p99_ms" in r else "",
            "%.1f" % r["max_ms"] if "max_ms" in r else "",
            r["peak_rss_kib"] / 1024.0,
            "%.2f" % r["cpu_s"] if "cpu_s" in r else "",
            "%.2f" % r["sigterm_s"] if "sigterm_s" in r else "",
            "sendq %d, memory %d" % (r["cut_sendq"], r["cut_memory"]) if "cut_sendq" in r else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
