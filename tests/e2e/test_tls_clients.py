"""Real IRC clients over TLS: Debian's irssi in tmux (see tmux.py and
test_irc_clients.py) against parleyd's ircs:// listener, verifying the
server's certificate against the test's own CA file, in a room shared
with a text user over TLS.
"""
from test_irc_clients import IRSSI_CONFIG, UNICODE, Irssi
from test_tls import addr_of, tls_server, tls_user
from tmux import need

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


def test_irssi_over_tls_talks_with_a_tls_text_user(t):
    """irssi connects to ircs://, checks the certificate, joins #lobby and
    talks both ways with a text user over TLS; the server logs the TLS
    version both negotiated."""
    srv, cert, _, _, _ = tls_server(t, listen=["ircs://127.0.0.1:0", "tls://127.0.0.1:0"])
    bob = tls_user(t, addr_of(srv, "tls"), "bob")
    IrssiTls.ca = cert
    a = IrssiTls(t, addr_of(srv, "ircs"), "alice")
    a.join("#lobby", bob)
    bob.say("hello over TLS: " + UNICODE)
    a.see(a.said("bob", "hello over TLS: " + UNICODE))
    a.type("hello from irssi over TLS: " + UNICODE)
    bob.expect("[alice]: hello from irssi over TLS: " + UNICODE)
    t.barrier(bob)
    srv.wait_event("tls", id=2)
