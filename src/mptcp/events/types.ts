// Event objects of the API layer: what MptcpEvents delivers and decodeEvent returns, one interface
// per kernel event (camelCase of the spec name), plus `unknown`, `invalid` and `overrun`.

import type { UnknownAttr } from '../../netlink/core/spec-types.js';
import type { EventType, ResetReason } from '../../../generated/mptcp_pm.js';

/** Names of the events the kernel sends (spec names in camelCase), from the generated table. */
export type MptcpEventName = EventType;

/** A socket error copied from a subflow: the number and its symbolic name, e.g. 111 / ECONNREFUSED. */
export interface EventError {
  errno: number;
  code: string;
}

/** Reason of an MP_TCPRST received from the peer: the number and its name (`eunspec` … `emiddlebox`, or `unknown`). */
export interface EventResetReason {
  value: number;
  name: ResetReason | 'unknown';
}

/** Flags of an MP_TCPRST received from the peer. */
export interface EventResetFlags {
  value: number;
  /** Bit 0: the peer marked the reset as temporary. */
  transient: boolean;
}

/**
 * Every field an event can carry, decoded. Each is present only when the kernel sent the
 * attribute it comes from (see the per-event interfaces for what a kernel always sends).
 */
export interface EventFields {
  /** Connection token (u32), the value the userspace-PM commands take. */
  token?: number;
  /** Address family of the addresses; for `announced` derived from the address sent. */
  family?: 'inet' | 'inet6';
  localAddress?: string;
  /** Host order (the kernel sends event ports in network order). */
  localPort?: number;
  remoteAddress?: string;
  /** Host order. */
  remotePort?: number;
  localId?: number;
  remoteId?: number;
  /** The subflow's backup state. */
  backup?: boolean;
  error?: EventError;
  /** Interface the subflow is bound to (only when bound). */
  ifindex?: number;
  resetReason?: EventResetReason;
  resetFlags?: EventResetFlags;
  /** This host accepted the connection (FLAGS bit 1 on 6.18+, the SERVER_SIDE attribute before). */
  serverSide?: boolean;
  /** The peer asked for no joins towards its initial address and port (MP_CAPABLE "C" flag). */
  denyJoinId0?: boolean;
  /** Event flag bits this library has no name for (present only when non-zero). */
  unknownFlags?: number;
  /** TIMEOUT attribute (defined by the uAPI, not sent by current kernels). */
  timeout?: number;
  /** Attributes the spec does not describe, as received. */
  unknownAttributes?: UnknownAttr[];
}

/** `created` / `established`: a connection exists / is fully established. */
export interface ConnectionEvent extends EventFields {
  type: 'created' | 'established';
  token: number;
  /** Always set for these events: false on the side that opened the connection. */
  serverSide: boolean;
  denyJoinId0: boolean;
}
export interface CreatedEvent extends ConnectionEvent { type: 'created' }
export interface EstablishedEvent extends ConnectionEvent { type: 'established' }

/** `closed`: a connection has gone away. */
export interface ClosedEvent extends EventFields { type: 'closed'; token: number }

/** `announced`: the peer announced an address (`remoteAddress`, `remotePort`, `remoteId`). */
export interface AnnouncedEvent extends EventFields { type: 'announced'; token: number }

/** `removed`: the peer withdrew address id `remoteId`. */
export interface RemovedEvent extends EventFields { type: 'removed'; token: number }

/** Subflow events: `subEstablished`, `subClosed` (with `error` / `resetReason` when known), `subPriority`. */
export interface SubflowEvent extends EventFields {
  type: 'subEstablished' | 'subClosed' | 'subPriority';
  token: number;
}
export interface SubEstablishedEvent extends SubflowEvent { type: 'subEstablished' }
export interface SubClosedEvent extends SubflowEvent { type: 'subClosed' }
export interface SubPriorityEvent extends SubflowEvent { type: 'subPriority' }

/** `listenerCreated` / `listenerClosed`: an MPTCP listening socket on `localAddress`:`localPort`. No token. */
export interface ListenerEvent extends EventFields { type: 'listenerCreated' | 'listenerClosed' }
export interface ListenerCreatedEvent extends ListenerEvent { type: 'listenerCreated' }
export interface ListenerClosedEvent extends ListenerEvent { type: 'listenerClosed' }

/**
 * An event type this library does not know (a newer kernel). `attributes` holds every attribute
 * raw, in wire order; the known ones are also decoded into the usual fields when they decode.
 */
export interface UnknownEvent extends EventFields {
  type: 'unknown';
  /** The genl command number of the event. */
  eventType: number;
  attributes: UnknownAttr[];
}

/**
 * A known event whose bytes did not follow the wire format (a wrong attribute size, no token).
 * Delivered rather than dropped, with the raw attributes and the reason.
 */
export interface InvalidEvent {
  type: 'invalid';
  eventType: number;
  /** What was wrong, e.g. `event-attr.sport: expected 2 bytes, got 4`. */
  reason: string;
  /** The attribute bytes after the genl header, as received. */
  data: Uint8Array;
}

/** Any decoded event, as {@link decodeEvent} returns it. */
export type MptcpEvent =
  | CreatedEvent | EstablishedEvent | ClosedEvent | AnnouncedEvent | RemovedEvent
  | SubEstablishedEvent | SubClosedEvent | SubPriorityEvent | ListenerCreatedEvent | ListenerClosedEvent
  | UnknownEvent | InvalidEvent;

/**
 * Events were lost. `source: 'kernel'`: the socket's receive queue was full and the kernel dropped
 * them (ENOBUFS); `lost` is read from the socket's drop counter (undefined if it could not be read).
 * `source: 'queue'`: a stream consumer fell more than its queue limit behind; `lost` is exact.
 */
export interface OverrunEvent {
  type: 'overrun';
  lost: number | undefined;
  source: 'kernel' | 'queue';
}

/** What a stream yields: events, and overruns in the place where the loss happened. */
export type StreamItem = MptcpEvent | OverrunEvent;

/** Event object by name, for typed listeners. */
export interface MptcpEventMap {
  created: CreatedEvent;
  established: EstablishedEvent;
  closed: ClosedEvent;
  announced: AnnouncedEvent;
  removed: RemovedEvent;
  subEstablished: SubEstablishedEvent;
  subClosed: SubClosedEvent;
  subPriority: SubPriorityEvent;
  listenerCreated: ListenerCreatedEvent;
  listenerClosed: ListenerClosedEvent;
  unknown: UnknownEvent;
  invalid: InvalidEvent;
}

/** Names accepted by the `types` filter: kernel events plus `unknown` and `invalid`. */
export type MptcpEventFilterName = keyof MptcpEventMap;

// Every generated event name has an entry in the map above (a compile error otherwise).
type MissingEvents = Exclude<EventType, keyof MptcpEventMap>;
const everyEventMapped: [MissingEvents] extends [never] ? true : MissingEvents = true;
void everyEventMapped;
