// Drawing the state into the page. Every piece of text from the network
// becomes a text node (textContent) or an <a> built here: no markup from
// a message ever reaches the DOM. Nicks sit in <bdi>, texts in dir="auto"
// elements, so right-to-left text and stray bidi controls stay inside.
import { findLinks } from './links.js';
import { stripFormatting } from './irc.js';

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

// nickColour picks one of eight colour classes from the nick, so a nick
// keeps its colour.
export function nickColour(nick) {
  let h = 0;
  for (const c of nick.toLowerCase()) h = (h * 31 + c.codePointAt(0)) >>> 0;
  return 'c' + (h % 8);
}

// richText appends text to parent, its http(s) URLs as links.
export function richText(parent, text) {
  for (const piece of findLinks(stripFormatting(text))) {
    if (!piece.href) {
      parent.append(document.createTextNode(piece.text));
      continue;
    }
    const a = el('a', null, piece.text);
    a.href = piece.href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    parent.append(a);
  }
}

// timeNode shows a message's time in the user's zone: the time of day,
// with the date in front when it was not today.
function timeNode(iso) {
  const d = new Date(iso);
  let text = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (d.toDateString() !== new Date().toDateString()) text = `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${text}`;
  const t = el('time', 'ts', text);
  t.dateTime = iso;
  t.title = d.toLocaleString();
  return t;
}

// messageNode builds the <li> of one message.
export function messageNode(msg) {
  const li = el('li', `msg ${msg.kind}`);
  if (msg.msgid) li.dataset.msgid = msg.msgid;
  if (msg.mention) li.classList.add('mention');
  if (msg.self) li.classList.add('self');
  li.append(timeNode(msg.time));
  if (msg.kind === 'privmsg' || msg.kind === 'notice') {
    const nick = el('bdi', `nick ${nickColour(msg.nick)}`, msg.nick);
    li.append(nick);
  } else if (msg.kind === 'action') {
    li.append(el('span', 'star', '*'), el('bdi', `nick ${nickColour(msg.nick)}`, msg.nick));
  }
  const body = el('span', 'text');
  body.dir = 'auto';
  richText(body, msg.text);
  li.append(body);
  return li;
}

// renderLog redraws the log of buffer b.
export function renderLog(b) {
  const log = $('log');
  log.replaceChildren(...b.messages.map(messageNode));
  log.scrollTop = log.scrollHeight;
  $('older').hidden = b.kind === 'server' || b.historyDone;
}

// insertMessage adds one message at its place in the shown log; it keeps
// the view at the bottom if it was there, and still otherwise.
export function insertMessage(b, msg, index) {
  const log = $('log');
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  // The buffer may have dropped its oldest message to make room.
  for (let extra = log.children.length - (b.messages.length - 1); extra > 0; extra--) log.firstElementChild.remove();
  const before = log.scrollHeight;
  const node = messageNode(msg);
  log.insertBefore(node, log.children[index] || null);
  if (atBottom && index === log.children.length - 1) log.scrollTop = log.scrollHeight;
  else if (index < log.children.length - 1 && log.scrollTop < 40) log.scrollTop += log.scrollHeight - before;
}

// renderRooms redraws the room list: name, unread count, mention mark.
export function renderRooms(state) {
  const list = $('room-list');
  let unread = 0;
  let mention = false;
  list.replaceChildren(
    ...state.list().map((b) => {
      const li = el('li');
      const a = el('a', `room ${b.kind}`);
      a.href = '#' + encodeURIComponent(b.name);
      a.dataset.key = b.key;
      if (b === state.current) a.setAttribute('aria-current', 'page');
      if (b.kind !== 'server' && !b.joined && b.kind === 'channel') a.classList.add('parted');
      a.append(el('bdi', 'name', b.kind === 'server' ? 'server' : b.name));
      if (b.unread) {
        const badge = el('span', b.mention ? 'badge mention' : 'badge', String(b.unread));
        badge.setAttribute('aria-label', `${b.unread} unread${b.mention ? ', mentioned' : ''}`);
        a.append(badge);
      }
      unread += b.unread;
      mention = mention || b.mention;
      li.append(a);
      return li;
    }),
  );
  const badge = $('rooms-badge');
  badge.hidden = !unread;
  badge.textContent = unread ? String(unread) : '';
  badge.classList.toggle('mention', mention);
}

// renderHeader shows the buffer's name and topic.
export function renderHeader(b) {
  $('buffer-name').firstElementChild.textContent = b.kind === 'server' ? 'server' : b.name;
  const topic = $('topic');
  topic.replaceChildren();
  richText(topic, b.kind === 'channel' ? b.topic : b.kind === 'query' ? 'private conversation' : 'messages from the server');
  document.title = `${b.kind === 'server' ? 'parley' : b.name} - parley`;
}

// renderMembers lists the members of b, operators first, then voiced.
export function renderMembers(b) {
  const members = b.kind === 'channel' ? b.sortedMembers() : [];
  $('member-count').textContent = members.length ? `(${members.length})` : '';
  $('member-list').replaceChildren(
    ...members.map((m) => {
      const li = el('li', 'member');
      if (m.away) li.classList.add('away');
      const mark = m.prefix.includes('@') ? '@' : m.prefix.includes('+') ? '+' : '';
      const p = el('span', 'prefix', mark);
      if (mark) p.title = mark === '@' ? 'operator' : 'voice';
      li.append(p, el('bdi', `nick ${nickColour(m.nick)}`, m.nick));
      li.setAttribute('aria-label', `${m.nick}${mark === '@' ? ', operator' : mark === '+' ? ', voice' : ''}${m.away ? ', away' : ''}`);
      return li;
    }),
  );
}

// setStatus shows the connection's state in the header.
export function setStatus(text, bad) {
  const s = $('status');
  s.textContent = text;
  s.classList.toggle('bad', !!bad);
}
