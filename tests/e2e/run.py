#!/usr/bin/python3
"""
Runs parleyd's end-to-end tests.

    /usr/bin/python3 tests/e2e/run.py --parleyd build/parleyd [-k SUBSTRING] [-j JOBS]

Discovers every function named test_* in tests/e2e/test_*.py, runs each
against its own parleyd process (JOBS at a time, default 4), prints one line
per test (`PASS name` or `FAIL name: reason`; details of a failure follow on
stderr, indented), and ends with `N passed, M failed`.  Exit status 0 only if
nothing failed.  Standard library only; nothing is ever skipped.
"""

import argparse
import concurrent.futures
import importlib
import inspect
import os
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402

_print_lock = threading.Lock()
_took = []  # (seconds, deadline, name) of every test run


def discover():
    """Returns [(name, function)] in file order, module by module."""
    tests = []
    for fn in sorted(os.listdir(HERE)):
        if not (fn.startswith("test_") and fn.endswith(".py")):
            continue
        modname = fn[:-3]
        mod = importlib.import_module(modname)
        funcs = [
            (obj.__code__.co_firstlineno, name, obj)
            for name, obj in vars(mod).items()
            if name.startswith("test_") and inspect.isfunction(obj) and obj.__module__ == modname
        ]
        for _, name, obj in sorted(funcs):
            tests.append(("%s.%s" % (modname[len("test_") :], name[len("test_") :]), obj))
    return tests


def _where(exc):
    """The innermost frame of a test module in a traceback, as file:line."""
    tb = traceback.extract_tb(exc.__traceback__)
    for fr in reversed(tb):
        if os.path.basename(fr.filename).startswith("test_"):
            return "%s:%d" % (os.path.basename(fr.filename), fr.lineno)
    if tb:
        fr = tb[-1]
        return "%s:%d" % (os.path.basename(fr.filename), fr.lineno)
    return "?"


def run_one(name, func, parleyd, timeout):
    """Runs one test with a watchdog; returns (ok, reason, details), and
    records in _took how long it ran against its deadline."""
    ctx = harness.Context(name, parleyd, timeout=getattr(func, "timeout", timeout))
    result = {}
    t0 = time.monotonic()

    def body():
        try:
            func(ctx)
            result["ok"] = True
        except AssertionError as e:
            result["err"] = "%s (at %s)" % (str(e) or "assertion failed", _where(e))
            result["tb"] = traceback.format_exc()
        except BaseException as e:  # noqa: BLE001
            result["err"] = "%s: %s (at %s)" % (type(e).__name__, e, _where(e))
            result["tb"] = traceback.format_exc()

    th = threading.Thread(target=body, name=name, daemon=True)
    th.start()
    th.join(ctx.timeout + 5)
    if th.is_alive():
        ctx.abort()
        th.join(5)
        result.setdefault("err", "test did not finish within %.0fs (aborted)" % ctx.timeout)
        result.pop("ok", None)
    problems = []
    try:
        problems = ctx.cleanup()
    except Exception as e:  # noqa: BLE001
        problems = ["cleanup failed: %r" % e]
    details = []
    # A server that crashed or reported a sanitizer error explains the rest:
    # put that first.
    serious = [p for p in problems if "sanitizer report" in p] + [p for p in problems if "died" in p or "ended (killed" in p]
    reasons = serious + ([result["err"]] if "err" in result else []) + [p for p in problems if p not in serious]
    if "err" in result:
        if os.environ.get("E2E_TRACEBACK"):
            details.append(result.get("tb", ""))
        if not problems:
            for s in ctx.servers:
                details.append("parleyd %s stderr (last 30 lines):\n%s" % (" ".join(s.argv[1:]), s.log_text(tail=30)))
    details.extend(ctx.details)
    ok = not reasons
    with _print_lock:
        _took.append((time.monotonic() - t0, ctx.timeout, name))
    return ok, reasons, details


def report(name, ok, reasons, details):
    with _print_lock:
        if ok:
            print("PASS %s" % name, flush=True)
            return
        first = reasons[0].strip().splitlines() or ["?"]
        summary = first[0]
        if len(reasons) > 1:
            summary += " [+%d more problem(s)]" % (len(reasons) - 1)
        print("FAIL %s: %s" % (name, summary), flush=True)
        extra = first[1:]
        for r in reasons[1:]:
            extra.extend(r.strip().splitlines())
        for d in details:
            extra.extend(d.strip().splitlines())
        if extra:
            sys.stderr.write("".join("    | %s\n" % ln for ln in extra[:200]))
            sys.stderr.flush()


def main():
    ap = argparse.ArgumentParser(description="parleyd end-to-end tests")
    ap.add_argument("--parleyd", required=True, help="path of the parleyd binary")
    ap.add_argument("-k", dest="select", default=None, help="run only tests whose name contains this")
    ap.add_argument("-j", dest="jobs", type=int, default=4, help="tests run at once (default 4)")
    ap.add_argument("--timeout", type=float, default=harness.TEST_TIMEOUT, help="per-test deadline in seconds")
    ap.add_argument("--list", action="store_true", help="list the tests and exit")
    args = ap.parse_args()

    tests = discover()
    if args.select:
        tests = [(n, f) for n, f in tests if args.select in n]
    if args.list:
        for n, _ in tests:
            print(n)
        return 0

    parleyd = os.path.abspath(args.parleyd)
    t0 = time.monotonic()
    passed = failed = 0
    if not tests:
        print("no tests selected")
        print("0 passed, 1 failed")
        return 1
    # Tests that time the server against itself (latency, CPU) run alone,
    # after the others, so that the other tests do not make them noisy.
    parallel = [(n, f) for n, f in tests if not getattr(f, "alone", False)]
    alone = [(n, f) for n, f in tests if getattr(f, "alone", False)]
    for group, jobs in ((parallel, args.jobs), (alone, 1)):
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futs = {pool.submit(run_one, n, f, parleyd, args.timeout): n for n, f in group}
            for fut in concurrent.futures.as_completed(futs):
                name = futs[fut]
                try:
                    ok, reasons, details = fut.result()
                except Exception as e:  # noqa: BLE001
                    ok, reasons, details = False, ["runner error: %r" % e], [traceback.format_exc()]
                report(name, ok, reasons, details)
                if ok:
                    passed += 1
                else:
                    failed += 1
    sys.stderr.write("(e2e: %d tests in %.1fs)\n" % (len(tests), time.monotonic() - t0))
    # The tests that came nearest their deadline: where a slower machine
    # would fail first.
    near = sorted(_took, key=lambda x: x[0] / x[1], reverse=True)[:5]
    sys.stderr.write("(nearest their deadline: %s)\n" % ", ".join("%s %.1fs of %.0fs" % (n, s, d) for s, d, n in near))
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    rc = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Leftover daemon threads of an aborted test must not keep us alive.
    os._exit(rc)
