// Capability layer: what routing/ offers to the library's users and to the capabilities built
// beside it (doctor and explain read routing only through this file).

export { SourceRouting, SourceRoutingError, checkSourceRouteSpec, linkGateway } from './source-routing.js';
export type { SourceRoutingOptions, SourceRouteSpec, SourceRoute } from './source-routing.js';
export { ROUTE_PROTOCOL, RULE_PRIORITY, TABLE_RANGE, ENDPOINT_ID_RANGE } from './marks.js';
export { EndpointReconciler } from './reconciler.js';
export type { ReconcilerChange, ReconcilerEvents } from './reconciler.js';
export { checkPolicy } from './policy.js';
export type { ReconcilerOptions, PolicyRule } from './policy.js';
