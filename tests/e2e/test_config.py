"""The config file (docs/parley.conf.5, docs/operations.md): parleyd -c
FILE, every flag a key, the command line over the file, --check-config,
errors with FILE:LINE, and SIGHUP reloading what can change live."""
import os
import re
import signal
import socket
import tempfile

from harness import check
from test_cli import _free_port as free_port
from test_cli import run
from test_oper import CHECK_WAIT, PASSWORD, oper_hash

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "contrib", "parley.conf")


def conf(t, text, name="parley.conf"):
    """Writes text into a fresh file; returns its path."""
    d = tempfile.mkdtemp(prefix="parley-conf-")
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def rewrite(path, text):
    """Replaces a file's text at once (rename), as an editor would."""
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def settings_in_help(t):
    """The setting flags --help lists (the part before "Other options")."""
    text = run(t, "--help").stdout.decode()
    part = text.split("Other options")[0]
    return re.findall(r"^  --([a-z0-9-]+)", part, re.M)


def test_file_settings_apply(t):
    """A setting from the file is in force: topic-max = 10 refuses an
    11-byte topic with the limit in the reply."""
    path = conf(t, "; limits\ntopic-max = 10\n   max-rooms = 50   ; indented, comment after\n")
    srv = t.server("-c", path)
    (a,) = t.users(srv, "alice")
    a.say("/topic 0123456789x")
    a.expect("! topic too long (max 10 bytes)")
    a.say("/topic 0123456789")
    a.expect("* alice set the topic of #lobby: 0123456789")


def test_command_line_overrides_file(t):
    """A flag beats the file's key; --listen replaces the file's listen
    list (the file's port is not bound)."""
    port = free_port()
    path = conf(t, "listen = text://127.0.0.1:%d\ntopic-max = 10\n" % port)
    srv = t.server("-c", path, "--topic-max", "20")
    check(len(srv.events("listen")) == 1 and srv.addr[2] != port, "listened on %s", srv.log_text())
    with socket.socket() as s:
        check(s.connect_ex(("127.0.0.1", port)) != 0, "the file's listen address was bound too")
    (a,) = t.users(srv, "alice")
    a.say("/topic 012345678901234")
    a.expect("* alice set the topic of #lobby: 012345678901234")


def test_file_listen_used(t):
    """Without --listen, the file's listen addresses are where the server
    is."""
    port = free_port()
    path = conf(t, "listen = text://127.0.0.1:%d\n" % port)
    srv = t.server("-c", path, listen=[], addr=(socket.AF_INET, "127.0.0.1", port))
    srv.wait_event("listen", addr="127.0.0.1:%d" % port)
    (a,) = t.users(srv, "alice")
    a.say("/who")
    a.expect(re.compile(r"\* #lobby \(1 person\): @?alice"))


def test_every_flag_is_a_key_and_check_config_round_trips(t):
    """--check-config prints every setting --help lists as a key; that
    output, read back as a file, is valid and prints the same."""
    path = conf(t, "history = 7\noper = boss:%s\n" % oper_hash(t))
    p = run(t, "--check-config", "-c", path, "--max-per-ip", "3")
    check(p.returncode == 0, "--check-config exited %s: %r", p.returncode, p.stderr)
    out = p.stdout.decode()
    keys = set(re.findall(r"^;? ?([a-z0-9-]+) (?:=|is not set)", out, re.M))
    flags = settings_in_help(t)
    check(len(flags) >= 30, "too few settings in --help: %s", flags)
    missing = [f for f in flags if f not in keys]
    check(not missing, "--check-config shows no key for %s", missing)
    check("history = 7\n" in out and "max-per-ip = 3\n" in out, "file or flag not in effect:\n%s", out)
    again = conf(t, out)
    q = run(t, "--check-config", "-c", again)
    check(q.returncode == 0 and q.stdout.decode() == out, "the printed settings do not read back: %r", q.stderr)


def test_check_config_does_not_start(t):
    """--check-config validates and exits without binding anything."""
    port = free_port()
    path = conf(t, "listen = text://127.0.0.1:%d\n" % port)
    p = run(t, "--check-config", "-c", path)
    check(p.returncode == 0 and b"valid" in p.stderr, "exit %s %r", p.returncode, p.stderr)
    check(b"event=listen" not in p.stderr, "it listened: %r", p.stderr)


