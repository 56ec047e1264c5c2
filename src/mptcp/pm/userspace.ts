// Userspace path manager: per-connection commands (announce, remove, subflow create/destroy,
// subflow backup, address listing) with the checks the kernel leaves to its callers.

import { PM_MAX_ADDR_ID, type Address } from '../../../generated/mptcp_pm.js';
import { UnsupportedError, ValidationError } from '../../netlink/core/errors.js';
import { familyOf, toWire } from '../../os/address.js';
import { ENDPOINT_FLAGS, endpointFromWire, type Endpoint } from './endpoint.js';
import {
  checkBoolean, checkId, checkIfname, checkInt, checkIpAddress, checkKeys, checkObject, checkPort, checkToken,
} from '../input/validate.js';
import type { OpRunner } from './runner.js';

/**
 * Addresses are unicast (no wildcard, multicast or broadcast). Where an interface is carried
 * (announce, createSubflow's local side) it is given by `ifname`, `ifindex` or the zone id of a
 * link-local address (`fe80::1%eth0`), and must exist in the namespace.
 */
export interface AnnounceSpec { token: number; address: string; id: number; port?: number; ifindex?: number; ifname?: string }
export interface RemoveSpec { token: number; id: number }
export interface SubflowCreateSpec {
  token: number;
  local: { address: string; id: number; ifindex?: number; ifname?: string };
  remote: { address: string; port: number };
  backup?: boolean;
}
export interface SubflowDestroySpec {
  token: number;
  local: { address: string; port: number };
  remote: { address: string; port: number };
}
export interface SubflowBackupSpec {
  token: number;
  local: { address: string; port?: number };
  remote: { address: string; port?: number };
  backup: boolean;
}

interface Side { address: string; port?: number; id?: number; ifindex?: number; ifname?: string; zone?: string }

/**
 * Checks one side of a subflow (or, with `field` '', the address of an announce): which keys it
 * may have and which it must. Errors name the field as the caller wrote it (`local.port`, `id`).
 * A zone id is accepted only where an interface may be given (`ifindex` allowed).
 */
function side(field: string, value: unknown, allowed: string[], required: string[]): Side {
  const o = checkObject(field || 'address', value);
  const at = (key: string): string => (field ? `${field}.${key}` : key);
  if (field) checkKeys(field, o, allowed);
  const withInterface = allowed.includes('ifindex');
  const { address, zone } = checkIpAddress(at('address'), o.address, { unicast: true, zone: withInterface });
  const s: Side = { address };
  if (zone !== undefined) s.zone = zone;
  if (o.port !== undefined || required.includes('port')) s.port = checkPort(at('port'), o.port);
  if (o.id !== undefined || required.includes('id')) s.id = checkId(at('id'), o.id);
  if (o.ifindex !== undefined) s.ifindex = checkInt(at('ifindex'), o.ifindex, 1, 0x7fffffff);
  if (o.ifname !== undefined) s.ifname = checkIfname(at('ifname'), o.ifname);
  return s;
}

/** Resolves the interface of a side in the namespace (all ways given must agree), before sending. */
function bindInterface(pm: OpRunner, field: string, s: Side): void {
  if (s.ifname === undefined && s.ifindex === undefined && s.zone === undefined) return;
  const at = (key: string): string => (field ? `${field}.${key}` : key);
  const index = pm.resolveInterface({
    ...(s.ifname !== undefined && { ifname: { field: at('ifname'), value: s.ifname } }),
    ...(s.ifindex !== undefined && { ifindex: { field: at('ifindex'), value: s.ifindex } }),
    ...(s.zone !== undefined && { zone: { field: at('address'), value: s.zone } }),
  });
  if (index !== undefined) s.ifindex = index;
}

function sameFamily(local: Side, remote: Side): void {
  if (familyOf(local.address) !== familyOf(remote.address)) {
    throw new ValidationError('remote.address', `must be of the same family as local.address (${local.address} is ${familyOf(local.address)}, ${remote.address} is ${familyOf(remote.address)})`);
  }
}

function wireSide(s: Side, flags?: number): Address {
  const w: Address = { ...toWire(s.address) };
  if (s.id !== undefined) w.id = s.id;
  if (s.port !== undefined) w.port = s.port;
  if (flags !== undefined) w.flags = flags;
  if (s.ifindex !== undefined) w.ifIdx = s.ifindex;
  return w;
}

function tokenOf(o: Record<string, unknown>): number {
  return checkToken('token', o.token);
}

/** ANNOUNCE: adds `address` with `id` (1–255) to the connection and sends ADD_ADDR to the peer. */
export async function announce(pm: OpRunner, spec: AnnounceSpec): Promise<void> {
  pm.assertOpen();
  const o = checkObject('announce', spec);
  checkKeys('announce', o, ['token', 'address', 'id', 'port', 'ifindex', 'ifname']);
  const token = tokenOf(o);
  const s = side('', { address: o.address, id: o.id, port: o.port, ifindex: o.ifindex, ifname: o.ifname }, ['address', 'id', 'port', 'ifindex', 'ifname'], ['id']);
  bindInterface(pm, '', s);
  await pm.run('announce', { token, addr: wireSide(s, ENDPOINT_FLAGS.signal) });
}

