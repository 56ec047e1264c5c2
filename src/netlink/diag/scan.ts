// sock_diag layer: the few fields a count needs, read in place from a reply message (the state byte,
// the cookie, mptcp_info's flags and token, a subflow's local token) without decoding the rest.

import { inetDiagMsg, inetDiagSockid, mptcpInfo, sockDiagFamily } from '../../../generated/sock_diag.js';
import { DecodeError } from '../core/errors.js';
import { offsetOf } from '../core/struct.js';

const attrType = (set: string, name: string): number => {
  const a = sockDiagFamily.attributeSets[set]?.attrs.find((x) => x.name === name);
  if (!a) throw new Error(`sock_diag spec: no ${set}.${name}`);
  return a.type;
};

const HEADER = inetDiagMsg.size;
const STATE_AT = offsetOf(inetDiagMsg, 'state');
/** idiag_cookie[0] and [1], read as one little-endian u64 (cookie0 | cookie1 << 32). */
const COOKIE_AT = offsetOf(inetDiagMsg, 'id') + offsetOf(inetDiagSockid, 'cookie0');
const INFO = attrType('diag-attrs', 'info');
const ULP_INFO = attrType('diag-attrs', 'ulp-info');
const ULP_NAME = attrType('ulp-info', 'name');
const ULP_MPTCP = attrType('ulp-info', 'mptcp');
const TOKEN_LOC = attrType('subflow-attrs', 'token-loc');
const FLAGS_AT = offsetOf(mptcpInfo, 'flags');
const TOKEN_AT = offsetOf(mptcpInfo, 'token');
const TYPE_MASK = 0x3fff;

/** Calls `fn(type, start, end)` for each attribute in `b[from, to)`. @throws DecodeError on bad framing. */
function walk(b: Buffer, from: number, to: number, fn: (type: number, start: number, end: number) => void): void {
  for (let at = from; at + 4 <= to;) {
    const len = b.readUInt16LE(at);
    if (len < 4 || at + len > to) throw new DecodeError('inet_diag_msg', `attribute at ${at} has length ${len}`);
    fn(b.readUInt16LE(at + 2) & TYPE_MASK, at + 4, at + len);
    at += (len + 3) & ~3;
  }
}

/** State, cookie, and mptcp_info's flags and token, of an MPTCP socket's reply. */
export interface MptcpScan { state: number; cookie: bigint; flags: number; token: number }

/** Reads an MPTCP socket's reply. @throws DecodeError when shorter than inet_diag_msg. */
export function scanMptcp(payload: Buffer): MptcpScan {
  if (payload.length < HEADER) throw new DecodeError('inet_diag_msg', `expected at least ${HEADER} bytes, got ${payload.length}`);
  let flags = 0;
  let token = 0;
  walk(payload, HEADER, payload.length, (type, start, end) => {
    if (type !== INFO) return;
    if (end - start >= FLAGS_AT + 4) flags = payload.readUInt32LE(start + FLAGS_AT);
    if (end - start >= TOKEN_AT + 4) token = payload.readUInt32LE(start + TOKEN_AT);
  });
  return { state: payload[STATE_AT], cookie: payload.readBigUInt64LE(COOKIE_AT), flags, token };
}

/** State, cookie and local token of a TCP socket that is an MPTCP subflow; undefined for any other. */
export function scanSubflow(payload: Buffer): { state: number; cookie: bigint; token: number } | undefined {
  if (payload.length < HEADER) throw new DecodeError('inet_diag_msg', `expected at least ${HEADER} bytes, got ${payload.length}`);
  let token: number | undefined;
  walk(payload, HEADER, payload.length, (type, start, end) => {
    if (type !== ULP_INFO) return;
    let mptcp = false;
    let nest = -1;
    let nestEnd = -1;
    walk(payload, start, end, (t, s, e) => {
      if (t === ULP_NAME) mptcp = payload.toString('latin1', s, e).replace(/\0+$/, '') === 'mptcp';
      else if (t === ULP_MPTCP) [nest, nestEnd] = [s, e];
    });
    if (!mptcp || nest < 0) return;
    walk(payload, nest, nestEnd, (t, s, e) => {
      if (t === TOKEN_LOC && e - s >= 4) token = payload.readUInt32LE(s);
    });
  });
  return token === undefined ? undefined : { state: payload[STATE_AT], cookie: payload.readBigUInt64LE(COOKIE_AT), token };
}
