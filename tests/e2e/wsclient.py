"""A WebSocket IRC client and a small HTTP client for the end-to-end tests,
with the standard library only (socket, ssl, base64, hashlib, os.urandom).

    c = ws_user(t, srv, "alice")              # registered over ws:// /irc
    c.send_line("JOIN #dev")                  # one masked text frame
    c.expect_cmd("JOIN")                      # IrcClient's helpers work
    c.send_frame(OP_TEXT, b"x", mask=False)   # hostile frames too
    c.expect_close(1002)

WsIrcClient is an IrcClient whose bytes travel in WebSocket frames: each
message the server sends must be one IRC line without CR or LF, in the
frame type of the chosen subprotocol, never masked; it is handed on with
CRLF added, so the line checks of harness.Client apply unchanged.
"""
import base64
import hashlib
import os
import socket
import ssl
import struct
import time

from harness import Ended, LINE_TIMEOUT
from irc import IrcClient

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def url_addr(srv, scheme):
    """The address of srv's first listener of scheme (http, https ...)."""
    for url, addr in zip(srv.listen, srv.addrs):
        if url.startswith(scheme + "://"):
            return addr
    raise AssertionError("server has no %s:// listener: %s" % (scheme, srv.listen))


def client_tls():
    """An SSL context that trusts anything (the tests' certificates)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def frame(op, payload, fin=True, mask=True, rsv=0):
    """Builds one client frame (masked unless mask is False)."""
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + key + body


def read_http_head(sock, buf=b"", deadline=None):
    """Reads an HTTP response head; returns (status, headers dict with
    lower-case names, the bytes after the head)."""
    while b"\r\n\r\n" not in buf:
        if deadline is not None:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
        data = sock.recv(65536)
        if not data:
            raise Ended("EOF inside an HTTP head: %r" % buf[:200])
        buf += data
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for ln in lines[1:]:
        k, v = ln.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    return status, headers, rest


class Http:
    """An HTTP/1.1 client on one (kept-alive) connection."""

    def __init__(self, t, addr, tls=False):
        self.t = t
        family, host, port = addr
        self.host = "%s:%d" % (host if family == socket.AF_INET else "[%s]" % host, port)
        s = socket.create_connection((host, port), timeout=t.bound(10))
        self.sock = client_tls().wrap_socket(s) if tls else s
        self.buf = b""
        with t._lock:
            t.clients.append(self)

    def request(self, method, path, headers=None, raw=None):
        """Sends a request (or raw bytes); returns (status, headers, body)."""
        if raw is None:
            h = {"Host": self.host}
            h.update(headers or {})
            raw = "%s %s HTTP/1.1\r\n%s\r\n" % (method, path, "".join("%s: %s\r\n" % kv for kv in h.items()))
        self.sock.settimeout(self.t.bound(LINE_TIMEOUT))
        self.sock.sendall(raw.encode() if isinstance(raw, str) else raw)
        status, hd, self.buf = read_http_head(self.sock, self.buf, time.monotonic() + self.t.bound(LINE_TIMEOUT))
        n = int(hd.get("content-length", "0"))
        if method == "HEAD" or status == 304:
            n = 0
        while len(self.buf) < n:
            data = self.sock.recv(65536)
            if not data:
                raise Ended("EOF inside an HTTP body")
            self.buf += data
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, hd, body

    def at_eof(self, timeout=LINE_TIMEOUT):
        """True if the server closes the connection (no more bytes)."""
        self.sock.settimeout(self.t.bound(timeout))
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # The harness closes every client at the end of a test.
    closed = False


def upgrade_request(host, protocols=("text.ircv3.net",), origin=None, path="/irc", key=None, extra=""):
    """The bytes of a WebSocket upgrade request, and the key it carries."""
    key = key or base64.b64encode(os.urandom(16)).decode()
    req = "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" % (path, host)
    req += "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n" % key
    if protocols:
        req += "Sec-WebSocket-Protocol: %s\r\n" % ", ".join(protocols)
    if origin:
        req += "Origin: %s\r\n" % origin
    return (req + extra + "\r\n").encode(), key


def accept_of(key):
    """The Sec-WebSocket-Accept value for key."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


