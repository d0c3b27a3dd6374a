"""Rooms as a resource: rooms nobody is in, history memory, new-room rates.

A room nobody is in is a cache of its history: it never keeps anyone from
creating a room (at --max-rooms the one left longest ago gives way) and
never holds memory past --history-mem. Creating a room spends a token of the
client's bucket (--room-burst, --room-rate) and of its address's
(--room-burst-per-ip, --room-rate-per-ip); joining a room that exists is
free. Expected lines are quoted from docs/protocol.md; each test's
docstring says which server behaviour makes it pass.

Tests here read the replies to their own commands and skip over notices
about other people (read_until), so they hold whatever those notices say.
"""

import os
import re
import time

from harness import BARRIER_REPLY, check
from test_hostile import rss_kib, sanitized_build

TOO_FAST = re.compile(r"! too many new rooms: try again in (\d+) s")

# What the history budget counts (docs/security.md): a room's ring of
# --history-keep slots of 8 bytes once it has history, and per message its
# nick and text plus 32 bytes.
SLOT_BYTES = 8
MSG_EXTRA = 40  # struct room_msg and the allocator's share
SOURCE_EXTRA = len("!~text@127.0.0.1")  # the nick!user@host kept with it


def joined(room, n=None):
    """The /join reply for room (any count of people, or exactly n)."""
    count = r"\d+ (?:person|people)" if n is None else ("1 person" if n == 1 else "%d people" % n)
    return re.compile(r"\* you joined #%s \(%s here\)" % (re.escape(room), count))


def client(t, srv, source=None):
    """A welcomed client (from source, an address on loopback)."""
    c = t.client(srv, source=source)
    c.welcome()
    return c


def join(c, room, n=None):
    """c joins room and reads up to its reply (skipping notices)."""
    c.say("/join " + room)
    c.read_until(joined(room, n))


def try_create(c, room):
    """c asks to /join room; returns the seconds it must wait, or 0 if it
    joined."""
    c.say("/join " + room)
    last = c.read_until(lambda ln: joined(room).fullmatch(ln) or TOO_FAST.fullmatch(ln))[-1]
    m = TOO_FAST.fullmatch(last)
    return int(m.group(1)) if m else 0


def room_names(c):
    """The names in c's /rooms reply (notices pending before it skipped)."""
    c.say("/rooms")
    c.send("/topic\n")
    got = c.read_until(BARRIER_REPLY)
    return {m.group(1) for m in (re.fullmatch(r"\* #([A-Za-z0-9_-]+): \d+ (?:person|people).*", ln) for ln in got) if m}


def history(c, room, n=None):
    """c joins room; returns the history lines replayed (maybe none)."""
    c.say("/join " + room)
    c.read_until(joined(room, n))
    c.send("/topic\n")
    got = c.read_until(BARRIER_REPLY)[:-1]
    if not got:
        return []
    m = re.fullmatch(r"\* --- last (\d+) messages? in #%s \(times in UTC\) ---" % re.escape(room), got[0])
    check(m, "expected history or nothing after the /join reply, got %r", got[:3])
    check(got[-1] == "* --- end of history ---" and len(got) == int(m.group(1)) + 2, "history frame: %r", got)
    return got[1:-1]


# -- rooms nobody is in ---------------------------------------------------


def test_rooms_left_behind_do_not_use_up_max_rooms(t):
    """Issue 8.3: one client creates three rooms with a line each and quits;
    with --max-rooms 4 everyone else can still create rooms.

    Passes because a room nobody is in only caches its history (chat.c): at
    --max-rooms the one left longest ago is freed for the new room. Without
    that, bob gets `! too many rooms (max 4)` for good."""
    srv = t.server("--max-rooms", "4")
    a = client(t, srv)
    for i in (1, 2, 3):
        join(a, "r%d" % i, 1)
        a.say("line in r%d" % i)
    a.say("/quit")
    a.read_until("* bye")
    b = client(t, srv)
    join(b, "fresh", 1)
    names = room_names(b)
    check(names == {"lobby", "fresh", "r2", "r3"}, "rooms after #fresh: %s", names)
    join(b, "fresh2", 1)
    names = room_names(b)
    check(names == {"lobby", "fresh2", "r3"}, "rooms after #fresh2: %s", names)
    lines = history(b, "r3", 1)
    check(len(lines) == 1 and lines[0].endswith("line in r3"), "history of #r3: %r", lines)
    # With someone in every room, the limit still holds.
    c, d, e = client(t, srv), client(t, srv), client(t, srv)
    join(c, "three", 1)
    join(d, "four", 1)
    names = room_names(e)
    check(names == {"lobby", "r3", "three", "four"}, "rooms: %s", names)
    e.say("/join five")
    e.read_until("! too many rooms (max 4)")


def test_history_memory_frees_room_left_longest_ago(t):
    """Past --history-mem, the room nobody has been in for longest is freed
    with its history: #old1 (left first) goes, #old2 keeps its history.

    Passes because rooms nobody is in sit on a list, least recently left
    first, and chat_trim_history frees from its front. Without the budget
    #old1 is never freed; without the order #old2 may go first."""
    srv = t.server("--history-mem", "6000")
    a = client(t, srv)
    join(a, "old1", 1)
    a.say("kept in old1")
    join(a, "old2", 1)
    a.say("kept in old2")
    join(a, "big", 1)
    # Lines of 100 bytes: each costs less than #old1 holds, so the first
    # line that passes the budget frees #old1 alone.
    for i in range(200):
        a.say("%03d %s" % (i, "x" * 96))
        names = room_names(a)
        if "old1" not in names:
            break
    else:
        raise AssertionError("#old1 still there after 200 lines in #big: %s" % names)
    check("old2" in names, "#old2 went with #old1: %s", names)
    b = client(t, srv, source="127.0.0.2")
    check(history(b, "old1", 1) == [], "#old1 came back with history")
    lines = history(b, "old2", 1)
    check(len(lines) == 1 and lines[0].endswith("kept in old2"), "history of #old2: %r", lines)


