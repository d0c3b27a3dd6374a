// What the browser tests are built from: a parleyd process on ports of
// our choosing, plain TCP users (text protocol and IRC) and browser users
// (headless Chromium through playwright-core). Every wait is bounded.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBridge } from './bridge.mjs';

export const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));
// Budgets are generous: CI machines are slow and this one is shared.
export const T = Number(process.env.PARLEY_BROWSER_TIMEOUT_MS || 30000);

// freePort gives a port that was free a moment ago, for a server that
// must come back on the same port after a restart.
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// until polls fn (a quick, local check) until it gives a truthy value.
export async function until(fn, what, timeout = T) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// Servers still running when node exits (a crash, Ctrl-C) are stopped.
const running = new Set();
process.on('exit', () => running.forEach((proc) => proc.kill('SIGKILL')));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(1));

let webListener = null;
// hasWebListener says whether parleyd serves http:// itself; if not, the
// tests fall back to tests/browser/bridge.mjs.
export function hasWebListener(parleyd) {
  if (webListener === null) {
    const help = spawnSync(parleyd, ['--help'], { encoding: 'utf8' });
    webListener = /--web-root/.test(`${help.stdout}${help.stderr}`) && !process.env.PARLEY_BROWSER_BRIDGE;
  }
  return webListener;
}

// Server is one parleyd with irc, text and http listeners on fixed ports
// (chosen free at construction), so that a restart keeps them.
export class Server {
  constructor(parleyd, opts = {}) {
    this.parleyd = parleyd;
    this.dir = mkdtempSync(join(tmpdir(), 'parley-browser-'));
    this.db = opts.db === 'none' ? 'none' : join(this.dir, 'parley.db');
    this.extra = opts.args || [];
    this.https = !!opts.https;
    this.log = '';
  }

  // makeCert makes a self-signed certificate for 127.0.0.1 (https tests).
  makeCert() {
    const cert = join(this.dir, 'cert.pem');
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', cert, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
    return cert;
  }

  async start() {
    if (!this.ports) this.ports = { irc: await freePort(), text: await freePort(), http: await freePort() };
    const web = hasWebListener(this.parleyd);
    const args = ['--db', this.db, '--listen', `irc://127.0.0.1:${this.ports.irc}`, '--listen', `text://127.0.0.1:${this.ports.text}`];
    const scheme = this.https ? 'https' : 'http';
    if (web) args.push('--listen', `${scheme}://127.0.0.1:${this.ports.http}`, '--web-root', WEB_ROOT);
    if (this.https) args.push('--tls-cert', this.cert || (this.cert = this.makeCert()));
    const proc = spawn(this.parleyd, [...args, ...this.extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    running.add(proc);
    const exited = new Promise((r) => proc.on('exit', (code, sig) => r(`exited (${code ?? sig})`, running.delete(proc))));
    this.exited = exited;
    this.proc.stdout.on('data', (d) => (this.log += d));
    this.proc.stderr.on('data', (d) => (this.log += d));
    const want = web ? 3 : 2;
    await until(() => (this.log.match(/event=listen\b/g) || []).length >= want || this.proc.exitCode !== null, 'parleyd to listen', T);
    if (this.proc.exitCode !== null) throw new Error(`parleyd ${await exited}:\n${this.log}`);
    if (!web && !this.bridge) this.bridge = await startBridge({ ircPort: this.ports.irc, port: this.ports.http });
    this.url = `${scheme}://127.0.0.1:${this.ports.http}/`;
    return this;
  }

  // stop ends parleyd (SIGTERM, then SIGKILL after 10 s) and waits.
  async stop() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
    await this.exited;
    clearTimeout(timer);
  }

  // close stops the server and fails if it printed a sanitizer report.
  async close() {
    await this.stop();
    if (this.bridge) await this.bridge.close();
    const report = /^(==\d+==ERROR: \w+Sanitizer|.*runtime error: )/m.exec(this.log);
    if (report) throw new Error(`sanitizer report from parleyd:\n${this.log.slice(report.index, report.index + 3000)}`);
  }
}

// LineUser is a plain TCP user: it keeps every line it received.
class LineUser {
  constructor(port) {
    this.lines = [];
    this.buf = '';
    this.sock = connect(port, '127.0.0.1');
    this.sock.setEncoding('utf8');
    this.sock.on('data', (d) => {
      this.buf += d;
      const parts = this.buf.split(/\r?\n/);
      this.buf = parts.pop();
      this.lines.push(...parts);
    });
    this.sock.on('error', () => {});
  }

