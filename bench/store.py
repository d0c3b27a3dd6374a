#!/usr/bin/python3
"""bench/store.py - what durable history (--db) costs, side by side.

    /usr/bin/python3 bench/store.py [--rounds N] [--quick]

Runs parley-bench against build/parleyd with --db none and with --db on a
fresh file in a temporary directory, alternating the two ROUNDS times per
scenario, and prints the medians and their ratios (store / none):

  busy   one room, 50 clients, 10 senders, 16 in flight each: messages/s
         and p99 latency (issue 11: >= 0.5x and <= 2x)
  many   100 rooms of 10, 100 senders at 20 msgs/s: server CPU per
         delivery (issue 11: <= 1.15x)

then, with the store only:

  replay a room of 10,000 messages, 1,000 replayed on /join (--history 1000):
         milliseconds from sending /join to the end of the replay, at the
         client (issue 11: <= 10 ms)
  size   the database's bytes (file + WAL, after a checkpoint) for those
         10,000 messages, against the message's own bytes (nick + text) and the line a
         text client is sent ("[nick]: text" CRLF) (issue 11: <= 2x)

Needs build/parleyd and build/parley-bench (make). Takes about two
minutes; run it on a quiet machine (it does not wait for one).
"""

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARLEYD = os.path.join(ROOT, "build", "parleyd")
BENCH = os.path.join(ROOT, "build", "parley-bench")

SCENARIOS = {
    "busy": ["--clients", "50", "--rooms", "1", "--senders", "10", "--window", "16"],
    "many": ["--clients", "1000", "--rooms", "100", "--senders", "100", "--rate", "20"],
}


def start(db, extra=()):
    """Starts parleyd on a free port; returns (process, port)."""
    p = subprocess.Popen(
        [PARLEYD, "--listen", "text://127.0.0.1:0", "--db", db, "--flood-rate", "0",
         "--flood-bytes", "0", "--max-per-ip", "0", "--room-rate", "0",
         "--room-rate-per-ip", "0", "--log-level", "warn", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    m = re.search(r"telnet \S+ (\d+)", line)
    if not m:
        p.kill()
        sys.exit("parleyd did not start: %r" % line)
    return p, int(m.group(1))


def stop(p):
    p.terminate()
    p.wait(10)


def bench(port, pid, args, warmup, duration):
    out = subprocess.run(
        [BENCH, "--port", str(port), "--server-pid", str(pid), "--quiet",
         "--warmup", str(warmup), "--duration", str(duration), *args],
        capture_output=True, text=True, timeout=120).stdout
    line = next((ln for ln in out.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        sys.exit("parley-bench gave no RESULT:\n" + out)
    return dict(kv.split("=", 1) for kv in line.split()[1:])


def run_scenario(name, rounds, warmup, duration):
    res = {"none": [], "store": []}
    for _ in range(rounds):
        for side in ("none", "store"):
            tmp = tempfile.mkdtemp(prefix="parley-bench-")
            db = "none" if side == "none" else os.path.join(tmp, "parley.db")
            p, port = start(db)
            try:
                res[side].append(bench(port, p.pid, SCENARIOS[name], warmup, duration))
            finally:
                stop(p)
                shutil.rmtree(tmp, ignore_errors=True)
    return res


def med(rows, key):
    return statistics.median(float(r[key]) for r in rows)


def line_reader(sock):
    buf = b""
    while True:
        while b"\n" in buf:
            ln, buf = buf.split(b"\n", 1)
            yield ln.rstrip(b"\r").decode()
        data = sock.recv(65536)
        if not data:
            return
        buf += data


def replay_and_size(n=10000, replay=1000):
    """Fills #bench with n messages, times /join's replay of the last
    `replay` of them, and measures the file."""
    tmp = tempfile.mkdtemp(prefix="parley-bench-")
    db = os.path.join(tmp, "parley.db")
    try:
        p, port = start(db, ["--history", str(replay), "--history-max", "0"])
        talker = socket.create_connection(("127.0.0.1", port))
        lines = line_reader(talker)
        own = 0
        body = "a typical chat line of about sixty bytes, said in a room %05d"
        talker.sendall(b"/nick talker\n/join bench\n")
        talker.sendall("".join((body % i) + "\n" for i in range(n)).encode())
        talker.sendall(b"/topic\n")
        for ln in lines:
            if ln.startswith("* topic of #bench") or ln.startswith("* #bench has no topic"):
                break
        raw = sum(len("talker") + len(body % i) for i in range(n))
        wire = sum(len("[talker]: ") + len(body % i) + 2 for i in range(n))
        times = []
        for _ in range(5):
            c = socket.create_connection(("127.0.0.1", port))
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            cl = line_reader(c)
            for ln in cl:
                if ln.startswith("* type to talk"):
                    break
            t0 = time.perf_counter()
            c.sendall(b"/join bench\n")
            got = 0
            for ln in cl:
                if ln == "* --- end of history ---":
                    break
                got += ln.startswith("[", 6)
            times.append((time.perf_counter() - t0) * 1000)
            c.close()
        talker.close()
        stop(p)
        subprocess.run(["sqlite3", db, "PRAGMA wal_checkpoint(TRUNCATE)"], capture_output=True)
        size = sum(os.path.getsize(db + s) for s in ("", "-wal") if os.path.exists(db + s))
        return statistics.median(times), got, size, raw, wire, own
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="shorter runs (warmup 0.5 s, 1.5 s)")
    a = ap.parse_args()
    warmup, duration = (0.5, 1.5) if a.quick else (1, 3)
    print("parleyd %s, %d rounds per side, warmup %gs, %gs measured, medians"
          % (PARLEYD, a.rounds, warmup, duration))
    busy = run_scenario("busy", a.rounds, warmup, duration)
    mn, ms = med(busy["none"], "msgs_per_s"), med(busy["store"], "msgs_per_s")
    pn, ps = med(busy["none"], "lat_p99_us"), med(busy["store"], "lat_p99_us")
    print("busy  msgs/s   none %10.0f  store %10.0f  ratio %.2f (want >= 0.5)" % (mn, ms, ms / mn))
    print("busy  p99 us   none %10.0f  store %10.0f  ratio %.2f (want <= 2)" % (pn, ps, ps / pn))
    many = run_scenario("many", a.rounds, warmup, duration)
    cn, cs = med(many["none"], "srv_ns_per_deliv"), med(many["store"], "srv_ns_per_deliv")
    print("many  ns/deliv none %10.1f  store %10.1f  ratio %.2f (want <= 1.15)" % (cn, cs, cs / cn))
    ms_, got, size, raw, wire, _ = replay_and_size()
    print("replay of %d messages on /join: %.2f ms at the client (want <= 10)" % (got, ms_))
    print("size  %d bytes for 10000 messages: %.2fx their nick+text (%d), %.2fx the text lines sent (%d) (want <= 2)"
          % (size, size / raw, raw, size / wire, wire))


if __name__ == "__main__":
    main()
