// The client's modules are plain .js files served to browsers; node reads
// .js as CommonJS unless a package.json says otherwise, and web/ has none
// (it would be served). So the tests import a copy of web/js/ made in a
// temporary directory that has one.
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const src = fileURLToPath(new URL('../../../web/js/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'parley-web-js-'));
cpSync(src, dir, { recursive: true });
writeFileSync(join(dir, 'package.json'), '{"type": "module"}\n');

// load imports web/js/NAME.
export function load(name) {
  return import(pathToFileURL(join(dir, name)).href);
}
