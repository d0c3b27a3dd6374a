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
# Needs build/parleyd, build/parley-bench and build/room_floor (`make`). Installs the Debian
# packages it needs when they are missing (redis-server, gnuplot-nox,
# util-linux for taskset). The work is done by bench/run.py (Python 3,
# standard library only); raw output of every run lands in bench/out/.
set -eu
cd "$(dirname "$0")/.."

sh tests/deps.sh redis-server=redis-server gnuplot-nox=gnuplot \
    util-linux=taskset
exec /usr/bin/python3 bench/run.py "$@"
