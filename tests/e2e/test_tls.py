"""TLS listeners: text over TLS (tls://) and IRC over TLS (ircs://).

Clients are Python's ssl module and Debian's `openssl s_client`; the
certificates are made per test with the openssl command. What is checked
is what a client sees (the chat, the certificate served, a refused
handshake, a dropped connection) and the server's key=value log.
"""

import atexit
import hashlib
import os
import queue
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time

from harness import Client, Ended, check
from irc import IrcClient

SERVER_NAME = "irc.parley.test"


# -- certificates and clients --------------------------------------------------


def make_dir():
    d = tempfile.mkdtemp(prefix="parley-tls-")
    atexit.register(shutil.rmtree, d, True)
    return d


def make_cert(d, name, cn="localhost"):
    """Makes a self-signed P-256 certificate and its key in d; returns
    (cert path, key path, SHA-256 of the certificate's DER, hex). Its
    subjectAltName names 127.0.0.1 as an address and as a DNS name too:
    irssi compares the host it connects to with DNS names only."""
    cert, key = os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + cn,
         "-addext", "subjectAltName=DNS:localhost,DNS:127.0.0.1,IP:127.0.0.1"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20,
    )
    return cert, key, cert_fp(cert)


def cert_fp(path):
    with open(path) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return hashlib.sha256(der).hexdigest()


