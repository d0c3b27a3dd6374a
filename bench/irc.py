#!/usr/bin/python3
"""Runs the IRC benchmark: parleyd against ngircd and inspircd.

What it does: for every scenario (busy room, big room, idle memory,
registration) it starts a fresh server for each run, pinned to core 0, and
drives it with build/parley-bench pinned to core 1, the servers taking
turns within each repetition (parleyd text, parleyd irc, ngircd, inspircd,
the IRC floor), then prints medians and ratios and writes a markdown
section. The servers:

  parley-text  build/parleyd --listen text://... (the text protocol, the
               figure parley's IRC side is held against), with the flags
               of bench/run.py that lift its flood limits;
  parley-irc   build/parleyd --listen irc://... --server-name parley.bench,
               the same flags; skipped with "parleyd has no IRC listener
               yet" while `parleyd --help` does not mention irc://;
  ngircd       Debian's /usr/sbin/ngircd, inspircd Debian's
               /usr/sbin/inspircd, each with a minimal configuration
               written into a temporary directory (see ngircd_conf and
               inspircd_conf: loopback, a free port, no DNS or ident
               lookups, no connection, penalty or flood limits, 1 MiB
               send queues like parleyd's --sendq-max), in the foreground,
               as the user irc when started as root;
  floor        build/room_floor --irc: the least an IRC relay can do, and
               the trivial responder that shows what parley-bench itself
               can do (bench/room_floor.c).

How to run it (from the repository root, after `make`):

    /usr/bin/python3 bench/irc.py            # full: 3 repetitions, ~15 min
    /usr/bin/python3 bench/irc.py --quick    # 1 repetition, ~4 min
    /usr/bin/python3 bench/irc.py --help

Raw output goes to bench/out/irc.*; results to bench/out/
irc-results-{full,quick}.json (--from-json rewrites the report from them).
A full run writes the section to bench/irc.md and puts it into
docs/BENCHMARKS.md (replacing the section of the same title; bench/run.py
appends bench/irc.md when it rewrites that file); a quick run writes
bench/out/IRC-quick.md only. Exit status: 0 when every run delivered
everything it had to (targets missed are reported, not fatal), 1 when a
run failed or lost messages, 2 when a server or tool is missing (ngircd
and inspircd are required: `sh tests/deps.sh`). Standard library only.
"""

import argparse
import datetime
import grp
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

import run
from report import all_ok, fmt, load_table, log, med, ratio, sh, verdict

ROOT = run.ROOT
OUT = run.OUT
SERVERS = ("parley-text", "parley-irc", "ngircd", "inspircd", "floor")
PROTO = {"parley-text": "text"}
NGIRCD = "/usr/sbin/ngircd"
INSPIRCD = "/usr/sbin/inspircd"
INSPIRCD_MODULES = "/usr/lib/inspircd/modules"
NO_IRC = "parleyd has no IRC listener yet"
TITLE = "## IRC: parley against ngircd and inspircd"

# ngircd listens with a backlog of 10 (a constant in its conn.c) and takes
# one connection per loop round: with more handshakes in flight the kernel
# drops the rest and some clients are reset, so it gets 8 at a time except
# in the registration scenario, which is about exactly that.
NGIRCD_WINDOW = "8"

BUSY = [s for s in run.SCENARIOS if s[0] == "busy"][0][2]
IDLE = ["--clients", "10000", "--rooms", "1", "--allow-partial", "--settle",
        "5", "--join-timeout", "120"]
# Scenarios: name, title, parley-bench arguments, quick and full (warmup,
# duration) in seconds.
SCENARIOS = [
    ("busy", "busy room: 1 room, 50 clients, 10 senders, 16 in flight each "
     "(bench/run.py's busy room)", BUSY, (0.5, 1.5), (1, 5)),
    ("big", "big room: 1 room, 2,000 clients, 4 senders at 10 msgs/s each",
     ["--clients", "2000", "--rooms", "1", "--senders", "4", "--rate", "10",
      "--join-timeout", "120"], (0.5, 2), (1, 5)),
    ("idle", "idle: 10,000 registered clients, 256 handshakes in flight "
     "(ngircd: 8)", IDLE, (0, 0.2), (0, 0.2)),
    ("reg", "registration: 10,000 clients connecting at once",
     IDLE + ["--connect-window", "10000"], (0, 0.2), (0, 0.2)),
]


