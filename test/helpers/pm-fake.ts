// Shared pieces of the tier-2 client tests: the fake `mptcp_pm` family the fake peer announces,
// the nlmsg flag sets a request must carry, and assertions on recorded requests and rejections.

import { expect } from 'vitest';
import type { FakePolicy, RecordedRequest } from './fake-genl.js';
import { ipv4, nest, nla, s32le, toHex, u16le, u32le, type Bytes } from './bytes.js';

export const FAMILY_ID = 0x1c;
/** Every op of 6.18 with the CTRL flags the kernel reports for it. */
export const ALL_OPS: [number, number][] = [
  [1, 0x1a], [2, 0x1a], [3, 0x0e], [4, 0x1a], [5, 0x1a], [6, 0x0a], [7, 0x1a], [8, 0x1a], [9, 0x1a], [10, 0x1a], [11, 0x1a],
];
export const FAMILY = { name: 'mptcp_pm', id: FAMILY_ID, version: 1, groups: { mptcp_pm_cmds: 8, mptcp_pm_events: 9 }, ops: ALL_OPS };

// nlmsg flags: REQUEST 0x1, ACK 0x4, DUMP = ROOT|MATCH 0x300. A do-request answered by one message
// (GET_ADDR, GET_LIMITS) asks for no ACK: the answer, or an NLMSG_ERROR, ends it.
export const DO = 0x0005;
export const DO_REPLY = 0x0001;
export const DUMP = 0x0305;

/** Asserts one family request: header fields, genl cmd and version, and the exact attribute bytes. */
export function expectRequest(req: RecordedRequest | undefined, cmd: number, flags: number, attrs: Bytes): void {
  expect(req, `request cmd ${cmd}`).toBeDefined();
  const r = req!;
  expect({ type: r.type, flags: r.flags, pid: r.pid, cmd: r.cmd, version: r.version, reserved: r.reserved, length: r.length })
    .toEqual({ type: FAMILY_ID, flags, pid: 0, cmd, version: 1, reserved: 0, length: 20 + attrs.length });
  expect(toHex(r.attrs)).toBe(toHex(attrs));
}

/** The rejection of `p`, failing the test if it resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection, but the call succeeded');
}

/** An endpoint (or a connection's address) as the fake kernel stores it. */
export interface FakeAddress {
  id: number;
  v4?: string;
  v6?: Uint8Array;
  port?: number;
  flags: number;
  ifIdx?: number;
}

/** A GET_ADDR reply nest as 6.18 orders it: family, port (0 when unset), id, flags, [if_idx], address. */
export function addressReply(e: FakeAddress): Uint8Array {
  return nest(
    1,
    nla(1, u16le(e.v4 !== undefined ? 2 : 10)),
    nla(5, u16le(e.port ?? 0)),
    nla(2, [e.id]),
    nla(6, u32le(e.flags)),
    e.ifIdx ? nla(7, s32le(e.ifIdx)) : [],
    e.v4 !== undefined ? nla(3, ipv4(e.v4)) : nla(4, e.v6 ?? []),
  );
}

// NL_ATTR_TYPE numbers used in the policy fixtures.
const NL = { u8: 2, u16: 3, u32: 4, binary: 10, nested: 13, s32: 8 } as const;
const ADDRESS_POLICY: [number, number, number?][] = [[1, NL.u16], [2, NL.u8], [4, NL.binary], [5, NL.u16], [6, NL.u32], [7, NL.s32]];

/** The policies 6.18.44 reported (GETPOLICY for mptcp_pm, per op; see docs/mptcp-pm-protocol.md §1). */
export const POLICY_6_18: FakePolicy = {
  family: 'mptcp_pm',
  ops: [[1, 0, undefined], [2, 2, undefined], [3, 3, 3], [4, 4, undefined], [5, 5, undefined], [6, 6, undefined],
    [7, 7, undefined], [8, 8, undefined], [9, 9, undefined], [10, 10, undefined], [11, 11, undefined]],
  policies: {
    0: [[1, NL.nested, 1]], 1: ADDRESS_POLICY, 2: [[1, NL.nested, 1]], 3: [[1, NL.nested, 1], [4, NL.u32]],
    4: [[1, NL.nested, 1]], 5: [[2, NL.u32], [3, NL.u32]], 6: [[2, NL.u32], [3, NL.u32]],
    7: [[1, NL.nested, 1], [4, NL.u32], [6, NL.nested, 1]], 8: [[1, NL.nested, 1], [4, NL.u32]],
    9: [[4, NL.u32], [5, NL.u8]], 10: [[1, NL.nested, 1], [4, NL.u32], [6, NL.nested, 1]],
    11: [[1, NL.nested, 1], [4, NL.u32], [6, NL.nested, 1]],
  },
};

/** Per-op policies as 6.7/6.8 had them: GET_ADDR's policy stops at ADDR (maxattr 1), so no TOKEN. */
export const POLICY_6_8: FakePolicy = {
  ...POLICY_6_18,
  policies: { ...POLICY_6_18.policies, 3: [[1, NL.nested, 1]] },
};

/** One policy shared by every op (before 6.7): it lists TOKEN, yet GET_ADDR ignored it then. */
export const POLICY_SHARED: FakePolicy = {
  family: 'mptcp_pm',
  ops: POLICY_6_18.ops.map(([cmd, , dump]) => [cmd, 0, dump === undefined ? undefined : 0]),
  policies: { 0: [[1, NL.nested, 1], [2, NL.u32], [3, NL.u32], [4, NL.u32], [5, NL.u8], [6, NL.nested, 1]], 1: ADDRESS_POLICY },
};
