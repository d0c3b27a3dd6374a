"""Server bans (docs/operations.md, Server bans; docs/protocol.md and
docs/irc.md for the commands): a server operator bans an address, a
network or a nick!user@host mask, with an optional expiry and a reason,
from text (/serverban, /serverunban, /serverbans) or IRC (KLINE, DLINE,
UNKLINE, UNDLINE, STATS K and D).  Banned clients are refused at accept
with one clear line, those here are disconnected when the ban is set,
and bans survive SIGHUP.

Clients come from other loopback addresses (127.0.0.2, ...), which Linux
routes to lo, so one test can ban an address and still talk from
127.0.0.1."""
import re
import signal
import time

from harness import check
from irc import SERVER_NAME, irc_addr, irc_client, irc_user, text_addr
from test_oper import CHECK_WAIT, PASSWORD, irc_oper, num, oper_server

ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def text_oper(t, srv, name="boss_user"):
    """A text user who is a server operator."""
    (a,) = t.users(srv, name)
    a.say("/oper boss " + PASSWORD)
    a.expect("* you are now a server operator (boss)", timeout=CHECK_WAIT)
    return a


def refused_text(t, srv, source, reason):
    """A text connection from source is refused with the ban's line."""
    c = t.client(text_addr(srv), source=source)
    c.expect("! you are banned from this server (%s)" % reason)
    c.expect_end()


def test_text_operator_bans_an_address(t):
    srv = oper_server(t)
    a = text_oper(t, srv)
    a.say("/serverban 127.0.0.2 1h spam bots")
    a.expect(re.compile(r"\* server ban set: 127\.0\.0\.2 by boss, expires %s: spam bots" % ISO))
    refused_text(t, srv, "127.0.0.2", "spam bots")
    irc = irc_client(t, srv, source="127.0.0.2")
    irc.expect("ERROR :you are banned from this server (spam bots)")
    irc.expect_end()
    srv.wait_refusals("banned", 2)
    srv.wait_event("server-ban", mask="127.0.0.2", by="boss", reason="spam bots")
    fine = t.client(text_addr(srv), source="127.0.0.3")  # another address
    a.expect("* %s joined #lobby" % fine.welcome())
    a.say("/serverbans")
    a.expect(re.compile(r"\* 127\.0\.0\.2 by boss, expires %s: spam bots" % ISO))
    a.expect("* 1 server ban")
    a.say("/serverunban 127.0.0.2")
    a.expect("* server ban on 127.0.0.2 removed")
    a.say("/serverunban 127.0.0.2")
    a.expect("! no server ban on 127.0.0.2")
    back = t.client(text_addr(srv), source="127.0.0.2")
    a.expect("* %s joined #lobby" % back.welcome())
    a.say("/serverbans")
    a.expect("* no server bans")


def test_network_ban_disconnects_those_here(t):
    """A ban on 127.0.0.8/29 puts out the people from it who are here (as
    a kill by the operator), not the others, and keeps new ones out."""
    srv = oper_server(t)
    a = text_oper(t, srv)
    bob = t.client(text_addr(srv), source="127.0.0.9")
    bob_nick = bob.welcome()
    a.expect("* %s joined #lobby" % bob_nick)
    carol = t.client(text_addr(srv), source="127.0.0.20")
    carol_nick = carol.welcome()
    a.expect("* %s joined #lobby" % carol_nick)
    bob.expect("* %s joined #lobby" % carol_nick)
    dave = irc_user(t, srv, "dave", source="127.0.0.14")
    a.say("/serverban 127.0.0.13/29 abuse")
    a.expect(re.compile(r"\* server ban set: 127\.0\.0\.8/29 by boss, expires never: abuse"))
    a.read_until("* disconnected 2 people under it")  # after their quits
    bob.expect("! killed by boss_user (Banned: abuse)")
    bob.expect_end()
    dave.until_cmd("ERROR")
    dave.expect_end()
    carol.read_until("* %s quit (Killed (boss_user (Banned: abuse)))" % bob_nick)
    refused_text(t, srv, "127.0.0.15", "abuse")
    t.barrier(carol, a)


