// Test-only helpers for real-kernel tests: throw-away network namespaces (always removed, also on
// failure and on SIGINT/SIGTERM), the can-we-run check, and a bounded polling helper.

import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, it } from 'vitest';
import { listNetns, MptcpPm } from '../../src/index.js';

/** A scratch namespace made by {@link makeNetns}. */
export interface TestNetns {
  /** Name under /run/netns. */
  readonly name: string;
  /** Runs `ip -n <name> …`; resolves with stdout, rejects with stderr in the message. */
  ip(...args: string[]): Promise<string>;
  /** Runs a command inside the namespace (`ip netns exec`). */
  exec(cmd: string, args?: string[], opts?: { timeoutMs?: number }): Promise<string>;
  /** Deletes the namespace. Idempotent. */
  destroy(): Promise<void>;
}

/**
 * Factor applied to every wait of the kernel tests: 1 on the host; `npm run test:kernels` sets
 * MPTCPPM_TIME_SCALE in its emulated guests, where everything runs 10–15 times slower.
 */
export const TIME_SCALE = Math.max(1, Number(process.env.MPTCPPM_TIME_SCALE) || 1);

/** `ms` stretched by {@link TIME_SCALE}. */
export function scaled(ms: number): number {
  return ms * TIME_SCALE;
}

const live = new Set<string>();
let counter = 0;
let hooked = false;

function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: scaled(timeoutMs), encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

function deleteSync(name: string): void {
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore', timeout: 5000 });
  } catch {
    // already gone
  }
  live.delete(name);
}

function cleanupAll(): void {
  for (const name of [...live]) deleteSync(name);
}

/**
 * Removes test namespaces left by a test process that died without cleaning up (a crash skips every
 * exit hook); the owner's pid is part of each name, and only namespaces of dead owners are touched.
 */
function removeStale(): void {
  for (const name of listNetns()) {
    const m = /^mptcppm-.+-(\d+)-\d+$/.exec(name);
    if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) deleteSync(name);
  }
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  removeStale();
  process.once('exit', cleanupAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      cleanupAll();
      process.kill(process.pid, sig);
    });
  }
  afterAll(cleanupAll);
}

/** Creates `mptcppm-<tag>-<pid>-<n>` with `lo` up; registered for removal at afterAll / exit / signals. */
export async function makeNetns(tag: string): Promise<TestNetns> {
  hookExit();
  const name = `mptcppm-${tag}-${process.pid}-${++counter}`;
  await run('ip', ['netns', 'add', name]);
  live.add(name);
  try {
    await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (e) {
    deleteSync(name);
    throw e;
  }
  return {
    name,
    ip: (...args) => run('ip', ['-n', name, ...args]),
    exec: (cmd, args = [], opts = {}) => run('ip', ['netns', 'exec', name, cmd, ...args], opts.timeoutMs),
    destroy: async () => {
      if (!live.has(name)) return;
      live.delete(name);
      await run('ip', ['netns', 'del', name]).catch(() => undefined);
    },
  };
}

/** Whether this machine can run the kernel tests, and why not. */
export function canRunKernelTests(): { ok: boolean; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: 'not Linux' };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'not root (network namespaces need CAP_SYS_ADMIN)' };
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore', timeout: 5000 });
  } catch {
    return { ok: false, reason: '`ip` (iproute2) not found' };
  }
  if (!existsSync('/proc/sys/net/mptcp/enabled')) return { ok: false, reason: 'MPTCP not available (no /proc/sys/net/mptcp)' };
  return { ok: true, reason: '' };
}

/**
 * `it` for kernel tests: skips with the reason printed when the machine cannot run them, but when
 * CI is set the test runs anyway and fails with that reason instead of skipping.
 */
export function kernelIt(): typeof it {
  const { ok, reason } = canRunKernelTests();
  if (ok) return it;
  if (process.env.CI) {
    return ((name: string) => it(name, () => {
      throw new Error(`kernel tests cannot run here (${reason}) and CI must not skip them`);
    })) as unknown as typeof it;
  }
  console.warn(`skipping kernel tests: ${reason}`);
  return it.skip as unknown as typeof it;
}

/** Polls `predicate` every `intervalMs` until it is truthy; throws after `timeoutMs` (scaled) naming `what`. */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  opts: { timeoutMs: number; what: string; intervalMs?: number },
): Promise<T> {
  const timeoutMs = scaled(opts.timeoutMs);
  const deadline = Date.now() + timeoutMs;
  const interval = opts.intervalMs ?? 10;
  let last: unknown;
  for (let i = 0; i < 100_000; i++) {
    try {
      const v = await predicate();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what}${last ? `: ${String(last)}` : ''}`);
}

/** Whether process `pid` exists (signal 0; EPERM also means it exists). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs `body` with a fresh namespace and an MptcpPm in it; both are closed/removed afterwards. */
export async function withPmInNetns(tag: string, body: (pm: MptcpPm, ns: TestNetns) => Promise<void>, timeoutMs = 5000): Promise<void> {
  const ns = await makeNetns(tag);
  let pm: MptcpPm | undefined;
  try {
    pm = await MptcpPm.open({ netns: ns.name, timeoutMs });
    await body(pm, ns);
  } finally {
    pm?.close();
    await ns.destroy();
  }
}
