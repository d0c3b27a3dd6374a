"""Metrics over HTTP (docs/operations.md, Metrics): --listen metrics://...
serves /metrics in the Prometheus text format, which Debian's promtool
accepts, and /healthz; nothing else on that port.  The counters follow what
happens on the chat ports.  A hostile HTTP client is handled like any
other: line limits, deadlines, per-address caps, the output queue limit,
so that a scrape never holds the loop up."""
import re
import shutil
import socket
import subprocess
import time

from harness import TLS_CLIENT_HELLO, check

PROMTOOL = "/usr/bin/promtool"


def metrics_server(t, *flags, **kw):
    """A server with a text listener (first) and an HTTP listener."""
    return t.server(*flags, listen=["text://127.0.0.1:0", "metrics://127.0.0.1:0"], **kw)


def http_addr(srv):
    return srv.addrs[1]


def connect(t, addr, source=None):
    s = socket.socket(addr[0], socket.SOCK_STREAM)
    if source:
        s.bind((source, 0))
    s.settimeout(t.bound(5))
    s.connect(addr[1:])
    return s


def read_response(t, s, buf=b"", timeout=10, head=False):
    """Reads one response: (status, headers dict, body, rest of buf)."""
    end = time.monotonic() + t.bound(timeout)
    while b"\r\n\r\n" not in buf:
        buf += recv_some(s, end, buf)
    top, buf = buf.split(b"\r\n\r\n", 1)
    lines = top.decode("latin-1").split("\r\n")
    m = re.fullmatch(r"HTTP/1\.1 (\d{3}) .+", lines[0])
    check(m, "not a status line: %r", lines[0])
    headers = {}
    for ln in lines[1:]:
        k, v = ln.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    n = 0 if head else int(headers["content-length"])
    while len(buf) < n:
        buf += recv_some(s, end, buf)
    return int(m.group(1)), headers, buf[:n], buf[n:]


def recv_some(s, end, sofar):
    left = end - time.monotonic()
    check(left > 0, "no complete HTTP response in time; got %r", sofar[:300])
    s.settimeout(left)
    data = s.recv(65536)
    check(data, "connection closed after %r", sofar[:300])
    return data


def expect_closed(t, s, timeout=5):
    """Reads until the server closes; returns what came."""
    data = b""
    end = time.monotonic() + t.bound(timeout)
    while True:
        left = end - time.monotonic()
        check(left > 0, "connection not closed in %.0fs; got %r", timeout, data[:200])
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def get(t, srv, path, method="GET", extra=""):
    s = connect(t, http_addr(srv))
    try:
        s.sendall(("%s %s HTTP/1.1\r\nHost: parley\r\n%s\r\n" % (method, path, extra)).encode())
        return read_response(t, s, head=method == "HEAD")[:3]
    finally:
        s.close()


def scrape(t, srv):
    """The metrics page as {series: value}, and its text."""
    status, headers, body = get(t, srv, "/metrics")
    check(status == 200, "/metrics: %s", status)
    check(headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8", "content type %r", headers["content-type"])
    text = body.decode()
    values = {}
    for ln in text.splitlines():
        if ln and not ln.startswith("#"):
            k, v = ln.rsplit(" ", 1)
            values[k] = float(v)
    return values, text


def wait_metric(t, srv, series, pred, timeout=10):
    """Scrapes until pred(value of series) holds; returns the values."""
    end = time.monotonic() + t.bound(timeout)
    while True:
        values, _ = scrape(t, srv)
        if series in values and pred(values[series]):
            return values
        check(time.monotonic() < end, "%s never satisfied the test: %r", series, values.get(series))
        time.sleep(0.05)


def promtool_check(text):
    check(shutil.which("promtool") or shutil.os.path.exists(PROMTOOL), "promtool is not installed (Debian package prometheus; tests/deps.sh)")
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(), capture_output=True, timeout=20)
    check(p.returncode == 0, "promtool check metrics: exit %s: %s %s", p.returncode, p.stdout, p.stderr)


