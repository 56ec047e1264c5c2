// The bounded queue behind one MptcpEvents.stream() iterator: holds what the consumer has not read
// yet, turns an overflow into an `overrun` item (never a silent drop), and ends on abort or close.

import type { OverrunEvent, StreamItem } from './types.js';

/** Default of {@link StreamQueue} `limit`: items held for a consumer that is behind. */
export const DEFAULT_STREAM_LIMIT = 16_384;

/**
 * A single-consumer queue. When `limit` items are waiting, further items are counted rather than
 * stored; the count is handed to the consumer as `{ type: 'overrun', source: 'queue', lost }` in
 * the place of the missing items, before anything newer. A kernel overrun item that finds the queue
 * full keeps its own count: it comes out as a `source: 'kernel'` item with the sum of those lost.
 */
export class StreamQueue implements AsyncIterableIterator<StreamItem> {
  private readonly items: StreamItem[] = [];
  private head = 0;
  private lost = 0;
  /** Events the kernel dropped, from overrun items that found the queue full (exact counts, then unknown ones). */
  private kernelLost = 0;
  private kernelUnknown = 0;
  private ended = false;
  private waiter: ((r: IteratorResult<StreamItem>) => void) | undefined;

  constructor(private readonly limit: number, private readonly onEnd: () => void) {}

  /** Number of items waiting (overrun markers included). */
  get size(): number {
    return this.items.length - this.head;
  }

  push(item: StreamItem): void {
    if (this.ended) return;
    if (this.waiter) {
      // The consumer is waiting, so the queue is empty and nothing can have been counted as lost.
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: item, done: false });
      return;
    }
    if (this.size >= this.limit) {
      // A kernel overrun stands for events the kernel dropped: its count is kept, not counted as one item.
      if (item.type === 'overrun' && item.source === 'kernel') {
        if (item.lost === undefined) this.kernelUnknown++;
        else this.kernelLost += item.lost;
      } else {
        this.lost++;
      }
      return;
    }
    if (this.pendingLoss) this.flushLost();
    this.items.push(item);
  }

  /** Ends the iteration; with `drain`, items already queued are still handed out first. */
  end(drain: boolean): void {
    if (this.ended) return;
    this.ended = true;
    if (!drain) {
      this.items.length = 0;
      this.head = 0;
      this.lost = 0;
      this.kernelLost = 0;
      this.kernelUnknown = 0;
    } else if (this.pendingLoss) this.flushLost();
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: undefined, done: true });
    }
    this.onEnd();
  }

  next(): Promise<IteratorResult<StreamItem>> {
    if (this.size === 0 && this.pendingLoss) this.flushLost();
    if (this.size > 0) {
      const value = this.items[this.head];
      this.items[this.head++] = undefined as unknown as StreamItem;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items.splice(0, this.head);
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter) return Promise.reject(new Error('MptcpEvents stream: next() called while a previous next() is pending'));
    return new Promise((resolve) => (this.waiter = resolve));
  }

  return(): Promise<IteratorResult<StreamItem>> {
    this.end(false);
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private get pendingLoss(): boolean {
    return this.lost > 0 || this.kernelLost > 0 || this.kernelUnknown > 0;
  }

  /** Puts the losses counted while full in place of the missing items: the queue's own, then the kernel's. */
  private flushLost(): void {
    if (this.lost > 0) this.items.push({ type: 'overrun', lost: this.lost, source: 'queue' } satisfies OverrunEvent);
    if (this.kernelLost > 0) this.items.push({ type: 'overrun', lost: this.kernelLost, source: 'kernel' } satisfies OverrunEvent);
    for (let i = 0; i < this.kernelUnknown; i++) this.items.push({ type: 'overrun', lost: undefined, source: 'kernel' } satisfies OverrunEvent);
    this.lost = 0;
    this.kernelLost = 0;
    this.kernelUnknown = 0;
  }
}
