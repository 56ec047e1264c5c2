// The typed async API of the in-kernel path manager (endpoints, limits) and the entry point of
// the userspace path manager (base.ts, userspace.ts), over one generic-netlink socket in one namespace.

import { family, PM_ADDR_MAX, type SetLimitsRequest } from '../../../generated/mptcp_pm.js';
import { GenlSocket } from '../../netlink/genl/socket.js';
import type { FamilyPolicy } from '../../netlink/genl/policy.js';
import { UnsupportedError, ValidationError, NetlinkError } from '../../netlink/core/errors.js';
import { addressKind, canonicalAddress, toWire } from '../../os/address.js';
import {
  bitsToFlags, checkEndpointSpec, endpointFromWire, EndpointNotFoundError, ENDPOINT_FLAGS,
  type Endpoint, type EndpointFlag, type EndpointSpec,
} from './endpoint.js';
import { checkAddress, checkBoolean, checkId, checkInt, checkKeys, checkNetns, checkObject } from '../input/validate.js';
import { Netns } from '../../os/netns.js';
import { type Features, detectFeatures, FLAG_SINCE, probePolicy } from './features.js';
import { MptcpPmBase } from './base.js';
import type { EndpointRef, Limits, MptcpPmOptions } from './types.js';

export type { MptcpPmOptions, Limits, EndpointRef, MptcpPmEvents } from './types.js';

const CHANGEABLE_FLAGS = ['backup', 'fullmesh'] as const satisfies readonly EndpointFlag[];

/**
 * A connection to the `mptcp_pm` generic-netlink family in one network namespace. Every method
 * rejects with ClosedError once {@link close} was called, and with ValidationError (naming the
 * field and the rule) for bad input, before anything is sent.
 *
 * @example
 * const pm = await MptcpPm.open({ netns: 'blue' });
 * await pm.addEndpoint({ address: '192.0.2.2', flags: ['subflow'] });
 * pm.close();
 */
export class MptcpPm extends MptcpPmBase {
  private constructor(sock: GenlSocket, ns: Netns, netns: string | undefined, features: Features, learn?: () => Promise<Features>) {
    super(sock, ns, netns, features, learn);
  }

  /**
   * Opens a socket in `netns` (or the caller's namespace), resolves the family (CTRL_CMD_GETFAMILY)
   * and reads its policies (CTRL_CMD_GETPOLICY) to learn what the kernel offers. Needs no
   * privilege; writes need CAP_NET_ADMIN in the namespace's user namespace.
   * @throws ValidationError for bad options; NetnsError when the namespace does not exist or is not
   * a network namespace; NetlinkError ENOENT when MPTCP is not available in this kernel.
   */
  static async open(options: MptcpPmOptions = {}): Promise<MptcpPm> {
    checkKeys('options', checkObject('options', options), ['netns', 'timeoutMs', 'transport', 'ctrlTransport', 'lazyFeatures']);
    const timeoutMs = options.timeoutMs === undefined ? 5000 : checkInt('timeoutMs', options.timeoutMs, 1, 3_600_000);
    const ns = Netns.open(checkNetns(options.netns));
    try {
      const lazy = options.lazyFeatures === undefined ? false : checkBoolean('lazyFeatures', options.lazyFeatures);
      // One socket, two round trips: GETFAMILY for mptcp_pm, then GETPOLICY to nlctrl (id 0x10),
      // now or when first needed.
      const sock = await GenlSocket.open(family.name, { netns: ns, timeoutMs, transport: options.transport });
      try {
        const features = async (): Promise<Features> => detectFeatures(sock.ops, sock.groups, await policyFor(sock, options, timeoutMs));
        if (lazy) return new MptcpPm(sock, ns, ns.name, detectFeatures(sock.ops, sock.groups, undefined), features);
        return new MptcpPm(sock, ns, ns.name, await features());
      } catch (e) {
        sock.close();
        throw e;
      }
    } catch (e) {
      ns.close();
      throw e;
    }
  }

  // ---------------------------------------------------------------- endpoints (kernel PM)

