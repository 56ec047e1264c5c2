// `mptcp-pm limits set|show`: the words of `ip mptcp limits` (same prefixes; a bare `limits` shows;
// a bare `limits set` sends an empty request, as `ip` does).

import { pickWord, Words } from './args.js';
import { PM_ADDR_MAX } from '../../generated/mptcp_pm.js';
import { UsageError } from './usage.js';
import { formatLimits } from './format.js';
import type { Context } from './context.js';

export type LimitsAction =
  | { cmd: 'limits.show' }
  | { cmd: 'limits.set'; subflows?: number; addAddrAccepted?: number };

/** Values up to u32 are read; the library refuses those above PM_ADDR_MAX (exit 2, like the kernel's refusal under `ip`). */
const LIMIT_MAX = 0xffffffff;
/** What a wrong value is told: the kernel's range, not the u32 the line may carry. */
const KERNEL_RANGE = `0–${PM_ADDR_MAX}`;

/** Parses the words after `limits`. iproute2 tries `set` before `show`, so `s` means set. */
export function parseLimits(words: readonly string[]): LimitsAction {
  if (words.length === 0) return { cmd: 'limits.show' };
  const sub = pickWord(words[0], ['set', 'show'] as const);
  if (sub === 'show') {
    if (words.length > 1) throw new UsageError('limits.show', `unexpected argument "${words[1]}"`);
    return { cmd: 'limits.show' };
  }
  if (sub !== 'set') throw new UsageError('limits', `command "${words[0]}" is unknown`);
  const w = new Words(words.slice(1), 'limits.set');
  const a: LimitsAction = { cmd: 'limits.set' };
  while (!w.done) {
    const word = w.next() as string;
    const key = pickWord(word, ['subflows', 'add_addr_accepted'] as const);
    if (key === 'subflows') a.subflows = w.number('subflows', 0, LIMIT_MAX, KERNEL_RANGE);
    else if (key === 'add_addr_accepted') a.addAddrAccepted = w.number('add_addr_accepted', 0, LIMIT_MAX, KERNEL_RANGE);
    else throw w.fail(`argument "${word}" is wrong: unknown limit`);
  }
  return a;
}

/** Runs `limits show` (GET_LIMITS) or `limits set` (SET_LIMITS) in the context's namespace. */
export async function runLimits(a: LimitsAction, ctx: Context): Promise<void> {
  const pm = await ctx.pm();
  if (a.cmd === 'limits.show') {
    ctx.out(formatLimits(await pm.getLimits(), ctx.json, ctx.pretty));
    return;
  }
  const change: { subflows?: number; addAddrAccepted?: number } = {};
  if (a.subflows !== undefined) change.subflows = a.subflows;
  if (a.addAddrAccepted !== undefined) change.addAddrAccepted = a.addAddrAccepted;
  // Nothing to change: `ip` still sends SET_LIMITS without attributes (a no-op the kernel accepts).
  if (a.subflows === undefined && a.addAddrAccepted === undefined) await pm.run('setLimits', {});
  else await pm.setLimits(change);
}

export const parse = parseLimits;
export const run = runLimits;
