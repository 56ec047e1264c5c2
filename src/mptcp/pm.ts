// The typed async API of the in-kernel path manager (endpoints, limits) and the entry point of
// the userspace path manager (userspace.ts), over one generic-netlink socket in one namespace.

import { family, Op } from '../../generated/mptcp_pm.js';
import { encodeAttrs, decodeAttrs } from '../netlink/codec.js';
import { GenlSocket, type GenlSocketOptions } from '../netlink/genl/socket.js';
import { ClosedError, UnsupportedError, ValidationError, NetlinkError } from '../netlink/errors.js';
import { toWire } from './address.js';
import {
  checkEndpointSpec, endpointFromWire, ENDPOINT_FLAGS,
  type AddressAttrs, type Endpoint, type EndpointSpec,
} from './endpoint.js';
import { checkAddress, checkBoolean, checkId, checkInt, checkKeys, checkNetns, checkObject, checkPort } from './validate.js';
import { Netns } from '../os/netns.js';
import { type Features, detectFeatures, OP_SINCE } from './features.js';
import { getPathManager, setPathManager, type PathManagerType } from './pathmanager.js';
import * as us from './userspace.js';

export interface MptcpPmOptions {
  /** A namespace name under /run/netns, or a path such as /proc/PID/ns/net. Default: the caller's. */
  netns?: string;
  /** Per-request timeout in milliseconds (default 5000). */
  timeoutMs?: number;
  /** For tests: a transport to use instead of a kernel socket. */
  transport?: GenlSocketOptions['transport'];
}

/** Limits of the in-kernel path manager, as `ip mptcp limits` names them. */
export interface Limits {
  /** Most additional subflows per connection (0–8). */
  subflows: number;
  /** Most ADD_ADDRs accepted from the peer per connection (0–8). */
  addAddrAccepted: number;
}

/** Which endpoint a call acts on: its id, or its address (and port, for signal endpoints with one). */
export type EndpointRef = number | { address: string; port?: number };

/** Sends one op, checking first that this kernel has it. */
export interface OpRunner {
  run(op: keyof typeof Op, attrs: Record<string, unknown>, opts?: { dump?: boolean; offThread?: boolean | 'auto' }): Promise<Buffer[]>;
  readonly netns: string | undefined;
}

const LIMIT_MAX = 8;

/**
 * A connection to the `mptcp_pm` generic-netlink family in one network namespace.
 *
 * @example
 * const pm = await MptcpPm.open({ netns: 'blue' });
 * await pm.addEndpoint({ address: '192.0.2.2', flags: ['subflow'] });
 * pm.close();
 */
export class MptcpPm implements OpRunner {
  /** What this kernel offers: commands present, event group, userspace PM, and so on. */
  readonly features: Features;
  readonly netns: string | undefined;
  private closed = false;

  private constructor(private readonly sock: GenlSocket, private readonly ns: Netns, netns: string | undefined) {
    this.netns = netns;
    this.features = detectFeatures(sock.ops, sock.groups);
  }

  /**
   * Opens a socket in `netns` (or the caller's namespace) and resolves the family. Needs no
   * privilege; writes need CAP_NET_ADMIN in the namespace's user namespace.
   * @throws Error when the namespace does not exist or MPTCP is not available in this kernel.
   */
  static async open(options: MptcpPmOptions = {}): Promise<MptcpPm> {
    checkKeys('options', checkObject('options', options), ['netns', 'timeoutMs', 'transport']);
    if (options.timeoutMs !== undefined) checkInt('timeoutMs', options.timeoutMs, 1, 3_600_000);
    const ns = Netns.open(checkNetns(options.netns));
    try {
      const sock = await GenlSocket.open(family.name, {
        netns: ns,
        timeoutMs: options.timeoutMs ?? 5000,
        transport: options.transport,
      });
      return new MptcpPm(sock, ns, options.netns);
    } catch (e) {
      ns.close();
      throw e;
    }
  }

  /** Closes the socket; pending requests reject with ClosedError. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
    this.ns.close();
  }

  /** @internal Sends `op` with top-level attributes of the `attr` set (or `endpoint`). */
  async run(op: keyof typeof Op, attrs: Record<string, unknown>, opts: { dump?: boolean; offThread?: boolean | 'auto' } = {}): Promise<Buffer[]> {
    const desc = this.requireOp(op);
    const bytes = encodeAttrs(family, desc.attributeSet, attrs).finish();
    const reply = !opts.dump && (desc.do?.reply?.attributes.length ?? 0) > 0;
    return this.sock.request(desc.value, bytes, {
      op: desc.name, dump: opts.dump, offThread: opts.offThread, reply, attributes: { family, set: desc.attributeSet },
    });
  }

