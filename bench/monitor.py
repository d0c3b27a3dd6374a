#!/usr/bin/python3
"""MONITOR: what watch lists cost in memory, and what a watched nick's
coming and going costs in CPU.

Against a fresh parleyd on 127.0.0.1 (flood control off), with CLIENTS IRC
clients registered:

  memory   RSS with the clients registered and watching nothing, then after
           each sent MONITOR + with 100 nicks nobody else watches (CLIENTS x
           100 table entries and list slots), then after MONITOR C, then
           after each watched the same 100 nicks (100 entries, CLIENTS x 100
           seats). Reports bytes per watched nick.
  presence every client watches one nick; another client takes it and
           lets it go FLIPS times (NICK star / NICK other), so that each
           flip tells every watcher twice (731 and 730). Reports server
           CPU per notification, read from /proc, while a reader drains
           every watcher.

    /usr/bin/python3 bench/monitor.py                  # CLIENTS = 1000
    /usr/bin/python3 bench/monitor.py --clients 200 --flips 20

Needs `make` first (build/parleyd). Standard library only; under a minute.
"""

import argparse
import os
import re
import selectors
import socket
import subprocess
import threading
import time

from fanout import cpu_s, rss_kib  # bench/fanout.py, beside this script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start(binary):
    proc = subprocess.Popen([binary, "--listen", "irc://127.0.0.1:0", "--flood-rate", "0", "--flood-bytes", "0",
                             "--max-per-ip", "0"], stderr=subprocess.PIPE, text=True)
    for ln in proc.stderr:
        m = re.search(r"event=listen proto=irc addr=127\.0\.0\.1:(\d+)", ln)
        if m:  # the rest of the log is read and dropped
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc, int(m.group(1))
    raise SystemExit("parleyd did not start")


class Irc:
    def __init__(self, port, nick):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""
        self.send("NICK %s\r\nUSER %s 0 * :x" % (nick, nick))
        self.until(b" 422 ", b" 376 ")

    def send(self, line):
        self.sock.sendall(line.encode() + b"\r\n")

    def until(self, *marks):
        """Reads until a line holding one of marks; returns the count of
        lines read."""
        n = 0
        while True:
            while b"\r\n" in self.buf:
                ln, self.buf = self.buf.split(b"\r\n", 1)
                n += 1
                if any(m in ln for m in marks):
                    return n
            data = self.sock.recv(65536)
            if not data:
                raise SystemExit("server closed")
            self.buf += data


def sync(clients):
    """A PING to each; waits for every PONG (all earlier replies read)."""
    for c in clients:
        c.send("PING sync")
    for c in clients:
        c.until(b"PONG")


def settled_rss(pid, clients):
    """RSS once the server has had 2.5 s to give freed memory back (its
    sweep trims the heap once a second)."""
    sync(clients)
    time.sleep(2.5)
    return rss_kib(pid)


def memory(pid, clients):
    n = len(clients) * 100
    base = settled_rss(pid, clients)
    shared = ",".join("s%d" % k for k in range(100))
    for c in clients:
        c.send("MONITOR + " + shared)
    seats = settled_rss(pid, clients)
    for c in clients:
        c.send("MONITOR C")
    base2 = settled_rss(pid, clients)
    for i, c in enumerate(clients):  # 4 lines of 25: each fits 510 bytes
        for j in range(0, 100, 25):
            c.send("MONITOR + " + ",".join("n%d_%d" % (i, k) for k in range(j, j + 25)))
    own = settled_rss(pid, clients)
    for c in clients:
        c.send("MONITOR C")
    after = settled_rss(pid, clients)
    print("memory: %d clients watching nothing: RSS %d KiB; all watching the same 100 nicks: +%d KiB "
          "(%.0f B per watcher and nick); after MONITOR C: %d KiB; each watching 100 nicks of its own: "
          "+%d KiB (%.0f B per nick); after MONITOR C: %d KiB"
          % (len(clients), base, seats - base, (seats - base) * 1024 / n, base2, own - base2,
             (own - base2) * 1024 / n, after))


def presence(pid, port, clients, flips):
    for c in clients:
        c.send("MONITOR + star")
    sync(clients)
    mover = Irc(port, "mover")
    sel = selectors.DefaultSelector()
    for c in clients:
        c.sock.setblocking(False)
        sel.register(c.sock, selectors.EVENT_READ, c)
    want = 2 * flips * len(clients)
    got = 0
    t0, c0 = time.monotonic(), cpu_s(pid)
    for _ in range(flips):
        mover.send("NICK star")
        mover.send("NICK other")
    while got < want:
        for key, _ in sel.select(timeout=10):
            data = key.fileobj.recv(1 << 20)
            got += data.count(b" 730 ") + data.count(b" 731 ")
        if time.monotonic() - t0 > 60:
            raise SystemExit("presence: only %d of %d notifications in 60 s" % (got, want))
    cpu = cpu_s(pid) - c0
    print("presence: %d flips x %d watchers = %d notifications in %.2f s; server CPU %.2f s, %.2f us each"
          % (flips, len(clients), want, time.monotonic() - t0, cpu, cpu * 1e6 / want))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--parleyd", default=os.path.join(ROOT, "build", "parleyd"))
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--flips", type=int, default=50)
    a = ap.parse_args()
    proc, port = start(a.parleyd)
    try:
        clients = [Irc(port, "w%d" % i) for i in range(a.clients)]
        memory(proc.pid, clients)
        presence(proc.pid, port, clients, a.flips)
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
