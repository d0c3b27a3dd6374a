"""The web side: http:// and https:// serve the web client's files
(--web-root) and IRC over WebSocket at /irc (docs/web.md); metrics:// keeps
/metrics and /healthz. The files are made per test in a temporary folder;
WebSocket clients are wsclient.WsIrcClient (frames built here, by hand).
"""
import atexit
import os
import re
import shutil
import socket
import tempfile
import time

from harness import Ended, check
from irc import SERVER_NAME, IrcMsg, irc_user
from test_hostile import rss_kib
from test_tls import make_cert, make_dir
from wsclient import (
    OP_BINARY,
    OP_CONT,
    OP_PING,
    OP_TEXT,
    Http,
    WsIrcClient,
    client_tls,
    read_http_head,
    upgrade_request,
    url_addr,
    ws_client,
    ws_user,
)

INDEX = b"<!doctype html><title>parley</title><script type=module src=app.js></script>\n"
APP_JS = b"export const x = 1;\n"


def web_root():
    """A temporary web root with a few files; removed at exit."""
    d = tempfile.mkdtemp(prefix="parley-web-")
    atexit.register(shutil.rmtree, d, True)
    files = {
        "index.html": INDEX,
        "app.js": APP_JS,
        "style.css": b"body { color: black }\n",
        "icon.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>\n",
        "manifest.webmanifest": b"{}\n",
        "sub/x.json": b"[1]\n",
        ".hidden": b"secret\n",
    }
    for name, data in files.items():
        p = os.path.join(d, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    return d


def join_all(chan, *users):
    """Each user joins chan, in turn, and reads through its NAMES."""
    for u in users:
        u.send_line("JOIN " + chan)
        u.until_cmd("366")


def web_server(t, *flags, listen=None, root=None):
    """parleyd with an http:// and an irc:// and a text:// listener."""
    root = root or web_root()
    listen = listen or ["http://127.0.0.1:0", "irc://127.0.0.1:0", "text://127.0.0.1:0"]
    return t.server("--web-root", root, "--server-name", SERVER_NAME, *flags, listen=listen)


# -- files -----------------------------------------------------------------------


def test_files_served_with_headers(t):
    srv = web_server(t)
    h = Http(t, url_addr(srv, "http"))
    st, hd, body = h.request("GET", "/")
    check(st == 200 and body == INDEX, "GET / is index.html: %s %r" % (st, body[:80]))
    check(hd["content-type"] == "text/html; charset=utf-8", hd)
    check(hd["cache-control"] == "no-cache", hd)
    check(hd["x-content-type-options"] == "nosniff", hd)
    check(hd["referrer-policy"] == "no-referrer", hd)
    csp = hd["content-security-policy"]
    for part in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
                 "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'",
                 "connect-src 'self' ws://%s wss://%s" % (h.host, h.host)):
        check(part in csp, "CSP has %r: %s" % (part, csp))
    check("unsafe-inline" not in csp, csp)
    check(re.fullmatch(r'"[0-9a-f]{16}"', hd["etag"]), hd)
    # Keep-alive: more requests on the same connection, each type right.
    for path, typ in (("/app.js", "text/javascript; charset=utf-8"), ("/style.css", "text/css; charset=utf-8"),
                      ("/icon.svg", "image/svg+xml"), ("/manifest.webmanifest", "application/manifest+json"),
                      ("/sub/x.json", "application/json")):
        st, hd2, _ = h.request("GET", path)
        check(st == 200 and hd2["content-type"] == typ, "%s: %s %s" % (path, st, hd2))
        check(hd2["connection"] == "keep-alive", hd2)


