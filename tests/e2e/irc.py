"""IRC clients for the end-to-end tests: a raw IRC client over a real TCP
socket, built on harness.Client, and helpers to start a server that speaks
both protocols.

    srv = mixed_server(t)                # text and IRC listeners
    a = irc_client(t, srv)               # a raw IRC connection
    a.register("alice")                  # NICK/USER, up to the end of MOTD
    a.send_line("JOIN #dev")
    m = a.expect_cmd("JOIN")             # an IrcMsg
    a.barrier()                          # nothing else is queued
"""
import re

from harness import Client

# What an IRC line may hold: IRC's formatting codes and CTCP's \\x01, but no
# other control character.
IRC_CONTROL = re.compile("[\\x00\\x05-\\x08\\x0a-\\x0e\\x10\\x12-\\x15\\x17-\\x1c\\x7f\\x80-\\x9f]")

SERVER_NAME = "irc.test"


class IrcMsg:
    """One parsed IRC line: tags (dict), source, command, params (list)."""

    def __init__(self, line):
        self.line = line
        self.tags = {}
        rest = line
        if rest.startswith("@"):
            tags, _, rest = rest[1:].partition(" ")
            for item in tags.split(";"):
                k, _, v = item.partition("=")
                self.tags[k] = unescape_tag(v)
            rest = rest.lstrip(" ")
        self.source = None
        if rest.startswith(":"):
            self.source, _, rest = rest[1:].partition(" ")
            rest = rest.lstrip(" ")
        self.params = []
        head, sep, trailing = rest.partition(" :")
        words = head.split()
        self.command = words[0].upper() if words else ""
        self.params = words[1:]
        if sep:
            self.params.append(trailing)
        elif rest.startswith(":"):
            self.params.append(rest[1:])

    @property
    def nick(self):
        """The nick of the source (nick!user@host), or the server name."""
        return (self.source or "").split("!", 1)[0]

    def __repr__(self):
        return "<IrcMsg %r>" % self.line


def unescape_tag(v):
    out, i = [], 0
    while i < len(v):
        c = v[i]
        if c == "\\" and i + 1 < len(v):
            n = v[i + 1]
            out.append({":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}.get(n, n))
            i += 2
        elif c == "\\":
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


class IrcClient(Client):
    """A raw IRC client."""

    control = IRC_CONTROL
    _barriers = 0

    def send_line(self, line):
        """Sends one line, CRLF added."""
        self.send(line + "\r\n")

    def msg(self, timeout=5.0):
        """Reads the next line as an IrcMsg."""
        return IrcMsg(self.line(timeout))

    def expect_cmd(self, command, *params, source=None, timeout=5.0):
        """Reads the next line and requires its command (and the given
        leading params, and the source's nick if given); returns it."""
        m = self.msg(timeout)
        ok = m.command == command.upper() and list(m.params[: len(params)]) == list(params)
        if ok and source is not None:
            ok = m.nick == source or m.source == source
        if not ok:
            raise AssertionError("%r: expected %s %s (from %s), got %r" % (self, command, list(params), source, m.line))
        return m

    def expect_num(self, num, *params, timeout=5.0):
        """Reads the next line; requires numeric num from the server, to us,
        with the given params after our nick."""
        m = self.msg(timeout)
        if m.command != num or m.params[1 : 1 + len(params)] != list(params):
            raise AssertionError("%r: expected numeric %s %s, got %r" % (self, num, list(params), m.line))
        return m

    def until_cmd(self, command, timeout=5.0):
        """Reads until a line with this command; returns every IrcMsg read,
        the matching one last."""
        lines = self.read_until(lambda ln: IrcMsg(ln).command == command.upper(), timeout=timeout)
        return [IrcMsg(ln) for ln in lines]

    def register(self, nick, user=None, realname="Real Name", caps=()):
        """Registers (with CAP negotiation if caps are asked for) and reads
        through the end of the MOTD; returns the lines read."""
        self.nick = nick
        if caps:
            self.send_line("CAP LS 302")
            self.send_line("CAP REQ :" + " ".join(caps))
        self.send_line("NICK " + nick)
        self.send_line("USER %s 0 * :%s" % (user or nick, realname))
        if caps:
            self.send_line("CAP END")
        ends = ("376", "422")  # the end of the MOTD, or no MOTD
        lines = self.read_until(lambda ln: IrcMsg(ln).command in ends)
        return [IrcMsg(ln) for ln in lines]

    def barrier(self, timeout=5.0):
        """Sends a PING and requires its PONG to be the very next line:
        proves that nothing else was queued for this client before it."""
        IrcClient._barriers += 1
        token = "barrier%d" % IrcClient._barriers
        self.send_line("PING " + token)
        m = self.msg(timeout)
        if m.command != "PONG" or m.params[-1] != token:
            raise AssertionError("%r: barrier: expected PONG %s, got %r" % (self, token, m.line))


def mixed_server(t, *flags, **kw):
    """Starts parleyd with a text and an IRC listener on loopback."""
    flags = list(flags)
    if "--server-name" not in flags:
        flags += ["--server-name", SERVER_NAME]
    return t.server(*flags, listen=["text://127.0.0.1:0", "irc://127.0.0.1:0"], **kw)


def irc_addr(srv):
    """The address of srv's first IRC listener."""
    for url, addr in zip(srv.listen, srv.addrs):
        if url.startswith("irc://"):
            return addr
    raise AssertionError("server has no irc:// listener: %s" % srv.listen)


def text_addr(srv):
    """The address of srv's first text listener."""
    for url, addr in zip(srv.listen, srv.addrs):
        if url.startswith("text://"):
            return addr
    raise AssertionError("server has no text:// listener: %s" % srv.listen)


def irc_client(t, srv, **kw):
    """A new raw IRC connection to srv (not yet registered)."""
    c = IrcClient(t, irc_addr(srv), **kw)
    with t._lock:
        t.clients.append(c)
    return c


def irc_user(t, srv, nick, **kw):
    """A registered IRC user called nick."""
    caps = kw.pop("caps", ())
    c = irc_client(t, srv, **kw)
    c.register(nick, caps=caps)
    return c
