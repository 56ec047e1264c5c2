// Part of `npm run build`: bundles the command into one CommonJS file, dist/cli/main.cjs, behind
// the package's bin, dist/cli/mptcp-pm.cjs. Loading one file through the CommonJS loader skips
// resolving and linking the ~40 ES modules a command needs one by one; the native addons (koffi,
// netlink) and the large libraries used by a few commands (yaml, prom-client) stay outside and are
// required only by the code that uses them (esbuild keeps a lazily imported module's requires
// inside its initialiser). The bin compiles the bundle with V8's code cache (dist/cli/main.cache,
// made here by running `--help` once), so a start does not parse and compile half a megabyte of
// JavaScript again; V8 ignores a cache made by another Node version and compiles as before.

import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIR = join(ROOT, 'dist/cli');
const BUNDLE = join(DIR, 'main.cjs');
const CACHE = join(DIR, 'main.cache');
const BIN = join(DIR, 'mptcp-pm.cjs');

await build({
  entryPoints: [join(ROOT, 'src/cli/main.ts')],
  outfile: BUNDLE,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['koffi', 'netlink', 'yaml', 'prom-client'],
  // import() of an outside module becomes require(): a script compiled through node:vm has no
  // loader for import() on Node 20 without an experimental flag.
  supported: { 'dynamic-import': false },
  // The version lookup reads package.json relative to the module: dist/cli/ is two levels below
  // the package root, as dist/src/cli/ is three.
  define: { 'import.meta.url': '__moduleUrl' },
  // The modules are ES modules, so strict mode from the first line (a directive after the banner
  // would not count).
  banner: { js: "'use strict';\nconst __moduleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
// The bin wraps the bundle in a function, where a `#!` line would be a syntax error.
writeFileSync(BUNDLE, readFileSync(BUNDLE, 'utf8').replace(/^#!.*\n/, ''));

// The bin: compiles the bundle as the CommonJS loader would (same wrapper, same require), with
// the code cache when there is one.
const LOADER = `
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');
const file = join(__dirname, 'main.cjs');
let cachedData;
try {
  cachedData = readFileSync(join(__dirname, 'main.cache'));
} catch {
  // No cache: compile without one.
}
const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), {
  filename: file, cachedData,
});
const main = new Module(file, module);
main.filename = file;
`;
writeFileSync(BIN, `#!/usr/bin/env node
'use strict';
// The mptcp-pm command: runs the bundle next to this file (see scripts/bundle.ts in the sources).
${LOADER}script.runInThisContext().call(main.exports, main.exports, Module.createRequire(file), main, file, __dirname);
`);
chmodSync(BIN, 0o755);

// The cache: V8's code for what a run of \`--help\` compiled (the start-up path every command shares).
rmSync(CACHE, { force: true });
const maker = `${LOADER}process.argv = [process.argv[0], file, '--help'];
process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(CACHE)}, script.createCachedData()));
script.runInThisContext().call(main.exports, main.exports, Module.createRequire(file), main, file, ${JSON.stringify(DIR)});
`.replaceAll('__dirname', JSON.stringify(DIR));
const r = spawnSync(process.execPath, ['-e', maker], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
if (r.status !== 0) throw new Error(`making the code cache failed (status ${r.status})`);
