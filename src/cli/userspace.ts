// Userspace path-manager commands: `path-manager`, `announce`, `remove`, `subflow create|destroy|
// backup|nobackup` and `addresses`. Tokens are read in hex, as `monitor` and `ip mptcp monitor` print them.

import { pickWord, Words } from './args.js';
import { UsageError } from './usage.js';
import { formatEndpoints, jsonText } from './format.js';
import type { Context } from './context.js';
import type { PathManagerType } from '../index.js';
import { familyOf, isAddress } from '../os/address.js';
import { PM_MAX_ADDR_ID } from '../../generated/mptcp_pm.js';

interface Side { address: string; port?: number }

export type UserspaceAction =
  | { cmd: 'path-manager'; set?: PathManagerType }
  | { cmd: 'announce'; token: number; address: string; id: number; port?: number; dev?: string }
  | { cmd: 'remove'; token: number; id: number }
  | { cmd: 'subflow.create'; token: number; local: Side & { id: number }; remote: Side & { port: number }; backup: boolean; dev?: string }
  | { cmd: 'subflow.destroy'; token: number; local: Side & { port: number }; remote: Side & { port: number } }
  | { cmd: 'subflow.backup'; token: number; local: Side; remote: Side; backup: boolean }
  | { cmd: 'addresses'; token: number };

export function parsePathManager(words: readonly string[]): UserspaceAction {
  if (words.length === 0) return { cmd: 'path-manager' };
  const type = pickWord(words[0], ['kernel', 'userspace'] as const);
  if (!type) throw new UsageError('path-manager', `unknown path manager "${words[0]}"`);
  if (words.length > 1) throw new UsageError('path-manager', `unexpected argument "${words[1]}"`);
  return { cmd: 'path-manager', set: type };
}

export function parseAnnounce(words: readonly string[]): UserspaceAction {
  const w = new Words(words, 'announce');
  let address: string | undefined;
  let id: number | undefined;
  let token: number | undefined;
  let port: number | undefined;
  let dev: string | undefined;
  while (!w.done) {
    const word = w.next() as string;
    const key = pickWord(word, ['id', 'token', 'port', 'dev'] as const);
    if (key === 'id') id = w.number('id', 1, PM_MAX_ADDR_ID);
    else if (key === 'token') token = w.token();
    else if (key === 'port') port = w.number('port', 1, 65535);
    else if (key === 'dev') dev = w.value('dev');
    else if (address === undefined && isAddress(word)) address = word;
    else throw w.fail(`unknown argument "${word}"`);
  }
  if (address === undefined) throw w.fail('ADDRESS is missing');
  if (id === undefined) throw w.fail('id ID is missing (1–255)');
  if (token === undefined) throw w.fail('token TOKEN is missing');
  return { cmd: 'announce', token, address, id, ...(port !== undefined && { port }), ...(dev !== undefined && { dev }) };
}

export function parseRemove(words: readonly string[]): UserspaceAction {
  const w = new Words(words, 'remove');
  let id: number | undefined;
  let token: number | undefined;
  while (!w.done) {
    const word = w.next() as string;
    const key = pickWord(word, ['id', 'token'] as const);
    if (key === 'id') id = w.number('id', 0, 255);
    else if (key === 'token') token = w.token();
    else throw w.fail(`unknown argument "${word}"`);
  }
  if (id === undefined) throw w.fail('id ID is missing');
  if (token === undefined) throw w.fail('token TOKEN is missing');
  return { cmd: 'remove', token, id };
}

export function parseAddresses(words: readonly string[]): UserspaceAction {
  const w = new Words(words, 'addresses');
  let token: number | undefined;
  while (!w.done) {
    const word = w.next() as string;
    if (pickWord(word, ['token'] as const)) token = w.token();
    else throw w.fail(`unknown argument "${word}"`);
  }
  if (token === undefined) throw w.fail('token TOKEN is missing');
  return { cmd: 'addresses', token };
}

type SubKind = 'create' | 'destroy' | 'backup' | 'nobackup';

