// Wildcard, multicast and broadcast endpoint addresses against the kernel: `ip mptcp` and the kernel
// take them (mptcp_join.sh adds `224.0.0.1 signal backup` on purpose), so the command and the
// library take them too, print what ip prints, and the library says so through `warning`.

import { describe, expect } from 'vitest';
import { exec as run, MAIN, type Result } from './helpers/cli.js';
import { MptcpPm } from '../src/mptcp/pm/pm.js';
import type { MptcpPmWarning } from '../src/mptcp/pm/types.js';
import { kernelIt, makeNetns, withPmInNetns } from './helpers/netns.js';

const it = kernelIt();

const exec = (cmd: string, args: string[]): Promise<Result> => run(cmd, args, { timeoutMs: 60_000 });

const LINES = [
  ['224.0.0.1', 'signal', 'backup'],
  ['255.255.255.255', 'subflow'],
  ['0.0.0.0', 'signal'],
  ['ff02::1', 'signal'],
  ['::', 'subflow'],
  ['0.0.0.0', 'id', '9', 'signal'],
  ['ff02::1', 'signal'],
];

describe('endpoint addresses the kernel takes although no packet uses them', () => {
  it('endpoint add/show/delete id 0: the command prints and exits as ip does, and the kernel holds the same', async () => {
    const [a, b] = await Promise.all([makeNetns('oddmp'), makeNetns('oddip')]);
    try {
      for (const words of LINES) {
        const [mine, ip] = await Promise.all([
          exec(process.execPath, [MAIN, '-n', a.name, 'endpoint', 'add', ...words]),
          exec('ip', ['-n', b.name, 'mptcp', 'endpoint', 'add', ...words]),
        ]);
        expect(mine.stdout, words.join(' ')).toBe(ip.stdout);
        expect(mine.status, `${words.join(' ')}: ${mine.stderr}`).toBe(ip.status);
        if (ip.status === 0) expect(mine.stderr, words.join(' ')).toBe('');
      }
      const show = await Promise.all([
        exec(process.execPath, [MAIN, '-n', a.name, 'endpoint', 'show']),
        exec('ip', ['-n', b.name, 'mptcp', 'endpoint', 'show']),
      ]);
      expect(show[0].stdout).toBe(show[1].stdout);
      expect(show[1].stdout).toContain('224.0.0.1 id 1 signal backup');
      const ipOfA = await exec('ip', ['-n', a.name, 'mptcp', 'endpoint', 'show']);
      expect(ipOfA.stdout).toBe(show[1].stdout);
      const del = await Promise.all([
        exec(process.execPath, [MAIN, '-n', a.name, 'endpoint', 'delete', 'id', '0', '224.0.0.1']),
        exec('ip', ['-n', b.name, 'mptcp', 'endpoint', 'delete', 'id', '0', '224.0.0.1']),
      ]);
      expect(del[0]).toEqual(del[1]);
      const removeById = await exec(process.execPath, [MAIN, '-n', a.name, 'endpoint', 'delete', 'id', '1']);
      expect(removeById.status).toBe(0);
      expect((await exec('ip', ['-n', a.name, 'mptcp', 'endpoint', 'show'])).stdout).not.toContain('224.0.0.1');
    } finally {
      await Promise.all([a.destroy(), b.destroy()]);
    }
  });

  it('addEndpoint stores them as asked and emits one address-not-unicast warning each; a unicast one none', async () => {
    await withPmInNetns('oddlib', async (pm: MptcpPm) => {
      const warnings: MptcpPmWarning[] = [];
      pm.on('warning', (w) => warnings.push(w));
      const added = await Promise.all([
        pm.addEndpoint({ address: '224.0.0.1', flags: ['signal', 'backup'] }),
        pm.addEndpoint({ address: '255.255.255.255', flags: ['subflow'] }),
        pm.addEndpoint({ address: '::', flags: ['subflow'] }),
        pm.addEndpoint({ address: 'ff02::1', flags: ['signal'] }),
        pm.addEndpoint({ address: '192.0.2.7', flags: ['signal'] }),
      ]);
      expect(added.map((e) => e.address).sort()).toEqual(['192.0.2.7', '224.0.0.1', '255.255.255.255', '::', 'ff02::1']);
      expect(added.find((e) => e.address === '224.0.0.1')?.flags).toEqual(['signal', 'backup']);
      const listed = await pm.listEndpoints();
      expect(listed).toHaveLength(5);
      const odd = warnings.filter((w) => w.code === 'address-not-unicast');
      expect(odd).toHaveLength(4);
      expect(odd.map((w) => /endpoint (\S+) /.exec(w.message)?.[1]).sort()).toEqual(['224.0.0.1', '255.255.255.255', '::', 'ff02::1']);
      expect(odd.find((w) => w.message.includes('255.255.255.255'))?.message).toMatch(/broadcast/);
      expect(odd.find((w) => w.message.includes(' :: '))?.message).toMatch(/wildcard/);
      await pm.deleteInitialAddress('224.0.0.1');
      await pm.deleteEndpoint({ address: '224.0.0.1' });
      expect((await pm.listEndpoints()).map((e) => e.address)).not.toContain('224.0.0.1');
    });
  });
});
