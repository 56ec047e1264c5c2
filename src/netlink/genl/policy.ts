// Generic-netlink controller layer: CTRL_CMD_GETPOLICY (Linux 5.10+), the request and the decoding
// of its dump into the attribute policies a family applies to each of its commands.

import { AttrWriter, readAttrs, read, type RawAttr } from '../core/attr.js';
import { Ctrl } from './ctrl.js';

/** `nlctrl` numbers of the policy dump (include/uapi/linux/genetlink.h, netlink.h). */
export const CtrlPolicy = {
  CMD_GETPOLICY: 10,
  ATTR_POLICY: 8,
  ATTR_OP_POLICY: 9,
  ATTR_OP: 10,
  POLICY_DO: 1,
  POLICY_DUMP: 2,
  TYPE_ATTR_TYPE: 1,
  TYPE_ATTR_POLICY_IDX: 8,
  TYPE_ATTR_POLICY_MAXTYPE: 9,
} as const;

/** `NL_ATTR_TYPE_*` by number: the wire type the kernel's policy expects for an attribute. */
export const NL_ATTR_TYPES = [
  'invalid', 'flag', 'u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64', 'binary', 'string',
  'nul-string', 'nested', 'nested-array', 'bitfield32', 'sint', 'uint',
] as const;

/** What a policy says of one attribute (only the fields this library reads). */
export interface AttrPolicy {
  /** `NL_ATTR_TYPE_*` number. */
  readonly type: number;
  /** Its name, or `type-<n>` for a number this library does not know. */
  readonly kind: string;
  /** For nests: the index of the nested policy. */
  readonly nestedPolicy?: number;
}

/** A family's policies: for each command the policy index of its do and dump, and each policy's attributes. */
export interface FamilyPolicy {
  /** Command → policy index of its do and dump forms (absent: that form takes no attributes or does not exist). */
  readonly ops: ReadonlyMap<number, { readonly do?: number; readonly dump?: number }>;
  /** Policy index → attribute type → what it accepts. */
  readonly policies: ReadonlyMap<number, ReadonlyMap<number, AttrPolicy>>;
}

/** Attribute bytes of a CTRL_CMD_GETPOLICY dump request for family `name` (every op, or only `op`). */
export function getPolicyRequest(name: string, op?: number): Buffer {
  const w = new AttrWriter(64).string(Ctrl.ATTR_FAMILY_NAME, name);
  if (op !== undefined) w.u32(CtrlPolicy.ATTR_OP, op);
  return w.finish();
}

function attrPolicy(a: RawAttr, path: string): AttrPolicy {
  let type = 0;
  let nestedPolicy: number | undefined;
  for (const f of readAttrs(a.data, path)) {
    if (f.type === CtrlPolicy.TYPE_ATTR_TYPE) type = read.u32(f, `${path}.type`);
    else if (f.type === CtrlPolicy.TYPE_ATTR_POLICY_IDX) nestedPolicy = read.u32(f, `${path}.policy-idx`);
  }
  const kind = NL_ATTR_TYPES[type] ?? `type-${type}`;
  return nestedPolicy === undefined ? { type, kind } : { type, kind, nestedPolicy };
}

/**
 * Decodes the messages of a CTRL_CMD_GETPOLICY dump (attribute bytes after the genl header of each).
 * Each message carries either one policy's attributes or one op's policy indexes; they are merged.
 */
export function decodePolicyDump(replies: readonly Buffer[]): FamilyPolicy {
  const ops = new Map<number, { do?: number; dump?: number }>();
  const policies = new Map<number, Map<number, AttrPolicy>>();
  for (const reply of replies) {
    for (const a of readAttrs(reply, 'ctrl.getpolicy')) {
      if (a.type === CtrlPolicy.ATTR_POLICY) {
        for (const p of readAttrs(a.data, 'ctrl.policy')) {
          const attrs = policies.get(p.type) ?? new Map<number, AttrPolicy>();
          policies.set(p.type, attrs);
          for (const at of readAttrs(p.data, `ctrl.policy.${p.type}`)) {
            attrs.set(at.type, attrPolicy(at, `ctrl.policy.${p.type}.${at.type}`));
          }
        }
      } else if (a.type === CtrlPolicy.ATTR_OP_POLICY) {
        for (const o of readAttrs(a.data, 'ctrl.op-policy')) {
          const entry = ops.get(o.type) ?? {};
          for (const f of readAttrs(o.data, `ctrl.op-policy.${o.type}`)) {
            if (f.type === CtrlPolicy.POLICY_DO) entry.do = read.u32(f, `ctrl.op-policy.${o.type}.do`);
            else if (f.type === CtrlPolicy.POLICY_DUMP) entry.dump = read.u32(f, `ctrl.op-policy.${o.type}.dump`);
          }
          ops.set(o.type, entry);
        }
      }
    }
  }
  return { ops, policies };
}

/** Attribute types the `mode` form of command `cmd` accepts at top level (empty when unknown). */
export function acceptedAttrs(policy: FamilyPolicy, cmd: number, mode: 'do' | 'dump'): ReadonlySet<number> {
  const idx = policy.ops.get(cmd)?.[mode];
  const attrs = idx === undefined ? undefined : policy.policies.get(idx);
  return new Set(attrs?.keys() ?? []);
}

/** Whether the commands have policies of their own (since Linux 6.7 for mptcp_pm), not one shared by all. */
export function hasPerOpPolicies(policy: FamilyPolicy): boolean {
  const indexes = new Set<number>();
  for (const o of policy.ops.values()) {
    if (o.do !== undefined) indexes.add(o.do);
    if (o.dump !== undefined) indexes.add(o.dump);
  }
  return indexes.size > 1;
}
