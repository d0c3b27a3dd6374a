#!/usr/bin/python3
"""Compares parleyd with an older build of itself, run by run (A/B).

What it does: builds parleyd at a git revision (default 1c2f8df, the base of
the fairness round) from `git archive REV` into build/ab/REV/ (the sources
in build/ab/REV/src-tree, the binary build/ab/REV/parleyd), then runs the
scenarios busy, big and many of bench/run.py (the same parley-bench
arguments, servers pinned to core 0 and parley-bench to core 1, the same
wait for a quiet machine and repetition of noisy runs) against the old and
the new parleyd in turn, old then new, REPS times each. Each build gets
those of bench/run.py's limit-lifting flags that its --help names (an old
parleyd refuses flags it does not know). It prints a markdown table of the
medians of both builds and the ratio new/old for deliveries/s, server CPU
per delivery and p99 latency, with the spread of each (max - min over the
median), and the exact command; raw output goes to bench/out/ (ab.*.log),
results to bench/out/ab-results.json, the table to bench/out/ab.md.

    /usr/bin/python3 bench/ab.py                  # 5 repetitions each
    /usr/bin/python3 bench/ab.py --rev HEAD~3 --reps 3 --only busy
    /usr/bin/python3 bench/ab.py --from-json bench/out/ab-results.json

The new side is build/parleyd, which it brings up to date with `make` first
(or --parleyd PATH, taken as it is); the load generator of the working tree,
build/parley-bench, drives both builds. Needs git, make, a C compiler and
taskset. Exit status: 0 when every run delivered everything, 1 when a
run failed or lost messages, 2 when something is missing. Standard library
only.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import run
from report import fmt, log, med

ROOT = run.ROOT
DEFAULT_REV = "1c2f8df"
NAMES = ("busy", "big", "many")
# (label, RESULT key, format, scale) of each compared figure.
FIGURES = [("deliveries/s (M)", "deliv_per_s", ".3f", 1e-6),
           ("server CPU per delivery (ns)", "srv_ns_per_deliv", ".1f", 1),
           ("latency p99 (us)", "lat_p99_us", ".0f", 1)]


def git(*argv):
    """Output of a git command in the repository, stripped; raises on
    failure."""
    return subprocess.run(["git", "-C", ROOT] + list(argv), check=True,
                          capture_output=True, text=True).stdout.strip()


def build_rev(rev):
    """Builds parleyd of git revision rev into build/ab/HASH/parleyd and
    returns (path, short hash). The sources are exported with git archive,
    so this works in any clone that has the commit."""
    short = git("rev-parse", "--short", rev + "^{commit}")
    top = os.path.join(ROOT, "build", "ab", short)
    tree = os.path.join(top, "src-tree")
    binary = os.path.join(top, "parleyd")
    if not os.path.isfile(os.path.join(tree, "Makefile")):
        shutil.rmtree(tree, ignore_errors=True)
        os.makedirs(tree)
        with tempfile.TemporaryFile() as tar:
            subprocess.run(["git", "-C", ROOT, "archive", short], stdout=tar,
                           check=True)
            tar.seek(0)
            subprocess.run(["tar", "-x", "-C", tree], stdin=tar, check=True)
    subprocess.run(["make", "-s", "-C", tree, "BUILD=" + top, binary],
                   check=True)
    return binary, short


def new_label(args):
    """Names the new build: its commit, marked when src/ has changes."""
    if args.parleyd != os.path.join(ROOT, "build", "parleyd"):
        return run.shown_path(args, args.parleyd)
    dirty = git("status", "--porcelain", "--", "src")
    return git("rev-parse", "--short", "HEAD") + ("+changes" if dirty
                                                  else "")


def collect(args):
    """Runs every scenario, old then new, args.reps times; returns
    {scenario: {"old": [RESULT...], "new": [...]}}."""
    data = {}
    scen = {s[0]: s for s in run.SCENARIOS}
    new_bin = args.parleyd
    # A first run is often slow (caches, frequency, page faults): prime.
    run.run_once(args, "parley", run.SAT_ARGS + [
        "--window", "16", "--warmup", "0", "--duration", "1"],
        "ab.prime/parley/0")
    for rep in range(args.reps):
        for name in args.only:
            _n, _t, extra, _s, _q, (warm, dur) = scen[name]
            times = ["--warmup", str(warm), "--duration", str(dur)]
            for side, binary in (("old", args.old_bin), ("new", new_bin)):
                args.parleyd = binary
                label = "ab.%s/%s/%d" % (name, side, rep + 1)
                res = run.run_point(args, "parley", extra + times, label)
                data.setdefault(name, {}).setdefault(side, []).append(res)
                log("%-18s %s" % (label, run.short(res)))
    args.parleyd = new_bin
    return data


def spread(runs, key):
    """(max - min) / median of key over runs, in percent, or None."""
    vals = [r[key] for r in runs if isinstance(r.get(key), float)]
    if len(vals) < 2 or not statistics.median(vals):
        return None
    return 100.0 * (max(vals) - min(vals)) / statistics.median(vals)


def table(data, meta):
    """Markdown table: medians of both builds and new/old per figure."""
    rows = ["| scenario | figure | old %s | new %s | new/old | spread old / "
            "new | runs (noisy) |" % (meta["old"], meta["new"]),
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for name in NAMES:
        if name not in data:
            continue
        old, new = data[name].get("old", []), data[name].get("new", [])
        bad = sum(1 for r in old + new if r.get("status") != "ok")
        noisy = sum(1 for r in old + new
                    if (r.get("other_cpu_pct") or 0) >= meta["noisy_pct"])
        state = "%d + %d%s%s" % (len(old), len(new),
                                 " (%d noisy)" % noisy if noisy else "",
                                 ", %d FAILED" % bad if bad else "")
        for label, key, spec, scale in FIGURES:
            a, b = med(old, key), med(new, key)
            so, sn = spread(old, key), spread(new, key)
            rows.append("| %s | %s | %s | %s | %s | %s / %s %% | %s |" % (
                name, label, fmt(a and a * scale, spec),
                fmt(b and b * scale, spec),
                "n/a" if not a or b is None else "%.3f" % (b / a),
                fmt(so, ".0f"), fmt(sn, ".0f"), state))
    return "\n".join(rows)


def report(args, data, meta):
    """Markdown text: the table, the command and the flags each build got."""
    scen = {s[0]: s for s in run.SCENARIOS}
    lines = [table(data, meta), "",
             "Medians over %d runs of each build, run alternately (old, new, "
             "old, new, ...); spread is (max - min) / median; a run is noisy "
             "when other processes used %.0f %% of a core or more during "
             "it (it was tried up to %d times, keeping the quietest). "
             "Command:" % (meta["reps"], meta["noisy_pct"], meta["tries"]),
             "", "```", meta["command"], "```", "",
             "Each run (as in bench/run.py; the new build's load generator "
             "drives both):", "", "```"]
    for side in ("old", "new"):
        lines.append("taskset -c 0 %s --listen text://127.0.0.1:0 %s" % (
            meta[side + "_bin"], " ".join(meta[side + "_flags"])))
    for name in NAMES:
        if name in data:
            _n, _t, extra, _s, _q, (warm, dur) = scen[name]
            lines.append("# %s\ntaskset -c 1 build/parley-bench --proto text "
                         "--port PORT --server-pid PID --quiet %s --warmup "
                         "%s --duration %s" % (name, " ".join(extra), warm,
                                               dur))
    lines.append("```")
    return "\n".join(lines) + "\n"


def parse_args():
    """Command line of the comparison."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rev", default=DEFAULT_REV, help="the old build's git "
                   "revision (default %s)" % DEFAULT_REV)
    p.add_argument("--reps", type=int, default=5, help="runs of each build "
                   "per scenario (default 5)")
    p.add_argument("--only", nargs="*", choices=NAMES, default=list(NAMES),
                   help="scenarios (default: busy big many)")
    p.add_argument("--quiet-wait", type=float, default=60.0, help="seconds "
                   "to wait for an idle machine before each run (60)")
    p.add_argument("--noisy-pct", type=float, default=10.0, help="a run "
                   "during which other processes used more than this "
                   "percentage of a core is repeated (default 10)")
    p.add_argument("--tries", type=int, default=5, help="runs at most for "
                   "one point when they are noisy; the quietest counts (5)")
    p.add_argument("--from-json", help="print the table of a former run "
                   "(bench/out/ab-results.json) without running anything")
    p.add_argument("--parleyd", default=os.path.join(ROOT, "build",
                                                     "parleyd"),
                   help="the new build (default build/parleyd)")
    p.add_argument("--bench", default=os.path.join(ROOT, "build",
                                                   "parley-bench"))
    a = p.parse_args()
    a.quick, a.root = False, ROOT
    a.floor, a.redis = None, None
    a.retry_until = time.time() + 7200
    return a


