// The IRC side of the client: registration and capabilities, then every
// line from the server turned into changes of the state. It knows nothing
// of the DOM; app.js gives it the callbacks it needs (ui).
import { formatLine, isChannel, lower, parseCtcp, parseLine } from './irc.js';
import { history } from './history.js';

export const WANTED_CAPS = [
  'message-tags', 'server-time', 'echo-message', 'multi-prefix', 'userhost-in-names',
  'away-notify', 'batch', 'labeled-response', 'draft/chathistory', 'standard-replies',
  'invite-notify', 'extended-join', 'setname',
];

// Client needs send(line) and ui: { askNick(reason), registered(),
// notify(buffer, msg), joined(buffer), rooms() (the channels to join, or
// null if none were ever kept) }.
export class Client {
  constructor(state, send, ui) {
    this.state = state;
    this.send = send;
    this.ui = ui;
    this.reset();
  }

  reset() {
    this.caps = new Set();
    this.offered = [];
    this.isupport = {};
    this.registered = false;
    this.batches = new Map();
    this.labels = new Map();
    this.labelSeq = 0;
    this.pending = new Map(); // lower(target) -> history request
    for (const b of this.state.buffers.values()) {
      b.joined = false;
      b.members.clear();
      b.loadingHistory = false;
    }
  }

  // connected starts registration on a fresh socket as nick.
  connected(nick) {
    this.reset();
    this.wantNick = nick;
    this.send('CAP LS 302');
    this.send(formatLine('NICK', [nick]));
    this.send(formatLine('USER', [nick.slice(0, 15), '0', '*', 'parley web']));
  }

  // command sends a line the user asked for, labelled so that its
  // replies (errors, WHOIS, LIST) show in buffer b. It says whether the
  // line went out (not while disconnected).
  command(b, command, params) {
    const tags = {};
    if (this.caps.has('labeled-response')) {
      tags.label = 'u' + ++this.labelSeq;
      this.labels.set(tags.label, b);
    }
    return this.send(formatLine(command, params, tags));
  }

  // system shows a line from the client or server in buffer b.
  system(b, text, tags = {}, kind = 'event') {
    this.state.addMessage(b || this.state.current, { kind, text, time: tags.time, msgid: tags.msgid });
  }

  // route finds the buffer for a reply: the one its label points at,
  // else the server's.
  route(m) {
    const label = m.tags.label || this.batches.get(m.tags.batch)?.label;
    return (label && this.labels.get(label)) || this.state.server;
  }

  // handle takes one line from the server.
  handle(line) {
    const m = parseLine(line);
    if (!m) return;
    const batch = this.batches.get(m.tags.batch);
    if (batch && batch.lines) {
      batch.lines.push(m);
      return;
    }
    const fn = HANDLERS[m.command] || (/^\d{3}$/.test(m.command) ? numeric : other);
    fn.call(this, m);
    if (m.tags.label && m.command !== 'BATCH') this.labels.delete(m.tags.label);
  }

  // message files a PRIVMSG or NOTICE; live says it arrived now (not
  // from history), which counts as unread and may notify.
  message(m, live) {
    const [target, body = ''] = m.params;
    const st = this.state;
    const self = lower(m.nick) === lower(st.nick);
    const ctcp = parseCtcp(body);
    if (ctcp.ctcp) return;
    let b;
    if (this.fromServer(m)) b = st.server;
    else if (isChannel(target)) b = st.buffer(target.replace(/^[@+]+/, ''), 'channel');
    else b = st.buffer(self ? target : m.nick, 'query');
    const kind = ctcp.action ? 'action' : m.command === 'NOTICE' ? 'notice' : 'privmsg';
    const mention = !self && b !== st.server && (b.kind === 'query' || st.mentions(ctcp.text));
    const msg = { kind, nick: m.nick || 'server', text: ctcp.text, time: m.tags.time, msgid: m.tags.msgid, stored: true, live, self, mention };
    st.addMessage(b, msg);
    if (live && mention) this.ui.notify(b, msg);
  }

  // fromServer says whether m comes from the server rather than a person.
  fromServer(m) {
    if (m.user || m.host) return false;
    return !this.registered || !m.nick || m.nick.includes('.') || lower(m.nick) === lower(this.serverName || '');
  }

