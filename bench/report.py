"""Tables, targets, chart and BENCHMARKS.md text for bench/run.py.

What it does: turns the RESULT dictionaries collected by bench/run.py into
markdown (medians over repetitions, ratios parley/redis and parley/relay,
the targets with pass or miss) and a PNG chart drawn by gnuplot.
It runs nothing itself but gnuplot and a few read-only shell commands
describing the machine. Not run directly: bench/run.py imports it.
Standard library only.
"""

import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys

SERVERS = ("parley", "redis", "relay")
# A run during which other processes used more than this share of a core
# (from /proc/stat) is noisy: its rates are suspect.
NOISY_PCT = 25.0


def log(msg):
    """Prints a progress line on stderr."""
    print(msg, file=sys.stderr, flush=True)


# Figures of an independent measurement, made on a 2-core machine of the
# same kind when the targets were set (its relay did the work of
# room_floor --relay), shown beside ours for comparison.
REFERENCE = {
    "busy": "redis 7.9 M deliveries/s at 126 ns of server CPU each; "
            "relay 17.8 M/s at 46 ns",
    "big": "3.0-3.9 us of server CPU per delivery for redis and the relay",
    "many": "redis 8.3 us of server CPU per delivery",
    "idle": "redis 9.7 KiB per connection, the best IRC server 2.3 KiB",
}


def med(runs, key):
    """Median of key over runs that have it as a number, or None."""
    vals = [r[key] for r in runs if isinstance(r.get(key), float)]
    return statistics.median(vals) if vals else None


def fmt(v, spec, none="n/a"):
    """Formats a number, or returns none for a missing value."""
    return none if v is None else format(v, spec)


def ratio(a, b):
    """a / b as 'N.NNx', or n/a."""
    if a is None or b is None or b == 0:
        return "n/a"
    return "%.2fx" % (a / b)


def is_noisy(run):
    """True when other processes used more than NOISY_PCT of a core."""
    return (run.get("other_cpu_pct") or 0) >= NOISY_PCT


def all_ok(runs):
    """'ok' when every run passed, else how many failed; says how many runs
    were noisy."""
    bad = sum(1 for r in runs if r.get("status") != "ok")
    noisy = sum(1 for r in runs if is_noisy(r))
    text = "ok" if bad == 0 else "%d of %d FAILED" % (bad, len(runs))
    return text + (" (%d of %d noisy)" % (noisy, len(runs)) if noisy else "")


