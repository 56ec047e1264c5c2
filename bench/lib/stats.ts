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
