// Unit tests of web/js/client.js and history.js: server lines in, state
// and lines to send out, without a browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load } from './load.mjs';

const { Client } = await load('client.js');
const { State } = await load('state.js');

function setup() {
  const sent = [];
  const state = new State();
  const notes = [];
  const ui = { askNick: (r) => notes.push(`ask ${r}`), registered() {}, rooms: () => ['#lobby', '#dev'], joined() {}, notify: (b, m) => notes.push(`${b.name} ${m.text}`) };
  const client = new Client(state, (l) => sent.push(l), ui);
  const feed = (...lines) => lines.forEach((l) => client.handle(l));
  return { sent, state, client, feed, notes };
}

const ALL_CAPS = ':irc.test CAP * LS :away-notify batch draft/chathistory echo-message labeled-response message-tags multi-prefix server-time';

test('registers, asks for the capabilities offered, and joins #lobby and the saved rooms', () => {
  const { sent, client, feed, state } = setup();
  client.connected('alice');
  assert.deepEqual(sent.splice(0), ['CAP LS 302', 'NICK alice', 'USER alice 0 * :parley web']);
  feed(ALL_CAPS);
  assert.equal(sent.shift(), 'CAP REQ :message-tags server-time echo-message multi-prefix away-notify batch labeled-response draft/chathistory');
  feed(':irc.test CAP * ACK :message-tags server-time echo-message batch labeled-response draft/chathistory');
  assert.equal(sent.shift(), 'CAP END');
  feed(':irc.test 001 alice :Welcome');
  assert.equal(state.nick, 'alice');
  assert.equal(sent.shift(), 'JOIN #lobby,#dev');
  assert.match(sent.shift(), /^CHATHISTORY TARGETS timestamp=\S+ timestamp=2000-01-01T00:00:00.000Z 50$/);
});

test('a first visit joins #lobby; later ones the rooms kept, #lobby or not', () => {
  for (const [kept, join] of [[null, 'JOIN #lobby'], [['#dev'], 'JOIN #dev']]) {
    const { client, feed, sent } = setup();
    client.ui.rooms = () => kept;
    client.connected('alice');
    feed(':irc.test CAP * LS :batch', ':irc.test 001 alice :hi');
    assert.ok(sent.includes(join), sent.join(' | '));
  }
});

test('a nick in use before registration asks for another', () => {
  const { client, feed, notes } = setup();
  client.connected('alice');
  feed(':irc.test 433 * alice :Nickname is already in use');
  assert.deepEqual(notes, ['ask alice: Nickname is already in use']);
});

test('tracks members, their prefixes, modes, nick changes and departures', () => {
  const { client, feed, state, sent } = setup();
  client.connected('alice');
  feed(ALL_CAPS, ':irc.test CAP * ACK :multi-prefix userhost-in-names draft/chathistory batch', ':irc.test 001 alice :hi');
  feed(':alice!~a@h JOIN #dev', ':irc.test 353 alice = #dev :@+dave!~d@h alice!~a@h carol!~t@h', ':irc.test 366 alice #dev :End');
  const b = state.find('#DEV');
  assert.deepEqual(b.sortedMembers().map((m) => m.prefix + m.nick), ['@+dave', 'alice', 'carol']);
  assert.ok(sent.includes('CHATHISTORY LATEST #dev * 50'));
  feed(':dave!~d@h MODE #dev +v-o+b carol dave *!*@x');
  assert.deepEqual(b.sortedMembers().map((m) => m.prefix + m.nick), ['+carol', '+dave', 'alice']);
  feed(':carol!~t@h NICK caroline', ':dave!~d@h PART #dev :bye');
  assert.deepEqual(b.sortedMembers().map((m) => m.prefix + m.nick), ['+caroline', 'alice']);
  feed(':caroline!~t@h QUIT :gone');
  assert.deepEqual(b.sortedMembers().map((m) => m.nick), ['alice']);
});

test('messages: channel, private, action, mention, echo; CTCP other than ACTION is not shown', () => {
  const { client, feed, state, notes } = setup();
  client.connected('alice');
  feed(ALL_CAPS, ':irc.test 001 alice :hi', ':alice!~a@h JOIN #dev');
  feed('@time=2026-01-01T10:00:00.000Z;msgid=5 :bob!~b@h PRIVMSG #dev :hi alice!');
  feed('@time=2026-01-01T10:00:01.000Z;msgid=6 :bob!~b@h PRIVMSG alice :\x01ACTION whispers\x01');
  feed('@time=2026-01-01T10:00:02.000Z;msgid=7 :alice!~a@h PRIVMSG bob :hush');
  feed(':bob!~b@h PRIVMSG alice :\x01VERSION\x01');
  feed(':irc.test NOTICE alice :server notice');
  const dev = state.find('#dev');
  assert.deepEqual(dev.messages.map((m) => [m.kind, m.nick, m.text, m.mention]), [['privmsg', 'bob', 'hi alice!', true]]);
  const q = state.find('bob');
  assert.deepEqual(q.messages.map((m) => [m.kind, m.nick, m.text, m.self]), [['action', 'bob', 'whispers', false], ['privmsg', 'alice', 'hush', true]]);
  assert.equal(q.unread, 1);
  assert.deepEqual(notes, ['#dev hi alice!', 'bob whispers']);
  assert.ok(state.server.messages.some((m) => m.text === 'server notice'));
  assert.equal(state.find('irc.test'), undefined);
});

test('history batches fill a buffer in order, once, and know when the start is reached', () => {
  const { client, feed, state, sent } = setup();
  client.connected('alice');
  feed(ALL_CAPS, ':irc.test CAP * ACK :batch draft/chathistory message-tags', ':irc.test 001 alice :hi', ':alice!~a@h JOIN #dev');
  assert.equal(sent.pop(), 'CHATHISTORY LATEST #dev * 50');
  feed(':irc.test BATCH +b1 chathistory #dev');
  feed('@batch=b1;time=2026-01-01T10:00:00.000Z;msgid=10 :bob!~b@h PRIVMSG #dev :one');
  feed('@batch=b1;time=2026-01-01T10:00:01.000Z;msgid=11 :bob!~b@h PRIVMSG #dev :two');
  const b = state.find('#dev');
  assert.equal(b.messages.length, 0);
  feed(':irc.test BATCH -b1');
  feed('@time=2026-01-01T10:00:01.000Z;msgid=11 :bob!~b@h PRIVMSG #dev :two');
  assert.deepEqual(b.messages.map((m) => m.text), ['one', 'two']);
  assert.equal(b.unread, 0);
  assert.equal(b.historyDone, true);
  // A reconnect asks for what came after the newest message.
  client.connected('alice');
  feed(ALL_CAPS, ':irc.test CAP * ACK :batch draft/chathistory', ':irc.test 001 alice :hi', ':alice!~a@h JOIN #dev');
  assert.equal(sent.pop(), 'CHATHISTORY AFTER #dev msgid=11 50');
});