/** REMOVE: drops local address `id` from the connection and sends RM_ADDR (id 0: the initial one). */
export async function removeAddress(pm: OpRunner, spec: RemoveSpec): Promise<void> {
  pm.assertOpen();
  const o = checkObject('removeAddress', spec);
  checkKeys('removeAddress', o, ['token', 'id']);
  const token = tokenOf(o);
  const locId = checkInt('id', o.id, 0, PM_MAX_ADDR_ID);
  await pm.run('remove', { token, locId });
}

/**
 * SUBFLOW_CREATE: starts an MP_JOIN from `local` to `remote`. The connect is asynchronous: a
 * later failure arrives only as a `subClosed` event with `error`.
 */
export async function createSubflow(pm: OpRunner, spec: SubflowCreateSpec): Promise<void> {
  pm.assertOpen();
  const o = checkObject('createSubflow', spec);
  checkKeys('createSubflow', o, ['token', 'local', 'remote', 'backup']);
  const token = tokenOf(o);
  const local = side('local', o.local, ['address', 'id', 'ifindex', 'ifname'], ['id']);
  const remote = side('remote', o.remote, ['address', 'port'], ['port']);
  sameFamily(local, remote);
  const backup = o.backup === undefined ? false : checkBoolean('backup', o.backup);
  bindInterface(pm, 'local', local);
  // The kernel runs the join's connect inside sendto: on a worker thread, so the event loop never waits for it.
  await pm.run('subflowCreate', {
    token,
    addr: wireSide(local, backup ? ENDPOINT_FLAGS.backup : 0),
    addrRemote: wireSide(remote),
  }, { offThread: true });
}

/** SUBFLOW_DESTROY: closes the subflow with exactly this 4-tuple (both ports required). */
export async function destroySubflow(pm: OpRunner, spec: SubflowDestroySpec): Promise<void> {
  pm.assertOpen();
  const o = checkObject('destroySubflow', spec);
  checkKeys('destroySubflow', o, ['token', 'local', 'remote']);
  const token = tokenOf(o);
  const local = side('local', o.local, ['address', 'port'], ['port']);
  const remote = side('remote', o.remote, ['address', 'port'], ['port']);
  sameFamily(local, remote);
  await pm.run('subflowDestroy', { token, addr: wireSide(local), addrRemote: wireSide(remote) });
}

/** SET_FLAGS with a token: sends MP_PRIO on the first matching subflow (the peer sees subPriority). */
export async function setSubflowBackup(pm: OpRunner, spec: SubflowBackupSpec): Promise<void> {
  pm.assertOpen();
  const o = checkObject('setSubflowBackup', spec);
  checkKeys('setSubflowBackup', o, ['token', 'local', 'remote', 'backup']);
  const token = tokenOf(o);
  const local = side('local', o.local, ['address', 'port'], []);
  const remote = side('remote', o.remote, ['address', 'port'], []);
  sameFamily(local, remote);
  const backup = checkBoolean('backup', o.backup);
  await pm.run('setFlags', {
    token,
    addr: wireSide(local, backup ? ENDPOINT_FLAGS.backup : 0),
    addrRemote: wireSide(remote),
  });
}

async function needByToken(pm: OpRunner, what: string): Promise<void> {
  if (!(await pm.learnFeatures()).addressesByToken) {
    throw new UnsupportedError(`${what} (GET_ADDR with a token)`, '6.9', 'older kernels ignore the token and answer with in-kernel endpoints');
  }
}

function decodeAddress(pm: OpRunner, reply: Buffer | undefined): Endpoint {
  return endpointFromWire(pm.decodeReply('getAddr', reply).addr, 'get-addr');
}

/** GET_ADDR dump with a token: the connection's local addresses, in the connection's order. */
export async function listAddresses(pm: OpRunner, token: number): Promise<Endpoint[]> {
  pm.assertOpen();
  const t = checkToken('token', token);
  await needByToken(pm, 'listAddresses');
  return (await pm.run('getAddr', { token: t }, { dump: true })).map((r) => decodeAddress(pm, r));
}

/** GET_ADDR with a token: one local address of the connection by id. */
export async function getAddress(pm: OpRunner, token: number, id: number): Promise<Endpoint> {
  pm.assertOpen();
  const t = checkToken('token', token);
  const i = checkId('id', id);
  await needByToken(pm, 'getAddress');
  const [reply] = await pm.run('getAddr', { token: t, addr: { id: i } });
  return decodeAddress(pm, reply);
}
