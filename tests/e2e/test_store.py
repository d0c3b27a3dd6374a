"""Durable history (--db PATH): what a restart, a kill -9 and a broken disk
do to rooms, topics, modes, bans and messages.

Each test runs parleyd with a database in a temporary directory of its own
and inspects the file with the sqlite3 command-line tool, as an operator
would (docs/storage.md). Expected lines are quoted from docs/protocol.md.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from harness import check

SQLITE = shutil.which("sqlite3") or "/usr/bin/sqlite3"


class DbDir:
    """A temporary directory holding one test's database."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="parley-store-")
        self.path = os.path.join(self.dir, "parley.db")

    def sql(self, query):
        """Runs query with sqlite3 on the database; returns its rows (lists
        of '|'-separated fields)."""
        p = subprocess.run([SQLITE, "-batch", self.path, query], capture_output=True, timeout=30)
        check(p.returncode == 0, "sqlite3 %r failed: %s", query, p.stderr.decode(errors="replace"))
        return [ln.split("|") for ln in p.stdout.decode().splitlines()]

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def server(t, db, *flags, **kw):
    """parleyd on db, with any further flags."""
    return t.server("--db", db.path, *flags, **kw)


def say_all(c, lines):
    for ln in lines:
        c.send(ln + "\n")


def test_history_survives_restart(t):
    """Messages, actions and the topic of #lobby and another room are back
    after SIGTERM and a restart: a newcomer's welcome replays them, /join
    replays the other room's."""
    db = DbDir()
    try:
        srv = server(t, db)
        alice, bob = t.users(srv, "alice", "bob")
        alice.send("/topic kept across restarts\n")
        alice.expect("* alice set the topic of #lobby: kept across restarts")
        bob.expect("* alice set the topic of #lobby: kept across restarts")
        say_all(alice, ["hello bob", "/me waves"])
        bob.expect("[alice]: hello bob")
        bob.expect("[* alice] waves")
        bob.send("/join dev\n")
        bob.expect(re.compile(r"\* you joined #dev .*"))
        bob.send("dev talk\n")
        bob.barrier()
        srv.stop()

        srv2 = server(t, db)
        c = t.client(srv2)
        c.welcome()
        check(c.welcome_topic == "kept across restarts", "topic after restart: %r", c.welcome_topic)
        check(c.welcome_history == ["[alice]: hello bob", "[* alice] waves"], "lobby history after restart: %r", c.welcome_history)
        c.send("/join dev\n")
        c.expect(re.compile(r"\* you joined #dev \(1 person here\)"))
        c.expect("* --- last 1 message in #dev (times in UTC) ---")
        check(c.history(1) == ["[bob]: dev talk"], "dev history")
    finally:
        db.remove()


def test_modes_bans_and_topic_of_an_empty_room_come_back(t):
    """A room everyone left keeps its modes, key, ban and topic over a
    restart: the banned person may not join, the key is asked for, /mode
    shows what was set."""
    db = DbDir()
    try:
        srv = server(t, db)
        alice, bob = t.users(srv, "alice", "bob")
        alice.send("/join ops\n")
        alice.expect(re.compile(r"\* you joined #ops .*"))
        alice.send("/topic the ops room\n")
        alice.expect("* alice set the topic of #ops: the ops room")
        alice.send("/mode +tk sesame\n")
        alice.expect("* alice set mode +tk sesame in #ops")
        alice.send("/ban bob!*@*\n")
        alice.expect("* alice set mode +b bob!*@* in #ops")
        alice.send("/join lobby\n")
        alice.read_until(lambda ln: ln.startswith("* you joined #lobby"))
        alice.barrier()
        srv.stop()

        srv2 = server(t, db)
        bob2 = t.client(srv2)
        bob2.welcome()
        bob2.send("/nick bob\n")
        bob2.expect("* you are now bob")
        bob2.send("/join ops sesame\n")
        bob2.expect("! you are banned from #ops")
        carol = t.client(srv2)
        carol.welcome()
        carol.send("/join ops\n")
        carol.expect("! #ops needs a key: /join #ops KEY")
        carol.send("/join ops sesame\n")
        carol.expect(re.compile(r"\* you joined #ops \(1 person here\)"))
        carol.expect("* topic: the ops room")
        carol.send("/mode\n")
        carol.expect("* modes of #ops: +ntk sesame")
    finally:
        db.remove()


