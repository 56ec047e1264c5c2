// `mptcp-pm auto --config FILE`: runs the endpoint reconciler with a JSON or YAML policy until
// SIGINT/SIGTERM, printing each change (`-j`: one JSON object per line).

import { readFileSync } from 'node:fs';
import type { ReconcilerChange, ReconcilerOptions } from '../index.js';
import { Words } from './args.js';
import type { Context } from './context.js';

export type AutoAction = { cmd: 'auto'; config: string; cleanup: boolean };

export function parseAuto(words: readonly string[]): AutoAction {
  const w = new Words(words, 'auto');
  let config: string | undefined;
  let cleanup = false;
  while (!w.done) {
    const word = w.next() as string;
    if (word === '--config' || word === 'config') config = w.value('--config');
    else if (word === 'cleanup-on-exit') cleanup = true;
    else throw w.fail(`unknown argument "${word}"`);
  }
  if (config === undefined) throw w.fail('--config FILE is required');
  return { cmd: 'auto', config, cleanup };
}

/** Reads the policy file: JSON when it parses as JSON, YAML otherwise. `-n` fills in `netns`. */
export async function loadPolicy(path: string, netns: string | undefined): Promise<ReconcilerOptions> {
  const { checkPolicy } = await import('../index.js');
  const text = readFileSync(path, 'utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = (await import('yaml')).parse(text);
  }
  const opts = { ...(data as object), ...(netns !== undefined && (data as { netns?: string })?.netns === undefined ? { netns } : {}) };
  checkPolicy(opts);
  return opts as ReconcilerOptions;
}

function describe(c: ReconcilerChange): string {
  const what = c.kind === 'endpoint'
    ? `endpoint ${c.address} id ${c.id}${c.ifname ? ` dev ${c.ifname}` : ''}${c.flags?.length ? ` ${c.flags.join(' ')}` : ''}`
    : `route from ${c.address} table ${c.table}${c.ifname ? ` dev ${c.ifname}` : ''}${c.gateway ? ` via ${c.gateway}` : ''}`;
  return `${c.action === 'add' ? 'added' : 'removed'} ${what}\n`;
}

export async function runAuto(a: AutoAction, ctx: Context): Promise<number> {
  const { EndpointReconciler } = await import('../index.js');
  const r = await EndpointReconciler.start(await loadPolicy(a.config, ctx.netns));
  r.on('change', (cs) => {
    for (const c of cs) ctx.out(ctx.json ? `${JSON.stringify(c)}\n` : describe(c));
  });
  r.on('error', (e) => ctx.err(`mptcp-pm: ${e.message}\n`));
  r.on('overrun', (n) => ctx.err(`mptcp-pm: ${n} rtnetlink notification(s) lost, resynchronising\n`));
  ctx.err(`mptcp-pm: following addresses and links${ctx.netns ? ` in ${ctx.netns}` : ''}; stop with Ctrl-C\n`);
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  await r.stop({ cleanup: a.cleanup });
  return 0;
}
