// What the running kernel offers, probed rather than guessed from the release string: the family
// description (CTRL_CMD_GETFAMILY: commands, groups, op flags) and its policies (CTRL_CMD_GETPOLICY).

import { family, McastGroup, type Op } from '../../generated/mptcp_pm.js';
import { NetlinkError } from '../netlink/errors.js';
import { GenlOpFlag } from '../netlink/genl/ctrl.js';
import { acceptedAttrs, CtrlPolicy, decodePolicyDump, getPolicyRequest, hasPerOpPolicies, type FamilyPolicy } from '../netlink/genl/policy.js';
import { GenlSocket, type RawTransport } from '../netlink/genl/socket.js';
import type { Netns } from '../os/netns.js';

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
  /** Whether the kernel answered CTRL_CMD_GETPOLICY (5.10+); without it the policy-based answers are false. */
  readonly policyDump: boolean;
}

/** Attribute type number of `name` in the top-level `attr` set (from the generated table). */
function attrType(name: string): number {
  const a = family.attributeSets.attr?.attrs.find((x) => x.name === name);
  if (!a) throw new Error(`generated table lacks attr.${name}`);
  return a.type;
}

/**
 * Features from the GETFAMILY answer (`ops`: command → CTRL op flags, `groups`) and, when the
 * kernel gave one, its GETPOLICY answer for the family. Pure.
 */
export function detectFeatures(ops: ReadonlyMap<number, number>, groups: ReadonlyMap<string, number>, policy: FamilyPolicy | undefined): Features {
  const commands = {} as Record<OpName, boolean>;
  for (const op of family.operations) commands[op.field as OpName] = ops.has(op.value);
  const events = groups.has(McastGroup.events);
  const getAddr = family.operations.find((o) => o.field === 'getAddr')?.value ?? -1;
  const token = attrType('token');
  const perOp = policy !== undefined && hasPerOpPolicies(policy);
  const addressesByToken = perOp
    && acceptedAttrs(policy, getAddr, 'do').has(token)
    && acceptedAttrs(policy, getAddr, 'dump').has(token);
  const unsAdmin = [...ops.values()].some((f) => (f & GenlOpFlag.UNS_ADMIN_PERM) !== 0);
  let listenerEvents: boolean | undefined;
  if (!events || !unsAdmin) listenerEvents = false;
  else if (perOp) listenerEvents = true;
  return {
    commands,
    events,
    userspacePm: commands.announce && commands.subflowCreate,
    addressesByToken,
    listenerEvents,
    policyDump: policy !== undefined,
  };
}

/**
 * Asks nlctrl for the policies of `mptcp_pm` (CTRL_CMD_GETPOLICY dump, on a short-lived nlctrl
 * socket in `netns`). Needs no privilege. Resolves undefined when the kernel has no policy dump
 * (before 5.10) or refuses it; never rejects for that.
 */
export async function probePolicy(netns: Netns, opts: { transport?: RawTransport; timeoutMs?: number } = {}): Promise<FamilyPolicy | undefined> {
  let ctrl: GenlSocket | undefined;
  try {
    ctrl = await GenlSocket.open('nlctrl', { netns, transport: opts.transport, timeoutMs: opts.timeoutMs });
    const replies = await ctrl.request(CtrlPolicy.CMD_GETPOLICY, getPolicyRequest(family.name), { op: 'getpolicy', dump: true });
    return decodePolicyDump(replies);
  } catch (e) {
    // A kernel without the policy dump refuses the command (EOPNOTSUPP/EINVAL): "no policy", not a failure.
    if (e instanceof NetlinkError) return undefined;
    throw e;
  } finally {
    ctrl?.close();
  }
}
