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

const MPTCP_NAME = [0x6d, 0x70, 0x74, 0x63, 0x70]; // "mptcp"

function badAttr(at: number, len: number): DecodeError {
  return new DecodeError('inet_diag_msg', `attribute at ${at} has length ${len}`);
}

/**
 * The socket cookie as a Set key: a number while it fits exactly (the kernel's counter stays far
 * below 2^53), else the bigint.
 */
function cookieKey(b: Buffer): number | bigint {
  const hi = b.readUInt32LE(COOKIE_AT + 4);
  return hi < 0x200000 ? hi * 0x100000000 + b.readUInt32LE(COOKIE_AT) : b.readBigUInt64LE(COOKIE_AT);
}

/** The start of the first attribute of `type` in `b[from, to)`, or -1 (its end via {@link attrEnd}). @throws DecodeError on bad framing. */
function findAttr(b: Buffer, from: number, to: number, type: number): number {
  for (let at = from; at + 4 <= to;) {
    const len = b.readUInt16LE(at);
    if (len < 4 || at + len > to) throw badAttr(at, len);
    if ((b.readUInt16LE(at + 2) & TYPE_MASK) === type) return at + 4;
    at += (len + 3) & ~3;
  }
  return -1;
}

/** The end of the attribute whose payload starts at `start`. */
const attrEnd = (b: Buffer, start: number): number => start - 4 + b.readUInt16LE(start - 4);

/** Whether the NUL-padded name in `b[s, e)` is "mptcp". */
function isMptcpName(b: Buffer, s: number, e: number): boolean {
  let end = e;
  while (end > s && b[end - 1] === 0) end--;
  if (end - s !== MPTCP_NAME.length) return false;
  for (let i = 0; i < MPTCP_NAME.length; i++) if (b[s + i] !== MPTCP_NAME[i]) return false;
  return true;
}

/** State, cookie (see `cookieKey`), and mptcp_info's flags and token, of an MPTCP socket's reply. */
export interface MptcpScan { state: number; cookie: number | bigint; flags: number; token: number }

function checkHeader(payload: Buffer): void {
  if (payload.length < HEADER) throw new DecodeError('inet_diag_msg', `expected at least ${HEADER} bytes, got ${payload.length}`);
}

/** Reads an MPTCP socket's reply. @throws DecodeError when shorter than inet_diag_msg. */
export function scanMptcp(payload: Buffer): MptcpScan {
  checkHeader(payload);
  let flags = 0;
  let token = 0;
  const start = findAttr(payload, HEADER, payload.length, INFO);
  if (start >= 0) {
    const size = attrEnd(payload, start) - start;
    if (size >= FLAGS_AT + 4) flags = payload.readUInt32LE(start + FLAGS_AT);
    if (size >= TOKEN_AT + 4) token = payload.readUInt32LE(start + TOKEN_AT);
  }
  return { state: payload[STATE_AT], cookie: cookieKey(payload), flags, token };
}

/** State, cookie (see `cookieKey`) and local token of a TCP socket that is an MPTCP subflow; undefined for any other. */
export function scanSubflow(payload: Buffer): { state: number; cookie: number | bigint; token: number } | undefined {
  checkHeader(payload);
  const ulp = findAttr(payload, HEADER, payload.length, ULP_INFO);
  if (ulp < 0) return undefined;
  const ulpEnd = attrEnd(payload, ulp);
  const name = findAttr(payload, ulp, ulpEnd, ULP_NAME);
  if (name < 0 || !isMptcpName(payload, name, attrEnd(payload, name))) return undefined;
  const nest = findAttr(payload, ulp, ulpEnd, ULP_MPTCP);
  if (nest < 0) return undefined;
  const tok = findAttr(payload, nest, attrEnd(payload, nest), TOKEN_LOC);
  if (tok < 0 || attrEnd(payload, tok) - tok < 4) return undefined;
  return { state: payload[STATE_AT], cookie: cookieKey(payload), token: payload.readUInt32LE(tok) };
}
