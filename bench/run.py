#!/usr/bin/python3
"""Runs parley's benchmark scenarios against three servers and writes a report.

What it does: for every scenario (busy room, big room, many rooms, idle
10,000, idle at the descriptor limit, slow reader, saturation) it starts a
fresh server process for each run -- parleyd, redis-server (pub/sub, its own
instance) and the reference relay (build/room_floor --relay, see
bench/room_floor.c) -- pinned to core 0, drives it with build/parley-bench
pinned to core 1, repeats each run (3 times by default), and writes
docs/BENCHMARKS.md (machine, exact commands, median tables, ratios
parley/redis and parley/relay, the targets with pass or miss) and
docs/benchmarks.png (gnuplot); the report itself is made by bench/report.py.
Raw output of every run goes to bench/out/.

How to run it (from the repository root, after `make`):

    sh bench/run.sh            # full: 3 repetitions, 10-25 minutes
    sh bench/run.sh --quick    # make bench: 1 repetition, under 2 minutes
    /usr/bin/python3 bench/run.py --help

The quick mode writes bench/out/BENCHMARKS-quick.md and
bench/out/benchmarks-quick.png instead, so `make bench` does not replace the
committed full report. Every run saves its results in
bench/out/results-full.json or results-quick.json; `--from-json FILE`
rewrites the report from them without running anything.

Exit status: 0 when every run delivered everything it had to (targets missed
are reported, not fatal), 1 when a run lost messages or failed, 2 when a
server or tool is missing. Standard library only.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

from report import (NOISY_PCT, SERVERS, document, log, med, targets,
                    verdict, write_chart)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")

# Protocol parley-bench speaks to each server. "floor" is bench/room_floor.c,
# the least work a relay with rooms can do (the many-rooms yardstick);
# "relay" is the same program with --relay, without rooms or login.
PROTO = {"parley": "text", "redis": "resp", "relay": "relay",
         "floor": "text"}

# Output queue cut-off of parleyd and redis in every run.
SENDQ = 1048576

# Before a run, wait until the rest of the machine uses less than this many
# cores (others' builds and tests share it).
QUIET_CORES = 0.15

# Scenarios: name -> (title, parley-bench arguments, servers, quick and full
# (warmup, duration) in seconds).
SCENARIOS = [
    ("busy", "busy room: 1 room, 50 clients, 10 senders, 16 in flight each",
     ["--clients", "50", "--rooms", "1", "--senders", "10", "--window", "16"],
     SERVERS, (0.5, 1.5), (1, 5)),
    ("big", "big room: 1 room, 1000 clients, 1 sender at 200 msgs/s",
     ["--clients", "1000", "--rooms", "1", "--senders", "1", "--rate", "200"],
     SERVERS, (0.5, 2), (1, 5)),
    ("many", "many rooms: 100 rooms of 10, 100 senders at 20 msgs/s each",
     ["--clients", "1000", "--rooms", "100", "--senders", "100", "--rate",
      "20"],
     ("parley", "redis", "floor"), (0.5, 2), (1, 5)),
    ("idle", "idle: 10,000 connected and joined clients",
     ["--clients", "10000", "--rooms", "1"], SERVERS, (0, 0.2), (0, 0.5)),
    ("max", "idle at the limit: as many clients as 20,000 descriptors allow",
     ["--clients", "20000", "--rooms", "1", "--allow-partial",
      "--join-timeout", "20"], SERVERS, (0, 0.2), (0, 0.5)),
    ("slow", "slow reader: the busy room plus one member that stops reading",
     ["--clients", "50", "--rooms", "1", "--senders", "10", "--window", "16",
      "--slow", "1"], SERVERS, (0.5, 1.5), (1, 5)),
]


SAT_ARGS = ["--clients", "50", "--rooms", "1", "--senders", "10"]
SAT_WINDOWS = {"quick": [1, 4, 16, 64, 256],
               "full": [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]}
SAT_TIMES = {"quick": (0.3, 1), "full": (0.5, 2)}


# Flags that lift parleyd's limits for a benchmark, with the output queue
# cut-off of every run. A build is given those its --help names, so that an
# older parleyd (bench/ab.py runs one) is not refused for a newer flag.
# History in memory (--db none): these scenarios compare relays, and
# bench/store.py measures what the database costs.
PARLEY_FLAGS = [("--db", "none"), ("--flood-rate", "0"), ("--flood-bytes", "0"),
                ("--quiet-above", "0"), ("--max-per-ip", "0"),
                ("--room-rate-per-ip", "0"), ("--sendq-max", str(SENDQ))]
_known_flags = {}


def parley_flags(parleyd):
    """Returns the PARLEY_FLAGS that this parleyd binary knows, as a flat
    argument list (asks its --help once per binary)."""
    if parleyd not in _known_flags:
        try:
            p = subprocess.run([parleyd, "--help"], capture_output=True,
                               text=True, timeout=10)
            helptext = p.stdout + p.stderr
        except OSError:
            helptext = ""
        _known_flags[parleyd] = [x for flag, val in PARLEY_FLAGS
                                 if re.search(r"^\s*%s\b" % flag, helptext,
                                              re.M)
                                 for x in (flag, val)]
    return _known_flags[parleyd]


def free_port():
    """Returns a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=5.0):
    """Waits until 127.0.0.1:port accepts a connection; False on timeout."""
    end = time.time() + timeout
    while time.time() < end and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.02)
    return False


