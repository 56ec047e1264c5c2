// Request engine of the socket layer: sequence numbers, the ordered send queue (synchronous or
// worker-thread sendto), reply matching, dump gathering, timeouts, overruns and notifications.

import { constants as osConstants } from 'node:os';
import { ClosedError, NetlinkError, TimeoutError } from './errors.js';
import { encodeGenl, parseMessages, NlmF, type NlMessage } from './message.js';
import type { RawTransport } from './transport.js';

const ENOBUFS = osConstants.errno.ENOBUFS;
/** How many settled sequence numbers are remembered so that late replies to them are dropped. */
const RETIRED_MAX = 1024;
/** Time per event-loop turn during which replies are read right after sending (see Core.mayDrain). */
const DRAIN_BUDGET_MS = 0.5;
/** A synchronous sendto slower than this marks `offThread: 'auto'` requests as worth a worker thread. */
const SLOW_SEND_MS = 1;

/** Options of one request (see GenlSocket.request). */
export interface ExchangeOptions {
  op: string;
  dump?: boolean;
  timeoutMs?: number;
  /**
   * `true`: always send on a worker thread. `'auto'`: send on the JS thread until one such send is
   * seen to block for more than 1 ms (the kernel waiting for RCU), then on a worker thread.
   */
  offThread?: boolean | 'auto';
  /**
   * The kernel answers this (non-dump) request with exactly one message: send it without NLM_F_ACK
   * and settle on that message. Errors still arrive as NLMSG_ERROR.
   */
  reply?: boolean;
}

/** Receives a family message that answers no request (an event). `attrs` follows the genl header. */
export type NotificationListener = (cmd: number, version: number, attrs: Buffer) => void;
/** Told that the kernel dropped messages for this socket (`errno` is ENOBUFS). */
export type OverrunListener = (errno: number) => void;
/** Told about a problem that belongs to no request (malformed datagram, unexpected receive errno). */
export type ErrorListener = (err: Error) => void;

interface Pending {
  readonly seq: number;
  readonly op: string;
  readonly dump: boolean;
  readonly parts: Buffer[];
  readonly resolve: (parts: Buffer[]) => void;
  readonly reject: (err: Error) => void;
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly reply: boolean;
  interrupted: boolean;
}

interface Outgoing {
  readonly pending: Pending;
  readonly datagram: Buffer;
  readonly offThread: boolean | 'auto';
}

/** Request bookkeeping, send queue and receive dispatch, shared by the family lookup and requests. */
export class Core {
  familyId = -1;
  closed = false;
  joined = 0;
  readonly notify = new Set<NotificationListener>();
  readonly overrun = new Set<OverrunListener>();
  readonly errors = new Set<ErrorListener>();
  private readonly pending = new Map<number, Pending>();
  private readonly retired = new Set<number>();
  private readonly queue: Outgoing[] = [];
  private sending = false;
  private turnStart = -1;
  private draining = false;
  private seq = 0;
  private refd = true;
  /** One timer for every pending request, armed for the earliest deadline. */
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  /** Set once an `'auto'` send blocked the JS thread: later ones go to a worker thread. */
  private slowSends = false;

  constructor(readonly transport: RawTransport, readonly family: string, private readonly timeoutMs: number) {
    transport.listen({ message: (d) => this.receive(d), error: (errno) => this.transportError(errno) });
    this.droppedSinceLastLook();
    this.updateRef();
  }

  exchange(type: number, cmd: number, version: number, attrs: Uint8Array, opts: ExchangeOptions): Promise<Buffer[]> {
    if (this.closed) return Promise.reject(new ClosedError('generic netlink socket'));
    this.seq = this.seq >= 0xffffffff ? 1 : this.seq + 1;
    const seq = this.seq;
    const dump = opts.dump === true;
    const reply = !dump && opts.reply === true;
    const flags = NlmF.REQUEST | (reply ? 0 : NlmF.ACK) | (dump ? NlmF.DUMP : 0);
    const datagram = encodeGenl({ type, flags, seq, pid: 0, cmd, version }, attrs);
    return new Promise<Buffer[]>((resolve, reject) => {
      const ms = opts.timeoutMs ?? this.timeoutMs;
      const deadline = performance.now() + ms;
      const p: Pending = { seq, op: opts.op, dump, parts: [], resolve, reject, deadline, timeoutMs: ms, reply, interrupted: false };
      this.pending.set(seq, p);
      if (deadline < this.timerAt) this.armTimer(deadline);
      if (this.pending.size === 1) this.updateRef();
      const out: Outgoing = { pending: p, datagram, offThread: opts.offThread ?? false };
      if (this.sending || this.queue.length > 0) this.queue.push(out);
      else this.transmit(out);
    });
  }

  /** Sends one datagram; returns false when it went to a worker thread (the queue must wait). */
  private transmit(out: Outgoing): boolean {
    const p = out.pending;
    if (!this.pending.has(p.seq)) return true; // settled (timed out) while queued: never send it late
    if (out.offThread === false || (out.offThread === 'auto' && !this.slowSends)) {
      const started = out.offThread === 'auto' ? performance.now() : 0;
      const errno = this.transport.send(out.datagram);
      if (started && performance.now() - started > SLOW_SEND_MS) this.slowSends = true;
      if (errno !== 0) this.settle(p, new NetlinkError(this.family, p.op, errno, {}, 'sending the request failed'));
      else this.drainFor(p);
      return true;
    }
    this.sending = true;
    this.transport.sendOffThread(out.datagram, (errno) => {
      this.sending = false;
      if (this.closed) return;
      if (errno !== 0) this.settle(p, new NetlinkError(this.family, p.op, errno, {}, 'sending the request failed'));
      // The kernel queued the answer before sendto returned on the worker: read it now rather
      // than after another trip through the socket's poll.
      else this.drainFor(p);
      this.pump();
    });
    return false;
  }

