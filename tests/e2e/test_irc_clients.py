"""Real IRC clients: Debian's irssi and WeeChat, each in its own tmux (see
tmux.py), against parleyd's IRC listener, in rooms shared with text users.

What a text user receives is checked byte for byte; what an IRC client
shows is read off its screen, one whole line at a time (its own rendering,
after the time of day). The clients run with a throw-away HOME and a
generated configuration: they connect to 127.0.0.1 by address (no DNS),
join nothing by themselves, load no scripts and check for no updates.
A missing program is a failure (tests/deps.sh installs them).
"""
import re

from harness import WELCOME_3, check
from irc import IrcClient, irc_addr, mixed_server, text_addr
from tmux import Terminal, need

# A line every script below types and must see arrive unchanged: accents,
# a symbol and a double-width character, so the clients' UTF-8 is tested.
UNICODE = "héllo wörld ✓ 本"

IRSSI_CONFIG = """settings = {
  core = {
    nick = "%(nick)s";
    user_name = "%(nick)s";
    real_name = "%(nick)s";
    settings_autosave = "no";
  };
  "fe-common/core" = { autolog = "no"; };
  "irc/core" = { cmds_max_at_once = "1000"; cmd_queue_speed = "1msec"; };
};
"""


class IrcTerm:
    """An IRC client program in a Terminal, connected as nick. Subclasses
    give the command line and how the program renders lines."""

    # The 001 text parleyd sends, as the clients show it.
    WELCOME = "Welcome to the parley IRC Network %s!~%s@127.0.0.1"

    def __init__(self, t, addr, nick, welcome=WELCOME):
        self.nick = nick
        self.term = Terminal(t, "%s-%s" % (self.PROGRAM, nick))
        self.start(addr)
        self.term.wait_for(welcome % (nick, nick), timeout=10)

    def __repr__(self):
        return "<%s %s>" % (self.PROGRAM, self.nick)

    def type(self, text):
        self.term.type(text)

    def see(self, rx, timeout=5.0):
        """Waits for a screen line that fullmatches the regex source rx
        (after the time of day, which every line starts with)."""
        return self.term.wait_for(re.compile(self.TIME + rx), timeout=timeout)

    def join(self, chan, *watchers):
        """Types /join chan; waits for the client to show it joined, and for
        each watcher (a text user already there) to be told."""
        self.type("/join " + chan)
        self.see(self.joined(self.nick, chan))
        self.showing(chan)
        for w in watchers:
            w.expect("* %s joined %s" % (self.nick, chan))

    def said(self, nick, text):
        return self.SAID % (re.escape(nick), re.escape(text))

    def acted(self, nick, text):
        return self.ACTED % (re.escape(nick), re.escape(text))


class Irssi(IrcTerm):
    """irssi 1.4, one window per channel or query, with the configuration
    above: no queue of commands (irssi would send one every 2.2 s)."""

    PROGRAM = "irssi"
    TIME = r"\d\d:\d\d "
    SAID = r"<[ @+]?%s> %s"
    ACTED = r" \* %s %s"

    def start(self, addr):
        home = self.term.home
        self.term.start(
            [need("irssi"), "--home=%s/.irssi" % home, "-c", addr[1], "-p", str(addr[2]), "-n", self.nick],
            files={".irssi/config": IRSSI_CONFIG % {"nick": self.nick}},
        )

    def show(self, target):
        """Makes the window of target (a channel or a nick) the shown one."""
        self.type("/window goto " + target)
        self.showing(target)

    def showing(self, target):
        # The prompt names the window's channel or query.
        self.term.wait_for(re.compile(r"\[%s\]" % re.escape(target)))

    @staticmethod
    def joined(nick, chan):
        return r"-!- %s \[~%s@127\.0\.0\.1\] has joined %s" % (nick, nick, re.escape(chan))

    @staticmethod
    def kicked(nick, chan, by, reason):
        return r"-!- %s was kicked from %s by %s \[%s\]" % (nick, re.escape(chan), by, re.escape(reason))

    @staticmethod
    def banned(chan):
        return r"-!- Cannot join to channel %s \(You are banned\)" % re.escape(chan)


