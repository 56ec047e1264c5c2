// `mptcp-pm demo`: the MPTCP tutorial walkthrough (backup endpoint, limits, per-source routing,
// mptcp-pm/net sockets, events, failover) run and checked in network namespaces of its own, then removed.

import { existsSync } from 'node:fs';
import { Scenario } from './scenario.js';
import {
  hasNetAdminCaps, namespacesOf, removeNamespacesSync, removeStaleNamespaces, sandboxNames,
  startCleanupWatcher, type CleanupWatcher,
} from './sandbox.js';
import { formatSummary, type DemoSummary } from './summary.js';

export type { DemoSummary, PathStats, SubflowSeen, Check } from './summary.js';

const USAGE = `usage: mptcp-pm demo [--userspace] [--json]

Builds a client with an "ethernet" and a "wi-fi" link, a router and a server in network namespaces
of its own, makes wi-fi a backup MPTCP path, runs a real MPTCP transfer, takes ethernet down in the
middle of it and brings it back, and checks the transfer survived. Before that, \`explain\` names the
wi-fi subflow a first connection lacks until per-source routes exist. Everything is removed afterwards.

  --userspace  the client uses the userspace path manager: mptcp-pm's kernelCompatible policy on the
               same endpoints, which re-opens the wi-fi subflow the demo kills mid-transfer (ss -K)
  --json       print only the summary, as JSON, on stdout (the walkthrough goes to stderr)

Exit status: 0 PASS, 1 FAIL or cannot run (needs root: CAP_NET_ADMIN and CAP_SYS_ADMIN), 2 usage.
`;

interface Options {
  json: boolean;
  userspace: boolean;
}

function parseArgs(argv: string[]): Options | string {
  const o: Options = { json: false, userspace: false };
  for (const a of argv) {
    if (a === '--json' || a === '-j') o.json = true;
    else if (a === '--userspace' || a === '-u') o.userspace = true;
    else if (a === '--help' || a === '-h' || a === 'help') return 'help';
    else if (a === '--netns' || a.startsWith('--netns=') || a === '-n') return 'the demo makes its own namespaces; --netns does not apply to it';
    else return `unknown argument ${JSON.stringify(a)}`;
  }
  return o;
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').some((d) => d && existsSync(`${d}/${cmd}`));
}

/** Why the demo cannot run here (one line), or undefined when it can. */
function cannotRun(): string | undefined {
  if (process.platform !== 'linux') return 'the demo needs Linux';
  if (!hasNetAdminCaps()) return 'the demo needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces; try: sudo mptcp-pm demo';
  if (!existsSync('/proc/sys/net/mptcp/enabled')) return 'this kernel has no MPTCP (no /proc/sys/net/mptcp); Linux 5.6 or later built with CONFIG_MPTCP is needed';
  const missing = ['ip', 'tc', 'ss'].filter((c) => !onPath(c));
  if (missing.length) return `the demo needs ${missing.join(', ')} (package iproute2)`;
  return undefined;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const SIGNAL_NUMBER: Record<(typeof SIGNALS)[number], number> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };

/**
 * Runs the demo with the words after `mptcp-pm demo` and resolves with the exit status: 0 when
 * every check passed, 1 when one failed or the demo cannot run here (one line on stderr), 2 for
 * bad arguments. With `--json` only the {@link DemoSummary} goes to stdout.
 *
 * The namespaces it creates (`mptcpdemo-<pid>-client|router|server`) are removed on every way
 * out: at the end, on SIGINT/SIGTERM/SIGHUP, at process exit, and by a detached watcher when the
 * process is killed outright; namespaces left by an earlier killed run are removed at start.
 */
export async function runDemo(argv: string[]): Promise<number> {
  const opts = parseArgs(argv);
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (typeof opts === 'string') {
    process.stderr.write(`mptcp-pm demo: ${opts}\n${USAGE}`);
    return 2;
  }
  const why = cannotRun();
  if (why) {
    process.stderr.write(`mptcp-pm demo: ${why}\n`);
    return 1;
  }

  const out = opts.json ? process.stderr : process.stdout;
  const say = (text: string): void => void out.write(`${text}\n`);
  const started = Date.now();
  const names = sandboxNames();
  const all = [names.client, names.router, names.server];

  say(`mptcp-pm demo: Multipath TCP with a backup path, in a sandbox (${opts.userspace ? 'userspace' : 'in-kernel'} path manager)`);
  const stale = removeStaleNamespaces();
  if (stale.length) say(`(removed ${stale.length} namespace(s) left by an earlier demo that was killed: ${stale.join(', ')})`);

  let scenario: Scenario | undefined;
  let watcher: CleanupWatcher | undefined;
  let cleaned = false;
  const cleanupSync = (): string[] => {
    if (cleaned) return namespacesOf(process.pid);
    cleaned = true;
    scenario?.release();
    for (const pid of scenario?.childPids() ?? []) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    const left = removeNamespacesSync(all);
    if (left.length === 0) watcher?.release();
    return left;
  };
  const onSignal = (sig: (typeof SIGNALS)[number]): void => {
    const left = cleanupSync();
    process.stderr.write(`\nmptcp-pm demo: ${sig}: ${left.length ? `could not remove ${left.join(', ')}` : 'sandbox removed'}\n`);
    process.exit(128 + SIGNAL_NUMBER[sig]);
  };
  const onExit = (): void => void cleanupSync();
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on('exit', onExit);

  let partial: Awaited<ReturnType<Scenario['run']>>;
  try {
    watcher = startCleanupWatcher(all);
    scenario = new Scenario(names, opts.userspace, { say });
    partial = await scenario.run();
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal);
    process.off('exit', onExit);
  }

  say('\n== Cleaning up: the processes and namespaces of the demo are removed');
  for (const n of all) say(`   $ ip netns del ${n}`);
  const left = cleanupSync();
  const gone = left.length === 0 && namespacesOf(process.pid).length === 0;
  const checks = [...partial.checks, {
    name: 'sandbox removed', ok: gone, detail: gone ? `${all.length} namespaces deleted, none left` : `left behind: ${namespacesOf(process.pid).join(', ')}`,
  }];
  const pass = checks.every((c) => c.ok) && partial.error === undefined;
  const { mode, ...rest } = partial;
  const summary: DemoSummary = {
    result: pass ? 'PASS' : 'FAIL',
    exitCode: pass ? 0 : 1,
    mode,
    durationMs: Date.now() - started,
    ...rest,
    checks,
    namespaces: { names: all, removed: gone, left: namespacesOf(process.pid), staleRemoved: stale },
  };
  if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else say(`\n${formatSummary(summary)}`);
  return summary.exitCode;
}
