// Receive half of the request engine of the netlink core, for any protocol: reply matching, dump
// gathering, deadlines and overruns, on top of the send queue and flow control of send.ts.

import { constants as osConstants } from 'node:os';
import { ClosedError, DecodeError, NetlinkError, TimeoutError, type ExtAck } from './errors.js';
import { encodeMessage, parseMessages, NlmF, NLMSG_MIN_TYPE, type NlMessage } from './message.js';
import type { RawTransport } from './transport.js';
import type { ErrorListener, ExchangeOptions, NotificationListener, OverrunListener, Pending } from './request.js';
import { Sender } from './send.js';

export type { ErrorListener, ExchangeOptions, NotificationListener, OverrunListener } from './request.js';

const ENOBUFS = osConstants.errno.ENOBUFS;

/** Who hears what answers no request; the socket owns these sets, the engine only reads them. */
export interface CoreListeners {
  readonly notify: ReadonlySet<NotificationListener>;
  readonly overrun: ReadonlySet<OverrunListener>;
  readonly errors: ReadonlySet<ErrorListener>;
}

/** Request bookkeeping, flow control, send queue and receive dispatch of one netlink socket. */
export class Core extends Sender {
  private refd = true;
  private settledCount = 0;
  /** One timer for every request, armed for the earliest deadline. */
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private dropsSeen = 0;

  /**
   * @param header the protocol's fixed header that starts every data message (genlmsghdr,
   * inet_diag_msg, …): a shorter message is a DecodeError for its request, never handed up.
   */
  constructor(
    transport: RawTransport,
    readonly name: string,
    private readonly timeoutMs: number,
    private readonly listeners: CoreListeners,
    private readonly header: { name: string; length: number } = { name: 'payload', length: 0 },
  ) {
    super(transport);
    transport.listen({ message: (d) => this.receive(d), error: (errno) => this.transportError(errno), polled: () => this.polled() });
    this.droppedSinceLastLook();
    this.resize();
    this.updateRef();
  }

  /** Whether {@link close} was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Joins multicast group `id`: from now on data messages may arrive unasked, and the socket stays referenced. */
  join(id: number): void {
    if (this.closed) throw new ClosedError(`${this.name} socket`);
    this.transport.addMembership(id);
    this.joined++;
    this.updateRef();
  }

  /**
   * Sends one request (`type`, the protocol's fixed header `head`, attribute bytes `body`) and
   * resolves with the payload of every reply message ([] for a plain ACK).
   */
  exchange(type: number, head: Uint8Array, body: Uint8Array, opts: ExchangeOptions): Promise<Buffer[]> {
    if (this.closed) return Promise.reject(new ClosedError(`${this.name} socket`));
    const dump = opts.dump === true;
    const reply = !dump && opts.reply === true;
    const flags = NlmF.REQUEST | (reply ? 0 : NlmF.ACK) | (dump ? NlmF.DUMP : 0) | (opts.flags ?? 0);
    const datagram = encodeMessage({ type, flags, seq: 0, pid: 0 }, head, body);
    return new Promise<Buffer[]>((resolve, reject) => {
      const ms = opts.timeoutMs ?? this.timeoutMs;
      const deadline = performance.now() + ms;
      const p: Pending = {
        seq: 0, opts, dump, reply, datagram, parts: [], resolve, reject, deadline, timeoutMs: ms,
        interrupted: false, retries: 0, sent: false,
      };
      if (dump && this.joinWaitingDump(p)) return;
      this.waiting.push(p);
      if (deadline < this.timerAt) this.armTimer(deadline);
      const alone = this.inFlight === 0 && this.waiting.size === 1;
      if (alone) {
        // Nothing else is going on: send now, the lowest latency for one caller.
        this.updateRef(true);
        this.pump();
      } else {
        this.queueFlush();
      }
    });
  }