/** `subflow create|destroy|backup|nobackup …`: `port` and `id` belong to the side named last. */
export function parseSubflow(words: readonly string[]): UserspaceAction {
  const kind = pickWord(words[0], ['create', 'destroy', 'backup', 'nobackup'] as const) as SubKind | undefined;
  if (!kind) {
    throw new UsageError('subflow', words.length ? `unknown subflow command "${words[0]}"` : 'say create, destroy, backup or nobackup');
  }
  const section = kind === 'create' ? 'subflow.create' : kind === 'destroy' ? 'subflow.destroy' : 'subflow.backup';
  const w = new Words(words.slice(1), section);
  let token: number | undefined;
  let side: 'local' | 'remote' | undefined;
  const sides: Record<'local' | 'remote', { address?: string; port?: number; id?: number }> = { local: {}, remote: {} };
  let backup = kind === 'backup';
  let dev: string | undefined;
  while (!w.done) {
    const word = w.next() as string;
    if (kind === 'create' && word === 'backup') {
      backup = true;
      continue;
    }
    const key = pickWord(word, ['token', 'local', 'remote', 'port', 'id', 'dev'] as const);
    if (key === 'token') token = w.token();
    else if (key === 'local' || key === 'remote') {
      side = key;
      sides[key].address = w.address(key);
    } else if (key === 'port') {
      if (!side) throw w.fail('port comes after local ADDRESS or remote ADDRESS');
      if (kind === 'create' && side === 'local') throw w.fail('the local port of a new subflow is chosen by the kernel; port is for remote');
      sides[side].port = w.number('port', 1, 65535);
    } else if (key === 'id' && kind === 'create') sides.local.id = w.number('id', 1, 255);
    else if (key === 'dev' && kind === 'create') dev = w.value('dev');
    else throw w.fail(`unknown argument "${word}"`);
  }
  if (token === undefined) throw w.fail('token TOKEN is missing');
  const { local, remote } = sides;
  if (local.address === undefined) throw w.fail('local ADDRESS is missing');
  if (remote.address === undefined) throw w.fail('remote ADDRESS is missing');
  if (familyOf(local.address) !== familyOf(remote.address)) throw w.fail('local and remote addresses must be of the same family');
  const l = { address: local.address, ...(local.port !== undefined && { port: local.port }) };
  const r = { address: remote.address, ...(remote.port !== undefined && { port: remote.port }) };
  if (kind === 'create') {
    if (local.id === undefined) throw w.fail('id ID (1–255) of the local address is missing');
    if (remote.port === undefined) throw w.fail('remote port PORT is missing');
    return { cmd: 'subflow.create', token, local: { address: local.address, id: local.id }, remote: { address: remote.address, port: remote.port }, backup, ...(dev !== undefined && { dev }) };
  }
  if (kind === 'destroy') {
    if (local.port === undefined) throw w.fail('local port PORT is missing');
    if (remote.port === undefined) throw w.fail('remote port PORT is missing');
    return { cmd: 'subflow.destroy', token, local: { ...l, port: local.port }, remote: { ...r, port: remote.port } };
  }
  return { cmd: 'subflow.backup', token, local: l, remote: r, backup };
}

export async function runUserspace(a: UserspaceAction, ctx: Context): Promise<void> {
  const pm = await ctx.pm();
  switch (a.cmd) {
    case 'path-manager':
      if (a.set) await pm.setPathManager(a.set);
      else {
        const type = await pm.getPathManager();
        ctx.out(ctx.json ? jsonText({ path_manager: type }, ctx.pretty) : `${type}\n`);
      }
      return;
    case 'announce':
      await pm.announce({
        token: a.token, address: a.address, id: a.id,
        ...(a.port !== undefined && { port: a.port }),
        ...(a.dev !== undefined && { ifname: a.dev }),
      });
      return;
    case 'remove':
      await pm.removeAddress({ token: a.token, id: a.id });
      return;
    case 'subflow.create':
      await pm.createSubflow({
        token: a.token,
        local: { ...a.local, ...(a.dev !== undefined && { ifname: a.dev }) },
        remote: a.remote,
        backup: a.backup,
      });
      return;
    case 'subflow.destroy':
      await pm.destroySubflow({ token: a.token, local: a.local, remote: a.remote });
      return;
    case 'subflow.backup':
      await pm.setSubflowBackup({ token: a.token, local: a.local, remote: a.remote, backup: a.backup });
      return;
    case 'addresses':
      ctx.out(formatEndpoints(await pm.listAddresses(a.token), ctx.json, ctx.pretty));
  }
}

export const run = runUserspace;
