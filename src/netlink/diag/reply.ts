// sock_diag layer: decodes one reply message (struct inet_diag_msg + INET_DIAG_* attributes) and the
// structs inside INET_DIAG_INFO (mptcp_info for MPTCP sockets, tcp_info for TCP ones).

import {
  inetDiagMsg, inetDiagSockid, mptcpInfo, tcpInfo, sockDiagFamily,
  type DiagAttrs, type MptcpInfo, type SubflowAttrs, type TcpInfo,
} from '../../../generated/sock_diag.js';
import { decodeAttrs } from '../core/codec.js';
import { DecodeError } from '../core/errors.js';
import { decodePartial, offsetOf } from '../core/struct.js';
import { formatInetAddress } from './inet.js';

/** One socket of a dump, header fields flattened, addresses as text, ports in host order. */
export interface DiagSocket {
  family: number;
  /** TCP numbering (TcpState). */
  state: number;
  timer: number;
  retrans: number;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** Bound device index (idiag_if), 0 when unbound. */
  ifindex: number;
  /** idiag_cookie[0] | idiag_cookie[1] << 32. */
  cookie: bigint;
  expires: number;
  rqueue: number;
  wqueue: number;
  uid: number;
  inode: number;
  /** The attributes, INET_DIAG_INFO still raw (its layout depends on the protocol); binaries are views into the reply. */
  attrs: DiagAttrs;
}

/** Offsets of the header members a reply is read from, taken from the struct description once. */
const AT = (() => {
  const id = offsetOf(inetDiagMsg, 'id');
  const m = (name: string): number => offsetOf(inetDiagMsg, name);
  const i = (name: string): number => id + offsetOf(inetDiagSockid, name);
  return {
    family: m('family'), state: m('state'), timer: m('timer'), retrans: m('retrans'), expires: m('expires'),
    rqueue: m('rqueue'), wqueue: m('wqueue'), uid: m('uid'), inode: m('inode'),
    sport: i('sport'), dport: i('dport'), src: i('src'), dst: i('dst'), if: i('if'), cookie: i('cookie0'),
  };
})();

/**
 * Decodes a reply payload (after the nlmsghdr). The header is read in place; binary attributes
 * (INET_DIAG_INFO among them) are views into `payload`, not copies.
 * @throws DecodeError when the header is shorter than inet_diag_msg or an attribute is malformed
 *   (framing, or a scalar of the wrong size); unknown attributes are kept in `attrs.unknown`.
 */
export function decodeDiagMsg(payload: Uint8Array): DiagSocket {
  const b = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (b.length < inetDiagMsg.size) throw new DecodeError('inet_diag_msg', `expected at least ${inetDiagMsg.size} bytes for struct ${inetDiagMsg.name}, got ${b.length}`);
  const attrs = decodeAttrs<DiagAttrs>(sockDiagFamily, 'diag-attrs', b.subarray(inetDiagMsg.size), 'inet_diag_msg', { views: true });
  const family = b[AT.family];
  return {
    family,
    state: b[AT.state],
    timer: b[AT.timer],
    retrans: b[AT.retrans],
    localAddress: formatInetAddress(family, b.subarray(AT.src, AT.src + 16)),
    localPort: b.readUInt16BE(AT.sport),
    remoteAddress: formatInetAddress(family, b.subarray(AT.dst, AT.dst + 16)),
    remotePort: b.readUInt16BE(AT.dport),
    ifindex: b.readUInt32LE(AT.if),
    cookie: b.readBigUInt64LE(AT.cookie),
    expires: b.readUInt32LE(AT.expires),
    rqueue: b.readUInt32LE(AT.rqueue),
    wqueue: b.readUInt32LE(AT.wqueue),
    uid: b.readUInt32LE(AT.uid),
    inode: b.readUInt32LE(AT.inode),
    attrs,
  };
}

/**
 * mptcp_info from INET_DIAG_INFO: the members that lie wholly inside the bytes received (an older
 * kernel sends fewer, a newer one more; extra bytes are ignored). Fields with an offset below 40
 * (5.9's size) are always there: fewer bytes are refused.
 * @throws DecodeError when shorter than 40 bytes.
 */
export function decodeMptcpInfo(info: Uint8Array): Partial<MptcpInfo> & Pick<MptcpInfo, 'token' | 'flags'> {
  if (info.length < MPTCP_INFO_MIN) throw new DecodeError('inet_diag_msg.info', `expected at least ${MPTCP_INFO_MIN} bytes of mptcp_info, got ${info.length}`);
  const end = MPTCP_INFO_CONTENT_END.get(info.length) ?? info.length;
  return decodePartial(mptcpInfo, info, 0, end) as Partial<MptcpInfo> & Pick<MptcpInfo, 'token' | 'flags'>;
}

/**
 * Past sizes of mptcp_info whose tail was C padding, with where their real members ended: 48 bytes
 * (5.12–6.4) ended at csum_enabled (43), so the zeros at 44 are not 6.5's retransmits; 88 bytes
 * (6.8–6.9) ended at subflows_total (81). Members later put into padding that kept the size
 * (endp_laminar_max at 81, 6.18) cannot be told apart from a zero.
 */
const MPTCP_INFO_CONTENT_END: ReadonlyMap<number, number> = new Map([[48, 43], [88, 81]]);

/** Size of mptcp_info in its first kernel (5.9): up to rcv_nxt. */
export const MPTCP_INFO_MIN = 40;

/** tcp_info from INET_DIAG_INFO: the members present in the bytes received, as for mptcp_info. */
export function decodeTcpInfo(info: Uint8Array): Partial<TcpInfo> {
  return decodePartial(tcpInfo, info);
}

/** The MPTCP subflow attributes of a TCP socket whose ULP is `mptcp`; undefined for other sockets. */
export function subflowAttrs(attrs: DiagAttrs): SubflowAttrs | undefined {
  const ulp = attrs.ulpInfo;
  if (ulp === undefined || ulp.name !== 'mptcp') return undefined;
  return ulp.mptcp;
}
