// `mptcp-pm connections` and `mptcp-pm stat` (the built command) on a two-path namespace pair with a
// joined MPTCP connection, checked against the library and nstat.

import { describe, expect } from 'vitest';
import { MptcpDiag } from '../src/mptcp/diag/diag.js';
import { readMptcpCounters } from '../src/mptcp/proc/counters.js';
import { cli as run, type Result } from './helpers/cli.js';
import { kernelIt, waitFor } from './helpers/netns.js';
import { testResources } from './helpers/topology.js';

const it = kernelIt();
const { cleanup, topology } = testResources();
const cli = (...args: string[]): Promise<Result> => run(args);

describe('connections and stat commands', () => {
  it('connections groups subflows under their connection (text and -j); stat matches the counters', async () => {
    const t = await topology('dcli');
    const [p1, p2] = t.paths;
    for (const ns of [t.client, t.server]) await ns.ip('mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2');
    await t.client.ip('mptcp', 'endpoint', 'add', p2.client, 'dev', p2.ifname, 'id', '2', 'subflow', 'backup');
    const srv = await t.peer(t.server, ['server', '--addr', '0.0.0.0', '--port', '5000', '--count', '0']);
    await srv.waitLine(/^READY/);
    const c = await t.peer(t.client, ['client', '--addr', p1.server, '--port', '5000', '--hold', '--send', '500']);
    const token = Number((await c.waitLine(/token=(\d+)/))[1]);
    const d = await MptcpDiag.open({ netns: t.client.name });
    cleanup.push(() => d.close());
    await waitFor(async () => (await d.connections())[0]?.subflows.length === 2, { timeoutMs: 10_000, what: 'the join' });
    const hex = token.toString(16).padStart(8, '0');

    const text = await cli('-n', t.client.name, 'connections');
    expect(text.status).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^token ${hex}  ESTAB  ${p1.client.replace(/\./g, '\\.')}:\\d+ -> ${p1.server.replace(/\./g, '\\.')}:5000  dev path1  subflows 2$`));
    expect(lines[1]).toContain('bytes_sent:500');
    expect(lines[2]).toMatch(/^ {4}ESTAB {2}192\.0\.2\.1:\d+ -> 192\.0\.2\.2:5000 {2}dev path1 {2}id 0\/0 {2}flags Mmec/);
    expect(lines[3]).toMatch(/^ {4}ESTAB {2}198\.51\.100\.1:\d+ -> 192\.0\.2\.2:5000 {2}dev path2 {2}id 2\/0 {2}flags Jjb?ec.* {2}backup local {2}rtt /);

    const json = JSON.parse((await cli('-n', t.client.name, '-j', 'connections', 'token', hex)).stdout) as { connections: { token: string; subflows: { localId: number }[]; info: { writeSeq: string } }[] };
    const lib = (await d.connections({ token }))[0];
    expect(json.connections.map((x) => [x.token, x.subflows.map((s) => s.localId), x.info.writeSeq])).toEqual([[hex, [0, 2], lib.info.writeSeq.toString()]]);
    expect((await cli('-n', t.client.name, 'connections', 'token', 'zz')).status).toBe(255); // a wrong command line: 255, as ip exits

    const before = await readMptcpCounters({ netns: t.client.name });
    const stat = JSON.parse((await cli('-n', t.client.name, '-j', 'stat', '-z')).stdout) as Record<string, number>;
    expect(Object.keys(stat)).toEqual(Object.keys(before));
    expect(stat.MPCapableSYNTX).toBe(1);
    const plain = (await cli('-n', t.client.name, 'stat')).stdout;
    expect(plain).toMatch(/^MPTcpExtMPCapableSYNTX +1$/m);
    expect(plain).not.toMatch(/ 0$/m);
    const watch = await cli('-n', t.client.name, 'stat', '--watch', '1', '--count', '1', '-z');
    expect(watch.stdout).toMatch(/^#\d{4}-.*\(\+1s\)\nMPTcpExtMPCapableSYNRX +0\n/);
  });
});
