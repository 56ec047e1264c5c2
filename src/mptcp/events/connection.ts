// One connection's events out of an MptcpEvents: what MptcpEvents#forConnection and #forSocket return.

import { EventEmitter } from 'eventemitter3';
import type { MptcpEvent, MptcpEventMap, OverrunEvent } from './types.js';

/** Listener signatures of {@link ConnectionEvents}: every connection event name, `event` and `overrun`. */
export type ConnectionEventListeners = {
  [K in Exclude<keyof MptcpEventMap, 'listenerCreated' | 'listenerClosed'>]: (event: MptcpEventMap[K]) => void;
} & {
  event: (event: MptcpEvent) => void;
  overrun: (event: OverrunEvent) => void;
};

/** The source a ConnectionEvents reads from (an MptcpEvents). */
export interface EventSource {
  on(e: 'event', fn: (ev: MptcpEvent) => void): unknown;
  on(e: 'overrun', fn: (ev: OverrunEvent) => void): unknown;
  off(e: 'event', fn: (ev: MptcpEvent) => void): unknown;
  off(e: 'overrun', fn: (ev: OverrunEvent) => void): unknown;
}

/**
 * The events of one connection (by token), from the moment it is made: `subEstablished`,
 * `announced`, `subClosed`, …, up to `closed`, after which it detaches by itself. An `overrun` of the
 * source is passed on too (a lost event may have been this connection's).
 */
export class ConnectionEvents extends EventEmitter<ConnectionEventListeners> {
  /** The connection's local token (mptcpi_token). */
  readonly token: number;
  private detached = false;
  private readonly onEvent = (e: MptcpEvent): void => {
    if (e.type === 'invalid' || e.type === 'listenerCreated' || e.type === 'listenerClosed') return;
    if (e.token !== this.token) return;
    this.emit(e.type, e as never);
    this.emit('event', e);
    if (e.type === 'closed') this.close();
  };
  private readonly onOverrun = (o: OverrunEvent): void => {
    this.emit('overrun', o);
  };

  constructor(private readonly source: EventSource, token: number) {
    super();
    this.token = token;
    source.on('event', this.onEvent);
    source.on('overrun', this.onOverrun);
  }

  /** Whether it has stopped listening (after `closed`, or {@link close}). */
  get closed(): boolean {
    return this.detached;
  }

  /** Stops listening to the source (the source stays open). Idempotent. */
  close(): void {
    if (this.detached) return;
    this.detached = true;
    this.source.off('event', this.onEvent);
    this.source.off('overrun', this.onOverrun);
  }
}
