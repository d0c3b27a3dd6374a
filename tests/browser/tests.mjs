// The end-to-end tests of the web client. Each one gets a fresh parleyd
// (with a database of its own) and real users: browsers, text protocol
// users and IRC users over plain TCP. No sleeps: every wait is for a
// condition, with a generous budget.
import assert from 'node:assert/strict';
import { BrowserUser, Server, T, freePort, hasWebListener, ircUser, textUser, until } from './lib.mjs';

async function server(ctx, opts) {
  const s = new Server(ctx.parleyd, opts);
  ctx.defer(() => s.close());
  return s.start();
}

async function browserUser(ctx, s, nick, opts) {
  const u = await BrowserUser.open(ctx.browser, s, nick, opts);
  ctx.defer(() => u.close());
  return u;
}

function tcp(ctx, u) {
  ctx.defer(async () => u.close());
  return u;
}

// logTexts gives the texts of the messages shown in the log.
function logTexts(u) {
  return u.page.locator('#log li .text').allTextContents();
}

export const TESTS = {
  // The page loads under the server's Content-Security-Policy with no
  // console error, joins #lobby and shows the ARIA landmarks.
  async load_clean(ctx) {
    const s = await server(ctx);
    const u = await browserUser(ctx, s, 'alice');
    const p = u.page;
    await p.getByRole('log', { name: 'Messages' }).waitFor({ timeout: T });
    assert.equal(await p.locator('#log').getAttribute('aria-live'), 'polite');
    await p.getByRole('navigation', { name: 'Rooms' }).waitFor({ timeout: T });
    await p.getByRole('textbox', { name: 'Message' }).waitFor({ timeout: T });
    await p.getByRole('complementary', { name: /Members/ }).getByText('alice').waitFor({ timeout: T });
    assert.equal(await p.evaluate(() => localStorage.getItem('parley.nick')), '"alice"');
    u.check();
  },

  // Two browser users, a text user and an IRC user in #lobby each see
  // what the three others say.
  async four_users(ctx) {
    const s = await server(ctx);
    const alice = await browserUser(ctx, s, 'alice');
    const bob = await browserUser(ctx, s, 'bob', { context: { timezoneId: 'Asia/Kolkata', locale: 'en-GB' } });
    const carol = tcp(ctx, await textUser(s, 'carol'));
    const dave = tcp(ctx, await ircUser(s, 'dave'));
    await alice.page.locator('#member-list').getByText('dave').waitFor({ timeout: T });
    await alice.say('hello from alice');
    await bob.say('hello from bob');
    carol.send('hello from carol');
    dave.send('PRIVMSG #lobby :hello from dave');
    for (const u of [alice, bob]) for (const who of ['alice', 'bob', 'carol', 'dave']) await u.sees(`hello from ${who}`);
    for (const who of ['alice', 'bob', 'dave']) await carol.waitFor(new RegExp(`^\\[${who}\\]: hello from ${who}$`));
    for (const who of ['alice', 'bob', 'carol']) await dave.waitFor(new RegExp(`^:${who}!\\S+ PRIVMSG #lobby :hello from ${who}$`));
    // bob's times are in his zone (UTC+05:30), from the server's time.
    const time = bob.line('hello from dave').locator('time');
    const iso = await time.getAttribute('datetime');
    const local = new Date(iso).toLocaleTimeString('en-GB', { timeZone: 'Asia/Kolkata', hour: '2-digit', minute: '2-digit' });
    assert.ok((await time.textContent()).endsWith(local), `${await time.textContent()} is not ${local}`);
    await alice.say('/me waves');
    await carol.waitFor(/^\[\* alice\] waves$/);
    await dave.waitFor(/^:alice!\S+ PRIVMSG #lobby :\x01ACTION waves\x01$/);
    dave.send('PRIVMSG #lobby :\x01ACTION nods\x01');
    await bob.page.locator('#log li.action', { hasText: 'nods' }).waitFor({ timeout: T });
    assert.equal(await bob.page.locator('#log li.action', { hasText: 'nods' }).locator('.nick').textContent(), 'dave');
    alice.check();
    bob.check();
  },

  // Reloading the page brings back the nick, the rooms and their history;
  // scrolling up loads older pages until the start.
  async history_after_reload(ctx) {
    const s = await server(ctx, { args: ['--flood-burst', '200'] });
    const dave = tcp(ctx, await ircUser(s, 'dave', ['#lobby', '#dev']));
    for (let i = 1; i <= 120; i++) dave.send(`PRIVMSG #dev :dev line ${i}`);
    const alice = await browserUser(ctx, s, 'alice');
    await alice.say('/join #dev');
    await alice.sees('dev line 120');
    assert.equal((await logTexts(alice)).filter((t) => t.startsWith('dev line')).length, 50);
    await alice.say('said before the reload');
    await alice.sees('said before the reload');
    await alice.page.reload();
    await alice.current('#dev');
    await alice.sees('said before the reload');
    await alice.sees('dev line 80');
    for (let round = 0; round < 5; round++) {
      const shown = (await logTexts(alice)).filter((t) => t.startsWith('dev line')).length;
      if (shown === 120) break;
      await alice.page.locator('#log').evaluate((log) => log.scrollTo(0, 0));
      await until(async () => (await logTexts(alice)).filter((t) => t.startsWith('dev line')).length > shown, 'older messages');
    }
    const texts = (await logTexts(alice)).filter((t) => t.startsWith('dev line'));
    assert.deepEqual(texts, Array.from({ length: 120 }, (_, i) => `dev line ${i + 1}`));
    await alice.page.locator('#older[hidden]').waitFor({ state: 'attached', timeout: T });
    alice.check();
  },

  // After a server restart the client reconnects by itself (backoff) and
  // fills the gap from history: what was said while it was away shows
  // once, in order. Between the two restarts the server runs on other
  // ports, so the browser cannot come back before the gap is said.
  async reconnect_after_restart(ctx) {
    const s = await server(ctx);
    const allow = [/WebSocket connection to .* failed/, /Failed to load resource/, /ERR_CONNECTION_REFUSED/];
    const alice = await browserUser(ctx, s, 'alice', { allowConsole: allow });
    await alice.say('/join #dev');
    await alice.current('#dev');
    await alice.say('before the restart');
    await alice.sees('before the restart');
    await s.stop();
    await alice.page.locator('#status', { hasText: 'disconnected' }).waitFor({ timeout: T });
    await alice.say('typed while away');
    await alice.page.locator('#log li.error', { hasText: 'Not connected: nothing was sent.' }).waitFor({ timeout: T });
    const gap = new Server(ctx.parleyd);
    gap.db = s.db;
    gap.ports = { irc: await freePort(), text: await freePort(), http: await freePort() };
    await gap.start();
    const dave = await ircUser(gap, 'dave', ['#dev']);
    for (let i = 1; i <= 3; i++) dave.send(`PRIVMSG #dev :said in the gap ${i}`);
    dave.send('QUIT :bye');
    await dave.waitFor(/^ERROR /);
    dave.close();
    await gap.close();
    await s.start();
    await until(async () => (await alice.page.locator('#status').textContent()) === '', 'the client to reconnect', 2 * T);
    await alice.sees('said in the gap 3', 2 * T);
    const texts = await logTexts(alice);
    const mine = texts.filter((t) => /before the restart|said in the gap/.test(t));
    assert.deepEqual(mine, ['before the restart', 'said in the gap 1', 'said in the gap 2', 'said in the gap 3']);
    await alice.say('after the restart');
    const carol = tcp(ctx, await textUser(s, 'carol'));
    carol.send('/join #dev');
    await carol.waitFor(/^\d\d:\d\d \[alice\]: after the restart$/);
    alice.check();
  },

  // Markup, bidi overrides and a 10 KB line are shown as text: no
  // element is made from them, no dialog fires, nothing overflows.
  async hostile_message(ctx) {
    const s = await server(ctx, { args: ['--flood-burst', '100'] });
    const alice = await browserUser(ctx, s, 'alice');
    const bob = await browserUser(ctx, s, 'bob');
    const dave = tcp(ctx, await ircUser(s, 'dave'));
    const carol = tcp(ctx, await textUser(s, 'carol'));
    const xss = '<img src=x onerror=alert(1)><script>alert(2)</script>';
    const rtl = 'invoice\u202Etxt.exe \u2067nested \u05e9\u05dc\u05d5\u05dd';
    dave.send(`PRIVMSG #lobby :${xss}`);
    dave.send(`PRIVMSG #lobby :${rtl}`);
    dave.send('PRIVMSG #lobby :javascript:alert(3) http://ok.example/"onclick="alert(4)');
    const big = Array.from({ length: 1024 }, (_, i) => `w${String(i).padStart(8, '0')}`).join('');
    await alice.say(big);
    carol.send('c'.repeat(4000));
    // An IRC client's 10 KB line is refused by the server (417): nobody
    // sees any of it, and what follows still arrives.
    dave.send(`PRIVMSG #lobby :${'z'.repeat(10240)}`);
    await dave.waitFor(/ 417 dave /);
    dave.send('PRIVMSG #lobby :after the long line');
    await alice.sees(xss);
    const seen = await carol.waitFor(/invoice/);
    const cleanRtl = seen.replace(/^\[dave\]: /, '');
    await alice.sees(cleanRtl);
    for (const u of [alice, bob]) {
      await u.sees('c'.repeat(100));
      await u.sees(big.slice(-40));
      await u.sees('after the long line');
      assert.equal(await u.line('zzzzzzzzzz').count(), 0);
      assert.equal(await u.page.locator('#log img, #log script, #log [onerror], #log [onclick]').count(), 0);
      assert.equal(await u.line(xss).locator('.text').textContent(), xss);
      const rtlLine = u.line(cleanRtl).locator('.text');
      assert.equal(await rtlLine.getAttribute('dir'), 'auto');
      const hrefs = await u.page.locator('#log a').evaluateAll((as) => as.map((a) => [a.getAttribute('href'), a.rel]));
      assert.deepEqual(hrefs, [['http://ok.example/', 'noopener noreferrer']]);
      const said = (nick) => u.page.locator('#log li.privmsg').evaluateAll((lis, n) => lis.filter((li) => li.querySelector('.nick').textContent === n).map((li) => li.querySelector('.text').textContent), nick);
      assert.equal((await said('alice')).join(''), big);
      assert.equal((await said('carol')).join(''), 'c'.repeat(4000));
      const overflow = await u.page.locator('#log').evaluate((log) => log.scrollWidth - log.clientWidth);
      assert.ok(overflow <= 1, `the log overflows sideways by ${overflow}px`);
      u.check();
    }
    const daveGot = [];
    await until(() => {
      daveGot.length = 0;
      for (const l of dave.lines) {
        const m = /^:alice!\S+ PRIVMSG #lobby :([w\d]+)$/.exec(l);
        if (m) daveGot.push(m[1]);
      }
      return daveGot.join('') === big;
    }, 'the whole 10 KB line at the IRC user');
  },

  // A private conversation: /msg opens it, a reply is an unread mention in
  // the room list, and it is still there after a reload (CHATHISTORY
  // TARGETS and history with a nick).
  async private_conversation(ctx) {
    const s = await server(ctx);
    const alice = await browserUser(ctx, s, 'alice');
    const dave = tcp(ctx, await ircUser(s, 'dave'));
    await alice.say('/msg dave psst dave');
    await dave.waitFor(/^:alice!\S+ PRIVMSG dave :psst dave$/);
    dave.send('PRIVMSG alice :hi alice, secretly');
    const badge = alice.room('dave').locator('.badge.mention');
    await badge.waitFor({ timeout: T });
    assert.equal(await badge.textContent(), '1');
    await alice.select('dave');
    await alice.sees('hi alice, secretly');
    await alice.sees('psst dave');
    assert.equal(await alice.room('dave').locator('.badge').count(), 0);
    await alice.page.reload();
    await alice.room('dave').waitFor({ timeout: T });
    await alice.select('dave');
    await alice.sees('hi alice, secretly');
    alice.check();
  },

  // A nick in use is asked again; /nick changes it for everyone; ops and
  // voice show in the member list, and the topic in the header.
  async nicks_members_topic(ctx) {
    const s = await server(ctx);
    const dave = tcp(ctx, await ircUser(s, 'dave', ['#lobby', '#ops']));
    dave.send('TOPIC #ops :the ops room, see https://example.org/ops');
    const alice = await browserUser(ctx, s, null);
    await alice.page.getByLabel('Choose a nick').fill('dave');
    await alice.page.getByLabel('Choose a nick').press('Enter');
    await alice.page.getByRole('alert').filter({ hasText: 'dave' }).waitFor({ timeout: T });
    await alice.login('alice');
    await alice.say('/join #ops');
    await alice.current('#ops');
    const topic = alice.page.locator('#topic');
    await topic.getByRole('link', { name: 'https://example.org/ops' }).waitFor({ timeout: T });
    const members = alice.page.locator('#member-list li');
    await members.filter({ hasText: 'alice' }).waitFor({ timeout: T });
    assert.deepEqual(await members.allTextContents(), ['@dave', 'alice']);
    dave.send('MODE #ops +v alice');
    await members.filter({ hasText: '+alice' }).waitFor({ timeout: T });
    await alice.say('/nick alicia');
    await dave.waitFor(/^:alice!\S+ NICK :?alicia$/);
    await members.filter({ hasText: '+alicia' }).waitFor({ timeout: T });
    assert.equal(await alice.page.evaluate(() => localStorage.getItem('parley.nick')), '"alicia"');
    await alice.say('/topic a new topic');
    await dave.waitFor(/^:alicia!\S+ TOPIC #ops :a new topic$/);
    await alice.say('/frobnicate');
    await alice.page.locator('#log li.error', { hasText: 'unknown command /frobnicate' }).waitFor({ timeout: T });
    await alice.say('/whois dave');
    await alice.page.locator('#log li', { hasText: 'dave on irssi' }).waitFor({ timeout: T });
    alice.check();
  },

  // On a phone-sized screen the rooms and members are drawers: closed at
  // first, opened by their buttons, closed by Escape; nothing is wider
  // than the screen.
  async phone_layout(ctx) {
    const s = await server(ctx);
    const dave = tcp(ctx, await ircUser(s, 'dave', ['#lobby', '#dev']));
    const alice = await browserUser(ctx, s, 'alice', { context: { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true } });
    const p = alice.page;
    await alice.say('/join #dev');
    await p.locator('#buffer-name', { hasText: '#dev' }).waitFor({ timeout: T });
    assert.ok(!(await p.locator('#rooms').isVisible()));
    assert.ok(!(await p.locator('#members').isVisible()));
    dave.send('PRIVMSG #lobby :alice: are you on your phone?');
    await p.locator('#rooms-badge.mention').waitFor({ timeout: T });
    await p.getByRole('button', { name: /Rooms/ }).tap();
    await p.locator('#rooms').waitFor({ state: 'visible', timeout: T });
    assert.equal(await p.getByRole('button', { name: /Rooms/ }).getAttribute('aria-expanded'), 'true');
    await p.keyboard.press('Escape');
    await p.locator('#rooms').waitFor({ state: 'hidden', timeout: T });
    await p.getByRole('button', { name: /Rooms/ }).tap();
    await alice.room('#lobby').tap();
    await p.locator('#rooms').waitFor({ state: 'hidden', timeout: T });
    await alice.sees('are you on your phone?');
    await p.getByRole('button', { name: 'Members' }).tap();
    await p.locator('#members').getByText('dave').waitFor({ state: 'visible', timeout: T });
    await p.locator('#scrim').tap({ position: { x: 20, y: 400 } });
    await p.locator('#members').waitFor({ state: 'hidden', timeout: T });
    await alice.say('yes, on my phone');
    await dave.waitFor(/PRIVMSG #lobby :yes, on my phone$/);
    const width = await p.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `page is ${width}px wide on a 390px screen`);
    alice.check();
  },

  // Everything works from the keyboard: the nick, sending, recalling the
  // last line, switching rooms with Alt+Down and Ctrl+K, the Tab order.
  async keyboard_only(ctx) {
    const s = await server(ctx);
    const alice = await browserUser(ctx, s, null);
    const k = alice.page.keyboard;
    const focused = () => alice.page.evaluate(() => document.activeElement.id || document.activeElement.textContent);
    assert.equal(await focused(), 'nick-input');
    await k.type('alice');
    await k.press('Enter');
    await alice.current('#lobby');
    await until(async () => (await focused()) === 'input', 'focus in the message box');
    await k.type('/join #dev');
    await k.press('Enter');
    await alice.current('#dev');
    await k.type('typed, not clicked');
    await k.press('Enter');
    await alice.sees('typed, not clicked');
    await k.press('ArrowUp');
    assert.equal(await alice.page.locator('#input').inputValue(), 'typed, not clicked');
    await k.press('ArrowDown');
    assert.equal(await alice.page.locator('#input').inputValue(), '');
    await k.press('Alt+ArrowDown');
    await alice.current('#lobby');
    await k.press('Control+k');
    await alice.page.getByRole('textbox', { name: 'Go to room' }).waitFor({ timeout: T });
    await k.type('dev');
    await k.press('Enter');
    await alice.current('#dev');
    await alice.page.locator('#switcher:not([open])').waitFor({ state: 'attached', timeout: T });
    // Tab from the top of the page reaches the rooms, then the message box.
    await alice.page.locator('body').evaluate((b) => b.focus());
    const stops = [];
    for (let i = 0; i < 20 && !stops.includes('input'); i++) {
      await k.press('Tab');
      stops.push(await focused());
    }
    assert.ok(stops.includes('#dev') && stops.includes('input'), `Tab stops: ${stops.join(' | ')}`);
    assert.ok(stops.indexOf('#dev') < stops.indexOf('input'));
    alice.check();
  },

  // Notifications are opt-in: after "Notify me" (permission granted), a
  // mention in a room one is not looking at makes one, other lines do
  // not. /quit leaves for good until "Reconnect now".
  async notify_and_quit(ctx) {
    const s = await server(ctx);
    const dave = tcp(ctx, await ircUser(s, 'dave', ['#lobby']));
    const alice = await browserUser(ctx, s, null, { context: { permissions: ['notifications'] } });
    const p = alice.page;
    await p.addInitScript(() => {
      window.notes = [];
      const Real = window.Notification;
      window.Notification = class {
        constructor(title, opts) {
          window.notes.push(`${title}: ${opts.body}`);
        }
        static get permission() {
          return Real.permission;
        }
        static requestPermission() {
          return Real.requestPermission();
        }
      };
    });
    await p.reload();
    await alice.login('alice');
    const notes = () => p.evaluate(() => window.notes);
    dave.send('PRIVMSG #lobby :alice: before opting in');
    await alice.sees('before opting in');
    await alice.say('/join #dev');
    await alice.current('#dev');
    dave.send('PRIVMSG #lobby :alice: still not opted in');
    await alice.room('#lobby').locator('.badge.mention').waitFor({ timeout: T });
    assert.deepEqual(await notes(), []);
    await p.getByRole('button', { name: 'Notify me' }).click();
    await p.locator('#notify[aria-pressed="true"]').waitFor({ timeout: T });
    dave.send('PRIVMSG #lobby :nothing for malice here, nor for alice2');
    dave.send('PRIVMSG #lobby :alice: now you get this');
    await until(async () => (await notes()).length, 'a notification');
    assert.deepEqual(await notes(), ['dave in #lobby: alice: now you get this']);
    await alice.say('/quit see you');
    await dave.waitFor(/^:alice!\S+ QUIT :Quit: see you$/);
    await p.locator('#status', { hasText: 'disconnected' }).waitFor({ timeout: T });
    await p.getByRole('button', { name: 'Reconnect now' }).click();
    await dave.waitFor(/^:alice!\S+ JOIN #lobby/);
    await until(async () => (await p.locator('#status').textContent()) === '', 'the client to be back');
    assert.equal(await p.getByRole('button', { name: 'Reconnect now' }).isVisible(), false);
    alice.check();
  },

  // Over https:// the client connects with wss:, and the page is as clean.
  async https_wss(ctx) {
    if (!hasWebListener(ctx.parleyd)) throw new Error('needs a parleyd with its own https:// listener');
    const s = await server(ctx, { https: true });
    const dave = tcp(ctx, await ircUser(s, 'dave'));
    const alice = await browserUser(ctx, s, 'alice', { context: { ignoreHTTPSErrors: true } });
    assert.match(alice.page.url(), /^https:/);
    const ws = alice.page.waitForEvent('websocket', { timeout: T });
    await alice.page.reload();
    assert.match((await ws).url(), /^wss:\/\/127\.0\.0\.1:\d+\/irc$/);
    await alice.current('#lobby');
    await alice.say('hello over wss');
    await dave.waitFor(/^:alice!\S+ PRIVMSG #lobby :hello over wss$/);
    alice.check();
  },
};
