// `npm run test:kernels [-- VERSION…]`: boots each Debian kernel under qemu with the host's root
// shared read-only, runs the kernel test tier inside once, and prints one closing line per kernel.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildInitramfs, BUSYBOX } from './initramfs.js';
import { DEFAULT_VERSIONS, resolvePackage, unpackKernel } from './packages.js';
import { type Accelerator, chooseAccelerator, PROBE_INIT } from './accel.js';
import { boot, QEMU } from './qemu.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CACHE = join(ROOT, '.cache', 'kernels');
/** Bound of one boot (tier included); KERNELS_TIMEOUT_S overrides it. */
const TIMEOUT_S = Number(process.env.KERNELS_TIMEOUT_S ?? 1200);
/** A shell command to run in each guest instead of the tier (for looking around a kernel). */
const GUEST_COMMAND = process.env.KERNELS_GUEST_COMMAND ?? '';
/** How much longer the tests' waits get in the guest: emulation (TCG) is 10–15 times slower. */
function timeScale(a: Accelerator): number {
  return a.kvm ? 2 : 10;
}

/** Decided once per run, with the first kernel unpacked (see accel.ts). */
let accelerator: Accelerator | undefined;

/** What one kernel's run came to. */
interface Outcome {
  label: string;
  release: string;
  passed: number;
  failed: number;
  skipped: number;
  ok: boolean;
  seconds: number;
  features?: Record<string, unknown>;
  problem?: string;
}

interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numFailedTestSuites: number;
  success: boolean;
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

async function runKernel(version: string): Promise<Outcome> {
  const t0 = performance.now();
  const log = (line: string): void => console.log(`[${version}] ${line}`);
  const pkg = resolvePackage(version);
  log(`package ${pkg}`);
  const k = unpackKernel(pkg, CACHE);
  if (!accelerator) {
    const probeDir = mkdtempSync(join(CACHE, 'probe-'));
    try {
      const init = join(probeDir, 'init');
      writeFileSync(init, PROBE_INIT);
      const initrd = join(probeDir, 'initramfs.cpio');
      writeFileSync(initrd, buildInitramfs({ modulesDir: k.modules, init, env: {} }));
      accelerator = await chooseAccelerator({ qemu: QEMU, kernel: k.vmlinuz, initrd });
    } finally {
      rmSync(probeDir, { recursive: true, force: true });
    }
    console.log(`accelerator: ${accelerator.reason}`);
  }
  const accel = accelerator;
  const work = mkdtempSync(join(CACHE, `run-${k.release}-`));
  try {
    const outDir = join(work, 'out');
    mkdirSync(outDir);
    const initrd = join(work, 'initramfs.cpio');
    writeFileSync(initrd, buildInitramfs({
      modulesDir: k.modules,
      init: join(ROOT, 'scripts/kernels/init.sh'),
      env: { CHECKOUT: ROOT, TIME_SCALE: String(timeScale(accel)), GUEST_COMMAND },
    }));
    log(`booting ${k.release} (${accel.kvm ? 'KVM' : 'TCG'}), at most ${TIMEOUT_S} s`);
    const r = await boot({ kernel: k.vmlinuz, initrd, checkout: ROOT, outDir, timeoutMs: TIMEOUT_S * 1000, onLine: log, kvm: accel.kvm });
    const seconds = Math.round((performance.now() - t0) / 1000);
    const release = readText(join(outDir, 'release')) ?? k.release;
    const report = readJson<VitestReport>(join(outDir, 'report.json'));
    const features = readJson<Record<string, unknown>>(join(outDir, 'features.json'));
    const status = readText(join(outDir, 'status'));
    const initFailed = readText(join(outDir, 'init-failed'));
    const base = { label: version, release, seconds, features };
    if (GUEST_COMMAND) {
      return { ...base, passed: 0, failed: 0, skipped: 0, ok: status === '0', problem: `guest command exit ${status ?? 'unknown'}` };
    }
    const problem = r.timedOut ? `timed out after ${TIMEOUT_S} s (qemu killed)`
      : initFailed ? initFailed
      : !report ? `no test report (qemu exit ${r.code}, tier exit ${status ?? 'unknown'})`
      : undefined;
    if (!report) return { ...base, passed: 0, failed: 0, skipped: 0, ok: false, problem };
    const skipped = report.numPendingTests + report.numTodoTests;
    const ok = !problem && status === '0' && report.numFailedTests === 0 && report.numFailedTestSuites === 0
      && skipped === 0 && report.numPassedTests > 0;
    return {
      ...base, passed: report.numPassedTests, failed: report.numFailedTests, skipped, ok,
      problem: problem ?? (ok ? undefined : `tier exit ${status}, ${report.numFailedTestSuites} failed suites`),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const versions = process.argv.slice(2).filter((a) => a !== '--');
  if (!existsSync(BUSYBOX)) {
    console.error(`test:kernels: ${BUSYBOX} is missing: install busybox-static (scripts/debian-packages.txt)`);
    return 1;
  }
  if (!existsSync(join(ROOT, 'node_modules', 'vitest'))) {
    console.error('test:kernels: node_modules is missing: run npm ci first');
    return 1;
  }
  mkdirSync(CACHE, { recursive: true });
  const outcomes: Outcome[] = [];
  for (const v of versions.length ? versions : DEFAULT_VERSIONS) {
    try {
      outcomes.push(await runKernel(v));
    } catch (e) {
      outcomes.push({ label: v, release: v, passed: 0, failed: 0, skipped: 0, ok: false, seconds: 0, problem: (e as Error).message });
    }
  }
  console.log('');
  if (accelerator) console.log(`accelerator: ${accelerator.reason}`);
  for (const o of outcomes) {
    if (o.features) console.log(`${o.release} features: ${JSON.stringify(o.features)}`);
  }
  for (const o of outcomes) {
    console.log(`[${o.label}] ${o.release}: ${o.seconds} s under ${accelerator?.kvm ? 'KVM' : 'TCG'} (download, boot and tier)${o.problem ? `; ${o.problem}` : ''}`);
  }
  for (const o of outcomes) {
    console.log(`${o.release}: ${o.passed} passed, ${o.failed} failed${o.skipped ? `, ${o.skipped} skipped` : ''}`);
  }
  return outcomes.every((o) => o.ok) ? 0 : 1;
}

process.exitCode = await main();
