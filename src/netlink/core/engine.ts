// Request engine of the netlink core, for any protocol: sequence numbers, flow control (a window of
// requests in flight sized from the receive buffer, one dump at a time), the ordered send queue
// (synchronous or worker-thread sendto), reply matching, dump gathering, deadlines and overruns.

import { constants as osConstants } from 'node:os';
import { ClosedError, DecodeError, NetlinkError, TimeoutError, type ExtAck } from './errors.js';
import { encodeMessage, parseMessages, NlmF, type NlMessage } from './message.js';
import { DEFAULT_RECEIVE_BUFFER_BYTES, type RawTransport } from './transport.js';
import { WaitQueue, type ErrorListener, type ExchangeOptions, type NotificationListener, type OverrunListener, type Pending } from './request.js';

export type { ErrorListener, ExchangeOptions, NotificationListener, OverrunListener } from './request.js';

const ENOBUFS = osConstants.errno.ENOBUFS;
const EINTR = osConstants.errno.EINTR;
/**
 * A reply whose sequence number is at most this far behind the last one sent, and answers no
 * pending request, is a late part of a request already settled (timed out, interrupted): dropped.
 */
const LATE_WINDOW = 1 << 20;
/** Time per event-loop turn during which replies are read right after sending (see Core.mayDrain). */
const DRAIN_BUDGET_MS = 0.5;
/** A synchronous sendto slower than this marks `offThread: 'auto'` requests as worth a worker thread. */
const SLOW_SEND_MS = 1;
/**
 * Receive-buffer bytes set aside per request in flight. A small reply or ACK costs the kernel's
 * skb truesize (under 1 KiB); twice that leaves room for notifications arriving meanwhile.
 */
const BYTES_PER_REQUEST = 2048;
/** Set aside for the dump in flight: the kernel queues one datagram of at most 32 KiB at a time. */
const BYTES_PER_DUMP = 64 * 1024;
/**
 * Requests waiting together are sent in one datagram (the kernel runs every message of a datagram
 * in order, answering each on its own): at most this many messages or bytes per sendto.
 */
const BATCH_MESSAGES = 64;
const BATCH_BYTES = 32 * 1024;
/** A dump the kernel marked inconsistent (NLM_F_DUMP_INTR) is sent again this many times. */
const DUMP_RETRIES = 2;

/** Request bookkeeping, flow control, send queue and receive dispatch of one netlink socket. */
export class Core {
  closed = false;
  joined = 0;
  readonly notify = new Set<NotificationListener>();
  readonly overrun = new Set<OverrunListener>();
  readonly errors = new Set<ErrorListener>();
  /** Requests sent and not yet settled, by sequence number. */
  private readonly pending = new Map<number, Pending>();
  /** Requests waiting for room in the window (or for the dump in flight), in order. */
  private readonly waiting = new WaitQueue();
  private inFlight = 0;
  private dumpInFlight = false;
  private window = 1;
  private sending = false;
  private turnStart = -1;
  private seq = 0;
  private refd = true;
  private settledCount = 0;
  /** One timer for every request, armed for the earliest deadline. */
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  /** Set once an `'auto'` send blocked the JS thread: later ones go to a worker thread. */
  private slowSends = false;
  private dropsSeen = 0;

  /**
   * @param header the protocol's fixed header that starts every data message (genlmsghdr,
   * inet_diag_msg, …): a shorter message is a DecodeError for its request, never handed up.
   */
  constructor(
    readonly transport: RawTransport,
    readonly name: string,
    private readonly timeoutMs: number,
    private readonly header: { name: string; length: number } = { name: 'payload', length: 0 },
  ) {
    transport.listen({ message: (d) => this.receive(d), error: (errno) => this.transportError(errno) });
    this.droppedSinceLastLook();
    this.resize();
    this.updateRef();
  }

  /** Requests allowed in flight at once, from the receive buffer the kernel reports. */
  get maxInFlight(): number {
    return this.window;
  }

