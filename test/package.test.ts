// The package as a user gets it: `npm pack`, then installed into fresh apps — one with its own
// @types/node, one without — next to both TypeScript compilers an app may use (5.9 and 7).
// Strict apps with skipLibCheck off compile against our declarations as ESM (.mts) and CommonJS
// (.cts); the emitted programs import and require both entries; the bin and the man page ship.

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSC5 = join(ROOT, 'node_modules/typescript/bin/tsc');
const version = (pkg: string): string => (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

function run(cmd: string, args: string[], cwd: string, timeout = 180_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, timeout, encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || err.message}\n${stdout}`));
      else resolve(stdout);
    });
  });
}

/** `npm install` from the npm cache where it can (the tarball and what npm ci fetched), else the registry. */
const npmInstall = (cwd: string): Promise<string> =>
  run('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'], cwd, 300_000);

/** An app as strict as they come: every check on, our declarations and Node's checked too. */
const TSCONFIG = {
  compilerOptions: {
    strict: true, skipLibCheck: false, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022',
    outDir: 'out', rootDir: '.', noUnusedLocals: true, exactOptionalPropertyTypes: true,
  },
  files: ['esm.mts', 'cjs.cts'],
};

const ESM = `import { MptcpPm, ValidationError, type Limits } from 'mptcp-pm';
import { MptcpExporter } from 'mptcp-pm/exporter';
import { readFileSync } from 'node:fs';

export async function limits(netns?: string): Promise<Limits> {
  const pm = await MptcpPm.open(netns === undefined ? {} : { netns });
  try {
    return await pm.getLimits();
  } finally {
    pm.close();
  }
}
// @ts-expect-error -- the types are real, not any: a function is not a number.
export const wrong: number = MptcpPm.open;
const buf: Buffer = readFileSync('/proc/self/stat');
console.log(JSON.stringify(['esm', typeof MptcpPm.open, typeof ValidationError, typeof MptcpExporter.open, buf.length > 0]));
`;

const CJS = `import pm = require('mptcp-pm');
import ex = require('mptcp-pm/exporter');
import fs = require('node:fs');

export async function limits(): Promise<pm.Limits> {
  const client = await pm.MptcpPm.open();
  try {
    return await client.getLimits();
  } finally {
    client.close();
  }
}
// @ts-expect-error -- the types are real, not any: a function is not a number.
export const wrong: number = ex.collectMetrics;
const buf: Buffer = fs.readFileSync('/proc/self/stat');
console.log(JSON.stringify(['cjs', typeof pm.MptcpPm.open, typeof pm.ValidationError, typeof ex.MptcpExporter.open, buf.length > 0]));
`;

let dir: string;
let files: string[];
let tsc7: string;
const apps = { bare: '', typed: '' };

describe('the packed package in fresh strict TypeScript apps', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mptcppm-pack-'));
    const packed = JSON.parse(await run('npm', ['pack', '--json', '--pack-destination', dir], ROOT)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    files = packed[0].files.map((f) => f.path);
    const tarball = join(dir, packed[0].filename);
    // TypeScript 7 (the native compiler) in a directory of its own, shared by both apps.
    const ts7 = join(dir, 'ts7');
    mkdirSync(ts7);
    writeFileSync(join(ts7, 'package.json'), JSON.stringify({ name: 'ts7', private: true, devDependencies: { typescript: '^7.0.2' } }));
    tsc7 = join(ts7, 'node_modules/typescript/bin/tsc');
    for (const name of ['bare', 'typed'] as const) {
      const app = (apps[name] = join(dir, name));
      mkdirSync(app);
      // "typed" has its own @types/node; "bare" has none and gets ours (never netlink's old copy).
      const own = name === 'typed' ? { '@types/node': version('@types/node') } : {};
      writeFileSync(join(app, 'package.json'), JSON.stringify({ name: `app-${name}`, version: '1.0.0', private: true, dependencies: { 'mptcp-pm': `file:${tarball}`, ...own } }));
      writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG));
      writeFileSync(join(app, 'esm.mts'), ESM);
      writeFileSync(join(app, 'cjs.cts'), CJS);
    }
    await Promise.all([npmInstall(apps.bare), npmInstall(apps.typed), npmInstall(ts7)]);
  }, 600_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships what users need and nothing else: no source maps, no tests, the man page', () => {
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files).toContain('man/mptcp-pm.8');
    expect(files).toContain('dist/src/index.js');
    expect(files).toContain('dist/src/index.d.ts');
    expect(files).toContain('dist/src/exporter/index.js');
    expect(files.filter((f) => /^(test|bench|demo|scripts|src)\//.test(f) || f.startsWith('dist/demo/'))).toEqual([]);
  });

  it('an app without its own @types/node gets a current one at the top, netlink\'s @types/node@12 stays nested', () => {
    const top = JSON.parse(readFileSync(join(apps.bare, 'node_modules/@types/node/package.json'), 'utf8')) as { version: string };
    expect(Number(top.version.split('.')[0])).toBeGreaterThanOrEqual(20);
    const typed = JSON.parse(readFileSync(join(apps.typed, 'node_modules/@types/node/package.json'), 'utf8')) as { version: string };
    expect(typed.version).toBe(version('@types/node'));
  });

  it('TypeScript 5.9 compiles both apps (strict, skipLibCheck off, .mts and .cts); the programs import and require both entries', { timeout: 300_000 }, async () => {
    expect((await run(process.execPath, [TSC5, '--version'], ROOT)).trim()).toMatch(/^Version 5\.9\./);
    const [bare, typed] = await Promise.all([run(process.execPath, [TSC5, '-p', '.'], apps.bare), run(process.execPath, [TSC5, '-p', '.'], apps.typed)]);
    expect(bare + typed).toBe('');
    for (const app of [apps.bare, apps.typed]) {
      const esm = JSON.parse(await run(process.execPath, ['out/esm.mjs'], app)) as unknown[];
      const cjs = JSON.parse(await run(process.execPath, ['out/cjs.cjs'], app)) as unknown[];
      expect(esm).toEqual(['esm', 'function', 'function', 'function', true]);
      expect(cjs).toEqual(['cjs', 'function', 'function', 'function', true]);
    }
    // require() and import give the very same classes.
    const same = await run(process.execPath, ['--input-type=module', '-e', `
      import { createRequire } from 'node:module'; import * as m from 'mptcp-pm'; import * as e from 'mptcp-pm/exporter';
      const r = createRequire(import.meta.url);
      console.log(r('mptcp-pm').MptcpPm === m.MptcpPm && r('mptcp-pm/exporter').MptcpExporter === e.MptcpExporter);`], apps.bare);
    expect(same.trim()).toBe('true');
  });

  it('TypeScript 7 compiles both apps too', { timeout: 120_000 }, async () => {
    expect((await run(tsc7, ['--version'], apps.bare)).trim()).toMatch(/^Version 7\./);
    for (const app of [apps.bare, apps.typed]) expect(await run(tsc7, ['-p', '.', '--noEmit'], app)).toBe('');
  });

  it('the check has teeth: a wrong use of our types is an error', { timeout: 120_000 }, async () => {
    const bad = join(apps.bare, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'bad.mts'), "import { MptcpPm } from 'mptcp-pm';\nexport const n: number = MptcpPm.open;\n");
    await expect(run(tsc7, ['--ignoreConfig', '--noEmit', '--strict', '--module', 'nodenext', '--target', 'es2022', 'bad.mts'], bad)).rejects.toThrow(/not assignable/);
  });

  it('installs the command: mptcp-pm --version and --help', async () => {
    const bin = join(apps.bare, 'node_modules/.bin/mptcp-pm');
    expect(await run(bin, ['--version'], apps.bare)).toBe(`mptcp-pm ${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}\n`);
    expect(await run(bin, ['limits', '--help'], apps.bare)).toMatch(/^Usage: mptcp-pm limits set/);
  });
});
