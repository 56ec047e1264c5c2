// `npm run test:selftests [-- --all | GROUP-OPTION… ] [--join-only]`: the kernel's own MPTCP selftests (pm_netlink.sh and
// mptcp_join.sh, in their `-i` mode that drives the path manager with `ip mptcp`), run twice: with
// the real ip, then with an `ip` shim first on PATH that sends `ip mptcp …` to mptcp-pm. Every test
// that passes with ip must pass with mptcp-pm. The closing line counts the mptcp-pm run: tests
// passed, and tests failed that passed with ip.

import { spawn } from 'node:child_process';
import { accessSync, constants, createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostChanges, hostSnapshot, namespaces, removeLeftovers } from './host.js';
import { selftests } from './source.js';
import { compare, count, parseTap, type TestResult } from './tap.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CACHE = join(ROOT, '.cache', 'selftests');
const SHIM_DIR = join(ROOT, 'scripts', 'selftests');
const COMMAND = join(ROOT, 'dist', 'src', 'cli', 'main.js');

/**
 * mptcp_join.sh groups that drive endpoints and limits, run by default (and by CI): subflows under
 * limits, signal endpoints, endpoint removal and the endpoint tests (implicit, delete and re-add,
 * flush). `--all` runs every group.
 */
const CI_GROUPS = ['-f', '-s', '-r', '-I'];

/** One script run: which script, its options, its time bound. */
interface Job {
  script: string;
  args: string[];
  timeoutS: number;
  /** Whether single tests can be run again by name (mptcp_join.sh can, pm_netlink.sh cannot). */
  byName: boolean;
}

interface RunResult {
  results: TestResult[];
  seconds: number;
  status: number | null;
  timedOut: boolean;
}

/**
 * Runs one script in the selftests directory with `ip` as given by `path`, its output to `log`
 * and to a buffer; bounded by the job's timeout (SIGTERM, so the script's own cleanup runs, then
 * SIGKILL to its whole process group).
 */
function runScript(dir: string, job: Job, args: string[], env: NodeJS.ProcessEnv, log: string): Promise<RunResult> {
  const t0 = performance.now();
  return new Promise((done, fail) => {
    const out = createWriteStream(log);
    let text = '';
    const child = spawn('bash', [`./${job.script}`, ...args], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [child.stdout, child.stderr]) {
      s.on('data', (b: Buffer) => {
        text += b.toString();
        out.write(b);
      });
    }
    let timedOut = false;
    let kill: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      kill = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, 15_000);
    }, job.timeoutS * 1000);
    child.on('error', fail);
    child.on('close', (status) => {
      clearTimeout(timer);
      if (kill) clearTimeout(kill);
      out.end();
      done({ results: parseTap(text), seconds: (performance.now() - t0) / 1000, status, timedOut });
    });
  });
}

