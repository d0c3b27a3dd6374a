#!/bin/sh
# Runs unit test binaries: sh tests/unit/run.sh BIN...
#
# Shows each binary's output, then one line "N passed, M failed" summed over
# all of them. A binary that is missing, crashes outside a test or prints no
# summary line counts as one failure. Exits non-zero on any failure.
set -u

if [ $# -eq 0 ]; then
    echo "usage: $0 BIN..." >&2
    echo "0 passed, 1 failed"
    exit 1
fi

total_pass=0
total_fail=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

for bin in "$@"; do
    echo "=== $bin"
    if [ ! -x "$bin" ]; then
        echo "=== $bin: missing or not executable; counted as 1 failure"
        total_fail=$((total_fail + 1))
        continue
    fi
    "$bin" >"$out" 2>&1
    rc=$?
    cat "$out"
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
    if [ -z "$summary" ]; then
        echo "=== $bin: exit status $rc and no summary line; counted as 1 failure"
        total_fail=$((total_fail + 1))
        continue
    fi
    p=${summary%% passed*}
    f=${summary#*passed, }
    f=${f%% failed*}
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "=== $bin: exit status $rc with no failed test; counted as 1 failure"
        total_fail=$((total_fail + 1))
    fi
done

echo
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
