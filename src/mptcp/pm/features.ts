// What the running kernel offers, probed rather than guessed from the release string: the family
// description (CTRL_CMD_GETFAMILY: commands, groups, op flags) and its policies (CTRL_CMD_GETPOLICY);
// only the endpoint flags, which nothing the kernel answers shows, are read from the release.

import { existsSync } from 'node:fs';
import { release } from 'node:os';

import { family, McastGroup, type Op } from '../../../generated/mptcp_pm.js';
import { NetlinkError } from '../../netlink/core/errors.js';
import { GenlOpFlag } from '../../netlink/genl/ctrl.js';
import { acceptedAttrs, CTRL_CMD_GETPOLICY, decodePolicyDump, getPolicyRequest, hasPerOpPolicies, type FamilyPolicy } from '../../netlink/genl/policy.js';
import type { GenlSocket } from '../../netlink/genl/socket.js';
import type { EndpointFlag } from './endpoint.js';

export type OpName = keyof typeof Op;

/** Kernel release that added each command, for "not supported" errors. */
export const OP_SINCE: Partial<Record<OpName, string>> = {
  addAddr: '5.7', delAddr: '5.7', getAddr: '5.7', flushAddrs: '5.7', setLimits: '5.7', getLimits: '5.7',
  setFlags: '5.12', announce: '5.19', remove: '5.19', subflowCreate: '5.19', subflowDestroy: '5.19',
};

/**
 * Kernel release that added each endpoint flag. A kernel without one drops it from ADD_ADDR
 * silently (unknown bits are masked off), and its policy puts no mask on the flags attribute
 * (a plain u32 up to 6.18 at least), so the release is the only sign.
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
  /**
   * GET_ADDR honours a connection token (6.9+): the policies of its do and dump forms accept the
   * TOKEN attribute. Older kernels ignore the token and answer with in-kernel endpoints.
   */
  readonly addressesByToken: boolean;
  /**
   * Listener events (LISTENER_CREATED/CLOSED, 6.2+). No attribute or command came with them, so
   * this is read from the kernel's shape: per-op policies (6.7+) → true; admin ops not allowed from
   * user namespaces (no UNS_ADMIN_PERM: before 6.1) or no event group → false; in between
   * (6.1–6.6) → undefined: the kernel gives no sign either way.
   */
  readonly listenerEvents: boolean | undefined;
  /** Endpoint flags this kernel stores, from its release (see {@link FLAG_SINCE}). */
  readonly endpointFlags: readonly EndpointFlag[];
  /**
   * The sysctl that chooses the path manager: `path_manager` (by name, 6.15+), `pm_type` (by
   * number, 5.19–6.14), or null when the kernel has neither (no userspace path manager).
   */
  readonly pathManagerSysctl: 'path_manager' | 'pm_type' | null;
  /** Whether the kernel answered CTRL_CMD_GETPOLICY (5.10+); without it the policy-based answers are false. */
  readonly policyDump: boolean;
}

/** Attribute type number of `name` in the top-level `attr` set (from the generated table). */
function attrType(name: string): number {
  const a = family.attributeSets.attr?.attrs.find((x) => x.name === name);
  if (!a) throw new Error(`generated table lacks attr.${name}`);
  return a.type;
}

/** `[major, minor]` of a release string such as `6.12.57+deb13-amd64` ([0, 0] when unreadable). */
export function kernelVersion(rel: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/** Endpoint flags a kernel of release `rel` stores. */
export function endpointFlagsOf(rel: string): EndpointFlag[] {
  const [major, minor] = kernelVersion(rel);
  return (Object.keys(FLAG_SINCE) as EndpointFlag[]).filter((f) => {
    const [fm, fn] = FLAG_SINCE[f].split('.').map(Number);
    return major > fm || (major === fm && minor >= fn);
  });
}

/** Which path-manager sysctl exists (the same set in every namespace of a kernel). */
export function pathManagerSysctl(dir = '/proc/sys/net/mptcp'): Features['pathManagerSysctl'] {
  if (existsSync(`${dir}/path_manager`)) return 'path_manager';
  if (existsSync(`${dir}/pm_type`)) return 'pm_type';
  return null;
}

/**
 * Features from the GETFAMILY answer (`ops`: command → CTRL op flags, `groups`) and, when the
 * kernel gave one, its GETPOLICY answer for the family; the release and the path-manager sysctl
 * default to the running kernel's.
 */
export function detectFeatures(
  ops: ReadonlyMap<number, number>, groups: ReadonlyMap<string, number>, policy: FamilyPolicy | undefined,
  rel = release(), sysctl: Features['pathManagerSysctl'] = pathManagerSysctl(),
): Features {
  const commands = {} as Record<OpName, boolean>;
  for (const op of family.operations) commands[op.field as OpName] = ops.has(op.value);
  const events = groups.has(McastGroup.events);
  const getAddr = family.operations.find((o) => o.field === 'getAddr')?.value ?? -1;
  const token = attrType('token');
  const perOp = policy !== undefined && hasPerOpPolicies(policy);
  const addressesByToken = perOp
    && acceptedAttrs(policy, getAddr, 'do').has(token)
    && acceptedAttrs(policy, getAddr, 'dump').has(token);
  const unsAdmin = [...ops.values()].some((f) => (f & GenlOpFlag.unsAdminPerm) !== 0);
  let listenerEvents: boolean | undefined;
  if (!events || !unsAdmin) listenerEvents = false;
  else if (perOp) listenerEvents = true;
  return {
    commands,
    events,
    userspacePm: commands.announce && commands.subflowCreate,
    addressesByToken,
    listenerEvents,
    endpointFlags: endpointFlagsOf(rel),
    pathManagerSysctl: sysctl,
    policyDump: policy !== undefined,
  };
}

/**
 * Asks nlctrl for the policies of `mptcp_pm` (one CTRL_CMD_GETPOLICY dump on `sock`, any generic
 * netlink socket). Needs no privilege. Resolves undefined when the kernel has no policy dump
 * (before 5.10) or refuses it; never rejects for that.
 */
export async function probePolicy(sock: GenlSocket): Promise<FamilyPolicy | undefined> {
  try {
    const replies = await sock.ctrlRequest(CTRL_CMD_GETPOLICY, getPolicyRequest(family.name), { op: 'getpolicy', dump: true });
    return decodePolicyDump(replies);
  } catch (e) {
    // A kernel without the policy dump refuses the command (EOPNOTSUPP/EINVAL): "no policy", not a failure.
    if (e instanceof NetlinkError) return undefined;
    throw e;
  }
}
