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
    for u in (a, b, c):
        u.send_line("JOIN #lobby")
        u.until_cmd("366")
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
