// `mptcp-pm endpoint add|delete|change|show|flush`: the words `ip mptcp endpoint` takes (same
// prefixes), checked before anything is sent, and run through the client.

import {
  ENDPOINT_FLAGS, PM_MAX_ADDR_ID, ValidationError, canonicalAddress, checkEndpointSpec, isAddress, type EndpointFlag, type EndpointSpec,
} from '../index.js';
import { pickWord, Words } from './args.js';
import { UsageError } from './usage.js';
import { formatEndpoints } from './format.js';
import type { Context } from './context.js';

export type EndpointAction =
  | { cmd: 'endpoint.add'; spec: EndpointSpec }
  | { cmd: 'endpoint.delete'; id?: number; address?: string; port?: number }
  | { cmd: 'endpoint.change'; id?: number; address?: string; port?: number; backup?: boolean; fullmesh?: boolean }
  | { cmd: 'endpoint.show'; id?: number }
  | { cmd: 'endpoint.flush' };

/** Sub-commands in the order iproute2 tries them, so `d` is delete and `s` is show. */
const SUBCOMMANDS = ['add', 'change', 'delete', 'show', 'flush'] as const;
/** Every flag of the generated table but `implicit`, which only the kernel sets. */
const ADD_FLAGS: readonly EndpointFlag[] = (Object.keys(ENDPOINT_FLAGS) as EndpointFlag[]).filter((f) => f !== 'implicit');
const CHANGE_OPTS = ['backup', 'nobackup', 'fullmesh', 'nofullmesh'];

/** Parses the words after `endpoint`; a bare `endpoint` is `show`. */
export function parseEndpoint(words: readonly string[]): EndpointAction {
  if (words.length === 0) return { cmd: 'endpoint.show' };
  const sub = pickWord(words[0], SUBCOMMANDS);
  const rest = words.slice(1);
  switch (sub) {
    case 'add': return parseAdd(new Words(rest, 'endpoint.add'));
    case 'change': return parseChange(new Words(rest, 'endpoint.change'));
    case 'delete': return parseDelete(new Words(rest, 'endpoint.delete'));
    case 'show': return parseShow(new Words(rest, 'endpoint.show'));
    case 'flush':
      if (rest.length) throw new UsageError('endpoint.flush', `unexpected argument "${rest[0]}"`);
      return { cmd: 'endpoint.flush' };
    default:
      throw new UsageError('endpoint', `unknown endpoint command "${words[0]}"`);
  }
}

interface Common { id?: number; address?: string; port?: number; ifname?: string }

/** The words every endpoint command shares: `id`, `dev`, `port` (any prefix), one ADDRESS. */
function common(w: Words, word: string, c: Common, opts: { minId: number; dev: boolean }): boolean {
  const key = pickWord(word, ['id', 'dev', 'port'] as const);
  if (key === 'id') c.id = w.number('id', opts.minId, PM_MAX_ADDR_ID);
  else if (key === 'port') c.port = w.number('port', 1, 65535);
  else if (key === 'dev' && opts.dev) c.ifname = w.value('dev');
  else if (key === undefined && isAddress(word)) {
    if (c.address !== undefined) throw w.fail(`a second address "${word}" (one ADDRESS only)`);
    c.address = word;
  } else return false;
  return true;
}

function parseAdd(w: Words): EndpointAction {
  const c: Common = {};
  const flags: EndpointFlag[] = [];
  while (!w.done) {
    const word = w.next() as string;
    const flag = ADD_FLAGS.find((f) => f === word);
    if (flag) {
      if (!flags.includes(flag)) flags.push(flag);
    } else if (word === 'implicit') {
      throw w.fail('"implicit" endpoints are created by the kernel and cannot be added');
    } else if (!common(w, word, c, { minId: 1, dev: true })) {
      throw w.fail(`unknown argument "${word}"`);
    }
  }
  if (c.address === undefined) throw w.fail('ADDRESS is missing');
  const spec: EndpointSpec = { address: c.address, flags };
  if (c.id !== undefined) spec.id = c.id;
  if (c.port !== undefined) spec.port = c.port;
  if (c.ifname !== undefined) spec.ifname = c.ifname;
  try {
    checkEndpointSpec(spec);
  } catch (e) {
    if (e instanceof ValidationError) throw w.fail(e.message);
    throw e;
  }
  return { cmd: 'endpoint.add', spec };
}

