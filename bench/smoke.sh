#!/bin/sh
# bench/smoke.sh - a few seconds of parley-bench against parleyd, asserting
# that nothing is lost. `make test` runs it (through tests/run-all.sh); no
# timing is asserted, only correctness under load.
#
#   sh bench/smoke.sh          uses build/parleyd and build/parley-bench
#
# Checks (each starts a fresh parleyd on a free loopback port):
#   1. paced: 20 clients in 2 rooms, 6 senders at 500 msgs/s for 1 s
#      (about 3,000 messages), every delivery in order, none lost;
#   2. closed loop: 30 clients in 1 room, 5 senders with 8 in flight for
#      0.5 s, none lost;
#   3. slow reader: check 2 plus a member that never reads; the others
#      still lose nothing (whether it was cut off is reported, not judged);
#   4. the room floor relay (build/room_floor, the many-rooms yardstick of
#      bench/run.py) in 4 rooms of 10 loses nothing either, so that a
#      benchmark never compares against a relay that drops messages;
#   5. nor does the reference relay (build/room_floor --relay, the
#      yardstick of the one-room scenarios) with 20 clients;
#   6-8. parley-bench --proto irc (through bench/irc.py --check, which
#      starts each server with bench/irc.py's configuration) against the
#      IRC floor (build/room_floor --irc), against ngircd with an
#      authentication PING that must be answered before 001, and against
#      inspircd with IRCv3 message tags (time=, msgid=) on every line and a
#      PING every second during the run; none loses a message. ngircd and
#      inspircd are required (tests/deps.sh installs them): when one is
#      missing its check FAILS;
#   9. the same against parleyd's IRC listener once `parleyd --help`
#      names irc:// (until then a note says it is not there yet).
# Prints "N passed, M failed" last; exits non-zero when a check failed.
set -u
cd "$(dirname "$0")/.."

PARLEYD=${PARLEYD:-build/parleyd}
BENCH=${BENCH:-build/parley-bench}
FLOOR=${FLOOR:-build/room_floor}
pass=0
fail=0
tmp=$(mktemp -d)
server=""

cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# start_server parleyd|floor|relay: starts that server on a free port;
# sets $server and $port (empty when it did not start).
start_server() {
    # Empty the log first: the server's shell truncates it only once it
    # runs, and until then the port of the server before would be read.
    : >"$tmp/parleyd.log"
    if [ "$1" = floor ]; then
        "$FLOOR" 0 >"$tmp/parleyd.log" 2>&1 &
    elif [ "$1" = relay ]; then
        "$FLOOR" --relay 0 >"$tmp/parleyd.log" 2>&1 &
    else
        "$PARLEYD" --listen text://127.0.0.1:0 --flood-rate 0 --db none \
            --flood-bytes 0 --quiet-above 0 --max-per-ip 0 \
            --room-rate-per-ip 0 \
            >/dev/null 2>"$tmp/parleyd.log" &
    fi
    server=$!
    port=""
    i=0
    while [ -z "$port" ] && [ $i -lt 100 ]; do
        port=$(sed -n -e 's/.*event=listen proto=text addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' \
            -e 's/^port \([0-9]*\)$/\1/p' "$tmp/parleyd.log" | head -n 1)
        [ -n "$port" ] || sleep 0.05
        i=$((i + 1))
    done
}

# tally NAME STATUS: counts check NAME as passed (STATUS 0, printing its
# message counts from $tmp/out) or failed (printing $tmp/out).
tally() {
    if [ "$2" -eq 0 ]; then
        echo "ok   $1: $(grep -o 'expected=[0-9]* delivered=[0-9]* lost=[0-9]*' "$tmp/out")"
        pass=$((pass + 1))
    else
        echo "FAIL $1"
        cat "$tmp/out"
        fail=$((fail + 1))
    fi
}

# check NAME [floor|relay] ARGS...: runs parley-bench against a fresh
# parleyd (or, with "floor", the room floor relay; with "relay", the
# reference relay, spoken to with --proto relay).
check() {
    name=$1
    shift
    kind=parleyd
    proto=text
    if [ "$1" = floor ] || [ "$1" = relay ]; then
        kind=$1
        shift
    fi
    [ "$kind" = relay ] && proto=relay
    start_server $kind
    if [ -z "$port" ]; then
        echo "FAIL $name: $kind did not start"
        cat "$tmp/parleyd.log"
        fail=$((fail + 1))
    else
        "$BENCH" --proto "$proto" --port "$port" --server-pid "$server" \
            --quiet --drain 5 --timeout 30 "$@" >"$tmp/out" 2>&1
        tally "$name" $?
    fi
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
    server=""
}

# check_irc NAME SERVER ARGS...: parley-bench --proto irc with ARGS against
# a fresh SERVER, started by bench/irc.py --check.
check_irc() {
    name=$1
    server_name=$2
    shift 2
    /usr/bin/python3 bench/irc.py --parleyd "$PARLEYD" --bench "$BENCH" \
        --floor "$FLOOR" --check "$server_name" -- --drain 5 --timeout 30 \
        "$@" >"$tmp/out" 2>&1
    tally "$name" $?
}

if [ ! -x "$PARLEYD" ] || [ ! -x "$BENCH" ] || [ ! -x "$FLOOR" ]; then
    echo "FAIL smoke: $PARLEYD, $BENCH or $FLOOR is missing (run make)"
    echo "0 passed, 1 failed"
    exit 1
fi

check paced --clients 20 --rooms 2 --senders 6 --rate 500 \
    --warmup 0 --duration 1
check window --clients 30 --rooms 1 --senders 5 --window 8 \
    --warmup 0 --duration 0.5
check slow-reader --clients 30 --rooms 1 --senders 5 --window 8 --slow 1 \
    --warmup 0 --duration 0.5 --slow-wait 2
check room-floor floor --clients 40 --rooms 4 --senders 4 --rate 200 \
    --warmup 0 --duration 0.5
check relay relay --clients 20 --rooms 1 --senders 4 --window 8 \
    --warmup 0 --duration 0.5
check_irc irc-floor floor --clients 20 --rooms 2 --senders 4 --window 8 \
    --warmup 0 --duration 0.5
check_irc irc-ngircd ngircd+authping --clients 20 --rooms 1 --senders 4 \
    --window 8 --connect-window 8 --warmup 0 --duration 0.5
check_irc irc-inspircd inspircd+tags --irc-cap "message-tags server-time" \
    --clients 20 --rooms 1 --senders 4 --rate 50 --warmup 0 --duration 2.5
if "$PARLEYD" --help 2>&1 | grep -q 'irc://'; then
    check_irc irc-parleyd parley-irc --clients 20 --rooms 2 --senders 4 \
        --window 8 --warmup 0 --duration 0.5
else
    echo "note irc-parleyd: parleyd has no IRC listener yet" \
        "(checked once it lands)"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
