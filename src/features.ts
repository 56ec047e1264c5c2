// What the running kernel offers, read from the family description (CTRL_CMD_GETFAMILY), the
// net.mptcp sysctls present, and, for what neither shows, the kernel release.

import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { family, type Op } from '../generated/mptcp_pm.js';
import type { EndpointFlag } from './endpoint.js';

export type OpName = keyof typeof Op;

/** Kernel release that added each command, for "not supported" errors. */
export const OP_SINCE: Partial<Record<OpName, string>> = {
  addAddr: '5.7', delAddr: '5.7', getAddr: '5.7', flushAddrs: '5.7', setLimits: '5.7', getLimits: '5.7',
  setFlags: '5.12', announce: '5.19', remove: '5.19', subflowCreate: '5.19', subflowDestroy: '5.19',
};

/**
 * Kernel release that added each endpoint flag. A kernel without one drops it from ADD_ADDR
 * silently (unknown bits are masked off), so it has to be known before sending.
 */
export const FLAG_SINCE: Readonly<Record<EndpointFlag, string>> = {
  signal: '5.7', subflow: '5.7', backup: '5.7', fullmesh: '5.15', implicit: '5.18', laminar: '6.18',
};

/** Kernel release that added the listener events (LISTENER_CREATED / LISTENER_CLOSED). */
export const LISTENER_EVENTS_SINCE = '6.2';

export interface Features {
  /** Commands the kernel lists for the family, by API op name. */
  readonly commands: Readonly<Record<OpName, boolean>>;
  /** The `mptcp_pm_events` multicast group exists (5.12+). */
  readonly events: boolean;
  /** The userspace path-manager commands exist (5.19+). */
  readonly userspacePm: boolean;
  /** GET_ADDR honours a connection token (6.9+); older kernels ignore it and answer for endpoints. */
  readonly addressesByToken: boolean;
  /** Listener events (LISTENER_CREATED/CLOSED, 6.2+). */
  readonly listenerEvents: boolean;
  /** Endpoint flags this kernel stores (see {@link FLAG_SINCE}). */
  readonly endpointFlags: readonly EndpointFlag[];
  /**
   * The sysctl that chooses the path manager: `path_manager` (by name, 6.15+), `pm_type` (by
   * number, 5.19–6.14), or null when the kernel has neither (no userspace path manager).
   */
  readonly pathManagerSysctl: 'path_manager' | 'pm_type' | null;
  /** The kernel release string the release-based gates were read from. */
  readonly kernelRelease: string;
}

/** [major, minor] of a release string such as "6.18.44-foo". */
export function kernelVersion(text = release()): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

export function atLeast(v: [number, number], major: number, minor: number): boolean {
  return v[0] > major || (v[0] === major && v[1] >= minor);
}

/** Which path-manager sysctl exists (the same set in every namespace of a kernel). */
export function pathManagerSysctl(dir = '/proc/sys/net/mptcp'): Features['pathManagerSysctl'] {
  if (existsSync(`${dir}/path_manager`)) return 'path_manager';
  if (existsSync(`${dir}/pm_type`)) return 'pm_type';
  return null;
}

export function detectFeatures(
  ops: ReadonlyMap<number, number>, groups: ReadonlyMap<string, number>, rel = release(), sysctl = pathManagerSysctl(),
): Features {
  const commands = {} as Record<OpName, boolean>;
  for (const op of family.operations) commands[op.field as OpName] = ops.has(op.value);
  const v = kernelVersion(rel);
  const since = (s: string): boolean => {
    const [major, minor] = s.split('.').map(Number);
    return atLeast(v, major, minor);
  };
  return {
    commands,
    events: groups.has('mptcp_pm_events'),
    userspacePm: commands.announce && commands.subflowCreate,
    addressesByToken: since('6.9'),
    listenerEvents: since(LISTENER_EVENTS_SINCE),
    endpointFlags: (Object.keys(FLAG_SINCE) as EndpointFlag[]).filter((f) => since(FLAG_SINCE[f])),
    pathManagerSysctl: sysctl,
    kernelRelease: rel,
  };
}
