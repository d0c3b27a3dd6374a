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
#      yardstick of the one-room scenarios) with 20 clients.
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
    if [ "$1" = floor ]; then
        "$FLOOR" 0 >"$tmp/parleyd.log" 2>&1 &
    elif [ "$1" = relay ]; then
        "$FLOOR" --relay 0 >"$tmp/parleyd.log" 2>&1 &
    else
        "$PARLEYD" --listen text://127.0.0.1:0 --flood-rate 0 \
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
    elif "$BENCH" --proto "$proto" --port "$port" --server-pid "$server" \
        --quiet --drain 5 --timeout 30 "$@" >"$tmp/out" 2>&1; then
        echo "ok   $name: $(grep -o 'expected=[0-9]* delivered=[0-9]* lost=[0-9]*' "$tmp/out")"
        pass=$((pass + 1))
    else
        echo "FAIL $name"
        cat "$tmp/out"
        fail=$((fail + 1))
    fi
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
    server=""
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

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
