// What the userspace path-manager framework is started with: its options and their checks, the
// parts it runs on, and the namespace's own addresses.

import type { EventEmitter } from 'eventemitter3';
import { networkInterfaces } from 'node:os';
import type { MptcpEvents } from '../mptcp/events/events.js';
import type { ConnectionTracker, TrackerEvents } from '../mptcp/tracker/tracker.js';
import { checkInt, checkKeys, checkObject } from '../mptcp/input/validate.js';
import { ValidationError } from '../netlink/core/errors.js';
import { Netns } from '../os/netns.js';
import type { PmLike } from './actions.js';
import type { BackoffOptions } from './bookkeeping.js';
import type { Policy } from './types.js';

export interface UserspacePathManagerOptions {
  /** Network namespace (name under /run/netns or a path). Default: the caller's. */
  netns?: string;
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
}

/** The global (not loopback, not link-local) addresses of the namespace. */
export function namespaceAddresses(netns: string | undefined): string[] {
  const ns = Netns.open(netns);
  try {
    return ns.run(() => Object.values(networkInterfaces()).flat())
      .filter((a) => a !== undefined && !a.internal && !(a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80')))
      .map((a) => a!.address);
  } finally {
    ns.close();
  }
}


export function checkPolicy(p: unknown): asserts p is Policy {
  const o = checkObject('policy', p);
  for (const k of ['established', 'subflowClosed', 'subflowEstablished', 'announced', 'removed', 'closed']) {
    if (o[k] !== undefined && typeof o[k] !== 'function') throw new ValidationError(`policy.${k}`, 'must be a function when given');
  }
}

export function checkBackoff(b: unknown): void {
  const o = checkObject('backoff', b);
  checkKeys('backoff', o, ['baseMs', 'maxMs', 'maxAttempts']);
  if (o.baseMs !== undefined) checkInt('backoff.baseMs', o.baseMs, 1, 3_600_000);
  if (o.maxMs !== undefined) checkInt('backoff.maxMs', o.maxMs, 1, 3_600_000);
  if (o.maxAttempts !== undefined) checkInt('backoff.maxAttempts', o.maxAttempts, 1, 1000);
}
