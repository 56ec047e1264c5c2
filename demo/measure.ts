// Measuring the transfer: the client's interface counters sampled every 50 ms, the per-second
// progress lines printed while a phase lasts, and bounded waits for a condition on the samples.

import type { DemoIo } from './narration.js';
import type { Proc } from './proc.js';
import { readCounters, type LinkCounters } from './sandbox.js';
import { NET, TIMING } from './settings.js';
import { mb } from './summary.js';

/** Counters of both client links, and the bytes the transfer client reported, at time `t`. */
export interface Sample {
  t: number;
  eth: LinkCounters;
  wifi: LinkCounters;
  app: number;
}

export const ZERO: LinkCounters = { rxBytes: 0, txBytes: 0 };

/** Samples the client namespace's link counters, on a timer and on demand. */
export class Sampler {
  readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;

  /** @param appBytes bytes the transfer client has received so far. */
  constructor(private readonly netns: string, private readonly appBytes: () => number) {}

  /** The latest sample. */
  get last(): Sample | undefined {
    return this.samples[this.samples.length - 1];
  }

  /** Takes a sample now, then one every {@link TIMING.sampleMs}. */
  start(): void {
    this.now();
    this.timer = setInterval(() => {
      try {
        this.now();
      } catch {
        // the namespace is going away; the last samples stand
      }
    }, TIMING.sampleMs);
  }

  /** Stops the timer. Idempotent. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample (keeping the first and the latest 4999). */
  now(): Sample {
    const m = readCounters(this.netns);
    const s: Sample = {
      t: Date.now(),
      eth: m.get(NET.ethernet.ifname) ?? ZERO,
      wifi: m.get(NET.wifi.ifname) ?? ZERO,
      app: this.appBytes(),
    };
    if (this.samples.length >= 5000) this.samples.splice(1, 1);
    this.samples.push(s);
    return s;
  }
}

/**
 * Waits `ms`, printing one progress line per second (times from `t0`); throws when the transfer
 * `client` exits meanwhile.
 */
export async function hold(io: DemoIo, sampler: Sampler, ms: number, t0: number, client: Proc | undefined): Promise<void> {
  const end = Date.now() + ms;
  for (let i = 0; i < 1000 && Date.now() < end; i++) {
    const from = sampler.last;
    await sleep(Math.min(1000, end - Date.now()));
    const to = sampler.last;
    if (!from || !to || to.t <= from.t) continue;
    const secs = (to.t - from.t) / 1000;
    const rate = (a: number, b: number): string => `${((b - a) / secs / 1e6).toFixed(2)} MB/s`;
    io.say(`   ${((to.t - t0) / 1000).toFixed(1).padStart(5)} s  received ${mb(to.app).padStart(8)}` +
      `   ethernet ${rate(from.eth.rxBytes, to.eth.rxBytes).padStart(10)}   wi-fi ${rate(from.wifi.rxBytes, to.wifi.rxBytes).padStart(10)}`);
    if (client?.exited !== undefined) throw new Error(`the transfer client exited early: ${client.last('error')?.message ?? client.stderr}`);
  }
}

/**
 * Resolves with the first truthy value of `pred`, polled every 20 ms; rejects after `timeoutMs`
 * or when the transfer `client` exits first (`what` names the condition in the error).
 */
export async function waitUntil<T>(pred: () => T | undefined | false, timeoutMs: number, what: string, client: Proc | undefined): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (let i = 0; i < 10_000; i++) {
    const v = pred();
    if (v) return v;
    if (client?.exited !== undefined) {
      throw new Error(`the transfer client exited while waiting for ${what}: ${client.last('error')?.message ?? client.stderr}`);
    }
    if (Date.now() >= end) break;
    await sleep(20);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
