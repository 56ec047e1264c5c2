// `mptcp-pm route add|del|show`: per-source routing (a rule and a table per source address) through
// SourceRouting, printed like `ip rule`/`ip route` would describe it.

import type { SourceRoute, SourceRouteSpec } from '../index.js';
import { pickWord, Words } from './args.js';
import { UsageError } from './usage.js';
import type { Context } from './context.js';
import { jsonText } from './format.js';

export type RouteAction =
  | { cmd: 'route.add'; spec: SourceRouteSpec }
  | { cmd: 'route.delete'; address: string }
  | { cmd: 'route.show' };

/** Parses the words after `route`; a bare `route` shows. */
export function parseRoute(words: readonly string[]): RouteAction {
  if (words.length === 0) return { cmd: 'route.show' };
  const sub = pickWord(words[0], ['add', 'delete', 'show'] as const);
  if (sub === 'show') {
    if (words.length > 1) throw new UsageError('route.show', `unexpected argument "${words[1]}"`);
    return { cmd: 'route.show' };
  }
  if (sub === 'delete') {
    const w = new Words(words.slice(1), 'route.delete');
    const address = w.address('source');
    if (!w.done) throw w.fail(`unexpected argument "${w.peek()}"`);
    return { cmd: 'route.delete', address };
  }
  if (sub !== 'add') throw new UsageError('route', `unknown route command "${words[0]}"`);
  const w = new Words(words.slice(1), 'route.add');
  const address = w.address('source');
  const spec: Partial<SourceRouteSpec> = { address };
  while (!w.done) {
    const word = w.next() as string;
    const key = pickWord(word, ['dev', 'via', 'table'] as const);
    if (key === 'dev') spec.ifname = w.value('dev');
    else if (key === 'via') spec.gateway = w.address('via');
    else if (key === 'table') spec.table = w.number('table', 1, 0xffffffff);
    else throw w.fail(`unknown argument "${word}"`);
  }
  if (spec.ifname === undefined) throw w.fail('"dev IFNAME" is required');
  return { cmd: 'route.add', spec: spec as SourceRouteSpec };
}

function line(e: SourceRoute): string {
  return `from ${e.address} table ${e.table} dev ${e.ifname || '(no routes)'}${e.gateway ? ` via ${e.gateway}` : ''}\n`;
}

export async function runRoute(a: RouteAction, ctx: Context): Promise<void> {
  const { SourceRouting } = await import('../index.js');
  const rt = await SourceRouting.open({ netns: ctx.netns });
  try {
    if (a.cmd === 'route.show') {
      const list = await rt.list();
      ctx.out(ctx.json ? jsonText(list, ctx.pretty) : list.map(line).join(''));
    } else if (a.cmd === 'route.add') {
      const e = await rt.add(a.spec);
      if (ctx.json) ctx.out(`${JSON.stringify(e)}\n`);
    } else if (!(await rt.remove(a.address))) {
      throw new UsageError('route.delete', `no per-source routing made by mptcp-pm for ${a.address}`);
    }
  } finally {
    rt.close();
  }
}
