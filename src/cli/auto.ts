// `mptcp-pm auto --config FILE`: runs the endpoint reconciler with a JSON or YAML policy until
// SIGINT/SIGTERM, printing each change (`-j`: one JSON object per line).

import type { ReconcilerChange, ReconcilerOptions } from '../index.js';
import { Words } from './args.js';
import type { Context } from './context.js';
import { MAX_CONFIG_BYTES, readBounded } from './input.js';

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

/** A policy file that cannot be used as it is (unreadable YAML, a conflict with the command line). */
export class PolicyFileError extends Error {
  override readonly name = 'PolicyFileError';
}

/** Most aliases a YAML policy may use: a real policy needs a few, an alias bomb needs millions. */
const MAX_YAML_ALIASES = 100;

/** JSON when the text parses as JSON, YAML otherwise; YAML errors name the file, line and column. */
async function parsePolicyText(path: string, text: string): Promise<unknown> {
  try {
    return JSON.parse(text);
  } catch {
    // not JSON: YAML below
  }
  const { isAlias, LineCounter, parseDocument, visit } = await import('yaml');
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const first = doc.errors[0];
  if (first) throw Object.assign(first, { message: `${path}: ${first.message}` });
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (e) {
    // Located at the first alias: where the expansion starts.
    let at = '';
    visit(doc, (_key, node) => {
      if (!isAlias(node) || !node.range) return undefined;
      const { line, col } = lines.linePos(node.range[0]);
      at = ` at line ${line}, column ${col}`;
      return visit.BREAK;
    });
    throw new PolicyFileError(`${path}: ${(e as Error).message}${at} (an alias expands beyond ${MAX_YAML_ALIASES} nodes): the file is refused`);
  }
}

/**
 * Reads the policy file (at most {@link MAX_CONFIG_BYTES}): JSON when it parses as JSON, YAML
 * otherwise. `-n` fills in `netns`; a file naming another namespace than `-n` is refused.
 */
export async function loadPolicy(path: string, netns: string | undefined): Promise<ReconcilerOptions> {
  const { checkPolicy } = await import('../index.js');
  const data = await parsePolicyText(path, await readBounded(path, MAX_CONFIG_BYTES, 'config file'));
  const fileNetns = (data as { netns?: unknown } | null)?.netns;
  if (netns !== undefined && fileNetns !== undefined && fileNetns !== netns) {
    throw new PolicyFileError(`${path} says netns ${JSON.stringify(fileNetns)} but the command line says -n ${netns}; give the namespace once, or the same in both`);
  }
  const opts = { ...(data as object), ...(netns !== undefined && fileNetns === undefined ? { netns } : {}) };
  checkPolicy(opts);
  return opts as ReconcilerOptions;
}

function describe(c: ReconcilerChange): string {
  const what = c.kind === 'endpoint'
    ? `endpoint ${c.address} id ${c.id}${c.ifname ? ` dev ${c.ifname}` : ''}${c.flags?.length ? ` ${c.flags.join(' ')}` : ''}`
    : `route from ${c.address} table ${c.table}${c.ifname ? ` dev ${c.ifname}` : ''}${c.gateway ? ` via ${c.gateway}` : ''}`;
  return `${c.action === 'add' ? 'added' : 'removed'} ${what}\n`;
}

/** A refusal for want of privilege (EPERM/EACCES): every later pass would be refused the same way. */
function deniedByKernel(e: Error): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'EPERM' || code === 'EACCES';
}

/**
 * Runs until SIGINT/SIGTERM (status 0). Without the privilege to change endpoints and routes it
 * stops at the first refusal and exits with status 2, naming the capability, rather than failing
 * the same way on every pass.
 */
export async function runAuto(a: AutoAction, ctx: Context): Promise<number> {
  const { EndpointReconciler } = await import('../index.js');
  let policy = await loadPolicy(a.config, ctx.netns);
  let denied: Error | undefined;
  let stop = (): void => undefined;
  const wire = (r: Awaited<ReturnType<typeof EndpointReconciler.start>>): typeof r => {
    r.on('change', (cs) => {
      for (const c of cs) ctx.out(ctx.json ? `${JSON.stringify(c)}\n` : describe(c));
    });
    r.on('error', (e) => {
      if (denied) return;
      if (deniedByKernel(e)) {
        denied = e;
        stop();
      } else {
        ctx.err(`mptcp-pm: ${e.message}\n`);
      }
    });
    r.on('warning', (w) => ctx.err(`mptcp-pm: warning: ${w}\n`));
    r.on('overrun', (n) => ctx.err(`mptcp-pm: ${n} rtnetlink notification(s) lost, resynchronising\n`));
    return r;
  };
  let r = wire(await EndpointReconciler.start(policy));
  // SIGHUP or a change of the file (a ConfigMap update swaps a symlink in its directory): read it
  // again and, when it says something else, follow it. The new reconciler's first pass compares
  // the machine with the new policy and changes only what differs; a bad file keeps the old policy.
  let reloading = Promise.resolve();
  const reload = (why: string): void => {
    reloading = reloading.then(async () => {
      let next: ReconcilerOptions;
      try {
        next = await loadPolicy(a.config, ctx.netns);
      } catch (e) {
        ctx.err(`mptcp-pm: ${why}: ${a.config} not applied, the previous policy stays: ${(e as Error).message}\n`);
        return;
      }
      if (JSON.stringify(next) === JSON.stringify(policy) || denied) return;
      await r.stop();
      policy = next;
      r = wire(await EndpointReconciler.start(policy));
      ctx.err(`mptcp-pm: ${why}: policy reloaded from ${a.config}\n`);
    }).catch((e: unknown) => ctx.err(`mptcp-pm: ${why}: ${(e as Error).message}\n`));
  };
  const onHup = (): void => reload('SIGHUP');
  process.on('SIGHUP', onHup);
  let debounce: ReturnType<typeof setTimeout> | undefined;
  const { watch } = await import('node:fs');
  const { dirname } = await import('node:path');
  const watcher = watch(dirname(a.config), () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => reload('the file changed'), 100);
  });
  ctx.err(`mptcp-pm: following addresses and links${policy.netns ? ` in ${policy.netns}` : ''}; SIGHUP reloads ${a.config}; stop with Ctrl-C\n`);
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    stop = done;
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  process.off('SIGHUP', onHup);
  watcher.close();
  clearTimeout(debounce);
  await reloading;
  await r.stop({ cleanup: a.cleanup && !denied });
  if (denied) {
    const where = policy.netns ? `network namespace ${policy.netns}` : 'this network namespace';
    ctx.err(`Error: auto needs CAP_NET_ADMIN in ${where} (in the user namespace that owns it) to change endpoints and routes; the kernel refused: ${denied.message}\n`);
    return 2;
  }
  return 0;
}
