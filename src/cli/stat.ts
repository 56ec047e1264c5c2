// `mptcp-pm stat [-z] [--watch SECONDS [--count N]]`: the namespace's MPTcpExt counters as
// `nstat -az` prints them (absolute), or their deltas every SECONDS until SIGINT; `-j` for JSON.

import { Words } from './args.js';
import type { Context } from './context.js';

export interface StatAction {
  cmd: 'stat';
  /** Show zero counters too. */
  zeros: boolean;
  watchSeconds?: number;
  /** With --watch: stop after this many intervals. */
  count?: number;
}

export function parseStat(words: readonly string[]): StatAction {
  const w = new Words(words, 'stat');
  const a: StatAction = { cmd: 'stat', zeros: false };
  while (!w.done) {
    const word = w.next() as string;
    if (word === '-z' || word === '--zeros' || word === 'zeros') a.zeros = true;
    else if (word === '--watch' || word === 'watch') a.watchSeconds = w.number('--watch', 1, 86400);
    else if (word === '--count' || word === 'count') a.count = w.number('--count', 1, 1_000_000);
    else throw w.fail(`unknown argument "${word}"`);
  }
  if (a.count !== undefined && a.watchSeconds === undefined) throw w.fail('--count goes with --watch');
  return a;
}

/** `MPTcpExtName   value` lines, nstat's layout; zeros left out unless `zeros`. */
export function formatCounters(c: Readonly<Record<string, number>>, zeros: boolean, json: boolean): string {
  const kept = Object.entries(c).filter(([, v]) => zeros || v !== 0);
  if (json) return `${JSON.stringify(Object.fromEntries(kept))}\n`;
  return kept.map(([k, v]) => `${`MPTcpExt${k}`.padEnd(32)}${String(v).padStart(12)}\n`).join('');
}

export async function runStat(a: StatAction, ctx: Context): Promise<number> {
  const { readMptcpCounters, counterDeltas } = await import('../index.js');
  let last = await readMptcpCounters({ netns: ctx.netns });
  if (a.watchSeconds === undefined) {
    ctx.out(formatCounters(last, a.zeros, ctx.json));
    return 0;
  }
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (let i = 0; a.count === undefined || i < a.count; i++) {
      const ended = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), (a.watchSeconds as number) * 1000);
        stop.signal.addEventListener('abort', () => (clearTimeout(timer), resolve(true)), { once: true });
      });
      if (ended) break;
      const now = await readMptcpCounters({ netns: ctx.netns });
      const delta = counterDeltas(last, now);
      last = now;
      if (!ctx.json) ctx.out(`#${new Date().toISOString()} (+${a.watchSeconds}s)\n`);
      ctx.out(formatCounters(delta, a.zeros, ctx.json));
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  return 0;
}
