#!/usr/bin/python3
"""What the telnet terminal costs (docs/terminal.md, Cost).

    /usr/bin/python3 bench/terminal.py [--parleyd build/parleyd]
        [--bench build/parley-bench] [--idle 1000] [--runs 3]

1. Idle memory: a fresh parleyd takes --idle connections on text:// (line
   mode), another fresh one as many telnet:// connections that agree to
   character mode (IAC DO ECHO, DO SGA, a NAWS window) and wait at their
   prompt. Each server's RSS growth over its connections is divided by
   their number.
2. A busy room: parley-bench, 50 clients in one room, 10 senders with 16
   messages in flight each, 1 s warm-up then 3 s measured, once with
   --proto text and once with --proto telnet (every member in character
   mode), alternating, --runs times each, each run on a fresh server.
   Medians of deliveries/s and of the server's CPU ns per delivery.
3. A bigger room, as 2 with 200 clients, 50 senders and 64 in flight each,
   on servers run with --flood-bytes 0 (at the default 1 MiB/s the
   senders' byte budgets, not the server, set the pace).

Prints one line per measurement and the ratios; about two minutes in all.
"""
import argparse
import os
import re
import select
import socket
import statistics
import subprocess
import sys
import time

from fanout import rss_kib  # bench/fanout.py, beside this script

AGREE = bytes([255, 253, 1, 255, 253, 3, 255, 251, 31, 255, 250, 31, 0, 80, 0, 24, 255, 240])


def start(parleyd, *flags):
    """A parleyd on free loopback ports with a telnet:// and a text://
    listener; returns (process, {scheme: port})."""
    p = subprocess.Popen([parleyd, "--listen", "telnet://127.0.0.1:0", "--listen", "text://127.0.0.1:0",
                          "--flood-rate", "0", "--quiet-above", "0", "--max-per-ip", "0", *flags],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ports = {}
    while len(ports) < 2:
        ln = p.stderr.readline()
        if not ln:
            sys.exit("parleyd ended before it listened")
        m = re.search(r"event=listen proto=(\w+) addr=\S+:(\d+)", ln)
        if m:
            ports[m.group(1)] = int(m.group(2))
    return p, ports


def settle(socks, until, timeout=60):
    """Reads from every socket until each has shown the bytes until."""
    seen = {s: b"" for s in socks}
    left = set(socks)
    end = time.monotonic() + timeout
    while left:
        if time.monotonic() > end:
            sys.exit("%d connections never showed %r" % (len(left), until))
        ready, _, _ = select.select(list(left)[:1000], [], [], 1)
        for s in ready:
            seen[s] = (seen[s] + s.recv(65536))[-256:]
            if until in seen[s]:
                left.discard(s)


def idle(parleyd, scheme, n):
    """RSS bytes per idle connection on scheme."""
    p, ports = start(parleyd)
    try:
        time.sleep(0.2)
        before = rss_kib(p.pid)
        socks = []
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", ports[scheme]))
            if scheme == "telnet":
                s.sendall(AGREE)
            socks.append(s)
        settle(socks, b"#lobby> " if scheme == "telnet" else b"leaves\r\n")
        after = rss_kib(p.pid)
        for s in socks:
            s.close()
        return (after - before) * 1024 / n
    finally:
        p.terminate()
        p.wait()


BUSY = ["--clients", "50", "--senders", "10", "--window", "16"]
BIG = ["--clients", "200", "--senders", "50", "--window", "64"]


def busy(parleyd, bench, proto, shape, flags=()):
    """(deliveries/s, server ns per delivery) of one run in one room."""
    p, ports = start(parleyd, *flags)
    try:
        out = subprocess.run([bench, "--proto", proto, "--port", str(ports["text" if proto == "text" else "telnet"]),
                              "--rooms", "1", *shape,
                              "--warmup", "1", "--duration", "3", "--server-pid", str(p.pid)],
                             capture_output=True, text=True, timeout=60).stdout
        m = re.search(r"^RESULT .*", out, re.M)
        if not m or "status=ok" not in m.group(0):
            sys.exit("parley-bench failed:\n" + out)
        f = dict(kv.split("=", 1) for kv in m.group(0).split()[1:])
        return float(f["deliv_per_s"]), float(f["srv_ns_per_deliv"])
    finally:
        p.terminate()
        p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parleyd", default="build/parleyd")
    ap.add_argument("--bench", default="build/parley-bench")
    ap.add_argument("--idle", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    line = idle(a.parleyd, "text", a.idle)
    char = idle(a.parleyd, "telnet", a.idle)
    print("idle memory per connection: line mode %.0f B, character mode %.0f B, ratio %.2fx"
          % (line, char, char / line))
    for name, shape, flags in (("busy room", BUSY, ()), ("bigger room", BIG, ("--flood-bytes", "0"))):
        runs = {"text": [], "telnet": []}
        for i in range(a.runs):
            for proto in ("text", "telnet"):
                d, ns = busy(a.parleyd, a.bench, proto, shape, flags)
                runs[proto].append((d, ns))
                print("%s run %d %-6s deliveries/s %9.0f  server ns/delivery %6.1f" % (name, i + 1, proto, d, ns))
        med = {k: (statistics.median(d for d, _ in v), statistics.median(ns for _, ns in v)) for k, v in runs.items()}
        print("%s medians: line mode %.0f deliveries/s (%.1f ns each), character mode %.0f (%.1f ns each)"
              % (name, med["text"][0], med["text"][1], med["telnet"][0], med["telnet"][1]))
        print("%s, character mode / line mode: deliveries/s %.2fx, server CPU per delivery %.2fx"
              % (name, med["telnet"][0] / med["text"][0], med["telnet"][1] / med["text"][1]))

if __name__ == "__main__":
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    main()
