#!/usr/bin/python3
"""The web side's costs, side by side in one run (issue 14, point 5).

For each of --reps repetitions (default 3), against a fresh parleyd each
time (pinned to core 0, parley-bench to core 1, the orders alternating):

  busy   the busy room of bench/run.py (50 clients, 10 senders, 16 in
         flight each) over plain IRC and over IRC over WebSocket
         (parley-bench --ws): deliveries per second; target: WebSocket at
         least 0.7x IRC.
  idle   N idle registered clients (--idle, default 5,000) over IRC and over
         WebSocket: the server's RSS per client (parley-bench's
         srv_rss_per_conn_b); the WebSocket cost is the difference;
         target: at most 2 KiB.
  files  the busy room's p99 latency (over IRC), alone and while 100
         browsers (this script: 100 keep-alive connections, each loading
         the page's 7 files, 105 KiB, once a second) load the web client's
         files from the same server; target: p99 with them within 1.2x of
         without.

Prints medians and ratios, and writes bench/out/web-results.json. Run from
the repository root after `make`:

    /usr/bin/python3 bench/web.py              # ~2 minutes
    /usr/bin/python3 bench/web.py --reps 1     # a quick look

Exit status: 0 when every run delivered everything (targets missed are
reported, not fatal), 1 otherwise. Standard library only.
"""

import argparse
import json
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402

ROOT = run.ROOT
BUSY = ["--clients", "50", "--rooms", "1", "--senders", "10", "--window", "16"]
# The web client's files as a browser loads them (sizes like a small
# hand-written client: one page, one stylesheet, a few modules, an icon).
FILES = {"index.html": 2048, "style.css": 12288, "app.js": 40960, "irc.js": 20480, "ui.js": 30720,
         "icon.svg": 1024, "manifest.webmanifest": 512}


def start(args, root):
    """Starts parleyd with an http and an irc listener; returns (proc,
    http port, irc port)."""
    hp, ip = run.free_port(), run.free_port()
    cmd = ["taskset", "-c", "0", args.parleyd, "--listen", "http://127.0.0.1:%d" % hp,
           "--listen", "irc://127.0.0.1:%d" % ip, "--web-root", root, "--server-name", "parley.bench",
           "--log-level", "warn"] + run.parley_flags(args.parleyd)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not (run.wait_port(hp, proc) and run.wait_port(ip, proc)):
        proc.kill()
        raise SystemExit("parleyd did not start: %s" % " ".join(cmd))
    return proc, hp, ip


def bench(args, proc, port, extra, ws):
    """Runs parley-bench; returns its RESULT dict."""
    cmd = ["taskset", "-c", "1", args.bench, "--proto", "irc", "--port", str(port), "--server-pid",
           str(proc.pid), "--quiet"] + (["--ws"] if ws else []) + extra
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    res = run.parse_result(p.stdout + p.stderr) or {"status": "fail"}
    if p.returncode != 0:
        res["status"] = "fail"
    return res


def fresh(args, root, extra, ws):
    """One parley-bench run against a fresh server."""
    proc, hp, ip = start(args, root)
    try:
        return bench(args, proc, hp if ws else ip, extra, ws)
    finally:
        proc.terminate()
        proc.wait()


class Browsers:
    """n browsers on keep-alive connections, each loading every file of
    the page (pipelined, as one round of requests) once a second, in a
    thread of their own."""

    def __init__(self, port, n):
        self.port, self.n = port, n
        self.stop = threading.Event()
        self.requests = 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def round(self):
        return b"".join(b"GET /%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % name.encode() for name in FILES)

    def run(self):
        sel = selectors.DefaultSelector()
        want = sum(FILES.values())  # body bytes of one round
        due = []  # (time, socket) of browsers waiting for their next load
        now = time.monotonic()
        for i in range(self.n):
            s = socket.create_connection(("127.0.0.1", self.port))
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, {"got": 0, "start": 0.0})
            due.append((now + i / self.n, s))  # spread over the first second
        while not self.stop.is_set():
            now = time.monotonic()
            for t, s in [d for d in due if d[0] <= now]:
                due.remove((t, s))
                st = sel.get_key(s).data
                st["got"], st["start"] = 0, now
                s.send(self.round())
            for key, _ in sel.select(0.01):
                s, st = key.fileobj, key.data
                try:
                    data = s.recv(1 << 20)
                except BlockingIOError:
                    continue
                if not data:
                    raise SystemExit("a browser was closed")
                st["got"] += len(data)
                if st["got"] >= want and data.endswith(b"x" * 64):
                    self.requests += len(FILES)
                    st["got"] = -(1 << 40)  # until its next round
                    due.append((st["start"] + 1.0, s))
        for key in list(sel.get_map().values()):
            key.fileobj.close()