def irc_user():
    """(user, group, uid, gid) that ngircd and inspircd run as when started
    as root: the user irc of their Debian packages, else nobody. None when
    not root (they run as we do)."""
    if os.geteuid() != 0:
        return None
    for name in ("irc", "nobody"):
        try:
            pw = pwd.getpwnam(name)
            return (pw.pw_name, grp.getgrgid(pw.pw_gid).gr_name, pw.pw_uid,
                    pw.pw_gid)
        except KeyError:
            continue
    return None


def ngircd_conf(port, tmp, authping=False):
    """ngircd.conf: loopback, no DNS/ident/PAM lookups, no connection or
    join limits, penalties off (MaxPenaltyTime 0), pings out of the way.
    With authping (the smoke check), a PING that must be answered before
    001 (RequireAuthPing)."""
    return """[Global]
\tName = ngircd.bench
\tInfo = parley bench
\tListen = 127.0.0.1
\tPorts = %s
\tMotdPhrase = "bench"
\tServerUID = %s
\tServerGID = %s
[Limits]
\tMaxConnections = 0
\tMaxConnectionsIP = 0
\tMaxJoins = 0
\tMaxPenaltyTime = 0
\tPingTimeout = 3600
\tPongTimeout = 3600
[Options]
\tDNS = no
\tIdent = no
\tPAM = no
\tIncludeDir = %s
""" % (port, *(irc_user()[:2] if irc_user() else (os.getuid(),
                                                   os.getgid())), tmp) + (
        "\tRequireAuthPing = yes\n" if authping else "")


def inspircd_conf(port, tmp, tags=False):
    """inspircd.conf: loopback, no DNS lookups (resolvehostnames), no ident
    (the module is not loaded), no per-address or class limits, flood
    penalties out of reach (threshold, commandrate, no fakelag), 1 MiB
    send and receive queues (softsendq too: past it inspircd stops reading
    the client's commands), a listen backlog of 4096. With tags (the smoke
    check), the IRCv3 modules that tag messages (message-tags, msgid,
    server-time) and a PING to every client every second."""
    conf = """<server name="inspircd.bench" description="parley bench"
        network="bench">
<admin name="bench" nick="bench" email="bench@localhost">
<bind address="127.0.0.1" port="%s" type="clients">
<connect name="main" allow="*" resolvehostnames="no" useident="no"
         timeout="60" pingfreq="3600" hardsendq="1048576"
         softsendq="1048576" recvq="1048576" threshold="1000000"
         commandrate="1000000000" fakelag="no" localmax="100000"
         globalmax="100000" limit="100000" maxchans="100"
         maxconnwarn="no">
<performance somaxconn="4096" softlimit="100000" clonesonconnect="no"
             quietbursts="yes">
<path configdir="%s" datadir="%s" logdir="%s" moduledir="%s">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default"
     target="%s/inspircd.log">
""" % (port, tmp, tmp, tmp, INSPIRCD_MODULES, tmp)
    if tags:
        conf = conf.replace('pingfreq="3600"', 'pingfreq="1"') + "".join(
            '<module name="%s">\n' % mod for mod in (
                "cap", "ircv3", "ircv3_ctctags", "ircv3_msgid",
                "ircv3_servertime"))
    return conf


def make_server(name, args):
    """The server called name: bench/run.py's parleyd for parley-text (the
    text listener, its port read from the log), else an IrcServer."""
    if name == "parley-text":
        return run.Server("parley", args)
    return IrcServer(name, args)


