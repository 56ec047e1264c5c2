// `mptcp-pm explain [token TOKEN] [window MS]`: per connection, the subflows it has and should have,
// and for each missing one its cause, the evidence and the fix (`-j`: the explanations as a JSON
// array). MS is how long counters and events are watched first (default 1000). Exit status 0 when
// no subflow is missing, 1 otherwise.

import type { ConnectionExplanation } from '../index.js';
import { pickWord, Words } from './args.js';
import type { Context } from './context.js';

export interface ExplainAction {
  cmd: 'explain';
  token?: number;
  windowMs?: number;
}

export function parseExplain(words: readonly string[]): ExplainAction {
  const w = new Words(words, 'explain');
  const a: ExplainAction = { cmd: 'explain' };
  while (!w.done) {
    const word = w.next() as string;
    const key = pickWord(word, ['token', 'window'] as const);
    if (key === 'token') a.token = w.token();
    else if (key === 'window') a.windowMs = w.number('window', 0, 3_600_000);
    else throw w.fail(`unknown argument "${word}"`);
  }
  return a;
}

const ep = (a: string, port?: number): string => (port === undefined ? a : a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`);

function text(c: ConnectionExplanation): string {
  const lines = [`${c.token ? `token ${c.token}` : 'plain TCP'} ${c.local} -> ${c.remote} (${c.side}, ${c.pathManager} path manager)`];
  for (const s of c.have) lines.push(`  has     ${ep(s.local, s.localPort)} -> ${ep(s.remote, s.remotePort)} ${s.state}${s.ifname ? ` dev ${s.ifname}` : ''}${s.backup ? ' backup' : ''}`);
  for (const e of c.expected.filter((x) => x.present)) lines.push(`  expects ${e.local} -> ${e.remote}${e.endpointId === undefined ? '' : ` (endpoint id ${e.endpointId} ${e.flags.join(' ')})`}: present`);
  for (const m of c.missing) {
    lines.push(`  MISSING ${m.local} -> ${m.remote}: ${m.cause}`, `    because ${m.evidence}`, `    fix: ${m.fix}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function runExplain(a: ExplainAction, ctx: Context): Promise<number> {
  const { explainConnections } = await import('../index.js');
  const found = await explainConnections({ ...(ctx.netns === undefined ? {} : { netns: ctx.netns }), ...(a.token === undefined ? {} : { token: a.token }), ...(a.windowMs === undefined ? {} : { windowMs: a.windowMs }) });
  if (ctx.json) ctx.out(`${JSON.stringify(found)}\n`);
  else ctx.out(found.length === 0 ? 'no established MPTCP connection\n' : found.map(text).join(''));
  return found.some((c) => c.missing.length > 0) ? 1 : 0;
}
