// Unit tests of the reconnect backoff (web/js/conn.js) and of message
// ordering in a buffer (web/js/state.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load } from './load.mjs';

const conn = await load('conn.js');
const { Buffer } = await load('state.js');

test('backoff doubles, is capped, and keeps half its jitter', () => {
  assert.equal(conn.backoffDelay(0, () => 0), conn.BACKOFF_FIRST_MS / 2);
  assert.equal(conn.backoffDelay(0, () => 1), conn.BACKOFF_FIRST_MS);
  assert.equal(conn.backoffDelay(3, () => 1), conn.BACKOFF_FIRST_MS * 8);
  assert.equal(conn.backoffDelay(50, () => 1), conn.BACKOFF_MAX_MS);
  assert.equal(conn.backoffDelay(50, () => 0), conn.BACKOFF_MAX_MS / 2);
});

test('the endpoint follows the page: ws for http, wss for https', () => {
  assert.equal(conn.ircUrl({ protocol: 'http:', host: 'h:8080' }), 'ws://h:8080/irc');
  assert.equal(conn.ircUrl({ protocol: 'https:', host: 'h' }), 'wss://h/irc');
});

test('a buffer keeps messages in time then msgid order, once each', () => {
  const b = new Buffer('#dev', 'channel');
  const m = (time, msgid, seq) => ({ time: `2026-01-01T00:00:0${time}.000Z`, msgid, seq, stored: true });
  b.add(m(5, '105', 1));
  b.add(m(1, '101', 2));
  b.add(m(5, '99', 3));
  b.add(m(5, '105.1', 4));
  assert.equal(b.add(m(5, '105', 5)), -1);
  assert.deepEqual(b.messages.map((x) => x.msgid), ['101', '99', '105', '105.1']);
  assert.equal(b.oldest().msgid, '101');
  assert.equal(b.newest().msgid, '105.1');
});