def test_promtool_accepts_the_page(t):
    srv = metrics_server(t)
    a, b = t.users(srv, "alice", "bob")
    a.say("hello")
    b.expect("[alice]: hello")
    a.say("/msg bob psst")
    b.expect("[alice -> bob]: psst")
    a.expect("[alice -> bob]: psst")
    values, text = scrape(t, srv)
    promtool_check(text)
    check(values['parley_connections{protocol="text",state="open"}'] == 2, "open text connections: %r", values)
    check(values['parley_connections{protocol="metrics",state="open"}'] == 1, "the scrape itself: %r", values)
    check(values["parley_messages_total"] == 2, "messages: %r", values["parley_messages_total"])
    check(values["parley_deliveries_total"] >= 3, "deliveries: %r", values["parley_deliveries_total"])
    check(values["parley_rooms"] == 1 and values["parley_users"] == 2, "rooms, users: %r", values)
    check(values["parley_connections_accepted_total"] == 3, "accepted: %r", values)
    check(values["parley_received_bytes_total"] > 0 and values["parley_sent_bytes_total"] > 0, "bytes: %r", values)
    for name in ("parley_tls_handshakes_total", "parley_tls_handshake_failures_total", "parley_sendq_cutoffs_total", "parley_store_commits_total", "parley_store_rows_total"):
        check(values[name] == 0, "%s: %r", name, values[name])
    buckets = [(k, v) for k, v in values.items() if k.startswith("parley_loop_iteration_seconds_bucket")]
    counts = [v for _, v in buckets]
    check(len(buckets) == 14 and counts == sorted(counts), "buckets not cumulative: %r", buckets)
    check(buckets[-1][0].endswith('{le="+Inf"}') and counts[-1] == values["parley_loop_iteration_seconds_count"] > 0, "histogram: %r", buckets)


def test_healthz_and_nothing_else(t):
    srv = metrics_server(t)
    status, headers, body = get(t, srv, "/healthz")
    check((status, body) == (200, b"ok\n"), "/healthz: %s %r", status, body)
    for path in ["/", "/metrics/", "/metricsx", "/../metrics", "*"]:
        status, headers, body = get(t, srv, path)
        check(status in (400, 404) and headers["connection"] == "close", "%s: %s %r", path, status, headers)
    status, headers, body = get(t, srv, "/metrics", method="POST")
    check(status == 405 and headers["allow"] == "GET, HEAD", "POST: %s %r", status, headers)
    status, headers, body = get(t, srv, "/metrics", method="HEAD")
    check(status == 200 and body == b"" and int(headers["content-length"]) > 1000, "HEAD: %s %r", status, headers)
    status, headers, body = get(t, srv, "/healthz?probe=1")
    check(status == 200, "a query is not part of the path: %s", status)


def test_keep_alive_and_pipelining(t):
    srv = metrics_server(t)
    s = connect(t, http_addr(srv))
    req = b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
    s.sendall(req * 3 + b"GET /healthz HTTP/1.0\r\n\r\n")
    buf = b""
    for i in range(4):
        status, headers, body, buf = read_response(t, s, buf)
        check(status == 200 and body == b"ok\n", "answer %d: %s %r", i, status, body)
        want = "close" if i == 3 else "keep-alive"
        check(headers["connection"] == want, "answer %d: Connection %r", i, headers["connection"])
    check(expect_closed(t, s) == b"", "bytes after the last answer")


def test_bad_requests_refused_and_closed(t):
    srv = metrics_server(t)
    cases = [
        (b"hello\r\n", 400),
        (b"GET / HTTP/2.0\r\n", 505),
        (b"GET /" + b"a" * 3000 + b" HTTP/1.1\r\n", 414),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n", 414),
        (b"GET /metrics HTTP/1.1\r\nHost: a\r\nX: " + b"b" * 9000 + b"\r\n", 431),
        (b"GET /metrics HTTP/1.1\r\nHost: a\r\n" + b"X-A: b\r\n" * 65 + b"\r\n", 431),
        (b"GET /metrics HTTP/1.1\r\n\r\n", 400),
        (b"GET /metrics HTTP/1.1\r\nHost : a\r\n\r\n", 400),
        (b"GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcd", 413),
        (b"GET /metrics HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 413),
    ]
    for req, want in cases:
        s = connect(t, http_addr(srv))
        s.sendall(req)
        status, headers, body, rest = read_response(t, s)
        check(status == want and headers["connection"] == "close", "%r...: %s (want %s)", req[:40], status, want)
        expect_closed(t, s)
        s.close()
    s = connect(t, http_addr(srv))
    s.sendall(TLS_CLIENT_HELLO)
    check(expect_closed(t, s) == b"", "a TLS hello got an answer")
    status, _, _ = get(t, srv, "/healthz")
    check(status == 200, "server no longer answers: %s", status)


def test_stalled_requests_time_out(t):
    """A client that connects and says nothing, and one that stops in the
    middle of its request head (slowloris), are both closed within the
    request deadline (10 s): the second with 408."""
    srv = metrics_server(t)
    silent = connect(t, http_addr(srv))
    slow = connect(t, http_addr(srv))
    slow.sendall(b"GET /metrics HTTP/1.1\r\nHost: a\r\n")
    start = time.monotonic()
    data = expect_closed(t, slow, timeout=16)
    check(data.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), "slowloris got %r", data)
    check(expect_closed(t, silent, timeout=4) == b"", "the silent client got an answer")
    took = time.monotonic() - start
    check(8 < took < 15, "closed after %.1fs, not about 10 s", took)
    srv.wait_event("disconnect", reason="timeout")


