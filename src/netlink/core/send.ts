// Send half of the request engine: sequence numbers, flow control (a window of requests in flight
// sized from the receive buffer, one dump at a time) and the ordered send queue (synchronous or
// worker-thread sendto, several requests per datagram). The receive half, Core (engine.ts), builds on it.

import { constants as osConstants } from 'node:os';
import { TimeoutError, type NetlinkError, type ExtAck } from './errors.js';
import { DEFAULT_RECEIVE_BUFFER_BYTES, type RawTransport } from './transport.js';
import { WaitQueue, type Pending } from './request.js';

/** Time per event-loop turn during which replies are read right after sending (see Sender.mayDrain). */
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
/** Requests waiting together leave in one datagram (the kernel answers each message on its own): at most so many. */
const BATCH_MESSAGES = 64;
const BATCH_BYTES = 32 * 1024;
/** A reply this far behind the last seq sent that answers no pending request is a late part of a settled one: dropped. */
const LATE_WINDOW = 1 << 20;
/** A dump the kernel marked inconsistent (NLM_F_DUMP_INTR) is sent again this many times. */
const DUMP_RETRIES = 2;
const EINTR = osConstants.errno.EINTR;

/** The send queue and flow control of one netlink socket; settling a request is the receive half's. */
export abstract class Sender {
  protected closed = false;
  /** Multicast groups joined: notifications may then arrive at any time. */
  protected joined = 0;
  /** Requests sent and not yet settled, by sequence number. */
  protected readonly pending = new Map<number, Pending>();
  /** Requests waiting for room in the window (or for the dump in flight), in order. */
  protected readonly waiting = new WaitQueue();
  protected inFlight = 0;
  protected dumpInFlight = false;
  protected seq = 0;
  private window = 1;
  private sending = false;
  private turnStart = -1;
  /** Set once an `'auto'` send blocked the JS thread: later ones go to a worker thread. */
  private slowSends = false;

  protected constructor(protected readonly transport: RawTransport) {}

  /** Name used in errors (`mptcp_pm`, `sock_diag`, …). */
  abstract readonly name: string;

  /** Settles `p` with its replies or an error (the receive half's bookkeeping). */
  protected abstract settle(p: Pending, result: Error | Buffer[]): void;
  /** The error of `p` for `errno`, with the kernel's extended ACK. */
  protected abstract error(p: Pending, errno: number, extack: ExtAck, hint?: string): NetlinkError;

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

  private flushQueued = false;
  protected readonly flush = (): void => {
    this.flushQueued = false;
    this.pump();
  };