def test_kill_9_under_load_loses_nothing_anyone_received(t):
    """A talker floods #lobby, a chunk at a time, while a listener reads;
    then it sends a last big chunk, and the moment the listener sees its
    first line the server is killed with SIGKILL (so that line was sent a
    moment before, while the rest of the chunk was being written). Every
    line the listener received is in the database afterwards, in the
    order received, and the file passes PRAGMA integrity_check; a restarted
    server replays the last of them. Without the output hold (output let
    out before its commit), the last lines received are missing."""
    db = DbDir()
    try:
        srv = server(t, db)
        talker, listener = t.users(srv, "talker", "listener")
        talker.sock.settimeout(t.bound(10))
        listener.sock.settimeout(t.bound(10))
        data = bytearray(listener.buf)

        def say(first, n):
            talker.sock.sendall("".join("line %d of the flood\n" % k for k in range(first, first + n)).encode())

        def read_until(marker, kill=False):
            """Reads until marker arrives; then kills the server at once if
            kill. Returns False if the connection ended first."""
            while True:
                chunk = listener.sock.recv(65536)
                if not chunk:
                    return False
                data.extend(chunk)
                if marker in data[-len(chunk) - len(marker) :]:
                    if kill:
                        os.kill(srv.pid, signal.SIGKILL)
                    return True

        for c in range(8):  # the steady flood: each chunk read before the next
            say(400 * c, 400)
            check(read_until(b"line %d of the flood\r\n" % (400 * c + 399)), "the listener was cut off")
        say(3200, 4000)
        try:
            check(read_until(b"line 3200 of the flood\r\n", kill=True), "the listener was cut off")
            # Whatever was already in the listener's socket was received too.
            while True:
                chunk = listener.sock.recv(65536)
                if not chunk:
                    break
                data.extend(chunk)
        except ConnectionResetError:
            pass
        srv.wait_exit(10)
        srv.stopped = True
        text = bytes(data).decode()
        whole = text[: text.rfind("\r\n")]  # not a line cut by the kill
        lines = [ln for ln in whole.split("\r\n") if ln.startswith("[talker]: ")]
        check(len(lines) > 3200, "the listener got only %d lines before the kill", len(lines))
        rows = db.sql("SELECT text FROM msgs JOIN targets t ON t.id = msgs.target WHERE t.name = '#lobby' ORDER BY msgs.id")
        kept = [r[0] for r in rows]
        want = [ln[len("[talker]: ") :] for ln in lines]
        check(kept[: len(want)] == want, "kept %d of the %d lines received; first missing or out of order near %r", len(kept), len(want), next((w for w, k in zip(want, kept) if w != k), want[len(kept)] if len(kept) < len(want) else None))
        check(db.sql("PRAGMA integrity_check") == [["ok"]], "integrity_check")
        srv2 = server(t, db, "--history", "3")
        c = t.client(srv2)
        c.welcome()
        check(c.welcome_history == ["[talker]: " + k for k in kept[-3:]], "replay after kill -9: %r", c.welcome_history)
    finally:
        db.remove()


test_kill_9_under_load_loses_nothing_anyone_received.timeout = 90


