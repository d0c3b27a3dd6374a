// Unit tests of web/js/links.js: which parts of a message become links.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load } from './load.mjs';

const { findLinks, safeHref } = await load('links.js');

const links = (text) => findLinks(text).filter((p) => p.href).map((p) => p.href);

test('finds http and https URLs and keeps all the text', () => {
  const text = 'see https://example.com/a?b=1#c and http://x.org too';
  const pieces = findLinks(text);
  assert.equal(pieces.map((p) => p.text).join(''), text);
  assert.deepEqual(links(text), ['https://example.com/a?b=1#c', 'http://x.org/']);
});

test('leaves trailing punctuation and unbalanced brackets out', () => {
  assert.deepEqual(links('(see https://example.com/x).'), ['https://example.com/x']);
  assert.deepEqual(links('https://en.wikipedia.org/wiki/Foo_(bar), yes'), ['https://en.wikipedia.org/wiki/Foo_(bar)']);
  assert.deepEqual(links('"https://example.com/q"!'), ['https://example.com/q']);
});

test('never links other schemes', () => {
  for (const t of ['javascript:alert(1)', 'data:text/html,<b>x</b>', 'file:///etc/passwd', 'vbscript:x', 'ftp://x.org/']) {
    assert.deepEqual(links(t), [], t);
    assert.equal(safeHref(t), null, t);
  }
  assert.deepEqual(links('xhttps://example.com'), []);
});

test('stops at markup characters and bidi controls', () => {
  assert.deepEqual(links('https://example.com/<img src=x onerror=alert(1)>'), ['https://example.com/']);
  assert.deepEqual(links('https://example.com/\u202egnp.exe'), ['https://example.com/']);
  assert.deepEqual(links('https://example.com/"onmouseover="x'), ['https://example.com/']);
});

test('gives one text piece for text without links, even empty', () => {
  assert.deepEqual(findLinks('plain'), [{ text: 'plain' }]);
  assert.deepEqual(findLinks(''), [{ text: '' }]);
  assert.deepEqual(findLinks('https://'), [{ text: 'https://' }]);
});

test('handles many URLs and long lines quickly', () => {
  const text = 'https://a.example/ '.repeat(500) + 'x'.repeat(10000);
  const t0 = Date.now();
  assert.equal(links(text).length, 500);
  assert.ok(Date.now() - t0 < 2000);
});

test('random text always comes back whole, and every link is http(s)', () => {
  let seed = 14;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const bits = ['http://', 'https://', 'a.b', '/', '(', ')', '.', ' ', '<', '"', 'javascript:', 'é', '\u202e', 'x'];
  for (let i = 0; i < 3000; i++) {
    const text = Array.from({ length: Math.floor(rand() * 12) }, () => bits[Math.floor(rand() * bits.length)]).join('');
    const pieces = findLinks(text);
    assert.equal(pieces.map((p) => p.text).join(''), text);
    for (const p of pieces) if (p.href) assert.match(p.href, /^https?:\/\//);
  }
});
