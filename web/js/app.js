// The page: wires the connection, the IRC client, the state and the views
// together, and handles the keyboard, the drawers and the dialogs.
import { Connection, ircUrl } from './conn.js';
import { Client } from './client.js';
import { history } from './history.js';
import { run } from './commands.js';
import { State } from './state.js';
import { lower } from './irc.js';
import * as view from './view.js';
import { initKeys } from './keys.js';

const $ = (id) => document.getElementById(id);
const store = {
  get: (k, d) => {
    try {
      return JSON.parse(localStorage.getItem('parley.' + k)) ?? d;
    } catch {
      return d;
    }
  },
  set: (k, v) => localStorage.setItem('parley.' + k, JSON.stringify(v)),
};
export const NICK_RE = /^[A-Za-z_\]\\^{}|`][A-Za-z0-9_\-[\]\\^{}|`]{0,31}$/;

const state = new State();
const app = { state, selectOnJoin: store.get('current', '#lobby') };
const conn = new Connection(ircUrl(location), {
  open: () => app.client.connected(store.get('nick', '')),
  line: (line) => app.client.handle(line),
  close: (info) => {
    for (const b of state.buffers.values()) b.joined = false;
    view.renderRooms(state);
    $('reconnect').hidden = false;
    if (info.retryInMs === null) view.setStatus('disconnected', true);
    else view.setStatus(`disconnected: trying again in ${Math.ceil(info.retryInMs / 1000)} s`, true);
  },
  status: (s) => view.setStatus(s === 'connecting' ? 'connecting…' : s),
});
app.send = (line) => conn.send(line);
// app.command sends a command typed in the current buffer, or says there
// that it could not.
app.command = (cmd, params) => {
  if (app.client.command(state.current, cmd, params)) return true;
  app.client.system(state.current, 'Not connected: nothing was sent.', {}, 'error');
  return false;
};
app.quit = (reason) => {
  app.command('QUIT', [reason]);
  conn.stop();
};

app.client = new Client(state, app.send, {
  askNick: (reason) => askNick(reason),
  registered: () => {
    conn.registered();
    store.set('nick', state.nick);
    view.setStatus('');
    $('reconnect').hidden = true;
    if ($('nick-dialog').open) {
      $('nick-dialog').close();
      $('input').focus();
    }
  },
  rooms: () => store.get('rooms', null),
  joined: (b) => {
    if (b.joined && app.selectOnJoin && lower(app.selectOnJoin) === b.key) {
      app.selectOnJoin = null;
      state.select(b);
    }
    saveRooms();
  },
  notify: (b, msg) => notify(b, msg),
});

function saveRooms() {
  const rooms = [...state.buffers.values()].filter((b) => b.kind === 'channel' && b.wanted).map((b) => b.name);
  store.set('rooms', rooms);
}

// Redrawing the room list is coalesced: many changes, one redraw.
let roomsQueued = false;
function queueRooms() {
  if (roomsQueued) return;
  roomsQueued = true;
  queueMicrotask(() => {
    roomsQueued = false;
    view.renderRooms(state);
  });
}

state.onChange((what, b, extra) => {
  const current = b === state.current;
  if (what === 'buffers') queueRooms();
  else if (what === 'select') {
    view.renderHeader(b);
    view.renderLog(b);
    view.renderMembers(b);
    if (b.kind !== 'server') store.set('current', b.name);
    if (b.kind !== 'server' && !b.messages.some((m) => m.stored)) history.fill(app.client, b);
  } else if (what === 'message' && current) view.insertMessage(b, extra.msg, extra.index);
  else if (what === 'members' && current) view.renderMembers(b);
  else if (what === 'topic' && current) view.renderHeader(b);
  else if (what === 'history' && current) $('older').hidden = b.historyDone || b.kind === 'server';
});

function askNick(reason) {
  $('nick-error').textContent = reason || '';
  $('nick-input').value = store.get('nick', '');
  if (!$('nick-dialog').open) $('nick-dialog').showModal();
  $('nick-input').focus();
}

$('nick-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const nick = $('nick-input').value.trim();
  if (!NICK_RE.test(nick)) {
    $('nick-error').textContent = 'A nick is 1-32 letters, digits or _-[]\\^{}|` and starts with a letter.';
    return;
  }
  store.set('nick', nick);
  $('nick-dialog').close();
  $('input').focus();
  if (conn.connected()) app.send(`NICK ${nick}`);
  else conn.start();
});
$('nick-dialog').addEventListener('cancel', (ev) => ev.preventDefault());

function notify(b, msg) {
  if (!store.get('notify', false) || !('Notification' in window) || Notification.permission !== 'granted') return;
  if (!document.hidden && b === state.current) return;
  let n;
  try {
    n = new Notification(`${msg.nick} in ${b.name}`, { body: msg.text, tag: b.key });
  } catch {
    return; // Android's Chrome only notifies through a service worker.
  }
  n.onclick = () => {
    window.focus();
    state.select(b);
  };
}

function initNotifyButton() {
  const btn = $('notify');
  if (!('Notification' in window)) {
    btn.hidden = true;
    return;
  }
  const show = () => btn.setAttribute('aria-pressed', String(store.get('notify', false) && Notification.permission === 'granted'));
  btn.addEventListener('click', async () => {
    if (btn.getAttribute('aria-pressed') === 'true') store.set('notify', false);
    else store.set('notify', (await Notification.requestPermission()) === 'granted');
    show();
  });
  show();
}

$('send-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = $('input');
  const line = input.value;
  if (!line.trim()) return;
  app.recall.push(line);
  input.value = '';
  run(app, line);
});

$('join-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const name = $('join-input').value.trim();
  if (!name) return;
  $('join-input').value = '';
  run(app, `/join ${name}`);
  $('input').focus();
});

$('log').addEventListener('scroll', () => {
  if ($('log').scrollTop < 60) history.older(app.client, state.current);
});
$('older').addEventListener('click', () => history.older(app.client, state.current));
$('reconnect').addEventListener('click', () => conn.start());

initKeys(app);
initNotifyButton();
view.renderRooms(state);
view.renderHeader(state.current);
view.renderLog(state.current);
if (store.get('nick', '')) {
  conn.start();
  $('input').focus();
}
else askNick('');
window.parley = app; // for the browser tests and the curious
