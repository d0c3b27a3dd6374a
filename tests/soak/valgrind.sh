#!/bin/sh
# Runs a representative subset of the end-to-end tests with parleyd under
# valgrind (memcheck) and requires zero errors and zero leaks.
#
#     sh tests/soak/valgrind.sh [PARLEYD]      (default build/parleyd)
#
# The e2e harness starts whatever --parleyd names, so it is pointed at a
# wrapper script that execs parleyd under valgrind with one log file per
# process. A server with a memory error or a leak (definite, indirect or
# possible) exits 99 instead of 0 on SIGTERM, which fails its test; on top
# of that every log is read at the end and must say "ERROR SUMMARY: 0
# errors" with nothing lost. Tests whose point is timing, CPU or RSS
# figures, descriptor limits (prlimit) or sheer volume are left out: under
# valgrind they measure valgrind. Bounded: each test has a 90 s deadline,
# the whole run takes a few minutes. Ends with "N passed, M failed".
set -u
cd "$(dirname "$0")/../.."

PARLEYD=${1:-build/parleyd}
[ -x "$PARLEYD" ] || { echo "valgrind.sh: no executable $PARLEYD (run make)"; echo "0 passed, 1 failed"; exit 1; }
PARLEYD=$(cd "$(dirname "$PARLEYD")" && pwd)/$(basename "$PARLEYD")

sh tests/deps.sh valgrind=valgrind
command -v valgrind >/dev/null 2>&1 || { echo "valgrind.sh: valgrind is missing"; echo "0 passed, 1 failed"; exit 1; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/parleyd" <<EOF
#!/bin/sh
exec valgrind --tool=memcheck --leak-check=full \\
    --show-leak-kinds=definite,indirect,possible \\
    --errors-for-leak-kinds=definite,indirect,possible \\
    --error-exitcode=99 --log-file="$dir/vg.%p.log" "$PARLEYD" "\$@"
EOF
chmod +x "$dir/parleyd"

# The subset: every chat command and error, input framing and sanitizing,
# shutdown, resets, non-chat clients, and the hostile cases and faults that
# do not hinge on timing or figures.
TESTS="
chat.
input.
lifecycle.sigterm_graceful
lifecycle.sigint_graceful
lifecycle.reset_does_not_disturb_others
lifecycle.reset_with_pending_output
lifecycle.http_request_closed
lifecycle.tls_client_hello_closed
lifecycle.http_like_text_later_is_chat
fairness.max_clients
fairness.sendq_cuts_off_slow_reader_only
hostile.nul_and_invalid_utf8_everywhere
hostile.terminal_escapes_never_reach_others
hostile.thousands_of_commands_in_one_packet
hostile.reset_mid_line_not_delivered
hostile.nick_race
hostile.never_reader_cut_off_others_unhurt
faults.sigterm_under_heavy_load
"

passed=0
failed=0
out=$dir/run.out
for sel in $TESTS; do
    /usr/bin/python3 tests/e2e/run.py --parleyd "$dir/parleyd" -k "$sel" -j 2 --timeout 90 >"$out" 2>&1
    grep -E '^(PASS|FAIL) ' "$out"
    grep -E '^    \| ' "$out" | head -n 40
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
    if [ -z "$summary" ]; then
        echo "FAIL $sel: no summary from run.py"
        tail -n 5 "$out"
        failed=$((failed + 1))
        continue
    fi
    passed=$((passed + $(echo "$summary" | sed -E 's/^([0-9]+) passed.*/\1/')))
    failed=$((failed + $(echo "$summary" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
done

# Every valgrind log: no error, nothing lost.
logs=0
bad=0
for log in "$dir"/vg.*.log; do
    [ -e "$log" ] || continue
    logs=$((logs + 1))
    if ! grep -q "ERROR SUMMARY: 0 errors" "$log" ||
        grep -Eq "(definitely|indirectly|possibly) lost: [1-9]" "$log"; then
        bad=$((bad + 1))
        echo "FAIL valgrind log $(basename "$log"):"
        sed 's/^/    | /' "$log" | head -n 60
    fi
done
# "Still reachable" blocks (live pointers at exit, e.g. static scratch
# buffers) are not leaks; they are only counted.
reach=$(grep -lE "still reachable: [1-9]" "$dir"/vg.*.log 2>/dev/null | wc -l)
echo "valgrind: $logs server processes checked, $bad with errors or leaks ($reach with still-reachable blocks at exit)"
if [ "$logs" -eq 0 ]; then
    echo "FAIL valgrind: no log written (the wrapper was not used?)"
    failed=$((failed + 1))
fi
failed=$((failed + bad))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