  /**
   * Others are in flight: the requests of this burst of microtasks leave in one datagram; past the
   * drain budget (replies come one by one from the poll) those of the whole poll phase do.
   */
  protected queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    if (this.turnStart >= 0 && performance.now() - this.turnStart >= DRAIN_BUDGET_MS) setImmediate(this.flush);
    else queueMicrotask(this.flush);
  }

  /** Sends waiting requests in order while the window has room and the socket is not busy. */
  protected pump(): void {
    for (let p = this.waiting.peek(); p !== undefined && !this.sending && !this.closed; p = this.waiting.peek()) {
      if (p.sent) {
        this.waiting.shift(); // settled (timed out) while waiting: never send it late
        continue;
      }
      if (this.inFlight >= this.window || (p.dump && this.dumpInFlight)) return;
      this.waiting.shift();
      if (!this.onJsThread(p)) {
        // Requests bound for the worker thread that wait right behind go with it in one datagram.
        if (!this.transmit(p.opts.offThread === true ? this.gather(p) : [p])) return;
        continue;
      }
      const batch = this.gather(p);
      if (batch.length === 1) this.transmit(batch);
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
      if ((p.dump && dump) || this.onJsThread(p) !== this.onJsThread(first) || p.opts.offThread === 'auto' || bytes + p.datagram.length > BATCH_BYTES) break;
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

  /** Dumps waiting to be sent, by request bytes and options (see {@link joinWaitingDump}). */
  private readonly joinable = new Map<string, Pending>();

  /**
   * A dump asked while an identical one (same bytes, operation, timeout and thread) waits to be
   * sent joins it and settles with its answer: that dump starts after both were asked, so its
   * answer is as fresh for one as for the other, and concurrent callers cost the kernel one dump.
   * Returns false when there is none to join (then `p` waits on its own and others may join it).
   */
  protected joinWaitingDump(p: Pending): boolean {
    const key = `${p.opts.op}\u0000${p.timeoutMs}\u0000${String(p.opts.offThread)}\u0000${p.opts.stripHeader === true}\u0000${p.datagram.toString('latin1')}`;
    const leader = this.joinable.get(key);
    if (leader !== undefined && !leader.sent) {
      (leader.followers ??= []).push(p);
      return true;
    }
    p.joinKey = key;
    this.joinable.set(key, p);
    return false;
  }

  /** `p` is sent or settled: no one joins it any more. */
  protected leaveJoinable(p: Pending): void {
    if (p.joinKey === undefined) return;
    if (this.joinable.get(p.joinKey) === p) this.joinable.delete(p.joinKey);
    p.joinKey = undefined;
  }

  /**
   * The dump these followers joined timed out. Those past their own deadline time out too, the rest
   * get a dump of their own, ahead of what waits. Returns the earliest deadline left, or Infinity.
   */
  protected promote(followers: Pending[], now: number): number {
    const left = followers.filter((f) => {
      if (f.deadline > now) return true;
      this.settle(f, new TimeoutError(`${this.name} ${f.opts.op}`, f.timeoutMs));
      return false;
    });
    if (left.length === 0) return Infinity;
    const [leader, ...rest] = left;
    if (rest.length) leader.followers = rest;
    this.waiting.unshift(leader);
    queueMicrotask(this.flush);
    return leader.deadline;
  }

  /** Gives `p` its sequence number and counts it in flight. */
  private register(p: Pending): void {
    this.leaveJoinable(p);
    this.seq = this.seq >= 0xffffffff ? 1 : this.seq + 1;
    p.seq = this.seq;
    p.sent = true;
    p.datagram.writeUInt32LE(p.seq, 8);
    this.pending.set(p.seq, p);
    this.inFlight++;
    if (p.dump) this.dumpInFlight = true;
  }

  /**
   * Sends one request, or several bound for the worker thread in one datagram; returns false when
   * they went to a worker thread (the queue must wait).
   */
  private transmit(batch: Pending[]): boolean {
    const p = batch[batch.length - 1];
    for (const b of batch) this.register(b);
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
    this.transport.sendOffThread(batch.length === 1 ? p.datagram : Buffer.concat(batch.map((b) => b.datagram)), (errno) => {
      this.sending = false;
      if (this.closed) return;
      if (errno !== 0) for (const b of batch) this.settle(b, this.error(b, errno, {}, 'sending the request failed'));
      // The kernel queued the answer before sendto returned on the worker: read it now rather
      // than after another trip through the socket's poll.
      else this.drainFor(p);
      this.pump();
    });
    return false;
  }

  /** Reads, synchronously and within the per-turn budget, what the kernel queued until `p` is settled. */
  protected drainFor(p: Pending): void {
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

  private polledThisTurn = false;
  /**
   * The poll found the socket readable: timers and I/O just had their turn, so the drain budget
   * starts afresh (once per loop iteration). Returns whether the rest of the queue may be read now.
   */
  protected polled(): boolean {
    if (!this.polledThisTurn) {
      this.polledThisTurn = true;
      this.turnStart = -1;
      setImmediate(() => (this.polledThisTurn = false));
    }
    return this.mayDrain();
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

  /** Whether `seq` was used by a request of this socket not long ago (sequence numbers wrap at 2^32). */
  protected sentBefore(seq: number): boolean {
    if (seq === 0) return false;
    const behind = (this.seq - seq + 0x100000000) % 0x100000000;
    return behind < LATE_WINDOW;
  }

  /** The kernel saw the data change during the dump: send it again (bounded), then give up with EINTR. */
  protected retryDump(p: Pending): void {
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
}