def test_ids_rise_across_restarts(t):
    """Message ids (IRC's msgid) stay unique and rising across a restart."""
    db = DbDir()
    try:
        for round_ in range(2):
            srv = server(t, db)
            (alice,) = t.users(srv, "alice%d" % round_)
            alice.send("round %d\n" % round_)
            alice.barrier()
            srv.stop()
        ids = [int(r[0]) for r in db.sql("SELECT id FROM msgs ORDER BY id")]
        texts = [r[0] for r in db.sql("SELECT text FROM msgs ORDER BY id")]
        check(texts == ["round 0", "round 1"], "kept: %r", texts)
        check(ids[0] < ids[1], "ids %r", ids)
    finally:
        db.remove()


def test_history_command_pages_back(t):
    """/history pages back from the oldest message shown (the replay on
    joining, then each /history), dated; /history before TIME starts at a
    time; past the first message it says there is nothing earlier; a bad
    argument gets the usage."""
    db = DbDir()
    try:
        srv = server(t, db, "--history", "3")
        (alice,) = t.users(srv, "alice")
        for i in range(1, 9):
            alice.send("msg %d\n" % i)
        alice.barrier()
        bob = t.client(srv)
        bob.welcome()
        check(bob.welcome_history == ["[alice]: msg %d" % i for i in (6, 7, 8)], "replay %r", bob.welcome_history)
        dated = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d (\[.*)")

        def page(cmd, n):
            bob.send(cmd + "\n")
            bob.expect("* --- %d earlier message%s in #lobby (times in UTC) ---" % (n, "" if n == 1 else "s"))
            out = [bob.expect(dated).group(1) for _ in range(n)]
            bob.expect("* --- end of history ---")
            return out

        check(page("/history", 3) == ["[alice]: msg %d" % i for i in (3, 4, 5)], "first page")
        check(page("/history 5", 2) == ["[alice]: msg 1", "[alice]: msg 2"], "second page")
        bob.send("/history\n")
        bob.expect("* no earlier messages in #lobby")
        check(page("/history before 2262-01-01 2", 2) == ["[alice]: msg 7", "[alice]: msg 8"], "before a time")
        bob.send("/history before 2020-01-01\n")
        bob.expect("* no earlier messages in #lobby")
        bob.send("/history before noon\n")
        bob.expect(re.compile(r"! usage: /history \[N\] or /history before TIME \[N\].*"))
        # The same pages after a restart: they come from the file.
        srv.stop()
        srv2 = server(t, db, "--history", "3")
        carol = t.client(srv2)
        carol.welcome()
        bob = carol
        check(page("/history 2", 2) == ["[alice]: msg 4", "[alice]: msg 5"], "after restart")
    finally:
        db.remove()


def test_irc_private_history_from_the_store(t):
    """CHATHISTORY with a nick gives the private conversation from the
    store, both ways, as first seen (msgid, time, source, target), also
    after a restart and while the other person is away."""
    from irc import irc_user, mixed_server
    from test_ircv3 import ALL, history, same, strip_batch

    db = DbDir()
    try:
        srv = mixed_server(t, "--db", db.path)
        a = irc_user(t, srv, "alice", caps=ALL)
        b = irc_user(t, srv, "bob", caps=ALL)
        seen = []
        for i in range(3):
            a.send_line("PRIVMSG bob :from alice %d" % i)
            seen.append(a.expect_cmd("PRIVMSG", "bob", source="alice"))
            b.expect_cmd("PRIVMSG", "bob")
            b.send_line("PRIVMSG alice :from bob %d" % i)
            seen.append(a.expect_cmd("PRIVMSG", "alice", source="bob"))
            b.expect_cmd("PRIVMSG", "alice")
        same(strip_batch(history(a, "LATEST bob * 10", "bob")), seen)
        same(strip_batch(history(a, "BEFORE bob msgid=%s 2" % seen[3].tags["msgid"], "bob")), seen[1:3])
        srv.stop()
        srv2 = mixed_server(t, "--db", db.path)
        a2 = irc_user(t, srv2, "alice", caps=ALL)
        same(strip_batch(history(a2, "LATEST bob * 10", "bob")), seen)
        # Someone else with another nick reads nothing of it.
        c = irc_user(t, srv2, "carol", caps=ALL)
        check(history(c, "LATEST bob * 10", "bob") == [], "carol sees alice's conversation")
    finally:
        db.remove()


def chathistory_targets(c, lo="timestamp=2020-01-01T00:00:00.000Z", hi="timestamp=2262-01-01T00:00:00.000Z", limit=100):
    """CHATHISTORY TARGETS; returns [(target, time)] of its batch."""
    from irc import SERVER_NAME
    from test_ircv3 import read_batch

    c.send_line("CHATHISTORY TARGETS %s %s %d" % (lo, hi, limit))
    _, inner = read_batch(c, "draft/chathistory-targets")
    for m in inner:
        check(m.source == SERVER_NAME and m.params[0] == "TARGETS", "%r", m.line)
    return [(m.params[1], m.params[2]) for m in inner]


def test_irc_chathistory_targets_lists_private_conversations(t):
    """CHATHISTORY TARGETS lists the people one talked with in private (from
    the store) besides one's channels, each with the time of its latest
    message, oldest first, within the bounds and the limit; also after a
    restart, for people who are not here (their nick as kept, lower case)."""
    from irc import irc_user, mixed_server
    from test_ircv3 import ALL, join

    db = DbDir()
    try:
        srv = mixed_server(t, "--db", db.path)
        a = irc_user(t, srv, "alice", caps=ALL)
        b = irc_user(t, srv, "bob", caps=ALL)
        c = irc_user(t, srv, "Carol", caps=ALL)
        irc_user(t, srv, "dave", caps=ALL)  # talks with nobody
        join(a, "#one")
        a.send_line("PRIVMSG #one :hello")
        one = a.expect_cmd("PRIVMSG", "#one").tags["time"]
        b.send_line("PRIVMSG alice :hi alice")
        with_bob = a.expect_cmd("PRIVMSG", "alice", source="bob").tags["time"]
        a.send_line("PRIVMSG Carol :hi carol")
        with_carol = a.expect_cmd("PRIVMSG", "Carol", source="alice").tags["time"]
        c.expect_cmd("PRIVMSG", "Carol")
        b.expect_cmd("PRIVMSG", "alice")  # bob's echo
        want = [("#one", one), ("bob", with_bob), ("Carol", with_carol)]
        got = chathistory_targets(a)
        check(got == want, "targets: %r, want %r", got, want)
        check(chathistory_targets(a, limit=2) == want[:2], "limit")
        got = chathistory_targets(a, lo="timestamp=" + with_bob)
        check(got == [w for w in want if w[1] > with_bob], "exclusive bound: %r", got)
        check(chathistory_targets(b) == [("alice", with_bob)], "bob's")
        srv.stop()

        srv2 = mixed_server(t, "--db", db.path)
        a2 = irc_user(t, srv2, "alice", caps=ALL)
        irc_user(t, srv2, "BOB", caps=ALL)
        got = chathistory_targets(a2)
        check(got == [("BOB", with_bob), ("carol", with_carol)], "after a restart: %r", got)
        d = irc_user(t, srv2, "dave", caps=ALL)
        check(chathistory_targets(d) == [], "dave talked with nobody")
    finally:
        db.remove()


class _WithDb:
    """A test context whose servers all get --db on a fresh file."""

    def __init__(self, t, db):
        self._t = t
        self._db = db

    def __getattr__(self, name):
        return getattr(self._t, name)

    def server(self, *flags, **kw):
        return self._t.server("--db", self._db.path, *flags, **kw)


def test_irc_chathistory_suite_against_the_store(t):
    """The draft/chathistory tests of test_ircv3.py, every direction and
    reference, pass with history read from the store too."""
    import test_ircv3 as v3

    for test in (
        v3.test_chathistory_latest_before_after,
        v3.test_chathistory_around_between,
        v3.test_chathistory_split_lines_keep_their_msgids,
        v3.test_chathistory_targets,
        v3.test_chathistory_for_non_members,
        v3.test_chathistory_without_batch_and_limit,
    ):
        db = DbDir()
        try:
            test(_WithDb(t, db))
        finally:
            db.remove()


test_irc_chathistory_suite_against_the_store.timeout = 90


# --------------------------------------------------------------------------
# Retention
# --------------------------------------------------------------------------


def test_history_max_keeps_the_newest_per_room(t):
    """--history-max N: the database keeps each room's newest N messages;
    a restarted server replays from those."""
    db = DbDir()
    try:
        srv = server(t, db, "--history-max", "5", "--history", "100")
        (alice,) = t.users(srv, "alice")
        for i in range(12):
            alice.send("msg %d\n" % i)
        alice.barrier()
        srv.stop()
        kept = [r[0] for r in db.sql("SELECT text FROM msgs ORDER BY id")]
        check(kept == ["msg %d" % i for i in range(7, 12)], "kept %r", kept)
        srv2 = server(t, db, "--history-max", "5", "--history", "100")
        c = t.client(srv2)
        c.welcome()
        check(c.welcome_history == ["[alice]: msg %d" % i for i in range(7, 12)], "replay %r", c.welcome_history)
    finally:
        db.remove()


def test_history_days_prunes_old_messages_while_running(t):
    """--history-days N: messages older than N days go, in small steps
    while the server runs (no long delete at start): rows put into the file
    with times 3 days ago vanish, today's stay."""
    db = DbDir()
    try:
        srv = server(t, db)
        (alice,) = t.users(srv, "alice")
        alice.send("today\n")
        alice.barrier()
        srv.stop()
        old_ms = int(time.time() * 1000) - 3 * 86400 * 1000
        rows = ",".join("((SELECT id FROM targets WHERE name = '#lobby'), %d, %d, 0, 'old!~o@h', 'old %d')" % ((old_ms + i) * 1000, old_ms + i, i) for i in range(50))
        db.sql("INSERT INTO msgs(target, id, time_ms, kind, src, text) VALUES " + rows)
        srv2 = server(t, db, "--history-days", "2")
        end = time.monotonic() + t.bound(20)
        while True:
            left = [r[0] for r in db.sql("SELECT text FROM msgs ORDER BY id")]
            if left == ["today"]:
                break
            check(time.monotonic() < end, "old messages still there: %d rows", len(left))
            time.sleep(0.1)  # polls the file for the prune the server runs each second
        srv2.stop()
    finally:
        db.remove()


# --------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------


def start_fails(t, db_path, wrap=()):
    """Runs parleyd on db_path expecting it to refuse to start; returns
    (exit status, stderr)."""
    p = subprocess.run([*wrap, t.parleyd, "--listen", "text://127.0.0.1:0", "--db", db_path], stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    return p.returncode, p.stderr.decode(errors="replace")


def one_error_line(t, err, status, want_status, *words):
    lines = [ln for ln in err.splitlines() if ln.startswith("parleyd: ")]
    check(status == want_status, "exit status %s, want %s; stderr: %s", status, want_status, err)
    check(len(lines) == 1, "want one line saying what to do, got: %r", err)
    for w in words:
        check(w in lines[0], "%r not in %r", w, lines[0])


def test_second_server_on_one_file_refuses(t):
    """A second parleyd pointed at a database another one uses exits with
    status 3 and one line; the first goes on."""
    db = DbDir()
    try:
        srv = server(t, db)
        status, err = start_fails(t, db.path)
        one_error_line(t, err, status, 3, "another parleyd is using it")
        (alice,) = t.users(srv, "alice")
        alice.barrier()
    finally:
        db.remove()


def test_database_locked_by_another_process_refuses(t):
    """sqlite3 holding a write lock on the file: parleyd exits with status 3
    and one line, after waiting for the lock a moment."""
    db = DbDir()
    try:
        srv = server(t, db)
        srv.stop()
        holder = subprocess.Popen([SQLITE, db.path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            holder.stdin.write(b"BEGIN EXCLUSIVE;\nINSERT INTO meta VALUES('held', 1);\nSELECT 'locked';\n")
            holder.stdin.flush()
            check(holder.stdout.readline().strip() == b"locked", "sqlite3 did not take the lock")
            status, err = start_fails(t, db.path)
            one_error_line(t, err, status, 3, "locked", "stop the process")
        finally:
            holder.kill()
            holder.wait()
    finally:
        db.remove()


def test_corrupt_database_refuses(t):
    """A file that is not a database: exit status 5, one line saying to move
    it away or restore a backup; the file is left as it was."""
    db = DbDir()
    try:
        junk = b"this is no sqlite file\n" * 400
        with open(db.path, "wb") as f:
            f.write(junk)
        status, err = start_fails(t, db.path)
        one_error_line(t, err, status, 5, "not a database", "move it away")
        with open(db.path, "rb") as f:
            check(f.read() == junk, "the file was changed")
    finally:
        db.remove()


def test_unreadable_or_read_only_database_refuses(t):
    """Run as an unprivileged user: a database it may not read, or may only
    read, and a path that is a directory: exit status 4, one line each."""
    setpriv = shutil.which("setpriv")
    check(setpriv is not None, "setpriv (util-linux) is needed")
    db = DbDir()
    try:
        srv = server(t, db)
        srv.stop()
        os.chmod(db.dir, 0o777)
        wrap = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
        os.chmod(db.path, 0o000)
        status, err = start_fails(t, db.path, wrap)
        one_error_line(t, err, status, 4, "Permission denied", "readable and writable")
        os.chmod(db.path, 0o444)
        status, err = start_fails(t, db.path, wrap)
        one_error_line(t, err, status, 4, "Permission denied")
        status, err = start_fails(t, db.dir)
        one_error_line(t, err, status, 4, "Is a directory")
    finally:
        db.remove()


def test_disk_full_chat_goes_on_and_history_catches_up(t):
    """The database on a small tmpfs that fills up: chat goes on, the error
    is logged once for the episode and counted in /metrics; once space
    returns the server says it recovered and every message said meanwhile
    is in the file, which passes integrity_check."""
    from test_metrics import scrape

    db = DbDir()
    mounted = False
    try:
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", db.dir], capture_output=True)
        check(p.returncode == 0, "mount tmpfs (needs root): %s", p.stderr.decode(errors="replace"))
        mounted = True
        srv = server(t, db, listen=["text://127.0.0.1:0", "metrics://127.0.0.1:0"])
        alice, bob = t.users(srv, "alice", "bob")
        alice.send("before\n")
        bob.expect("[alice]: before")
        filler = os.path.join(db.dir, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        for i in range(50):
            alice.send("while full %d\n" % i)
        for i in range(50):
            bob.expect("[alice]: while full %d" % i)
        srv.wait_event("store-error")
        os.unlink(filler)
        srv.wait_event("store-recovered", timeout=t.bound(10))
        check(len(srv.events("store-error")) == 1, "one error line per episode: %r", srv.events("store-error"))
        values, _ = scrape(t, srv)  # the episode, counted in /metrics
        check(values["parley_store_write_errors_total"] >= 1, "write errors: %r", values)
        check(values["parley_store_messages_lost_total"] == 0, "lost: %r", values)
        alice.send("after\n")
        bob.expect("[alice]: after")
        alice.barrier()
        texts = [r[0] for r in db.sql("SELECT text FROM msgs ORDER BY id")]
        want = ["before"] + ["while full %d" % i for i in range(50)] + ["after"]
        check(texts == want, "kept %d of %d: %r", len(texts), len(want), texts[:5])
        check(db.sql("PRAGMA integrity_check") == [["ok"]], "integrity_check")
        srv.stop()
    finally:
        if mounted:
            subprocess.run(["umount", "-l", db.dir], capture_output=True)
        db.remove()