function environment(shim: boolean): NodeJS.ProcessEnv {
  const path = (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').filter((p) => resolve(p) !== SHIM_DIR);
  return {
    ...process.env,
    PATH: (shim ? [SHIM_DIR, ...path] : path).join(':'),
    MPTCP_PM_BIN: `${process.execPath} ${COMMAND}`,
    NO_COLOR: '1',
  };
}

function describe(label: string, r: RunResult): string {
  const c = count(r.results);
  const end = r.timedOut ? ', stopped at its time bound' : '';
  return `${label}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped in ${r.seconds.toFixed(0)} s${end}`;
}

/** The test name as mptcp_join.sh takes it on its command line (without the "mptcp_join: " prefix). */
function bareName(name: string): string {
  return name.replace(/^[^:]+: /, '');
}

/** Runs a job with ip and with the shim, retries regressions once by name, and returns the mptcp-pm counts. */
async function runJob(dir: string, job: Job, logs: string): Promise<{ passed: number; failed: number; problems: string[] }> {
  const base = job.script.replace(/\.sh$/, '');
  const problems: string[] = [];
  const before = namespaces();
  const ip = await runScript(dir, job, job.args, environment(false), join(logs, `${base}.ip.log`));
  console.log(`${job.script} ${job.args.join(' ')}\n  ${describe('ip      ', ip)}`);
  const cmd = await runScript(dir, job, job.args, environment(true), join(logs, `${base}.mptcp-pm.log`));
  console.log(`  ${describe('mptcp-pm', cmd)}`);
  // A script stopped at its bound may not have cleaned up (it normally does, on any exit).
  if (ip.timedOut || cmd.timedOut) {
    const left = removeLeftovers(before);
    if (left.length) console.log(`  removed namespaces left behind: ${left.join(' ')}`);
  }
  if (ip.results.length === 0) problems.push(`${job.script}: no test result with ip (see ${base}.ip.log)`);
  if (cmd.results.length === 0) problems.push(`${job.script}: no test result with mptcp-pm (see ${base}.mptcp-pm.log)`);

  const cmp = compare(ip.results, cmd.results);
  let regressions = cmp.regressions;
  if (regressions.length && job.byName) {
    // A test that passed with ip and failed with mptcp-pm runs again, alone, both ways: it stays a
    // regression unless mptcp-pm passes it this time.
    console.log(`  again, alone: ${regressions.join('; ')}`);
    const names = regressions.map(bareName);
    const again = await runScript(dir, job, ['-i', ...names], environment(true), join(logs, `${base}.mptcp-pm.again.log`));
    const ipAgain = await runScript(dir, job, ['-i', ...names], environment(false), join(logs, `${base}.ip.again.log`));
    if (again.timedOut || ipAgain.timedOut) removeLeftovers(before);
    const passedAgain = new Set(again.results.filter((r) => r.outcome === 'pass').map((r) => r.name));
    for (const r of ipAgain.results) console.log(`    ip ${r.outcome}, mptcp-pm ${passedAgain.has(r.name) ? 'pass' : 'fail'}: ${r.name}`);
    regressions = regressions.filter((n) => !passedAgain.has(n));
  }
  for (const n of regressions) console.log(`  REGRESSION (passes with ip, fails with mptcp-pm): ${n}`);
  for (const n of cmp.failedWithIp) console.log(`  fails with ip as well (not counted against mptcp-pm): ${n}`);
  const passed = count(cmd.results).passed + cmp.regressions.length - regressions.length;
  if (ip.timedOut || cmd.timedOut) problems.push(`${job.script}: stopped at its ${job.timeoutS} s bound`);
  return { passed, failed: regressions.length, problems };
}

function preflight(): void {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (the scripts create network namespaces)');
  if (!existsSync('/proc/sys/net/mptcp/enabled')) missing.push('a kernel with MPTCP');
  for (const tool of ['cc', 'iptables', 'ip6tables', 'tc', 'ss', 'nstat', 'apt-get', 'dpkg-deb']) {
    const found = (process.env.PATH ?? '').split(':').some((d) => {
      try {
        accessSync(join(d, tool), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
    if (!found) missing.push(tool);
  }
  if (!existsSync(COMMAND)) missing.push(`${COMMAND} (npm run build)`);
  if (missing.length) throw new Error(`cannot run the selftests without: ${missing.join(', ')} (scripts/debian-packages.txt lists the packages)`);
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const all = argv.includes('--all');
  // mptcp_join.sh group options given on the command line (`-- -I -m`) replace the default groups.
  const groups = argv.filter((a) => /^-[A-Za-z0-9]$/.test(a));
  const joinArgs = all ? ['-i'] : ['-i', ...(groups.length ? groups : CI_GROUPS)];
  const skipPmNetlink = argv.includes('--join-only');
  preflight();
  const t0 = performance.now();
  const st = selftests(CACHE);
  console.log(`selftests of linux-source-6.12 ${st.version}, helpers built: ${st.helpers.join(' ')}`);
  const logs = join(CACHE, 'logs');
  mkdirSync(logs, { recursive: true });
  const jobs: Job[] = [
    ...(skipPmNetlink ? [] : [{ script: 'pm_netlink.sh', args: ['-i'], timeoutS: 900, byName: false }]),
    { script: 'mptcp_join.sh', args: joinArgs, timeoutS: all ? 5400 : 1800, byName: true },
  ];
  const host = hostSnapshot();
  let passed = 0;
  let failed = 0;
  const problems: string[] = [];
  for (const job of jobs) {
    const r = await runJob(st.dir, job, logs);
    passed += r.passed;
    failed += r.failed;
    problems.push(...r.problems);
  }
  const changed = hostChanges(host, hostSnapshot());
  if (changed.length) problems.push(`the host namespace changed during the run: ${changed.join(', ')}`);
  for (const p of problems) console.log(`PROBLEM: ${p}`);
  console.log(`logs in ${logs}; ${((performance.now() - t0) / 1000).toFixed(0)} s in all`);
  console.log(`${passed} passed, ${failed + (problems.length && failed === 0 ? 1 : 0)} failed`);
  return failed || problems.length ? 1 : 0;
}

main().then(
  (status) => process.exit(status),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
