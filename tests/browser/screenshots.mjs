// Makes the screenshots of the web client in docs/: a browser user
// (alice, in #lobby and #dev), a telnet user (carol, in #lobby: a text
// user is in one room at a time) and IRC users (dave and erin, as irssi
// would be) in both rooms, at desktop and phone widths, in the light and
// the dark theme.
//
//   make screenshots     (or: node tests/browser/screenshots.mjs
//                         --parleyd build/parleyd [--out docs])
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { BrowserUser, Server, T, ircUser, textUser } from './lib.mjs';

function arg(name, d) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : d;
}

const out = arg('--out', fileURLToPath(new URL('../../docs/', import.meta.url)));
const server = await new Server(arg('--parleyd', 'build/parleyd')).start();
const browser = await chromium.launch({ executablePath: arg('--chromium', '/usr/bin/chromium') });
try {
  const dave = await ircUser(server, 'dave', ['#lobby', '#dev']);
  dave.send('TOPIC #lobby :Welcome to parley: be kind. Docs: https://example.org/parley');
  dave.send('TOPIC #dev :Hacking on parley: C, SQLite, one epoll loop');
  const carol = await textUser(server, 'carol');
  const erin = await ircUser(server, 'erin', ['#lobby', '#dev']);
  dave.send('MODE #lobby +v carol');
  const alice = await BrowserUser.open(browser, server, 'alice', { context: { viewport: { width: 1280, height: 760 }, timezoneId: 'Europe/Paris' } });
  await alice.say('/join #dev');
  await alice.current('#dev');
  await alice.select('#lobby');
  const lobby = async (say, text) => {
    say(text);
    await alice.sees(text.replace(/^\/me /, '').replace(/^\x01ACTION (.*)\x01$/, '$1'));
  };
  await lobby((t) => carol.send(t), 'morning all');
  await lobby((t) => dave.send(`PRIVMSG #lobby :${t}`), 'morning carol! anyone tried the new web client yet?');
  await lobby((t) => alice.say(t), "I'm on it right now, in the browser");
  await lobby((t) => alice.say(t), '/me waves from the web');
  await lobby((t) => carol.send(t), 'nice. alice: does the history survive a reload?');
  await lobby((t) => alice.say(t), 'yes: I reloaded twice and everything is still here');
  await lobby((t) => erin.send(`PRIVMSG #lobby :${t}`), '\x01ACTION is reading the release notes\x01');
  await lobby((t) => dave.send(`PRIVMSG #lobby :${t}`), 'they are at https://example.org/parley/releases');
  dave.send('PRIVMSG #dev :pushed the websocket framing; review welcome');
  erin.send('PRIVMSG #dev :looking now');
  await alice.room('#dev').locator('.badge').filter({ hasText: '2' }).waitFor({ state: 'attached', timeout: T });
  await alice.page.locator('#input').fill('see you in #dev');
  const shots = [
    ['desktop', 'light', 1280, 760],
    ['desktop', 'dark', 1280, 760],
    ['phone', 'light', 390, 844],
    ['phone', 'dark', 390, 844],
  ];
  for (const [form, scheme, width, height] of shots) {
    await alice.page.setViewportSize({ width, height });
    await alice.page.emulateMedia({ colorScheme: scheme });
    await alice.page.locator('#log').evaluate((log) => log.scrollTo(0, log.scrollHeight));
    const path = join(out, `web-${form}-${scheme}.png`);
    await alice.page.screenshot({ path });
    console.log(`wrote ${path}`);
  }
  alice.check();
  for (const u of [dave, carol, erin]) u.close();
} finally {
  await browser.close();
  await server.close();
}