  /**
   * Throws (before anything is sent) when the socket is closed or this kernel lacks `op`. Calls
   * that read before they write check their write op first, so nothing at all goes out.
   */
  private requireOp(op: keyof typeof Op): (typeof family.operations)[number] {
    if (this.closed) throw new ClosedError('MptcpPm');
    const desc = family.operations.find((o) => o.field === op);
    if (!desc) throw new Error(`unknown op ${op}`);
    if (!this.features.commands[op]) {
      throw new UnsupportedError(`mptcp_pm ${desc.name}`, OP_SINCE[op] ?? 'a later version');
    }
    return desc;
  }

  // ---------------------------------------------------------------- endpoints (kernel PM)

  /**
   * Adds an endpoint (ADD_ADDR) and resolves with it as the kernel stored it, kernel-assigned id
   * included. Needs CAP_NET_ADMIN.
   * @throws ValidationError for input the kernel would refuse; NetlinkError for kernel refusals
   * (EEXIST duplicate address, EBUSY id in use, ERANGE more than 8 endpoints, …).
   * With `{ returnStored: false }` it resolves with nothing once the kernel acknowledged the add,
   * skipping the GET_ADDR dump that finds the stored endpoint (one request instead of two).
   * @example await pm.addEndpoint({ address: '192.0.2.2', flags: ['signal'], port: 8080 })
   * @example await pm.addEndpoint({ address: '192.0.2.3', id: 3, flags: ['subflow'] }, { returnStored: false })
   */
  async addEndpoint(spec: EndpointSpec, options?: { returnStored?: true }): Promise<Endpoint>;
  async addEndpoint(spec: EndpointSpec, options: { returnStored: false }): Promise<void>;
  async addEndpoint(spec: EndpointSpec, options: { returnStored?: boolean } = {}): Promise<Endpoint | void> {
    checkKeys('options', checkObject('options', options), ['returnStored']);
    const returnStored = options.returnStored === undefined ? true : checkBoolean('options.returnStored', options.returnStored);
    const checked = checkEndpointSpec(spec);
    if (checked.ifname !== undefined) {
      checked.wire.ifIdx = this.ns.interfaceIndex(checked.ifname);
      if (!checked.wire.ifIdx) {
        throw new ValidationError('ifname', `no interface named "${checked.ifname}" in ${this.where()}`);
      }
    }
    await this.run('addAddr', { addr: checked.wire });
    if (!returnStored) return;
    // The add succeeded: nothing after this point may turn it into an error. When the endpoint
    // cannot be read back (removed meanwhile by another caller, or the read failed), it resolves
    // with the endpoint as requested; `id` is then the requested one, or 0 when the kernel chose it.
    const requested = (): Endpoint => this.withNames([endpointFromWire({ ...checked.wire, id: checked.wire.id ?? 0 }, 'add-addr')])[0];
    try {
      const stored = (await this.listEndpoints()).find(
        (e) => e.address === canonicalText(checked.address) && (e.port ?? 0) === (checked.wire.port ?? 0),
      );
      return stored ?? requested();
    } catch {
      return requested();
    }
  }

  /**
   * One endpoint by id (GET_ADDR). Needs no privilege.
   * @throws NetlinkError EINVAL "address not found" when no endpoint has this id.
   */
  async getEndpoint(id: number): Promise<Endpoint> {
    checkId('id', id);
    const [reply] = await this.run('getAddr', { addr: { id } });
    return this.withNames([this.decodeEndpoint(reply, 'get-addr')])[0];
  }

  /** All endpoints of the namespace, sorted by id (GET_ADDR dump). Needs no privilege. */
  async listEndpoints(): Promise<Endpoint[]> {
    const replies = await this.run('getAddr', {}, { dump: true });
    return this.withNames(replies.map((r) => this.decodeEndpoint(r, 'get-addr')));
  }

