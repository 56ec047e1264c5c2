// The exporter against namespaces with live MPTCP connections, scraped by a real Prometheus server
// (Debian's `prometheus`): up == 1, every MPTcpExt counter equal to nstat's, connections and subflows
// equal to ss -M / ss -t, endpoints and limits.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { MAIN } from './helpers/cli.js';
import { kernelIt, waitFor } from './helpers/netns.js';
import { testResources } from './helpers/topology.js';
import { promtool } from './helpers/promtool.js';
import { counterMetricName } from '../src/exporter/netstat.js';

const it = kernelIt();
const { cleanup, topology } = testResources();

/** A free loopback port (bound, read, released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts a process; its output is kept; killed by pid at cleanup. */
function start(cmd: string, args: string[]): { proc: ChildProcess; output: () => string } {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  cleanup.push(async () => {
    if (proc.exitCode === null && proc.signalCode === null && proc.pid) process.kill(proc.pid, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (proc.exitCode === null && proc.signalCode === null && proc.pid) process.kill(proc.pid, 'SIGKILL');
  });
  return { proc, output: () => out };
}

/** `nstat -asz` in a namespace: every MPTcpExt counter by its kernel name. */
async function nstat(exec: (cmd: string, args: string[]) => Promise<string>): Promise<Map<string, number>> {
  const out = await exec('nstat', ['-asz']);
  const m = new Map<string, number>();
  for (const line of out.split('\n')) {
    const f = /^MPTcpExt(\S+)\s+(\d+)/.exec(line);
    if (f) m.set(f[1], Number(f[2]));
  }
  return m;
}

interface PromSample { metric: Record<string, string>; value: [number, string] }

async function query(base: string, q: string): Promise<PromSample[]> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await res.json()) as { status: string; data: { result: PromSample[] } };
  if (body.status !== 'success') throw new Error(`query ${q}: ${JSON.stringify(body)}`);
  return body.data.result;
}

