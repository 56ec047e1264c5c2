// `mptcp-pm userspace-pm`: runs a built-in path-manager policy in the namespace until SIGINT/SIGTERM,
// printing each thing it does (a line, or NDJSON with -j) and its stats at the end.

import { Words, formatToken } from './args.js';
import type { Context } from './context.js';
import { PathManagerModeError } from '../upm/errors.js';

export const POLICY_NAMES = ['subflow-per-address', 'announce-addresses', 'fullmesh', 'kernel-compatible'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export interface UpmCliAction {
  cmd: 'userspace-pm';
  policy: PolicyName;
  /** Local addresses (with optional ids); default: the namespace's. */
  addresses: { address: string; id?: number }[];
  backup: string[];
  switchPathManager: boolean;
  rcvbuf?: number;
}

export function parseUserspacePm(words: readonly string[]): UpmCliAction {
  const w = new Words(words, 'userspace-pm');
  const a: UpmCliAction = { cmd: 'userspace-pm', policy: 'subflow-per-address', addresses: [], backup: [], switchPathManager: false };
  while (!w.done) {
    const word = (w.next() as string).replace(/^--/, '');
    if (word === 'policy') {
      const p = w.value('--policy');
      if (!(POLICY_NAMES as readonly string[]).includes(p)) throw w.fail(`unknown policy "${p}" (known: ${POLICY_NAMES.join(', ')})`);
      a.policy = p as PolicyName;
    } else if (word === 'address') {
      const address = w.address('--address');
      if (w.peek() === 'id') {
        w.next();
        a.addresses.push({ address, id: w.number('id', 1, 255) });
      } else a.addresses.push({ address });
    } else if (word === 'backup') {
      a.backup.push(w.address('--backup'));
      while (!w.done && /^[0-9a-f.:]+$/i.test(w.peek() as string) && w.peek()!.includes('.') !== w.peek()!.includes(':')) a.backup.push(w.address('--backup'));
    } else if (word === 'switch') {
      a.switchPathManager = true;
    } else if (word === 'rcvbuf') {
      a.rcvbuf = w.number('--rcvbuf', 1, 0x3fffffff);
    } else {
      throw w.fail(`unknown argument "${word}"`);
    }
  }
  return a;
}

/** Runs until SIGINT or SIGTERM (exit 0); start failures (wrong path manager, …) end it with 2, as refusals do. */
export async function runUserspacePm(a: UpmCliAction, ctx: Context): Promise<number> {
  const [{ UserspacePathManager }, policies, { Netns }] = await Promise.all([
    import('../upm/manager.js'), import('../upm/policies/index.js'), import('../os/netns.js'),
  ]);
  const addresses = a.addresses.length > 0 ? a.addresses.map((x) => ({ ...x, backup: a.backup.includes(x.address) })) : undefined;
  const opts = { ...(addresses ? { addresses } : {}), backup: a.backup };
  // Opened once: the policy's view and the framework act on the same namespace, whatever its name does.
  const ns = Netns.open(ctx.netns);
  const kernel = a.policy === 'kernel-compatible' ? policies.kernelCompatible({ netns: ns }) : undefined;
  const policy = kernel ?? (a.policy === 'announce-addresses' ? policies.announceAddresses(addresses ? { addresses } : {})
    : a.policy === 'fullmesh' ? policies.fullmesh(opts) : policies.subflowPerAddress(opts));
  const upm = await UserspacePathManager.start({
    netns: ns, policy, switchPathManager: a.switchPathManager,
    ...(a.rcvbuf === undefined ? {} : { receiveBufferBytes: a.rcvbuf }),
    ...(kernel ? { backoff: policies.KERNEL_COMPATIBLE_BACKOFF } : {}),
  }).catch((e: unknown) => {
    kernel?.close();
    ns.close();
    // The library's remedy names its option; the command's is the --switch flag.
    throw e instanceof PathManagerModeError ? new PathManagerModeError(e.netns, e.current, 'add --switch') : e;
  });
  const line = (o: Record<string, unknown>, text: string): void =>
    ctx.out(ctx.json ? `${JSON.stringify(o)}\n` : `${text}\n`);
  const tok = (t: number | undefined): string => (t === undefined ? '' : ` token=${formatToken(t)}`);
  upm.on('action', (x) => line({ ...x, ...(x.token === undefined ? {} : { token: formatToken(x.token) }) }, `${x.action}${tok(x.token)} ${x.detail}`));
  upm.on('error', (e) => ctx.err(`mptcp-pm: ${e.hook ?? 'error'}${tok(e.token)}: ${e.error.message}\n`));
  line({ action: 'started', policy: a.policy, netns: ctx.netns ?? null }, `started policy=${a.policy}${ctx.netns ? ` netns=${ctx.netns}` : ''}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await upm.stop();
  kernel?.close();
  ns.close();
  const s = upm.stats;
  line({ action: 'stopped', stats: s }, `stopped ${Object.entries(s).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  return 0;
}
