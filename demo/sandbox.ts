// The demo's sandbox: three network namespaces (client, router, server) named mptcpdemo-<pid>-…,
// the commands run in them, interface counters read from inside, and removal that always happens.

import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withNetns, listNetns } from '../src/index.js';

/** Every namespace of the demo starts with this; the pid of the run that made it follows. */
export const NETNS_PREFIX = 'mptcpdemo-';

/** The names of one run's namespaces. */
export interface SandboxNames {
  client: string;
  router: string;
  server: string;
}

/** Names for the run of process `pid`. */
export function sandboxNames(pid = process.pid): SandboxNames {
  return {
    client: `${NETNS_PREFIX}${pid}-client`,
    router: `${NETNS_PREFIX}${pid}-router`,
    server: `${NETNS_PREFIX}${pid}-server`,
  };
}

/** Result of a command: its output, or the failure with stderr in the message. */
export function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8', killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Names of this machine's namespaces that belong to the demo run of `pid`. */
export function namespacesOf(pid: number): string[] {
  return listNetns().filter((n) => n.startsWith(`${NETNS_PREFIX}${pid}-`));
}

/** Whether process `pid` exists (EPERM means it does, owned by someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pids of the processes inside namespace `name` (`ip netns pids`), empty when it cannot tell. */
function pidsIn(name: string): number[] {
  try {
    const out = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    return out.split(/\s+/).filter(Boolean).map(Number).filter((p) => Number.isInteger(p) && p > 1 && p !== process.pid);
  } catch {
    return [];
  }
}

/**
 * Removes namespaces `names` synchronously: first SIGKILL to the processes still inside them (the
 * demo's transfer programs), then `ip netns del`. Usable from exit and signal handlers.
 * @returns the names that could not be removed.
 */
export function removeNamespacesSync(names: string[]): string[] {
  const present = new Set(listNetns());
  const failed: string[] = [];
  for (const name of names) {
    if (!present.has(name)) continue;
    for (const pid of pidsIn(name)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore', timeout: 5000 });
    } catch {
      failed.push(name);
    }
  }
  return failed;
}

/**
 * Removes the namespaces of earlier demo runs whose process is gone (a run killed with SIGKILL
 * before its cleanup watcher could act). Namespaces of a run still alive are left alone.
 * @returns the names removed.
 */
export function removeStaleNamespaces(): string[] {
  const stale = listNetns().filter((n) => {
    const m = new RegExp(`^${NETNS_PREFIX}(\\d+)-`).exec(n);
    return m !== null && Number(m[1]) !== process.pid && !processAlive(Number(m[1]));
  });
  const failed = new Set(removeNamespacesSync(stale));
  return stale.filter((n) => !failed.has(n));
}

/**
 * Starts the cleanup watcher: a detached process (own session, so Ctrl-C does not reach it) that
 * holds the read end of a pipe from this process. When this process dies in any way, SIGKILL
 * included, the pipe closes and the watcher removes `names`. {@link CleanupWatcher.release} tells
 * it the run cleaned up by itself.
 */
export function startCleanupWatcher(names: string[]): CleanupWatcher {
  const here = fileURLToPath(import.meta.url);
  const ts = here.endsWith('.ts');
  const script = here.replace(/sandbox\.(ts|js)$/, ts ? 'reaper.ts' : 'reaper.js');
  const args = [...(ts ? ['--import', 'tsx'] : []), script, String(process.pid), ...names];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  child.on('error', () => undefined);
  child.stdin?.on('error', () => undefined);
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return new CleanupWatcher(child);
}

/** Handle on the detached watcher. */
export class CleanupWatcher {
  constructor(private readonly child: ChildProcess) {}
  /** The watcher's pid (for the record). */
  get pid(): number | undefined {
    return this.child.pid;
  }
  /** Tells the watcher the namespaces are gone and lets it exit. */
  release(): void {
    try {
      this.child.stdin?.end('done\n');
    } catch {
      // it exits on its own when the pipe closes
    }
  }
}

/** Byte counters of one interface, read from /proc/net/dev inside its namespace. */
export interface LinkCounters {
  rxBytes: number;
  txBytes: number;
}

/** Counters of every interface of `netns`, by name; read on the JS thread (setns there and back). */
export function readCounters(netns: string): Map<string, LinkCounters> {
  const text = withNetns(netns, () => readFileSync('/proc/thread-self/net/dev', 'utf8'));
  const out = new Map<string, LinkCounters>();
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    out.set(line.slice(0, colon).trim(), { rxBytes: f[0], txBytes: f[8] });
  }
  return out;
}

/** Writes a sysctl inside `netns` (e.g. `net/ipv4/ip_forward`), as `ip netns exec … sysctl -w` would. */
export function setSysctl(netns: string, key: string, value: string): void {
  withNetns(netns, () => writeFileSync(`/proc/sys/${key}`, value));
}

/** Reads a sysctl inside `netns`. */
export function getSysctl(netns: string, key: string): string {
  return withNetns(netns, () => readFileSync(`/proc/sys/${key}`, 'utf8').trim());
}

/** Whether this process has CAP_NET_ADMIN (12) and CAP_SYS_ADMIN (21) in its effective set. */
export function hasNetAdminCaps(): boolean {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (!m) return false;
    const eff = BigInt(`0x${m[1]}`);
    return (eff & (1n << 12n)) !== 0n && (eff & (1n << 21n)) !== 0n;
  } catch {
    return false;
  }
}
