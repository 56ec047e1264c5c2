// Test-only fake generic-netlink peer: a RawTransport that answers the nlctrl family lookup itself,
// records every request byte for assertions and lets a test script the replies. Its bytes are built
// with test/helpers/bytes.ts, not with the code under test.

import type { RawTransport, TransportHandlers } from '../../src/netlink/core/transport.js';
import { cat, cstr, nest, nla, u16le, u32le, type Bytes } from './bytes.js';

const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_MULTI = 0x2;
const NLM_F_CAPPED = 0x100;
const NLM_F_ACK_TLVS = 0x200;
const GENL_ID_CTRL = 0x10;
const ENOENT = 2;
const ENOBUFS = 105;

/** The family the fake pretends to have. */
export interface FakeFamily {
  name: string;
  id: number;
  version: number;
  /** Multicast group name → id. */
  groups?: Record<string, number>;
  /** [cmd, CTRL op flags] pairs. */
  ops?: [number, number][];
  /** For an nlctrl fake: the policies CTRL_CMD_GETPOLICY reports (absent: it answers EOPNOTSUPP). */
  policy?: FakePolicy;
}

/** What a fake nlctrl reports for one family's policies. */
export interface FakePolicy {
  /** The family the dump is about. */
  family: string;
  /** [cmd, do policy index, dump policy index] (undefined: that form has none). */
  ops: [number, number | undefined, number | undefined][];
  /** Policy index → [attribute type, NL_ATTR_TYPE number, nested policy index?] rows. */
  policies: Record<number, [number, number, number?][]>;
}

/** One request exactly as it reached the peer. */
export interface RecordedRequest {
  /** nlmsg_len, nlmsg_type, nlmsg_flags, nlmsg_seq, nlmsg_pid. */
  length: number;
  type: number;
  flags: number;
  seq: number;
  pid: number;
  cmd: number;
  version: number;
  reserved: number;
  /** Attribute bytes after the genl header. */
  attrs: Buffer;
  /** The whole datagram. */
  raw: Buffer;
  /** Sent through sendOffThread. */
  offThread: boolean;
}

/** Extended-ACK fields to attach to an error (or ACK). */
export interface FakeExtAck {
  message?: string;
  offset?: number;
  missingType?: number;
  missingNest?: number;
  cookie?: Bytes;
}

/** Scripts the answer to one family request; return nothing to leave it unanswered. */
export type FakeHandler = (req: RecordedRequest, peer: FakeGenl) => void;

/** A fake peer. Replies are delivered on a later macrotask, like datagrams read by the event loop. */
export class FakeGenl implements RawTransport {
  readonly portId = 0x4242;
  readonly requests: RecordedRequest[] = [];
  readonly memberships: number[] = [];
  /** Sent datagrams in order, both paths (for ordering checks). */
  readonly sendLog: { seq: number; offThread: boolean }[] = [];
  closed = false;
  ref = true;
  /** Datagrams received (a datagram may hold several requests). */
  datagrams = 0;
  drops = 0;
  receiveBuffer = 212992;
  /** When set, the next send fails with this errno (then it is cleared). */
  failNextSend: number | undefined;
  /** Delay before an off-thread send completes. */
  offThreadDelayMs = 5;
  /** How long each synchronous send holds the JS thread, as a slow kernel command would (max ~20 ms). */
  syncSendBlockMs = 0;
  /** Answers family requests; default: leave them unanswered. */
  handler: FakeHandler | undefined;
  private handlers: TransportHandlers | undefined;
  private readonly family: FakeFamily;

  constructor(family: FakeFamily) {
    this.family = family;
  }