def test_irc_klines_and_dlines(t):
    srv = oper_server(t)
    op = irc_user(t, srv, "op")
    irc_oper(op)
    op.send_line("KLINE 10 spammer :go away")
    m = op.expect_cmd("NOTICE", "op")
    check(re.fullmatch(r"\*\*\* Added K-Line for \[spammer!\*@\*\], expires %s: go away" % ISO, m.params[1]), "%r", m.line)
    c = irc_client(t, srv, source="127.0.0.2")
    c.send_line("NICK spammer")
    c.send_line("USER s 0 * :S")
    c.expect(":%s 465 spammer :You are banned from this server- go away" % SERVER_NAME)
    c.expect("ERROR :Closing Link: spammer[127.0.0.2] (Banned: go away)")
    c.expect_end()
    ok = irc_user(t, srv, "notspammer", source="127.0.0.2")
    op.send_line("DLINE 2h 127.0.0.64/26 :bad network")
    m = op.expect_cmd("NOTICE", "op")
    check("Added D-Line for [127.0.0.64/26]" in m.params[1] and m.params[1].endswith(": bad network"), "%r", m.line)
    op.send_line("DLINE someone!*@* :no")
    op.expect(":%s NOTICE op :*** Invalid D-Line: someone!*@*" % SERVER_NAME)
    op.send_line("STATS K")
    m = op.expect_num("216", "K", "spammer!*@*")
    check(re.fullmatch(ISO, m.params[3]) and m.params[4:] == ["boss", "go away"], "%r", m.line)
    op.expect(num("op", "219", "K :End of /STATS report"))
    op.send_line("STATS d")
    op.expect(re.compile(r":%s 225 op D 127\.0\.0\.64/26 %s boss :bad network" % (re.escape(SERVER_NAME), ISO)))
    op.expect(num("op", "219", "d :End of /STATS report"))
    irc = t.client(irc_addr(srv), source="127.0.0.100")
    irc.expect("ERROR :you are banned from this server (bad network)")
    op.send_line("UNKLINE spammer")
    op.expect(":%s NOTICE op :*** K-Line for [spammer!*@*] is removed" % SERVER_NAME)
    op.send_line("UNDLINE 127.0.0.64/26")
    op.expect(":%s NOTICE op :*** D-Line for [127.0.0.64/26] is removed" % SERVER_NAME)
    op.send_line("UNDLINE 127.0.0.64/26")
    op.expect(":%s NOTICE op :*** No D-Line for [127.0.0.64/26] found" % SERVER_NAME)
    op.send_line("STATS K")
    op.expect(num("op", "219", "K :End of /STATS report"))
    ok.barrier()


def test_only_operators_ban(t):
    srv = oper_server(t)
    (a,) = t.users(srv, "alice")
    for cmd in ("/serverban 10.0.0.1", "/serverunban 10.0.0.1", "/serverbans"):
        a.say(cmd)
        a.expect("! only server operators may %s" % cmd.split()[0])
    i = irc_user(t, srv, "ivan")
    for cmd in ("KLINE x!*@*", "DLINE 10.0.0.1", "UNKLINE x", "UNDLINE 10.0.0.1", "STATS K", "STATS D"):
        i.send_line(cmd)
        i.expect(num("ivan", "481", ":Permission Denied- You're not an IRC operator"))
    i.send_line("STATS u")
    i.expect(num("ivan", "219", "u :End of /STATS report"))
    a.say("/oper boss " + PASSWORD)
    a.expect("* you are now a server operator (boss)", timeout=CHECK_WAIT)
    a.say("/serverban")
    a.expect("! usage: /serverban ADDRESS|NETWORK|MASK [DURATION] [REASON]")
    for bad in ("0.0.0.0/0", "*!*@*", "10.0.0.0/33"):
        a.say("/serverban " + bad)
        a.expect('! bad ban "%s": an address, ADDRESS/BITS or NICK!USER@HOST mask, not one that matches everyone' % bad)


def test_mask_ban_turns_a_text_user_away_at_arrival(t):
    """A mask that names the user part is checked when a text user arrives
    (text users are ~text@ADDRESS), after the accept."""
    srv = oper_server(t)
    a = text_oper(t, srv)
    a.say("/serverban *!~text@127.0.0.7 no text from there")
    a.expect(re.compile(r"\* server ban set: \*!~text@127\.0\.0\.7 by boss, expires never: no text from there"))
    c = t.client(text_addr(srv), source="127.0.0.7")
    c.expect("! you are banned from this server (no text from there)")
    c.expect_end()
    irc_user(t, srv, "fromseven", source="127.0.0.7")  # IRC users are ~NAME
    t.barrier(a)


