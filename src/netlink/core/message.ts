// Framing layer of any netlink protocol: the nlmsghdr, message flags, and the parsing of a received
// datagram into messages (NLMSG_ERROR with extended ACK, NLMSG_DONE, protocol messages as raw payload).

import { DecodeError, type ExtAck } from './errors.js';
import { align4, read, readAttrs } from './attr.js';
import { endianness } from 'node:os';

// Netlink headers and "host order" attributes are native-endian; every byte layout in this package
// is written for little-endian hosts, so refuse to run rather than send misordered bytes.
if (endianness() !== 'LE') throw new Error('mptcp-pm supports little-endian hosts only');

/** Size of `struct nlmsghdr`. */
export const NLMSG_HDRLEN = 16;
/** Message types below this are netlink control messages; protocol messages start here. */
export const NLMSG_MIN_TYPE = 0x10;

/** Netlink control message types. */
export const NlMsgType = {
  NOOP: 1,
  ERROR: 2,
  DONE: 3,
  OVERRUN: 4,
} as const;

/** `nlmsg_flags` bits. Some values are shared: their meaning depends on the message kind. */
export const NlmF = {
  REQUEST: 0x1,
  MULTI: 0x2,
  ACK: 0x4,
  ECHO: 0x8,
  DUMP_INTR: 0x10,
  DUMP_FILTERED: 0x20,
  /** GET modifiers. */
  ROOT: 0x100,
  MATCH: 0x200,
  ATOMIC: 0x400,
  DUMP: 0x300,
  /** ACK / ERROR modifiers: the request was not echoed back, extended-ACK TLVs follow. */
  CAPPED: 0x100,
  ACK_TLVS: 0x200,
} as const;

/** Extended-ACK TLV types carried after an NLMSG_ERROR / NLMSG_DONE payload. */
export const NlmsgerrAttr = {
  MSG: 1,
  OFFS: 2,
  COOKIE: 3,
  POLICY: 4,
  MISS_TYPE: 5,
  MISS_NEST: 6,
} as const;

/** The fields of `struct nlmsghdr`. */
export interface NlMsgHeader {
  /** Total length including this header. */
  length: number;
  type: number;
  flags: number;
  seq: number;
  /** Sender port id (0 for the kernel). */
  pid: number;
}

/** Header fields of a request; `length` is computed. */
export interface RequestHeader {
  /** The message type: a protocol's request type, or a generic-netlink family id. */
  type: number;
  flags: number;
  seq: number;
  /** Usually 0: the kernel fills in the sender's port. */
  pid: number;
}

/**
 * Builds one message: nlmsghdr + `head` (the protocol's fixed header: genlmsghdr, inet_diag_req_v2,
 * rtmsg, …) + `body` (encoded, padded attributes), in one buffer. The length field is computed.
 */
export function encodeMessage(h: RequestHeader, head: Uint8Array, body: Uint8Array): Buffer {
  const length = NLMSG_HDRLEN + head.length + body.length;
  const buf = Buffer.allocUnsafe(length);
  buf.writeUInt32LE(length, 0);
  buf.writeUInt16LE(h.type, 4);
  buf.writeUInt16LE(h.flags, 6);
  buf.writeUInt32LE(h.seq >>> 0, 8);
  buf.writeUInt32LE(h.pid >>> 0, 12);
  buf.set(head, NLMSG_HDRLEN);
  buf.set(body, NLMSG_HDRLEN + head.length);
  return buf;
}

/** Reads the nlmsghdr at `offset` (no validation). */
export function decodeHeader(buf: Buffer, offset = 0): NlMsgHeader {
  return {
    length: buf.readUInt32LE(offset),
    type: buf.readUInt16LE(offset + 4),
    flags: buf.readUInt16LE(offset + 6),
    seq: buf.readUInt32LE(offset + 8),
    pid: buf.readUInt32LE(offset + 12),
  };
}

/** A protocol message (type >= NLMSG_MIN_TYPE): a reply part or a notification. */
export interface DataMessage {
  readonly kind: 'data';
  readonly header: NlMsgHeader;
  /** Everything after the nlmsghdr (a view into the datagram); the protocol layer reads it. */
  readonly payload: Buffer;
}

/** NLMSG_ERROR: `errno` 0 is an ACK, otherwise the (positive) error. */
export interface ErrorMessage {
  readonly kind: 'error';
  readonly header: NlMsgHeader;
  /** Positive errno; 0 for a plain ACK. */
  readonly errno: number;
  /** The header of the request this answers (echoed by the kernel). */
  readonly request: NlMsgHeader;
  /** The echoed request payload when the kernel did not cap it (NLM_F_CAPPED clear). */
  readonly requestPayload?: Buffer;
  readonly extack: ExtAck;
  /** NLMSGERR_ATTR_COOKIE, raw. */
  readonly cookie?: Buffer;
  /** NLMSGERR_ATTR_POLICY (nested policy description), raw. */
  readonly policy?: Buffer;
}

/** NLMSG_DONE: end of a dump; `errno` is non-zero when the dump failed part way. */
export interface DoneMessage {
  readonly kind: 'done';
  readonly header: NlMsgHeader;
  readonly errno: number;
  readonly extack: ExtAck;
}

