// Public entry point of mptcp-pm/net: MPTCP sockets for Node programs.
/// <reference types="node" preserve="true" />

export { createServer, connect, createConnection } from './server.js';
export type { MptcpServerOptions, MptcpConnectOptions } from './server.js';
export { isMptcp, mptcpInfo, subflows } from './info.js';
export { socketFd } from '../os/socket.js';
export type { SocketSubflow } from './info.js';
export { Agent, HttpsAgent } from './agent.js';
export { MptcpUnavailableError, MptcpFallbackWarning } from './open.js';
export type { Fallback, MptcpSocketOptions, UnavailableReason } from './open.js';
export { SocketCallError } from '../os/socket.js';
export { UnsupportedError, ValidationError } from '../netlink/core/errors.js';
export type { MptcpConnectionInfo, SocketAddress, TcpSubflowInfo } from '../mptcp/diag/model.js';
