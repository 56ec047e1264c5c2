// Event-storm phase: two scratch namespaces joined by two veth paths, a python MPTCP server and
// client (bench/load/mptcp_load.py), the client's kernel PM adding one subflow per connection over
// the second path, and MptcpEvents counting what arrives against the kernel's own MIB counters.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { MptcpEvents } from '../../src/mptcp/events/events.js';
import { GenlSocket } from '../../src/netlink/genl/socket.js';
import { REPO } from './cref.js';
import { createNetns, ip, nsExec, startReady, trackChild, untrackChild } from './netns.js';
import { SYSTEM_PYTHON } from './peers.js';

const LOAD = join(REPO, 'bench', 'load', 'mptcp_load.py');
const PORT = 5201;

export interface StormResult {
  label: string;
  connections: number;
  connectionsWithSubflow: number;
  failedConnections: number;
  loadSeconds: number;
  received: Record<string, number>;
  receivedTotal: number;
  /** From the client namespace's MPTcpExt counters (MPCapableSYNACKRX, MPJoinSynAckRx). */
  kernelCounted: { created: number; established: number; subEstablished: number; closed: number };
  /** Σ max(0, kernel-counted − received) over created, established, subEstablished, closed. */
  lost: number;
  /** Sum of `lost` in overrun events (null when an overrun had no count). */
  overrunReported: number | null;
  overruns: number;
  socketDrops: number | undefined;
  eventsPerSec: number;
  stallMs: number;
}

export interface Topology { cli: string; srv: string }

export function buildTopology(): Topology {
  const cli = createNetns('cli');
  const srv = createNetns('srv');
  ip('-n', cli, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'a1', 'netns', srv);
  ip('-n', cli, 'link', 'add', 'b0', 'type', 'veth', 'peer', 'name', 'b1', 'netns', srv);
  for (const [ns, dev, addr] of [[cli, 'a0', '192.0.2.1/24'], [cli, 'b0', '198.51.100.1/24'], [srv, 'a1', '192.0.2.2/24'], [srv, 'b1', '198.51.100.2/24']]) {
    ip('-n', ns, 'addr', 'add', addr, 'dev', dev);
    ip('-n', ns, 'link', 'set', dev, 'up');
  }
  for (const ns of [cli, srv]) {
    nsExec(ns, ['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0', 'net.mptcp.enabled=1', 'net.ipv4.tcp_tw_reuse=1']);
    ip('-n', ns, 'mptcp', 'limits', 'set', 'subflows', '1', 'add_addr_accepted', '0');
  }
  // The second path: the subflow endpoint is bound to b0, and b0 has its own (higher-metric) route to the server.
  ip('-n', cli, 'route', 'add', '192.0.2.0/24', 'via', '198.51.100.2', 'dev', 'b0', 'metric', '100');
  ip('-n', cli, 'mptcp', 'endpoint', 'add', '198.51.100.1', 'dev', 'b0', 'subflow');
  return { cli, srv };
}

/** Starts the echo server in `srv`; resolves with a stop function once it listens. */
export function startServer(srv: string): Promise<() => void> {
  return startReady(srv, [SYSTEM_PYTHON, LOAD, 'server', String(PORT)], 'MPTCP server');
}

/** What the load generator prints when a client run ends. */
export interface LoadResult { ok: number; joined: number; failed: number; seconds: number }

/** Runs bench/load/mptcp_load.py with `args` in namespace `cli`; resolves with the JSON it prints. */
export function runLoad(cli: string, args: string[], what = 'load client'): Promise<LoadResult> {
  const child = spawn('ip', ['netns', 'exec', cli, SYSTEM_PYTHON, LOAD, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  trackChild(child.pid);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      untrackChild(child.pid);
      if (code !== 0) reject(new Error(`${what} exited with ${code}`));
      else resolve(JSON.parse(out));
    });
  });
}

/** `count` connections from 192.0.2.1 to the echo server, `workers` at a time. */
export function runClient(cli: string, count: number, workers: number): Promise<LoadResult> {
  return runLoad(cli, ['client', '192.0.2.2', String(PORT), String(count), String(workers)]);
}

function mptcpMib(ns: string): Record<string, number> {
  const lines = nsExec(ns, ['cat', '/proc/net/netstat']).split('\n').filter((l) => l.startsWith('MPTcpExt:'));
  const names = lines[0].trim().split(/\s+/).slice(1);
  const vals = lines[1].trim().split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, vals[i]]));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * One storm: `count` connections while MptcpEvents (default settings) counts events in the client
 * namespace. With `stallMs`, the JS thread blocks that long once half the expected events arrived.
 * `capture` receives the raw (cmd, attribute bytes) of every event, from a second socket.
 */
export async function storm(t: Topology, label: string, count: number, workers: number, stallMs = 0, capture?: [number, Buffer][]): Promise<StormResult> {
  const before = mptcpMib(t.cli);
  const events = await MptcpEvents.open({ netns: t.cli });
  let raw: GenlSocket | undefined;
  if (capture) {
    raw = await GenlSocket.open('mptcp_pm', { netns: t.cli, receiveBufferBytes: 16 << 20 });
    raw.joinGroup('mptcp_pm_events');
    raw.onNotification((cmd, _v, attrs) => void capture.push([cmd, Buffer.from(attrs)]));
  }
  const received: Record<string, number> = {};
  let total = 0;
  let first = 0;
  let last = 0;
  let stalled = stallMs === 0;
  let overrunReported: number | null = 0;
  let overruns = 0;
  const expectedHalf = count * 2;
  const onEvent = (type: string): void => {
    received[type] = (received[type] ?? 0) + 1;
    total++;
    last = performance.now();
    if (total === 1) first = last;
    if (!stalled && total >= expectedHalf) {
      stalled = true;
      const until = performance.now() + stallMs;
      while (performance.now() < until) {
        /* the consumer stalls: nothing is read for stallMs */
      }
    }
  };
  for (const type of ['created', 'established', 'closed', 'announced', 'removed', 'subEstablished', 'subClosed', 'subPriority', 'listenerCreated', 'listenerClosed', 'unknown', 'invalid'] as const) {
    events.on(type, () => onEvent(type));
  }
  events.on('overrun', (o) => {
    overruns++;
    overrunReported = o.lost === undefined || overrunReported === null ? null : overrunReported + o.lost;
  });
  let load;
  let drops: number | undefined;
  try {
    load = await runClient(t.cli, count, workers);
    // let the last events arrive: wait for 500 ms without any (at most 15 s)
    const deadline = performance.now() + 15_000;
    let seen = -1;
    while (seen !== total && performance.now() < deadline) {
      seen = total;
      await sleep(500);
    }
  } finally {
    drops = events.readDrops();
    events.close();
    raw?.close();
  }
  const after = mptcpMib(t.cli);
  const d = (k: string): number => (after[k] ?? 0) - (before[k] ?? 0);
  const kernelCounted = { created: d('MPCapableSYNACKRX'), established: d('MPCapableSYNACKRX'), subEstablished: d('MPJoinSynAckRx'), closed: d('MPCapableSYNACKRX') };
  let lost = 0;
  for (const k of Object.keys(kernelCounted) as (keyof typeof kernelCounted)[]) lost += Math.max(0, kernelCounted[k] - (received[k] ?? 0));
  return {
    label, connections: load.ok, connectionsWithSubflow: load.joined, failedConnections: load.failed, loadSeconds: load.seconds,
    received, receivedTotal: total, kernelCounted, lost, overrunReported, overruns, socketDrops: drops,
    eventsPerSec: total > 1 ? total / ((last - first) / 1000) : 0, stallMs,
  };
}
