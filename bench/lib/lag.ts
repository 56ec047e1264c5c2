// Event-loop lag (perf_hooks.monitorEventLoopDelay, 1 ms resolution) of this process: an idle loop
// versus a loop that keeps deleting and re-adding endpoints through the public API.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { MptcpPm } from '../../src/mptcp/pm/pm.js';

export interface LagResult {
  seconds: number;
  idleP99Ms: number;
  idleP99AfterMs: number;
  busyP99Ms: number;
  busyP50Ms: number;
  busyMaxMs: number;
  /** busy p99 − the larger idle p99. */
  excessMs: number;
  /** add+delete pairs completed during the busy window. */
  cycles: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function window(seconds: number, work?: (stop: () => boolean) => Promise<void>): Promise<{ p50: number; p99: number; max: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const end = performance.now() + seconds * 1000;
  if (work) await work(() => performance.now() >= end);
  else await sleep(seconds * 1000);
  h.disable();
  return { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
}

export async function measureLag(ns: string, seconds: number): Promise<LagResult> {
  const pm = await MptcpPm.open({ netns: ns });
  try {
    await pm.flushEndpoints();
    for (let id = 1; id <= 8; id++) await pm.addEndpoint({ address: `192.0.2.${id}`, id, flags: ['signal'] });
    const idle = await window(seconds);
    let cycles = 0;
    const busy = await window(seconds, async (stop) => {
      for (let i = 0; !stop() && i < 10_000_000; i++) {
        const id = (i % 8) + 1;
        await pm.deleteEndpoint(id);
        await pm.addEndpoint({ address: `192.0.2.${id}`, id, flags: ['signal'] });
        cycles++;
      }
    });
    const idle2 = await window(seconds);
    await pm.flushEndpoints();
    return {
      seconds, idleP99Ms: idle.p99, idleP99AfterMs: idle2.p99, busyP99Ms: busy.p99, busyP50Ms: busy.p50, busyMaxMs: busy.max,
      excessMs: busy.p99 - Math.max(idle.p99, idle2.p99), cycles,
    };
  } finally {
    pm.close();
  }
}