def test_bans_expire(t):
    srv = oper_server(t)
    a = text_oper(t, srv)
    a.say("/serverban 127.0.0.4 2s brief")
    a.expect(re.compile(r"\* server ban set: 127\.0\.0\.4 by boss, expires %s: brief" % ISO))
    refused_text(t, srv, "127.0.0.4", "brief")
    end = time.monotonic() + t.bound(8)
    while True:  # await the expiry: each try is refused or welcomed
        c = t.client(text_addr(srv), source="127.0.0.4")
        first = c.line()
        if first != "! you are banned from this server (brief)":
            break
        check(time.monotonic() < end, "the 2 s ban did not expire in 8 s")
        c.close()
        time.sleep(0.2)
    check(first.startswith("* welcome to parley"), "after expiry: %r", first)
    a.say("/serverbans")
    a.read_until("* no server bans")  # past the arrival in #lobby


def test_bans_survive_sighup(t):
    srv = oper_server(t)
    a = text_oper(t, srv)
    a.say("/serverban 127.0.0.6 stays")
    a.expect(re.compile(r"\* server ban set: 127\.0\.0\.6 .*"))
    srv.send_signal(signal.SIGHUP)
    srv.wait_log(r"\bevent=reload-done\b")
    refused_text(t, srv, "127.0.0.6", "stays")
    a.say("/serverbans")
    a.expect(re.compile(r"\* 127\.0\.0\.6 by boss, expires never: stays"))
    a.expect("* 1 server ban")


def test_metrics_count_bans_and_refusals(t):
    from test_metrics import scrape

    srv = t.server(
        "--oper",
        "boss:" + __import__("test_oper").oper_hash(t),
        listen=["text://127.0.0.1:0", "metrics://127.0.0.1:0"],
    )
    a = text_oper(t, srv)
    a.say("/serverban 127.0.0.0/8 everyone here")
    a.expect(re.compile(r"\* server ban set: 127\.0\.0\.0/8 .*"))
    refused_text(t, srv, "127.0.0.2", "everyone here")
    t.barrier(a)  # the operator stays: operators are not put out
    a.say("/serverunban 127.0.0.0/8")
    a.expect("* server ban on 127.0.0.0/8 removed")
    a.say("/serverban 192.0.2.0/24 documentation")
    a.expect(re.compile(r"\* server ban set: 192\.0\.2\.0/24 .*"))
    values, _ = scrape(t, srv)
    check(values["parley_server_bans"] == 1, "%r", values)
    check(values['parley_accepts_refused_total{reason="banned"}'] == 1, "%r", values)


def test_banned_nick_cannot_be_taken(t):
    """A mask ban on a nick holds when someone here changes to it: a text
    user's /nick is refused, an IRC client's NICK gets 432 (as ircds answer
    a reserved nick); operators are exempt."""
    srv = oper_server(t)
    op = irc_user(t, srv, "op")
    irc_oper(op)
    op.send_line("KLINE spam* :no spammers")
    op.expect_cmd("NOTICE", "op")
    (a,) = t.users(srv, "alice")
    a.say("/nick spammer")
    a.expect('! nick "spammer" is banned from this server')
    i = irc_user(t, srv, "ivan")
    i.send_line("NICK spamalot")
    i.expect(num("ivan", "432", "spamalot :Erroneous nickname"))
    op.send_line("NICK spammy")
    op.expect(":op!~op@127.0.0.1 NICK :spammy")
    a.say("/nick bob")
    a.expect("* you are now bob")


def ban_list(a):
    """The lines of /serverbans, without its count line."""
    a.say("/serverbans")
    lines = []
    while True:
        ln = a.line()
        if re.fullmatch(r"\* (\d+ server bans?|no server bans)", ln):
            return lines
        lines.append(ln)