def test_errors_name_file_and_line(t):
    """Unknown keys, bad values, syntax, sections and keys given twice are
    errors with FILE:LINE, at start and with --check-config; nothing
    starts."""
    cases = [
        ("history = 3\nfrobnicate = 1\n", r":2: unknown key \"frobnicate\""),
        ("\n\nmax-line = 15\n", r":3: max-line: expected a number from 16 to 1048576, got \"15\""),
        ("history = 3\nno equals sign here\n", r":2: expected NAME = VALUE"),
        ("[server]\nhistory = 3\n", r":1: sections are not used"),
        ("history = 3\n; again\nhistory = 4\n", r":3: history is set twice \(first on line 1\)"),
        ("limit-loopback = maybe\n", r":1: limit-loopback: expected yes or no"),
        ("listen = gopher://127.0.0.1:70\n", r":1: listen: unknown protocol \"gopher\""),
        ("oper = boss:plaintext\n", r":1: oper: the HASH of \"boss\""),
        ("log-level = loud\n", r":1: log-level: expected debug, info, warn or error"),
        ("server-name = a b\n", r":1: server-name: expected 1-63 letters"),
        ("history = 3\nserver-ban = 0.0.0.0/0 all\n", r":2: server-ban: \"0\.0\.0\.0/0\" is not an address, a network or a nick!user@host mask"),
        ("server-ban = 10.0.0.0/33\n", r":1: server-ban: \"10\.0\.0\.0/33\" is not an address"),
        ("server-ban = 10.0.0.0/8 2h spam\n", r":1: server-ban: config bans do not expire \(\"2h\" reads as a duration\)"),
        ("server-ban = 10.1.2.3/8\nserver-ban = 10.0.0.0/8 x\n", r":2: server-ban: 10\.0\.0\.0/8 is banned twice"),
        ("motd = " + "x" * 300 + "\n", r":1: a line is longer than 199 bytes"),
    ]
    for text, want in cases:
        path = conf(t, text)
        for args in (["-c", path, "--listen", "text://127.0.0.1:0"], ["--check-config", "-c", path]):
            p = run(t, *args)
            err = p.stderr.decode()
            check(p.returncode == 2, "%r: exit %s", text, p.returncode)
            check(re.search(re.escape(path) + want, err), "%r: stderr %r, wanted %s", text, err, want)
            check("event=listen" not in err, "%r: the server started", text)
    p = run(t, "-c", "/nonexistent/parley.conf")
    check(p.returncode == 2 and b"/nonexistent/parley.conf: No such file" in p.stderr, "missing file: %s %r", p.returncode, p.stderr)


def test_check_config_reports_missing_motd(t):
    path = conf(t, "motd = /nonexistent/motd.txt\n")
    p = run(t, "--check-config", "-c", path)
    check(p.returncode == 2 and b"/nonexistent/motd.txt" in p.stderr, "exit %s %r", p.returncode, p.stderr)


def test_example_config_is_valid(t):
    """contrib/parley.conf, as shipped, passes --check-config."""
    p = run(t, "--check-config", "-c", EXAMPLE)
    check(p.returncode == 0, "contrib/parley.conf: exit %s %r", p.returncode, p.stderr)


def test_sighup_applies_live_settings_and_reports_the_rest(t):
    """SIGHUP takes a changed limit at once for people already here, logs
    each change, and reports a setting that needs a restart instead of
    ignoring it silently; nobody is disconnected."""
    path = conf(t, "topic-max = 10\nserver-name = one.example\nquiet-above = 64\n")
    srv = t.server("-c", path)
    a, b = t.users(srv, "alice", "bob")
    a.say("/topic 012345678901234")
    a.expect("! topic too long (max 10 bytes)")
    rewrite(path, "topic-max = 20\nserver-name = two.example\nquiet-above = 64\n")
    srv.send_signal(signal.SIGHUP)
    srv.wait_event("reload-done", changed="1")
    check(srv.events("reload", key="topic-max", old="10", new="20"), "no reload line for topic-max: %s", srv.log_text(tail=8))
    check(srv.events("reload-skipped", key="server-name", reason="restart", running="one.example", wanted="two.example"), "server-name not reported: %s", srv.log_text(tail=8))
    check(not srv.events("reload", key="quiet-above"), "an unchanged key was logged as changed")
    a.say("/topic 012345678901234")
    a.expect("* alice set the topic of #lobby: 012345678901234")
    b.expect("* alice set the topic of #lobby: 012345678901234")
    check(not srv.events("disconnect"), "SIGHUP disconnected someone")


def test_sighup_with_a_bad_file_changes_nothing(t):
    path = conf(t, "topic-max = 10\n")
    srv = t.server("-c", path)
    (a,) = t.users(srv, "alice")
    rewrite(path, "topic-max = 20\nbogus = 1\n")
    srv.send_signal(signal.SIGHUP)
    f = srv.wait_event("reload-failed")
    check(path + ":2: unknown key" in f.get("error", ""), "reload-failed without FILE:LINE: %s", f)
    a.say("/topic 012345678901234")
    a.expect("! topic too long (max 10 bytes)")
    check(srv.alive() and not srv.events("disconnect"), "a bad reload hurt the server")


