// Userspace path-manager framework: the bookkeeping a policy should not do itself — per-connection
// serialisation, back-off per path, address ids per connection, and keys that make each hook run once.

import { unmapV4 as plain } from '../os/address.js';

const READY: Promise<void> = Promise.resolve();

/** Runs tasks one after another per key; different keys run concurrently. */
export class KeyedSerial<K> {
  private tails = new Map<K, Promise<void>>();

  /** Queues `task` behind the key's earlier tasks; resolves or rejects with its result. */
  run<T>(key: K, task: () => Promise<T>): Promise<T> {
    const result = (this.tails.get(key) ?? READY).then(task);
    // The tail settles once the task has, never rejects, and forgets the key when nothing followed.
    const forget = (): void => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
    const tail: Promise<void> = result.then(forget, forget);
    this.tails.set(key, tail);
    return result;
  }

  /** Resolves when every queued task has settled. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }

  get busy(): number {
    return this.tails.size;
  }
}

export interface BackoffOptions {
  /** Delay after the first failure in a row (ms); doubles per further failure. Default 250. */
  baseMs?: number;
  /** Longest delay (ms). Default 30 000. */
  maxMs?: number;
  /** Failures in a row after which the path is given up. Default 8. */
  maxAttempts?: number;
  /** A subflow that stayed up this long (ms) worked: when it closes, its path's count starts again.
   * One that closes sooner (a join the peer takes and then resets) counts as a failure. Default 500. */
  stableMs?: number;
}

/** The group of a key: up to and with its first `|` (a connection's token), '' without one. */
const groupOf = (key: string): string => key.slice(0, key.indexOf('|') + 1);

/**
 * Consecutive failures per path, and when the next attempt may go. Keys are `token|path`; they are
 * held by token, so forgetting a closed connection's costs the same however many others are open.
 */
export class Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly maxAttempts: number;
  readonly stableMs: number;
  private groups = new Map<string, Map<string, { failures: number; last: number }>>();

  constructor(o: BackoffOptions = {}, private readonly now: () => number = () => performance.now()) {
    this.baseMs = o.baseMs ?? 250;
    this.maxMs = o.maxMs ?? 30_000;
    this.maxAttempts = o.maxAttempts ?? 8;
    this.stableMs = o.stableMs ?? 500;
  }

  private entry(path: string): { failures: number; last: number } | undefined {
    return this.groups.get(groupOf(path))?.get(path);
  }

  /** A failure (or a close) on `path`. Returns the failures in a row now. */
  fail(path: string): number {
    const g = groupOf(path);
    let paths = this.groups.get(g);
    if (paths === undefined) this.groups.set(g, (paths = new Map()));
    const p = paths.get(path);
    const failures = (p?.failures ?? 0) + 1;
    paths.set(path, { failures, last: this.now() });
    return failures;
  }

  /** The path works: its count starts again. */
  succeed(path: string): void {
    const g = groupOf(path);
    const paths = this.groups.get(g);
    if (paths?.delete(path) === true && paths.size === 0) this.groups.delete(g);
  }

  failures(path: string): number {
    return this.entry(path)?.failures ?? 0;
  }

  /** Milliseconds to wait before the next attempt on `path` (0: now). */
  wait(path: string): number {
    const p = this.entry(path);
    if (p === undefined) return 0;
    const delay = Math.min(this.maxMs, this.baseMs * 2 ** (p.failures - 1));
    return Math.max(0, p.last + delay - this.now());
  }

  /** The path failed `maxAttempts` times in a row. */
  exhausted(path: string): boolean {
    return this.failures(path) >= this.maxAttempts;
  }

  /** Forgets every path whose key starts with `prefix` (a closed connection's: `token|`). */
  forget(prefix: string): void {
    if (prefix !== '' && groupOf(prefix) === prefix) {
      this.groups.delete(prefix);
      return;
    }
    for (const [g, paths] of this.groups) {
      for (const k of paths.keys()) if (k.startsWith(prefix)) paths.delete(k);
      if (paths.size === 0) this.groups.delete(g);
    }
  }
}

/**
 * Local address ids of one connection: an address keeps one id and an id names one address (the
 * kernel refuses "did not match address and id" otherwise). A preferred id (configured, or the one
 * the address got on other connections) is used when free here; else the lowest free id from 1.
 */
export class AddressIds {
  private byAddress = new Map<string, number>();
  private used = new Set<number>();

  constructor(private readonly preferred: Map<string, number>) {}

  /** Records an id the kernel already uses for `address` on this connection (from a subflow or announce). */
  note(address: string, id: number): void {
    if (id === 0 || this.byAddress.has(address)) return;
    this.byAddress.set(address, id);
    this.used.add(id);
  }

  has(address: string): boolean {
    return this.byAddress.has(address);
  }

  /** The id for `address`, allocating one if needed; `wanted` wins when it is free. */
  idFor(address: string, wanted?: number): number {
    const known = this.byAddress.get(address);
    if (known !== undefined) return known;
    const pick = [wanted, this.preferred.get(address)].find((id) => id !== undefined && !this.used.has(id));
    let id = pick;
    if (id === undefined) {
      id = 1;
      while (this.used.has(id) && id < 255) id++;
      if (this.used.has(id)) throw new RangeError('no free address id left on this connection (1–255 all used)');
    }
    this.byAddress.set(address, id);
    this.used.add(id);
    if (!this.preferred.has(address)) this.preferred.set(address, id);
    return id;
  }
}

/** v4-mapped addresses compared as IPv4 (events and sock_diag may spell them differently). */
export { plain };

/** Key of a subflow by its 4-tuple. */
export function subflowKey(s: { local: { address: string; port: number }; remote: { address: string; port: number } }): string {
  return `${plain(s.local.address)}:${s.local.port}>${plain(s.remote.address)}:${s.remote.port}`;
}

/** Key of a path: local address to remote address and port (any local port). */
export function pathKey(local: string, remote: string, port: number): string {
  return `${plain(local)}>${plain(remote)}:${port}`;
}
