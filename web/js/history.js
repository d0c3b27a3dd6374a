// History through IRCv3 draft/chathistory: the latest messages on join,
// older ones on scrolling up, and the gap after a reconnect (AFTER the
// last message seen). One request per target at a time; the answer is a
// chathistory batch, which Client gathers and hands to done().
import { formatLine, isChannel, lower } from './irc.js';

export const PAGE = 50;
const MAX_ROUNDS = 20;

function request(client, b, sub, ref, round = 0) {
  if (!client.caps.has('draft/chathistory') || b.loadingHistory) return false;
  b.loadingHistory = true;
  client.pending.set(b.key, { b, sub, round });
  client.send(formatLine('CHATHISTORY', [sub, b.name, ref, String(PAGE)]));
  client.state.emit('history', b);
  return true;
}

export const history = {
  // fill asks for what b lacks: the latest page, or what came after the
  // newest message we have (after a reconnect).
  fill(client, b) {
    const last = b.newest();
    if (last) request(client, b, 'AFTER', `msgid=${last.msgid}`);
    else request(client, b, 'LATEST', '*');
  },

  // older asks for the page before the oldest message we have.
  older(client, b) {
    if (b.historyDone || b.kind === 'server') return false;
    const first = b.oldest();
    return request(client, b, 'BEFORE', first ? `msgid=${first.msgid}` : `timestamp=${new Date().toISOString()}`);
  },

  // targets lists the private conversations the server kept for us.
  targets(client) {
    if (!client.caps.has('draft/chathistory')) return;
    const from = new Date(Date.now() + 60000).toISOString();
    client.send(formatLine('CHATHISTORY', ['TARGETS', `timestamp=${from}`, 'timestamp=2000-01-01T00:00:00.000Z', String(PAGE)]));
  },

  // done takes a finished batch of history (or of targets).
  done(client, batch) {
    if (batch.type === 'draft/chathistory-targets') {
      for (const m of batch.lines) {
        const name = m.params[1];
        if (m.command !== 'CHATHISTORY' || !name || isChannel(name)) continue;
        const b = client.state.buffer(name, 'query');
        if (!b.newest()) history.fill(client, b);
      }
      return;
    }
    let count = 0;
    for (const m of batch.lines) {
      if (m.command !== 'PRIVMSG' && m.command !== 'NOTICE') continue;
      count++;
      client.message(m, false);
    }
    const req = client.pending.get(lower(batch.params[0] || ''));
    if (!req) return;
    client.pending.delete(req.b.key);
    req.b.loadingHistory = false;
    if (req.sub !== 'AFTER' && count < PAGE) req.b.historyDone = true;
    client.state.emit('history', req.b);
    if (req.sub === 'AFTER' && count >= PAGE && req.round < MAX_ROUNDS) {
      request(client, req.b, 'AFTER', `msgid=${req.b.newest().msgid}`, req.round + 1);
    }
  },

  // failed ends the request a FAIL CHATHISTORY answers.
  failed(client, m) {
    const target = m.params.length > 4 ? m.params[3] : '';
    for (const [key, req] of client.pending) {
      if (target && key !== lower(target)) continue;
      client.pending.delete(key);
      req.b.loadingHistory = false;
      req.b.historyDone = true;
      client.state.emit('history', req.b);
    }
  },
};
