// Generic-netlink controller layer: CTRL_CMD_GETPOLICY (Linux 5.10+), the request and the decoding
// of its dump into the attribute policies a family applies to each of its commands, through the
// codec and the tables generated from scripts/spec/nlctrl.yaml.

import { AttrType, Op, nlctrlFamily, type GetpolicyDumpReply, type GetpolicyDumpRequest } from '../../../generated/nlctrl.js';
import { decodeAttrs, encodeAttrs } from '../core/codec.js';

/** The command number of CTRL_CMD_GETPOLICY. */
export const CTRL_CMD_GETPOLICY = Op.getpolicy;

/** `NL_ATTR_TYPE_*` names by number: the wire type the kernel's policy expects for an attribute. */
const TYPE_NAMES: ReadonlyMap<number, string> = new Map(nlctrlFamily.enums['attr-type'].entries.map((e) => [e.value, e.name]));

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
  const req: GetpolicyDumpRequest = { familyName: name, ...(op === undefined ? {} : { op }) };
  return encodeAttrs(nlctrlFamily, 'ctrl-attrs', { ...req }).finish();
}

/**
 * Decodes the messages of a CTRL_CMD_GETPOLICY dump (attribute bytes after the genl header of each).
 * Each message carries either one policy's attributes or one op's policy indexes; they are merged.
 * @throws DecodeError naming the attribute (`ctrl.op-policy.3.do: expected 4 bytes, got 2`).
 */
export function decodePolicyDump(replies: readonly Uint8Array[]): FamilyPolicy {
  const ops = new Map<number, { do?: number; dump?: number }>();
  const policies = new Map<number, Map<number, AttrPolicy>>();
  for (const reply of replies) {
    const r = decodeAttrs<GetpolicyDumpReply>(nlctrlFamily, 'ctrl-attrs', reply, 'ctrl');
    for (const [idx, attrs] of Object.entries(r.policy ?? {})) {
      const into = policies.get(Number(idx)) ?? new Map<number, AttrPolicy>();
      policies.set(Number(idx), into);
      for (const [type, p] of Object.entries(attrs)) {
        const t = p.type ?? AttrType.invalid;
        const kind = TYPE_NAMES.get(t) ?? `type-${t}`;
        into.set(Number(type), p.policyIdx === undefined ? { type: t, kind } : { type: t, kind, nestedPolicy: p.policyIdx });
      }
    }
    for (const [cmd, o] of Object.entries(r.opPolicy ?? {})) {
      const entry = ops.get(Number(cmd)) ?? {};
      if (o.do !== undefined) entry.do = o.do;
      if (o.dump !== undefined) entry.dump = o.dump;
      ops.set(Number(cmd), entry);
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
