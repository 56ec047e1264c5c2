// `npx tsx bench/losses.ts`: long-lived MPTCP connections losing their second subflow (address removed
// and re-added, link down for a while, subflow killed with `ss -K`) under the in-kernel PM alone, with
// `auto`, and on the userspace PM's kernelCompatible policy; which connections get it back, and how
// long after the path is usable again. Scratch namespaces, always removed. Also run (its link row,
// the two healing setups) by `npm run bench`.
//
// Options: --connections N (default 20), --rounds N per loss kind (default 3), --down-ms MS (default 2000),
// --wait-ms MS longest wait for the subflows to come back (default 8000),
// --setups kernel,auto,kernel-compatible, --kinds address,link,kill, --row (the bench row: 100 connections, link, two healing setups).

import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { OUT_DIR } from './lib/cref.js';
import { cleanupAll } from './lib/netns.js';
import { KINDS, SETUPS, lossExperiment, lossLines, type LossKind, type LossOptions, type LossSample, type Setup } from './lib/losses.js';

/**
 * The bench row: time from link up (its carrier back) to the subflow working again, `connections`
 * connections, the two healing setups; the link down 2 s, plain and with the subflows reset meanwhile.
 * Bars: every connection restored, p99 within 2 s.
 */
export async function lossRow(log: (s: string) => void, connections = 100): Promise<{ samples: LossSample[]; lines: string[]; bars: [boolean, string][] }> {
  const load = loadavg();
  log(`losses: link down 2 s and up under auto and kernel-compatible, ${connections} connections`);
  const samples = await lossExperiment({ connections, rounds: 1, kinds: ['link', 'link-reset'], setups: ['auto', 'kernel-compatible'], downMs: 2000, waitMs: 10_000, log });
  const bars: [boolean, string][] = [];
  for (const s of samples) {
    const sorted = [...s.restoreMs].sort((a, b) => a - b);
    const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)] ?? Infinity;
    bars.push([s.restored === connections && p99 <= 2000, `losses, ${s.setup} ${s.kind}: ${s.restored}/${connections} restored, p99 ${p99.toFixed(0)} ms after link up (bar: all, ≤ 2000 ms)`]);
  }
  return { samples, bars, lines: [`Losses: link down 2 s then up, ${connections} connections, per connection from the carrier back to the second subflow working (load average ${load.map((x) => x.toFixed(2)).join(' ')} at the start):`, ...lossLines(samples)] };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: string): string => {
    const i = args.indexOf(name);
    return i >= 0 ? String(args[i + 1]) : dflt;
  };
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  const started = new Date();
  const loadStart = loadavg();
  let samples: LossSample[];
  let lines: string[];
  if (args.includes('--row')) {
    const row = await lossRow(log, Number(opt('--connections', '100')));
    ({ samples, lines } = row);
    lines.push(...row.bars.map(([ok, t]) => `  ${ok ? 'MET   ' : 'MISSED'} ${t}`));
  } else {
    const o: LossOptions = {
      connections: Number(opt('--connections', '20')),
      rounds: Number(opt('--rounds', '3')),
      downMs: Number(opt('--down-ms', '2000')),
      waitMs: Number(opt('--wait-ms', '8000')),
      setups: opt('--setups', SETUPS.join(',')).split(',') as Setup[],
      kinds: opt('--kinds', KINDS.join(',')).split(',') as LossKind[],
      log,
    };
    log(`losses: ${o.connections} connections, each loss kind ${o.rounds} times, setups ${o.setups.join(', ')}`);
    samples = await lossExperiment(o);
    lines = lossLines(samples);
  }
  const loadEnd = loadavg();
  lines.push('', `load average at start ${loadStart.map((x) => x.toFixed(2)).join(' ')}, at end ${loadEnd.map((x) => x.toFixed(2)).join(' ')}`);
  const text = lines.join('\n');
  process.stdout.write(`${text}\n`);
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, `losses-${started.toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ samples, loadStart, loadEnd, text }, null, 2));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(() => cleanupAll(), (e: unknown) => {
    cleanupAll();
    process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
