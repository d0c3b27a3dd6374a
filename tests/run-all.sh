#!/bin/sh
# Runs every test suite: unit and end-to-end tests against the normal build
# and against the AddressSanitizer + UndefinedBehaviorSanitizer build, the
# load-generator smoke run, each fuzzer for FUZZ_SECONDS (30), a soak of
# SOAK_SECONDS (30) and an end-to-end subset under valgrind. Prints each suite's output and, last, one
# line "N passed, M failed" summed over all suites. Exits non-zero if any
# test failed or any suite could not run.
set -u
cd "$(dirname "$0")/.."

total_pass=0
total_fail=0
log=$(mktemp)
failures=$(mktemp)
trap 'rm -f "$log" "$failures"' EXIT

# suite NAME COMMAND...: runs one suite and adds its summary line.
suite() {
    name=$1
    shift
    echo "=== $name"
    "$@" 2>&1 | tee "$log"
    # Each failure's first line is kept for the recap at the end, so that
    # the last screen of a long run names what failed.
    grep -E '^(FAIL|--- .*exit status|.*: [0-9?]+ executions, FAILED)' "$log" |
        cut -c1-300 | sed "s|^|[$name] |" >>"$failures"
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -z "$summary" ]; then
        echo "=== $name: no summary line; counted as 1 failure"
        echo "[$name] no summary line" >>"$failures"
        total_fail=$((total_fail + 1))
        return
    fi
    p=$(echo "$summary" | sed -E 's/^([0-9]+) passed.*/\1/')
    f=$(echo "$summary" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
}

# The exit status of the suites is read from their summary lines; a build
# failure leaves no binary and so no summary.
echo "=== build"
make -s -j2 all unit-bins || { total_fail=$((total_fail + 1)); echo "[build] make all unit-bins failed" >>"$failures"; }
make -s asan || { total_fail=$((total_fail + 1)); echo "[build] make asan failed" >>"$failures"; }

suite "unit (normal build)" sh tests/unit/run.sh build/unit/test_*
suite "unit (asan+ubsan build)" sh tests/unit/run.sh build/asan/unit/test_*
suite "e2e (normal build)" /usr/bin/python3 tests/e2e/run.py --parleyd build/parleyd
suite "e2e (asan+ubsan build)" env ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    /usr/bin/python3 tests/e2e/run.py --parleyd build/asan/parleyd
# The web client in headless Chromium (normal build only: the browser
# tests exercise the client, the asan e2e suite the server).
suite "browser (normal build)" node tests/browser/run.mjs --parleyd build/parleyd
suite "bench smoke" sh bench/smoke.sh
suite "fuzz (${FUZZ_SECONDS:-30} s per target)" sh tests/fuzz/run.sh "${FUZZ_SECONDS:-30}"
suite "soak (${SOAK_SECONDS:-30} s)" /usr/bin/python3 tests/soak/soak.py \
    --parleyd build/parleyd --seconds "${SOAK_SECONDS:-30}"
suite "valgrind (e2e subset)" sh tests/soak/valgrind.sh build/parleyd

echo
if [ -s "$failures" ]; then
    echo "=== what failed (first line of each; the suite's output above has the rest)"
    cat "$failures"
fi
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