def test_a_request_counts_as_one_line_of_the_flood_budget(t):
    """A browser sends a dozen header lines with each request: the flood
    budget (defaults: 20 lines at once, then 10 a second) counts a request
    as one line, so loading a page's files is not paced; counted line by
    line, these 12 requests of 16 lines would take about 17 s."""
    srv = web_server(t, "--flood-rate", "10", "--flood-burst", "20", "--flood-bytes", "1048576")
    h = Http(t, url_addr(srv, "http"))
    headers = {"X-Header-%d" % i: "v" for i in range(14)}
    start = time.monotonic()
    for _ in range(12):
        st, _, body = h.request("GET", "/app.js", headers)
        check(st == 200 and body == APP_JS, st)
    took = time.monotonic() - start
    check(took < t.bound(5.0), "12 requests took %.1f s: paced line by line" % took)


def test_etag_gives_304(t):
    srv = web_server(t)
    h = Http(t, url_addr(srv, "http"))
    st, hd, body = h.request("GET", "/app.js")
    check(st == 200 and body == APP_JS, st)
    st, hd2, body = h.request("GET", "/app.js", {"If-None-Match": hd["etag"]})
    check(st == 304 and body == b"" and hd2["etag"] == hd["etag"], "%s %s" % (st, hd2))
    st, _, body = h.request("GET", "/app.js", {"If-None-Match": '"0000000000000000"'})
    check(st == 200 and body == APP_JS, st)
    st, hd3, body = h.request("HEAD", "/app.js")
    check(st == 200 and body == b"" and hd3["content-length"] == str(len(APP_JS)), hd3)


def test_not_found_and_methods(t):
    srv = web_server(t)
    h = Http(t, url_addr(srv, "http"))
    for path in ("/nope", "/.hidden", "/../etc/passwd", "/metrics", "/sub"):
        st, hd, _ = h.request("GET", path)
        check(st == 404, "%s: %s" % (path, st))
        h = Http(t, url_addr(srv, "http"))  # a refusal closes
    st, hd, _ = h.request("POST", "/", {"Content-Length": "0"})
    check(st == 405 and hd.get("allow") == "GET, HEAD", "%s %s" % (st, hd))
    # /irc without an upgrade is just a path that does not exist.
    h = Http(t, url_addr(srv, "http"))
    st, _, _ = h.request("GET", "/irc")
    check(st == 404, st)


def test_missing_web_root_still_serves_websocket(t):
    srv = web_server(t, root="/nonexistent/parley-web")
    srv.wait_log(r"event=web-root-missing")
    h = Http(t, url_addr(srv, "http"))
    st, _, _ = h.request("GET", "/")
    check(st == 404, st)
    a = ws_user(t, srv, "alice")
    a.barrier()


# -- WebSocket users -------------------------------------------------------------


def test_ws_irc_and_text_users_share_a_room(t):
    srv = web_server(t)
    a = ws_user(t, srv, "alice")  # text.ircv3.net
    b = ws_user(t, srv, "bob", protocols=("binary.ircv3.net",))
    check(b.headers["sec-websocket-protocol"] == "binary.ircv3.net", b.headers)
    check(a.headers["sec-websocket-protocol"] == "text.ircv3.net", a.headers)
    c = irc_user(t, srv, "carol")
    (d,) = t.users(srv, "dave", addr=url_addr(srv, "text"))
    join_all("#lobby", a, b, c)
    d.read_until("* carol joined #lobby")  # text users start in #lobby
    a.send_line("PRIVMSG #lobby :hello from the browser")
    m = b.until_cmd("PRIVMSG")[-1]
    check(m.params == ["#lobby", "hello from the browser"] and m.nick == "alice", m.line)
    m = c.until_cmd("PRIVMSG")[-1]
    check(m.params == ["#lobby", "hello from the browser"], m.line)
    d.read_until(re.compile(r".*alice.*hello from the browser.*"))
    c.send_line("PRIVMSG #lobby :hi from irssi")
    for u in (a, b):
        m = u.until_cmd("PRIVMSG")[-1]
        check(m.params[-1] == "hi from irssi", m.line)
    d.say("hi from telnet")
    for u in (a, b):
        m = u.until_cmd("PRIVMSG")[-1]
        check(m.params[-1] == "hi from telnet" and m.nick == "dave", m.line)
    check(a.opcodes == {OP_TEXT}, "text subprotocol: text frames, got %s" % a.opcodes)
    check(b.opcodes == {OP_BINARY}, "binary subprotocol: binary frames, got %s" % b.opcodes)


