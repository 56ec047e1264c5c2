// `mptcp-pm demo …`: hands the words to the demo module (src/demo), loaded only when asked for, so
// the command works, and builds, whether or not that module is installed.

import type { Context } from './context.js';

interface DemoModule {
  runDemo(argv: string[]): Promise<number>;
}

/** Where the demo lives, relative to this file (dist/src/cli → dist/src/demo). */
const DEMO_MODULE = '../demo/index.js';

/** Runs the demo with `args`; `moduleUrl` is for tests. Exit status 1 when the module is absent. */
export async function runDemoCommand(args: string[], ctx: Context, moduleUrl?: string): Promise<number> {
  const url = moduleUrl ?? new URL(DEMO_MODULE, import.meta.url).href;
  let mod: Partial<DemoModule>;
  try {
    mod = (await import(url)) as Partial<DemoModule>;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { url?: string };
    const missing = err.code === 'ERR_MODULE_NOT_FOUND' && (err.url === url || String(err.message).includes(new URL(url).pathname));
    if (!missing) throw e;
    ctx.err('mptcp-pm: the demo is not part of this build (no src/demo module)\n');
    return 1;
  }
  if (typeof mod.runDemo !== 'function') {
    ctx.err('mptcp-pm: the demo module does not export runDemo(argv)\n');
    return 1;
  }
  const netnsArgs = ctx.netns !== undefined ? ['--netns', ctx.netns] : [];
  const jsonArgs = ctx.json ? ['--json'] : [];
  return mod.runDemo([...netnsArgs, ...jsonArgs, ...args]);
}