describe('exporter scraped by Prometheus', () => {
  it('up == 1, counters equal nstat in each namespace, endpoints and limits as configured', { timeout: 120_000 }, async () => {
    const t = await topology('exp');
    const [p1, p2] = t.paths;
    // A second path the in-kernel PM uses: the server announces its path-2 address, the client joins it.
    await t.server.ip('mptcp', 'endpoint', 'add', p2.server, 'dev', p2.ifname, 'signal');
    await t.client.ip('mptcp', 'endpoint', 'add', p2.client, 'dev', p2.ifname, 'subflow');
    for (const ns of [t.client, t.server]) await ns.ip('mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2');
    const server = await t.peer(t.server, ['server', '--addr', p1.server, '--count', '3'], { timeoutS: 90 });
    const port = Number((await server.waitLine(/^READY (\d+)/))[1]);
    const client = await t.peer(t.client, ['client', '--addr', p1.server, '--port', String(port), '--count', '3', '--hold'], { timeoutS: 90 });
    await waitFor(async () => {
      client.send('info');
      await new Promise((r) => setTimeout(r, 100));
      return client.lines.filter((l) => /^INFO .*subflows=1$/.test(l)).length >= 3;
    }, { timeoutMs: 20_000, what: 'three connections with their second subflow', intervalMs: 200 });

    const exporter = start(process.execPath, [MAIN, 'exporter', '--listen', '127.0.0.1:0', '-n', t.client.name, '-n', t.server.name]);
    const listen = await waitFor(() => /serving http:\/\/(127\.0\.0\.1:\d+)\/metrics/.exec(exporter.output())?.[1], { timeoutMs: 15_000, what: `exporter to listen (${exporter.output()})`, intervalMs: 50 });

    // Many scrapers at once: every answer is a complete exposition with both namespaces.
    const texts = await Promise.all(Array.from({ length: 16 }, () => fetch(`http://${listen}/metrics`).then((r) => r.text())));
    for (const text of texts) {
      for (const ns of [t.client.name, t.server.name]) expect(text).toContain(`mptcp_limit_subflows{netns="${ns}"} 2`);
      expect(text).toMatch(/^mptcp_exporter_source_up\{netns="[^"]+",source="pm"\} 1$/m);
    }
    // Prometheus's own lint of the exposition (names, units, types, help) finds nothing.
    expect(await promtool(['check', 'metrics'], { input: texts[0] })).toEqual({ status: 0, out: '' });

    const dir = mkdtempSync(join(tmpdir(), 'mptcppm-prom-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'prometheus.yml'), [
      'global:', '  scrape_interval: 1s', '  scrape_timeout: 900ms',
      'scrape_configs:', '  - job_name: mptcp', '    static_configs:', `      - targets: ['${listen}']`, '',
    ].join('\n'));
    const promPort = await freePort();
    const prom = start('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn',
    ]);
    const base = `http://127.0.0.1:${promPort}`;
    await waitFor(async () => (await query(base, 'up{job="mptcp"} == 1')).length === 1,
      { timeoutMs: 30_000, what: `Prometheus to scrape the exporter with up == 1 (${prom.output().slice(-500)})`, intervalMs: 250 });

    for (const ns of [t.client, t.server]) {
      // The connections are idle, so the counters stand still; wait for a scrape that saw them.
      const expected = await nstat((cmd, args) => ns.exec(cmd, args));
      expect((expected.get('MPJoinSynRx') ?? 0) + (expected.get('MPJoinSynAckRx') ?? 0)).toBeGreaterThan(0);
      let diff: string[] = [];
      await waitFor(async () => {
        const got = new Map((await query(base, `{__name__=~"mptcp_ext_.*", netns="${ns.name}"}`)).map((s) => [s.metric.__name__, Number(s.value[1])]));
        diff = [...expected].filter(([k, v]) => got.get(counterMetricName(k)) !== v).map(([k, v]) => `${k}: nstat ${v}, prometheus ${got.get(counterMetricName(k))}`);
        return diff.length === 0;
      }, { timeoutMs: 15_000, what: `counters of ${ns.name} equal to nstat (${diff.join('; ')})`, intervalMs: 250 });
    }

    const value = async (q: string): Promise<number> => Number((await query(base, q))[0]?.value[1]);
    // Connections and subflows as ss sees them: MPTCP sockets (ss -M) and their TCP subflows (ss -t).
    for (const ns of [t.client, t.server]) {
      const count = async (args: string[]): Promise<number> => (await ns.exec('ss', args)).split('\n').filter((l) => l.trim()).length;
      const [conns, subs] = await Promise.all([count(['-HMn', 'state', 'established']), count(['-Htn', 'state', 'established'])]);
      expect(conns).toBe(3);
      expect(subs).toBe(6);
      await waitFor(async () => (await value(`mptcp_connections{netns="${ns.name}", state="established"}`)) === conns &&
        (await value(`mptcp_subflows{netns="${ns.name}", state="established"}`)) === subs,
      { timeoutMs: 15_000, what: `connections and subflows of ${ns.name} equal to ss -M / ss -t`, intervalMs: 250 });
    }
    expect(await value(`mptcp_connections{netns="${t.client.name}", state="established", path_manager="kernel"}`)).toBe(3);
    expect(await value(`mptcp_endpoints{netns="${t.client.name}", flag="subflow"}`)).toBe(1);
    expect(await value(`mptcp_endpoints{netns="${t.server.name}", flag="signal"}`)).toBe(1);
    expect(await value(`mptcp_limit_subflows{netns="${t.client.name}"}`)).toBe(2);
    expect((await query(base, `mptcp_endpoint_info{netns="${t.client.name}", address="${p2.client}", flags="subflow", dev="${p2.ifname}"}`)).length).toBe(1);
    expect(await value(`mptcp_path_manager_info{netns="${t.client.name}", type="kernel"}`)).toBe(1);
    expect(await value('sum(mptcp_exporter_source_up)')).toBe(8);

    // Events counted while the exporter runs: closing the three connections gives three `closed` on each side.
    client.send('close');
    await client.waitLine(/^DONE/);
    for (const ns of [t.client, t.server]) {
      await waitFor(async () => (await value(`mptcp_events_total{netns="${ns.name}", type="closed"}`)) === 3,
        { timeoutMs: 15_000, what: `3 closed events counted in ${ns.name}`, intervalMs: 250 });
    }
    expect(await value('sum(mptcp_events_lost_total)')).toBe(0);
  });
});
