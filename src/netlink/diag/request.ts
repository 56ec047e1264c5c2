// sock_diag layer: encodes a SOCK_DIAG_BY_FAMILY request body (struct inet_diag_req_v2 + attributes),
// the part after the nlmsghdr. Protocols above 255 (MPTCP) go in INET_DIAG_REQ_PROTOCOL.

import { inetDiagReqV2, sockDiagFamily } from '../../../generated/sock_diag.js';
import { AttrWriter } from '../core/attr.js';
import { ValidationError } from '../core/errors.js';
import { encodeStruct } from '../core/struct.js';
import { AF_INET, AF_INET6 } from '../../os/address.js';

const NOCOOKIE = 0xffffffff;
/** Every state (TCP numbering), as `ss -a` asks. */
export const ALL_STATES = 0xffffffff;

const REQ_PROTOCOL = sockDiagFamily.attributeSets['req-attrs'].attrs.find((a) => a.name === 'protocol')?.type ?? 3;

export interface DiagRequest {
  /** AF_INET (2) or AF_INET6 (10); the kernel matches it exactly. */
  family: number;
  /** IPPROTO_TCP (6), IPPROTO_MPTCP (262), … */
  protocol: number;
  /** Bits of Ext: which reply attributes to add. */
  ext?: number;
  /** Mask of 1 << state; all states by default. */
  states?: number;
  /** Filters on ports (host order); 0 or absent for any. A dport skips MPTCP's listener walk. */
  sport?: number;
  dport?: number;
  /** For an exact MPTCP lookup: the connection token (idiag_cookie[0]). */
  token?: number;
}

function check(field: string, v: number | undefined, max: number): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > max)) throw new ValidationError(field, `expected an integer in 0..${max}, got ${String(v)}`);
}

/**
 * The request body for `req`: inet_diag_req_v2 with the protocol byte (`protocol & 0xff`) and, when
 * the protocol does not fit a byte, the INET_DIAG_REQ_PROTOCOL attribute, without which the kernel
 * would silently dump TCP.
 * @throws ValidationError for a family other than 2/10 or an out-of-range number.
 */
export function encodeDiagRequest(req: DiagRequest): Buffer {
  if (req.family !== AF_INET && req.family !== AF_INET6) throw new ValidationError('family', `expected 2 (AF_INET) or 10 (AF_INET6), got ${String(req.family)}`);
  check('protocol', req.protocol, 0xffffffff);
  check('ext', req.ext, 0xff);
  check('states', req.states, 0xffffffff);
  check('sport', req.sport, 0xffff);
  check('dport', req.dport, 0xffff);
  check('token', req.token, 0xffffffff);
  const head = encodeStruct(inetDiagReqV2, {
    family: req.family,
    protocol: req.protocol & 0xff,
    ext: req.ext ?? 0,
    states: req.states ?? ALL_STATES,
    id: {
      sport: req.sport ?? 0,
      dport: req.dport ?? 0,
      cookie0: req.token ?? NOCOOKIE,
      cookie1: req.token === undefined ? NOCOOKIE : 0,
    },
  });
  if (req.protocol <= 0xff) return head;
  const w = new AttrWriter(8).u32(REQ_PROTOCOL, req.protocol);
  return Buffer.concat([head, w.finish()]);
}