  // joinRooms joins the channels we were in (kept by the page, null on a
  // first visit: then #lobby).
  joinRooms() {
    const names = new Set(this.ui.rooms() ?? ['#lobby']);
    for (const b of this.state.buffers.values()) if (b.kind === 'channel' && b.wanted) names.add(b.name);
    let batch = [];
    for (const name of names) {
      batch.push(name);
      if (batch.join(',').length > 400) {
        this.send(formatLine('JOIN', [batch.join(',')]));
        batch = [];
      }
    }
    if (batch.length) this.send(formatLine('JOIN', [batch.join(',')]));
  }

  // eachChannelWith calls fn(buffer, member) for the channels nick is in.
  eachChannelWith(nick, fn) {
    for (const b of this.state.buffers.values()) {
      const mem = b.members.get(lower(nick));
      if (mem) fn(b, mem);
    }
  }
}

function welcome(m) {
  this.registered = true;
  this.serverName = m.nick;
  this.state.nick = m.params[0];
  this.ui.registered();
  this.system(this.state.server, m.params.slice(1).join(' '));
  this.joinRooms();
  history.targets(this);
  for (const b of this.state.buffers.values()) if (b.kind === 'query') history.fill(this, b);
}

function isupport(m) {
  for (const tok of m.params.slice(1, -1)) {
    const [k, v = ''] = tok.split('=');
    this.isupport[k] = v;
  }
}

function cap(m) {
  const sub = m.params[1];
  if (sub === 'LS') {
    const more = m.params[2] === '*';
    this.offered.push(...(more ? m.params[3] : m.params[2]).split(' ').map((c) => c.split('=')[0]));
    if (more) return;
    const want = WANTED_CAPS.filter((c) => this.offered.includes(c));
    if (want.length) this.send(formatLine('CAP', ['REQ', want.join(' ')]));
    else this.send('CAP END');
  } else if (sub === 'ACK') {
    for (const c of m.params[2].split(' ')) if (c) this.caps.add(c);
    if (!this.registered) this.send('CAP END');
  } else if (sub === 'NAK') {
    if (!this.registered) this.send('CAP END');
  }
}

function nickError(m) {
  if (!this.registered) this.ui.askNick(`${m.params[1]}: ${m.params[2] || 'not available'}`);
  else numeric.call(this, m);
}

function numeric(m) {
  const text = m.params.slice(1).join(' ');
  if (text) this.system(this.route(m), text, m.tags, /^[45]/.test(m.command) ? 'error' : 'event');
}

function other(m) {
  this.system(this.route(m), `${m.command} ${m.params.join(' ')}`, m.tags);
}

function join(m) {
  const st = this.state;
  const b = st.buffer(m.params[0], 'channel');
  if (lower(m.nick) === lower(st.nick)) {
    b.name = m.params[0];
    b.joined = true;
    b.wanted = true;
    b.members.clear();
    this.ui.joined(b);
    history.fill(this, b);
  } else {
    this.system(b, `${m.nick} joined`, m.tags);
  }
  b.members.set(lower(m.nick), { nick: m.nick, prefix: '', away: false });
  st.emit('members', b);
}

function gone(b, nick, text, tags) {
  const st = this.state;
  b.members.delete(lower(nick));
  if (lower(nick) === lower(st.nick)) {
    b.joined = false;
    b.members.clear();
    this.ui.joined(b);
  }
  this.system(b, text, tags);
  st.emit('members', b);
}

function part(m) {
  const b = this.state.find(m.params[0]);
  if (!b) return;
  if (lower(m.nick) === lower(this.state.nick)) b.wanted = false;
  gone.call(this, b, m.nick, `${m.nick} left${m.params[1] ? ` (${m.params[1]})` : ''}`, m.tags);
}

function kick(m) {
  const b = this.state.find(m.params[0]);
  if (!b) return;
  if (lower(m.params[1]) === lower(this.state.nick)) b.wanted = false;
  gone.call(this, b, m.params[1], `${m.nick} kicked ${m.params[1]} (${m.params[2] || ''})`, m.tags);
}

function quit(m) {
  this.eachChannelWith(m.nick, (b) => gone.call(this, b, m.nick, `${m.nick} quit (${m.params[0] || ''})`, m.tags));
}

function nick(m) {
  const st = this.state;
  const to = m.params[0];
  if (lower(m.nick) === lower(st.nick)) {
    st.nick = to;
    this.ui.registered();
    this.system(st.current, `You are now ${to}`, m.tags);
  }
  this.eachChannelWith(m.nick, (b, mem) => {
    b.members.delete(lower(m.nick));
    b.members.set(lower(to), { ...mem, nick: to });
    this.system(b, `${m.nick} is now ${to}`, m.tags);
    st.emit('members', b);
  });
  const q = st.find(m.nick);
  if (q && q.kind === 'query' && !st.find(to)) {
    st.buffers.delete(q.key);
    q.name = to;
    st.buffers.set(q.key, q);
    st.emit('buffers', q);
    if (st.current === q) st.emit('select', q);
  }
}

