// `mptcp-pm userspace-pm` (the built command) on a client/server pair: refuses a kernel-PM namespace
// with the fix, switches with --switch, prints the subflow it opens as NDJSON, stops on SIGINT, and
// started again prints the adopt line of the connection it finds.

import { spawn } from 'node:child_process';
import { describe, expect } from 'vitest';
import { cli as runCli, MAIN } from './helpers/cli.js';
import { kernelIt, waitFor } from './helpers/netns.js';
import { testResources } from './helpers/topology.js';

const it = kernelIt();
const { cleanup, topology } = testResources();

describe('userspace-pm command', () => {
  it('refuses the in-kernel PM, then with --switch opens the second-path subflow and prints it, exits 0 on SIGINT', async () => {
    const t = await topology('cupm');
    const [p1, p2] = t.paths;
    await t.server.ip('mptcp', 'limits', 'set', 'subflows', '2');
    const refused = await runCli(['-n', t.client.name, 'userspace-pm']);
    expect(refused.status).toBe(2); // refused: the status ip gives a refused request
    expect(refused.stderr).toMatch(/uses the kernel path manager.*path-manager userspace/);

    const child = spawn(process.execPath, [MAIN, '-n', t.client.name, '-j', 'userspace-pm', '--policy', 'subflow-per-address', '--address', p2.client, 'id', '3', '--backup', p2.client, '--switch'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    cleanup.push(() => void (child.exitCode === null && child.signalCode === null && process.kill(child.pid!, 'SIGKILL')));
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const lines = (): Record<string, unknown>[] => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    await waitFor(() => lines().some((l) => l.action === 'started'), { timeoutMs: 10_000, what: `the started line; stderr ${err}` });

    const srv = await t.peer(t.server, ['server', '--addr', '0.0.0.0', '--port', '5000', '--count', '0', '--quiet']);
    await srv.waitLine(/^READY/);
    const cli = await t.peer(t.client, ['client', '--addr', p1.server, '--port', '5000', '--hold', '--send', '10']);
    const token = Number((await cli.waitLine(/token=(\d+)/))[1]);
    const created = await waitFor(() => lines().find((l) => l.action === 'createSubflow'), { timeoutMs: 10_000, what: `a createSubflow line; have ${out} ${err}` });
    expect(created).toEqual({ action: 'createSubflow', token: token.toString(16).padStart(8, '0'), detail: `${p2.client} id 3 > ${p1.server}:5000 backup` });

    process.kill(child.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    const last = lines().at(-1)!;
    expect(last).toMatchObject({ action: 'stopped', stats: { connections: 1, subflowsOpened: 1, failures: 0 } });

    // Started again while the connection lives: it adopts it and prints the adopt line.
    const again = spawn(process.execPath, [MAIN, '-n', t.client.name, '-j', 'userspace-pm', '--policy', 'subflow-per-address', '--address', p2.client, 'id', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exitedAgain = new Promise<number | null>((r) => again.on('close', (code) => r(code)));
    cleanup.push(() => void (again.exitCode === null && again.signalCode === null && process.kill(again.pid!, 'SIGKILL')));
    let out2 = '';
    again.stdout.on('data', (d: Buffer) => (out2 += d.toString()));
    const lines2 = (): Record<string, unknown>[] => out2.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const adopt = await waitFor(() => lines2().find((l) => l.action === 'adopt'), { timeoutMs: 10_000, what: `an adopt line; have ${out2}` });
    expect(adopt).toMatchObject({ action: 'adopt', token: token.toString(16).padStart(8, '0') });
    expect(lines2()[0]).toMatchObject({ action: 'started' });
    process.kill(again.pid!, 'SIGINT');
    expect(await exitedAgain).toBe(0);
    expect(lines2().at(-1)).toMatchObject({ action: 'stopped', stats: { adopted: 1 } });
  });
});
