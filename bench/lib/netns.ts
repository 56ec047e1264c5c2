// Scratch network namespaces for the benchmark: created with a per-run prefix, all removed at exit,
// on Ctrl-C / SIGTERM and on failure. Nothing here touches the host's own namespace.

import { execFileSync, spawn, spawnSync } from 'node:child_process';

// MPTCP_PM_BENCH_NS_TAG adds a word to the names, so that concurrent runs can be told apart.
const PREFIX = `mpb${process.pid}${process.env.MPTCP_PM_BENCH_NS_TAG ? `-${process.env.MPTCP_PM_BENCH_NS_TAG}` : ''}`;
const created = new Set<string>();
const children = new Set<number>();
let hooked = false;

/** Runs `ip ARGS…` (throws with its stderr on failure). */
export function ip(...args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string };
    throw new Error(`ip ${args.join(' ')}: ${err.stderr?.trim() || String(e)}`);
  }
}

/** Runs a command inside namespace `ns`. */
export function nsExec(ns: string, cmd: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Creates a namespace named `<prefix>-<tag>` with loopback up; returns its name. */
export function createNetns(tag: string): string {
  hookCleanup();
  const name = `${PREFIX}-${tag}`;
  ip('netns', 'add', name);
  created.add(name);
  ip('-n', name, 'link', 'set', 'lo', 'up');
  return name;
}

export function deleteNetns(name: string): void {
  if (!created.has(name)) return;
  spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  created.delete(name);
}

/** Remembers a child pid so that it is killed (by pid) if the bench exits early. */
export function trackChild(pid: number | undefined): void {
  if (pid !== undefined) children.add(pid);
}
export function untrackChild(pid: number | undefined): void {
  if (pid !== undefined) children.delete(pid);
}

export function cleanupAll(): void {
  for (const pid of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  children.clear();
  for (const name of [...created]) deleteNetns(name);
}

function hookCleanup(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanupAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      cleanupAll();
      process.stderr.write(`\nbench: ${sig}, scratch namespaces removed\n`);
      process.exit(130);
    });
  }
}

/**
 * Starts `cmd` inside namespace `ns` and resolves, once it prints `ready`, with a function that
 * kills it (by pid). Rejects when it exits first or stays silent for `timeoutMs`.
 */
export function startReady(ns: string, cmd: string[], what: string, timeoutMs = 10_000): Promise<() => void> {
  const child = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'pipe', 'inherit'] });
  trackChild(child.pid);
  const stop = (): void => {
    untrackChild(child.pid);
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`${what} did not start`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(timer);
        resolve(stop);
      }
    });
    child.on('exit', (code) => reject(new Error(`${what} exited (${code})`)));
  });
}