function topic(m) {
  const b = this.state.find(m.command === 'TOPIC' ? m.params[0] : m.params[1]);
  if (!b || !b.joined) return numeric.call(this, m);
  b.topic = m.command === '331' ? '' : m.params[m.command === 'TOPIC' ? 1 : 2] || '';
  if (m.command === 'TOPIC') this.system(b, `${m.nick} set the topic: ${b.topic}`, m.tags);
  this.state.emit('topic', b);
}

function names(m) {
  const b = this.state.find(m.params[2]);
  if (!b) return numeric.call(this, m);
  for (const item of (m.params[3] || '').split(' ')) {
    const [, prefix, nk] = /^([@+]*)([^!]*)/.exec(item);
    if (nk) b.members.set(lower(nk), { nick: nk, prefix: ordered(prefix), away: false });
  }
}

function endNames(m) {
  const b = this.state.find(m.params[1]);
  if (b) this.state.emit('members', b);
  else numeric.call(this, m);
}

// ordered spells a member's status prefixes highest first: "@+".
function ordered(prefix) {
  return (prefix.includes('@') ? '@' : '') + (prefix.includes('+') ? '+' : '');
}

function mode(m) {
  const [target, modes = '', ...args] = m.params;
  const b = this.state.find(target);
  this.system(b && b.kind === 'channel' ? b : this.route(m), `${m.nick} set mode ${m.params.slice(1).join(' ')}`, m.tags);
  if (!b || b.kind !== 'channel') return;
  let add = true;
  for (const c of modes) {
    if (c === '+' || c === '-') add = c === '+';
    else if ('ov'.includes(c)) {
      const mem = b.members.get(lower(args.shift() || ''));
      const mark = c === 'o' ? '@' : '+';
      if (mem) mem.prefix = ordered(add ? mem.prefix + mark : mem.prefix.replace(mark, ''));
    } else if ('bk'.includes(c) || (c === 'l' && add)) args.shift();
  }
  this.state.emit('members', b);
}

function away(m) {
  this.eachChannelWith(m.nick, (b, mem) => {
    mem.away = !!m.params[0];
    this.state.emit('members', b);
  });
}

function batch(m) {
  const ref = m.params[0].slice(1);
  if (m.params[0][0] === '+') {
    const type = m.params[1];
    const collect = type === 'chathistory' || type === 'draft/chathistory-targets';
    this.batches.set(ref, { type, params: m.params.slice(2), label: m.tags.label, lines: collect ? [] : null });
    return;
  }
  const b = this.batches.get(ref);
  this.batches.delete(ref);
  if (b && b.lines) history.done(this, b);
  if (b && b.label) this.labels.delete(b.label);
}

function fail(m) {
  if (m.params[0] === 'CHATHISTORY') history.failed(this, m);
  this.system(this.route(m), m.params.slice(m.params.length > 3 ? 3 : 2).join(' '), m.tags, 'error');
}

const HANDLERS = {
  '001': welcome,
  '005': isupport,
  331: topic,
  332: topic,
  333: () => {}, // who set the topic, and when: not shown
  329: () => {}, // when the channel was made: not shown
  353: names,
  366: endNames,
  372: function motd(m) { this.system(this.state.server, m.params[1] || ''); },
  431: nickError,
  432: nickError,
  433: nickError,
  AWAY: away,
  BATCH: batch,
  CAP: cap,
  ERROR: function error(m) { this.system(this.state.server, `Server: ${m.params[0]}`, m.tags, 'error'); },
  FAIL: fail,
  INVITE: function invite(m) { this.system(this.state.current, `${m.nick} invites ${m.params[0]} to ${m.params[1]}`, m.tags); },
  JOIN: join,
  KICK: kick,
  MODE: mode,
  NICK: nick,
  NOTICE: function notice(m) { this.message(m, true); },
  PART: part,
  PING: function ping(m) { this.send(formatLine('PONG', m.params)); },
  PONG: () => {},
  PRIVMSG: function privmsg(m) { this.message(m, true); },
  QUIT: quit,
  SETNAME: () => {},
  ACK: () => {},
  TOPIC: topic,
};
