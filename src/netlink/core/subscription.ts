// The one notification path of the netlink core, for every protocol: a subscription joins groups,
// hands on the messages that answer no request, and reports what the kernel dropped for the socket
// (read from its drop counter, against a baseline it owns) as overruns with the number lost.

import type { NlMsgHeader } from './message.js';

/** What a subscription is told. */
export interface SubscriptionHandlers {
  /** A message that answers no request (a notification of a joined group). */
  message(header: NlMsgHeader, payload: Buffer): void;
  /**
   * The kernel dropped messages for the socket: `lost` is how many, from its drop counter
   * (undefined when the counter cannot be read).
   */
  overrun(lost: number | undefined): void;
  /** A problem that belongs to no request (a stray or malformed datagram, a receive error). */
  error?(err: Error): void;
}

/** A subscription of {@link NetlinkSocket.subscribe}. */
export interface Subscription {
  /** Messages the kernel dropped for the socket so far (undefined when the counter cannot be read). */
  readDrops(): number | undefined;
  /** Reports drops not yet reported, then stops listening (the socket stays open). Idempotent. */
  end(): void;
}

/** After an overrun the drop counter is looked at this often, until it stayed still this many times. */
const WATCH_MS = 50;
const WATCH_STILL = 20;

/**
 * The drop accounting of one subscription. The kernel drops only while the receive queue is full,
 * so after a loss there are queued messages to read: the counter is looked at once at the end of
 * every event-loop turn in which messages were read. An overrun the kernel signals (ENOBUFS) or one
 * seen that way is followed by a watch of the counter for a while, in case the queue stays full
 * with nothing read to notice more drops.
 */
export class DropWatch {
  private baseline: number | undefined;
  private turn: NodeJS.Immediate | undefined;
  private poll: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(private readonly counter: () => number, private readonly report: (lost: number | undefined) => void) {
    this.baseline = this.read();
  }

  /** The counter now, or undefined when it cannot be read. */
  read(): number | undefined {
    try {
      return this.counter();
    } catch {
      return undefined;
    }
  }

  /** Messages were read in this turn: look at the counter when the turn ends. */
  afterMessages(): void {
    if (this.turn !== undefined || this.ended) return;
    this.turn = setImmediate(() => {
      this.turn = undefined;
      this.look();
    });
  }

  /** The kernel signalled a loss: report what the counter gained (undefined when unknown) and watch it. */
  signalled(): void {
    if (this.ended) return;
    const now = this.read();
    if (now === undefined || this.baseline === undefined) {
      this.report(undefined);
    } else {
      const lost = now - this.baseline;
      this.baseline = now;
      this.report(lost > 0 ? lost : undefined);
    }
    this.watch(0);
  }

  /** Reports drops counted since the last look; returns whether there were any. */
  look(): boolean {
    if (this.ended) return false;
    const now = this.read();
    if (now === undefined || this.baseline === undefined || now <= this.baseline) {
      this.baseline ??= now;
      return false;
    }
    const lost = now - this.baseline;
    this.baseline = now;
    this.report(lost);
    this.watch(0);
    return true;
  }

  private watch(still: number): void {
    clearTimeout(this.poll);
    if (this.ended || still >= WATCH_STILL) return;
    this.poll = setTimeout(() => {
      if (!this.look()) this.watch(still + 1);
    }, WATCH_MS);
    this.poll.unref();
  }

  /** A last look, then no more reports. Idempotent. */
  end(): void {
    if (this.ended) return;
    this.look();
    this.ended = true;
    clearTimeout(this.poll);
    if (this.turn !== undefined) clearImmediate(this.turn);
  }
}
