// What the running kernel offers, read from the family description (CTRL_CMD_GETFAMILY) and the
// kernel release: which commands exist, whether the event group is there, and a few version gates.

import { release } from 'node:os';
import { family, type Op } from '../../generated/mptcp_pm.js';

export type OpName = keyof typeof Op;

/** Kernel release that added each command, for "not supported" errors. */
export const OP_SINCE: Partial<Record<OpName, string>> = {
  addAddr: '5.7', delAddr: '5.7', getAddr: '5.7', flushAddrs: '5.7', setLimits: '5.7', getLimits: '5.7',
  setFlags: '5.12', announce: '5.19', remove: '5.19', subflowCreate: '5.19', subflowDestroy: '5.19',
};

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
  /** The kernel release string these gates were read from. */
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

export function detectFeatures(ops: ReadonlyMap<number, number>, groups: ReadonlyMap<string, number>, rel = release()): Features {
  const commands = {} as Record<OpName, boolean>;
  for (const op of family.operations) commands[op.field as OpName] = ops.has(op.value);
  const v = kernelVersion(rel);
  return {
    commands,
    events: groups.has('mptcp_pm_events'),
    userspacePm: commands.announce && commands.subflowCreate,
    addressesByToken: atLeast(v, 6, 9),
    listenerEvents: atLeast(v, 6, 2),
    kernelRelease: rel,
  };
}
