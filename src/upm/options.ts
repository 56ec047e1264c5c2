// What the userspace path-manager framework is started with: its options and their checks, and the
// parts it runs on (client, event stream, tracker), opened in one namespace held by handle.

import type { EventEmitter } from 'eventemitter3';
import { networkInterfaces } from 'node:os';
import { MptcpEvents } from '../mptcp/events/events.js';
import type { MptcpEvent } from '../mptcp/events/types.js';
import { MptcpPm } from '../mptcp/pm/pm.js';
import { ConnectionTracker, type TrackerEvents } from '../mptcp/tracker/tracker.js';
import { checkBoolean, checkInt, checkKeys, checkNetns, checkObject } from '../mptcp/input/validate.js';
import { ValidationError } from '../netlink/core/errors.js';
import { Netns, netnsName } from '../os/netns.js';
import { PathManagerModeError } from './errors.js';
import type { PmLike } from './actions.js';
import type { BackoffOptions } from './bookkeeping.js';
import type { Policy } from './types.js';

export interface UserspacePathManagerOptions {
  /** A namespace: a name under /run/netns, a path such as /proc/PID/ns/net, or an open Netns handle (borrowed: used, never closed). Default: the caller's. */
  netns?: string | Netns;
  policy: Policy;
  /** Receive buffer of the event sockets (see MptcpEvents). */
  receiveBufferBytes?: number;
  /** Switch the namespace to the userspace path manager if it is not on it (else PathManagerModeError). */
  switchPathManager?: boolean;
  backoff?: BackoffOptions;
  /** An attempt with no subflow seen after this long is taken as lost at the next resync (ms). Default 5000. */
  pendingTimeoutMs?: number;
}

/** @internal What the framework runs on; the real ones come from {@link UserspacePathManager.start}. */
export interface UpmParts {
  tracker: Pick<ConnectionTracker, 'connections' | 'resync' | 'close'> & { on: EventEmitter<TrackerEvents>['on'] };
  events: { on: MptcpEvents['on']; close(): void };
  pm: PmLike & { close(): void };
  /** Global addresses of the namespace. */
  localAddresses(): string[];
  /** Called last when the framework stops (releases what the parts were opened in). */
  close?(): void;
}

/** The global (not loopback, not link-local) addresses of the namespace. */
export function namespaceAddresses(ns: Netns): string[] {
  return ns.run(() => Object.values(networkInterfaces()).flat())
    .filter((a) => a !== undefined && !a.internal && !(a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80')))
    .map((a) => a!.address);
}


export function checkPolicy(p: unknown): asserts p is Policy {
  const o = checkObject('policy', p);
  for (const k of ['established', 'subflowClosed', 'subflowEstablished', 'announced', 'removed', 'closed']) {
    if (o[k] !== undefined && typeof o[k] !== 'function') throw new ValidationError(`policy.${k}`, 'must be a function when given');
  }
}

export function checkBackoff(b: unknown): void {
  const o = checkObject('backoff', b);
  checkKeys('backoff', o, ['baseMs', 'maxMs', 'maxAttempts', 'stableMs']);
  if (o.baseMs !== undefined) checkInt('backoff.baseMs', o.baseMs, 1, 3_600_000);
  if (o.maxMs !== undefined) checkInt('backoff.maxMs', o.maxMs, 1, 3_600_000);
  if (o.maxAttempts !== undefined) checkInt('backoff.maxAttempts', o.maxAttempts, 1, 1000);
  if (o.stableMs !== undefined) checkInt('backoff.stableMs', o.stableMs, 0, 3_600_000);
}

/**
 * Checks the options, opens the namespace once and, in it, the client, the event stream and the
 * tracker the framework runs on (switching the path manager when asked). Events that arrive while
 * the tracker takes its snapshot are held in `early`.
 * @throws ValidationError (options), PathManagerModeError, NetnsError, NetlinkError.
 */
export async function openParts(options: UserspacePathManagerOptions): Promise<{ parts: UpmParts; early: (MptcpEvent | 'overrun')[]; close(): void }> {
  const o = checkObject('options', options);
  checkKeys('options', o, ['netns', 'policy', 'receiveBufferBytes', 'switchPathManager', 'backoff', 'pendingTimeoutMs']);
  const netns = checkNetns(o.netns);
  checkPolicy(o.policy);
  if (o.switchPathManager !== undefined) checkBoolean('switchPathManager', o.switchPathManager);
  if (o.pendingTimeoutMs !== undefined) checkInt('pendingTimeoutMs', o.pendingTimeoutMs, 1, 3_600_000);
  if (o.backoff !== undefined) checkBackoff(o.backoff);
  const ns = Netns.open(netns); // every socket lives in it; local addresses are read from it on resync
  const closers: (() => void)[] = [() => ns.close()];
  try {
    const pm = await MptcpPm.open({ netns: ns });
    closers.push(() => pm.close());
    const current = await pm.getPathManager();
    if (current !== 'userspace') {
      if (options.switchPathManager !== true) throw new PathManagerModeError(netnsName(netns), current);
      await pm.setPathManager('userspace');
    }
    const rcv = options.receiveBufferBytes === undefined ? {} : { receiveBufferBytes: options.receiveBufferBytes };
    // One event socket for the tracker and the framework: each event is read and decoded once.
    const events = await MptcpEvents.open({ netns: ns, ...rcv });
    closers.push(() => events.close());
    // Held until the framework is wired, so nothing that arrives during the snapshot is dropped.
    const early: (MptcpEvent | 'overrun')[] = [];
    const hold = (e: MptcpEvent): void => void early.push(e);
    const holdOverrun = (): void => void early.push('overrun');
    events.on('event', hold);
    events.on('overrun', holdOverrun);
    const tracker = await ConnectionTracker.open({ netns: ns, events });
    closers.push(() => tracker.close());
    events.off('event', hold);
    events.off('overrun', holdOverrun);
    const parts: UpmParts = { tracker, events, pm, localAddresses: () => namespaceAddresses(ns), close: () => ns.close() };
    return { parts, early, close: () => closers.reverse().forEach((c) => c()) };
  } catch (e) {
    for (const c of closers.reverse()) c();
    throw e;
  }
}