def client_ctx(certfile=None, keyfile=None, min_version=None, max_version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if min_version:
        ctx.minimum_version = min_version
    if max_version:
        ctx.maximum_version = max_version
    if certfile:
        ctx.load_cert_chain(certfile, keyfile)
    return ctx


def wrap(c, ctx=None):
    """Turns harness client c into a TLS client (the handshake runs now)."""
    c.sock = (ctx or client_ctx()).wrap_socket(c.sock)
    return c


def served_fp(c):
    return hashlib.sha256(c.sock.getpeercert(binary_form=True)).hexdigest()


def tls_server(t, *flags, listen=("tls://127.0.0.1:0",), cert=None, d=None):
    """Starts parleyd with the given listeners and a fresh certificate;
    returns (server, cert, key, fingerprint, dir)."""
    d = d or make_dir()
    c, k, fp = cert or make_cert(d, "server")
    srv = t.server("--tls-cert", c, "--tls-key", k, "--server-name", SERVER_NAME, *flags, listen=list(listen))
    return srv, c, k, fp, d


def addr_of(srv, scheme):
    for url, addr in zip(srv.listen, srv.addrs):
        if url.startswith(scheme + "://"):
            return addr
    raise AssertionError("no %s:// listener in %s" % (scheme, srv.listen))


def tls_user(t, addr, name, others=(), ctx=None):
    """A text user over TLS, welcomed and renamed; others (already in
    #lobby) consume the notices it causes."""
    c = wrap(t.client(addr), ctx)
    nick = c.welcome()
    for p in others:
        p.expect("* %s joined #lobby" % nick)
    c.say("/nick " + name)
    c.expect("* you are now " + name)
    for p in others:
        p.expect("* %s is now %s" % (nick, name))
    c.nick = name
    return c


def ircs_client(t, addr, ctx=None):
    c = IrcClient(t, addr)
    with t._lock:
        t.clients.append(c)
    return wrap(c, ctx)


class SClient:
    """`openssl s_client` as a chat client: lines in on stdin, lines out
    of stdout (read by a thread into a queue); stopped at cleanup."""

    def __init__(self, t, addr, *args):
        self.t = t
        argv = ["openssl", "s_client", "-connect", "%s:%d" % (addr[1], addr[2])] + list(args)
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines = queue.Queue()
        self.all = []
        threading.Thread(target=self._pump, daemon=True).start()
        atexit.register(self.stop)

    def _pump(self):
        for raw in self.proc.stdout:
            self.lines.put(raw.decode("utf-8", "replace").rstrip("\r\n"))
        self.lines.put(None)

    def say(self, text):
        self.proc.stdin.write((text + "\n").encode())
        self.proc.stdin.flush()

    def wait_for(self, pred, timeout=5.0):
        """Reads output lines until pred(line); returns the line (None:
        the program ended first)."""
        end = time.monotonic() + self.t.bound(timeout)
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("s_client: timeout; last output %r" % self.all[-8:])
            try:
                ln = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if ln is None:
                return None
            self.all.append(ln)
            if pred(ln):
                return ln

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


# -- chat over TLS ---------------------------------------------------------------


def test_chat_between_tls_text_and_ircs_users(t):
    """A text user over TLS (Python's ssl), one over `openssl s_client`, a
    plain text user and an IRC user over TLS share #lobby: each one's line
    reaches the others, in their protocol's format."""
    srv, _, _, _, _ = tls_server(t, listen=["tls://127.0.0.1:0", "text://127.0.0.1:0", "ircs://127.0.0.1:0"])
    tls_addr = addr_of(srv, "tls")
    bob = t.users(srv, "bob", addr=addr_of(srv, "text"))[0]
    alice = tls_user(t, tls_addr, "alice", [bob])
    carol = ircs_client(t, addr_of(srv, "ircs"))
    carol.register("carol")
    carol.send_line("JOIN #lobby")
    carol.until_cmd("366")
    for p in (alice, bob):
        p.expect("* carol joined #lobby")
    sc = SClient(t, tls_addr, "-quiet")
    sc.wait_for(lambda ln: ln.startswith("* type to talk"))
    m = re.search(r"\b(user\d+)", [ln for ln in sc.all if "welcome to parley" in ln][0])
    for p in (alice, bob):
        p.expect("* %s joined #lobby" % m.group(1))
    carol.expect_cmd("JOIN", "#lobby")

    alice.say("hello from TLS")
    bob.expect("[alice]: hello from TLS")
    carol.expect_cmd("PRIVMSG", "#lobby", "hello from TLS", source="alice")
    sc.wait_for(lambda ln: ln == "[alice]: hello from TLS")
    carol.send_line("PRIVMSG #lobby :hi over ircs")
    for p in (alice, bob):
        p.expect("[carol]: hi over ircs")
    sc.wait_for(lambda ln: ln == "[carol]: hi over ircs")
    sc.say("and s_client too")
    for p in (alice, bob):
        p.expect("[%s]: and s_client too" % m.group(1))
    bob.say("plain bob")
    alice.expect("[bob]: plain bob")
    t.barrier(alice, bob)
    tls = srv.events("tls")
    check(len(tls) == 3 and all(e.get("version") in ("TLSv1.3", "TLSv1.2") for e in tls), "tls events: %s", tls)


def test_certfp_in_whois(t):
    """An IRC user who connects with a client certificate sees its SHA-256
    fingerprint in its own WHOIS (RPL_WHOISCERTFP, 276); one without a
    certificate, and another user asking about it, see no 276."""
    srv, _, _, _, d = tls_server(t, listen=["ircs://127.0.0.1:0"])
    ccert, ckey, cfp = make_cert(d, "client", cn="dave")
    dave = ircs_client(t, srv.addr, client_ctx(ccert, ckey))
    dave.register("dave")
    erin = ircs_client(t, srv.addr)
    erin.register("erin")
    dave.send_line("WHOIS dave")
    lines = dave.until_cmd("318")
    fp = [m for m in lines if m.command == "276"]
    check(len(fp) == 1 and fp[0].params[1] == "dave" and fp[0].params[-1] == "has client certificate fingerprint " + cfp,
          "dave's WHOIS: %s", [m.line for m in lines])
    erin.send_line("WHOIS dave")
    check(not [m for m in erin.until_cmd("318") if m.command == "276"], "erin saw dave's fingerprint")
    erin.send_line("WHOIS erin")
    check(not [m for m in erin.until_cmd("318") if m.command == "276"], "erin has no certificate")
    check(srv.wait_event("tls", certfp=cfp), "no event=tls with certfp")


def test_buffered_input_not_forgotten(t):
    """With a flood budget, the server reads 8 KiB at a time; one TLS record
    of ~12 KiB leaves the rest inside OpenSSL, where epoll cannot see it.
    All 120 lines still arrive, though the sender sends nothing more."""
    srv, _, _, _, _ = tls_server(t, "--flood-burst", "1000", "--flood-rate", "1000", "--flood-bytes", "0",
                                 listen=["tls://127.0.0.1:0", "text://127.0.0.1:0"])
    bob = t.users(srv, "bob", addr=addr_of(srv, "text"))[0]
    alice = tls_user(t, addr_of(srv, "tls"), "alice", [bob])
    body = "".join("line %03d %s\n" % (i, "x" * 90) for i in range(120))
    alice.send(body)  # one SSL_write: one record
    for i in range(120):
        bob.expect("[alice]: line %03d %s" % (i, "x" * 90))


def test_bulk_output_arrives_whole(t):
    """Output leaves a TLS connection one record per loop round; a reader
    owed 1.2 MB gets all of it, in order."""
    srv, _, _, _, _ = tls_server(t, "--sendq-max", "4000000", listen=["tls://127.0.0.1:0", "text://127.0.0.1:0"])
    bob = t.users(srv, "bob", addr=addr_of(srv, "text"))[0]
    alice = tls_user(t, addr_of(srv, "tls"), "alice", [bob])
    chunk = "y" * 3000
    for i in range(400):
        bob.say("%03d %s" % (i, chunk))
    for i in range(400):
        alice.expect("[bob]: %03d %s" % (i, chunk), timeout=10)
    t.barrier(bob, alice)


# -- hostile and old clients ---------------------------------------------------------


def test_tls10_and_tls11_refused(t):
    """Clients offering only TLS 1.0 or 1.1 (openssl s_client, Python) are
    refused with a protocol_version alert and never reach the chat; TLS 1.2
    and 1.3 get in."""
    srv, _, _, _, _ = tls_server(t)
    for flag in ("-tls1", "-tls1_1"):
        p = subprocess.run(
            ["openssl", "s_client", flag, "-cipher", "DEFAULT@SECLEVEL=0", "-connect", "%s:%d" % srv.addr[1:]],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=t.bound(10),
        )
        out = (p.stdout + p.stderr).decode("utf-8", "replace")
        check("alert protocol version" in out and "welcome to parley" not in out, "s_client %s: %s", flag, out[-600:])
    for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        ctx = client_ctx(min_version=version, max_version=version)
        ctx.set_ciphers("DEFAULT@SECLEVEL=0")
        c = t.client(srv)
        try:
            wrap(c, ctx)
            raise AssertionError("%s handshake succeeded" % version)
        except ssl.SSLError as e:
            check("VERSION" in str(e).upper(), "%s refused how? %s", version, e)
    srv.wait_log(r"event=disconnect .*reason=handshake", count=4)
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        c = wrap(t.client(srv), client_ctx(min_version=version, max_version=version))
        c.welcome()
        check(c.sock.version() == version.name.replace("_", ".").replace("TLSv1.", "TLSv1."), "got %s", c.sock.version())
    check(not srv.events("tls", version="TLSv1") and not srv.events("tls", version="TLSv1.1"), "old version accepted")


def test_server_picks_aes128_gcm(t):
    """The server chooses the cipher: a client listing AES-256-GCM first
    (OpenSSL's default order, TLS 1.3 and 1.2) gets AES-128-GCM, cheaper
    and as strong as the key exchange; one listing ChaCha20 first (a
    client without AES instructions) gets ChaCha20."""
    srv, _, _, _, _ = tls_server(t)
    ctx = client_ctx(max_version=ssl.TLSVersion.TLSv1_2)
    ctx.set_ciphers("ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256")
    got = {}
    for name, args in (
        ("tls13", ["-ciphersuites", "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256"]),
        ("chacha", ["-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"]),
    ):
        p = subprocess.run(
            ["openssl", "s_client", "-connect", "%s:%d" % srv.addr[1:]] + args,
            stdin=subprocess.DEVNULL, capture_output=True, timeout=t.bound(10),
        )
        m = re.search(r"Cipher is (\S+)", p.stdout.decode("utf-8", "replace"))
        got[name] = m and m.group(1)
    c = wrap(t.client(srv), ctx)
    c.welcome()
    got["tls12"] = c.sock.cipher()[0]
    want = {"tls13": "TLS_AES_128_GCM_SHA256", "chacha": "TLS_CHACHA20_POLY1305_SHA256",
            "tls12": "ECDHE-ECDSA-AES128-GCM-SHA256"}
    check(got == want, "ciphers chosen: %s, wanted %s", got, want)


def test_renegotiation_refused(t):
    """A TLS 1.2 client asking to renegotiate (s_client's R) is answered
    no_renegotiation; no second handshake runs, and the others chat on."""
    srv, _, _, _, _ = tls_server(t, listen=["tls://127.0.0.1:0", "text://127.0.0.1:0"])
    bob = t.users(srv, "bob", addr=addr_of(srv, "text"))[0]
    sc = SClient(t, addr_of(srv, "tls"), "-tls1_2")
    sc.wait_for(lambda ln: ln.startswith("* type to talk"))
    bob.read_until(lambda ln: ln.endswith("joined #lobby"))
    sc.say("R")
    sc.wait_for(lambda ln: "RENEGOTIATING" in ln)
    got = sc.wait_for(lambda ln: "no renegotiation" in ln, timeout=10)
    check(got is not None, "s_client did not report the refusal: %s", sc.all[-10:])
    check(len(srv.events("tls")) == 1, "a second handshake: %s", srv.events("tls"))
    alice = tls_user(t, addr_of(srv, "tls"), "alice")
    alice.say("still fine")
    bob.read_until(lambda ln: ln == "[alice]: still fine")


def test_stalled_handshake_dropped_at_deadline(t):
    """A client that sends half a ClientHello and stalls is dropped at
    --tls-handshake-timeout (reason=timeout); a real client meanwhile gets
    in at once."""
    srv, _, _, _, _ = tls_server(t, "--tls-handshake-timeout", "2")
    hello = _client_hello()
    slow = t.client(srv)
    t0 = time.monotonic()
    slow.send(hello[:40])
    good = wrap(t.client(srv))
    good.welcome()
    check(time.monotonic() - t0 < 1.5, "the good client waited behind the stalled one")
    slow.expect_end(timeout=8, allow_reset=True)
    took = time.monotonic() - t0
    check(1.8 <= took <= 8, "stalled handshake dropped after %.1fs", took)
    srv.wait_event("disconnect", id=1, reason="timeout")
    check(srv.wait_event("tls-fail", id=1, error="timeout"), "no tls-fail")


def test_garbage_instead_of_client_hello(t):
    """Bytes that are not a ClientHello (a plain chat line, an HTTP request,
    random bytes) end the connection at once with reason=handshake; the
    server serves the next client."""
    srv, _, _, _, _ = tls_server(t, "--tls-handshake-timeout", "20")
    for junk in (b"/nick alice\n", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", bytes(range(256)) * 4,
                 b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00"):
        c = t.client(srv)
        t0 = time.monotonic()
        c.send(junk)
        try:
            data = c.sock.recv(4096)
            while data:
                check(b"welcome" not in data, "garbage got a welcome")
                data = c.sock.recv(4096)
        except ConnectionResetError:
            pass
        check(time.monotonic() - t0 < 5, "garbage %r held for %.1fs", junk[:20], time.monotonic() - t0)
    srv.wait_log(r"event=disconnect .*reason=handshake", count=4)
    wrap(t.client(srv)).welcome()


def test_handshake_flood_capped(t):
    """With --tls-handshakes 4, five stalled handshakes leave the fifth and
    a real client waiting, unread, for a slot: the real client gets in only
    once the first stalled ones are dropped at the deadline, then at once;
    a user already in chats on throughout."""
    srv, _, _, _, _ = tls_server(t, "--tls-handshakes", "4", "--tls-handshake-timeout", "3",
                                 listen=["tls://127.0.0.1:0", "text://127.0.0.1:0"])
    bob = t.users(srv, "bob", addr=addr_of(srv, "text"))[0]
    alice = tls_user(t, addr_of(srv, "tls"), "alice", [bob])
    hello = _client_hello()
    flood = []
    t0 = time.monotonic()
    for _ in range(5):
        c = t.client(addr_of(srv, "tls"))
        c.send(hello[:40])
        flood.append(c)
    srv.wait_log(r"event=connect id=7 ")
    time.sleep(0.5)  # the flood is in place: the next connect is queued
    alice.say("during the flood")
    bob.expect("[alice]: during the flood")
    t1 = time.monotonic()
    good = t.client(addr_of(srv, "tls"))
    good.sock.settimeout(t.bound(10))
    good.sock = client_ctx().wrap_socket(good.sock)
    waited = time.monotonic() - t1
    good.welcome()
    for p in (bob, alice):
        p.expect("* %s joined #lobby" % good.nick)
    check(time.monotonic() - t0 >= 2.5, "the real client got a slot before the deadline freed one")
    check(waited < 5, "the real client waited %.1fs", waited)
    for c in flood:
        c.expect_end(timeout=8, allow_reset=True)
    check(len(srv.events("disconnect", reason="timeout")) == 5, "flood not dropped: %s", srv.log_text(tail=12))
    t.barrier(bob, alice)


def test_teardown_without_close_notify(t):
    """A TLS user whose connection ends without close_notify (the TCP
    stream just stops) leaves as after a reset: its unfinished line is
    not taken as sent, and the others see it quit. One that closes
    properly gets its last line (without a newline) through, as over TCP."""
    srv, _, _, _, _ = tls_server(t, listen=["tls://127.0.0.1:0", "text://127.0.0.1:0"])
    bob = t.users(srv, "bob", addr=addr_of(srv, "text"))[0]
    alice = tls_user(t, addr_of(srv, "tls"), "alice", [bob])
    alice.send("half a li")
    raw = socket.socket(fileno=alice.sock.detach())  # no close_notify
    raw.close()
    alice.closed = True
    bob.expect("* alice quit (connection closed)")
    srv.wait_event("disconnect", nick="alice", reason="eof")
    check(srv.events("tls-fail", error="eof without close_notify") or "eof without close_notify" in srv.log_text(),
          "no tls-fail line")
    carol = tls_user(t, addr_of(srv, "tls"), "carol", [bob])
    carol.send("whole last line")
    carol.sock = carol.sock.unwrap()  # close_notify, then FIN
    carol.sock.close()
    carol.closed = True
    bob.expect("[carol]: whole last line")
    bob.expect("* carol quit (connection closed)")
    t.barrier(bob)


def test_plain_text_port_refuses_client_hello(t):
    """A TLS client on the plain text port is closed unseen (reason=tls)
    while the TLS port next to it serves it."""
    srv, _, _, _, _ = tls_server(t, listen=["text://127.0.0.1:0", "tls://127.0.0.1:0"])
    c = t.client(addr_of(srv, "text"))
    try:
        wrap(c)
        raise AssertionError("handshake on the plain port succeeded")
    except (ssl.SSLError, ConnectionResetError, OSError):
        pass
    srv.wait_event("disconnect", reason="tls")
    wrap(t.client(addr_of(srv, "tls"))).welcome()


def test_refused_at_accept_gets_no_plain_line(t):
    """Over --max-clients, a TLS client is closed at accept without the
    plain `! server full` line a text client gets (it would read as a
    broken handshake); the refusal is logged."""
    srv, _, _, _, _ = tls_server(t, "--max-clients", "1")
    alice = tls_user(t, srv.addr, "alice")
    c = t.client(srv)
    data = b""
    try:
        c.sock.settimeout(t.bound(5))
        while True:
            got = c.sock.recv(4096)
            if not got:
                break
            data += got
    except ConnectionResetError:
        pass
    check(data == b"", "a refused TLS client got %r", data)
    srv.wait_refusals("max-clients", 1)
    alice.say("/topic")
    alice.read_until(lambda ln: "topic" in ln)


def test_handshakes_counted_in_metrics(t):
    """/metrics counts TLS handshakes: two through, one of garbage and one
    past the deadline failed."""
    from test_metrics import wait_metric

    srv, _, _, _, _ = tls_server(t, "--tls-handshake-timeout", "1",
                                 listen=["tls://127.0.0.1:0", "metrics://127.0.0.1:0"])
    for _ in range(2):
        wrap(t.client(srv)).welcome()
    junk = t.client(srv)
    junk.send(b"GET / HTTP/1.0\r\n\r\n")
    junk.expect_end(allow_reset=True)
    t.client(srv)  # says nothing: dropped at the deadline
    srv.wait_event("disconnect", reason="timeout")
    values = wait_metric(t, srv, "parley_tls_handshake_failures_total", lambda v: v == 2)
    check(values.get("parley_tls_handshakes_total") == 2, "handshakes: %s", values.get("parley_tls_handshakes_total"))


# -- certificates on SIGHUP --------------------------------------------------------


def _replace(src, dst):
    tmp = dst + ".new"
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def test_sighup_reloads_certificate(t):
    """SIGHUP after the certificate files were renewed: a new client gets the
    new certificate, the one connected before keeps chatting."""
    d = make_dir()
    cert, key, fp_old = make_cert(d, "live")
    srv, _, _, _, _ = tls_server(t, listen=["tls://127.0.0.1:0", "text://127.0.0.1:0"], cert=(cert, key, fp_old), d=d)
    bob = t.users(srv, "bob", addr=addr_of(srv, "text"))[0]
    alice = tls_user(t, addr_of(srv, "tls"), "alice", [bob])
    check(served_fp(alice) == fp_old, "served %s, expected %s", served_fp(alice), fp_old)
    ncert, nkey, fp_new = make_cert(d, "renewed")
    _replace(ncert, cert)
    _replace(nkey, key)
    srv.send_signal(__import__("signal").SIGHUP)
    srv.wait_log(r"event=tls-reload result=ok .*sha256=" + fp_new)
    carol = tls_user(t, addr_of(srv, "tls"), "carol", [bob, alice])
    check(served_fp(carol) == fp_new, "after reload served %s, expected %s", served_fp(carol), fp_new)
    alice.say("still here")
    bob.expect("[alice]: still here")
    carol.expect("[alice]: still here")
    check(not srv.events("disconnect"), "someone was dropped: %s", srv.events("disconnect"))


def test_sighup_bad_certificate_keeps_old(t):
    """SIGHUP with a broken certificate file, then with a key that does not
    match: each is logged with why, the old certificate stays in use."""
    import signal

    d = make_dir()
    cert, key, fp_old = make_cert(d, "live")
    srv, _, _, _, _ = tls_server(t, cert=(cert, key, fp_old), d=d)
    alice = tls_user(t, srv.addr, "alice")
    with open(cert) as f:
        good = f.read()
    with open(cert, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    srv.send_signal(signal.SIGHUP)
    srv.wait_log(r"level=error event=tls-reload result=failed kept=old error=.*live\.crt")
    c2 = wrap(t.client(srv))
    c2.welcome()
    check(served_fp(c2) == fp_old, "bad file: served %s", served_fp(c2))
    with open(cert, "w") as f:
        f.write(good)
    other, _, _ = make_cert(d, "other")
    _replace(other, cert)  # a new certificate, the old key
    srv.send_signal(signal.SIGHUP)
    srv.wait_log(r"event=tls-reload result=failed kept=old error=.*mismatch", count=1)
    c3 = wrap(t.client(srv))
    c3.welcome()
    check(served_fp(c3) == fp_old, "mismatched key: served %s", served_fp(c3))
    alice.say("/topic")
    alice.read_until(lambda ln: "topic" in ln)


# -- helpers ---------------------------------------------------------------------------


def _client_hello():
    """Returns the first flight of a real TLS client (its ClientHello)."""
    a, b = socket.socketpair()
    try:
        ctx = client_ctx()
        s = ctx.wrap_socket(a, do_handshake_on_connect=False)
        s.setblocking(False)
        try:
            s.do_handshake()
        except ssl.SSLWantReadError:
            pass
        b.settimeout(2)
        return b.recv(65536)
    finally:
        a.close()
        b.close()


_ = (Client, Ended)