def test_ws_no_subprotocol_is_text(t):
    srv = web_server(t)
    a = ws_client(t, srv, protocols=())
    check("sec-websocket-protocol" not in a.headers, a.headers)
    a.register("alice")
    check(a.opcodes == {OP_TEXT}, a.opcodes)


def test_ws_quit_closes_with_1000(t):
    srv = web_server(t)
    a = ws_user(t, srv, "alice")
    a.send_line("QUIT :bye")
    a.expect_close(1000)
    srv.wait_event("disconnect", reason="quit")


def test_ws_fragments_and_ping(t):
    srv = web_server(t)
    a = ws_user(t, srv, "alice")
    a.send_frame(OP_PING, b"are you there")
    a.send_frame(OP_TEXT, b"PRIVMSG alice :one ", fin=False)
    a.send_frame(OP_PING, b"in between")  # control frames may interleave
    a.send_frame(OP_CONT, b"two ", fin=False)
    a.send_frame(OP_CONT, "thr\u00e9e".encode()[:4], fin=False)  # a character cut in two
    a.send_frame(OP_CONT, "thr\u00e9e".encode()[4:], fin=True)
    m = a.expect_cmd("PRIVMSG")
    check(m.params == ["alice", "one two thr\u00e9e"], m.line)


def test_metrics_scheme_serves_metrics(t):
    srv = t.server(listen=["text://127.0.0.1:0", "metrics://127.0.0.1:0", "http://127.0.0.1:0"])
    h = Http(t, url_addr(srv, "metrics"))
    st, hd, body = h.request("GET", "/metrics")
    check(st == 200 and b"parley_" in body, st)
    st, _, body = h.request("GET", "/healthz")
    check(st == 200 and body == b"ok\n", st)
    st, _, _ = h.request("GET", "/")
    check(st == 404, st)
    # The web port does not serve metrics.
    h = Http(t, url_addr(srv, "http"))
    st, _, _ = h.request("GET", "/metrics")
    check(st == 404, st)


def test_ws_frames_after_the_upgrade_in_one_packet(t):
    """A client that sends its first frames with the upgrade request (not
    waiting for the 101) is served all the same."""
    srv = web_server(t)
    a = ws_client(t, srv, handshake=False)
    from wsclient import accept_of, frame
    req, key = upgrade_request(a.host)
    a.sock.sendall(req + frame(OP_TEXT, b"NICK alice") + frame(OP_TEXT, b"USER alice 0 * :A"))
    st, hd, a.raw = read_http_head(a.sock, b"", time.monotonic() + 5)
    check(st == 101 and hd["sec-websocket-accept"] == accept_of(key), "%s %s" % (st, hd))
    a.nick = "alice"
    a.until_cmd("422")  # the end of the welcome (no MOTD)
    a.barrier()


# -- limits and hostile clients ---------------------------------------------------


def test_ws_unmasked_frame_closes_1002(t):
    srv = web_server(t)
    a = ws_user(t, srv, "alice")
    a.send_frame(OP_TEXT, b"PRIVMSG alice :x", mask=False)
    a.expect_close(1002)
    srv.wait_event("ws-fail", code="1002")


def test_ws_invalid_utf8_closes_1007(t):
    srv = web_server(t)
    for bad in (b"PRIVMSG #x :\xff", b"PRIVMSG #x :\xed\xa0\x80", b"PRIVMSG #x :\xc3"):
        a = ws_user(t, srv, "alice")
        a.send_frame(OP_TEXT, bad)
        a.expect_close(1007)
    srv.wait_event("ws-fail", code="1007")