class WsIrcClient(IrcClient):
    """An IRC client over WebSocket (see the module's comment)."""

    def __init__(self, ctx, addr, protocols=("text.ircv3.net",), origin=None, tls=False, handshake=True, rcvbuf=None):
        super().__init__(ctx, addr, rcvbuf=rcvbuf)
        if tls:
            self.sock = client_tls().wrap_socket(self.sock)
        family, host, port = addr
        self.host = "%s:%d" % (host if family == socket.AF_INET else "[%s]" % host, port)
        self.protocols = protocols
        self.raw = b""  # frames not yet decoded
        self.close_code = None
        self.opcodes = set()  # opcodes of the data frames received
        self.binary = False
        self.status = None
        self.headers = {}
        if handshake:
            self.handshake(origin)

    def __repr__(self):
        return "<ws client %s port %s>" % (self.nick, self.local[1])

    def handshake(self, origin=None):
        """Sends the upgrade request; requires 101 with the right accept."""
        req, key = upgrade_request(self.host, self.protocols, origin)
        self.sock.settimeout(self.ctx.bound(LINE_TIMEOUT))
        self.sock.sendall(req)
        self.status, self.headers, self.raw = read_http_head(self.sock, b"", time.monotonic() + self.ctx.bound(LINE_TIMEOUT))
        if self.status != 101:
            raise AssertionError("upgrade refused: %d %s" % (self.status, self.headers))
        if self.headers.get("sec-websocket-accept") != accept_of(key):
            raise AssertionError("bad Sec-WebSocket-Accept: %s" % self.headers)
        self.binary = self.headers.get("sec-websocket-protocol") == "binary.ircv3.net"

    # -- sending ------------------------------------------------------------

    def send_frame(self, op, payload, fin=True, mask=True, rsv=0):
        """Sends one frame as given."""
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        self.sock.settimeout(self.ctx.bound(LINE_TIMEOUT))
        self.sock.sendall(frame(op, payload, fin, mask, rsv))

    def send(self, data):
        """Sends each line of data (CRLF-ended) as one message."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        op = OP_BINARY if self.binary else OP_TEXT
        out = b""
        for ln in data.split(b"\n"):
            ln = ln.rstrip(b"\r")
            if ln:
                out += frame(op, ln)
        self.sock.settimeout(self.ctx.bound(LINE_TIMEOUT))
        self.sock.sendall(out)

    # -- receiving ----------------------------------------------------------

    def _next_frame(self):
        """Takes one whole frame off self.raw: (fin, op, payload) or None."""
        r = self.raw
        if len(r) < 2:
            return None
        b0, b1 = r[0], r[1]
        if b1 & 0x80:
            raise AssertionError("%r: the server sent a masked frame" % self)
        n, off = b1 & 0x7F, 2
        if n == 126:
            if len(r) < 4:
                return None
            n, off = struct.unpack("!H", r[2:4])[0], 4
        elif n == 127:
            if len(r) < 10:
                return None
            n, off = struct.unpack("!Q", r[2:10])[0], 10
        if len(r) < off + n:
            return None
        self.raw = r[off + n :]
        return bool(b0 & 0x80), b0 & 0x0F, r[off : off + n]

    def _fill(self, timeout):
        """Reads frames until at least one message is in buf."""
        end = time.monotonic() + timeout
        got = False
        while not got:
            f = self._next_frame()
            if f is None:  # the base class reads into buf: move it to raw
                held, self.buf = self.buf, b""
                try:
                    super()._fill(max(0.01, end - time.monotonic()))
                finally:
                    self.raw += self.buf
                    self.buf = held
                continue
            fin, op, payload = f
            if op == OP_CLOSE:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                self.ended = "close"
                raise Ended("close frame %s" % self.close_code)
            if op == OP_PING:
                self.send_frame(OP_PONG, payload)
                continue
            if op == OP_PONG:
                continue
            if not fin or op == OP_CONT:
                raise AssertionError("%r: the server fragmented a message" % self)
            if b"\r" in payload or b"\n" in payload:
                raise AssertionError("%r: CR or LF inside a message: %r" % (self, payload[:200]))
            self.opcodes.add(op)
            self.buf += payload + b"\r\n"  # harness.Client.line reads it
            got = True

    def expect_close(self, code, timeout=LINE_TIMEOUT):
        """Reads (skipping messages) until the close frame; requires code,
        then the end of the connection."""
        end = time.monotonic() + timeout
        while self.close_code is None:
            try:
                self.line(max(0.01, end - time.monotonic()))
            except Ended:
                if self.close_code is None:
                    raise AssertionError("%r: connection ended without a close frame (want %d)" % (self, code)) from None
        if self.close_code != code:
            raise AssertionError("%r: close code %d, want %d" % (self, self.close_code, code))


def ws_client(t, srv, scheme="http", **kw):
    """A new WebSocket IRC connection to srv (not yet registered)."""
    c = WsIrcClient(t, url_addr(srv, scheme), tls=scheme == "https", **kw)
    with t._lock:
        t.clients.append(c)
    return c


def ws_user(t, srv, nick, scheme="http", caps=(), **kw):
    """A registered IRC user over WebSocket called nick."""
    c = ws_client(t, srv, scheme, **kw)
    c.register(nick, caps=caps)
    return c