def test_per_address_cap_applies(t):
    srv = metrics_server(t, "--max-per-ip", "2", "--limit-loopback")
    held = [connect(t, http_addr(srv)) for _ in range(2)]
    s = connect(t, http_addr(srv))
    data = expect_closed(t, s)
    check(data.startswith(b"HTTP/1.1 503 Service Unavailable\r\n") and b"server full (max 2 connections per address)" in data, "refused with %r", data)
    for h in held:
        h.close()
    srv.wait_event("disconnect", id="1")
    srv.wait_event("disconnect", id="2")
    values = wait_metric(t, srv, 'parley_accepts_refused_total{reason="max-per-ip"}', lambda v: v == 1)
    check(values['parley_accepts_refused_total{reason="max-clients"}'] == 0, "%r", values)


def test_reader_that_never_reads_is_cut_off(t):
    """A scraper that pipelines requests and never reads its answers fills
    its output queue, not the loop: it is cut off at --sendq-max while a
    chat in the same server goes on, and the cut-off is counted."""
    srv = metrics_server(t, "--sendq-max", "65536")
    a, b = t.users(srv, "alice", "bob")
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(t.bound(5))
    s.connect(http_addr(srv)[1:])
    req = b"GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n"
    try:
        s.sendall(req * 400)
    except (BrokenPipeError, ConnectionResetError):
        pass
    for i in range(20):
        a.say("line %d" % i)
        b.expect("[alice]: line %d" % i)
    srv.wait_event("disconnect", reason="sendq")
    values = wait_metric(t, srv, "parley_sendq_cutoffs_total", lambda v: v == 1)
    check(values["parley_messages_total"] == 20, "messages: %r", values["parley_messages_total"])
    s.close()


def test_counters_follow_refusals_and_floods(t):
    srv = metrics_server(t, "--max-clients", "4", "--flood-burst", "2", "--flood-rate", "5", flood=True)
    a, b = t.users(srv, "alice", "bob")
    extra = [t.client(srv) for _ in range(2)]  # 2 users, 2 more: the limit
    nicks = [c.welcome() for c in extra]
    refused = t.client(srv)
    refused.expect("! server full (max 4 clients)")
    s = connect(t, http_addr(srv))  # the HTTP port counts too: refused
    check(b"server full (max 4 clients)" in expect_closed(t, s), "HTTP not refused")
    extra[0].close()
    srv.wait_event("disconnect", reason="eof", nick=nicks[0])
    for i in range(6):
        a.say("m%d" % i)
    for i in range(6):
        b.read_until("[alice]: m%d" % i, timeout=20)  # paced; past arrivals
    values = wait_metric(t, srv, "parley_flood_pauses_total", lambda v: v >= 1)
    check(values["parley_messages_total"] == 6, "messages: %r", values)
    check(values['parley_accepts_refused_total{reason="max-clients"}'] == 2, "%r", values)
    check(values['parley_connections{protocol="text",state="open"}'] == 3, "%r", values)


def test_store_counters_move_when_people_talk(t):
    """With --db, the store's commits and rows count what people say
    (promtool still accepts the page); no write errors, nothing lost.
    Without a store (the test above) they stay at 0."""
    from test_store import DbDir

    db = DbDir()
    try:
        srv = metrics_server(t, "--db", db.path)
        a, b = t.users(srv, "alice", "bob")
        start, text = scrape(t, srv)
        promtool_check(text)
        for i in range(3):
            a.say("kept %d" % i)
            b.expect("[alice]: kept %d" % i)
        a.say("/msg bob psst")  # one message, kept in two mailboxes
        b.expect("[alice -> bob]: psst")
        values = wait_metric(t, srv, "parley_store_rows_total", lambda v: v >= start["parley_store_rows_total"] + 5)
        check(values["parley_store_commits_total"] > start["parley_store_commits_total"], "commits: %r", values)
        check(values["parley_store_write_errors_total"] == 0, "errors: %r", values)
        check(values["parley_store_messages_lost_total"] == 0, "lost: %r", values)
        _, text = scrape(t, srv)
        promtool_check(text)
    finally:
        db.remove()
