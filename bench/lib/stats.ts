// Latency statistics shared by every tool of the benchmark (same percentile rule as the C
// reference: the sorted sample at index floor(q·(n−1))), and the row type of the result table.

/** One tool on one phase. Times in microseconds. */
export interface Row {
  phase: string;
  tool: string;
  ops: number;
  opsPerSec: number;
  /** Mean time per operation (µs): total / ops. */
  meanUs: number;
  p50Us: number | null;
  p99Us: number | null;
  /** meanUs / the C reference's meanUs in the same run. */
  ratio?: number | null;
  /** p50Us / the C reference's p50Us. */
  ratioP50?: number | null;
  note?: string;
}

export function quantile(sorted: ArrayLike<number>, q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))];
}

/** Row from per-operation latencies in nanoseconds. */
export function rowFromNs(phase: string, tool: string, latNs: number[], note?: string): Row {
  const s = Float64Array.from(latNs).sort();
  let total = 0;
  for (const v of s) total += v;
  const row: Row = {
    phase, tool, ops: s.length,
    opsPerSec: s.length / (total / 1e9),
    meanUs: total / s.length / 1e3,
    p50Us: quantile(s, 0.5) / 1e3,
    p99Us: quantile(s, 0.99) / 1e3,
  };
  if (note) row.note = note;
  return row;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** Combines the rounds of one tool/phase: the median of each figure across rounds. */
export function combineRounds(rows: Row[]): Row {
  const pick = (f: (r: Row) => number | null): number | null => {
    const v = rows.map(f).filter((x): x is number => x !== null && Number.isFinite(x));
    return v.length ? median(v) : null;
  };
  const out: Row = {
    phase: rows[0].phase, tool: rows[0].tool, ops: rows[0].ops,
    opsPerSec: pick((r) => r.opsPerSec) ?? 0,
    meanUs: pick((r) => r.meanUs) ?? 0,
    p50Us: pick((r) => r.p50Us),
    p99Us: pick((r) => r.p99Us),
  };
  if (rows[0].note) out.note = rows[0].note;
  return out;
}

export const nowNs = (): number => Number(process.hrtime.bigint());

/**
 * The request bars of the dump and GET_LIMITS rows: with 64 callers in flight no slower per operation
 * than `ip -batch` and faster than one caller at a time; one at a time ≤ 1.5× `ip -batch`.
 */
export function requestBars(rows: Row[]): string[] {
  const out: string[] = [];
  for (const phase of ['dump', 'limits']) {
    const one = rows.find((r) => r.phase === phase && r.tool === 'mptcp-pm');
    const many = rows.find((r) => r.phase === phase && r.tool.startsWith('mptcp-pm') && r.tool.endsWith('in flight'));
    const ip = rows.find((r) => r.phase === phase && r.tool === 'ip -batch');
    if (!one || !many || !ip) continue;
    const m = (ok: boolean, text: string): string => `  ${ok ? 'MET   ' : 'MISSED'} ${phase.padEnd(6)} ${text}`;
    out.push(
      m(many.meanUs <= ip.meanUs, `in flight ${(many.meanUs / ip.meanUs).toFixed(2)}× ip -batch (bar ≤ 1×)`),
      m(many.meanUs < one.meanUs, `in flight ${(many.meanUs / one.meanUs).toFixed(2)}× one at a time (bar < 1×)`),
      m(one.meanUs <= 1.5 * ip.meanUs, `one at a time ${(one.meanUs / ip.meanUs).toFixed(2)}× ip -batch (bar ≤ 1.5×)`),
    );
  }
  return out;
}