def test_bans_survive_a_restart_with_a_store(t):
    """With --db, bans by network and by mask come back after a restart
    with their setter, expiry and reason (refused at accept, listed as
    before); an unban survives a restart too; a ban that expired while the
    server was down is not brought back, and leaves the file."""
    from test_store import DbDir

    db = DbDir()
    try:
        srv = oper_server(t, "--db", db.path)
        a = text_oper(t, srv)
        a.say("/serverban 127.0.0.8/29 1h network spam")
        a.expect(re.compile(r"\* server ban set: 127\.0\.0\.8/29 by boss, expires %s: network spam" % ISO))
        a.say("/serverban *!~text@127.0.0.7 no text from there")
        a.expect(re.compile(r"\* server ban set: \*!~text@127\.0\.0\.7 .*"))
        a.say("/serverban 127.0.0.5 lifted soon")
        a.expect(re.compile(r"\* server ban set: 127\.0\.0\.5 .*"))
        a.say("/serverunban 127.0.0.5")
        a.expect("* server ban on 127.0.0.5 removed")
        before = ban_list(a)
        check(len(before) == 2, "two bans: %r", before)
        a.say("/serverban 127.0.0.4 3s brief")
        a.expect(re.compile(r"\* server ban set: 127\.0\.0\.4 .*"))
        brief_end = time.time() + 3
        srv.stop()
        rows = db.sql("SELECT mask, setter, reason FROM sbans ORDER BY mask")
        check(["127.0.0.4", "boss", "brief"] in rows, "the brief ban is kept: %r", rows)
        while time.time() < brief_end + 1.5:  # let it expire while down
            time.sleep(0.1)

        srv2 = oper_server(t, "--db", db.path)
        refused_text(t, srv2, "127.0.0.9", "network spam")
        c = t.client(text_addr(srv2), source="127.0.0.7")
        c.expect("! you are banned from this server (no text from there)")
        c.expect_end()
        b = text_oper(t, srv2)
        for source in ("127.0.0.5", "127.0.0.4"):  # unbanned, expired
            ok = t.client(text_addr(srv2), source=source)
            b.expect("* %s joined #lobby" % ok.welcome())
        check(ban_list(b) == before, "after a restart: %r, before: %r", ban_list(b), before)
        rows = db.sql("SELECT mask FROM sbans ORDER BY mask")
        check(rows == [["*!~text@127.0.0.7"], ["127.0.0.8/29"]], "kept: %r", rows)
        b.say("/serverunban 127.0.0.8/29")
        b.expect("* server ban on 127.0.0.8/29 removed")
        srv2.stop()

        srv3 = oper_server(t, "--db", db.path)
        d = text_oper(t, srv3)
        ok = t.client(text_addr(srv3), source="127.0.0.9")
        d.expect("* %s joined #lobby" % ok.welcome())
        left = ban_list(d)
        check(left == [ln for ln in before if "127.0.0.7" in ln], "after the unban and a restart: %r", left)
    finally:
        db.remove()


# -- bans in the config file (server-ban = MASK [REASON]) ---------------------


def config_ban_server(t, bans, *flags):
    """An operator server (boss) whose config file holds the server-ban
    lines bans; returns (server, the file's path, the oper line)."""
    from test_config import conf
    from test_oper import oper_hash

    oper = "oper = boss:%s\n" % oper_hash(t)
    path = conf(t, oper + "".join("server-ban = %s\n" % b for b in bans))
    return oper_server(t, "-c", path, *flags), path, oper


