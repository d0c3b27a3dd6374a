#!/usr/bin/python3
"""What a metrics scrape costs, and whether it holds the loop up.

Against a fresh parleyd (text and metrics listeners on 127.0.0.1) with
IDLE idle text connections (in #lobby, reading), measures:

  scrape   the time of one GET /metrics on a kept-alive connection, over
           SCRAPES scrapes back to back: median and p99 as the client sees
           it, the page size, and the server's CPU time per scrape
           (utime + stime from /proc/PID/stat, over all of them).
  probe    the round trip of a line between two clients in a room of
           their own, 200 times, first alone, then while a scraper (another
           process) sends GET /metrics 100 times a second (1500 times
           Prometheus's default rate): medians and p99 side by side, and
           their ratio.

    /usr/bin/python3 bench/metrics_scrape.py                # IDLE = 5000
    /usr/bin/python3 bench/metrics_scrape.py --idle 0 --scrapes 500

Needs `make` first (build/parleyd) and an open-file limit above IDLE.
Standard library only; takes well under a minute.
"""

import argparse
import os
import re
import socket
import statistics
import subprocess
import multiprocessing
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start(parleyd):
    p = subprocess.Popen(
        [parleyd, "--listen", "text://127.0.0.1:0", "--listen", "metrics://127.0.0.1:0", "--flood-rate", "0", "--flood-bytes", "0", "--log-level", "warn", "--quiet-above", "8"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    ready = p.stdout.readline().decode()
    ports = re.findall(r"127\.0\.0\.1[ :](\d+)", ready)
    return p, int(ports[0]), int(ports[-1])


def text_client(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_until(s, token, buf=b""):
    while token not in buf:
        data = s.recv(65536)
        if not data:
            raise SystemExit("server closed a connection")
        buf += data
    return buf


def scrape(s):
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: bench\r\n\r\n")
    head = read_until(s, b"\r\n\r\n")
    top, body = head.split(b"\r\n\r\n", 1)
    n = int(re.search(rb"Content-Length: (\d+)", top).group(1))
    while len(body) < n:
        body += s.recv(65536)
    return n


def hammer(port, stop):
    """Scrapes 100 times a second until stop is set (a process of its
    own, so the probe's timing does not share an interpreter with it)."""
    h = socket.create_connection(("127.0.0.1", port))
    while not stop.is_set():
        scrape(h)
        time.sleep(0.01)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))]


def probe_rtts(a, b, n=200):
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        a.sendall(b"p%d\n" % i)
        read_until(b, b"p%d\r\n" % i)
        out.append((time.perf_counter() - t0) * 1e6)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--parleyd", default=os.path.join(ROOT, "build/parleyd"))
    ap.add_argument("--idle", type=int, default=5000)
    ap.add_argument("--scrapes", type=int, default=2000)
    args = ap.parse_args()
    p, tport, hport = start(args.parleyd)
    try:
        idle = [text_client(tport) for _ in range(args.idle)]
        a, b = text_client(tport), text_client(tport)
        for c, room in ((a, b"probe"), (b, b"probe")):
            c.sendall(b"/join " + room + b"\n")
        read_until(b, b"* you joined #probe (2 people here)")
        time.sleep(0.5)  # let the welcomes and joins drain
        for c in (a, b):
            c.setblocking(False)
            try:
                while c.recv(65536):
                    pass
            except BlockingIOError:
                pass
            c.setblocking(True)
        h = socket.create_connection(("127.0.0.1", hport))
        times, size = [], 0
        cpu0 = cpu_seconds(p.pid)
        for _ in range(args.scrapes):
            t0 = time.perf_counter()
            size = scrape(h)
            times.append((time.perf_counter() - t0) * 1e6)
        cpu = cpu_seconds(p.pid) - cpu0
        alone = probe_rtts(a, b)
        stop = multiprocessing.Event()
        th = multiprocessing.Process(target=hammer, args=(hport, stop))
        th.start()
        time.sleep(0.2)  # the scraper is under way
        busy = probe_rtts(a, b)
        stop.set()
        th.join()
        print("idle connections: %d, page: %d bytes" % (args.idle, size))
        print("scrape: median %.0f us, p99 %.0f us (%d scrapes); server CPU %.0f us per scrape" % (statistics.median(times), pct(times, 0.99), len(times), cpu / len(times) * 1e6))
        print("probe round trip alone: median %.0f us, p99 %.0f us" % (statistics.median(alone), pct(alone, 0.99)))
        print("probe round trip while scraped 100 times a second: median %.0f us, p99 %.0f us" % (statistics.median(busy), pct(busy, 0.99)))
        print("ratio of medians (scraped / alone): %.2f" % (statistics.median(busy) / statistics.median(alone)))
        for c in idle:
            c.close()
    finally:
        p.terminate()
        p.wait(10)


if __name__ == "__main__":
    main()
