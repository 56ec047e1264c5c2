// `npx tsx bench/reconciler-latency.ts [--samples N]`: how long the endpoint reconciler takes from an
// address appearing (or going) to its endpoint being added (or deleted) in the kernel, in a scratch
// namespace it removes afterwards. Time runs from `ip addr add|del` returning to the `change` event,
// which is emitted once the kernel has acknowledged the endpoint request.

import { execFileSync } from 'node:child_process';
import { EndpointReconciler, type ReconcilerChange } from '../src/index.js';

const args = process.argv.slice(2);
const SAMPLES = Number(args[args.indexOf('--samples') + 1] || 0) || 20;
const ns = `mptcppm-bench-rec-${process.pid}`;
const ip = (...a: string[]): void => void execFileSync('ip', ['-n', ns, ...a]);

function quantiles(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): string => s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(1);
  return `median ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${s[s.length - 1].toFixed(1)} ms (n=${s.length})`;
}

async function measure(debounceMs: number, sourceRouting: boolean): Promise<void> {
  const r = await EndpointReconciler.start({ netns: ns, rules: [{ interface: 'eth*', flags: ['subflow'] }], debounceMs, sourceRouting });
  const wait = (address: string, action: 'add' | 'remove'): Promise<number> => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${action} of ${address} within 5 s`)), 5000);
    const on = (cs: ReconcilerChange[]): void => {
      if (cs.some((c) => c.kind === 'endpoint' && c.action === action && c.address === address)) {
        clearTimeout(t);
        r.off('change', on);
        resolve(performance.now());
      }
    };
    r.on('change', on);
  });
  const add: number[] = [];
  const del: number[] = [];
  try {
    for (let i = 0; i < SAMPLES; i++) {
      const a = `192.0.2.${10 + i}`;
      let seen = wait(a, 'add');
      ip('addr', 'add', `${a}/24`, 'dev', 'eth1');
      let t0 = performance.now();
      add.push((await seen) - t0);
      seen = wait(a, 'remove');
      ip('addr', 'del', `${a}/24`, 'dev', 'eth1');
      t0 = performance.now();
      del.push((await seen) - t0);
    }
  } finally {
    await r.stop({ cleanup: true });
  }
  console.log(`debounce ${debounceMs} ms${sourceRouting ? ', with source routing' : ''}:`);
  console.log(`  address added -> endpoint present: ${quantiles(add)}`);
  console.log(`  address removed -> endpoint gone:  ${quantiles(del)}`);
}

execFileSync('ip', ['netns', 'add', ns]);
try {
  ip('link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'peth1');
  ip('link', 'set', 'eth1', 'up');
  ip('link', 'set', 'peth1', 'up');
  ip('addr', 'add', '198.51.100.1/24', 'dev', 'eth1');
  await measure(50, false);
  await measure(0, false);
  await measure(50, true);
} finally {
  execFileSync('ip', ['netns', 'del', ns]);
}