def test_config_ban_refused_at_accept_until_sighup_lifts_it(t):
    """A CIDR ban in the config file refuses a client at accept with the
    usual line; operators see it listed as set by config and cannot lift
    or change it (text and IRC say why); after SIGHUP with the line
    removed (logged), the client gets in."""
    from test_config import rewrite

    srv, path, oper = config_ban_server(t, ["127.0.0.8/29 from the config", "*!*@127.0.0.30"])
    srv.wait_event("config-ban", change="added", mask="127.0.0.8/29", reason="from the config")
    refused_text(t, srv, "127.0.0.9", "from the config")
    irc = irc_client(t, srv, source="127.0.0.15")
    irc.expect("ERROR :you are banned from this server (from the config)")
    irc.expect_end()
    a = text_oper(t, srv)
    check(ban_list(a) == [
        "* 127.0.0.8/29 by config, expires never: from the config",
        "* *!*@127.0.0.30 by config, expires never: no reason given",
    ], "config bans listed as %s", a.received[-4:])
    hint = "is set in the config file: change it there, then reload (SIGHUP)"
    a.say("/serverunban 127.0.0.9/29")
    a.expect("! the server ban on 127.0.0.8/29 " + hint)
    a.say("/serverban 127.0.0.8/29 1h mine now")
    a.expect("! the server ban on 127.0.0.8/29 " + hint)
    op = irc_user(t, srv, "op")
    irc_oper(op)
    op.send_line("UNDLINE 127.0.0.8/29")
    op.expect(":%s NOTICE op :*** D-Line for [127.0.0.8/29] %s" % (SERVER_NAME, hint))
    refused_text(t, srv, "127.0.0.9", "from the config")

    rewrite(path, oper + "server-ban = *!*@127.0.0.30 now with a reason\n")
    srv.send_signal(signal.SIGHUP)
    srv.wait_event("reload-done")
    srv.wait_event("config-ban", change="removed", mask="127.0.0.8/29")
    srv.wait_event("config-ban", change="changed", mask="*!*@127.0.0.30", reason="now with a reason")
    back = t.client(text_addr(srv), source="127.0.0.9")
    a.expect("* %s joined #lobby" % back.welcome())
    refused_text(t, srv, "127.0.0.30", "now with a reason")


def test_config_ban_added_on_sighup_puts_out_those_here(t):
    """A ban added to the config file takes effect on SIGHUP: the people
    here it matches are put out (killed by config), the others stay; an
    operator's ban set before is left as it was, listed alongside."""
    from test_config import rewrite

    srv, path, oper = config_ban_server(t, [])
    a = text_oper(t, srv)
    a.say("/serverban 127.0.0.40 by hand")
    a.expect(re.compile(r"\* server ban set: 127\.0\.0\.40 .*"))
    bob = t.client(text_addr(srv), source="127.0.0.17")
    bob_nick = bob.welcome()
    a.expect("* %s joined #lobby" % bob_nick)
    rewrite(path, oper + "server-ban = 127.0.0.16/30 no more\n")
    srv.send_signal(signal.SIGHUP)
    srv.wait_event("config-ban", change="added", mask="127.0.0.16/30")
    bob.expect("! killed by config (Banned: no more)")
    a.expect("* %s quit (Killed (config (Banned: no more)))" % bob_nick)
    srv.wait_event("kill", account="config")
    check(ban_list(a) == [
        "* 127.0.0.40 by boss, expires never: by hand",
        "* 127.0.0.16/30 by config, expires never: no more",
    ], "bans listed as %s", a.received[-4:])


def test_config_bans_are_not_stored(t):
    """With --db, the store keeps operators' bans only: a config ban that
    took the place of an operator's ban on its mask removes that one from
    the file, and a restart without the config line lets its address in."""
    from test_config import rewrite
    from test_store import DbDir

    db = DbDir()
    try:
        srv, path, oper = config_ban_server(t, [], "--db", db.path)
        a = text_oper(t, srv)
        a.say("/serverban 127.0.0.50 by hand")
        a.expect(re.compile(r"\* server ban set: 127\.0\.0\.50 .*"))
        a.say("/serverban 127.0.0.51 by hand too")
        a.expect(re.compile(r"\* server ban set: 127\.0\.0\.51 .*"))
        rewrite(path, oper + "server-ban = 127.0.0.51 from the config\nserver-ban = 127.0.0.52\n")
        srv.send_signal(signal.SIGHUP)
        srv.wait_event("config-ban", change="replaced", mask="127.0.0.51", by="boss")
        srv.wait_event("config-ban", change="added", mask="127.0.0.52")
        srv.stop()
        rows = db.sql("SELECT mask FROM sbans ORDER BY mask")
        check(rows == [["127.0.0.50"]], "stored: %r", rows)
        rewrite(path, oper)
        srv2 = oper_server(t, "-c", path, "--db", db.path)
        b = text_oper(t, srv2)
        check(ban_list(b) == ["* 127.0.0.50 by boss, expires never: by hand"], "after a restart: %r", b.received[-3:])
        for source in ("127.0.0.51", "127.0.0.52"):
            ok = t.client(text_addr(srv2), source=source)
            b.expect("* %s joined #lobby" % ok.welcome())
    finally:
        db.remove()
