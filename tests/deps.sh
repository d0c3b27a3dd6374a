#!/bin/sh
# Installs the Debian packages that building and testing parley need, if
# any is missing. Safe to run again: it does nothing when all are present.
#
#   sh tests/deps.sh                     everything make run/make test need
#   sh tests/deps.sh PACKAGE=COMMAND...  only these: PACKAGE unless COMMAND
#                                        is on the PATH (bench, valgrind)
set -eu

missing=""
need() { # need PACKAGE TEST...: queue PACKAGE unless the test succeeds
    pkg=$1
    shift
    "$@" >/dev/null 2>&1 || missing="$missing $pkg"
}

if [ $# -gt 0 ]; then
    for pair in "$@"; do
        need "${pair%%=*}" command -v "${pair#*=}"
    done
else
    need make command -v make
    need gcc command -v gcc
    need clang command -v clang
    # Operator passwords are hashed and checked with libsodium.
    need pkg-config command -v pkg-config
    need libsodium-dev test -f /usr/include/sodium.h
    # The config file is parsed with libinih; readiness goes to systemd
    # with libsystemd's sd_notify; systemd-analyze checks the unit.
    need libinih-dev test -f /usr/include/ini.h
    need libsystemd-dev test -f /usr/include/systemd/sd-daemon.h
    need systemd command -v systemd-analyze
    # History is kept in SQLite; tests inspect the file with sqlite3.
    need libsqlite3-dev test -f /usr/include/sqlite3.h
    need sqlite3 command -v sqlite3
    # TLS listeners use OpenSSL 3; make run and the tests make certificates
    # and connect with the openssl command.
    need libssl-dev test -f /usr/include/openssl/ssl.h
    need libwslay-dev test -f /usr/include/wslay/wslay.h
    need openssl command -v openssl
    need libclang-rt-14-dev sh -c 'ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.asan-x86_64.a'
    need python3 test -x /usr/bin/python3
    need util-linux command -v prlimit
    need procps command -v ps
    need valgrind command -v valgrind
    need netcat-openbsd command -v nc
    need telnet command -v telnet
    need tmux command -v tmux
    need irssi command -v irssi
    need weechat-curses command -v weechat
    need iproute2 sh -c 'command -v ip || test -x /usr/sbin/ip'
    # bench/smoke.sh (make test) drives these two IRC servers too.
    need ngircd test -x /usr/sbin/ngircd
    need inspircd test -x /usr/sbin/inspircd
    # tests/e2e/test_metrics.py checks the metrics page with promtool.
    need prometheus command -v promtool
    # tests/browser drives Debian's chromium with playwright-core (npm).
    need chromium test -x /usr/bin/chromium
    need nodejs command -v node
    need npm command -v npm
fi

if [ -n "$missing" ]; then
    echo "deps: installing$missing"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -q
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing
    # Installing an IRC server starts its system service on port 6667; the
    # benchmarks start their own instances, so stop the ones just started.
    for unit in ngircd inspircd; do
        case " $missing " in
        *" $unit "*)
            if command -v systemctl >/dev/null 2>&1 &&
                systemctl is-active --quiet "$unit.service" 2>/dev/null; then
                $SUDO systemctl stop "$unit.service"
            fi
            ;;
        esac
    done
    # The prometheus package (for promtool) starts its server on port 9090
    # and the node exporter it recommends on 9100: the tests need neither.
    case " $missing " in
    *" prometheus "*)
        for unit in prometheus prometheus-node-exporter; do
            if command -v systemctl >/dev/null 2>&1 &&
                systemctl is-active --quiet "$unit.service" 2>/dev/null; then
                $SUDO systemctl stop "$unit.service"
            fi
        done
        ;;
    esac
fi

# The browser tests' npm packages, exactly as tests/browser/package-lock.json
# pins them (playwright-core downloads no browser: Debian's is used); again
# whenever the lock file changed since the last npm ci.
browser="$(dirname "$0")/browser"
if [ $# -eq 0 ] && ! cmp -s "$browser/package-lock.json" "$browser/node_modules/.parley-lock"; then
    (cd "$browser" && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.parley-lock)
fi
