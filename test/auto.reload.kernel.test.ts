// `mptcp-pm auto` follows its policy file: replaced the way a Kubernetes ConfigMap update replaces it
// (a new file renamed over the old), or on SIGHUP, the new policy is applied by changing only what
// differs; a file that cannot be used keeps the previous policy and says why.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect } from 'vitest';
import { MAIN } from './helpers/cli.js';
import { kernelIt, makeNetns, waitFor, type TestNetns } from './helpers/netns.js';

const it = kernelIt();

interface IpEndpoint { address: string; id: number; dev?: string }

let ns: TestNetns | undefined;
let child: ChildProcess | undefined;
let dir: string | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) {
    const gone = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
  await ns?.destroy();
});

describe('auto reloads its policy', () => {
  it('on a file replaced in its directory, and on SIGHUP; only the difference is applied; a bad file keeps the old policy', async () => {
    ns = await makeNetns('arl');
    for (const [dev, net] of [['eth1', '192.0.2'], ['eth2', '198.51.100']] as const) {
      await ns.ip('link', 'add', dev, 'type', 'veth', 'peer', 'name', `p${dev}`);
      await ns.ip('addr', 'add', `${net}.1/24`, 'dev', dev);
      await ns.ip('link', 'set', dev, 'up');
      await ns.ip('link', 'set', `p${dev}`, 'up');
    }
    dir = mkdtempSync(join(tmpdir(), 'mptcppm-auto-'));
    const file = join(dir, 'policy.yaml');
    const put = (text: string): void => {
      const tmp = join(dir!, '.new');
      writeFileSync(tmp, text);
      renameSync(tmp, file);
    };
    put('rules:\n  - interface: eth1\n    flags: [subflow]\nipv6: false\n');
    child = spawn(process.execPath, [MAIN, '-n', ns.name, 'auto', '--config', file]);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const eps = async (): Promise<IpEndpoint[]> => JSON.parse(await ns!.ip('-j', 'mptcp', 'endpoint', 'show')) as IpEndpoint[];
    await waitFor(async () => (await eps()).length === 1, { timeoutMs: 10_000, what: 'the eth1 endpoint' });
    const [first] = await eps();
    expect(first).toMatchObject({ address: '192.0.2.1', dev: 'eth1' });

    put('rules:\n  - interface: eth1\n    flags: [subflow]\n  - interface: eth2\n    flags: [subflow, backup]\nipv6: false\n');
    await waitFor(async () => (await eps()).length === 2, { timeoutMs: 10_000, what: 'the eth2 endpoint after the file changed' });
    // Only the difference: the eth1 endpoint is the same one (same id), not re-made.
    expect((await eps()).find((e) => e.address === '192.0.2.1')?.id).toBe(first.id);
    await waitFor(() => /the file changed: policy reloaded/.test(err), { timeoutMs: 5000, what: 'the reload said' });

    put('rules: [ {interface: eth1, flags: [subflow, signal, fullmesh]} ]\n');
    await waitFor(() => /not applied, the previous policy stays/.test(err), { timeoutMs: 5000, what: 'the bad file refused' });
    expect((await eps()).map((e) => e.address).sort()).toEqual(['192.0.2.1', '198.51.100.1']);

    put('rules:\n  - interface: eth2\n    flags: [subflow]\nipv6: false\n');
    child.kill('SIGHUP');
    await waitFor(async () => (await eps()).map((e) => e.address).join() === '198.51.100.1', { timeoutMs: 10_000, what: 'only the eth2 endpoint' });
    expect(child.exitCode).toBe(null);
  });
});