  /**
   * Adds an endpoint (ADD_ADDR) and resolves with it as the kernel stored it, kernel-assigned id
   * included. Needs CAP_NET_ADMIN. The interface (ifname, ifindex, or the zone id of a link-local
   * address such as `fe80::1%eth0`) must exist in the namespace.
   * A wildcard, multicast or broadcast address is added as the kernel adds it, and said to
   * `warning` listeners (`address-not-unicast`).
   * @throws ValidationError for input the kernel would refuse or misuse (unknown interface, port
   * without signal, …); UnsupportedError for a flag this kernel does not have
   * (it would drop it silently), before sending; NetlinkError for kernel refusals (EEXIST duplicate
   * address, EBUSY id in use, ERANGE more than 8 endpoints, …; older kernels, 6.1 among them,
   * answer EINVAL to all three).
   * With `{ returnStored: false }` it resolves with nothing once the kernel acknowledged the add,
   * skipping the GET_ADDR dump that finds the stored endpoint (one request instead of two).
   * @example await pm.addEndpoint({ address: '192.0.2.2', flags: ['signal'], port: 8080 })
   * @example await pm.addEndpoint({ address: 'fe80::2%eth1', flags: ['subflow'] }, { returnStored: false })
   */
  async addEndpoint(spec: EndpointSpec, options?: { returnStored?: true }): Promise<Endpoint>;
  async addEndpoint(spec: EndpointSpec, options: { returnStored: false }): Promise<void>;
  async addEndpoint(spec: EndpointSpec, options: { returnStored?: boolean } = {}): Promise<Endpoint | void> {
    this.ops.assertOpen();
    checkKeys('options', checkObject('options', options), ['returnStored']);
    const returnStored = options.returnStored === undefined ? true : checkBoolean('options.returnStored', options.returnStored);
    const checked = checkEndpointSpec(spec);
    this.requireFlags(bitsToFlags(checked.wire.flags ?? 0));
    const ifIdx = this.ops.resolveInterface({
      ...(checked.ifname !== undefined && { ifname: { field: 'ifname', value: checked.ifname } }),
      ...(checked.ifindex !== undefined && { ifindex: { field: 'ifindex', value: checked.ifindex } }),
      ...(checked.zone !== undefined && { zone: { field: 'address', value: checked.zone } }),
    });
    if (ifIdx !== undefined) checked.wire.ifIdx = ifIdx;
    await this.ops.run('addAddr', { addr: checked.wire });
    this.warnIfNotUnicast(checked.address);
    this.warnIfDisabled();
    if (!returnStored) return;
    // The add succeeded: nothing after this point may turn it into an error. When the endpoint
    // cannot be read back (removed meanwhile by another caller, or the read failed), it resolves
    // with the endpoint as requested; `id` is then the requested one, or 0 when the kernel chose it.
    const requested = (): Endpoint => this.withNames([endpointFromWire({ ...checked.wire, id: checked.wire.id ?? 0 }, 'add-addr')])[0];
    try {
      const stored = (await this.listEndpoints()).find(
        (e) => e.address === canonicalAddress(checked.address) && (e.port ?? 0) === (checked.wire.port ?? 0),
      );
      return stored ?? requested();
    } catch {
      return requested();
    }
  }

  /** Wildcard, multicast and broadcast endpoints are kept by the kernel but used by no packet: say so. */
  private warnIfNotUnicast(address: string): void {
    const kind = addressKind(address);
    if (kind === 'unicast' || this.listenerCount('warning') === 0) return;
    const what = kind === 'unspecified' ? 'the wildcard (unspecified) address' : `a ${kind} address`;
    this.emit('warning', {
      code: 'address-not-unicast',
      message: `endpoint ${address} is ${what}: the kernel keeps it, but no subflow or ADD_ADDR will use it`,
      fix: 'use a unicast address configured on an interface of the namespace',
    });
  }

  /** Endpoints are accepted with MPTCP disabled, and then do nothing: say so to `warning` listeners. */
  private warnIfDisabled(): void {
    if (this.listenerCount('warning') === 0 || this.mptcpEnabled() !== false) return;
    this.emit('warning', {
      code: 'mptcp-disabled',
      message: `MPTCP is disabled in ${this.netns === undefined ? 'this network namespace' : `network namespace "${this.netns}"`} (net.mptcp.enabled = 0): endpoints are kept but no connection uses MPTCP`,
      fix: `${this.netns === undefined ? '' : `ip netns exec ${this.netns} `}sysctl -w net.mptcp.enabled=1`,
    });
  }

  /**
   * One endpoint by id (GET_ADDR). Needs no privilege.
   * @throws NetlinkError EINVAL "address not found" when no endpoint has this id.
   */
  async getEndpoint(id: number): Promise<Endpoint> {
    this.ops.assertOpen();
    checkId('id', id);
    const [reply] = await this.ops.run('getAddr', { addr: { id } });
    return this.withNames([this.decodeEndpoint(reply, 'get-addr')])[0];
  }

  /** All endpoints of the namespace, sorted by id (GET_ADDR dump). Needs no privilege. */
  async listEndpoints(): Promise<Endpoint[]> {
    const replies = await this.ops.run('getAddr', {}, { dump: true });
    return this.withNames(replies.map((r) => this.decodeEndpoint(r, 'get-addr')));
  }

  /**
   * Deletes an endpoint by id or by address (DEL_ADDR). Subflows using it are closed and RM_ADDR
   * is sent. Where the kernel blocks the sender (waiting for RCU), later deletes and flushes go to a
   * worker thread so the event loop stays free.
   * @throws NetlinkError EINVAL "address not found"; EndpointNotFoundError for an unknown address.
   */
  async deleteEndpoint(ref: EndpointRef): Promise<void> {
    this.ops.requireOp('delAddr');
    const id = await this.resolveId(ref, 'deleteEndpoint');
    await this.ops.run('delAddr', { addr: { id } }, { offThread: 'auto' });
  }