  /**
   * Deletes an endpoint by id or by address (DEL_ADDR). Subflows using it are closed and RM_ADDR
   * is sent. Where the kernel blocks the sender (waiting for RCU), later deletes and flushes go to a
   * worker thread so the event loop stays free.
   * @throws NetlinkError EINVAL "address not found"; EndpointNotFoundError for an unknown address.
   */
  async deleteEndpoint(ref: EndpointRef): Promise<void> {
    this.requireOp('delAddr');
    const id = await this.resolveId(ref, 'deleteEndpoint');
    await this.run('delAddr', { addr: { id } }, { offThread: 'auto' });
  }

  /**
   * Changes the backup and/or fullmesh flag of an endpoint (SET_FLAGS), leaving the other one as
   * it is (the kernel takes both from every request, so the current value is read first).
   * @throws NetlinkError EINVAL "invalid addr flags" for fullmesh on a signal or implicit endpoint.
   */
  async setEndpointFlags(ref: EndpointRef, change: { backup?: boolean; fullmesh?: boolean }): Promise<Endpoint> {
    const c = checkObject('change', change);
    checkKeys('change', c, ['backup', 'fullmesh']);
    if (c.backup === undefined && c.fullmesh === undefined) {
      throw new ValidationError('change', 'give backup and/or fullmesh');
    }
    // Everything is checked before the read, so bad input sends nothing at all.
    const wanted: Partial<Record<'backup' | 'fullmesh', boolean>> = {};
    for (const name of ['backup', 'fullmesh'] as const) {
      if (c[name] !== undefined) wanted[name] = checkBoolean(`change.${name}`, c[name]);
    }
    if (typeof ref === 'number') checkId('id', ref);
    this.requireOp('setFlags');
    const current = await this.findEndpoint(ref, 'setEndpointFlags');
    let bits = current.flags.reduce((m, f) => m | ENDPOINT_FLAGS[f], 0);
    for (const name of ['backup', 'fullmesh'] as const) {
      const on = wanted[name];
      if (on !== undefined) bits = on ? bits | ENDPOINT_FLAGS[name] : bits & ~ENDPOINT_FLAGS[name];
    }
    await this.run('setFlags', { addr: { id: current.id, flags: bits } });
    return this.getEndpoint(current.id);
  }

  /** Removes every endpoint (FLUSH_ADDRS). Limits are kept. Needs CAP_NET_ADMIN. */
  async flushEndpoints(): Promise<void> {
    await this.run('flushAddrs', {}, { offThread: 'auto' });
  }

  // ---------------------------------------------------------------- limits

  /** Current limits (GET_LIMITS). Needs no privilege. */
  async getLimits(): Promise<Limits> {
    const [reply] = await this.run('getLimits', {});
    const a = decodeAttrs<{ rcvAddAddrs?: number; subflows?: number }>(family, 'attr', reply ?? Buffer.alloc(0));
    return { subflows: a.subflows ?? 0, addAddrAccepted: a.rcvAddAddrs ?? 0 };
  }

  /**
   * Sets one or both limits (SET_LIMITS); a limit not given keeps its value. Each is 0–8.
   * @returns the limits now in force.
   */
  async setLimits(limits: Partial<Limits>): Promise<Limits> {
    const l = checkObject('limits', limits);
    checkKeys('limits', l, ['subflows', 'addAddrAccepted']);
    const attrs: Record<string, number> = {};
    if (l.subflows !== undefined) attrs.subflows = checkInt('limits.subflows', l.subflows, 0, LIMIT_MAX);
    if (l.addAddrAccepted !== undefined) {
      attrs.rcvAddAddrs = checkInt('limits.addAddrAccepted', l.addAddrAccepted, 0, LIMIT_MAX);
    }
    await this.run('setLimits', attrs);
    return this.getLimits();
  }

  // ---------------------------------------------------------------- userspace path manager

  /**
   * Chooses the path manager for connections created from now on in this namespace
   * (`net.mptcp.path_manager`, or `pm_type` before 6.15). Needs CAP_NET_ADMIN.
   */
  async setPathManager(type: PathManagerType): Promise<PathManagerType> {
    setPathManager(this.ns, type);
    return getPathManager(this.ns);
  }

  /** The path manager new connections in this namespace get. */
  async getPathManager(): Promise<PathManagerType> {
    return getPathManager(this.ns);
  }