  send(line) {
    this.sock.write(line + '\r\n');
  }

  // waitFor gives the first line received that matches re (now or later).
  waitFor(re, timeout = T) {
    return until(() => this.lines.find((l) => re.test(l)), `a line matching ${re}`, timeout);
  }

  close() {
    this.sock.destroy();
  }
}

// textUser connects to the text protocol and takes nick.
export async function textUser(server, nick) {
  const u = new LineUser(server.ports.text);
  await u.waitFor(/^\* type to talk/);
  u.send(`/nick ${nick}`);
  await u.waitFor(new RegExp(`^\\* you are now ${nick}$`));
  return u;
}

// ircUser registers nick over plain IRC with the given capabilities and
// joins channels.
export async function ircUser(server, nick, channels = ['#lobby'], caps = []) {
  const u = new LineUser(server.ports.irc);
  if (caps.length) u.send(`CAP REQ :${caps.join(' ')}`);
  u.send(`NICK ${nick}`);
  u.send(`USER ${nick} 0 * :${nick} on irssi`);
  if (caps.length) u.send('CAP END');
  await u.waitFor(/ 001 /);
  for (const c of channels) {
    u.send(`JOIN ${c}`);
    await u.waitFor(new RegExp(` 366 ${nick} ${c} `, 'i'));
  }
  return u;
}

// BrowserUser is one person in a browser context of its own; it records
// console errors, page errors, CSP violations and dialogs.
export class BrowserUser {
  static async open(browser, server, nick, opts = {}) {
    const u = new BrowserUser();
    u.context = await browser.newContext({ viewport: { width: 1200, height: 800 }, ...opts.context });
    u.page = await u.context.newPage();
    u.problems = [];
    u.dialogs = [];
    u.allow = opts.allowConsole || [];
    u.page.on('console', (m) => {
      if (m.type() === 'error' && !u.allow.some((re) => re.test(m.text()))) u.problems.push(`console: ${m.text()}`);
    });
    u.page.on('pageerror', (e) => u.problems.push(`pageerror: ${e.message}`));
    u.page.on('dialog', (d) => {
      u.dialogs.push(d.message());
      d.dismiss().catch(() => {});
    });
    await u.page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
    });
    await u.page.goto(server.url);
    if (nick) await u.login(nick);
    return u;
  }

  async login(nick) {
    await this.page.getByLabel('Choose a nick').fill(nick);
    await this.page.getByLabel('Choose a nick').press('Enter');
    await this.current('#lobby');
  }

  // current waits until name is the room shown.
  async current(name) {
    await this.room(name).and(this.page.locator('[aria-current="page"]')).waitFor({ state: 'attached', timeout: T });
  }

  room(name) {
    return this.page.locator(`#room-list a[data-key="${name.toLowerCase()}"]`);
  }

  // line gives the log line(s) holding text.
  line(text) {
    return this.page.locator('#log li', { hasText: text });
  }

  async say(text) {
    await this.page.locator('#input').fill(text);
    await this.page.locator('#input').press('Enter');
  }

  // sees waits until a log line holds text.
  async sees(text, timeout = T) {
    await this.line(text).first().waitFor({ timeout });
  }

  async select(name) {
    await this.room(name).click();
    await this.current(name);
  }

  // check throws if anything went wrong in the page.
  check() {
    if (this.problems.length) throw new Error(`page problems:\n  ${this.problems.join('\n  ')}`);
    if (this.dialogs.length) throw new Error(`dialogs fired: ${this.dialogs.join(', ')}`);
  }

  async close() {
    await this.context.close();
  }
}
