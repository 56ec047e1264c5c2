// `mptcp-pm endpoint add|delete|change|show|flush`: the words `ip mptcp endpoint` takes (same
// prefixes, same exit statuses), checked before anything is sent, and run through the client.

// Each name used from outside src/cli is one src/index.ts exports (test/cli.test.ts checks); they are
// imported from the modules that define them so that a command loads only what it needs.
import type { EndpointFlag, EndpointSpec } from '../index.js';
import { ENDPOINT_FLAGS } from '../mptcp/pm/endpoint.js';
import { checkIfname } from '../mptcp/input/validate.js';
import { canonicalAddress, isAddress } from '../os/address.js';
import { ValidationError } from '../netlink/core/errors.js';
import { PM_MAX_ADDR_ID } from '../../generated/mptcp_pm.js';
import { pickWord, Words } from './args.js';
import { UsageError } from './usage.js';
import { formatEndpoints } from './format.js';
import type { Context } from './context.js';

export type EndpointAction =
  | { cmd: 'endpoint.add'; spec: EndpointSpec }
  | { cmd: 'endpoint.delete'; id?: number; address?: string; port?: number }
  | { cmd: 'endpoint.change'; id?: number; address?: string; port?: number; backup?: boolean; fullmesh?: boolean }
  | { cmd: 'endpoint.show'; id?: number; address?: string }
  | { cmd: 'endpoint.flush' };

/** Sub-commands in the order iproute2 tries them, so `d` is delete and `s` is show. */
const SUBCOMMANDS = ['add', 'change', 'delete', 'show', 'flush'] as const;
/** Every flag of the generated table but `implicit`, which only the kernel sets. */
const ADD_FLAGS: readonly EndpointFlag[] = (Object.keys(ENDPOINT_FLAGS) as EndpointFlag[]).filter((f) => f !== 'implicit');
const CHANGE_OPTS = ['backup', 'nobackup', 'fullmesh', 'nofullmesh'];
/**
 * Fields of `addEndpoint` that `ip` checks on the command line (it resolves the device first), so a
 * refusal of one is a usage error (255) rather than a refused request (2).
 */
const COMMAND_LINE_FIELDS: ReadonlySet<string> = new Set(['ifname']);

function commandLineError(e: unknown, section: 'endpoint.add'): unknown {
  return e instanceof ValidationError && COMMAND_LINE_FIELDS.has(e.field) ? new UsageError(section, e.message) : e;
}

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
      // `ip mptcp endpoint flush` ignores any words after it; so does this.
      return { cmd: 'endpoint.flush' };
    default:
      throw new UsageError('endpoint', `command "${words[0]}" is unknown`);
  }
}

interface Common { id?: number; address?: string; port?: number; ifname?: string }

/** The words every endpoint command shares: `id`, `dev`, `port` (any prefix), one ADDRESS. */
function common(w: Words, word: string, c: Common, opts: { minId: number; dev: boolean }): boolean {
  const key = pickWord(word, ['id', 'dev', 'port'] as const);
  if (key === 'id') c.id = w.number('id', opts.minId, PM_MAX_ADDR_ID);
  else if (key === 'port') c.port = w.number('port', 0, 65535) || undefined; // port 0: none, as `ip` sends it
  else if (key === 'dev' && opts.dev) c.ifname = w.value('dev');
  else if (key === 'dev') throw w.fail('dev is not used by this command');
  else if (key === undefined && isAddress(word)) c.address = word; // the last ADDRESS counts, as in `ip`
  else return false;
  return true;
}

/** A word that is no keyword: `ip` reads it as an address and exits 1 when it is not one. */
function notAnAddress(w: Words, word: string): UsageError {
  return new UsageError(w.section, `any valid address is expected rather than "${word}"`, 1);
}