  /** Reads, synchronously and within the per-turn budget, what the kernel queued until `p` is settled. */
  private drainFor(p: Pending): void {
    if (this.joined !== 0 || !this.pending.has(p.seq) || !this.mayDrain()) return;
    this.draining = true;
    try {
      this.transport.drain?.(() => !this.pending.has(p.seq));
    } finally {
      this.draining = false;
    }
  }

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

  private pump(): void {
    while (!this.sending && this.queue.length > 0) {
      if (!this.transmit(this.queue.shift()!)) return;
    }
  }

  private settle(p: Pending, result: Error | Buffer[]): void {
    if (this.pending.get(p.seq) !== p) return;
    this.pending.delete(p.seq);
    this.retire(p.seq);
    // The deadline timer stays armed when nothing is pending (it is unref'd): a loop of requests
    // then costs no timer operations, and a timer that fires early just re-arms.
    if (this.pending.size === 0) this.updateRef();
    if (result instanceof Error) p.reject(result);
    else p.resolve(result);
  }

  private armTimer(at: number): void {
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.expire(), Math.max(0, at - performance.now()));
    this.timer.unref();
  }

  private disarmTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  /**
   * Rejects every request past its deadline and re-arms for the next one. Real sockets never see
   * ENOBUFS (see transport.ts), so a reply the kernel dropped shows up here: when the drop counter
   * moved, the request fails as an overrun (outcome unknown) rather than as a plain timeout.
   */
  private expire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    let dropped = false;
    for (const p of [...this.pending.values()]) {
      if (p.deadline > now) {
        if (p.deadline < next) next = p.deadline;
        continue;
      }
      if (!dropped) dropped = this.droppedSinceLastLook();
      if (dropped) {
        this.settle(p, new NetlinkError(this.family, p.op, ENOBUFS, {}, 'the kernel dropped messages for this socket; the outcome of this request is unknown'));
      } else {
        this.settle(p, new TimeoutError(`${this.family} ${p.op}`, p.timeoutMs));
      }
    }
    if (dropped) for (const cb of this.overrun) cb(ENOBUFS);
    if (next < Infinity && this.pending.size > 0) this.armTimer(next);
  }

  private dropsSeen = 0;

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

  private retire(seq: number): void {
    this.retired.add(seq);
    if (this.retired.size > RETIRED_MAX) this.retired.delete(this.retired.values().next().value!);
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
    if (!p) {
      if (m.header.seq !== 0 && this.retired.has(m.header.seq)) return; // late part of a settled request
      if (m.kind === 'genl' && m.header.type === this.familyId) {
        for (const cb of this.notify) cb(m.cmd, m.version, m.attrs);
      } else if (m.kind === 'error' || m.kind === 'done') {
        this.report(new Error(`${this.family}: unexpected ${m.kind === 'error' ? 'NLMSG_ERROR' : 'NLMSG_DONE'} for unknown seq ${m.header.seq}`));
      }
      return;
    }
    switch (m.kind) {
      case 'genl':
        if (m.header.flags & NlmF.DUMP_INTR) p.interrupted = true;
        p.parts.push(m.attrs);
        if (p.reply) this.settle(p, p.parts);
        return;
      case 'error':
        if (m.errno !== 0) this.settle(p, new NetlinkError(this.family, p.op, m.errno, m.extack));
        else if (!p.dump) this.settle(p, p.parts);
        return; // an ACK for a dump is not its end: NLMSG_DONE is
      case 'done':
        if (m.errno !== 0) this.settle(p, new NetlinkError(this.family, p.op, m.errno, m.extack));
        else if (p.interrupted) {
          this.settle(p, new NetlinkError(this.family, p.op, osConstants.errno.EINTR, {}, 'the dump was interrupted by a concurrent change; retry'));
        } else this.settle(p, p.parts);
        return;
      case 'control':
        return;
    }
  }

  private transportError(errno: number): void {
    if (errno === ENOBUFS) {
      if (this.overrun.size === 0) this.report(new NetlinkError(this.family, 'receive', errno, {}, 'the kernel dropped messages for this socket'));
      for (const cb of this.overrun) cb(errno);
      for (const p of [...this.pending.values()]) {
        this.settle(p, new NetlinkError(this.family, p.op, errno, {}, 'the kernel dropped messages for this socket; the outcome of this request is unknown'));
      }
      return;
    }
    const err = new NetlinkError(this.family, 'receive', errno, {}, 'receiving from the socket failed');
    this.report(err);
  }

  private report(err: Error): void {
    if (this.errors.size === 0) process.emitWarning(err);
    for (const cb of this.errors) cb(err);
  }

  /** Referenced while requests are pending or a group is joined; otherwise the socket lets the process exit. */
  updateRef(): void {
    const want = this.pending.size > 0 || this.joined > 0;
    if (want !== this.refd && !this.closed) {
      this.refd = want;
      this.transport.setRef(want);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.disarmTimer();
    for (const p of [...this.pending.values()]) this.settle(p, new ClosedError('generic netlink socket'));
    this.transport.close();
  }
}