def test_ws_huge_frame_closes_1009(t):
    srv = web_server(t)
    a = ws_user(t, srv, "alice")
    a.send_frame(OP_TEXT, b"PRIVMSG alice :" + b"x" * 20000)
    a.expect_close(1009)
    # A frame header that claims 2**62 bytes is refused at its first byte.
    b = ws_user(t, srv, "bob")
    import struct
    b.sock.sendall(struct.pack("!BBQ", 0x81, 0xFF, 1 << 62) + b"\0\0\0\0" + b"x" * 100)
    b.expect_close(1009)


def test_ws_endless_fragments_cut_at_the_message_cap(t):
    """Fragments are joined only up to the message cap (8959 bytes): the
    client that goes on gets 1009; nothing of its message arrives."""
    srv = web_server(t)
    a = ws_user(t, srv, "alice")
    o = irc_user(t, srv, "other")
    a.send_frame(OP_TEXT, b"PRIVMSG other :", fin=False)
    sent = 0
    try:
        for _ in range(200):  # 200 KB if nothing stopped it
            a.send_frame(OP_CONT, b"y" * 1000, fin=False)
            sent += 1000
    except (BrokenPipeError, ConnectionResetError):
        pass
    a.expect_close(1009)
    o.barrier()  # nothing came for other
    check(sent >= 8000, "cut after %d bytes" % sent)


def test_ws_control_frame_rules(t):
    """A fragmented ping, a continuation with nothing to continue and a
    reserved bit are protocol errors (1002)."""
    srv = web_server(t)
    for kw in ({"op": OP_PING, "payload": b"x", "fin": False}, {"op": OP_CONT, "payload": b"x"},
               {"op": OP_TEXT, "payload": b"PING x", "rsv": 4}, {"op": 3, "payload": b"x"}):
        a = ws_user(t, srv, "alice")
        a.send_frame(kw.pop("op"), kw.pop("payload"), **kw)
        a.expect_close(1002)


def test_ws_long_line_is_417_like_irc(t):
    """A message under the WebSocket cap but over IRC's line limit is
    IRC's business: 417, and the connection stays."""
    srv = web_server(t)
    a = ws_user(t, srv, "alice")
    a.send_line("PRIVMSG alice :" + "z" * 1000)
    a.expect_num("417")
    a.barrier()