  /** Only the requests of the family (not the nlctrl lookup). */
  get familyRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.type === this.family.id);
  }

  // ---------------------------------------------------------------- RawTransport

  listen(h: TransportHandlers): void {
    this.handlers = h;
  }

  send(datagram: Buffer): number {
    if (this.syncSendBlockMs > 0) {
      // A kernel command that makes sendto wait (DEL_ADDR waiting for RCU): hold the thread.
      const until = performance.now() + this.syncSendBlockMs;
      while (performance.now() < until);
    }
    return this.take(datagram, false);
  }

  sendOffThread(datagram: Buffer, done: (errno: number) => void): void {
    const copy = Buffer.from(datagram);
    setTimeout(() => done(this.take(copy, true)), this.offThreadDelayMs);
  }

  addMembership(groupId: number): void {
    this.memberships.push(groupId);
  }

  setReceiveBuffer(bytes: number): number {
    this.receiveBuffer = bytes * 2;
    return this.receiveBuffer;
  }

  receiveBufferSize(): number {
    return this.receiveBuffer;
  }

  readDrops(): number {
    return this.drops;
  }

  setRef(ref: boolean): void {
    this.ref = ref;
  }

  close(): void {
    this.closed = true;
  }

  // ---------------------------------------------------------------- scripting

  /** Delivers raw datagram bytes to the socket (on a later macrotask). */
  deliver(datagram: Bytes): void {
    const b = Buffer.from(datagram);
    setImmediate(() => {
      if (!this.closed) this.handlers?.message(b);
    });
  }

  /** Reports ENOBUFS (or another errno) on the receive side, as a real socket would. */
  overrun(errno = ENOBUFS): void {
    setImmediate(() => {
      if (!this.closed) this.handlers?.error(errno);
    });
  }

  /** Bytes of one message: nlmsghdr + payload (the length is computed, padding added). */
  static message(type: number, flags: number, seq: number, pid: number, payload: Bytes): Uint8Array {
    const len = 16 + payload.length;
    const pad = (4 - (len % 4)) % 4;
    return cat(u32le(len), u16le(type), u16le(flags), u32le(seq), u32le(pid), payload, new Array<number>(pad).fill(0));
  }

  /** Bytes of one family message (genl header cmd/version + attributes). */
  genlMessage(seq: number, cmd: number, attrs: Bytes, flags = 0, version = this.family.version): Uint8Array {
    return FakeGenl.message(this.family.id, flags, seq, this.portId, cat([cmd, version, 0, 0], attrs));
  }

  /** Bytes of an NLMSG_ERROR for `req`: ACK when errno is 0. Capped (header only) unless `capped` is false. */
  errorMessage(req: RecordedRequest, errno: number, extack: FakeExtAck = {}, capped = true): Uint8Array {
    const tlvs = extackTlvs(extack);
    let flags = capped ? NLM_F_CAPPED : 0;
    if (tlvs.length > 0) flags |= NLM_F_ACK_TLVS;
    const echoed = capped ? req.raw.subarray(0, 16) : req.raw;
    return FakeGenl.message(NLMSG_ERROR, flags, req.seq, this.portId, cat(u32le(-errno >>> 0), echoed, tlvs));
  }

  /** Answers `req` with a plain ACK. */
  ack(req: RecordedRequest, extack: FakeExtAck = {}): void {
    this.deliver(this.errorMessage(req, 0, extack));
  }

  /** Answers `req` with an error (positive errno) and extended ACK. */
  error(req: RecordedRequest, errno: number, extack: FakeExtAck = {}, capped = true): void {
    this.deliver(this.errorMessage(req, errno, extack, capped));
  }

  /**
   * Answers a do-request with one data message, followed in the same datagram by the ACK only when
   * the request asked for one (NLM_F_ACK), as the kernel does.
   */
  reply(req: RecordedRequest, attrs: Bytes, cmd = req.cmd): void {
    const data = this.genlMessage(req.seq, cmd, attrs);
    this.deliver(req.flags & 0x4 ? cat(data, this.errorMessage(req, 0)) : data);
  }

  /** Answers a dump: the parts (NLM_F_MULTI), `perDatagram` to a datagram, then NLMSG_DONE. */
  dump(req: RecordedRequest, parts: Bytes[], perDatagram = 2, doneErrno = 0, doneExtack: FakeExtAck = {}, partFlags = 0): void {
    const msgs = parts.map((p) => this.genlMessage(req.seq, req.cmd, p, NLM_F_MULTI | partFlags));
    const tlvs = extackTlvs(doneExtack);
    const done = FakeGenl.message(NLMSG_DONE, NLM_F_MULTI | (tlvs.length ? NLM_F_ACK_TLVS : 0), req.seq, this.portId, cat(u32le(-doneErrno >>> 0), tlvs));
    for (let i = 0; i < msgs.length; i += perDatagram) this.deliver(cat(...msgs.slice(i, i + perDatagram)));
    this.deliver(done);
  }

  /** Sends a notification (seq 0, pid 0) of the family. */
  notify(cmd: number, attrs: Bytes, version = this.family.version): void {
    this.deliver(FakeGenl.message(this.family.id, 0, 0, 0, cat([cmd, version, 0, 0], attrs)));
  }

  // ---------------------------------------------------------------- internals

  private take(datagram: Buffer, offThread: boolean): number {
    if (this.closed) return 9;
    if (this.failNextSend !== undefined) {
      const e = this.failNextSend;
      this.failNextSend = undefined;
      return e;
    }
    // One datagram may carry several requests: the kernel runs each in order.
    const all = Buffer.from(datagram);
    this.datagrams++;
    for (let at = 0; at + 16 <= all.length; at += (all.readUInt32LE(at) + 3) & ~3) {
      const req = decodeRequest(all.subarray(at, at + all.readUInt32LE(at)), offThread);
      this.requests.push(req);
      this.sendLog.push({ seq: req.seq, offThread });
      if (req.type === GENL_ID_CTRL) this.answerCtrl(req);
      else this.handler?.(req, this);
    }
    return 0;
  }

  /** A fake nlctrl (family id 0x10) answering GETFAMILY for itself and GETPOLICY with `policy`. */
  static nlctrl(policy?: FakePolicy): FakeGenl {
    return new FakeGenl({ name: 'nlctrl', id: GENL_ID_CTRL, version: 2, ops: [[3, 0x0e], [10, 0x0c]], policy });
  }

  private answerPolicy(req: RecordedRequest, name: string): void {
    const p = this.family.policy;
    if (!p) return this.error(req, 95);
    if (name !== p.family) return this.error(req, ENOENT);
    const msgs: Uint8Array[] = [];
    const head = nla(1, u16le(0x1c));
    for (const [idx, rows] of Object.entries(p.policies)) {
      for (const [type, nlType, nested] of rows) {
        const fields = cat(nla(1, u32le(nlType)), nested !== undefined ? nla(8, u32le(nested)) : []);
        msgs.push(cat(head, nest(8, nest(Number(idx), nest(type, fields)))));
      }
    }
    for (const [cmd, doIdx, dumpIdx] of p.ops) {
      const fields = cat(doIdx !== undefined ? nla(1, u32le(doIdx)) : [], dumpIdx !== undefined ? nla(2, u32le(dumpIdx)) : []);
      msgs.push(cat(head, nest(9, nest(cmd, fields))));
    }
    const parts = msgs.map((m) => FakeGenl.message(GENL_ID_CTRL, NLM_F_MULTI, req.seq, this.portId, cat([1, 2, 0, 0], m)));
    for (let i = 0; i < parts.length; i += 4) this.deliver(cat(...parts.slice(i, i + 4)));
    this.deliver(FakeGenl.message(NLMSG_DONE, NLM_F_MULTI, req.seq, this.portId, u32le(0)));
  }

  private answerCtrl(req: RecordedRequest): void {
    const name = req.attrs.subarray(4, req.attrs.readUInt16LE(0) - 1).toString();
    if (req.cmd === 10) return this.answerPolicy(req, name);
    if (req.cmd !== 3 || name !== this.family.name) {
      this.error(req, ENOENT);
      return;
    }
    const f = this.family;
    const ops = (f.ops ?? []).map(([cmd, flags], i) => nest(i + 1, nla(1, u32le(cmd)), nla(2, u32le(flags))));
    const groups = Object.entries(f.groups ?? {}).map(([n, id], i) => nest(i + 1, nla(2, u32le(id)), nla(1, cstr(n))));
    const attrs = cat(
      nla(2, cstr(f.name)), nla(1, u16le(f.id)), nla(3, u32le(f.version)), nla(4, u32le(0)), nla(5, u32le(0)),
      nest(6, ...ops), nest(7, ...groups),
    );
    this.deliver(cat(FakeGenl.message(GENL_ID_CTRL, 0, req.seq, this.portId, cat([1, 2, 0, 0], attrs)), this.errorMessage(req, 0)));
  }
}

function extackTlvs(e: FakeExtAck): Uint8Array {
  return cat(
    e.message !== undefined ? nla(1, cstr(e.message)) : [],
    e.offset !== undefined ? nla(2, u32le(e.offset)) : [],
    e.cookie !== undefined ? nla(3, e.cookie) : [],
    e.missingType !== undefined ? nla(5, u32le(e.missingType)) : [],
    e.missingNest !== undefined ? nla(6, u32le(e.missingNest)) : [],
  );
}

function decodeRequest(raw: Buffer, offThread: boolean): RecordedRequest {
  const length = raw.readUInt32LE(0);
  return {
    length,
    type: raw.readUInt16LE(4),
    flags: raw.readUInt16LE(6),
    seq: raw.readUInt32LE(8),
    pid: raw.readUInt32LE(12),
    cmd: raw[16],
    version: raw[17],
    reserved: raw.readUInt16LE(18),
    attrs: raw.subarray(20, length),
    raw,
    offThread,
  };
}