function parseAdd(w: Words): EndpointAction {
  const c: Common = {};
  const flags: EndpointFlag[] = [];
  while (!w.done) {
    const word = w.next() as string;
    const flag = ADD_FLAGS.find((f) => f === word);
    if (flag) {
      if (!flags.includes(flag)) flags.push(flag);
    } else if (word === 'nobackup' || word === 'nofullmesh') {
      // `ip` takes these in add too: they clear a flag no new endpoint has.
    } else if (!common(w, word, c, { minId: 0, dev: true })) {
      throw notAnAddress(w, word);
    }
  }
  if (c.address === undefined) throw w.fail('ADDRESS is missing');
  const spec: EndpointSpec = { address: c.address, flags };
  // id 0 asks the kernel to choose one, as giving no id does (`ip` sends it and the kernel picks).
  if (c.id) spec.id = c.id;
  if (c.port !== undefined) spec.port = c.port;
  if (c.ifname !== undefined) spec.ifname = c.ifname;
  // The two rules `ip` checks on the command line (255); the rest is refused when run (2), as the kernel does.
  if (flags.includes('signal') && flags.includes('fullmesh')) throw w.fail('flags mustn\'t have both signal and fullmesh');
  if (spec.port !== undefined && !flags.includes('signal')) throw w.fail('flags must have signal when using port');
  // The rest of the spec is checked once, by addEndpoint; the device name is a command-line word for `ip`.
  if (spec.ifname !== undefined) {
    try {
      checkIfname('ifname', spec.ifname);
    } catch (e) {
      throw commandLineError(e, 'endpoint.add');
    }
  }
  return { cmd: 'endpoint.add', spec };
}

function parseDelete(w: Words): EndpointAction {
  const c: Common = {};
  while (!w.done) {
    const word = w.next() as string;
    if (!common(w, word, c, { minId: 0, dev: false })) throw notAnAddress(w, word);
  }
  if (c.id !== undefined) delete c.port; // with an id `ip` sends the port but the kernel looks up the id only
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
    } else if (!common(w, word, c, { minId: 0, dev: false })) {
      throw notAnAddress(w, word);
    }
  }
  if (c.id === undefined && c.address === undefined) throw w.fail('give id ID or the ADDRESS of the endpoint');
  if (c.id !== undefined && c.port !== undefined) throw w.fail('port cannot be used with id');
  // Without a flag word `ip` sends flags 0, which clears both backup and fullmesh: same here.
  if (a.backup === undefined && a.fullmesh === undefined) return { cmd: 'endpoint.change', ...c, backup: false, fullmesh: false };
  return { cmd: 'endpoint.change', ...c, ...a };
}

/** `show [id ID]`; `ip` also takes an ADDRESS there, and then asks the kernel for id 0 (refused). */
function parseShow(w: Words): EndpointAction {
  let id: number | undefined;
  let address: string | undefined;
  while (!w.done) {
    const word = w.next() as string;
    if (pickWord(word, ['id'] as const)) id = w.number('id', 0, PM_MAX_ADDR_ID);
    else if (isAddress(word)) address = word;
    else throw notAnAddress(w, word);
  }
  if (id === undefined && address === undefined) return { cmd: 'endpoint.show' };
  return { cmd: 'endpoint.show', id: id ?? 0, ...(address !== undefined && { address }) };
}

function sameAddress(a: string, b: string): boolean {
  return canonicalAddress(a) === canonicalAddress(b);
}

/** Runs a parsed endpoint command through the client of `ctx` (kernel refusals propagate). */
export async function runEndpoint(a: EndpointAction, ctx: Context): Promise<void> {
  const pm = await ctx.pm();
  switch (a.cmd) {
    case 'endpoint.add':
      try {
        // Nothing is printed, so nothing is read back: ADD_ADDR is the only request, as with `ip`.
        await pm.addEndpoint(a.spec, { returnStored: false });
      } catch (e) {
        // An unknown device is a command-line error for `ip` (it resolves the name first).
        throw commandLineError(e, 'endpoint.add');
      }
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
      if (a.id === 0) {
        // What `ip` sends for `show id 0` or `show ADDRESS`: the kernel's answer (a refusal) is the result.
        await pm.run('getAddr', { addr: { id: 0 } });
      }
      const eps = a.id === undefined ? await pm.listEndpoints() : [await pm.getEndpoint(a.id)];
      ctx.out(formatEndpoints(eps, ctx.json, ctx.pretty));
      return;
    }
    case 'endpoint.flush':
      await pm.flushEndpoints();
  }
}

export const parse = parseEndpoint;
export const run = runEndpoint;