def test_ws_slow_handshake_dropped_at_the_deadline(t):
    """An upgrade request that never ends is dropped at the request
    deadline (10 s) with 408, like a stalled TLS handshake."""
    srv = web_server(t)
    h = Http(t, url_addr(srv, "http"))
    t0 = time.monotonic()
    h.sock.sendall(b"GET /irc HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
    status, _, _ = read_http_head(h.sock, b"", time.monotonic() + t.bound(20))
    took = time.monotonic() - t0
    check(status == 408 and 8 < took < 16, "408 after %.1fs: %s" % (took, status))
    check(h.at_eof(), "still open after the 408")


def test_origin_refused_and_allowed(t):
    srv = web_server(t)
    addr = url_addr(srv, "http")
    own = "http://127.0.0.1:%d" % addr[2]
    a = ws_client(t, srv, origin=own)  # the server's own origin
    a.register("alice")
    for bad in ("http://evil.example", "https://127.0.0.1:%d" % addr[2], "null"):
        h = Http(t, addr)
        req, _ = upgrade_request(h.host, origin=bad)
        st, _, _ = h.request("GET", "/irc", raw=req)
        check(st == 403, "origin %s: %s" % (bad, st))
        check(h.at_eof(), "a refused upgrade closes")
    srv.wait_event("ws-refused", status="403")
    # An explicit list replaces the default.
    other = web_server(t, "--web-origin", "https://chat.example", "--web-origin", "http://localhost:1")
    b = ws_client(t, other, origin="https://chat.example")
    b.register("bob")
    h = Http(t, url_addr(other, "http"))
    req, _ = upgrade_request(h.host, origin="http://127.0.0.1:%d" % url_addr(other, "http")[2])
    st, _, _ = h.request("GET", "/irc", raw=req)
    check(st == 403, "own origin with an explicit list: %s" % st)


def test_bad_upgrades_refused(t):
    srv = web_server(t)
    addr = url_addr(srv, "http")
    for extra, want in (("", None), ("bad key", 400), ("version 8", 426)):
        h = Http(t, addr)
        if extra == "bad key":
            req, _ = upgrade_request(h.host, key="c2hvcnQ=")
        elif extra == "version 8":
            req, _ = upgrade_request(h.host)
            req = req.replace(b"Version: 13", b"Version: 8")
        else:
            continue
        st, hd, _ = h.request("GET", "/irc", raw=req)
        check(st == want, "%s: %s" % (extra, st))
        if want == 426:
            check(hd.get("sec-websocket-version") == "13", hd)


def test_ws_excess_flood_closes_1008(t):
    """A WebSocket client paced like any other: far past --recvq-max ahead
    of its budget, it gets IRC's Excess Flood error, then close 1008."""
    srv = web_server(t, "--flood-burst", "5", "--flood-rate", "10")
    s = ws_user(t, srv, "spammer")
    w = irc_user(t, srv, "watcher")
    join_all("#spam", s, w)
    s.until_cmd("JOIN")
    try:
        s.send(b"".join(b"PRIVMSG #spam :spam %05d\r\n" % k for k in range(5000)))
    except (BrokenPipeError, ConnectionResetError):
        pass
    s.expect_close(1008)
    check("ERROR :Closing Link: spammer[127.0.0.1] (Excess Flood)" in s.received, s.received[-3:])
    msgs = w.until_cmd("QUIT")
    check(len(msgs) <= 25, "watcher got %d lines" % len(msgs))
    srv.wait_event("disconnect", reason="flood", nick="spammer")


def test_ws_flood_paced(t):
    """30 messages in one packet from a WebSocket client with burst 10 at
    20 lines/s: all arrive, in order, paced."""
    srv = web_server(t, "--flood-burst", "10", "--flood-rate", "20")
    f = ws_user(t, srv, "flooder")
    o = irc_user(t, srv, "other")
    join_all("#f", f, o)
    f.until_cmd("JOIN")
    t0 = time.monotonic()
    f.send("".join("PRIVMSG #f :n%02d\r\n" % i for i in range(30)))
    for i in range(30):
        m = o.expect_cmd("PRIVMSG", "#f", timeout=10)
        check(m.params[-1] == "n%02d" % i, m.line)
    took = time.monotonic() - t0
    check(took >= 20 / 20.0 - 0.3, "30 lines, burst 10 at 20/s, arrived in %.2fs: not paced" % took)


def test_ws_slow_reader_cut_at_sendq(t):
    srv = web_server(t, "--sendq-max", "65536")
    slow = ws_client(t, srv, rcvbuf=4096)
    slow.register("slow")
    slow.send_line("JOIN #busy")
    slow.until_cmd("366")
    f = irc_user(t, srv, "fast")
    f.send_line("JOIN #busy")
    f.until_cmd("366")
    pad = "p" * 400
    for i in range(400):
        f.send("".join("PRIVMSG #busy :%06d %s\r\n" % (i * 30 + k, pad) for k in range(30)))
        if srv.events("disconnect", reason="sendq"):
            break
    ev = srv.wait_event("disconnect", reason="sendq")
    check(ev.get("nick") == "slow", ev)
    m = f.until_cmd("QUIT")
    check(m[-1].line.endswith("QUIT :SendQ exceeded"), m[-1].line)


def test_ws_max_per_ip_counts_websockets(t):
    srv = web_server(t, "--max-per-ip", "2", "--limit-loopback")
    ws_user(t, srv, "alice")
    ws_user(t, srv, "bob")
    h = Http(t, url_addr(srv, "http"))
    st, _, body = h.request("GET", "/")
    check(st == 503 and b"server full" in body, "%s %r" % (st, body))


def test_ws_server_shutdown_closes_1001(t):
    srv = web_server(t)
    a = ws_user(t, srv, "alice")
    a.barrier()
    srv.send_signal(__import__("signal").SIGTERM)
    a.expect_close(1001)
    srv.expect_exit()


def test_https_and_wss(t):
    d = make_dir()
    cert, key, _ = make_cert(d, "server")
    root = web_root()
    srv = t.server("--tls-cert", cert, "--tls-key", key, "--web-root", root, "--server-name", SERVER_NAME,
                   listen=["https://127.0.0.1:0", "irc://127.0.0.1:0"])
    h = Http(t, url_addr(srv, "https"), tls=True)
    st, hd, body = h.request("GET", "/")
    check(st == 200 and body == INDEX, st)
    st, _, body = h.request("GET", "/app.js")
    check(st == 200 and body == APP_JS, "keep-alive over TLS: %s" % st)
    own = "https://127.0.0.1:%d" % url_addr(srv, "https")[2]
    a = ws_client(t, srv, scheme="https", origin=own)
    a.register("alice")
    b = ws_client(t, srv, scheme="https", protocols=("binary.ircv3.net",))
    b.register("bob")
    c = irc_user(t, srv, "carol")
    join_all("#tls", a, b, c)
    # 60 lines of 400 bytes: more than one TLS record each way.
    a.send("".join("PRIVMSG #tls :%02d %s\r\n" % (i, "l" * 400) for i in range(60)))
    b.until_cmd("JOIN")  # carol's
    for u in (b, c):
        for i in range(60):
            m = u.expect_cmd("PRIVMSG", "#tls")
            check(m.params[-1] == "%02d %s" % (i, "l" * 400), m.line[:80])
    a.send_line("QUIT :bye")
    a.expect_close(1000)


def test_ten_thousand_idle_websockets(t):
    """10,000 WebSocket clients upgrade and sit idle (each side holds
    10,000 descriptors, within the 20,000 the harness allows): the server's
    memory grows by a few KiB each at most (under 2 KiB in the normal
    build; docs/web.md), and it still serves a new user and an old one."""
    n = 10000
    srv = web_server(t)
    addr = url_addr(srv, "http")
    before = rss_kib(srv.pid)
    socks = []
    try:
        req, _ = upgrade_request("127.0.0.1:%d" % addr[2])
        for _ in range(n):
            s = socket.create_connection(addr[1:], timeout=t.bound(10))
            s.sendall(req)  # the same key for all: the server does not care
            socks.append(s)
        for s in socks:
            st, _, rest = read_http_head(s, b"", time.monotonic() + t.bound(20))
            check(st == 101 and rest == b"", "upgrade: %s %r" % (st, rest))
        srv.wait_log(r"event=ws-open id=%d\b" % n, timeout=t.bound(10))
        grown = rss_kib(srv.pid) - before
        per = grown * 1024 / n
        limit = 16384 if "asan" in t.parleyd else 4096
        check(per < limit, "%.0f bytes of RSS per idle WebSocket client (limit %d)" % (per, limit))
        a = ws_user(t, srv, "alice")
        o = irc_user(t, srv, "other")
        a.send_line("PRIVMSG other :still here")
        m = o.expect_cmd("PRIVMSG")
        check(m.params == ["other", "still here"], m.line)
        from wsclient import frame
        old = socks[n // 2]
        old.sendall(frame(OP_TEXT, b"NICK veteran") + frame(OP_TEXT, b"USER v 0 * :V"))
        old.settimeout(t.bound(10))
        check(b"veteran" in old.recv(4096), "an idle client could not register")
    finally:
        for s in socks:
            s.close()


test_ten_thousand_idle_websockets.alone = True
