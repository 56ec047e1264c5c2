// Public entry point of mptcp-pm: re-exports only.
/// <reference types="node" preserve="true" />

export { MptcpPm, EndpointNotFoundError } from './mptcp/pm/pm.js';
export type { MptcpPmOptions, Limits, EndpointRef } from './mptcp/pm/pm.js';
export type { Endpoint, EndpointFlag, EndpointSpec } from './mptcp/pm/endpoint.js';
export { ENDPOINT_FLAGS } from './mptcp/pm/endpoint.js';
export type { Features } from './mptcp/pm/features.js';
export type { PathManagerType } from './mptcp/pm/pathmanager.js';
export type {
  AnnounceSpec, RemoveSpec, SubflowCreateSpec, SubflowDestroySpec, SubflowBackupSpec,
} from './mptcp/pm/userspace.js';
export {
  NetlinkError, DecodeError, ValidationError, UnsupportedError, TimeoutError, ClosedError,
} from './netlink/core/errors.js';
export type { ExtAck } from './netlink/core/errors.js';
export { Netns, NetnsError, withNetns, listNetns } from './os/netns.js';
export { MptcpEvents, ConnectionEvents, decodeEvent, eventName, EVENTS_GROUP, DEFAULT_RECEIVE_BUFFER_BYTES, DEFAULT_STREAM_LIMIT } from './mptcp/events/events.js';
export type {
  MptcpEventsOptions, StreamOptions, MptcpEventListeners, ConnectionEventListeners, MptcpEvent, MptcpEventName, MptcpEventMap,
  MptcpEventFilterName, StreamItem, OverrunEvent, EventFields, EventError, EventResetReason, EventResetFlags,
  ConnectionEvent, CreatedEvent, EstablishedEvent, ClosedEvent, AnnouncedEvent, RemovedEvent, SubflowEvent,
  SubEstablishedEvent, SubClosedEvent, SubPriorityEvent, ListenerEvent, ListenerCreatedEvent, ListenerClosedEvent,
  UnknownEvent, InvalidEvent,
} from './mptcp/events/events.js';
export type { MptcpPmEvents } from './mptcp/pm/pm.js';
export type { MptcpPmWarning } from './mptcp/pm/types.js';
export { SysctlPermissionError } from './mptcp/pm/pathmanager.js';
export { isAddress, familyOf, canonicalAddress, addressKind } from './os/address.js';
export type { Family, AddressKind } from './os/address.js';
export { checkEndpointSpec } from './mptcp/pm/endpoint.js';
export { checkIfname } from './mptcp/input/validate.js';
export { formatToken } from './mptcp/input/token.js';
export { McastGroup } from '../generated/mptcp_pm.js';
export { PM_ADDR_MAX, PM_MAX_ADDR_ID } from '../generated/mptcp_pm.js';
export { MptcpDiag } from './mptcp/diag/diag.js';
export type { MptcpDiagOptions } from './mptcp/diag/diag.js';
export { subflowFlagLetters } from './mptcp/diag/model.js';
export type {
  MptcpConnection, MptcpConnectionInfo, MptcpSubflow, MptcpListener, SocketAddress, SocketState, TcpSubflowInfo, SubflowMapping,
} from './mptcp/diag/model.js';
export { readMptcpCounters, parseMptcpCounters, counterDeltas } from './mptcp/proc/counters.js';
export type { CountersOptions } from './mptcp/proc/counters.js';
export { readMptcpStatus } from './mptcp/proc/status.js';
export type { MptcpStatus, StatusOptions } from './mptcp/proc/status.js';
export { ConnectionTracker } from './mptcp/tracker/tracker.js';
export type { ConnectionTrackerOptions, TrackedConnection, TrackedSubflow, ResyncReport, TrackerEvents } from './mptcp/tracker/tracker.js';
export {
  SourceRouting, SourceRoutingError, checkSourceRouteSpec, ROUTE_PROTOCOL, RULE_PRIORITY, TABLE_RANGE, ENDPOINT_ID_RANGE,
  EndpointReconciler, checkPolicy,
} from './routing/index.js';
export type {
  SourceRoutingOptions, SourceRouteSpec, SourceRoute, ReconcilerChange, ReconcilerEvents, ReconcilerOptions, PolicyRule,
} from './routing/index.js';
export { runDoctor, doctorFailed, CHECKS } from './doctor/index.js';
export { explainConnections } from './explain/index.js';
export type { CauseCode, ConnectionExplanation, ExpectedSubflow, ExplainOptions, MissingSubflow, PresentSubflow } from './explain/index.js';
export type { Check, Finding, Severity, DoctorContext } from './doctor/index.js';
export { UserspacePathManager } from './upm/manager.js';
export type { UserspacePathManagerOptions } from './upm/manager.js';
export { PathManagerModeError } from './upm/errors.js';
export * as policies from './upm/policies/index.js';
export type {
  Policy, UpmActions, UpmConnection, UpmSubflow, RemoteAddress, LocalAddress, UpmStats, UpmError, UpmAction, CreateOutcome, HookName,
} from './upm/types.js';
export type { BackoffOptions } from './upm/bookkeeping.js';
