#!/bin/sh
# Builds every libFuzzer target into build/fuzz/ and runs each for SECONDS
# (default 30): sh tests/fuzz/run.sh [SECONDS] [TARGET...]
#
# Needs clang with libFuzzer (Debian: clang, libclang-rt-14-dev). The seed
# corpus tests/fuzz/corpus/TARGET/ is copied to build/fuzz/work/TARGET/ and
# the fuzzer grows only that copy, so the committed corpus stays as it is.
# Crash inputs land in build/fuzz/artifacts/TARGET/. Prints the executions
# per target (libFuzzer's stat::number_of_executed_units) and exits
# non-zero if a target fails to build or finds a crash, a leak or a hang.
#
# Targets run one after the other, one process each. Environment: FUZZ_CC
# (default clang); PARLEY_FUZZ_NOGUARD=1 makes fuzz_text stop placing each
# line right before an unmapped page, so that a known read past the end of
# a line does not end every run while it is being fixed.
set -u
cd "$(dirname "$0")/../.."

seconds=${1:-30}
[ $# -gt 0 ] && shift
targets=${*:-"fuzz_chanarg fuzz_config fuzz_edit fuzz_frame fuzz_http fuzz_irc fuzz_irctags fuzz_sanitize fuzz_sniff fuzz_text fuzz_watch fuzz_when fuzz_ws"}

cc=${FUZZ_CC:-clang}
out=build/fuzz
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
cflags="-std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer $san"
warn="-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
-Wpointer-arith -Wcast-qual -Wwrite-strings -Wformat=2 -Wundef -Wvla \
-Wimplicit-fallthrough"

# Per target: the source objects it links and libFuzzer's -max_len.
objs_fuzz_frame="event/frame lib/xmalloc"
objs_fuzz_irc="irc/parse core/mask"
objs_fuzz_sanitize="lib/sanitize"
objs_fuzz_sniff="event/sniff"
objs_fuzz_irctags="irc/tags irc/parse"
objs_fuzz_chanarg="irc/chanarg"
objs_fuzz_http="http/parse http/upgrade"
objs_fuzz_ws="event/ws"
objs_fuzz_edit="text/edit text/telnet lib/tbuf lib/xmalloc"
objs_fuzz_when="text/when"
objs_fuzz_text=$(for f in src/*.c src/*/*.c; do
    b=${f#src/}
    b=${b%.c}
    case $b in event/conn | event/conn_in | event/conn_out | event/conn_xport | event/conn_ws | event/tls | main | server | irc/* | http/*) ;; *) printf '%s ' "$b" ;; esac
done)
# The config parser checks operator specs with core/oper and server bans
# with core/sban; fuzz_config.c stands in for the few chat functions they
# call.
objs_fuzz_config="config config_file event/net lib/log lib/xmalloc core/oper core/sban core/mask lib/sanitize"
maxlen_fuzz_config=8192
maxlen_fuzz_frame=4096
maxlen_fuzz_irc=9000
maxlen_fuzz_sanitize=4096
maxlen_fuzz_sniff=256
maxlen_fuzz_chanarg=1024
maxlen_fuzz_http=8192
maxlen_fuzz_ws=32768
maxlen_fuzz_text=4096
maxlen_fuzz_irctags=8192
objs_fuzz_watch=$(for f in src/core/*.c src/lib/*.c src/store/*.c; do
    b=${f#src/}
    printf '%s ' "${b%.c}"
done)
maxlen_fuzz_watch=512
maxlen_fuzz_edit=16384
maxlen_fuzz_when=64

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "fuzz: $cc not found (Debian: apt-get install clang libclang-rt-14-dev)"
    exit 1
fi

mkdir -p "$out/obj" "$out/work" "$out/artifacts" "$out/logs"

# Compiles src/NAME.c with coverage instrumentation if it is out of date.
build_obj() {
    o="$out/obj/$1.o"
    mkdir -p "$(dirname "$o")"
    if [ ! -f "$o" ] || [ "src/$1.c" -nt "$o" ] ||
        [ -n "$(find src -name '*.h' -newer "$o" 2>/dev/null)" ]; then
        $cc $cflags -fsanitize=fuzzer-no-link -Wall -Wextra -Isrc \
            -c -o "$o" "src/$1.c" || return 1
    fi
}

# Builds one target; returns non-zero on failure.
build_target() {
    t=$1
    eval objs=\$objs_$t
    files=""
    for b in $objs; do
        build_obj "$b" || return 1
        files="$files $out/obj/$b.o"
    done
    $cc $cflags $warn -fsanitize=fuzzer -Isrc -Itests/fuzz \
        -o "$out/$t" "tests/fuzz/$t.c" $files -lm \
        $(pkg-config --libs libsodium 2>/dev/null || echo -lsodium) \
        $(pkg-config --libs inih 2>/dev/null || echo -linih) \
        $(pkg-config --libs libsystemd 2>/dev/null || echo -lsystemd) \
        $(pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3) \
        $(pkg-config --libs wslay 2>/dev/null || echo -lwslay) \
        $(pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto)
}

status=0
summary=""
for t in $targets; do
    echo "=== $t: build"
    if ! build_target "$t"; then
        summary="$summary$t: BUILD FAILED
"
        status=1
        continue
    fi
    eval maxlen=\$maxlen_$t
    work="$out/work/$t"
    art="$out/artifacts/$t"
    log="$out/logs/$t.log"
    rm -rf "$work"
    mkdir -p "$work" "$art"
    if [ -d "tests/fuzz/corpus/$t" ]; then
        cp tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null
    fi
    dict=""
    [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
    echo "=== $t: run ${seconds}s (log: $log)"
    # shellcheck disable=SC2086
    "$out/$t" -max_total_time="$seconds" -max_len="$maxlen" -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$art/" $dict "$work" \
        >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    [ -n "$execs" ] || execs="?"
    if [ "$rc" -ne 0 ]; then
        echo "--- $t: exit status $rc; end of the log:"
        tail -n 60 "$log"
        crash=$(ls -t "$art" 2>/dev/null | head -n 1)
        summary="$summary$t: $execs executions, FAILED (exit $rc)${crash:+, input $art/$crash}
"
        status=1
    else
        summary="$summary$t: $execs executions, ok
"
    fi
done

echo
printf '%s' "$summary"
# One test per target, in the summary form the other suites use.
ok=$(printf '%s' "$summary" | grep -c ', ok$')
bad=$(printf '%s' "$summary" | grep -c 'FAILED')
echo "$ok passed, $bad failed"
exit $status
