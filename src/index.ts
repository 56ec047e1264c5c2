// Public entry point of mptcp-pm: re-exports only.

export { MptcpPm, EndpointNotFoundError } from './mptcp/pm.js';
export type { MptcpPmOptions, Limits, EndpointRef } from './mptcp/pm.js';
export type { Endpoint, EndpointFlag, EndpointSpec } from './mptcp/endpoint.js';
export { ENDPOINT_FLAGS } from './mptcp/endpoint.js';
export type { Features } from './mptcp/features.js';
export type { PathManagerType } from './mptcp/pathmanager.js';
export type {
  AnnounceSpec, RemoveSpec, SubflowCreateSpec, SubflowDestroySpec, SubflowBackupSpec,
} from './mptcp/userspace.js';
export {
  NetlinkError, DecodeError, ValidationError, UnsupportedError, TimeoutError, ClosedError,
} from './netlink/errors.js';
export type { ExtAck } from './netlink/errors.js';
export { Netns, NetnsError, withNetns, listNetns } from './os/netns.js';
export { MptcpEvents, decodeEvent, eventName, EVENTS_GROUP, DEFAULT_RECEIVE_BUFFER_BYTES, DEFAULT_STREAM_LIMIT } from './mptcp/events.js';
export type {
  MptcpEventsOptions, StreamOptions, MptcpEventListeners, MptcpEvent, MptcpEventName, MptcpEventMap,
  MptcpEventFilterName, StreamItem, OverrunEvent, EventFields, EventError, EventResetReason, EventResetFlags,
  ConnectionEvent, CreatedEvent, EstablishedEvent, ClosedEvent, AnnouncedEvent, RemovedEvent, SubflowEvent,
  SubEstablishedEvent, SubClosedEvent, SubPriorityEvent, ListenerEvent, ListenerCreatedEvent, ListenerClosedEvent,
  UnknownEvent, InvalidEvent,
} from './mptcp/events.js';
export type { MptcpPmEvents } from './mptcp/pm.js';
export type { MptcpPmWarning } from './mptcp/pm-types.js';
export { SysctlPermissionError } from './mptcp/pathmanager.js';
export { isAddress, familyOf, canonicalAddress, addressKind } from './mptcp/address.js';
export type { Family, AddressKind } from './mptcp/address.js';
export { checkEndpointSpec } from './mptcp/endpoint.js';
export { McastGroup } from '../generated/mptcp_pm.js';
export { PM_ADDR_MAX, PM_MAX_ADDR_ID } from '../generated/mptcp_pm.js';
export { MptcpDiag } from './mptcp/diag.js';
export type { MptcpDiagOptions } from './mptcp/diag.js';
export { subflowFlagLetters } from './mptcp/diag-model.js';
export type {
  MptcpConnection, MptcpConnectionInfo, MptcpSubflow, MptcpListener, SocketAddress, SocketState, TcpSubflowInfo, SubflowMapping,
} from './mptcp/diag-model.js';
export { readMptcpCounters, parseMptcpCounters, counterDeltas } from './mptcp/counters.js';
export type { CountersOptions } from './mptcp/counters.js';
export { readMptcpStatus } from './mptcp/status.js';
export type { MptcpStatus, StatusOptions } from './mptcp/status.js';
export { ConnectionTracker } from './mptcp/tracker.js';
export type { ConnectionTrackerOptions, TrackedConnection, TrackedSubflow, ResyncReport, TrackerEvents } from './mptcp/tracker.js';
export { SourceRouting, SourceRoutingError, checkSourceRouteSpec } from './routing/source-routing.js';
export type { SourceRoutingOptions, SourceRouteSpec, SourceRoute } from './routing/source-routing.js';
export { ROUTE_PROTOCOL, RULE_PRIORITY, TABLE_RANGE, ENDPOINT_ID_RANGE } from './routing/marks.js';
export { EndpointReconciler } from './routing/reconciler.js';
export type { ReconcilerChange, ReconcilerEvents } from './routing/reconciler.js';
export { checkPolicy } from './routing/policy.js';
export type { ReconcilerOptions, PolicyRule } from './routing/policy.js';
export { runDoctor, doctorFailed, CHECKS } from './doctor/index.js';
export type { Check, Finding, Severity, DoctorContext } from './doctor/index.js';
export { UserspacePathManager } from './upm/manager.js';
export type { UserspacePathManagerOptions } from './upm/manager.js';
export { PathManagerModeError } from './upm/errors.js';
export * as policies from './upm/policies/index.js';
export type {
  Policy, UpmActions, UpmConnection, UpmSubflow, RemoteAddress, LocalAddress, UpmStats, UpmError, UpmAction, CreateOutcome, HookName,
} from './upm/types.js';
export type { BackoffOptions } from './upm/bookkeeping.js';
