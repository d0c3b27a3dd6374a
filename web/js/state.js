// The client's state: the buffers (the server's, channels, private
// conversations), their messages in time order, members, topics and
// unread counts. Views subscribe with onChange and redraw what changed.
import { isChannel, lower } from './irc.js';

const MAX_MESSAGES = 2000;

// compareMsg orders messages by time, then by msgid (decimal, maybe with
// a ".K" part number), then by arrival.
export function compareMsg(a, b) {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  const [ai, ap] = (a.msgid || '').split('.');
  const [bi, bp] = (b.msgid || '').split('.');
  if (ai !== bi && ai && bi) {
    if (ai.length !== bi.length) return ai.length - bi.length;
    return ai < bi ? -1 : 1;
  }
  if ((ap || 0) != (bp || 0)) return Number(ap || 0) - Number(bp || 0);
  return a.seq - b.seq;
}

// Buffer holds one conversation.
export class Buffer {
  constructor(name, kind) {
    this.name = name;
    this.kind = kind; // 'server', 'channel' or 'query'
    this.messages = [];
    this.ids = new Set();
    this.members = new Map(); // lower(nick) -> { nick, prefix, away }
    this.topic = '';
    this.unread = 0;
    this.mention = false;
    this.joined = false;
    this.historyDone = false;
    this.loadingHistory = false;
  }

  get key() {
    return lower(this.name);
  }

  // add inserts a message in time order; a msgid seen before is ignored.
  // It returns the index where it went, or -1.
  add(msg) {
    if (msg.msgid && this.ids.has(msg.msgid)) return -1;
    if (msg.msgid) this.ids.add(msg.msgid);
    let lo = 0;
    let hi = this.messages.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareMsg(this.messages[mid], msg) <= 0) lo = mid + 1;
      else hi = mid;
    }
    this.messages.splice(lo, 0, msg);
    if (this.messages.length > MAX_MESSAGES) {
      const gone = this.messages.shift();
      if (gone.msgid) this.ids.delete(gone.msgid);
      lo--;
      this.historyDone = false;
    }
    return lo;
  }

  // oldest and newest give the first and last messages kept from the
  // server (those with a msgid), for CHATHISTORY references.
  oldest() {
    return this.messages.find((m) => m.msgid && m.stored);
  }

  newest() {
    for (let i = this.messages.length - 1; i >= 0; i--) if (this.messages[i].msgid && this.messages[i].stored) return this.messages[i];
    return undefined;
  }

  sortedMembers() {
    const rank = (p) => (p.includes('@') ? 0 : p.includes('+') ? 1 : 2);
    return [...this.members.values()].sort(
      (a, b) => rank(a.prefix) - rank(b.prefix) || (lower(a.nick) < lower(b.nick) ? -1 : 1),
    );
  }
}

let seq = 0;

// State is the whole client: buffers by key, the current one, our nick.
export class State {
  constructor() {
    this.buffers = new Map();
    this.nick = '';
    this.current = null;
    this.listeners = [];
    this.server = this.buffer('parley', 'server');
    this.current = this.server;
  }

  // onChange registers fn(what, buffer, extra) for every change.
  onChange(fn) {
    this.listeners.push(fn);
  }

  emit(what, buffer, extra) {
    for (const fn of this.listeners) fn(what, buffer, extra);
  }

  // buffer finds the buffer named name, making it (of kind, or from the
  // name) if it does not exist.
  buffer(name, kind) {
    const key = lower(name);
    let b = this.buffers.get(key);
    if (!b) {
      b = new Buffer(name, kind || (isChannel(name) ? 'channel' : 'query'));
      this.buffers.set(key, b);
      this.emit('buffers', b);
    }
    return b;
  }

  find(name) {
    return this.buffers.get(lower(name));
  }

  remove(b) {
    if (b === this.server) return;
    const list = this.list();
    const i = list.indexOf(b);
    this.buffers.delete(b.key);
    if (this.current === b) this.select(list[i - 1] || this.server);
    this.emit('buffers', b);
  }

  // list gives the buffers in display order: the server, channels, then
  // conversations, each by name.
  list() {
    const order = { server: 0, channel: 1, query: 2 };
    return [...this.buffers.values()].sort(
      (a, b) => order[a.kind] - order[b.kind] || (a.key < b.key ? -1 : 1),
    );
  }

  select(b) {
    this.current = b;
    b.unread = 0;
    b.mention = false;
    this.emit('select', b);
    this.emit('buffers', b);
  }

  // addMessage puts msg into buffer b: { time, msgid?, kind, nick?, text,
  // stored?, live? }. Live messages in another buffer count as unread.
  addMessage(b, msg) {
    msg.seq = seq++;
    msg.time = msg.time || new Date().toISOString();
    const index = b.add(msg);
    if (index < 0) return;
    if (msg.live && !msg.self && b !== this.current && (msg.kind === 'privmsg' || msg.kind === 'action')) {
      b.unread++;
      if (msg.mention) b.mention = true;
      this.emit('buffers', b);
    }
    this.emit('message', b, { msg, index });
  }

  // mentions says whether text names our nick as a word.
  mentions(text) {
    if (!this.nick) return false;
    const n = this.nick.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`(^|[^\\w\\[\\]\\\\^{}|\`-])${n}($|[^\\w\\[\\]\\\\^{}|\`-])`, 'i').test(text);
  }
}