def main():
    """Builds, runs, prints; see the module docstring."""
    args = parse_args()
    os.makedirs(run.OUT, exist_ok=True)
    path = os.path.join(run.OUT, "ab-results.json")
    if args.from_json:
        with open(args.from_json) as f:
            saved = json.load(f)
        data, meta = saved["results"], saved["meta"]
    else:
        if args.parleyd == os.path.join(ROOT, "build", "parleyd"):
            # Compare against what the tree says now, not a stale binary.
            subprocess.run(["make", "-s", "-j2", "-C", ROOT, "all"],
                           check=True)
        for tool in (args.parleyd, args.bench):
            if not os.access(tool, os.X_OK):
                log("ab: %s not found (run make)" % tool)
                return 2
        if not shutil.which("taskset"):
            log("ab: taskset not found (apt-get install util-linux)")
            return 2
        args.old_bin, old_short = build_rev(args.rev)
        meta = {"old": old_short, "new": new_label(args), "reps": args.reps,
                "noisy_pct": args.noisy_pct, "tries": args.tries,
                "command": " ".join(["/usr/bin/python3", "bench/ab.py"] +
                                    sys.argv[1:]),
                "old_bin": run.shown_path(args, args.old_bin),
                "new_bin": run.shown_path(args, args.parleyd),
                "old_flags": run.parley_flags(args.old_bin),
                "new_flags": run.parley_flags(args.parleyd),
                "date": time.time()}
        start = time.time()
        data = collect(args)
        meta["elapsed"] = time.time() - start
        with open(path, "w") as f:
            json.dump({"meta": meta, "results": data}, f, indent=1)
    text = report(args, data, meta)
    with open(os.path.join(run.OUT, "ab.md"), "w") as f:
        f.write(text)
    print(text, end="")
    failed = [r.get("label", "?") for d in data.values() for rs in d.values()
              for r in rs if r.get("status") != "ok"]
    if failed:
        log("ab: failed runs: " + " ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