def test_sighup_replaces_operators(t):
    """Operators are defined in the file; a reload that removes an account
    takes its operator's powers away at once, and one that adds an
    account lets it /oper."""
    h = oper_hash(t)
    path = conf(t, "oper = boss:%s\n" % h)
    srv = t.server("-c", path)
    a, b = t.users(srv, "alice", "bob")
    a.say("/oper boss " + PASSWORD)
    a.expect("* you are now a server operator (boss)", timeout=CHECK_WAIT)
    rewrite(path, "oper = chief:%s\n" % h)
    srv.send_signal(signal.SIGHUP)
    srv.wait_event("reload-done", changed="1")
    check(srv.events("reload", key="oper", old_count="1", new_count="1"), "no reload line for oper: %s", srv.log_text(tail=8))
    check(h not in srv.log_text(), "the reload logged a password hash")
    srv.wait_event("deoper", account="boss", reason="reload")
    a.say("/kill bob")
    a.expect("! only server operators may /kill")
    b.say("/oper chief " + PASSWORD)
    b.expect("* you are now a server operator (chief)", timeout=CHECK_WAIT)
    b.say("/kill alice")
    b.expect("* alice quit (Killed (bob (No reason given)))")
    b.expect("* killed alice")


def test_sighup_reloads_the_motd(t):
    """The MOTD file is read again on SIGHUP; IRC clients that register
    afterwards get the new one."""
    from irc import irc_user, mixed_server

    d = tempfile.mkdtemp(prefix="parley-motd-")
    motd = os.path.join(d, "motd.txt")
    with open(motd, "w") as f:
        f.write("first motd\n")
    path = conf(t, "motd = %s\n" % motd)
    srv = mixed_server(t, "-c", path)
    a = irc_user(t, srv, "alice")
    check(any("first motd" in ln for ln in a.received), "no first MOTD: %s", a.received[-8:])
    rewrite(motd, "second motd\n")
    srv.send_signal(signal.SIGHUP)
    srv.wait_event("reload", key="motd")
    b = irc_user(t, srv, "bob")
    check(any("second motd" in ln for ln in b.received), "no second MOTD: %s", b.received[-8:])
    rewrite(path, "")
    srv.send_signal(signal.SIGHUP)
    srv.wait_event("reload", key="motd", old=motd, new="")
    srv.wait_event("reload-done", changed="1")
    c = irc_user(t, srv, "carol")
    check(any(" 422 carol " in ln for ln in c.received), "a removed MOTD is still sent: %s", c.received[-8:])


MAN5 = os.path.join(ROOT, "docs", "parley.conf.5")


def _man_keys(after, until):
    """The keys the man page names (as .BR/.B words) between two phrases."""
    with open(MAN5) as f:
        text = f.read().replace("\\-", "-")
    part = text.split(after, 1)[1].split(until, 1)[0]
    return set(re.findall(r"^\.BR? ([a-z][a-z0-9-]+)", part, re.M))


def _changed_value(key, value, port, motd):
    """Another valid value for key."""
    if key == "listen":
        return "text://127.0.0.1:%d" % port
    special = {"server-name": "other.example", "server-info": "other", "motd": motd, "log-level": "debug", "limit-loopback": "yes",
               "db": "other.db", "db-sync": "full", "web-root": "other-web", "web-origin": "https://example.org",
               "server-ban": "192.0.2.0/24 documentation"}
    if key in special:
        return special[key]
    n = int(value or "501")
    return str(n - 1 if n > 0 else 1)


def test_man_page_says_what_reloads(t):
    """parley.conf(5) names every key, and its lists of what SIGHUP
    changes live and what needs a restart are what the server does: one
    reload that changes every key logs each as reload or reload-skipped
    as the page says."""
    with open(MAN5) as f:
        man = f.read().replace("\\-", "-")
    flags = settings_in_help(t)
    missing = [k for k in flags if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(k), man)]
    check(not missing, "parley.conf.5 does not name %s", missing)
    live = _man_keys("\nLive:", "A restart is needed")
    restart = _man_keys("A restart is needed", ".SH OPERATORS")
    check(live | restart == set(flags) and not live & restart, "live %s and restart %s are not the keys %s", sorted(live), sorted(restart), flags)

    d = tempfile.mkdtemp(prefix="parley-motd-")
    motd = os.path.join(d, "motd.txt")
    with open(motd, "w") as f:
        f.write("hello\n")
    port = free_port()
    path = conf(t, "listen = text://127.0.0.1:%d\n" % port)
    srv = t.server("-c", path, listen=[], addr=(socket.AF_INET, "127.0.0.1", port), flood=True)
    current = run(t, "--check-config", "-c", path).stdout.decode()
    values = dict(re.findall(r"^([a-z0-9-]+) = (.*)$", current, re.M))
    lines = ["oper = boss:%s" % oper_hash(t)]
    for key in flags:
        if key != "oper":
            lines.append("%s = %s" % (key, _changed_value(key, values.get(key), free_port(), motd)))
    rewrite(path, "\n".join(lines) + "\n")
    srv.send_signal(signal.SIGHUP)
    srv.wait_event("reload-done")
    took = {f["key"] for f in srv.events("reload") if f.get("key") != "motd" or "old" in f}
    skipped = {f["key"] for f in srv.events("reload-skipped")}
    check(took == live, "reloaded live %s; the man page says %s", sorted(took), sorted(live))
    # The harness gives --db none on the command line, which the file
    # cannot override: db is not changed, so not reported either.
    want = restart - {"db"}
    check(skipped == want, "reported as needing a restart %s; the man page says %s", sorted(skipped), sorted(want))