function parseDelete(w: Words): EndpointAction {
  const c: Common = {};
  while (!w.done) {
    const word = w.next() as string;
    if (!common(w, word, c, { minId: 0, dev: false })) throw w.fail(`unknown argument "${word}"`);
  }
  if (c.id !== undefined && c.port !== undefined) throw w.fail('port cannot be used with id');
  if (c.id === undefined && c.address === undefined) throw w.fail('give id ID (or the ADDRESS of the endpoint)');
  if (c.id !== undefined && c.id !== 0 && c.address !== undefined) {
    throw w.fail('an ADDRESS goes only with id 0 (for a non-zero id the id alone names the endpoint)');
  }
  if (c.id === 0 && c.address === undefined) throw w.fail('id 0 needs the ADDRESS of the initial subflows');
  return { cmd: 'endpoint.delete', ...c };
}

function parseChange(w: Words): EndpointAction {
  const c: Common = {};
  const a: { backup?: boolean; fullmesh?: boolean } = {};
  while (!w.done) {
    const word = w.next() as string;
    if (CHANGE_OPTS.includes(word)) {
      const on = !word.startsWith('no');
      a[on ? (word as 'backup' | 'fullmesh') : (word.slice(2) as 'backup' | 'fullmesh')] = on;
    } else if (ADD_FLAGS.includes(word as EndpointFlag) || word === 'implicit') {
      throw w.fail(`"${word}" cannot be changed (only backup, nobackup, fullmesh, nofullmesh)`);
    } else if (!common(w, word, c, { minId: 1, dev: false })) {
      throw w.fail(`unknown argument "${word}"`);
    }
  }
  if (c.id === undefined && c.address === undefined) throw w.fail('give id ID or the ADDRESS of the endpoint');
  if (c.id !== undefined && c.port !== undefined) throw w.fail('port cannot be used with id');
  if (a.backup === undefined && a.fullmesh === undefined) throw w.fail('say what to change: backup|nobackup|fullmesh|nofullmesh');
  return { cmd: 'endpoint.change', ...c, ...a };
}

function parseShow(w: Words): EndpointAction {
  let id: number | undefined;
  while (!w.done) {
    const word = w.next() as string;
    if (pickWord(word, ['id'] as const)) id = w.number('id', 1, PM_MAX_ADDR_ID);
    else throw w.fail(`unknown argument "${word}"`);
  }
  return id === undefined ? { cmd: 'endpoint.show' } : { cmd: 'endpoint.show', id };
}

function sameAddress(a: string, b: string): boolean {
  return canonicalAddress(a) === canonicalAddress(b);
}

export async function runEndpoint(a: EndpointAction, ctx: Context): Promise<void> {
  const pm = await ctx.pm();
  switch (a.cmd) {
    case 'endpoint.add':
      await pm.addEndpoint(a.spec);
      return;
    case 'endpoint.delete':
      if (a.id === 0 && a.address !== undefined) {
        // id 0 means the initial subflows' address: the kernel looks for connections using it.
        await pm.deleteInitialAddress(a.address);
      } else if (a.id !== undefined) {
        await pm.deleteEndpoint(a.id);
      } else {
        await pm.deleteEndpoint({ address: a.address as string, port: a.port });
      }
      return;
    case 'endpoint.change': {
      const change = { backup: a.backup, fullmesh: a.fullmesh };
      if (a.id !== undefined) {
        if (a.address !== undefined) {
          const ep = await pm.getEndpoint(a.id);
          if (!sameAddress(ep.address, a.address)) {
            throw new UsageError('endpoint.change', `endpoint id ${a.id} has address ${ep.address}, not ${a.address}`);
          }
        }
        await pm.setEndpointFlags(a.id, change);
      } else {
        await pm.setEndpointFlags({ address: a.address as string, port: a.port }, change);
      }
      return;
    }
    case 'endpoint.show': {
      const eps = a.id === undefined ? await pm.listEndpoints() : [await pm.getEndpoint(a.id)];
      ctx.out(formatEndpoints(eps, ctx.json));
      return;
    }
    case 'endpoint.flush':
      await pm.flushEndpoints();
  }
}
