// Unit tests of web/js/irc.js: parsing and formatting IRC lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load } from './load.mjs';

const irc = await load('irc.js');

test('parses tags, source, command and a trailing parameter', () => {
  const m = irc.parseLine('@time=2026-11-30T06:54:52.317Z;msgid=123;+x=a\\sb\\:c :alice!~alice@10.0.0.1 PRIVMSG #dev :hello there');
  assert.deepEqual(m.tags, { time: '2026-11-30T06:54:52.317Z', msgid: '123', '+x': 'a b;c' });
  assert.equal(m.nick, 'alice');
  assert.equal(m.user, '~alice');
  assert.equal(m.host, '10.0.0.1');
  assert.equal(m.command, 'PRIVMSG');
  assert.deepEqual(m.params, ['#dev', 'hello there']);
});

test('parses a server source, numerics, empty and colon-led trailing parameters', () => {
  const m = irc.parseLine(':irc.test 353 bob = #dev :@alice +bob carol');
  assert.equal(m.nick, 'irc.test');
  assert.equal(m.user, '');
  assert.deepEqual(m.params, ['bob', '=', '#dev', '@alice +bob carol']);
  assert.deepEqual(irc.parseLine('PRIVMSG #x :').params, ['#x', '']);
  assert.deepEqual(irc.parseLine('PRIVMSG #x ::-)').params, ['#x', ':-)']);
  assert.deepEqual(irc.parseLine('ping  a   b').params, ['a', 'b']);
  assert.equal(irc.parseLine('ping a').command, 'PING');
});

test('keeps a trailing parameter with several spaces as it is', () => {
  assert.deepEqual(irc.parseLine(':a PRIVMSG #x :  two  spaces ').params, ['#x', '  two  spaces ']);
});

test('gives null for lines without a command', () => {
  assert.equal(irc.parseLine(''), null);
  assert.equal(irc.parseLine('@a=b'), null);
  assert.equal(irc.parseLine(':source'), null);
  assert.equal(irc.parseLine('   '), null);
});

test('unescapes tag values as IRCv3 says, dropping a lone backslash', () => {
  assert.equal(irc.unescapeTag('a\\sb\\\\c\\:d\\r\\n'), 'a b\\c;d\r\n');
  assert.equal(irc.unescapeTag('end\\'), 'end');
  assert.equal(irc.unescapeTag('\\x'), 'x');
  assert.equal(irc.unescapeTag(irc.escapeTag('a b;c\\d')), 'a b;c\\d');
});

test('formats lines, quoting the last parameter when needed', () => {
  assert.equal(irc.formatLine('PRIVMSG', ['#dev', 'hi there']), 'PRIVMSG #dev :hi there');
  assert.equal(irc.formatLine('PRIVMSG', ['#dev', ':)']), 'PRIVMSG #dev ::)');
  assert.equal(irc.formatLine('PRIVMSG', ['#dev', '']), 'PRIVMSG #dev :');
  assert.equal(irc.formatLine('JOIN', ['#dev']), 'JOIN #dev');
  assert.equal(irc.formatLine('WHOIS', ['bob'], { label: 'u1' }), '@label=u1 WHOIS bob');
});

test('never lets CR, LF or NUL into a line', () => {
  const line = irc.formatLine('PRIVMSG', ['#dev', 'a\r\nQUIT :x\0y']);
  assert.equal(line, 'PRIVMSG #dev :a  QUIT :x y');
  assert.equal(irc.formatLine('PRIVMSG', ['#d ev', 'x']), 'PRIVMSG #dev x');
});

test('reads CTCP ACTION and other CTCP', () => {
  assert.deepEqual(irc.parseCtcp('\x01ACTION waves\x01'), { action: true, text: 'waves' });
  assert.deepEqual(irc.parseCtcp('\x01ACTION waves'), { action: true, text: 'waves' });
  assert.deepEqual(irc.parseCtcp('\x01VERSION\x01'), { ctcp: 'VERSION', text: '' });
  assert.deepEqual(irc.parseCtcp('plain'), { text: 'plain' });
});

test('strips IRC formatting codes', () => {
  assert.equal(irc.stripFormatting('\x02bold\x02 \x0304,12red\x03 \x1ditalic\x0f \x0399'), 'bold red italic ');
});

test('splits long text between characters within the byte budget', () => {
  const text = 'é'.repeat(300) + '😀'.repeat(100);
  const parts = irc.splitUtf8(text, 100);
  assert.equal(parts.join(''), text);
  for (const p of parts) assert.ok(new TextEncoder().encode(p).length <= 100);
  assert.ok(!parts.some((p) => /^[\udc00-\udfff]|[\ud800-\udbff]$/.test(p)));
  const bodies = irc.messageBodies('#dev', 'x'.repeat(10240), true);
  assert.ok(bodies.length > 20);
  for (const b of bodies) {
    assert.match(b, /^\x01ACTION x+\x01$/);
    assert.ok(irc.formatLine('PRIVMSG', ['#dev', b]).length + 100 <= 510);
  }
});

test('knows channels and folds case the ascii way', () => {
  assert.ok(irc.isChannel('#dev'));
  assert.ok(irc.isChannel('@#dev'));
  assert.ok(!irc.isChannel('bob'));
  assert.equal(irc.lower('Bob[]'), 'bob[]');
  assert.equal(irc.lower('ÉA'), 'Éa');
});

// A small deterministic generator, so that a failure can be replayed.
function rng(seed) {
  return () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
}

test('random lines never throw, and what formatLine writes parses back the same', () => {
  const rand = rng(14);
  const alphabet = ['a', 'B', '#', ':', ' ', '@', '!', '=', ';', '\\', '\x01', 'é', '😀', '\u202e', '\r', '\n', '\0', '*'];
  const word = (n) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
  for (let i = 0; i < 5000; i++) {
    const m = irc.parseLine(word(Math.floor(rand() * 40)));
    if (m) assert.equal(typeof m.command, 'string');
    const params = Array.from({ length: Math.floor(rand() * 4) }, () => word(1 + Math.floor(rand() * 8)).replace(/^:/, 'x'));
    const last = word(Math.floor(rand() * 20));
    const line = irc.formatLine('PRIVMSG', [...params, last]);
    assert.ok(!/[\r\n\0]/.test(line), JSON.stringify(line));
    const back = irc.parseLine(line);
    const clean = (s) => s.replace(/[\r\n\0]/g, ' ');
    const middles = params.map((p) => clean(p).replace(/ /g, '').replace(/^:+/, '')).filter(Boolean);
    assert.deepEqual(back.params, [...middles, clean(last)], JSON.stringify(line));
  }
});
