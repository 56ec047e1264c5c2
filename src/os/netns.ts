// OS layer: network namespaces. A Netns holds an fd of the namespace from the moment it is opened,
// so every later step (new sockets, interface names, sysctls) acts on that namespace, whatever
// happens to its name under /run/netns afterwards.

import { closeSync, fstatSync, openSync, readdirSync, statSync, constants as fsc } from 'node:fs';
import { CLONE_NEWNET, ifIndexToName, ifNameToIndex, namespaceType, setns } from './sys.js';

/** A network namespace that could not be opened or entered. */
export class NetnsError extends Error {
  override readonly name = 'NetnsError';
  readonly netns: string;
  constructor(netns: string, detail: string) {
    super(`network namespace ${JSON.stringify(netns.length > 100 ? `${netns.slice(0, 100)}…` : netns)}: ${detail}`);
    this.netns = netns;
  }
}

/** `/run/netns/<name>` for a bare name (as `ip netns` uses); a path containing `/` is used as is. */
export function netnsPath(netns: string): string {
  return netns.includes('/') ? netns : `/run/netns/${netns}`;
}

/** Namespace names under /run/netns (empty when the directory does not exist). */
export function listNetns(): string[] {
  try {
    return readdirSync('/run/netns');
  } catch {
    return [];
  }
}

const SELF = '/proc/thread-self/ns/net';

/**
 * An open network namespace. `Netns.open('blue')` opens `/run/netns/blue` once; `run()` enters that
 * namespace for the duration of a synchronous call. `Netns.open(undefined)` is the caller's own
 * namespace at the time of the call. Entering another namespace needs CAP_SYS_ADMIN.
 */
export class Netns {
  /** The name or path it was opened from; undefined for the caller's own namespace. */
  readonly name: string | undefined;
  /** Inode of the namespace: two handles with equal ids are the same namespace. */
  readonly id: number;
  private fd: number;

  private constructor(name: string | undefined, fd: number, id: number, private readonly owned = true) {
    this.name = name;
    this.fd = fd;
    this.id = id;
  }

  /**
   * Opens `netns` (a name under /run/netns or a path such as /proc/PID/ns/net), or the caller's
   * namespace when undefined. Needs no privilege. Given a handle, returns a borrowed view of it:
   * the same namespace, whatever happens to its name meanwhile, and closing the view leaves the
   * handle open (the caller keeps the handle open while the view is used).
   * @throws NetnsError when it does not exist or is not a network namespace, or the handle is closed.
   */
  static open(netns: string | Netns | undefined): Netns {
    if (netns instanceof Netns) {
      if (netns.fd < 0) throw new NetnsError(netns.name ?? '(own)', 'the handle is closed');
      return new Netns(netns.name, netns.fd, netns.id, false);
    }
    const path = netns === undefined ? SELF : netnsPath(netns);
    const label = netns ?? '(own)';
    let fd: number;
    try {
      fd = openSync(path, fsc.O_RDONLY);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      throw new NetnsError(label, code === 'ENOENT' ? `not found (no ${path})` : `cannot open ${path}: ${code}`);
    }
    try {
      // Namespaces live on nsfs (one device for all of them); a regular file, or another kind of
      // namespace, is refused here rather than reported later as a failed setns.
      const st = fstatSync(fd);
      if (st.dev !== statSync(SELF).dev) throw new NetnsError(label, `${path} is not a network namespace (not a namespace file)`);
      const type = namespaceType(fd);
      if (type !== CLONE_NEWNET) throw new NetnsError(label, `${path} is not a network namespace (namespace type ${type})`);
      return new Netns(netns, fd, st.ino);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Whether the calling thread is in this namespace now. */
  isCurrent(): boolean {
    return statSync(SELF).ino === this.id;
  }

  /**
   * Runs `fn` (synchronous) with the calling thread inside this namespace, then moves it back,
   * also when `fn` throws. The process's other threads stay where they are.
   * @throws NetnsError when it cannot enter (no CAP_SYS_ADMIN) or the handle is closed.
   */
  run<T>(fn: () => T): T {
    if (this.fd < 0) throw new NetnsError(this.name ?? '(own)', 'the handle is closed');
    if (this.isCurrent()) return fn();
    const back = openSync(SELF, fsc.O_RDONLY);
    try {
      try {
        setns(this.fd, CLONE_NEWNET, this.name ?? 'namespace');
      } catch (e) {
        throw new NetnsError(this.name ?? '(own)', `cannot enter: ${(e as Error).message} (needs CAP_SYS_ADMIN)`);
      }
      try {
        return fn();
      } finally {
        // Failing to come back would leave the JS thread in the wrong namespace: never continue.
        setns(back, CLONE_NEWNET, 'return to the original network namespace');
      }
    } finally {
      closeSync(back);
    }
  }

  /** Index of interface `name` in this namespace; 0 when absent. */
  interfaceIndex(name: string): number {
    return this.run(() => ifNameToIndex(name));
  }

  /** Name of interface `index` in this namespace; undefined when absent. */
  interfaceName(index: number): string | undefined {
    return this.run(() => ifIndexToName(index));
  }

  /**
   * Releases the fd (a borrowed view only lets go of the handle it borrowed). Sockets already
   * opened in the namespace keep working. Idempotent.
   */
  close(): void {
    if (this.fd >= 0 && this.owned) closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * Runs `fn` (synchronous) inside `netns` (a name under /run/netns or a path), opening the namespace
 * for this call only. Prefer a {@link Netns} held open when acting on one namespace repeatedly.
 */
export function withNetns<T>(netns: string | Netns, fn: () => T): T {
  const ns = Netns.open(netns);
  try {
    return ns.run(fn);
  } finally {
    ns.close();
  }
}

/** The name a namespace was given by (a name, a path, or a handle's), undefined for the caller's own. */
export function netnsName(netns: string | Netns | undefined): string | undefined {
  return netns instanceof Netns ? netns.name : netns;
}
