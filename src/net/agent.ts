// http.Agent and https.Agent whose connections are MPTCP.

import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { checkSocketOptions, type MptcpSocketOptions } from './open.js';
import { connect, type MptcpConnectOptions } from './server.js';

type Callback = (err: Error | null, socket: Duplex) => void;

/** An http.Agent (keep-alive and pooling as usual) whose sockets come from mptcp-pm/net's `connect`. */
export class Agent extends http.Agent {
  readonly mptcp: MptcpSocketOptions;
  constructor(options: http.AgentOptions & MptcpSocketOptions = {}) {
    const { netns, fallback, ...rest } = options;
    checkSocketOptions({ netns, fallback }, 'Agent options');
    super(rest);
    this.mptcp = { netns, fallback };
  }

  /** Called by http for each new connection. */
  override createConnection(options: MptcpConnectOptions, callback?: Callback): Duplex {
    void callback;
    return connect({ ...options, ...this.mptcp });
  }
}

/** An https.Agent whose TLS runs over mptcp-pm/net connections. */
export class HttpsAgent extends https.Agent {
  readonly mptcp: MptcpSocketOptions;
  constructor(options: https.AgentOptions & MptcpSocketOptions = {}) {
    const { netns, fallback, ...rest } = options;
    checkSocketOptions({ netns, fallback }, 'HttpsAgent options');
    super(rest);
    this.mptcp = { netns, fallback };
  }

  /** Called by https for each new connection: TLS over an MPTCP socket. */
  override createConnection(options: MptcpConnectOptions & { servername?: string }, callback?: Callback): Duplex {
    const { host, port, localAddress, family } = options;
    const socket = connect({ host, port, localAddress, family, ...this.mptcp } as MptcpConnectOptions);
    const create = https.Agent.prototype as unknown as { createConnection(o: object, cb?: Callback): Duplex };
    return create.createConnection.call(this, { ...options, socket }, callback);
  }
}
