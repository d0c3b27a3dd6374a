#!/bin/sh
# bench/run.sh - runs parley's benchmark scenarios against parleyd,
# redis-server (pub/sub) and the reference relay, and writes
# docs/BENCHMARKS.md with a chart docs/benchmarks.png.
#
#   sh bench/run.sh            full run: 3 repetitions (10-25 minutes,
#                              longer when others keep the machine busy)
#   sh bench/run.sh --quick    what `make bench` runs: under 2 minutes;
#                              writes bench/out/BENCHMARKS-quick.md instead
#   sh bench/run.sh --help     every option of bench/run.py
#
# Needs build/parleyd and build/parley-bench (`make`). Installs the Debian
# packages it needs when they are missing (redis-server, gnuplot-nox,
# util-linux for taskset). The work is done by bench/run.py (Python 3,
# standard library only); raw output of every run lands in bench/out/.
set -eu
cd "$(dirname "$0")/.."

missing=""
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
command -v gnuplot >/dev/null 2>&1 || missing="$missing gnuplot-nox"
command -v taskset >/dev/null 2>&1 || missing="$missing util-linux"
if [ -n "$missing" ]; then
    echo "bench: installing$missing"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -q
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing
fi
exec /usr/bin/python3 bench/run.py "$@"