  protected settle(p: Pending, result: Error | Buffer[]): void {
    if (p.sent && p.seq !== 0) {
      if (this.pending.get(p.seq) !== p) return;
      this.pending.delete(p.seq);
      this.inFlight--;
      if (p.dump) this.dumpInFlight = false;
    } else if (p.sent) {
      return; // already settled while waiting
    }
    p.sent = true; // a waiting request settled early is skipped by pump()
    this.settledCount++;
    this.leaveJoinable(p);
    // The deadline timer stays armed when nothing is pending (it is unref'd): a loop of requests
    // then costs no timer operations, and a timer that fires early just re-arms.
    if (this.inFlight === 0 && this.refd && !this.idleCheckQueued) {
      // Let go of the event loop only if the socket is still idle after this turn: a loop of
      // awaited requests then keeps its reference instead of toggling it (a native call) each time.
      this.idleCheckQueued = true;
      setImmediate(this.idleCheck);
    }
    if (result instanceof Error) p.reject(result);
    else p.resolve(result);
    if (p.followers) for (const f of p.followers.splice(0)) this.settle(f, result instanceof Error ? result : result.slice());
    this.pump();
  }

  protected error(p: Pending, errno: number, extack: ExtAck, hint?: string): NetlinkError {
    const attribute = extack.offset !== undefined || extack.missingType !== undefined ? p.opts.explain?.(p.datagram, extack) : undefined;
    return new NetlinkError(this.name, p.opts.op, errno, extack, hint, attribute);
  }