class IrcServer(run.Server):
    """parleyd's IRC listener, ngircd, inspircd or the IRC floor, started
    fresh for every run on a free port, pinned to core 0."""

    def __init__(self, name, args):
        # run.Server's fields, for its stop(). A name may carry a variant
        # of the smoke check: ngircd+authping, inspircd+tags.
        self.name, self.args, self.proto = name, args, "irc"
        self.base, _, self.variant = name.partition("+")
        self.proc = self.port = self.logf = self.tmp = None

    def command(self, port):
        """The server's command line; writes its configuration first."""
        a = self.args
        if self.base == "parley-irc":
            # Shown in the report as it will run; given when --help has it.
            name = (["--server-name", "parley.bench"] if port == "PORT" or
                    "--server-name" in parley_help(a.parleyd) else [])
            return [a.parleyd, "--listen", "irc://127.0.0.1:%s" % port
                    ] + name + run.parley_flags(a.parleyd)
        if self.base == "floor":
            return [a.floor, "--irc", str(port)]
        return self._as_irc_user(self._configured(port))

    def _configured(self, port):
        """Writes ngircd's or inspircd's configuration into a fresh
        temporary directory; returns the server's command line."""
        if self.tmp is None and port != "PORT":
            self.tmp = tempfile.mkdtemp(prefix="pb-%s." % self.base)
            os.chmod(self.tmp, 0o755)
        tmp = self.tmp or "TMP"
        path = os.path.join(tmp, self.base + ".conf")
        if self.base == "ngircd":
            conf = ngircd_conf(port, tmp, self.variant == "authping")
        else:
            conf = inspircd_conf(port, tmp, self.variant == "tags")
        if self.tmp:
            with open(path, "w") as f:
                f.write(conf)
            if irc_user():
                os.chown(self.tmp, *irc_user()[2:])
        if self.base == "ngircd":
            return [NGIRCD, "-n", "-f", path]
        return [INSPIRCD, "--config", path, "--nofork", "--nopid"]

    def _as_irc_user(self, cmd):
        """Prefixes cmd with setpriv to the user irc when we are root."""
        if not irc_user():
            return cmd
        user, group = irc_user()[:2]
        return ["setpriv", "--reuid=" + user, "--regid=" + group,
                "--clear-groups"] + cmd

    def start(self, tag):
        """Starts the server on a free port; returns False if it did not
        come up within 10 s (inspircd takes a second to load modules)."""
        port = run.free_port()
        self.logf = open(os.path.join(OUT, "%s.%s.server.log" % (
            tag, self.name)), "w+")
        self.proc = subprocess.Popen(
            ["taskset", "-c", "0"] + self.command(port), stdout=self.logf,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.port = port
        return run.wait_port(port, self.proc, timeout=10)

    def stop(self):
        """Stops the server and removes its configuration directory."""
        super().stop()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


def tcp_counters():
    """The machine's TcpExt ListenOverflows and TCPSynRetrans counters
    (/proc/net/netstat): accept queues that overflowed, SYNs sent again."""
    with open("/proc/net/netstat") as f:
        lines = [l.split() for l in f if l.startswith("TcpExt:")]
    table = dict(zip(lines[0][1:], (int(v) for v in lines[1][1:])))
    return {k: table.get(k, 0) for k in ("ListenOverflows", "TCPSynRetrans")}


def once(args, name, extra, label):
    """One run against a fresh server, with the kernel's accept-queue
    overflows and SYN retransmissions during it added to the result."""
    before = tcp_counters()
    res = run.run_once(args, name, extra, label, make=make_server)
    after = tcp_counters()
    res["listen_overflows"] = float(after["ListenOverflows"] -
                                    before["ListenOverflows"])
    res["syn_retrans"] = float(after["TCPSynRetrans"] -
                               before["TCPSynRetrans"])
    return res


def bench_args(name, scen, extra):
    """parley-bench arguments of server name in scenario scen."""
    extra = list(extra)
    if scen in ("idle", "reg") and PROTO.get(name) != "text":
        extra.append("--register-only")
    if name == "ngircd" and scen != "reg":
        extra += ["--connect-window", NGIRCD_WINDOW]
    return extra


_help = {}


def parley_help(parleyd):
    """The output of `parleyd --help` (asked once per binary)."""
    if parleyd not in _help:
        try:
            p = subprocess.run([parleyd, "--help"], capture_output=True,
                               text=True, timeout=10)
            _help[parleyd] = p.stdout + p.stderr
        except (OSError, subprocess.SubprocessError):
            _help[parleyd] = ""
    return _help[parleyd]


def parley_has_irc(parleyd):
    """True when `parleyd --help` mentions an irc:// listener."""
    return "irc://" in parley_help(parleyd)


def short(res):
    """One-line summary of a run for the progress log."""
    if res.get("status") != "ok":
        return "FAILED (rc %s)" % res.get("rc")
    if res.get("senders"):
        return run.short(res)
    return ("joined %d in %.3f s, %.0f B/client, overflows %d, SYN "
            "retransmits %d" % (res["joined"], res["connect_s"],
                                res["srv_rss_per_conn_b"],
                                res["listen_overflows"],
                                res["syn_retrans"]))


def collect(args):
    """Runs every scenario, the servers taking turns; returns
    {scenario: {server: [RESULT...]}}."""
    data = {}
    run.run_once(args, "floor", run.SAT_ARGS + [
        "--window", "16", "--warmup", "0", "--duration", "1"],
        "irc.prime/floor/0", make=make_server)
    for rep in range(args.reps):
        for name, _title, extra, quick, full in SCENARIOS:
            if args.only and name not in args.only:
                continue
            warm, dur = quick if args.quick else full
            times = ["--warmup", str(warm), "--duration", str(dur)]
            for srv in args.servers:
                label = "irc.%s/%s/%d" % (name, srv, rep + 1)
                res = run.run_point(args, srv, bench_args(srv, name, extra) +
                                    times, label, once=once)
                data.setdefault(name, {}).setdefault(srv, []).append(res)
                log("%-24s %s" % (label, short(res)))
    return data


def m(data, scen, srv, key):
    """Median of key for server srv in scenario scen, or None."""
    return med(data.get(scen, {}).get(srv, []), key)


def registration_table(data, scen):
    """Markdown table of an idle or registration scenario."""
    rows = ["| server | joined | time to the last 001 (text: join) | "
            "server RSS per client | kernel slab per connection (both ends) "
            "| accept queue overflows | SYN retransmits | runs |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for srv, runs in data.get(scen, {}).items():
        rss = med(runs, "srv_rss_per_conn_b")
        rows.append("| %s | %s | %s s | %s B (%s KiB) | %s B | %s | %s | %s |"
                    % (srv, fmt(med(runs, "joined"), ".0f"),
                       fmt(med(runs, "connect_s"), ".3f"), fmt(rss, ".0f"),
                       fmt(rss and rss / 1024, ".2f"),
                       fmt(med(runs, "slab_per_conn_b"), ".0f"),
                       fmt(med(runs, "listen_overflows"), ".0f"),
                       fmt(med(runs, "syn_retrans"), ".0f"), all_ok(runs)))
    return "\n".join(rows)


def ratio_lines(data, scen, keys):
    """parley-irc and parley-text against each other server."""
    d = data.get(scen, {})
    out = []
    for mine in ("parley-irc", "parley-text"):
        if mine not in d:
            continue
        for other in SERVERS:
            if other == mine or other not in d or (
                    mine == "parley-text" and other == "parley-irc"):
                continue
            parts = ["%s %s" % (label, ratio(med(d[mine], k),
                                             med(d[other], k)))
                     for label, k in keys]
            out.append("- %s/%s: %s" % (mine, other, ", ".join(parts)))
    return "\n".join(out)


def targets(data, has_irc):
    """(target, measured, ok) rows; ok is None when not measured."""
    rows = []
    missing = NO_IRC if not has_irc else "not measured"
    irc = m(data, "busy", "parley-irc", "deliv_per_s")
    text = m(data, "busy", "parley-text", "deliv_per_s")
    others = [v for v in (m(data, "busy", "ngircd", "deliv_per_s"),
                          m(data, "busy", "inspircd", "deliv_per_s")) if v]
    best = max(others) if others else None
    if irc:
        ok = (irc >= 0.8 * text and irc >= 5 * best) if text and best \
            else None
        got = "%.3f M/s: %s of parley-text, %s of the better of ngircd " \
              "and inspircd" % (irc / 1e6, ratio(irc, text), ratio(irc, best))
    else:
        ok, got = None, missing
    rows.append(("busy room over IRC: deliveries/s >= 0.8x parley-text and "
                 ">= 5x the better of ngircd and inspircd (parley-text %s M/s, "
                 "best of the two %s M/s)" % (fmt(text and text / 1e6,
                                                  ".3f"),
                                              fmt(best and best / 1e6,
                                                  ".3f")), got, ok))
    rss = m(data, "idle", "parley-irc", "srv_rss_per_conn_b")
    rows.append(("an idle IRC client costs <= 1 KiB of server memory",
                 "%.0f B" % rss if rss is not None else missing,
                 None if rss is None else rss <= 1024))
    t = m(data, "reg", "parley-irc", "connect_s")
    joined = m(data, "reg", "parley-irc", "joined")
    rows.append(("10,000 clients registered in <= 1 s (first connect to the "
                 "last 001)",
                 "%d registered in %.3f s" % (joined, t) if t is not None
                 else missing,
                 None if t is None else (t <= 1.0 and joined == 10000)))
    return rows


def versions(args):
    """One line naming the programs measured."""
    def first(cmd):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=10)
            return (p.stdout + p.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"
    return ("parleyd: %s (source at commit %s); ngircd: %s; inspircd: %s; "
            "parley-bench and room_floor --irc of the same tree" % (
                first([args.parleyd, "--version"]),
                first(["git", "-C", ROOT, "log", "-1", "--format=%h"]),
                first([NGIRCD, "--version"]), first([INSPIRCD, "--version"])))


def machine():
    """One line describing the machine."""
    return "Machine: %s, %s cores; kernel %s; descriptor limit %s per " \
        "process." % (sh("lscpu | sed -n 's/^Model name: *//p'"),
                      os.cpu_count(), sh("uname -r"), sh("ulimit -Hn"))


def commands(args):
    """Markdown block with the exact commands of the runs."""
    lines = ["```"]
    for srv in SERVERS:
        cmd = make_server(srv, args).command("PORT")
        lines.append("taskset -c 0 " + " ".join(
            run.shown_path(args, x) for x in cmd))
    lines.append("")
    for name, _t, extra, quick, full in SCENARIOS:
        warm, dur = quick if args.quick else full
        lines.append("# %s" % name)
        for srv, who in (("parley-text", "parleyd text"),
                         ("parley-irc", "parleyd irc, inspircd, floor"),
                         ("ngircd", "ngircd")):
            argv = bench_args(srv, name, extra)
            if srv == "ngircd" and argv == bench_args("parley-irc", name,
                                                      extra):
                lines[-1] = lines[-1].replace(", floor", ", floor, ngircd")
                continue
            lines.append(
                "taskset -c 1 build/parley-bench --proto %s --port PORT "
                "--server-pid PID --quiet %s --warmup %s --duration %s   "
                "# %s" % (PROTO.get(srv, "irc"), " ".join(argv), warm, dur,
                          who))
    lines.append("```")
    return "\n".join(lines)


def configs():
    """Markdown blocks with the generated configurations."""
    return "\n".join([
        "ngircd (`ngircd -n -f ngircd.conf`; ServerUID/GID are the user it "
        "runs as):", "", "```", ngircd_conf("PORT", "TMP").rstrip().replace(
            "\t", "    "), "```", "",
        "inspircd (`inspircd --config inspircd.conf --nofork --nopid`; "
        "inspircd 3 loads its core modules itself, and no other module is "
        "loaded):", "", "```", inspircd_conf("PORT", "TMP").rstrip(), "```"])


METHOD = """\
- One run = one fresh server pinned to core 0 and build/parley-bench pinned
  to core 1, as in bench/run.py; within a repetition the servers take
  turns, scenario by scenario; tables show medians over the repetitions.
  Before each run the script waits for the rest of the machine to calm
  down, and repeats a run during which other processes used more than
  25 % of a core (bench/run.py's rule).
- parley-bench --proto irc registers with `NICK pbN` and `USER pbN 0 * :pb`,
  waits for 001, joins `#ROOM` and counts as joined at 366 (end of NAMES);
  it answers PING at any time and requests no capability. A message is
  `PRIVMSG #ROOM :BODY`, the body the same as over the other protocols
  (sender, sequence number, send time), so order, losses and latency are
  checked the same way; a message to a room of N counts N-1 deliveries.
- Idle and registration: the clients only register (`--register-only`:
  done at 001, no channel); parleyd text has no registration step, so its
  clients connect and join a room (`/join`), which is more work. Server
  memory per client is the growth of the server's VmRSS from before the
  first connect to the moment the last client registered, divided by the
  clients that registered. "Accept queue overflows" and "SYN retransmits"
  are the machine's TcpExt ListenOverflows and TCPSynRetrans counters over
  the run: a client whose connection the kernel dropped because the
  server's accept queue was full waits 1 s or more before it tries again.
- Registration: all 10,000 connections are started at once
  (`--connect-window 10000`), so neither a window of parley-bench nor its
  pacing sets the time; the time runs from the first connect to the last
  001. The floor row (room_floor --irc answers NICK/USER with 001 and
  nothing else) is what parley-bench itself can do on this machine.
- Idle and registration runs accept partial results (`--allow-partial`):
  they end 5 s after the last registration when some clients never
  registered (then "joined" is below 10,000 and the time is that of the
  last one that did).
- Fairness: every server listens on loopback only, looks up neither DNS
  nor ident, has no limit on connections per address or in all, no join
  limit, and no flood limits or penalties that the bench could reach
  (parleyd: bench/run.py's flags; the configurations are below); every
  send queue is 1 MiB. What is left is each server's design: ngircd
  listens with a backlog of 10 and walks all its connections in every
  loop round, inspircd sends 001 only from a once-a-second timer (see
  the notes below), and neither sets TCP_NODELAY, so their replies wait
  for Nagle and delayed ACKs."""


def notes():
    """bench/irc-notes.md (findings measured by hand), if present."""
    path = os.path.join(ROOT, "bench", "irc-notes.md")
    if not os.path.exists(path):
        return ""
    with open(path) as f:
        return f.read().rstrip()


def document(args, data, elapsed):
    """Returns the markdown section."""
    out = [TITLE, "",
           "Generated by `/usr/bin/python3 bench/irc.py%s` in %.0f s on %s "
           "(%s, %d repetition%s; figures are medians). %s." % (
               " --quick" if args.quick else "", elapsed,
               datetime.datetime.fromtimestamp(
                   args.date, datetime.timezone.utc).strftime(
                       "%Y-%m-%d %H:%M UTC"),
               "quick" if args.quick else "full", args.reps,
               "" if args.reps == 1 else "s", args.versions), "",
           args.machine, ""]
    if not args.has_irc:
        out += ["**parley-irc rows: %s.** Its rows and the targets are "
                "filled in by the first run of this script after the "
                "listener lands (the script finds it in `parleyd --help`)."
                % NO_IRC, ""]
    out += ["### Targets", "", "| target | measured | verdict |",
            "| --- | --- | --- |"]
    for target, got, ok in targets(data, args.has_irc):
        out.append("| %s | %s | %s |" % (target, got, "not measured yet"
                                         if ok is None else verdict(ok)))
    for name, title, _e, _q, _f in SCENARIOS:
        if name not in data:
            continue
        out += ["", "### " + title[0].upper() + title[1:], ""]
        if name in ("idle", "reg"):
            out.append(registration_table(data, name))
            keys = [("RSS per client", "srv_rss_per_conn_b"),
                    ("time", "connect_s")]
        else:
            out.append(load_table(data, name))
            keys = [("deliveries/s", "deliv_per_s"),
                    ("CPU per delivery", "srv_ns_per_deliv"),
                    ("p99 latency", "lat_p99_us")]
        out += ["", ratio_lines(data, name, keys)]
    out += ["", "### Method", "", METHOD, "", "### Configurations", "",
            configs(), "", "### Commands", "", commands(args)]
    hand = notes()
    if hand:
        out += ["", hand]
    return "\n".join(out) + "\n"


def splice(path, section):
    """Puts section into the markdown file path in place of the section of
    the same title (up to the next '## ' heading), or at its end."""
    with open(path) as f:
        text = f.read()
    start = text.find(TITLE + "\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        nxt = text.find("\n## ", start + len(TITLE))
        text = text[:start] + section + ("\n" + text[nxt + 1:]
                                         if nxt >= 0 else "")
    with open(path, "w") as f:
        f.write(text)


def summary(data):
    """Prints the medians and ratios of every scenario on stdout."""
    for name, title, _e, _q, _f in SCENARIOS:
        if name not in data:
            continue
        print("\n%s" % title)
        for srv, runs in data[name].items():
            if name in ("idle", "reg"):
                print("  %-12s joined %6s in %8s s, %6s B per client, "
                      "overflows %s  %s" % (
                          srv, fmt(med(runs, "joined"), ".0f"),
                          fmt(med(runs, "connect_s"), ".3f"),
                          fmt(med(runs, "srv_rss_per_conn_b"), ".0f"),
                          fmt(med(runs, "listen_overflows"), ".0f"),
                          all_ok(runs)))
            else:
                print("  %-12s %s M deliveries/s, %s ns per delivery, p99 "
                      "%s us, lg %s %%  %s" % (
                          srv, fmt(med(runs, "deliv_per_s") and
                                   med(runs, "deliv_per_s") / 1e6, ".3f"),
                          fmt(med(runs, "srv_ns_per_deliv"), ".0f"),
                          fmt(med(runs, "lat_p99_us"), ".0f"),
                          fmt(med(runs, "lg_cpu_pct"), ".0f"),
                          all_ok(runs)))
        print(ratio_lines(data, name, [("deliveries/s", "deliv_per_s"),
                                       ("CPU/delivery", "srv_ns_per_deliv")]
                          if name in ("busy", "big") else
                          [("RSS/client", "srv_rss_per_conn_b"),
                           ("time", "connect_s")]))


def prepare(args):
    """Checks the tools the run needs (a --check only those of its server);
    returns an error message or None."""
    for tool, path in (("parleyd", args.parleyd),
                       ("parley-bench", args.bench),
                       ("room_floor", args.floor), ("ngircd", NGIRCD),
                       ("inspircd", INSPIRCD)):
        if args.check and tool in ("ngircd", "inspircd", "room_floor") and \
                not args.check.startswith(tool.replace("room_", "")):
            continue
        if not os.access(path, os.X_OK):
            return "%s not found at %s (%s)" % (
                tool, path, "run make" if ROOT in path else
                "apt-get install ngircd inspircd, or sh tests/deps.sh")
    for tool in ("taskset", "setpriv"):
        if not shutil.which(tool):
            return "%s not found (apt-get install util-linux)" % tool
    return None


def check(args, argv):
    """--check SERVER -- ARGS: one parley-bench run with ARGS against a
    fresh SERVER (bench/smoke.sh's IRC checks); prints the bench's output
    when it fails. Returns the bench's exit status."""
    name = args.check
    args.quiet_wait, args.tries, args.noisy_pct = 0, 1, 1e9
    srv = make_server(name, args)
    try:
        if not srv.start("irc.check"):
            print("%s did not start; its log:" % name)
            srv.logf.seek(0)
            print(srv.logf.read()[-4000:])
            return 1
        p = subprocess.run([args.bench, "--proto", srv.proto, "--port",
                            str(srv.port), "--server-pid",
                            str(srv.proc.pid), "--quiet", "--label", name] +
                           argv, capture_output=True, text=True, timeout=120)
    finally:
        srv.stop()
    res = run.parse_result(p.stdout) or {}
    if p.returncode == 0:
        print("expected=%d delivered=%d lost=%d joined=%d" % (
            res.get("expected", -1), res.get("delivered", -1),
            res.get("lost", -1), res.get("joined", -1)))
    else:
        print(p.stdout + p.stderr)
    return p.returncode


def parse_args():
    """Command line of the script."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--check", metavar="SERVER", help="one run of "
                   "parley-bench with the arguments after -- against a "
                   "fresh SERVER (%s, or ngircd+authping, inspircd+tags); "
                   "what bench/smoke.sh runs" % " ".join(SERVERS))
    run.add_common_args(p, "1 repetition, short runs")
    p.add_argument("--only", nargs="*", help="scenarios (busy big idle reg)")
    p.add_argument("--servers", nargs="*", help="servers (%s)" %
                   " ".join(SERVERS))
    p.add_argument("--out", help="section (full: bench/irc.md and "
                   "docs/BENCHMARKS.md; quick: bench/out/IRC-quick.md)")
    p.add_argument("--from-json", help="write the section from the results "
                   "a former run saved")
    a, rest = p.parse_known_args()
    if rest and (not a.check or rest[0] != "--"):
        p.error("unexpected arguments: %s" % " ".join(rest))
    a.rest = rest[1:]
    run.common_defaults(a)
    unknown = set(a.servers or ()) - set(SERVERS)
    if unknown:
        p.error("unknown servers: %s" % " ".join(sorted(unknown)))
    return a


def main():
    """Runs everything, prints and writes the results; see the module
    docstring."""
    args = parse_args()
    os.makedirs(OUT, exist_ok=True)
    problem = prepare(args)
    if problem:
        log("irc: " + problem)
        return 2
    if args.check:
        return check(args, args.rest)
    args.has_irc = parley_has_irc(args.parleyd)
    args.servers = [s for s in (args.servers or SERVERS)
                    if s != "parley-irc" or args.has_irc]
    if not args.has_irc:
        log("irc: parley-irc skipped: %s" % NO_IRC)
    start = time.time()
    args.retry_until = start + (240 if args.quick else 3600)
    mode = "quick" if args.quick else "full"
    if args.from_json:
        with open(args.from_json) as f:
            saved = json.load(f)
        data, elapsed = saved["results"], saved["elapsed"]
        args.quick, args.reps, args.date = (saved["quick"], saved["reps"],
                                            saved["date"])
        args.has_irc = saved.get("has_irc", args.has_irc)
        args.versions = saved.get("versions") or versions(args)
        args.machine = saved.get("machine") or machine()
    else:
        args.versions, args.machine = versions(args), machine()
        data = collect(args)
        elapsed = time.time() - start
        with open(os.path.join(OUT, "irc-results-%s.json" % mode), "w") as f:
            json.dump({"quick": args.quick, "reps": args.reps,
                       "elapsed": elapsed, "date": args.date,
                       "has_irc": args.has_irc, "versions": args.versions,
                       "machine": args.machine, "results": data}, f,
                      indent=1)
    summary(data)
    section = document(args, data, elapsed)
    if args.out:
        outs = [args.out]
    elif args.quick:
        outs = [os.path.join(OUT, "IRC-quick.md")]
    else:
        outs = [os.path.join(ROOT, "bench", "irc.md")]
        splice(os.path.join(ROOT, "docs", "BENCHMARKS.md"), section)
    for path in outs:
        with open(path, "w") as f:
            f.write(section)
    print()
    for target, got, ok in targets(data, args.has_irc):
        print("target: %s: %s: %s" % (target, got, "not measured yet"
                                      if ok is None else
                                      verdict(ok).strip("*")))
    runs = [r for d in data.values() for rs in d.values() for r in rs]
    failed = [r.get("label", "?") for r in runs if r.get("status") != "ok"]
    log("irc: wrote %s in %.0f s; %d runs, %d failed %s" % (
        " and ".join(outs + ([] if args.out or args.quick else
                             ["docs/BENCHMARKS.md"])),
        time.time() - start, len(runs), len(failed), " ".join(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
