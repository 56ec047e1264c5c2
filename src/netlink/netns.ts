// Namespace layer: runs a synchronous piece of code with the JS thread inside another network
// namespace (setns there and back), and locates a netlink socket's fd through /proc.

import { closeSync, fstatSync, openSync, readFileSync, readdirSync, readlinkSync, statSync, constants as fsc } from 'node:fs';
import { CLONE_NEWNET, ifIndexToName, ifNameToIndex, setns } from './sys.js';

/** A network namespace that could not be opened. */
export class NetnsError extends Error {
  override readonly name = 'NetnsError';
  readonly netns: string;
  constructor(netns: string, detail: string) {
    super(`network namespace ${JSON.stringify(netns)}: ${detail}`);
    this.netns = netns;
  }
}

/** `/run/netns/<name>` for a bare name (as `ip netns` uses); a path containing `/` is used as is. */
export function netnsPath(netns: string): string {
  return netns.includes('/') ? netns : `/run/netns/${netns}`;
}

/**
 * Runs `fn` with the calling thread inside `netns` (a name under /run/netns or a path such as
 * /proc/PID/ns/net), then moves the thread back, also when `fn` throws. `fn` must be synchronous.
 * Needs CAP_SYS_ADMIN (setns) unless the target is the current namespace. The process as a whole,
 * and every other thread, stays where it was.
 */
export function withNetns<T>(netns: string, fn: () => T): T {
  const path = netnsPath(netns);
  let target: number;
  try {
    target = openSync(path, fsc.O_RDONLY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new NetnsError(netns, code === 'ENOENT' ? `not found (no ${path})` : `cannot open ${path}: ${code}`);
  }
  let self = -1;
  try {
    const t = fstatSync(target);
    const cur = statSync('/proc/thread-self/ns/net');
    if (t.ino === cur.ino && t.dev === cur.dev) return fn();
    self = openSync('/proc/thread-self/ns/net', fsc.O_RDONLY);
    try {
      setns(target, CLONE_NEWNET, path);
    } catch (e) {
      throw new NetnsError(netns, `cannot enter: ${(e as Error).message} (needs CAP_SYS_ADMIN)`);
    }
    try {
      return fn();
    } finally {
      // Failing to come back would leave the JS thread in the wrong namespace: never continue.
      setns(self, CLONE_NEWNET, 'return to the original network namespace');
    }
  } finally {
    if (self >= 0) closeSync(self);
    closeSync(target);
  }
}

/** Index of interface `name` in `netns` (the caller's namespace when undefined); 0 when absent. */
export function interfaceIndex(netns: string | undefined, name: string): number {
  return netns === undefined ? ifNameToIndex(name) : withNetns(netns, () => ifNameToIndex(name));
}

/** Name of interface `index` in `netns` (the caller's namespace when undefined); undefined when absent. */
export function interfaceName(netns: string | undefined, index: number): string | undefined {
  return netns === undefined ? ifIndexToName(index) : withNetns(netns, () => ifIndexToName(index));
}

/**
 * Finds the file descriptor of this process's netlink socket bound to `portId` for `protocol`.
 * Reads /proc/thread-self/net/netlink, which lists the sockets of the calling thread's current
 * namespace, so call it while inside the namespace the socket was created in.
 */
export function findNetlinkFd(protocol: number, portId: number): number {
  const inode = netlinkInode(protocol, portId);
  const want = `socket:[${inode}]`;
  for (const name of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${name}`);
    } catch {
      continue; // closed meanwhile (e.g. the directory's own fd)
    }
    if (target === want) return Number(name);
  }
  throw new Error(`netlink socket inode ${inode} (port ${portId}) not found under /proc/self/fd`);
}

function netlinkInode(protocol: number, portId: number): string {
  const lines = readFileSync('/proc/thread-self/net/netlink', 'utf8').split('\n');
  const cols = lines[0].trim().split(/\s+/);
  const eth = cols.indexOf('Eth');
  const pid = cols.indexOf('Pid');
  const ino = cols.indexOf('Inode');
  if (eth < 0 || pid < 0 || ino < 0) throw new Error(`unexpected /proc/net/netlink header: ${lines[0]}`);
  for (const line of lines.slice(1)) {
    const f = line.trim().split(/\s+/);
    if (Number(f[eth]) === protocol && Number(f[pid]) === portId) return f[ino];
  }
  throw new Error(`netlink socket with port ${portId} not listed in /proc/thread-self/net/netlink`);
}
