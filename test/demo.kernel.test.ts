// `mptcp-pm demo` on the real kernel: both modes run to PASS with --json (both paths used, backup
// flag seen, transfer survives ethernet going down), and no namespace survives a run, a kill or Ctrl-C.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect } from 'vitest';
import { kernelIt, waitFor } from './helpers/netns.js';
import { namespacesOf, removeNamespacesSync, removeStaleNamespaces } from '../demo/sandbox.js';
import type { DemoSummary } from '../demo/index.js';

const it = kernelIt();
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEMO = `${ROOT}dist/demo/main.js`;
const RUN_MS = 60_000;

/** The command that runs the demo (`npm run demo` runs the same built file). */
function demoCommand(args: string[]): string[] {
  return [DEMO, ...args];
}

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: Run[] = [];

function startDemo(args: string[], opts: { uid?: number; gid?: number } = {}): Run {
  const child = spawn(process.execPath, demoCommand(args), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  const r: Run = {
    child,
    stdout: '',
    stderr: '',
    done: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal }))),
  };
  child.stdout?.on('data', (d: Buffer) => (r.stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (r.stderr += d.toString()));
  started.push(r);
  return r;
}

async function finish(r: Run, timeoutMs = RUN_MS): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`demo still running after ${timeoutMs} ms; stderr:\n${r.stderr.slice(-2000)}`)), timeoutMs);
  });
  try {
    return await Promise.race([r.done, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

afterEach(() => {
  // A failed test must not leave a demo running or its namespaces behind.
  for (const r of started.splice(0)) {
    const pid = r.child.pid;
    if (pid === undefined) continue;
    if (r.child.exitCode === null && r.child.signalCode === null) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    removeNamespacesSync(namespacesOf(pid));
  }
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function pidsInside(names: string[]): number[] {
  return names.flatMap((n) => {
    try {
      return execFileSync('ip', ['netns', 'pids', n], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });
}

function expectPass(s: DemoSummary, mode: 'kernel' | 'userspace'): void {
  const failed = s.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
  expect(failed, s.error).toEqual([]);
  expect(s.mode).toBe(mode);
  expect(s.result).toBe('PASS');
  expect(s.exitCode).toBe(0);
  // Both paths carried data: ethernet before it went down, wi-fi while it was down.
  expect(s.paths.ethernet.rxBeforeDown).toBeGreaterThan(1_000_000);
  expect(s.paths.wifi.rxWhileDown).toBeGreaterThan(256 * 1024);
  expect(s.paths.ethernet.bytes).toBeGreaterThan(0);
  expect(s.paths.wifi.bytes).toBeGreaterThan(0);
  // The wi-fi subflow was a backup, and nothing but the backup carried data while ethernet was down.
  expect(s.backupSeenOnWifi).toBe(true);
  expect(s.subflows.some((f) => f.path === 'wi-fi' && f.backup)).toBe(true);
  expect(s.subflows.some((f) => f.path === 'ethernet' && f.initial)).toBe(true);
  expect(s.paths.ethernet.rxWhileDown).toBeLessThan(64 * 1024);
  // The transfer survived: one connection, every byte checked, as much received as sent.
  expect(s.transfer.survivedLinkDown).toBe(true);
  expect(s.transfer.verified).toBe(true);
  expect(s.transfer.bytes).toBe(s.transfer.serverSentBytes);
  expect(s.failoverMs).not.toBeNull();
  expect(s.namespaces.removed).toBe(true);
  expect(s.namespaces.left).toEqual([]);
}

describe('mptcp-pm demo', () => {
  it('in-kernel path manager: PASS, both paths used, backup seen, failover survived, nothing left', async () => {
    const r = startDemo(['--json']);
    const { code } = await finish(r);
    const s = JSON.parse(r.stdout) as DemoSummary;
    expectPass(s, 'kernel');
    expect(code).toBe(0);
    expect(r.stderr).toMatch(/== 7\. The ethernet link goes down/);
    // explain, on a first connection: the wi-fi subflow is missing for want of a per-source route,
    // then, with the routes in and the endpoint re-announced, nothing is missing.
    expect(s.explain?.before).toContainEqual(expect.objectContaining({ local: '198.51.100.2', remote: '203.0.113.2', cause: 'no-source-route' }));
    expect(s.explain?.before.find((m) => m.cause === 'no-source-route')?.fix).toMatch(/route add 198\.51\.100\.2 dev wlan0 via 198\.51\.100\.1 && /);
    expect(s.explain?.after).toEqual([]);
    expect(r.stderr).toMatch(/MISSING 198\.51\.100\.2 -> 203\.0\.113\.2: no-source-route\n[^]*explain again:\n.*\n.*established\n.*198\.51\.100\.2:\d+ -> 203\.0\.113\.2:5202 established\n\s+nothing missing/);
    expect(namespacesOf(r.child.pid!)).toEqual([]);
  }, RUN_MS + 10_000);

  it('--userspace: PASS on kernelCompatible; the wi-fi subflow killed with ss -K mid-transfer is opened again', async () => {
    const r = startDemo(['--json', '--userspace']);
    const { code } = await finish(r);
    const s = JSON.parse(r.stdout) as DemoSummary;
    expectPass(s, 'userspace');
    expect(code).toBe(0);
    expect(s.pathManager?.reopened).toBeGreaterThanOrEqual(1);
    expect(s.subflows.filter((f) => f.path === 'wi-fi').length).toBeGreaterThanOrEqual(2);
    expect(r.stderr).toMatch(/policies\.kernelCompatible\(/);
    // The kill: one subflow, by its two ends, inside the client namespace; then a new wi-fi subflow
    // while the transfer kept delivering.
    const wifi = s.subflows.filter((f) => f.path === 'wi-fi');
    expect(s.heal?.killed).toBe(`ip netns exec ${s.namespaces.names[0]} ss -K -tn src 198.51.100.2:${wifi[0].localPort} dst 203.0.113.2:5201`);
    expect(s.heal?.closed).toBe(true);
    expect(wifi[0].closedAtMs).toBeDefined();
    expect(wifi[wifi.length - 1].closedAtMs).toBeUndefined();
    expect(s.heal?.reopenedAfterMs).not.toBeNull();
    expect(s.heal?.bytesMeanwhile).toBeGreaterThan(0);
    expect(namespacesOf(r.child.pid!)).toEqual([]);
  }, RUN_MS + 10_000);

  it('killed with SIGKILL halfway: its watcher removes the namespaces and the transfer processes', async () => {
    const r = startDemo([]);
    const pid = r.child.pid!;
    await waitFor(() => r.stdout.includes('== 7.') || r.child.exitCode !== null, { timeoutMs: 30_000, what: 'the demo to reach the link-down step', intervalMs: 50 });
    expect(r.child.exitCode).toBeNull();
    const names = namespacesOf(pid);
    expect(names).toHaveLength(3);
    const inside = pidsInside(names);
    expect(inside.length).toBeGreaterThanOrEqual(2); // the transfer server and client
    process.kill(pid, 'SIGKILL');
    await finish(r, 10_000);
    await waitFor(() => namespacesOf(pid).length === 0, { timeoutMs: 15_000, what: `the namespaces of killed demo ${pid} to be removed`, intervalMs: 100 });
    await waitFor(() => inside.every((p) => !alive(p)), { timeoutMs: 5_000, what: 'the transfer processes to be gone', intervalMs: 50 });
  }, 60_000);

  it('interrupted with SIGINT: removes its namespaces and exits 130', async () => {
    const r = startDemo(['--json']);
    const pid = r.child.pid!;
    await waitFor(() => r.stderr.includes('== 6.') || r.child.exitCode !== null, { timeoutMs: 30_000, what: 'the demo to start the transfer', intervalMs: 50 });
    process.kill(pid, 'SIGINT');
    const { code } = await finish(r, 15_000);
    expect(code).toBe(130);
    expect(r.stdout).toBe('');
    expect(namespacesOf(pid)).toEqual([]);
  }, 60_000);

  it('removes the namespaces of an earlier run whose process is gone, and keeps those of live ones', () => {
    // A pid above the kernel's pid_max (at most 2^22) is never alive.
    const dead = `mptcpdemo-${2 ** 22 + 7}-client`;
    const live = `mptcpdemo-1-client`; // pid 1 is always alive
    execFileSync('ip', ['netns', 'add', dead]);
    execFileSync('ip', ['netns', 'add', live]);
    try {
      expect(removeStaleNamespaces()).toContain(dead);
      expect(namespacesOf(2 ** 22 + 7)).toEqual([]);
      expect(namespacesOf(1)).toEqual([live]);
    } finally {
      removeNamespacesSync([dead, live]);
    }
  });

  it('without CAP_NET_ADMIN/CAP_SYS_ADMIN: one line on stderr, nothing on stdout, exit 1', async () => {
    const r = startDemo(['--json'], { uid: 65534, gid: 65534 });
    const { code } = await finish(r, 20_000);
    expect(code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/needs root \(CAP_NET_ADMIN and CAP_SYS_ADMIN\)/);
  });
});
