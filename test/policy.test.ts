// CTRL_CMD_GETPOLICY codec (src/netlink/genl/policy.ts): request bytes, and a dump built here with
// the test-only byte helpers decoded into per-op policy indexes and attribute policies.

import { describe, expect, it } from 'vitest';
import { acceptedAttrs, decodePolicyDump, getPolicyRequest, hasPerOpPolicies } from '../src/netlink/genl/policy.js';
import { DecodeError } from '../src/netlink/core/errors.js';
import { cat, cstr, nest, nla, toHex, u16le, u32le } from './helpers/bytes.js';

const FAMILY_ID = nla(1, u16le(0x1c));
/** One policy message: policy `idx`, attribute `type` with NL_ATTR_TYPE `nl` (and a nested policy index). */
const policyMsg = (idx: number, type: number, nl: number, nested?: number): Buffer =>
  Buffer.from(cat(FAMILY_ID, nest(8, nest(idx, nest(type, nla(1, u32le(nl)), nested === undefined ? [] : nla(8, u32le(nested)))))));
/** One op message: command `cmd` with its do and dump policy indexes. */
const opMsg = (cmd: number, doIdx?: number, dumpIdx?: number): Buffer =>
  Buffer.from(cat(FAMILY_ID, nest(9, nest(cmd, doIdx === undefined ? [] : nla(1, u32le(doIdx)), dumpIdx === undefined ? [] : nla(2, u32le(dumpIdx))))));

describe('getPolicyRequest', () => {
  it('names the family (CTRL_ATTR_FAMILY_NAME) and, when given, the op (CTRL_ATTR_OP)', () => {
    expect(toHex(getPolicyRequest('mptcp_pm'))).toBe(toHex(nla(2, cstr('mptcp_pm'))));
    expect(toHex(getPolicyRequest('mptcp_pm', 3))).toBe(toHex(cat(nla(2, cstr('mptcp_pm')), nla(10, u32le(3)))));
  });
});

describe('decodePolicyDump', () => {
  // Shape of the 6.18 answer for GET_ADDR (op 3, policy 3) and GET_LIMITS (op 6, policy 6).
  const dump = [
    policyMsg(1, 1, 3), policyMsg(1, 2, 2), policyMsg(1, 7, 8),
    policyMsg(3, 1, 13, 1), policyMsg(3, 4, 4),
    policyMsg(6, 2, 4), policyMsg(6, 3, 4), policyMsg(6, 99, 77),
    opMsg(3, 3, 3), opMsg(6, 6),
  ];

  it('merges the messages into op → {do, dump} and policy → attribute → type', () => {
    const p = decodePolicyDump(dump);
    expect([...p.ops.entries()]).toEqual([[3, { do: 3, dump: 3 }], [6, { do: 6 }]]);
    expect(p.policies.get(3)?.get(1)).toEqual({ type: 13, kind: 'nested', nestedPolicy: 1 });
    expect(p.policies.get(3)?.get(4)).toEqual({ type: 4, kind: 'u32' });
    expect(p.policies.get(1)?.get(7)).toEqual({ type: 8, kind: 's32' });
    expect(p.policies.get(6)?.get(99)).toEqual({ type: 77, kind: 'type-77' });
  });

  it('answers which attributes an op accepts, and whether ops have policies of their own', () => {
    const p = decodePolicyDump(dump);
    expect([...acceptedAttrs(p, 3, 'dump')]).toEqual([1, 4]);
    expect([...acceptedAttrs(p, 6, 'do')]).toEqual([2, 3, 99]);
    expect([...acceptedAttrs(p, 6, 'dump')]).toEqual([]);
    expect([...acceptedAttrs(p, 42, 'do')]).toEqual([]);
    expect(hasPerOpPolicies(p)).toBe(true);
    expect(hasPerOpPolicies(decodePolicyDump([policyMsg(0, 4, 4), opMsg(3, 0, 0), opMsg(6, 0)]))).toBe(false);
  });

  it('refuses malformed bytes with a DecodeError naming where', () => {
    const bad = Buffer.from(cat(FAMILY_ID, nest(9, nest(3, nla(1, [1, 2]))))); // do index of 2 bytes
    expect(() => decodePolicyDump([bad])).toThrow(DecodeError);
    expect(() => decodePolicyDump([bad])).toThrow(/ctrl\.op-policy\.3\.do/);
  });
});
