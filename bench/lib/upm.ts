// Path-manager framework phase: time from a connection's `established` to its join's SUBFLOW_CREATE
// being done (the SYN has left), framework against a hand-wired events→createSubflow loop in the same
// run, and the event rate the framework keeps up with (no overrun, every connection joined).

import { MptcpEvents } from '../../src/mptcp/events/events.js';
import { MptcpPm } from '../../src/mptcp/pm/pm.js';
import { ConnectionTracker } from '../../src/mptcp/tracker/tracker.js';
import { UserspacePathManager } from '../../src/upm/manager.js';
import { subflowPerAddress } from '../../src/upm/policies/subflow-per-address.js';
import type { PmLike } from '../../src/upm/actions.js';
import { nsExec } from './netns.js';
import { quantile } from './stats.js';
import { runClient, type Topology } from './storm.js';

const JOIN_FROM = { address: '198.51.100.1', id: 2 };

export interface UpmRun {
  label: string;
  tool: 'framework' | 'hand-wired';
  connections: number;
  joined: number;
  /** The established fact reaching JS (the tool's own event socket) → SUBFLOW_CREATE acknowledged, ms. */
  samples: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** The fact reaching JS → the SUBFLOW_CREATE call starting (the tool's own dispatch), ms. */
  dispatchP50Ms: number;
  dispatchP99Ms: number;
  /** Events the namespace produced per second while the load ran (observer count). */
  eventsPerSec: number;
  events: number;
  resyncs: number;
  failures: number;
  seconds: number;
}


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One run: `count` connections, each joined by `tool` from 198.51.100.1. */
export async function upmRun(t: Topology, tool: UpmRun['tool'], label: string, count: number, workers: number): Promise<UpmRun> {
  nsExec(t.cli, ['sysctl', '-qw', 'net.mptcp.path_manager=userspace']);
  const observer = await MptcpEvents.open({ netns: t.cli });
  const estAt = new Map<number, number>();
  const doneAt = new Map<number, number>();
  const callAt = new Map<number, number>();
  let events = 0;
  let first = 0;
  let last = 0;
  observer.on('event', (e) => {
    last = performance.now();
    if (events++ === 0) first = last;
  });
  const pm = await MptcpPm.open({ netns: t.cli });
  const timed: PmLike & { close(): void } = {
    createSubflow: async (s) => {
      if (!callAt.has(s.token)) callAt.set(s.token, performance.now());
      await pm.createSubflow(s);
      doneAt.set(s.token, performance.now());
    },
    destroySubflow: (s) => pm.destroySubflow(s),
    announce: (s) => pm.announce(s),
    removeAddress: (s) => pm.removeAddress(s),
    setSubflowBackup: (s) => pm.setSubflowBackup(s),
    close: () => pm.close(),
  };
  let failures = 0;
  let stop: () => Promise<void>;
  let resyncs = (): number => 0;
  if (tool === 'framework') {
    const events = await MptcpEvents.open({ netns: t.cli, types: ['announced', 'removed', 'subClosed'] });
    const tracker = await ConnectionTracker.open({ netns: t.cli });
    // Registered before the framework's own listeners: the moment the fact reaches JS.
    const seen = (c: { token: number; established: boolean; serverSide?: boolean }): void => {
      if (c.established && c.serverSide !== true && !estAt.has(c.token)) estAt.set(c.token, performance.now());
    };
    tracker.on('connection', seen);
    tracker.on('updated', seen);
    const upm = UserspacePathManager.attach({ tracker, events, pm: timed, localAddresses: () => [JOIN_FROM.address] }, subflowPerAddress({ addresses: [JOIN_FROM] }));
    upm.on('error', () => void failures++);
    resyncs = () => upm.stats.resyncs;
    stop = () => upm.stop();
  } else {
    const events = await MptcpEvents.open({ netns: t.cli, types: ['established'] });
    events.on('established', (e) => {
      estAt.set(e.token, performance.now());
      if (e.serverSide || e.remoteAddress === undefined || e.remotePort === undefined) return;
      timed.createSubflow({ token: e.token, local: JOIN_FROM, remote: { address: e.remoteAddress, port: e.remotePort } }).catch(() => void failures++);
    });
    stop = async () => {
      events.close();
      timed.close();
    };
  }
  let load;
  try {
    load = await runClient(t.cli, count, workers);
    const deadline = performance.now() + 10_000;
    let seen = -1;
    while (seen !== events && performance.now() < deadline) {
      seen = events;
      await sleep(300);
    }
  } finally {
    await stop();
    observer.close();
  }
  const lat: number[] = [];
  const toCall: number[] = [];
  for (const [token, at] of doneAt) {
    const e = estAt.get(token);
    if (e !== undefined) lat.push(at - e);
    const c = callAt.get(token);
    if (e !== undefined && c !== undefined) toCall.push(c - e);
  }
  const s = Float64Array.from(lat).sort();
  const d = Float64Array.from(toCall).sort();
  return {
    label, tool, connections: load.ok, joined: load.joined, samples: s.length,
    p50Ms: s.length ? quantile(s, 0.5) : NaN, p99Ms: s.length ? quantile(s, 0.99) : NaN,
    meanMs: s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN,
    dispatchP50Ms: d.length ? quantile(d, 0.5) : NaN, dispatchP99Ms: d.length ? quantile(d, 0.99) : NaN,
    eventsPerSec: events > 1 ? events / ((last - first) / 1000) : 0, events, resyncs: resyncs(), failures, seconds: load.seconds,
  };
}

export function upmLines(runs: UpmRun[]): string[] {
  const out = ['Userspace path-manager framework (client on the userspace PM, one join per connection from 198.51.100.1):'];
  out.push('| run | tool | connections (joined) | established → SUBFLOW_CREATE done p50 / p99 / mean ms | of which dispatch p50 / p99 ms | events/s | resyncs | failures |');
  out.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of runs) {
    out.push(`| ${r.label} | ${r.tool} | ${r.connections} (${r.joined}) | ${r.p50Ms.toFixed(2)} / ${r.p99Ms.toFixed(2)} / ${r.meanMs.toFixed(2)} (${r.samples}) | ${r.dispatchP50Ms.toFixed(3)} / ${r.dispatchP99Ms.toFixed(3)} | ${r.eventsPerSec.toFixed(0)} | ${r.resyncs} | ${r.failures} |`);
  }
  const pair = (label: string): string | undefined => {
    const f = runs.find((r) => r.label === label && r.tool === 'framework');
    const h = runs.find((r) => r.label === label && r.tool === 'hand-wired');
    return f && h ? `${label}: framework / hand-wired p50 ${(f.p50Ms / h.p50Ms).toFixed(2)}×, p99 ${(f.p99Ms / h.p99Ms).toFixed(2)}×` : undefined;
  };
  for (const l of [...new Set(runs.map((r) => r.label))]) {
    const p = pair(l);
    if (p) out.push(p);
  }
  return out;
}
