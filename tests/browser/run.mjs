// Runs parley's browser tests: the client's unit tests (node --test), then
// each end-to-end test against a fresh parleyd, in headless Chromium.
// Prints PASS/FAIL per test and, last, "N passed, M failed".
//
//   node tests/browser/run.mjs --parleyd build/parleyd [-k SUBSTR]
//     [--chromium /usr/bin/chromium]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { TESTS } from './tests.mjs';
import { hasWebListener } from './lib.mjs';

function arg(name, d) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : d;
}

const parleyd = arg('--parleyd', 'build/parleyd');
const filter = arg('-k', '');
const executablePath = arg('--chromium', process.env.CHROMIUM || '/usr/bin/chromium');
let passed = 0;
let failed = 0;

function unitTests() {
  const dir = fileURLToPath(new URL('./unit/', import.meta.url));
  const files = ['irc', 'links', 'state', 'client'].map((n) => `${dir}${n}.test.mjs`);
  const r = spawnSync(process.execPath, ['--test', ...files], { encoding: 'utf8' });
  const out = r.stdout + r.stderr;
  const count = (k) => Number((out.match(new RegExp(`^# ${k} (\\d+)`, 'm')) || [0, 0])[1]);
  for (const m of out.matchAll(/^not ok \d+ - (.*)$/gm)) console.log(`FAIL unit: ${m[1]}`);
  if (r.status !== 0 || !count('pass')) console.log(out);
  console.log(`${r.status === 0 ? 'PASS' : 'FAIL'} unit: ${count('pass')} node --test tests of web/js`);
  passed += count('pass');
  failed += count('fail') + (r.status !== 0 && !count('fail') ? 1 : 0);
}

if (!filter || 'unit'.includes(filter)) unitTests();
console.log(`# parleyd ${parleyd}, ${hasWebListener(parleyd) ? 'its own http:// listener' : 'tests/browser/bridge.mjs (no http:// listener in this parleyd)'}`);
const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
for (const [name, fn] of Object.entries(TESTS)) {
  if (filter && !name.includes(filter)) continue;
  const cleanup = [];
  const t0 = Date.now();
  let error = null;
  try {
    await fn({ browser, parleyd, defer: (f) => cleanup.push(f) });
  } catch (e) {
    error = e;
  }
  // Cleaning up stops the servers, which fails on a sanitizer report.
  for (const f of cleanup.reverse()) await f().catch((e) => (error = error || e));
  const took = `(${((Date.now() - t0) / 1000).toFixed(1)} s)`;
  if (error) console.log(`FAIL ${name} ${took}: ${error.stack || error}`);
  else console.log(`PASS ${name} ${took}`);
  if (error) failed++;
  else passed++;
}
await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