def files_run(args, root, with_browsers):
    """The busy room's p99 with or without 100 browsers loading files."""
    proc, hp, ip = start(args, root)
    b = None
    try:
        if with_browsers:
            b = Browsers(hp, 100)
            b.thread.start()
            time.sleep(0.5)
        res = bench(args, proc, ip, BUSY + ["--warmup", "1", "--duration", str(args.duration)], False)
        if b:
            res["http_requests"] = float(b.requests)
        return res
    finally:
        if b:
            b.stop.set()
            b.thread.join()
        proc.terminate()
        proc.wait()


def med(runs, key):
    vals = [r[key] for r in runs if isinstance(r.get(key), float)]
    return statistics.median(vals) if vals else float("nan")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--parleyd", default=os.path.join(ROOT, "build", "parleyd"))
    p.add_argument("--bench", default=os.path.join(ROOT, "build", "parley-bench"))
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--idle", type=int, default=5000)
    p.add_argument("--duration", type=float, default=4)
    args = p.parse_args()
    root = tempfile.mkdtemp(prefix="parley-web-bench-")
    for name, size in FILES.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(b"x" * size)
    busy = BUSY + ["--warmup", "1", "--duration", str(args.duration)]
    idle = ["--clients", str(args.idle), "--rooms", "1", "--register-only", "--allow-partial", "--settle", "3",
            "--join-timeout", "60"]
    runs = {k: [] for k in ("busy_irc", "busy_ws", "idle_irc", "idle_ws", "files_alone", "files_loaded")}
    for rep in range(args.reps):
        order = [False, True] if rep % 2 == 0 else [True, False]
        for ws in order:
            runs["busy_ws" if ws else "busy_irc"].append(fresh(args, root, busy, ws))
        for ws in order:
            runs["idle_ws" if ws else "idle_irc"].append(fresh(args, root, idle, ws))
        for loaded in order:
            runs["files_loaded" if loaded else "files_alone"].append(files_run(args, root, loaded))
        print("rep %d done" % (rep + 1), file=sys.stderr)
    ok = all(r.get("status") == "ok" and r.get("lost", 0) == 0 for v in runs.values() for r in v)
    irc, ws = med(runs["busy_irc"], "deliv_per_s"), med(runs["busy_ws"], "deliv_per_s")
    mem_irc, mem_ws = med(runs["idle_irc"], "srv_rss_per_conn_b"), med(runs["idle_ws"], "srv_rss_per_conn_b")
    p_alone, p_loaded = med(runs["files_alone"], "lat_p99_us"), med(runs["files_loaded"], "lat_p99_us")
    reqs = med(runs["files_loaded"], "http_requests")
    print("medians of %d, parleyd pinned to core 0, parley-bench to core 1" % args.reps)
    print("busy room   IRC %.0f deliveries/s, WebSocket %.0f: %.2fx (target >= 0.7x) %s"
          % (irc, ws, ws / irc, "MET" if ws / irc >= 0.7 else "MISSED"))
    print("idle        IRC %.0f B/client, WebSocket %.0f B/client: +%.0f B (target <= 2048) %s"
          % (mem_irc, mem_ws, mem_ws - mem_irc, "MET" if mem_ws - mem_irc <= 2048 else "MISSED"))
    print("files       busy room p99 %.0f us alone, %.0f us with 100 browsers loading files (%.0f requests"
          " in the run): %.2fx (target <= 1.2x) %s"
          % (p_alone, p_loaded, reqs, p_loaded / p_alone, "MET" if p_loaded / p_alone <= 1.2 else "MISSED"))
    os.makedirs(run.OUT, exist_ok=True)
    with open(os.path.join(run.OUT, "web-results.json"), "w") as f:
        json.dump(runs, f, indent=1)
    if not ok:
        print("some runs failed or lost messages: see bench/out/web-results.json")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