def test_history_memory_bounds_a_room_people_are_in(t):
    """With no room left to free, the room written to forgets its oldest
    messages until history fits --history-mem: of 100 lines of 100 bytes
    only the newest that fit are replayed.

    Passes because chat_trim_history makes the written room forget its
    oldest messages. Without it all 100 are kept and replayed."""
    budget = 6000
    srv = t.server("--history-mem", str(budget), "--history", "100")
    a = client(t, srv)
    join(a, "big", 1)
    for i in range(100):
        a.say("%03d %s" % (i, "y" * 96))
    a.barrier()
    b = client(t, srv, source="127.0.0.2")
    lines = history(b, "big", 2)
    n = len(lines)
    cost = MSG_EXTRA + SOURCE_EXTRA + len(a.nick) + 100
    ring = 100 * SLOT_BYTES
    check(ring + n * cost <= budget < ring + (n + 1) * cost, "%d messages of %d bytes kept in a budget of %d", n, cost, budget)
    want = ["%03d %s" % (i, "y" * 96) for i in range(100 - n, 100)]
    check([ln[-100:] for ln in lines] == want, "not the newest %d messages: %r", n, lines[:2])


def test_history_memory_stays_under_budget_in_rss(t):
    """24 MB of history (60 rooms of 100 lines of 4000 bytes) with
    --history-mem 2 MiB: the server's RSS grows by a few MiB, not 24.

    Passes because history memory is bounded across rooms (chat.c,
    chat_trim_history). Without it every room keeps its 100 messages."""
    budget = 2 << 20
    env = None
    if sanitized_build(t.parleyd):
        # Freed memory must be reused, not held in ASan's quarantine.
        opts = os.environ.get("ASAN_OPTIONS", "")
        env = {"ASAN_OPTIONS": (opts + ":" if opts else "") + "quarantine_size_mb=0"}
    srv = t.server("--history-mem", str(budget), "--room-rate", "0", "--room-rate-per-ip", "0", env=env)
    a = client(t, srv)
    a.barrier()
    rss0 = rss_kib(srv.pid)
    block = ("z" * 4000 + "\n") * 100
    for k in range(60):
        a.say("/join fill%d" % k)
        a.send(block)
        a.expect(joined("fill%d" % k, 1))
    a.barrier()
    grown = rss_kib(srv.pid) - rss0
    limit = (budget >> 10) * (4 if sanitized_build(t.parleyd) else 2)
    t.details.append("RSS grew by %d KiB (limit %d KiB) for 24 MB of history" % (grown, limit))
    check(grown < limit, "server RSS grew by %d KiB with a history budget of %d KiB", grown, budget >> 10)


# -- the rate of new rooms ------------------------------------------------


def test_new_rooms_per_client_burst_then_refused(t):
    """A client creating rooms quickly is refused past its burst (5), told
    how long to wait; another client of the same address is not, and
    joining a room that exists stays free.

    Passes because creating a room spends a token of the client's bucket
    (chat_new_room). Without it the sixth room is created."""
    srv = t.server()
    a = client(t, srv)
    for i in range(5):
        check(try_create(a, "mine%d" % i) == 0, "room %d of the burst refused", i)
    wait = try_create(a, "mine5")
    check(1 <= wait <= 30, "expected a refusal with a wait of 1-30 s, got %d", wait)
    b = client(t, srv)
    check(try_create(b, "bobs") == 0, "another client was refused")
    join(a, "bobs", 2)
    join(a, "lobby")


def test_new_rooms_per_address_shared(t):
    """Clients of one address share a bucket (burst 20): four clients that
    create five rooms each use it up, so a fifth client (or a reconnect) of
    that address is refused, while a client of another address is not.

    Passes because creating a room also spends a token of the origin's
    bucket (chat_new_room, keyed by the peer's host). Without it the fifth
    client creates its room."""
    srv = t.server()
    for k in range(4):
        c = client(t, srv)
        for i in range(5):
            check(try_create(c, "c%dr%d" % (k, i)) == 0, "client %d: room %d refused", k, i)
    e = client(t, srv)
    wait = try_create(e, "e0")
    check(1 <= wait <= 6, "expected a refusal with a wait of 1-6 s, got %d", wait)
    f = client(t, srv, source="127.0.0.2")
    check(try_create(f, "f0") == 0, "a client of another address was refused")


def test_new_room_allowed_again_after_the_wait(t):
    """After the wait it was told, a refused client may create a room again.

    Passes because the bucket refills at --room-rate (here 600 a minute).
    Without the refill the client stays refused."""
    srv = t.server("--room-burst", "1", "--room-rate", "600")
    a = client(t, srv)
    check(try_create(a, "one") == 0, "first room refused")
    check(try_create(a, "two") == 1, "second room at once: expected try again in 1 s")
    end = time.monotonic() + 3
    while try_create(a, "two") != 0:
        check(time.monotonic() < end, "still refused after 3 s")
