// The package as a user gets it: `npm pack`, then `npm i <tarball>` offline into a fresh directory;
// require() and import of both entries, types for CommonJS and ESM callers, the bin, the man page,
// and no source map in the tarball.

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

function run(cmd: string, args: string[], cwd: string, timeout = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, timeout, encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || err.message}\n${stdout}`));
      else resolve(stdout);
    });
  });
}

/** Registry tarball URLs of the runtime dependency tree (npm ci left them in the npm cache). */
async function dependencyTarballs(): Promise<string[]> {
  interface Node { version?: string; dependencies?: Record<string, Node> }
  const tree = JSON.parse(await run('npm', ['ls', '--omit=dev', '--all', '--json'], ROOT)) as Node;
  const urls = new Set<string>();
  const walk = (deps: Record<string, Node> = {}): void => {
    for (const [name, node] of Object.entries(deps)) {
      if (node.version) urls.add(`https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${node.version}.tgz`);
      walk(node.dependencies);
    }
  };
  walk(tree.dependencies);
  return [...urls];
}

let dir: string;
let app: string;
let files: string[];

describe('the packed package, installed offline in a fresh directory', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mptcppm-pack-'));
    const deps = join(dir, 'deps');
    app = join(dir, 'app');
    mkdirSync(deps);
    mkdirSync(app);
    const packed = JSON.parse(await run('npm', ['pack', '--json', '--pack-destination', dir], ROOT)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    files = packed[0].files.map((f) => f.path);
    for (const url of await dependencyTarballs()) await run('npm', ['pack', url, '--offline', '--ignore-scripts'], deps);
    writeFileSync(join(app, 'package.json'), '{"name":"app","version":"1.0.0","private":true}\n');
    await run('npm', ['i', join(dir, packed[0].filename), ...readdirSync(deps).map((f) => join(deps, f)),
      '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], app, 240_000);
  }, 300_000);
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

  it('require() and import give the same API, for both entries', async () => {
    const cjs = await run(process.execPath, ['-e', `
      const m = require('mptcp-pm'); const e = require('mptcp-pm/exporter');
      console.log(JSON.stringify([typeof m.MptcpPm, typeof m.MptcpEvents, typeof m.ValidationError, typeof e.MptcpExporter, typeof e.collectMetrics]));`], app);
    const esm = await run(process.execPath, ['--input-type=module', '-e', `
      import { MptcpPm, MptcpEvents, ValidationError } from 'mptcp-pm'; import { MptcpExporter, collectMetrics } from 'mptcp-pm/exporter';
      console.log(JSON.stringify([typeof MptcpPm, typeof MptcpEvents, typeof ValidationError, typeof MptcpExporter, typeof collectMetrics]));`], app);
    expect(JSON.parse(cjs)).toEqual(['function', 'function', 'function', 'function', 'function']);
    expect(esm).toBe(cjs);
    const same = await run(process.execPath, ['--input-type=module', '-e', `
      import { createRequire } from 'node:module'; import * as m from 'mptcp-pm';
      console.log(createRequire(import.meta.url)('mptcp-pm').MptcpPm === m.MptcpPm);`], app);
    expect(same.trim()).toBe('true');
  });

  it('types resolve for a CommonJS and an ESM TypeScript caller', async () => {
    writeFileSync(join(app, 'a.cts'), "import pm = require('mptcp-pm');\nimport ex = require('mptcp-pm/exporter');\n" +
      "const open: (o?: pm.MptcpPmOptions) => Promise<pm.MptcpPm> = pm.MptcpPm.open;\nconst c: typeof ex.collectMetrics = ex.collectMetrics;\nvoid open; void c;\n");
    writeFileSync(join(app, 'b.mts'), "import { MptcpPm, type Limits } from 'mptcp-pm';\nimport { MptcpExporter } from 'mptcp-pm/exporter';\n" +
      'export async function f(): Promise<Limits> { return (await MptcpPm.open()).getLimits(); }\nexport const e: typeof MptcpExporter.open = MptcpExporter.open;\n');
    writeFileSync(join(app, 'bad.mts'), "import { MptcpPm } from 'mptcp-pm';\nexport const n: number = MptcpPm.open;\n");
    const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck',
      '--typeRoots', join(ROOT, 'node_modules/@types'), '--types', 'node'];
    await run(process.execPath, [TSC, ...args, 'a.cts', 'b.mts'], app);
    // The check has teeth: a wrong type is an error.
    await expect(run(process.execPath, [TSC, ...args, 'bad.mts'], app)).rejects.toThrow(/not assignable/);
  });

  it('installs the command: mptcp-pm --version and --help', async () => {
    const { version } = JSON.parse(await run('npm', ['pkg', 'get', 'version', '--json'], ROOT).then((v) => `{"version":${v}}`)) as { version: string };
    expect(await run(join(app, 'node_modules/.bin/mptcp-pm'), ['--version'], app)).toBe(`mptcp-pm ${version}\n`);
    expect(await run(join(app, 'node_modules/.bin/mptcp-pm'), ['limits', '--help'], app)).toMatch(/^Usage: mptcp-pm limits set/);
  });
});