/** NLMSG_NOOP / NLMSG_OVERRUN or another control type below NLMSG_MIN_TYPE. */
export interface ControlMessage {
  readonly kind: 'control';
  readonly header: NlMsgHeader;
  readonly payload: Buffer;
}

/** One message of a received datagram. */
export type NlMessage = DataMessage | ErrorMessage | DoneMessage | ControlMessage;

/**
 * Splits a datagram into messages. Strict: a header shorter than 16 bytes, a length below 16 or
 * past the end, a short NLMSG_ERROR, or non-zero bytes after the last message raise a DecodeError.
 */
export function parseMessages(buf: Buffer): NlMessage[] {
  const out: NlMessage[] = [];
  let at = 0;
  while (at < buf.length) {
    const left = buf.length - at;
    if (left < NLMSG_HDRLEN) {
      if (buf.subarray(at).every((x) => x === 0)) break;
      throw new DecodeError('nlmsghdr', `truncated header at offset ${at} (${left} bytes left)`);
    }
    const header = decodeHeader(buf, at);
    if (header.length < NLMSG_HDRLEN) {
      throw new DecodeError('nlmsghdr', `message at offset ${at} has length ${header.length} < ${NLMSG_HDRLEN}`);
    }
    if (header.length > left) {
      throw new DecodeError('nlmsghdr', `message at offset ${at} has length ${header.length}, only ${left} bytes left`);
    }
    const payload = buf.subarray(at + NLMSG_HDRLEN, at + header.length);
    out.push(parseOne(header, payload));
    at += align4(header.length);
  }
  return out;
}

function parseOne(header: NlMsgHeader, payload: Buffer): NlMessage {
  if (header.type === NlMsgType.ERROR) return parseError(header, payload);
  if (header.type === NlMsgType.DONE) return parseDone(header, payload);
  if (header.type < NLMSG_MIN_TYPE) return { kind: 'control', header, payload };
  return { kind: 'data', header, payload };
}

/** The negative kernel error int at the start of `payload`, as a positive errno (0 stays 0, not -0). */
function errnoAt(payload: Buffer): number {
  const v = payload.readInt32LE(0);
  return v === 0 ? 0 : -v;
}

function parseError(header: NlMsgHeader, payload: Buffer): ErrorMessage {
  if (payload.length < 4 + NLMSG_HDRLEN) {
    throw new DecodeError('nlmsgerr', `NLMSG_ERROR payload is ${payload.length} bytes, need ${4 + NLMSG_HDRLEN}`);
  }
  const errno = errnoAt(payload);
  const request = decodeHeader(payload, 4);
  let tlvAt = 4 + NLMSG_HDRLEN;
  let requestPayload: Buffer | undefined;
  if (!(header.flags & NlmF.CAPPED) && request.length > NLMSG_HDRLEN) {
    const end = 4 + align4(request.length);
    if (4 + request.length > payload.length) {
      throw new DecodeError('nlmsgerr', `echoed request of ${request.length} bytes does not fit in ${payload.length - 4}`);
    }
    requestPayload = payload.subarray(tlvAt, 4 + request.length);
    tlvAt = Math.min(end, payload.length);
  }
  const tlvs = header.flags & NlmF.ACK_TLVS ? parseExtAck(payload.subarray(tlvAt)) : { extack: {} };
  return { kind: 'error', header, errno, request, requestPayload, ...tlvs };
}

function parseDone(header: NlMsgHeader, payload: Buffer): DoneMessage {
  if (payload.length === 0) return { kind: 'done', header, errno: 0, extack: {} };
  if (payload.length < 4) throw new DecodeError('nlmsg-done', `payload is ${payload.length} bytes, need 0 or >= 4`);
  const errno = errnoAt(payload);
  const { extack } = header.flags & NlmF.ACK_TLVS ? parseExtAck(payload.subarray(4)) : { extack: {} };
  return { kind: 'done', header, errno, extack };
}

/** Decodes NLMSGERR_ATTR_* TLVs. Unknown types are skipped (the kernel may add more). */
export function parseExtAck(tlvs: Buffer): { extack: ExtAck; cookie?: Buffer; policy?: Buffer } {
  const extack: ExtAck = {};
  let cookie: Buffer | undefined;
  let policy: Buffer | undefined;
  for (const a of readAttrs(tlvs, 'extack')) {
    switch (a.type) {
      case NlmsgerrAttr.MSG:
        extack.message = read.string(a, 'extack.msg');
        break;
      case NlmsgerrAttr.OFFS:
        extack.offset = read.u32(a, 'extack.offs');
        break;
      case NlmsgerrAttr.MISS_TYPE:
        extack.missingType = read.u32(a, 'extack.miss-type');
        break;
      case NlmsgerrAttr.MISS_NEST:
        extack.missingNest = read.u32(a, 'extack.miss-nest');
        break;
      case NlmsgerrAttr.COOKIE:
        cookie = a.data;
        break;
      case NlmsgerrAttr.POLICY:
        policy = a.data;
        break;
      default:
        break;
    }
  }
  return { extack, cookie, policy };
}