  private armTimer(at: number): void {
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.expire(), Math.max(0, at - performance.now()));
    this.timer.unref();
  }

  /**
   * Rejects every request past its deadline and re-arms for the next one. Replies already queued
   * on the socket are read first, so a busy event loop never turns an answered request into a
   * timeout. A reply the kernel dropped shows up here: when the drop counter moved, the request
   * fails as an overrun (outcome unknown) rather than as a plain timeout.
   */
  private expire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (!this.closed) this.transport.drain?.(() => false);
    const now = performance.now();
    let next = Infinity;
    let dropped: boolean | undefined;
    const late = (p: Pending): boolean => p.deadline <= now;
    for (const p of [...this.pending.values(), ...this.waiting.toArray()]) {
      if (p.sent && !this.pending.has(p.seq)) continue;
      if (!late(p)) {
        if (p.deadline < next) next = p.deadline;
        continue;
      }
      dropped ??= this.droppedSinceLastLook();
      if (dropped && p.sent) {
        this.settle(p, this.error(p, ENOBUFS, {}, 'the kernel dropped messages for this socket; the outcome of this request is unknown'));
      } else {
        const rest = p.followers?.splice(0);
        this.settle(p, new TimeoutError(`${this.name} ${p.opts.op}`, p.timeoutMs));
        if (rest?.length) next = Math.min(next, this.promote(rest, now));
      }
    }
    if (dropped) for (const cb of this.listeners.overrun) cb(ENOBUFS);
    if (next < Infinity) this.armTimer(next);
  }

  /** Whether the kernel's drop counter for this socket grew since the last look. */
  private droppedSinceLastLook(): boolean {
    let now: number;
    try {
      now = this.transport.readDrops();
    } catch {
      return false;
    }
    const grew = now > this.dropsSeen;
    this.dropsSeen = now;
    return grew;
  }

  private receive(datagram: Buffer): void {
    // The common case read in place: a datagram holding the one message a pending do-request waits for.
    const len = datagram.length >= 16 ? datagram.readUInt32LE(0) : 0;
    if (len >= 16 + this.header.length && (len + 3) >> 2 === (datagram.length + 3) >> 2 && datagram.readUInt16LE(4) >= NLMSG_MIN_TYPE) {
      const p = this.pending.get(datagram.readUInt32LE(8));
      if (p !== undefined && p.reply) {
        p.parts.push(datagram.subarray(p.opts.stripHeader === true ? 16 + this.header.length : 16, len));
        this.settle(p, p.parts);
        return;
      }
    }
    let msgs: NlMessage[];
    try {
      msgs = parseMessages(datagram);
    } catch (e) {
      // A malformed datagram: fail the request it names, if its header can be read; else report.
      const seq = datagram.length >= 16 ? datagram.readUInt32LE(8) : 0;
      const p = this.pending.get(seq);
      if (p) this.settle(p, e as Error);
      else this.report(e as Error);
      return;
    }
    for (const m of msgs) this.dispatch(m);
  }

  private dispatch(m: NlMessage): void {
    const p = m.header.seq !== 0 ? this.pending.get(m.header.seq) : undefined;
    if (m.kind === 'data' && m.payload.length < this.header.length) {
      const err = new DecodeError(`${this.name} ${this.header.name}`, `message type ${m.header.type} seq ${m.header.seq} has ${m.payload.length} payload bytes, need ${this.header.length}`);
      if (p) this.settle(p, err);
      else if (!this.sentBefore(m.header.seq)) this.report(err);
      return;
    }
    if (!p) {
      // A late part of a request already settled is dropped. On a socket that joined groups a data
      // message is always handed on: notifications carry other senders' sequence numbers.
      if (this.sentBefore(m.header.seq) && (m.kind !== 'data' || this.joined === 0)) return;
      if (m.kind === 'data') {
        for (const cb of this.listeners.notify) cb(m.header, m.payload);
      } else if (m.kind === 'error' || m.kind === 'done') {
        this.report(new NetlinkError(this.name, 'receive', m.errno, m.extack, `unexpected ${m.kind === 'error' ? 'NLMSG_ERROR' : 'NLMSG_DONE'} for unknown seq ${m.header.seq}`));
      }
      return;
    }
    switch (m.kind) {
      case 'data':
        if (m.header.flags & NlmF.DUMP_INTR) p.interrupted = true;
        p.parts.push(p.opts.stripHeader === true ? m.payload.subarray(this.header.length) : m.payload);
        if (p.reply) this.settle(p, p.parts);
        return;
      case 'error':
        if (m.errno !== 0) this.settle(p, this.error(p, m.errno, m.extack));
        else if (!p.dump) this.settle(p, p.parts);
        return; // an ACK for a dump is not its end: NLMSG_DONE is
      case 'done':
        if (m.errno !== 0) this.settle(p, this.error(p, m.errno, m.extack));
        else if (p.interrupted) this.retryDump(p);
        else this.settle(p, p.parts);
        return;
      case 'control':
        return;
    }
  }

  private transportError(errno: number): void {
    if (errno === ENOBUFS) {
      if (this.listeners.overrun.size === 0) this.report(new NetlinkError(this.name, 'receive', errno, {}, 'the kernel dropped messages for this socket'));
      for (const cb of this.listeners.overrun) cb(errno);
      for (const p of [...this.pending.values()]) {
        this.settle(p, this.error(p, errno, {}, 'the kernel dropped messages for this socket; the outcome of this request is unknown'));
      }
      return;
    }
    this.report(new NetlinkError(this.name, 'receive', errno, {}, 'receiving from the socket failed'));
  }

  /** Hands an error that belongs to no request to the error listeners; with none, it is counted only. */
  private report(err: Error): void {
    this.unclaimedCount++;
    for (const cb of this.listeners.errors) cb(err);
  }

  /** Errors that belonged to no request (stray or malformed datagrams, receive errors). */
  get unclaimed(): number {
    return this.unclaimedCount;
  }

  private unclaimedCount = 0;

  /** Requests settled so far (for tests and benchmarks). */
  get settled(): number {
    return this.settledCount;
  }

  /** Referenced while requests are pending or a group is joined; otherwise the socket lets the process exit. */
  private idleCheckQueued = false;
  private readonly idleCheck = (): void => {
    this.idleCheckQueued = false;
    this.updateRef();
  };

  updateRef(force?: boolean): void {
    const want = force === true || this.inFlight > 0 || this.waiting.size > 0 || this.joined > 0;
    if (want !== this.refd && !this.closed) {
      this.refd = want;
      this.transport.setRef(want);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true; // first: settling must not send what is still waiting
    const err = new ClosedError(`${this.name} socket`);
    for (const p of [...this.pending.values(), ...this.waiting.toArray()]) this.settle(p, err);
    this.waiting.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    this.transport.close();
  }
}
