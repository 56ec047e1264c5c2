// mptcp-pm on the request/response phases: the public API (addEndpoint, deleteEndpoint,
// listEndpoints, getLimits) and the raw op path (pm.run), timed per call with hrtime.

import { MptcpPm } from '../../src/mptcp/pm/pm.js';
import { type Row, nowNs, rowFromNs } from './stats.js';

export interface OpCounts { add: number; dump: number; limits: number }

/** `192.0.2.<id>` as the `address` attribute set carries it. */
function wire4(id: number): { family: number; id: number; addr4: number; flags: number } {
  return { family: 2, id, addr4: ((192 << 24) >>> 0) + (0 << 16) + (2 << 8) + id, flags: 1 };
}

/**
 * Adds in cycles of 8 (the kernel's cap), one dump per cycle, then deletes them; `raw` adds through
 * pm.run('addAddr'), `noReturn` through addEndpoint(spec, { returnStored: false }), `public` through
 * addEndpoint(spec) (ADD_ADDR + a dump to return the stored endpoint).
 */
async function cycles(pm: MptcpPm, n: number, mode: 'public' | 'raw' | 'noReturn', add: number[], del: number[]): Promise<void> {
  await pm.flushEndpoints();
  let done = 0;
  while (done < n) {
    const k = Math.min(8, n - done);
    for (let id = 1; id <= k; id++) {
      const t0 = nowNs();
      if (mode === 'raw') await pm.run('addAddr', { addr: wire4(id) });
      else if (mode === 'public') await pm.addEndpoint({ address: `192.0.2.${id}`, id, flags: ['signal'] });
      else await pm.addEndpoint({ address: `192.0.2.${id}`, id, flags: ['signal'] }, { returnStored: false });
      add.push(nowNs() - t0);
    }
    const list = await pm.listEndpoints();
    if (list.length !== k) throw new Error(`dump after adds: ${list.length} endpoints, expected ${k}`);
    for (let id = 1; id <= k; id++) {
      const t0 = nowNs();
      await pm.deleteEndpoint(id);
      del.push(nowNs() - t0);
    }
    done += k;
  }
}

/** How many requests the "in flight" rows keep outstanding at once. */
export const IN_FLIGHT = 64;

/**
 * Runs `n` calls of `call` with `window` of them outstanding at any time (a sliding window, as many
 * concurrent callers of a daemon would) and returns a row whose mean is the total time over `n`.
 */
async function inFlight(phase: string, tool: string, n: number, window: number, call: () => Promise<unknown>, note: string): Promise<Row> {
  let next = 0;
  const t0 = nowNs();
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      await call();
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  const total = nowNs() - t0;
  return { phase, tool, ops: n, opsPerSec: n / (total / 1e9), meanUs: total / n / 1e3, p50Us: null, p99Us: null, note };
}

/** One round of every request/response phase in namespace `ns`. */
export async function runPm(ns: string, n: OpCounts): Promise<Row[]> {
  const pm = await MptcpPm.open({ netns: ns });
  try {
    // warm-up: JIT, plans, the koffi worker
    const a: number[] = [];
    const d: number[] = [];
    await cycles(pm, 64, 'public', a, d);
    await cycles(pm, 64, 'raw', a, d);
    for (let i = 0; i < 500; i++) await pm.getLimits();

    const addPub: number[] = [];
    const addRaw: number[] = [];
    const addNoRet: number[] = [];
    const del: number[] = [];
    await cycles(pm, n.add, 'public', addPub, del);
    await cycles(pm, n.add, 'raw', addRaw, del);
    await cycles(pm, n.add, 'noReturn', addNoRet, del);

    await pm.flushEndpoints();
    for (let id = 1; id <= 8; id++) await pm.run('addAddr', { addr: wire4(id) });
    const dump: number[] = [];
    for (let i = 0; i < n.dump; i++) {
      const t0 = nowNs();
      const list = await pm.listEndpoints();
      dump.push(nowNs() - t0);
      if (list.length !== 8) throw new Error(`full dump: ${list.length} endpoints`);
    }
    const dumpInFlight = await inFlight('dump', `mptcp-pm ${IN_FLIGHT} in flight`, n.dump, IN_FLIGHT, async () => {
      const list = await pm.listEndpoints();
      if (list.length !== 8) throw new Error(`full dump: ${list.length} endpoints`);
    }, `listEndpoints by ${IN_FLIGHT} concurrent callers (dumps run one at a time per socket)`);
    await pm.flushEndpoints();

    const lim: number[] = [];
    for (let i = 0; i < n.limits; i++) {
      const t0 = nowNs();
      await pm.getLimits();
      lim.push(nowNs() - t0);
    }
    const limInFlight = await inFlight('limits', `mptcp-pm ${IN_FLIGHT} in flight`, n.limits, IN_FLIGHT, () => pm.getLimits(),
      `getLimits by ${IN_FLIGHT} concurrent callers`);
    const rows = [
      rowFromNs('add', 'mptcp-pm addEndpoint', addPub, 'ADD_ADDR + a lookup to return the stored endpoint'),
      rowFromNs('add', 'mptcp-pm addEndpoint(…, {returnStored:false})', addNoRet, 'validation + one ADD_ADDR'),
      rowFromNs('add', 'mptcp-pm run(addAddr)', addRaw, 'internal op path: one ADD_ADDR request'),
    ];
    rows.push(
      rowFromNs('delete', 'mptcp-pm', del, 'deleteEndpoint (sendto on a worker thread)'),
      rowFromNs('dump', 'mptcp-pm', dump, 'listEndpoints, 8 endpoints'),
      dumpInFlight,
      rowFromNs('limits', 'mptcp-pm', lim, 'getLimits'),
      limInFlight,
    );
    return rows;
  } finally {
    pm.close();
  }
}
