// Part of `npm run build`: bundles the command into one CommonJS file, dist/cli/mptcp-pm.cjs (the
// package's bin). Loading one file through the CommonJS loader skips resolving and linking the
// ~40 ES modules a command needs one by one; the native addons (koffi, netlink) and the large
// libraries used by a few commands (yaml, prom-client) stay outside and are required only by the
// code that uses them (esbuild keeps a lazily imported module's requires inside its initialiser).

import { build } from 'esbuild';
import { chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist/cli/mptcp-pm.cjs');

await build({
  entryPoints: [join(ROOT, 'src/cli/main.ts')],
  outfile: OUT,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['koffi', 'netlink', 'yaml', 'prom-client'],
  // The version lookup reads package.json relative to the module: dist/cli/ is two levels below
  // the package root, as dist/src/cli/ is three.
  define: { 'import.meta.url': '__moduleUrl' },
  // The modules are ES modules, so strict mode from the first line (a directive after the banner
  // would not count).
  banner: { js: "'use strict';\nconst __moduleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
chmodSync(OUT, 0o755);
