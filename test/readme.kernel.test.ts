// The README's first example, run as written (its namespace and its minute shortened): it changes
// the namespace as it says and the program exits by itself once it closes what it opened.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { canRunKernelTests, kernelIt, makeNetns, type TestNetns } from './helpers/netns.js';

const it = kernelIt();
const ROOT = fileURLToPath(new URL('../', import.meta.url));
let ns: TestNetns;
let dir: string;

describe('README', () => {
  beforeAll(async () => {
    if (!canRunKernelTests().ok) return;
    ns = await makeNetns('readme');
    await ns.ip('link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'peth1');
    dir = mkdtempSync(join(tmpdir(), 'mptcppm-readme-'));
  });
  afterAll(async () => {
    await ns?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the ESM example sets limits and an endpoint, then exits on its own (it closes its sockets)', { timeout: 60_000 }, async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const example = /```js\n(import \{ MptcpPm, MptcpEvents \} from 'mptcp-pm';[\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    const script = (example as string)
      .replace("from 'mptcp-pm'", `from '${pathToFileURL(join(ROOT, 'dist/src/index.js')).href}'`)
      .replaceAll("netns: 'blue'", `netns: '${ns.name}'`)
      .replace('60_000', '200');
    const file = join(dir, 'example.mjs');
    writeFileSync(file, script);
    const status = await new Promise<number>((resolve) => {
      execFile(process.execPath, [file], { timeout: 30_000 }, (err) => resolve(err ? (typeof err.code === 'number' ? err.code : -1) : 0));
    });
    expect(status).toBe(0);
    expect(await ns.ip('mptcp', 'limits', 'show')).toBe('add_addr_accepted 2 subflows 2 \n');
    expect(await ns.ip('mptcp', 'endpoint', 'show')).toBe('192.0.2.2 id 1 subflow dev eth1 \n');
  });
});
