// What every MptcpPm offers beyond the in-kernel path manager's endpoints and limits: the socket's
// life cycle, the path-manager choice, the userspace path manager's commands, and the helpers that
// read endpoints back. MptcpPm (pm.ts) builds on it.

import { readFileSync } from 'node:fs';
import { EventEmitter } from 'eventemitter3';
import type { GenlSocket } from '../../netlink/genl/socket.js';
import { endpointFromWire, pickEndpoint, type Endpoint } from './endpoint.js';
import { checkAddress, checkId, checkKeys, checkObject, checkPort } from '../input/validate.js';
import type { Netns } from '../../os/netns.js';
import type { Features } from './features.js';
import { checkPathManagerType, getPathManager, setPathManager, type PathManagerType } from './pathmanager.js';
import { OpRunner, type OpName, type OpOptions, type OpRequests } from './runner.js';
import type { EndpointRef, MptcpPmEvents } from './types.js';
import * as us from './userspace.js';

/** The part of {@link MptcpPm} shared by both path managers; not constructed on its own. */
export abstract class MptcpPmBase extends EventEmitter<MptcpPmEvents> {
  readonly netns: string | undefined;
  protected readonly ops: OpRunner;
  private unmatched = 0;


  protected constructor(sock: GenlSocket, protected readonly ns: Netns, netns: string | undefined, features: Features, learn?: () => Promise<Features>) {
    super();
    this.netns = netns;
    this.ops = new OpRunner(sock, ns, features, netns, learn);
    sock.onError((err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
      else this.unmatched++;
    });
  }

  /**
   * What this kernel offers: commands present, event group, userspace PM, and so on. With
   * `lazyFeatures`, the policy-based ones (addressesByToken, listenerEvents, policyDump) read as
   * unknown until {@link learnFeatures} (or a call that needs them) asked the kernel.
   */
  get features(): Features {
    return this.ops.features;
  }

  /** Resolves with {@link features} complete, asking the kernel for the policies if open did not. */
  learnFeatures(): Promise<Features> {
    return this.ops.learnFeatures();
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.ops.isClosed;
  }

  /** Datagrams that answered no request and found no `error` listener. */
  get unmatchedErrors(): number {
    return this.unmatched;
  }

  /** Closes the socket; pending requests reject with ClosedError, later calls too. Idempotent. */
  close(): void {
    if (this.ops.isClosed) return;
    this.ops.close();
    this.ns.close();
  }

  /** @internal Sends `op` with its generated request type (see OpRequests). */
  async run<O extends OpName>(op: O, attrs: OpRequests[O], opts: OpOptions = {}): Promise<Buffer[]> {
    return this.ops.run(op, attrs, opts);
  }

  /**
   * Whether MPTCP is enabled in the namespace (`net.mptcp.enabled`); undefined when the sysctl is
   * not there (no MPTCP in this kernel). Needs no privilege.
   */
  mptcpEnabled(): boolean | undefined {
    this.ops.assertOpen();
    try {
      return this.ns.run(() => readFileSync('/proc/sys/net/mptcp/enabled', 'utf8').trim()) !== '0';
    } catch {
      return undefined;
    }
  }

  // ---------------------------------------------------------------- userspace path manager

  /**
   * Chooses the path manager for connections created from now on in this namespace
   * (`net.mptcp.path_manager`, or `pm_type` before 6.15). Needs CAP_NET_ADMIN in the namespace's
   * user namespace (and CAP_SYS_ADMIN to enter another namespace).
   * @throws SysctlPermissionError naming the sysctl and the missing privilege.
   */
  async setPathManager(type: PathManagerType): Promise<PathManagerType> {
    this.ops.assertOpen();
    setPathManager(this.ns, checkPathManagerType('pathManager', type), this.netns);
    return getPathManager(this.ns);
  }

  /** The path manager new connections in this namespace get. Needs no privilege in one's own namespace. */
  async getPathManager(): Promise<PathManagerType> {
    this.ops.assertOpen();
    return getPathManager(this.ns);
  }

  /**
   * ANNOUNCE: adds a local address (id 1–255) to a userspace-PM connection and sends ADD_ADDR.
   * @throws NetlinkError "invalid token", "userspace PM not selected", "did not match address and id".
   * @example await pm.announce({ token, address: '198.51.100.1', id: 2 })
   */
  async announce(spec: us.AnnounceSpec): Promise<void> {
    return us.announce(this.ops, spec);
  }

  /** REMOVE: withdraws local address `id` from a connection (RM_ADDR to the peer). */
  async removeAddress(spec: us.RemoveSpec): Promise<void> {
    return us.removeAddress(this.ops, spec);
  }

  /**
   * SUBFLOW_CREATE: opens an MP_JOIN subflow from `local` (id 1–255 required) to `remote`
   * (port required). Resolves once the SYN is sent; a later failure arrives as a `subClosed` event.
   * `local.ifname` (or `ifindex`, or a zone id) binds it to an interface of the namespace.
   */
  async createSubflow(spec: us.SubflowCreateSpec): Promise<void> {
    return us.createSubflow(this.ops, spec);
  }

  /** SUBFLOW_DESTROY: closes the subflow with this exact 4-tuple. @throws NetlinkError ESRCH "subflow not found". */
  async destroySubflow(spec: us.SubflowDestroySpec): Promise<void> {
    return us.destroySubflow(this.ops, spec);
  }

  /** SET_FLAGS with a token: sends MP_PRIO so the subflow becomes (or stops being) a backup. */
  async setSubflowBackup(spec: us.SubflowBackupSpec): Promise<void> {
    return us.setSubflowBackup(this.ops, spec);
  }

  /** The local addresses of a userspace-PM connection (GET_ADDR dump with a token, Linux 6.9+). */
  async listAddresses(token: number): Promise<Endpoint[]> {
    return us.listAddresses(this.ops, token);
  }

  /** One local address of a userspace-PM connection by id (Linux 6.9+). */
  async getAddress(token: number, id: number): Promise<Endpoint> {
    return us.getAddress(this.ops, token, id);
  }

  // ---------------------------------------------------------------- helpers

  /** One endpoint by id (GET_ADDR). */
  abstract getEndpoint(id: number): Promise<Endpoint>;

  /** All endpoints of the namespace (GET_ADDR dump). */
  abstract listEndpoints(): Promise<Endpoint[]>;

  protected decodeEndpoint(reply: Buffer | undefined, what: string): Endpoint {
    return endpointFromWire(this.ops.decodeReply('getAddr', reply).addr, what);
  }

  protected withNames(eps: Endpoint[]): Endpoint[] {
    for (const ep of eps) {
      if (ep.ifindex) {
        const name = this.ops.interfaceName(ep.ifindex);
        if (name) ep.ifname = name;
      }
    }
    return eps;
  }

  protected async findEndpoint(ref: EndpointRef, fn: string): Promise<Endpoint> {
    if (typeof ref === 'number') return this.getEndpoint(ref);
    const r = checkObject('endpoint', ref);
    checkKeys('endpoint', r, ['address', 'port']);
    const address = checkAddress('endpoint.address', r.address);
    const port = r.port === undefined ? undefined : checkPort('endpoint.port', r.port);
    return pickEndpoint(await this.listEndpoints(), address, port, `${fn}`, this.ops.where());
  }

  protected async resolveId(ref: EndpointRef, fn: string): Promise<number> {
    if (typeof ref === 'number') return checkId('id', ref);
    return (await this.findEndpoint(ref, fn)).id;
  }
}