  /**
   * DEL_ADDR with id 0 (what `ip mptcp endpoint delete id 0 ADDRESS` sends): every in-kernel-PM
   * connection whose initial subflow uses `address` sends RM_ADDR for id 0 and closes that subflow.
   * No endpoint is deleted. Needs CAP_NET_ADMIN.
   */
  async deleteInitialAddress(address: string): Promise<void> {
    this.ops.requireOp('delAddr');
    const a = checkAddress('address', address);
    await this.ops.run('delAddr', { addr: { ...toWire(a), id: 0 } }, { offThread: 'auto' });
  }

  /**
   * Changes the backup and/or fullmesh flag of an endpoint (SET_FLAGS), leaving the other one as
   * it is (the kernel takes both from every request, so the current value is read first).
   * @throws NetlinkError EINVAL "invalid addr flags" for fullmesh on a signal or implicit endpoint.
   */
  async setEndpointFlags(ref: EndpointRef, change: { backup?: boolean; fullmesh?: boolean }): Promise<Endpoint> {
    this.ops.assertOpen();
    const c = checkObject('change', change);
    checkKeys('change', c, CHANGEABLE_FLAGS);
    if (CHANGEABLE_FLAGS.every((name) => c[name] === undefined)) {
      throw new ValidationError('change', `give ${CHANGEABLE_FLAGS.join(' and/or ')}`);
    }
    // Everything is checked before the read, so bad input sends nothing at all.
    const wanted: Partial<Record<EndpointFlag, boolean>> = {};
    for (const name of CHANGEABLE_FLAGS) {
      if (c[name] !== undefined) wanted[name] = checkBoolean(`change.${name}`, c[name]);
    }
    if (typeof ref === 'number') checkId('id', ref);
    this.ops.requireOp('setFlags');
    if (wanted.fullmesh) this.requireFlags(['fullmesh']);
    const current = await this.findEndpoint(ref, 'setEndpointFlags');
    let bits = current.flags.reduce((m, f) => m | ENDPOINT_FLAGS[f], 0);
    for (const name of CHANGEABLE_FLAGS) {
      const on = wanted[name];
      if (on !== undefined) bits = on ? bits | ENDPOINT_FLAGS[name] : bits & ~ENDPOINT_FLAGS[name];
    }
    await this.ops.run('setFlags', { addr: { id: current.id, flags: bits } });
    return this.getEndpoint(current.id);
  }

  /** Throws UnsupportedError (before anything is sent) for a flag this kernel would drop. */
  private requireFlags(flags: readonly EndpointFlag[]): void {
    for (const f of flags) {
      if (!this.features.endpointFlags.includes(f)) throw new UnsupportedError(`endpoint flag "${f}"`, FLAG_SINCE[f]);
    }
  }

  /** Removes every endpoint (FLUSH_ADDRS). Limits are kept. Needs CAP_NET_ADMIN. */
  async flushEndpoints(): Promise<void> {
    await this.ops.run('flushAddrs', {}, { offThread: 'auto' });
  }

  // ---------------------------------------------------------------- limits

  /** Current limits (GET_LIMITS). Needs no privilege. */
  async getLimits(): Promise<Limits> {
    const [reply] = await this.ops.run('getLimits', {});
    const a = this.ops.decodeReply('getLimits', reply);
    return { subflows: a.subflows ?? 0, addAddrAccepted: a.rcvAddAddrs ?? 0 };
  }

  /**
   * Sets one or both limits with one SET_LIMITS request; a limit not given keeps its value (the
   * kernel changes only the attributes present). Each is 0–8. Read them back with
   * {@link getLimits}. Needs CAP_NET_ADMIN.
   * @throws ValidationError for an empty object (nothing to set) or a value out of range.
   */
  async setLimits(limits: Partial<Limits>): Promise<void> {
    this.ops.assertOpen();
    const l = checkObject('limits', limits);
    checkKeys('limits', l, ['subflows', 'addAddrAccepted']);
    const attrs: SetLimitsRequest = {};
    if (l.subflows !== undefined) attrs.subflows = checkInt('limits.subflows', l.subflows, 0, PM_ADDR_MAX);
    if (l.addAddrAccepted !== undefined) {
      attrs.rcvAddAddrs = checkInt('limits.addAddrAccepted', l.addAddrAccepted, 0, PM_ADDR_MAX);
    }
    if (attrs.subflows === undefined && attrs.rcvAddAddrs === undefined) {
      throw new ValidationError('limits', 'give subflows and/or addAddrAccepted (nothing to set)');
    }
    await this.ops.run('setLimits', attrs);
  }

}

/**
 * The policies of mptcp_pm: asked on the client's own socket; on a separate nlctrl transport when
 * a test gives one; not at all over a test's fake transport without one.
 */
async function policyFor(sock: GenlSocket, options: MptcpPmOptions, timeoutMs: number): Promise<FamilyPolicy | undefined> {
  if (options.ctrlTransport !== undefined) {
    const ctrl = await GenlSocket.open('nlctrl', { transport: options.ctrlTransport, timeoutMs });
    try {
      return await probePolicy(ctrl);
    } finally {
      ctrl.close();
    }
  }
  return options.transport === undefined ? probePolicy(sock) : undefined;
}

export { EndpointNotFoundError };
export { NetlinkError };