  /**
   * ANNOUNCE: adds a local address (id 1–255) to a userspace-PM connection and sends ADD_ADDR.
   * @throws NetlinkError "invalid token", "userspace PM not selected", "did not match address and id".
   * @example await pm.announce({ token, address: '198.51.100.1', id: 2 })
   */
  announce(spec: us.AnnounceSpec): Promise<void> {
    return us.announce(this, spec);
  }

  /** REMOVE: withdraws local address `id` from a connection (RM_ADDR to the peer). */
  removeAddress(spec: us.RemoveSpec): Promise<void> {
    return us.removeAddress(this, spec);
  }

  /**
   * SUBFLOW_CREATE: opens an MP_JOIN subflow from `local` (id 1–255 required) to `remote`
   * (port required). Resolves once the SYN is sent; a later failure arrives as a `subClosed` event.
   */
  createSubflow(spec: us.SubflowCreateSpec): Promise<void> {
    return us.createSubflow(this, spec);
  }

  /** SUBFLOW_DESTROY: closes the subflow with this exact 4-tuple. @throws NetlinkError ESRCH "subflow not found". */
  destroySubflow(spec: us.SubflowDestroySpec): Promise<void> {
    return us.destroySubflow(this, spec);
  }

  /** SET_FLAGS with a token: sends MP_PRIO so the subflow becomes (or stops being) a backup. */
  setSubflowBackup(spec: us.SubflowBackupSpec): Promise<void> {
    return us.setSubflowBackup(this, spec);
  }

  /** The local addresses of a userspace-PM connection (GET_ADDR dump with a token, Linux 6.9+). */
  listAddresses(token: number): Promise<Endpoint[]> {
    return us.listAddresses(this, token);
  }

  /** One local address of a userspace-PM connection by id (Linux 6.9+). */
  getAddress(token: number, id: number): Promise<Endpoint> {
    return us.getAddress(this, token, id);
  }

  // ---------------------------------------------------------------- helpers

  private decodeEndpoint(reply: Buffer | undefined, what: string): Endpoint {
    const a = decodeAttrs<{ addr?: AddressAttrs }>(family, 'attr', reply ?? Buffer.alloc(0));
    return endpointFromWire(a.addr, what);
  }

  private withNames(eps: Endpoint[]): Endpoint[] {
    for (const ep of eps) {
      if (ep.ifindex) {
        const name = this.ns.interfaceName(ep.ifindex);
        if (name) ep.ifname = name;
      }
    }
    return eps;
  }

  private where(): string {
    return this.netns ? `network namespace "${this.netns}"` : 'this network namespace';
  }

  private async findEndpoint(ref: EndpointRef, fn: string): Promise<Endpoint> {
    if (typeof ref === 'number') return this.getEndpoint(ref);
    const r = checkObject('endpoint', ref);
    checkKeys('endpoint', r, ['address', 'port']);
    const address = checkAddress('endpoint.address', r.address);
    const port = r.port === undefined ? undefined : checkPort('endpoint.port', r.port);
    const canonical = canonicalText(address);
    const all = await this.listEndpoints();
    const hits = all.filter((e) => e.address === canonical && (port === undefined || e.port === port));
    if (hits.length === 1) return hits[0];
    // No port given: like the kernel's own lookup by address, that means the endpoint without one.
    const portless = port === undefined ? hits.filter((e) => e.port === undefined) : [];
    if (portless.length === 1) return portless[0];
    if (hits.length > 1) {
      throw new ValidationError('endpoint.port', `${address} has ${hits.length} endpoints (ports ${hits.map((h) => h.port ?? 'none').join(', ')}); say which port`);
    }
    throw new EndpointNotFoundError(`${fn}: no endpoint with address ${address}${port ? ` port ${port}` : ''} in ${this.where()}`);
  }

  private async resolveId(ref: EndpointRef, fn: string): Promise<number> {
    if (typeof ref === 'number') return checkId('id', ref);
    return (await this.findEndpoint(ref, fn)).id;
  }
}

/** No endpoint matched an address given by the caller. */
export class EndpointNotFoundError extends Error {
  override readonly name = 'EndpointNotFoundError';
  readonly code = 'ENOENT';
}

/** The text the kernel's dumps use for an address (so "2001:DB8::1" finds "2001:db8::1"). */
function canonicalText(address: string): string {
  const w = toWire(address);
  return endpointFromWire({ ...w, id: 1 }, 'address').address;
}

export { NetlinkError };
