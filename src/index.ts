// Public entry point of mptcp-pm: re-exports only.

export { MptcpPm, EndpointNotFoundError } from './client.js';
export type { MptcpPmOptions, Limits, EndpointRef } from './client.js';
export type { Endpoint, EndpointFlag, EndpointSpec } from './endpoint.js';
export { ENDPOINT_FLAGS } from './endpoint.js';
export type { Features } from './features.js';
export type { PathManagerType } from './pathmanager.js';
export type {
  AnnounceSpec, RemoveSpec, SubflowCreateSpec, SubflowDestroySpec, SubflowBackupSpec,
} from './userspace.js';
export {
  NetlinkError, DecodeError, ValidationError, UnsupportedError, TimeoutError, ClosedError,
} from './errors.js';
export type { ExtAck } from './errors.js';
export { NetnsError } from './netlink/netns.js';
export { MptcpEvents, decodeEvent, eventName, EVENTS_GROUP, DEFAULT_RECEIVE_BUFFER_BYTES, DEFAULT_STREAM_LIMIT } from './events.js';
export type {
  MptcpEventsOptions, StreamOptions, MptcpEventListeners, MptcpEvent, MptcpEventName, MptcpEventMap,
  MptcpEventFilterName, StreamItem, OverrunEvent, EventFields, EventError, EventResetReason, EventResetFlags,
  ConnectionEvent, CreatedEvent, EstablishedEvent, ClosedEvent, AnnouncedEvent, RemovedEvent, SubflowEvent,
  SubEstablishedEvent, SubClosedEvent, SubPriorityEvent, ListenerEvent, ListenerCreatedEvent, ListenerClosedEvent,
  UnknownEvent, InvalidEvent,
} from './events.js';