  /** Recomputes the window after the receive buffer changed. */
  resize(): void {
    // A transport that cannot tell (a test's fake peer) is taken to have the default buffer.
    const bytes = this.transport.receiveBufferSize?.() ?? 2 * DEFAULT_RECEIVE_BUFFER_BYTES;
    this.window = Math.max(4, Math.floor((bytes - BYTES_PER_DUMP) / BYTES_PER_REQUEST));
    this.pump();
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
      this.waiting.push(p);
      if (deadline < this.timerAt) this.armTimer(deadline);
      const alone = this.inFlight === 0 && this.waiting.size === 1;
      if (alone) {
        // Nothing else is going on: send now, the lowest latency for one caller.
        this.updateRef(true);
        this.pump();
      } else if (!this.flushQueued) {
        // Others are in flight: let every request made in this burst of microtasks join one datagram.
        this.flushQueued = true;
        queueMicrotask(this.flush);
      }
    });
  }

  private flushQueued = false;
  private readonly flush = (): void => {
    this.flushQueued = false;
    this.pump();
  };

  /** Sends waiting requests in order while the window has room and the socket is not busy. */
  private pump(): void {
    for (let p = this.waiting.peek(); p !== undefined && !this.sending && !this.closed; p = this.waiting.peek()) {
      if (p.sent) {
        this.waiting.shift(); // settled (timed out) while waiting: never send it late
        continue;
      }
      if (this.inFlight >= this.window || (p.dump && this.dumpInFlight)) return;
      this.waiting.shift();
      if (!this.onJsThread(p)) {
        if (!this.transmit(p)) return;
        continue;
      }
      const batch = this.gather(p);
      if (batch.length === 1) this.transmit(p);
      else this.transmitBatch(batch);
    }
  }

  private onJsThread(p: Pending): boolean {
    const mode = p.opts.offThread ?? false;
    return mode === false || (mode === 'auto' && !this.slowSends);
  }

  /** `first` and the requests right behind it that may go in the same datagram. */
  private gather(first: Pending): Pending[] {
    const batch = [first];
    let bytes = first.datagram.length;
    let dump = first.dump || this.dumpInFlight;
    for (let p = this.waiting.peek(); p !== undefined && batch.length < BATCH_MESSAGES && this.inFlight + batch.length < this.window; p = this.waiting.peek()) {
      if (p.sent) {
        this.waiting.shift();
        continue;
      }
      if ((p.dump && dump) || !this.onJsThread(p) || p.opts.offThread === 'auto' || bytes + p.datagram.length > BATCH_BYTES) break;
      dump ||= p.dump;
      bytes += p.datagram.length;
      batch.push(p);
      this.waiting.shift();
    }
    return batch;
  }

  /** Sends several requests in one datagram on the JS thread. */
  private transmitBatch(batch: Pending[]): void {
    for (const p of batch) this.register(p);
    const errno = this.transport.send(Buffer.concat(batch.map((p) => p.datagram)));
    if (errno !== 0) {
      for (const p of batch) this.settle(p, this.error(p, errno, {}, 'sending the request failed'));
    } else {
      this.drainFor(batch[batch.length - 1]);
    }
  }

  /** Gives `p` its sequence number and counts it in flight. */
  private register(p: Pending): void {
    this.seq = this.seq >= 0xffffffff ? 1 : this.seq + 1;
    p.seq = this.seq;
    p.sent = true;
    p.datagram.writeUInt32LE(p.seq, 8);
    this.pending.set(p.seq, p);
    this.inFlight++;
    if (p.dump) this.dumpInFlight = true;
  }

  /** Sends one request; returns false when it went to a worker thread (the queue must wait). */
  private transmit(p: Pending): boolean {
    this.register(p);
    const mode = p.opts.offThread ?? false;
    if (mode === false || (mode === 'auto' && !this.slowSends)) {
      const started = mode === 'auto' ? performance.now() : 0;
      const errno = this.transport.send(p.datagram);
      if (started && performance.now() - started > SLOW_SEND_MS) this.slowSends = true;
      if (errno !== 0) this.settle(p, this.error(p, errno, {}, 'sending the request failed'));
      else this.drainFor(p);
      return true;
    }
    this.sending = true;
    this.transport.sendOffThread(p.datagram, (errno) => {
      this.sending = false;
      if (this.closed) return;
      if (errno !== 0) this.settle(p, this.error(p, errno, {}, 'sending the request failed'));
      // The kernel queued the answer before sendto returned on the worker: read it now rather
      // than after another trip through the socket's poll.
      else this.drainFor(p);
      this.pump();
    });
    return false;
  }

  /** Reads, synchronously and within the per-turn budget, what the kernel queued until `p` is settled. */
  private drainFor(p: Pending): void {
    if (this.joined !== 0 || this.pending.get(p.seq) !== p || !this.transport.drain) return;
    if (this.mayDrain()) {
      this.transport.drain(() => this.pending.get(p.seq) !== p);
    } else if (!this.drainQueued) {
      // Out of budget for this turn: read on the next check phase, after timers and I/O had theirs.
      this.drainQueued = true;
      setImmediate(this.drainLater);
    }
  }

  private drainQueued = false;
  private readonly drainLater = (): void => {
    this.drainQueued = false;
    if (!this.closed && this.inFlight > 0) this.transport.drain?.(() => this.inFlight === 0);
  };

  /**
   * Reading replies right after a synchronous send resolves requests without an event-loop turn,
   * so a loop of awaited requests would never let timers and I/O run. Allow it for a bounded time
   * per turn (a setImmediate marks the turn's end); beyond that replies come through the poll.
   */
  private mayDrain(): boolean {
    const now = performance.now();
    if (this.turnStart < 0) {
      this.turnStart = now;
      setImmediate(() => (this.turnStart = -1));
    }
    return now - this.turnStart < DRAIN_BUDGET_MS;
  }

  private settle(p: Pending, result: Error | Buffer[]): void {
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
    this.pump();
  }

  private error(p: Pending, errno: number, extack: ExtAck, hint?: string): NetlinkError {
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
        this.settle(p, new TimeoutError(`${this.name} ${p.opts.op}`, p.timeoutMs));
      }
    }
    if (dropped) for (const cb of this.overrun) cb(ENOBUFS);
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

  /** Whether `seq` was used by a request of this socket not long ago (sequence numbers wrap at 2^32). */
  private sentBefore(seq: number): boolean {
    if (seq === 0) return false;
    const behind = (this.seq - seq + 0x100000000) % 0x100000000;
    return behind < LATE_WINDOW;
  }

  private receive(datagram: Buffer): void {
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
        for (const cb of this.notify) cb(m.header, m.payload);
      } else if (m.kind === 'error' || m.kind === 'done') {
        this.report(new NetlinkError(this.name, 'receive', m.errno, m.extack, `unexpected ${m.kind === 'error' ? 'NLMSG_ERROR' : 'NLMSG_DONE'} for unknown seq ${m.header.seq}`));
      }
      return;
    }
    switch (m.kind) {
      case 'data':
        if (m.header.flags & NlmF.DUMP_INTR) p.interrupted = true;
        p.parts.push(m.payload);
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

  /** The kernel saw the data change during the dump: send it again (bounded), then give up with EINTR. */
  private retryDump(p: Pending): void {
    if (p.retries >= DUMP_RETRIES) {
      this.settle(p, this.error(p, EINTR, {}, `the dump was interrupted by concurrent changes ${p.retries + 1} times; retry`));
      return;
    }
    this.pending.delete(p.seq);
    this.inFlight--;
    this.dumpInFlight = false;
    p.retries++;
    p.parts = [];
    p.interrupted = false;
    p.sent = false;
    // Ahead of everything waiting: the dump keeps its place in the order.
    this.waiting.unshift(p);
    this.pump();
  }

  private transportError(errno: number): void {
    if (errno === ENOBUFS) {
      if (this.overrun.size === 0) this.report(new NetlinkError(this.name, 'receive', errno, {}, 'the kernel dropped messages for this socket'));
      for (const cb of this.overrun) cb(errno);
      for (const p of [...this.pending.values()]) {
        this.settle(p, this.error(p, errno, {}, 'the kernel dropped messages for this socket; the outcome of this request is unknown'));
      }
      return;
    }
    this.report(new NetlinkError(this.name, 'receive', errno, {}, 'receiving from the socket failed'));
  }

  /** Hands an error that belongs to no request to the error listeners; with none, it is counted only. */
  private report(err: Error): void {
    this.unclaimed++;
    for (const cb of this.errors) cb(err);
  }

  /** Errors that belonged to no request (stray or malformed datagrams, receive errors). */
  unclaimed = 0;

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
