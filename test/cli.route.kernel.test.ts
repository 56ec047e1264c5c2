// Kernel tests of the command line's routing words: `route add|show|delete` and `auto --config FILE`
// (YAML) following an address until SIGTERM, in a namespace with two veth links.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect } from 'vitest';
import { cli as run, exec, MAIN, type Result } from './helpers/cli.js';
import { kernelIt, makeNetns, waitFor, type TestNetns } from './helpers/netns.js';

const it = kernelIt();

const cli = (...args: string[]): Promise<Result> => run(args);

describe('mptcp-pm route and auto', () => {
  let ns: TestNetns;
  let dir: string;
  beforeEach(async () => {
    ns = await makeNetns('clr');
    for (const [dev, net] of [['eth1', '192.0.2'], ['wlan1', '198.51.100']] as const) {
      await ns.ip('link', 'add', dev, 'type', 'veth', 'peer', 'name', `p${dev}`);
      await ns.ip('addr', 'add', `${net}.1/24`, 'dev', dev);
      await ns.ip('link', 'set', dev, 'up');
      await ns.ip('link', 'set', `p${dev}`, 'up');
    }
    dir = mkdtempSync(join(tmpdir(), 'mptcp-pm-auto-'));
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
    await ns.destroy();
  });

  it('route add, show (text and -j), delete, and refusals with exit status 2', async () => {
    expect(await cli('-n', ns.name, 'route', 'add', '198.51.100.1', 'dev', 'wlan1', 'via', '198.51.100.254', 'table', '42')).toMatchObject({ status: 0 });
    expect((await cli('-n', ns.name, 'route', 'show')).stdout).toBe('from 198.51.100.1 table 42 dev wlan1 via 198.51.100.254\n');
    expect(JSON.parse((await cli('-n', ns.name, '-j', 'route', 'show')).stdout)).toEqual([{ address: '198.51.100.1', ifname: 'wlan1', table: 42, gateway: '198.51.100.254' }]);
    expect(await ns.ip('rule', 'show')).toContain('from 198.51.100.1 lookup 42 proto 77');
    expect(await cli('-n', ns.name, 'route', 'del', '198.51.100.1')).toMatchObject({ status: 0 });
    expect((await cli('-n', ns.name, 'route', 'show')).stdout).toBe('');
    const bad = await cli('-n', ns.name, 'route', 'add', '198.51.100.1', 'dev', 'wlan1', 'table', '255');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('table: 255 is reserved');
    const missing = await cli('-n', ns.name, 'route', 'add', '203.0.113.1', 'dev', 'wlan1');
    // refused: the status ip gives a refused request
    expect(missing).toMatchObject({ status: 2, stderr: expect.stringContaining('not configured on wlan1') });
  });

  it('route add with a gateway the kernel refuses: exit 2 and nothing left behind; an existing entry is kept as it was', async () => {
    const ours = async (): Promise<string> => `${await ns.ip('route', 'show', 'table', 'all', 'proto', '77')}${(await ns.ip('rule', 'show')).split('\n').filter((l) => l.includes('proto 77')).join('\n')}`;
    const bad = await cli('-n', ns.name, 'route', 'add', '192.0.2.1', 'dev', 'eth1', 'via', '198.51.100.77');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^Error: /);
    expect(await ours()).toBe('');
    expect((await cli('-n', ns.name, 'route', 'show')).stdout).toBe('');
    // The retry gets the first table of the range, as if the failure had never happened.
    expect(await cli('-n', ns.name, 'route', 'add', '192.0.2.1', 'dev', 'eth1', 'via', '192.0.2.254')).toMatchObject({ status: 0 });
    expect((await cli('-n', ns.name, 'route', 'show')).stdout).toBe('from 192.0.2.1 table 1000 dev eth1 via 192.0.2.254\n');
    const kept = await ours();
    // Changing it to a refused gateway fails and leaves the working entry untouched.
    const change = await cli('-n', ns.name, 'route', 'add', '192.0.2.1', 'dev', 'eth1', 'via', '203.0.113.9');
    expect(change.status).toBe(2);
    expect(await ours()).toBe(kept);
    // The library's add, many at once on one client: every failure leaves nothing behind.
    const { SourceRouting } = await import('../src/index.js');
    const rt = await SourceRouting.open({ netns: ns.name });
    try {
      const results = await Promise.allSettled([
        rt.add({ address: '198.51.100.1', ifname: 'wlan1', gateway: '192.0.2.77' }),
        rt.add({ address: '198.51.100.1', ifname: 'wlan1', gateway: '198.51.100.254', table: 77 }),
        rt.add({ address: '198.51.100.1', ifname: 'wlan1', gateway: '203.0.113.1', table: 78 }),
      ]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'rejected']);
      expect(await rt.list()).toEqual([
        { address: '192.0.2.1', ifname: 'eth1', table: 1000, gateway: '192.0.2.254' },
        { address: '198.51.100.1', ifname: 'wlan1', table: 77, gateway: '198.51.100.254' },
      ]);
      expect(await ns.ip('route', 'show', 'table', '78')).toBe('');
    } finally {
      rt.close();
    }
  });

  it('auto without CAP_NET_ADMIN exits at the first refusal with status 2, naming the capability, instead of failing every pass', async () => {
    const config = join(dir, 'policy.yaml');
    writeFileSync(config, 'rules:\n  - interface: "eth*"\n    flags: [subflow]\nresyncIntervalMs: 200\n');
    // util-linux's setpriv drops the capability from the bounding set, so the command runs without it.
    const r = await exec('setpriv', ['--bounding-set', '-net_admin', process.execPath, MAIN, '-n', ns.name, 'auto', '--config', config]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^Error: auto needs CAP_NET_ADMIN in network namespace /m);
    expect(r.stderr.match(/EPERM/g)).toHaveLength(1);
    expect(await ns.ip('mptcp', 'endpoint', 'show')).toBe('');
  });

  it('auto --config FILE (YAML) adds endpoints, follows a new address, and stops on SIGTERM leaving its state', async () => {
    const config = join(dir, 'policy.yaml');
    writeFileSync(config, 'rules:\n  - interface: "eth*"\n    flags: [subflow]\n  - interface: "wlan*"\n    flags: [subflow, backup]\nsourceRouting: true\n');
    const p = spawn(process.execPath, [MAIN, '-n', ns.name, '-j', 'auto', '--config', config]);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
    try {
      await waitFor(() => out.includes('"address":"198.51.100.1"'), { timeoutMs: 10_000, what: 'auto to add the wlan1 endpoint' });
      await ns.ip('addr', 'add', '192.0.2.9/24', 'dev', 'eth1');
      await waitFor(() => out.split('\n').some((l) => l.includes('"kind":"endpoint"') && l.includes('"address":"192.0.2.9"')), { timeoutMs: 10_000, what: 'auto to follow the new address' });
    } finally {
      p.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const eps = JSON.parse(await ns.ip('-j', 'mptcp', 'endpoint', 'show')) as { address: string; backup?: boolean }[];
    expect(eps.map((e) => e.address).sort()).toEqual(['192.0.2.1', '192.0.2.9', '198.51.100.1']);
    expect(eps.find((e) => e.address === '198.51.100.1')?.backup).toBe(true);
  });

  it('auto refuses a bad policy file naming the field', async () => {
    const config = join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ rules: [{ interface: 'eth*', flags: ['signal', 'fullmesh'] }] }));
    const r = await cli('-n', ns.name, 'auto', '--config', config);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('rules[0].flags: "signal" and "fullmesh" cannot be combined');
  });
});
