"""Real IRC clients over TLS: Debian's irssi and WeeChat in tmux (see
tmux.py and test_irc_clients.py) against parleyd's ircs:// listener, in a
room shared with a text user over TLS. irssi verifies the server's
certificate against the test's own CA file; WeeChat pins its SHA-256
fingerprint (and one with a wrong pin is refused).
"""
import re

from harness import check
from test_irc_clients import IRSSI_CONFIG, UNICODE, Irssi, WeeChat
from test_tls import addr_of, tls_server, tls_user
from tmux import Terminal, need

# irssi connects by itself, over TLS, and checks the certificate (its
# subjectAltName holds 127.0.0.1) against the CA file: the test's
# self-signed certificate.
IRSSI_TLS_SERVERS = """
chatnets = { t = { type = "IRC"; }; };
servers = (
  { address = "127.0.0.1"; chatnet = "t"; port = "%(port)d";
    use_tls = "yes"; tls_verify = "yes"; tls_cafile = "%(ca)s";
    autoconnect = "yes"; }
);
"""


class IrssiTls(Irssi):
    """irssi with one server in its configuration: parleyd over TLS."""

    ca = None

    def start(self, addr):
        home = self.term.home
        conf = IRSSI_CONFIG % {"nick": self.nick} + IRSSI_TLS_SERVERS % {"port": addr[2], "ca": self.ca}
        self.term.start([need("irssi"), "--home=%s/.irssi" % home, "-n", self.nick], files={".irssi/config": conf})


def talk_over_tls(t, srv, cls):
    """A text user over TLS, bob, waits in #lobby; the program cls, as
    alice, connects to srv's ircs:// listener, joins and talks with bob
    both ways; the server logs the TLS version they negotiated."""
    bob = tls_user(t, addr_of(srv, "tls"), "bob")
    a = cls(t, addr_of(srv, "ircs"), "alice")
    a.join("#lobby", bob)
    bob.say("hello over TLS: " + UNICODE)
    a.see(a.said("bob", "hello over TLS: " + UNICODE))
    a.type("hello from %s over TLS: %s" % (a.PROGRAM, UNICODE))
    bob.expect("[alice]: hello from %s over TLS: %s" % (a.PROGRAM, UNICODE))
    t.barrier(bob)
    ev = srv.wait_event("tls", id=2)
    check(ev["version"] in ("TLSv1.2", "TLSv1.3"), "%s negotiated %s", a.PROGRAM, ev)


def test_irssi_over_tls_talks_with_a_tls_text_user(t):
    """irssi connects to ircs://, checks the certificate, joins #lobby and
    talks both ways with a text user over TLS; the server logs the TLS
    version both negotiated."""
    srv, cert, _, _, _ = tls_server(t, listen=["ircs://127.0.0.1:0", "tls://127.0.0.1:0"])
    IrssiTls.ca = cert
    talk_over_tls(t, srv, IrssiTls)


def weechat_tls_argv(home, addr, nick, fp):
    """WeeChat's command line: only the IRC plugin, no scripts, one server
    over TLS whose certificate must have the SHA-256 fingerprint fp (with a
    pin, WeeChat checks nothing else of it), no anti-flood delay. WeeChat
    3.8 still calls TLS "ssl" in its options (4.0 renamed them "tls")."""
    server = "/server add t %s/%d -ssl -ssl_fingerprint=%s -nicks=%s -username=%s -realname=%s %s" % (
        addr[1], addr[2], fp, nick, nick, nick, "-anti_flood_prio_high=0 -anti_flood_prio_low=0")
    return [
        need("weechat"), "--dir", home + "/weechat", "--no-connect", "--no-script",
        "--plugins", "irc", "--run-command", "/bar hide nicklist; %s; /connect t" % server,
    ]


class WeeChatTls(WeeChat):
    """WeeChat with one server: parleyd over TLS, its certificate pinned."""

    fp = None

    def start(self, addr):
        self.term.start(weechat_tls_argv(self.term.home, addr, self.nick, self.fp))


def test_weechat_over_tls_with_pinned_certificate(t):
    """WeeChat (GnuTLS) connects to ircs:// with the certificate's SHA-256
    pinned, joins #lobby and talks both ways with a text user over TLS;
    the server logs the TLS version it negotiated. A WeeChat pinning
    another fingerprint refuses the server and never registers."""
    srv, _, _, fp, _ = tls_server(t, listen=["ircs://127.0.0.1:0", "tls://127.0.0.1:0"])
    WeeChatTls.fp = fp
    talk_over_tls(t, srv, WeeChatTls)
    wrong = Terminal(t, "weechat-wrong-pin")
    wrong.start(weechat_tls_argv(wrong.home, addr_of(srv, "ircs"), "mallory", "%064x" % (int(fp, 16) ^ 1)))
    wrong.wait_for(re.compile(r".*fingerprint does NOT match.*"), timeout=10)
    srv.wait_log(r"event=disconnect .*reason=handshake")
    check(len(srv.events("tls")) == 2, "the wrong pin got through: %s", srv.events("tls"))