class WeeChat(IrcTerm):
    """WeeChat 3.8 (weechat-curses), one buffer per channel or query, with
    no anti-flood delay (it would send one message every 2 s)."""

    PROGRAM = "weechat"
    TIME = r"\d\d:\d\d:\d\d +"
    SAID = r"[@+]?%s \| %s"
    ACTED = r"\* \| %s %s"

    def start(self, addr):
        # Only the IRC plugin, no scripts, no automatic connection; the
        # nick list is hidden so that screen lines end with the message.
        server = "/server add t %s/%d -notls -nicks=%s -username=%s -realname=%s %s" % (
            addr[1], addr[2], self.nick, self.nick, self.nick, "-anti_flood_prio_high=0 -anti_flood_prio_low=0")
        self.term.start([
            need("weechat"), "--dir", self.term.home + "/weechat", "--no-connect", "--no-script",
            "--plugins", "irc", "--run-command", "/bar hide nicklist; %s; /connect t" % server,
        ])

    def show(self, target):
        self.type("/buffer " + target)
        self.showing(target)

    def showing(self, target):
        # The status bar names the buffer shown, after its number: then
        # come its modes, the count of nicks, and the hot list.
        rx = r"\[\d\d:\d\d\] \[\d+\] \[irc/t\] \d+:%s(\(\S*\))?(\{\d+\})?( .*)?"
        self.term.wait_for(re.compile(rx % re.escape(target)))

    @staticmethod
    def joined(nick, chan):
        # The real name shows where the server offers extended-join.
        return r"--> \| %s( \(%s\))? \(~%s@127\.0\.0\.1\) has joined %s" % (nick, nick, nick, re.escape(chan))

    @staticmethod
    def kicked(nick, chan, by, reason):
        return r"<-- \| %s has kicked %s \(%s\)" % (by, nick, re.escape(reason))

    @staticmethod
    def banned(chan):
        # WeeChat shows the server's text of 474; modern IRC's starts so.
        return r"-- \| %s: Cannot join channel \(\+b\).*" % re.escape(chan)


# ------------------------------------------------------------------------
# Scenarios, each run with both clients
# ------------------------------------------------------------------------


def _two_rooms(t, cls):
    """The client joins #lobby and #dev; a text user in each room and the
    client see each other's lines, and each line stays in its room."""
    srv = mixed_server(t)
    bob, carol = t.users(srv, "bob", "carol")
    carol.say("/join dev")
    carol.expect("* you joined #dev (1 person here)")
    bob.expect("* carol left #lobby")
    a = cls(t, irc_addr(srv), "alice")
    a.join("#lobby", bob)
    bob.say("hello from telnet: " + UNICODE)
    a.see(a.said("bob", "hello from telnet: " + UNICODE))
    a.type("hello from %s: %s" % (a.PROGRAM, UNICODE))
    bob.expect("[alice]: hello from %s: %s" % (a.PROGRAM, UNICODE))
    a.join("#dev", carol)
    carol.say("dev only")
    a.see(a.said("carol", "dev only"))
    a.type("for #dev")
    carol.expect("[alice]: for #dev")
    a.show("#lobby")
    a.type("back in #lobby")
    bob.expect("[alice]: back in #lobby")
    t.barrier(bob, carol)


def _actions_and_private(t, cls):
    """/me both ways, and a private message both ways: /msg from the
    channel, the answer read in the query that /query opens."""
    srv = mixed_server(t)
    (bob,) = t.users(srv, "bob")
    a = cls(t, irc_addr(srv), "alice")
    a.join("#lobby", bob)
    a.type("/me waves")
    bob.expect("[* alice] waves")
    bob.say("/me nods")
    a.see(a.acted("bob", "nods"))
    a.type("/msg bob psst " + UNICODE)
    bob.expect("[alice -> bob]: psst " + UNICODE)
    # The query is opened before the answer comes: switching to a window
    # that an incoming message may not have made yet would be a race.
    a.type("/query bob")
    a.showing("bob")
    bob.say("/msg alice back " + UNICODE)
    bob.expect("[bob -> alice]: back " + UNICODE)
    a.see(a.said("bob", "back " + UNICODE))
    t.barrier(bob)