class Server:
    """One server process pinned to core 0, started fresh for every run."""

    def __init__(self, name, args):
        self.name = name
        self.proto = PROTO[name]
        self.args = args
        self.proc = None
        self.port = None
        self.logf = None

    def command(self, port):
        """Returns the server's command line for the given port."""
        a = self.args
        if self.name == "parley":
            return [a.parleyd, "--listen", "text://127.0.0.1:%s" % port
                    ] + parley_flags(a.parleyd)
        if self.name == "redis":
            return [a.redis, "--port", str(port), "--bind", "127.0.0.1",
                    "--protected-mode", "no", "--save", "", "--appendonly",
                    "no", "--maxclients", "100000", "--loglevel", "warning",
                    "--client-output-buffer-limit", "pubsub 1mb 0 0"]
        if self.name == "floor":
            return [a.floor, str(port)]
        return [a.floor, "--relay", str(port)]

    def start(self, tag):
        """Starts the server; returns False if it did not come up."""
        port = 0 if self.name == "parley" else free_port()
        path = os.path.join(OUT, "%s.%s.server.log" % (tag, self.name))
        self.logf = open(path, "w+")
        self.proc = subprocess.Popen(
            ["taskset", "-c", "0"] + self.command(port),
            stdout=self.logf, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        if self.name == "parley":
            self.port = self._parley_port()
            return self.port is not None
        self.port = port
        return wait_port(port, self.proc)

    def _parley_port(self):
        """Reads the port parleyd picked from its 'event=listen' log line."""
        end = time.time() + 5
        pat = re.compile(r"event=listen proto=text addr=127\.0\.0\.1:(\d+)")
        while time.time() < end and self.proc.poll() is None:
            self.logf.seek(0)
            m = pat.search(self.logf.read())
            if m:
                return int(m.group(1))
            time.sleep(0.02)
        return None

    def stop(self):
        """Stops the server (SIGTERM, then SIGKILL after 5 s)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.logf:
            self.logf.close()
        self.proc = None


def parse_result(text):
    """Returns the key=value pairs of the RESULT line in text, or None."""
    for line in text.splitlines():
        if line.startswith("RESULT "):
            out = {}
            for kv in line.split()[1:]:
                k, _, v = kv.partition("=")
                try:
                    out[k] = float(v)
                except ValueError:
                    out[k] = v
            return out
    return None


def bench_command(args, server, extra, label):
    """Returns the parley-bench command line for one run."""
    return (["taskset", "-c", "1", args.bench, "--proto", server.proto,
             "--port", str(server.port), "--server-pid",
             str(server.proc.pid), "--quiet", "--label", label] + extra)


def run_once(args, name, extra, label, make=None):
    """Runs one load against a fresh server; returns the RESULT dict.
    make(name, args) builds the server (default: Server; bench/irc.py
    passes its own)."""
    server = (make or Server)(name, args)
    tag = label.replace("/", "_")
    try:
        if not server.start(tag):
            log("  %s: server did not start" % label)
            return {"status": "fail", "why": "server did not start"}
        time.sleep(0.1)
        cmd = bench_command(args, server, extra, label)
        try:
            p = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=300)
            out, rc = p.stdout + p.stderr, p.returncode
        except subprocess.TimeoutExpired as e:
            out, rc = str(e.stdout or "") + "\ntimed out\n", -1
    finally:
        server.stop()
    with open(os.path.join(OUT, "%s.bench.log" % tag), "w") as f:
        f.write(" ".join(cmd) + "\n" + out)
    res = parse_result(out) or {"status": "fail"}
    res["rc"] = rc
    res["label"] = label
    if rc != 0:
        res["status"] = "fail"
    return res


def cpu_busy():
    """Non-idle CPU seconds of the whole machine so far (/proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def wait_quiet(args):
    """Waits (up to args.quiet_wait s) until other processes use less than
    QUIET_CORES of the machine, so a run does not start amid someone's
    build. Returns the seconds waited."""
    start = time.time()
    while time.time() - start < args.quiet_wait:
        b0, t0 = cpu_busy(), time.time()
        time.sleep(0.3)
        if (cpu_busy() - b0) / (time.time() - t0) < QUIET_CORES:
            break
    return time.time() - start


def run_point(args, name, extra, label, once=None):
    """Runs once, again (twice at most, or args.tries - 1 times) when other
    processes took more than NOISY_PCT (or args.noisy_pct) of a core during
    the measuring window; keeps the quietest. once(args, name, extra, label)
    makes one run (default: run_once)."""
    best = None
    noisy = getattr(args, "noisy_pct", NOISY_PCT)
    for _attempt in range(getattr(args, "tries", 2 if args.quick else 3)):
        waited = wait_quiet(args)
        if waited > 1:
            log("%-16s waited %.0f s for the machine to calm down" % (
                label, waited))
        res = (once or run_once)(args, name, extra, label)
        other = res.get("other_cpu_pct")
        if best is None or (isinstance(other, float) and other <
                            best.get("other_cpu_pct", 1e9)):
            best = res
        if not isinstance(other, float) or other < noisy:
            break
        if time.time() > args.retry_until:
            log("%-16s noisy, no time left to repeat it" % label)
            break
        log("%-16s noisy (%.0f %% of a core used by others), again" % (
            label, other))
    return best


def short(res):
    """One-line summary of a run for the progress log."""
    if res.get("status") != "ok":
        return "FAILED (rc %s)" % res.get("rc")
    return ("%.3f M deliv/s, %.0f ns/deliv, p99 %.0f us, joined %d, "
            "%.3f s join, %.0f B/conn, lg %.0f%%, others %.0f%%" % (
                res["deliv_per_s"] / 1e6, res["srv_ns_per_deliv"],
                res["lat_p99_us"], res["joined"], res["connect_s"],
                res["srv_rss_per_conn_b"], res["lg_cpu_pct"],
                res.get("other_cpu_pct", -1)))


def run_scenarios(args, data):
    """Runs every fixed scenario, interleaving repetitions."""
    for rep in range(args.reps):
        for name, _title, extra, servers, quick, full in SCENARIOS:
            if args.only and name not in args.only:
                continue
            warm, dur = quick if args.quick else full
            times = ["--warmup", str(warm), "--duration", str(dur)]
            for srv in servers:
                label = "%s/%s/%d" % (name, srv, rep + 1)
                res = run_point(args, srv, extra + times, label)
                data.setdefault(name, {}).setdefault(srv, []).append(res)
                log("%-16s %s" % (label, short(res)))


def run_saturation(args, data):
    """Busy room with growing windows until throughput stops growing."""
    mode = "quick" if args.quick else "full"
    warm, dur = SAT_TIMES[mode]
    times = ["--warmup", str(warm), "--duration", str(dur)]
    sat = data.setdefault("sat", {})
    for srv in SERVERS:
        best, flat = 0.0, 0
        for w in SAT_WINDOWS[mode]:
            runs = []
            for rep in range(args.reps):
                label = "sat/%s/w%d/%d" % (srv, w, rep + 1)
                runs.append(run_point(args, srv, SAT_ARGS + [
                    "--window", str(w)] + times, label))
                log("%-16s %s" % (label, short(runs[-1])))
            sat.setdefault(srv, {})[w] = runs
            dps = med(runs, "deliv_per_s") or 0.0
            flat = flat + 1 if dps < best * 1.05 else 0
            best = max(best, dps)
            if flat >= (1 if args.quick else 2):
                break


def shown_path(args, arg):
    """arg, relative to the repository if it is a path inside it."""
    if os.path.isabs(arg) and arg.startswith(args.root + os.sep):
        return os.path.relpath(arg, args.root)
    return arg


def commands(args):
    """Markdown block with the exact commands of the runs."""
    lines = ["```"]
    for srv in SERVERS + ("floor",):
        c = Server(srv, args).command("PORT")
        lines.append("taskset -c 0 " + " ".join(
            "''" if x == "" else ("'%s'" % x if " " in x else
                                  shown_path(args, x))
            for x in c))
    lines.append("")
    mode = "quick" if args.quick else "full"
    for name, _t, extra, servers, quick, full in SCENARIOS:
        warm, dur = quick if args.quick else full
        lines.append("# %s (%s)" % (name, ", ".join(servers)))
        lines.append("taskset -c 1 build/parley-bench --proto text|resp|"
                     "relay --port PORT --server-pid PID --quiet %s "
                     "--warmup %s --duration %s" % (" ".join(extra), warm,
                                                    dur))
    warm, dur = SAT_TIMES[mode]
    lines.append("# saturation, W = %s until the rate stops growing" %
                 ", ".join(map(str, SAT_WINDOWS[mode])))
    lines.append("taskset -c 1 build/parley-bench --proto ... %s --window W "
                 "--warmup %s --duration %s" % (" ".join(SAT_ARGS), warm,
                                                dur))
    lines.append("```")
    return "\n".join(lines)


def collect(args):
    """Runs every scenario; returns the results."""
    data = {}
    # A first run is often slow (caches, frequency, page faults): prime.
    run_once(args, "relay", SAT_ARGS + ["--window", "16", "--warmup", "0",
                                        "--duration", "1"], "prime/relay/0")
    run_scenarios(args, data)
    if not args.only or "sat" in args.only:
        run_saturation(args, data)
    return data


def save_results(args, data, elapsed):
    """Saves the results for a later --from-json."""
    path = os.path.join(OUT, "results-%s.json" % (
        "quick" if args.quick else "full"))
    with open(path, "w") as f:
        json.dump({"quick": args.quick, "reps": args.reps,
                   "elapsed": elapsed, "date": time.time(),
                   "results": data}, f, indent=1)


def load_results(args):
    """Loads saved results; returns (data, elapsed) and sets the mode,
    repetitions and date of args from them."""
    with open(args.from_json) as f:
        saved = json.load(f)
    data = saved["results"]
    data["sat"] = {s: {int(w): r for w, r in d.items()}
                   for s, d in data.get("sat", {}).items()}
    args.quick, args.reps = saved["quick"], saved["reps"]
    args.date = saved["date"]
    return data, saved["elapsed"]


def prepare(args):
    """Checks tools; returns an error message or None."""
    for tool, path in (("parleyd", args.parleyd),
                       ("parley-bench", args.bench),
                       ("room_floor", args.floor)):
        if not os.access(path, os.X_OK):
            return "%s not found at %s (run make)" % (tool, path)
    if not shutil.which(args.redis):
        return "redis-server not found (apt-get install redis-server)"
    if not shutil.which("taskset"):
        return "taskset not found (apt-get install util-linux)"
    return None


def add_common_args(p, quick_help):
    """Adds the options bench/run.py shares with bench/irc.py: --quick,
    --reps, --quiet-wait and the paths of the programs."""
    p.add_argument("--quick", action="store_true", help=quick_help)
    p.add_argument("--reps", type=int, help="repetitions (default 3, "
                   "quick 1)")
    p.add_argument("--quiet-wait", type=float, help="seconds to wait "
                   "for an idle machine before each run (2, full: 30)")
    p.add_argument("--parleyd", default=os.path.join(ROOT, "build",
                                                     "parleyd"))
    p.add_argument("--bench", default=os.path.join(ROOT, "build",
                                                   "parley-bench"))
    p.add_argument("--floor", default=os.path.join(ROOT, "build",
                                                   "room_floor"))


def common_defaults(a):
    """Fills in the defaults of the options of add_common_args."""
    a.reps = a.reps or (1 if a.quick else 3)
    a.date = time.time()
    a.root = ROOT
    if a.quiet_wait is None:
        a.quiet_wait = 2.0 if a.quick else 30.0


def parse_args():
    """Command line of the runner."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_args(p, "1 repetition, short runs (under 2 minutes)")
    p.add_argument("--only", nargs="*", help="scenarios to run (busy big "
                   "many idle max slow sat)")
    p.add_argument("--out", help="report (default docs/BENCHMARKS.md; "
                   "quick: bench/out/BENCHMARKS-quick.md)")
    p.add_argument("--from-json", help="write the report from the results "
                   "a former run saved (bench/out/results-*.json)")
    p.add_argument("--png", help="chart (default: benchmarks.png beside "
                   "--out)")
    p.add_argument("--redis", default="redis-server")
    a = p.parse_args()
    common_defaults(a)
    if a.out is None:
        a.out = (os.path.join(OUT, "BENCHMARKS-quick.md") if a.quick else
                 os.path.join(ROOT, "docs", "BENCHMARKS.md"))
    a.png = a.png or os.path.join(
        os.path.dirname(a.out),
        "benchmarks-quick.png" if a.quick else "benchmarks.png")
    return a


def main():
    """Runs everything, writes the report; see the module docstring."""
    args = parse_args()
    os.makedirs(OUT, exist_ok=True)
    problem = prepare(args)
    if problem:
        log("bench: " + problem)
        return 2
    start = time.time()
    # Repeating noisy runs stops when it would push quick mode past 2 min.
    args.retry_until = start + (80 if args.quick else 3600)
    if args.from_json:
        data, elapsed = load_results(args)
    else:
        data = collect(args)
        elapsed = time.time() - start
        save_results(args, data, elapsed)
    chart_ok = write_chart(data, args.png, OUT)
    with open(args.out, "w") as f:
        f.write(document(args, data, chart_ok, elapsed, SCENARIOS,
                         commands(args)))
    runs = [r for name, d in data.items() if name != "sat"
            for rs in d.values() for r in rs]
    runs += [r for d in data.get("sat", {}).values() for rs in d.values()
             for r in rs]
    failed = [r.get("label", "?") for r in runs if r.get("status") != "ok"]
    for scen, target, measured, ok in targets(data):
        log("target %-12s %-6s %s" % (scen, verdict(ok).strip("*"),
                                      measured))
    log("wrote %s in %.0f s; %d runs, %d failed %s" % (
        args.out, time.time() - start, len(runs), len(failed),
        " ".join(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
