// The bounded queue behind one MptcpEvents.stream() iterator: holds what the consumer has not read
// yet, turns an overflow into an `overrun` item (never a silent drop), and ends on abort or close.

import type { OverrunEvent, StreamItem } from './types.js';

/** Default of {@link StreamQueue} `limit`: items held for a consumer that is behind. */
export const DEFAULT_STREAM_LIMIT = 16_384;

/**
 * A single-consumer queue. When `limit` items are waiting, further items are counted rather than
 * stored; the count is handed to the consumer as `{ type: 'overrun', source: 'queue', lost }` in
 * the place of the missing items, before anything newer.
 */
export class StreamQueue implements AsyncIterableIterator<StreamItem> {
  private readonly items: StreamItem[] = [];
  private head = 0;
  private lost = 0;
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
      this.lost++;
      return;
    }
    if (this.lost > 0) this.flushLost();
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
    } else if (this.lost > 0) this.flushLost();
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: undefined, done: true });
    }
    this.onEnd();
  }

  next(): Promise<IteratorResult<StreamItem>> {
    if (this.size === 0 && this.lost > 0) this.flushLost();
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

  private flushLost(): void {
    const marker: OverrunEvent = { type: 'overrun', lost: this.lost, source: 'queue' };
    this.lost = 0;
    this.items.push(marker);
  }
}