def _kicked_then_banned(t, cls, addr, srv=None, welcome=IrcTerm.WELCOME):
    """An IRC operator (the first in #lobby) kicks the client, whose screen
    shows the kick, then bans it (+b alice!*@*); the client's /join is
    refused with 474, which its screen shows, and no one in the room hears
    of a join. With srv (a parleyd), a text user bob in #lobby must see the
    kick and the ban as the text protocol renders them. addr: the IRC
    listener's address; welcome: the 001 text the client waits for (both
    differ for another server). Needs KICK and MODE +b."""
    op = IrcClient(t, addr)
    with t._lock:
        t.clients.append(op)
    op.register("op")
    op.send_line("JOIN #lobby")
    op.until_cmd("366")
    bob = None
    if srv is not None:
        (bob,) = t.users(srv, "bob")
        op.expect_cmd("JOIN", "#lobby", source="user2!~text@127.0.0.1")
        op.expect_cmd("NICK", "bob", source="user2!~text@127.0.0.1")
    a = cls(t, addr, "alice", welcome=welcome)
    a.join("#lobby", *([bob] if bob else []))
    op.expect_cmd("JOIN", "#lobby", source="alice!~alice@127.0.0.1")
    op.send_line("KICK #lobby alice :behave")
    m = op.expect_cmd("KICK", "#lobby", "alice", "behave", source="op!~op@127.0.0.1")
    check(len(m.params) == 3, "KICK with extra parameters: %r", m.line)
    a.see(a.kicked("alice", "#lobby", "op", "behave"))
    op.send_line("MODE #lobby +b alice!*@*")
    op.expect_cmd("MODE", "#lobby", "+b", "alice!*@*", source="op!~op@127.0.0.1")
    a.type("/join #lobby")
    a.see(a.banned("#lobby"))
    op.barrier()
    if bob is not None:
        bob.expect("* op kicked alice from #lobby (behave)")
        bob.expect("* op set mode +b alice!*@* in #lobby")
        t.barrier(bob)


def test_irssi_joins_two_rooms_and_talks(t):
    _two_rooms(t, Irssi)


def test_weechat_joins_two_rooms_and_talks(t):
    _two_rooms(t, WeeChat)


def test_irssi_actions_and_private_messages(t):
    _actions_and_private(t, Irssi)


def test_weechat_actions_and_private_messages(t):
    _actions_and_private(t, WeeChat)


def test_irssi_kicked_then_banned(t):
    """Needs KICK and MODE (not in this tree yet)."""
    srv = mixed_server(t)
    _kicked_then_banned(t, Irssi, irc_addr(srv), srv)


def test_weechat_kicked_then_banned(t):
    """Needs KICK and MODE (not in this tree yet)."""
    srv = mixed_server(t)
    _kicked_then_banned(t, WeeChat, irc_addr(srv), srv)


def test_irssi_weechat_and_telnet_in_one_room(t):
    """Three real programs in #lobby: irssi, WeeChat and Debian's telnet
    (in tmux too), and a text user who checks every line byte for byte.
    Each program's line reaches the other two screens. telnet types no
    character that it would mangle (see test_real_clients.py), but shows
    what the others type unchanged."""
    srv = mixed_server(t)
    (dave,) = t.users(srv, "dave")
    bob = Terminal(t, "telnet-bob")
    bob.start([need("telnet"), "127.0.0.1", str(text_addr(srv)[2])])
    bob.wait_for(WELCOME_3)
    dave.expect("* user2 joined #lobby")
    bob.type("/nick bob")
    bob.wait_for("* you are now bob")
    dave.expect("* user2 is now bob")
    a = Irssi(t, irc_addr(srv), "alice")
    a.join("#lobby", dave)
    c = WeeChat(t, irc_addr(srv), "carol")
    c.join("#lobby", dave)
    bob.wait_for("* carol joined #lobby")
    lines = (
        (bob, "bob", "hello from telnet: héllo wörld"),
        (a, "alice", "hello from irssi: " + UNICODE),
        (c, "carol", "hello from weechat: " + UNICODE),
    )
    for speaker, nick, text in lines:
        speaker.type(text)
        dave.expect("[%s]: %s" % (nick, text))
        for client in (a, c):
            if client.nick != nick:
                client.see(client.said(nick, text))
        if nick != "bob":
            bob.wait_for(re.compile(re.escape("[%s]: %s" % (nick, text))))
    t.barrier(dave)


test_irssi_weechat_and_telnet_in_one_room.alone = True
