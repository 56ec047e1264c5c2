// The C reference (../shared/bench/nlbench.c, raw AF_NETLINK, no library): located, compiled with
// `cc -O2` into bench/out/bin, run inside a scratch namespace, its RESULT lines parsed into rows.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Row } from './stats.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const OUT_DIR = join(REPO, 'bench', 'out');

/** Directory holding nlbench.c and nlcommon.h: $MPTCP_PM_BENCH_REF, else ../shared/bench next to the repo. */
export function refDir(): string {
  const fromEnv = process.env.MPTCP_PM_BENCH_REF;
  const dir = fromEnv ? resolve(fromEnv) : resolve(REPO, '..', 'shared', 'bench');
  for (const f of ['nlbench.c', 'nlcommon.h']) {
    if (!existsSync(join(dir, f))) {
      throw new Error(
        `the C reference is missing: ${join(dir, f)} not found.\n` +
          `  Put nlbench.c and nlcommon.h in ../shared/bench (next to this repository) or set MPTCP_PM_BENCH_REF=/path/to/dir.`,
      );
    }
  }
  return dir;
}

/** Compiles nlbench (when the source is newer than the binary) and returns the binary's path. */
export function buildRef(): string {
  const dir = refDir();
  const binDir = join(OUT_DIR, 'bin');
  mkdirSync(binDir, { recursive: true });
  const bin = join(binDir, 'nlbench');
  const src = join(dir, 'nlbench.c');
  const stale = !existsSync(bin) || statSync(bin).mtimeMs < Math.max(statSync(src).mtimeMs, statSync(join(dir, 'nlcommon.h')).mtimeMs);
  if (stale) {
    try {
      execFileSync('cc', ['-O2', '-Wall', '-o', bin, src], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      throw new Error(`cc -O2 ${src} failed (needs a C compiler and linux-libc-dev):\n${(e as { stderr?: Buffer }).stderr?.toString() ?? e}`);
    }
  }
  return bin;
}

const PHASE_MAP: Record<string, string> = {
  add: 'add', del: 'delete', 'dump(full,8 entries)': 'dump', get_limits: 'limits', 'flush(8 entries)': 'flush',
};

/** Runs the reference in namespace `ns`; returns rows keyed by our phase names. */
export function runRef(bin: string, ns: string, n: { add: number; dump: number; limits: number; flush: number }): Row[] {
  const out = execFileSync('ip', ['netns', 'exec', ns, bin, '-n', String(n.add), '-d', String(n.dump), '-l', String(n.limits), '-F', String(n.flush)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const rows: Row[] = [];
  for (const line of out.split('\n')) {
    const m = /^RESULT tool=c-raw phase=(.+?) ops=(\d+) total_ms=([\d.]+) ops_per_s=(\d+) p50_us=([\d.]+) p99_us=([\d.]+)/.exec(line);
    if (!m || !PHASE_MAP[m[1]]) continue;
    const ops = Number(m[2]);
    rows.push({
      phase: PHASE_MAP[m[1]], tool: 'c-raw', ops,
      opsPerSec: Number(m[4]), meanUs: (Number(m[3]) * 1e3) / ops,
      p50Us: Number(m[5]), p99Us: Number(m[6]),
    });
  }
  if (rows.length < 4) throw new Error(`nlbench printed no usable RESULT lines:\n${out}`);
  return rows;
}