def load_table(data, name):
    """Markdown table of a message scenario (medians over repetitions)."""
    rows = ["| server | deliveries/s | server CPU per delivery | "
            "server CPU | latency p50 / p99 / p99.9 / max (us) | lost | "
            "load gen CPU | other processes | runs |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for srv, runs in data.get(name, {}).items():
        rows.append("| %s | %s M | %s ns | %s %% | %s / %s / %s / %s | %s | "
                    "%s %% | %s %% | %s |" % (
                        srv, fmt(med(runs, "deliv_per_s") and
                                 med(runs, "deliv_per_s") / 1e6, ".3f"),
                        fmt(med(runs, "srv_ns_per_deliv"), ".1f"),
                        fmt(med(runs, "srv_cpu_pct"), ".0f"),
                        fmt(med(runs, "lat_p50_us"), ".0f"),
                        fmt(med(runs, "lat_p99_us"), ".0f"),
                        fmt(med(runs, "lat_p999_us"), ".0f"),
                        fmt(med(runs, "lat_max_us"), ".0f"),
                        fmt(max((r.get("lost", 0) or 0 for r in runs),
                                default=None), ".0f"),
                        fmt(med(runs, "lg_cpu_pct"), ".0f"),
                        fmt(med(runs, "other_cpu_pct"), ".0f"),
                        all_ok(runs)))
    return "\n".join(rows)


def ratio_lines(data, name, keys):
    """Lines with parley's ratios to each other server of the scenario."""
    d = data.get(name, {})
    p = d.get("parley", [])
    out = []
    for other in ("redis", "relay", "floor"):
        if other not in d:
            continue
        parts = ["%s %s" % (label, ratio(med(p, k), med(d[other], k)))
                 for label, k in keys]
        out.append("- parley/%s: %s" % (other, ", ".join(parts)))
    return "\n".join(out)


def idle_table(data, name):
    """Markdown table of an idle scenario."""
    rows = ["| server | joined | connect+join | server RSS per connection | "
            "kernel slab per connection (both ends) | runs |",
            "| --- | --- | --- | --- | --- | --- |"]
    for srv, runs in data.get(name, {}).items():
        rows.append("| %s | %s | %s s | %s B (%s KiB) | %s B | %s |" % (
            srv, fmt(med(runs, "joined"), ".0f"),
            fmt(med(runs, "connect_s"), ".3f"),
            fmt(med(runs, "srv_rss_per_conn_b"), ".0f"),
            fmt(med(runs, "srv_rss_per_conn_b") and
                med(runs, "srv_rss_per_conn_b") / 1024, ".2f"),
            fmt(med(runs, "slab_per_conn_b"), ".0f"), all_ok(runs)))
    return "\n".join(rows)


def slow_table(data):
    """Markdown table of the slow-reader scenario."""
    rows = ["| server | others: deliveries/s | others lost | slow reader cut "
            "off (runs) | vs its busy room | runs |",
            "| --- | --- | --- | --- | --- | --- |"]
    for srv, runs in data.get("slow", {}).items():
        busy = med(data.get("busy", {}).get(srv, []), "deliv_per_s")
        cut = sum(1 for r in runs if r.get("slow_cut", 0) >= 1)
        rows.append("| %s | %s M | %s | %d of %d | %s | %s |" % (
            srv, fmt(med(runs, "deliv_per_s") and
                     med(runs, "deliv_per_s") / 1e6, ".3f"),
            fmt(max((r.get("lost", 0) or 0 for r in runs), default=None),
                ".0f"), cut, len(runs),
            ratio(med(runs, "deliv_per_s"), busy), all_ok(runs)))
    return "\n".join(rows)


def sat_table(data):
    """Markdown table of the saturation scenario: M deliveries/s by window."""
    sat = data.get("sat", {})
    windows = sorted({w for s in sat.values() for w in s})
    rows = ["| window | " + " | ".join(
        "%s M/s (ns/deliv, lg CPU)" % s for s in sat) + " |",
        "| --- |" + " --- |" * len(sat)]
    for w in windows:
        cells = []
        for srv in sat:
            runs = sat[srv].get(w)
            if not runs:
                cells.append("")
                continue
            cells.append("%s (%s, %s %%)%s" % (
                fmt(med(runs, "deliv_per_s") and
                    med(runs, "deliv_per_s") / 1e6, ".3f"),
                fmt(med(runs, "srv_ns_per_deliv"), ".0f"),
                fmt(med(runs, "lg_cpu_pct"), ".0f"),
                " *" if any(is_noisy(r) for r in runs) else ""))
        rows.append("| %d | %s |" % (w, " | ".join(cells)))
    rows += ["", "\\* at least one of the runs behind this median was noisy "
             "(other processes used more than %.0f %% of a core)." %
             NOISY_PCT]
    return "\n".join(rows)


def sat_peak(data, srv):
    """(peak deliveries/s, window of the peak) of a server's saturation."""
    best = (None, None)
    for w, runs in sorted(data.get("sat", {}).get(srv, {}).items()):
        v = med(runs, "deliv_per_s")
        if v is not None and (best[0] is None or v > best[0]):
            best = (v, w)
    return best


def m(data, name, srv, key):
    """Median of key for one scenario and server."""
    return med(data.get(name, {}).get(srv, []), key)


def verdict(ok):
    """pass / miss / n/a."""
    return "n/a" if ok is None else ("**pass**" if ok else "**miss**")


def le(a, b, k=1.0):
    """a <= k*b, or None when a value is missing."""
    return None if a is None or b is None else a <= k * b


def target_busy(data):
    """Busy room target: throughput, or CPU per delivery if the load
    generator saturated its core first."""
    pd, rd, xd = (m(data, "busy", s, "deliv_per_s") for s in SERVERS)
    pn, rn, xn = (m(data, "busy", s, "srv_ns_per_deliv") for s in SERVERS)
    thr = None if None in (pd, rd, xd) else pd >= 1.5 * rd and pd >= 0.7 * xd
    lg = any(r.get("lg_bottleneck") == 1.0
             for s in ("parley", "relay")
             for r in data.get("busy", {}).get(s, []))
    cpu = None if None in (pn, rn, xn) else pn <= 0.6 * rn and pn <= 1.5 * xn
    lost = sum(r.get("lost", 0) or 0 for r in data.get("busy", {}).get(
        "parley", []))
    ok = None if thr is None else (thr or (lg and bool(cpu))) and lost == 0
    text = ("deliveries/s %s of redis (>= 1.5x), %s of the relay (>= 0.7x); "
            "CPU per delivery %s of redis (<= 0.6x), %s of the relay "
            "(<= 1.5x)%s; lost %d" % (
                ratio(pd, rd), ratio(pd, xd), ratio(pn, rn), ratio(pn, xn),
                "; load generator saturated, so the CPU criterion applies"
                if lg else "", lost))
    return ("busy room", "deliveries/s >= 1.5x redis and >= 0.7x relay, "
            "nothing lost (or, when the load generator saturates, server CPU "
            "per delivery <= 0.6x redis and <= 1.5x relay)", text, ok)


def noisy_runs(data, names):
    """Labels of runs of the given scenarios measured while other processes
    used more than NOISY_PCT of a core."""
    return [r.get("label", "?") for n in names
            for runs in data.get(n, {}).values() for r in runs
            if is_noisy(r)]


def targets(data):
    """Returns (scenario, target, measured, verdict-bool) rows; measured
    says so when a run behind it was noisy."""
    rows = targets_raw(data)
    deps = {"busy room": ["busy"], "big room": ["big"],
            "many rooms": ["many"], "idle": ["idle"],
            "slow reader": ["slow", "busy"]}
    out = []
    for scen, target, measured, ok in rows:
        bad = noisy_runs(data, deps.get(scen, []))
        if bad:
            measured += " (noisy: %s)" % ", ".join(bad)
        out.append((scen, target, measured, ok))
    return out


def targets_raw(data):
    """Returns (scenario, target, measured, verdict-bool) rows."""
    rows = [target_busy(data)]
    pn, xn = m(data, "big", "parley", "srv_ns_per_deliv"), m(
        data, "big", "relay", "srv_ns_per_deliv")
    pp, xp = m(data, "big", "parley", "lat_p99_us"), m(
        data, "big", "relay", "lat_p99_us")
    ok = None if le(pn, xn) is None or le(pp, xp) is None else (
        le(pn, xn) and le(pp, xp, 1.2))
    rows.append(("big room", "server CPU per delivery <= relay's, p99 "
                 "latency <= 1.2x relay's",
                 "CPU per delivery %s of the relay, p99 %s" % (
                     ratio(pn, xn), ratio(pp, xp)), ok))
    pn, rn, fn = (m(data, "many", s, "srv_ns_per_deliv")
                  for s in ("parley", "redis", "floor"))
    floor = ("" if fn is None else
             "; the room floor relay: %s of redis (%s ns), parley %s of it" %
             (ratio(fn, rn), fmt(fn, ".0f"), ratio(pn, fn)))
    rows.append(("many rooms", "server CPU per delivery <= 0.6x redis's",
                 "%s of redis (%s vs %s ns)%s" % (
                     ratio(pn, rn), fmt(pn, ".0f"), fmt(rn, ".0f"), floor),
                 le(pn, rn, 0.6)))
    rss, cs = m(data, "idle", "parley", "srv_rss_per_conn_b"), m(
        data, "idle", "parley", "connect_s")
    rows.append(("idle", "<= 1 KiB server RSS per idle connection",
                 "%s B" % fmt(rss, ".0f"), le(rss, 1024.0)))
    rows.append(("idle", "10,000 connect+join in <= 0.6 s",
                 "%s s" % fmt(cs, ".3f"), le(cs, 0.6)))
    rows.append(target_slow(data))
    return rows


def target_slow(data):
    """Slow reader target: cut off, nobody else loses, >= 0.8x busy rate."""
    runs = data.get("slow", {}).get("parley", [])
    cut = bool(runs) and all(r.get("slow_cut", 0) >= 1 for r in runs)
    lost = sum(r.get("lost", 0) or 0 for r in runs)
    sd, bd = med(runs, "deliv_per_s"), m(data, "busy", "parley",
                                        "deliv_per_s")
    ok = None if not runs or sd is None or bd is None else (
        cut and lost == 0 and sd >= 0.8 * bd)
    return ("slow reader", "the reader is cut off at its sendq; the others "
            "lose nothing and keep >= 0.8x the busy-room rate",
            "cut off in %d of %d runs, others lost %d, rate %s of the busy "
            "room" % (sum(1 for r in runs if r.get("slow_cut", 0) >= 1),
                      len(runs), lost, ratio(sd, bd)), ok)


def sh(cmd):
    """Output of a shell command, stripped, or '?'."""
    try:
        return subprocess.run(cmd, shell=True, capture_output=True,
                              text=True, timeout=10).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine(args):
    """Markdown lines describing the machine and the software."""
    model = sh("lscpu | sed -n 's/^Model name: *//p'")
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' "
             "/proc/meminfo")
    return "\n".join([
        "- date: %s" % datetime.datetime.fromtimestamp(
            args.date, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "- CPU: %s, %s cores (`lscpu`); memory %s" % (model, os.cpu_count(),
                                                     mem),
        "- kernel: %s (%s)" % (platform.release(), sh(
            ". /etc/os-release && echo $PRETTY_NAME")),
        "- descriptor limit per process: %s (hard)" % sh("ulimit -Hn"),
        "- parleyd: %s (binary of %s, source at commit %s%s); redis: %s; "
        "relay: build/room_floor --relay (bench/room_floor.c); "
        "compiler: %s" % (
            sh("%s --version" % args.parleyd),
            datetime.datetime.fromtimestamp(
                os.path.getmtime(args.parleyd),
                datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            sh("git -C %s log -1 --format=%%h" % args.root),
            " plus uncommitted changes" if sh(
                "git -C %s status --porcelain -- src" % args.root) != "?"
            else "",
            sh("%s --version | cut -d' ' -f3" % args.redis),
            sh("cc --version | head -1")),
        "- mode: %s, %d repetition%s per point; figures are medians" % (
            "quick (`make bench`)" if args.quick else "full",
            args.reps, "" if args.reps == 1 else "s")])


def write_chart(data, png, workdir):
    """Draws the saturation curves and CPU per delivery with gnuplot; its
    data files go to workdir. Returns True when the chart was written."""
    if not shutil.which("gnuplot"):
        log("gnuplot not found: no chart")
        return False
    sat = data.get("sat", {})
    windows = sorted({w for s in sat.values() for w in s})
    if not windows or "busy" not in data:
        log("partial run: no chart")
        return False
    with open(os.path.join(workdir, "sat.dat"), "w") as f:
        for w in windows:
            vals = [med(sat.get(s, {}).get(w, []), "deliv_per_s")
                    for s in SERVERS]
            f.write("%d %s\n" % (w, " ".join(
                "?" if v is None else "%.4f" % (v / 1e6) for v in vals)))
    with open(os.path.join(workdir, "cost.dat"), "w") as f:
        for name in ("busy", "big", "many", "slow"):
            vals = [m(data, name, s, "srv_ns_per_deliv") for s in SERVERS]
            f.write("%s %s\n" % (name, " ".join(
                "?" if not v else "%.2f" % v for v in vals)))
    script = """
set terminal pngcairo size 1200,480 font "sans,10"
set output '%s'
set datafile missing "?"
set multiplot layout 1,2 title "parley vs redis pub/sub vs the reference relay (server on one core)"
set title "Saturation: busy room (50 clients, 10 senders), growing window"
set logscale x 2
set xlabel "messages in flight per sender"
set ylabel "M deliveries/s"
set key top left
set grid
plot '%s/sat.dat' u 1:2 w lp lw 2 t 'parley', '' u 1:3 w lp lw 2 t 'redis', '' u 1:4 w lp lw 2 t 'relay'
unset logscale x
set title "Server CPU per delivery (lower is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel "ns per delivery (log scale)"
set xlabel "scenario"
set yrange [10:*]
plot '%s/cost.dat' u 2:xtic(1) t 'parley', '' u 3 t 'redis', '' u 4 t 'relay'
unset multiplot
""" % (png, workdir, workdir)
    p = subprocess.run(["gnuplot"], input=script, text=True,
                       capture_output=True)
    if p.returncode != 0:
        log("gnuplot failed: %s" % p.stderr.strip())
    return p.returncode == 0


def estimate_100k(data):
    """Text on what one process would need for 100,000 connections."""
    rss = m(data, "max", "parley", "srv_rss_per_conn_b") or m(
        data, "idle", "parley", "srv_rss_per_conn_b")
    slab = m(data, "max", "parley", "slab_per_conn_b") or m(
        data, "idle", "parley", "slab_per_conn_b")
    user = "%.0f MiB" % (rss * 1e5 / 2**20) if rss else "n/a"
    kern = "%.0f MiB" % (slab / 2 * 1e5 / 2**20) if slab else "n/a"
    return "\n".join([
        "What one parleyd process would need for 100,000 connections "
        "(extrapolated from the figures above):",
        "",
        "- descriptors: a hard `RLIMIT_NOFILE` of at least about 100,100 "
        "(100,000 sockets plus parleyd's small reserve); root raises it with "
        "`ulimit -Hn`, `prlimit` or systemd's `LimitNOFILE=`, within "
        "`fs.nr_open` (1,048,576 by default). This machine's 20,000 cannot "
        "be raised here, so 100,000 was not measured.",
        "- user memory: about %s of server RSS (%s B per connection)." % (
            user, fmt(rss, ".0f")),
        "- kernel memory: about %s for the server's sockets while idle "
        "(half of the %s B of slab measured per connection, which covers "
        "both ends of a loopback connection), plus socket buffers while "
        "data is queued." % (kern, fmt(slab, ".0f")),
        "- the clients: 100,000 descriptors on their side too (one "
        "parley-bench process with that limit, or several), and at least 4 "
        "source addresses for 28,232 ephemeral ports each; parley-bench "
        "spreads over 127.0.0.1, 127.0.0.2, ... by itself (`--per-addr`)."])


# Files in bench/ appended to the report as they are, in this order
# (irc.md is written by bench/irc.py).
HAND_SECTIONS = ("fairness.md", "profiles.md", "irc.md")


def document(args, data, chart_ok, elapsed, scenarios, commands):
    """Returns the text of BENCHMARKS.md; scenarios is run.SCENARIOS and
    commands the markdown block of the exact commands."""
    out = ["# parley benchmarks", "",
           "Generated by `%s` (bench/run.py) in %.0f s. Every run starts a "
           "fresh server pinned to core 0 (`taskset -c 0`) and drives it "
           "with `build/parley-bench` pinned to core 1. Servers: parleyd, "
           "redis-server pub/sub (its own instance, persistence off) and the "
           "reference relay (`build/room_floor --relay`, bench/room_floor.c: "
           "no login, no rooms, every line to every other connection, the "
           "least work a relay can do); in the many-rooms scenario, where "
           "that relay cannot go, the same program with rooms, the room "
           "floor relay (`build/room_floor`)."
           % (
               "sh bench/run.sh" + (" --quick" if args.quick else ""),
               elapsed), "",
           "## Machine", "", machine(args), "",
           "## Method", "", METHOD, "",
           "## Commands", "", commands, "",
           "## Targets", "",
           "| scenario | target | measured | verdict |",
           "| --- | --- | --- | --- |"]
    for scen, target, measured, ok in targets(data):
        out.append("| %s | %s | %s | %s |" % (scen, target, measured,
                                               verdict(ok)))
    if chart_ok:
        out += ["", "![saturation and CPU per delivery](%s)" %
                os.path.basename(args.png)]
    for name, title, _e, _s, _q, _f in scenarios:
        out += ["", "## " + title[0].upper() + title[1:], ""]
        if name in ("idle", "max"):
            out.append(idle_table(data, name))
        elif name == "slow":
            out.append(slow_table(data))
        else:
            out.append(load_table(data, name))
            out += ["", ratio_lines(data, name, [
                ("deliveries/s", "deliv_per_s"),
                ("CPU per delivery", "srv_ns_per_deliv"),
                ("p99 latency", "lat_p99_us")])]
        if name in ("idle", "max"):
            out += ["", ratio_lines(data, name, [
                ("RSS per connection", "srv_rss_per_conn_b"),
                ("connect+join time", "connect_s")])]
        if name in REFERENCE:
            out += ["", "An independent measurement on a machine of this "
                    "kind, for comparison: %s." % REFERENCE[name]]
        if name == "max":
            out += ["", estimate_100k(data)]
    out += ["", "## Saturation: the busy room with growing windows", "",
            sat_table(data), ""]
    for srv in SERVERS:
        peak, w = sat_peak(data, srv)
        if peak is not None:
            out.append("- %s: peak %.3f M deliveries/s at window %d" % (
                srv, peak / 1e6, w))
    # Sections measured by hand or by other scripts (bench/fairness.md:
    # bench/ab.py and bench/fanout.py; bench/profiles.md: perf;
    # bench/irc.md: bench/irc.py) follow.
    here = os.path.dirname(os.path.abspath(__file__))
    for name in HAND_SECTIONS:
        path = os.path.join(here, name)
        if os.path.exists(path):
            with open(path) as f:
                out += ["", f.read().rstrip()]
    return "\n".join(out) + "\n"


METHOD = """\
- A message body carries its sender, a sequence number and its send time
  (CLOCK_MONOTONIC). Every receiver checks the order per sender and takes the
  latency at the moment it reads the message. *lost* counts messages that
  never reached a receiver that had to get them; every run must lose 0.
- Deliveries: a message sent to a room of N counts N-1 deliveries (parley,
  relay: everyone else). For redis every client is a subscriber and each
  sender publishes through its own extra connection (not counted as a
  client), so a message counts N deliveries (the sender's own subscriber
  gets it too). Per-delivery figures make the two comparable.
- Closed loop (`--window W`): a message stays in flight until every receiver
  that must get it has read it; a sender keeps at most W messages in flight,
  the window sliding from its oldest. Paced (`--rate`): each sender sends at
  a fixed rate, phases spread over one period.
- Server CPU is utime+stime of the server process from /proc/PID/stat over
  the measuring window (after the warm-up); per delivery it is that divided
  by the deliveries in the window. Server RSS per connection is VmRSS after
  everyone joined minus VmRSS before the first connect, divided by the
  connections. Kernel slab per connection is the machine's Slab over the
  same interval (both ends of each loopback connection).
- For the relay, "joined" means a probe line from client 0 reached the
  client (the relay has no login). The relay allocates about 4 KiB per
  connection when it accepts it (room for a partial line), which it keeps:
  its idle RSS includes it.
- Load generator CPU near 100 % means parley-bench, not the server, set the
  pace; then server CPU per delivery is the figure to compare.
- The slow reader stops reading once joined (SO_RCVBUF 8 KiB) and reads
  again after the run to learn whether the server cut it off (EOF/reset).
  parleyd runs with `--sendq-max 1048576`, redis with
  `client-output-buffer-limit pubsub 1mb 0 0` (the same cut-off); the
  relay has no limit and never cuts anyone off.
- The relay has no rooms, so it takes no part in the many-rooms scenario.
  There the yardstick is the room floor relay (bench/room_floor.c, built
  by `make` as build/room_floor): the same wire work as parleyd (one recv
  per readable connection, one append per recipient per read, one send per
  recipient per round) and nothing else: no nicks, no formatting, no
  limits, lines relayed verbatim. What it spends per delivery is the
  kernel's share on this machine, the least any server of this design
  can spend.
- The machine is shared (builds and tests of others run on it). Before each
  run the runner waits for the rest of the machine to go idle (up to 30 s,
  2 s in quick mode); parley-bench reports the CPU that other processes
  used during its window (from /proc/stat, tick-based), and a run where they
  used more than 25 % of a core is repeated (up to 3 tries, 2 in quick mode)
  keeping the quietest. Runs still noisy are named next to the targets."""
