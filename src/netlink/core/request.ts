// Request bookkeeping types of the netlink core: the options of one request, what the engine keeps
// per request, the listeners of a socket, and the queue of requests waiting to be sent.

import type { ExtAck } from './errors.js';
import type { NlMsgHeader } from './message.js';

/** Options of one request. */
export interface ExchangeOptions {
  /** Operation name used in errors, e.g. `add-addr`. */
  op: string;
  /** Send as a dump (NLM_F_DUMP) and gather the parts until NLMSG_DONE. */
  dump?: boolean;
  /** Extra nlmsg_flags (e.g. NLM_F_CREATE | NLM_F_EXCL for rtnetlink); REQUEST/ACK/DUMP are set here. */
  flags?: number;
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
  /** Hand up each reply payload without the protocol's fixed header (genlmsghdr, …). */
  stripHeader?: boolean;
  /** Names the attribute an extended ACK points at (offset into the request, missing type). */
  explain?: (request: Buffer, extack: ExtAck) => string | undefined;
}

/** Receives a protocol message that answers no request (a notification). */
export type NotificationListener = (header: NlMsgHeader, payload: Buffer) => void;
/** Told that the kernel dropped messages for this socket (`errno` is ENOBUFS). */
export type OverrunListener = (errno: number) => void;
/** Told about a problem that belongs to no request (malformed datagram, unexpected receive errno). */
export type ErrorListener = (err: Error) => void;

export interface Pending {
  seq: number;
  readonly opts: ExchangeOptions;
  readonly dump: boolean;
  readonly reply: boolean;
  readonly datagram: Buffer;
  parts: Buffer[];
  readonly resolve: (parts: Buffer[]) => void;
  readonly reject: (err: Error) => void;
  readonly deadline: number;
  readonly timeoutMs: number;
  interrupted: boolean;
  retries: number;
  sent: boolean;
  /** Identical dumps asked while this one waited to be sent: settled with its answer. */
  followers?: Pending[];
  /** Set while this dump waits to be sent and others may join it. */
  joinKey?: string;
}

/**
 * Requests not yet sent, in order: an array read from a moving head (shifting an array per request
 * would copy it), compacted once the consumed part dominates.
 */
export class WaitQueue {
  private items: Pending[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(p: Pending): void {
    this.items.push(p);
  }

  /** The next request, or undefined. */
  peek(): Pending | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  shift(): void {
    this.head++;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Puts `p` back at the front (a dump sent again keeps its place in the order). */
  unshift(p: Pending): void {
    if (this.head > 0) this.items[--this.head] = p;
    else this.items.unshift(p);
  }

  /** The waiting requests, as a copy. */
  toArray(): Pending[] {
    return this.items.slice(this.head);
  }

  clear(): void {
    this.items.length = 0;
    this.head = 0;
  }
}
