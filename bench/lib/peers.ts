// The peers on the request/response phases: pyroute2 (Debian's python3-pyroute2 under
// /usr/bin/python3) with per-operation timings, and `ip -batch` (iproute2) timed per batch.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OUT_DIR, REPO } from './cref.js';
import { median, nowNs, rowFromNs, type Row } from './stats.js';
import type { OpCounts } from './pm-ops.js';

export const SYSTEM_PYTHON = '/usr/bin/python3';

/** Throws a clear error when Debian's pyroute2 is not importable by /usr/bin/python3. */
export function checkPyroute2(): void {
  const r = spawnSync(SYSTEM_PYTHON, ['-c', 'from pyroute2.netlink.generic.mptcp import MPTCP'], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`pyroute2 is not available to ${SYSTEM_PYTHON} (apt-get install python3-pyroute2): ${r.stderr || r.error}`);
  }
}

export function runPyroute2(ns: string, n: OpCounts): Row[] {
  const out = execFileSync('ip', ['netns', 'exec', ns, SYSTEM_PYTHON, join(REPO, 'bench', 'pyroute2_ops.py'), String(n.add), String(n.dump), String(n.limits)], {
    encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const r = JSON.parse(out) as Record<'add' | 'delete' | 'dump' | 'limits', number[]>;
  return [
    rowFromNs('add', 'pyroute2', r.add),
    rowFromNs('delete', 'pyroute2', r.delete),
    rowFromNs('dump', 'pyroute2', r.dump),
    rowFromNs('limits', 'pyroute2', r.limits),
  ];
}

/** Wall time (ns) of one `ip -n NS -batch FILE` process. */
function batchNs(ns: string, file: string): number {
  const t0 = nowNs();
  const r = spawnSync('ip', ['-n', ns, '-batch', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  const dt = nowNs() - t0;
  if (r.status !== 0) throw new Error(`ip -batch ${file} failed: ${r.stderr?.toString()}`);
  return dt;
}

/**
 * `ip -batch`: one process runs a whole file, so only its mean time per operation is observable:
 * (median wall time of a batch − median wall time of an empty batch) / operations in the batch.
 * Adds and deletes go 8 to a batch (the cap), repeated; dumps and limits run in one long batch.
 */
export function runIpBatch(ns: string, n: OpCounts): Row[] {
  const dir = join(OUT_DIR, 'tmp');
  mkdirSync(dir, { recursive: true });
  const f = (name: string, lines: string[]): string => {
    const p = join(dir, `${process.pid}-${name}.batch`);
    writeFileSync(p, lines.length ? `${lines.join('\n')}\n` : '');
    return p;
  };
  const ids = [1, 2, 3, 4, 5, 6, 7, 8];
  const empty = f('empty', []);
  const adds = f('add', ids.map((i) => `mptcp endpoint add 192.0.2.${i} id ${i} signal`));
  const dels = f('del', ids.map((i) => `mptcp endpoint delete id ${i}`));
  const flush = f('flush', ['mptcp endpoint flush']);
  const dumps = f('dump', new Array<string>(n.dump).fill('mptcp endpoint show'));
  const lims = f('limits', new Array<string>(n.limits).fill('mptcp limits show'));
  const reps = Math.max(5, Math.ceil(n.add / 8));

  batchNs(ns, flush);
  const tEmpty: number[] = [];
  const tAdd: number[] = [];
  const tDel: number[] = [];
  for (let r = 0; r < reps; r++) {
    tEmpty.push(batchNs(ns, empty));
    tAdd.push(batchNs(ns, adds));
    tDel.push(batchNs(ns, dels));
  }
  const base = median(tEmpty);
  batchNs(ns, adds);
  const tDump = [batchNs(ns, dumps), batchNs(ns, dumps), batchNs(ns, dumps)];
  batchNs(ns, flush);
  const tLim = [batchNs(ns, lims), batchNs(ns, lims), batchNs(ns, lims)];
  const row = (phase: string, perBatch: number, ops: number, reps2: number): Row => {
    // A short batch can take less than the median empty one: its operations are then below the
    // start-up noise of the process, and no figure is given rather than a made-up zero.
    const meanNs = perBatch > base ? (perBatch - base) / ops : Number.NaN;
    return {
      phase, tool: 'ip -batch', ops: ops * reps2, opsPerSec: 1e9 / meanNs, meanUs: meanNs / 1e3, p50Us: null, p99Us: null,
      note: Number.isNaN(meanNs)
        ? 'not measurable: the batch took no longer than an empty one'
        : 'mean per op inside one batch process (start-up subtracted); per-op latency not observable',
    };
  };
  return [
    row('add', median(tAdd), 8, reps),
    row('delete', median(tDel), 8, reps),
    row('dump', median(tDump), n.dump, 3),
    row('limits', median(tLim), n.limits, 3),
  ];
}
