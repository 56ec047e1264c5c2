// The kernel tier's accelerator choice (scripts/kernels/accel.ts), with a stand-in qemu: a /dev/kvm
// that opens but cannot boot a guest must send the tier to TCG within the probe's deadline — also
// when the guest prints its real-mode setup line and then stalls, as an ordinary kernel does on a
// kvm-pvm host.

import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseAccelerator, PROBE_MARKER } from '../scripts/kernels/accel.js';
import { boot } from '../scripts/kernels/qemu.js';

const dir = mkdtempSync(join(tmpdir(), 'mptcp-pm-accel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A stand-in qemu: records its pid and arguments; with `-accel kvm` it hangs silently, prints the
 * setup code's line and then hangs, or runs the probe's /init (prints its marker), as told.
 */
function standIn(name: string, kvm: 'hangs' | 'stalls' | 'boots'): string {
  const underKvm = {
    hangs: 'exec sleep 60',
    stalls: 'echo "Probing EDD (edd=off to disable)... ok"; exec sleep 60',
    boots: `echo "Linux version 0.0-standin (kvm)"; echo "${PROBE_MARKER}"; exit 0`,
  }[kvm];
  const path = join(dir, name);
  writeFileSync(path, [
    '#!/bin/sh',
    `echo $$ >> ${join(dir, `${name}.pids`)}`,
    `echo "$*" >> ${join(dir, `${name}.args`)}`,
    'case " $* " in',
    `  *" kvm "*) ${underKvm} ;;`,
    'esac',
    'echo "Linux version 0.0-standin (tcg)"',
    'echo "[guest] done"',
    'exit 0',
    '',
  ].join('\n'));
  chmodSync(path, 0o755);
  return path;
}

function fakeKvmDevice(): string {
  const path = join(dir, 'kvm');
  writeFileSync(path, '');
  return path;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return !alive(pid);
}

describe('kernel tier accelerator', () => {
  it('falls back to TCG when /dev/kvm opens but a KVM guest prints nothing, and boots under TCG', async () => {
    const qemu = standIn('hangs', 'hangs');
    const accel = await chooseAccelerator({ qemu, kernel: '/nonexistent/vmlinuz', initrd: 'i', kvmDevice: fakeKvmDevice(), deadlineMs: 1500 });
    expect(accel.kvm).toBe(false);
    expect(accel.reason).toMatch(/^TCG: .* cannot boot here \(its \/init did not run within 1500 ms; no console output\)/);
    // The probe's qemu was started with KVM, and is gone: killed by its pid at the deadline.
    expect(readFileSync(join(dir, 'hangs.args'), 'utf8')).toMatch(/-accel kvm/);
    const pid = Number(readFileSync(join(dir, 'hangs.pids'), 'utf8').trim().split('\n')[0]);
    expect(await waitGone(pid, 5000)).toBe(true);

    const lines: string[] = [];
    const r = await boot({
      qemu, kvm: accel.kvm, kernel: 'k', initrd: 'i', checkout: dir, outDir: dir,
      timeoutMs: 10_000, onLine: (l) => lines.push(l),
    });
    expect(r).toMatchObject({ code: 0, timedOut: false, kvm: false });
    expect(lines).toContain('Linux version 0.0-standin (tcg)');
    expect(readFileSync(join(dir, 'hangs.args'), 'utf8').split('\n')[1]).toMatch(/-accel tcg/);
  });

  it('falls back to TCG when the KVM guest prints its setup line and then stalls before the kernel runs', async () => {
    const qemu = standIn('stalls', 'stalls');
    const accel = await chooseAccelerator({ qemu, kernel: 'k', initrd: 'i', kvmDevice: fakeKvmDevice(), deadlineMs: 1500 });
    expect(accel.kvm).toBe(false);
    expect(accel.reason).toBe('TCG: ' + fakeKvmDevice() + ' exists but a KVM guest cannot boot here (its /init did not run within 1500 ms; last console line: "Probing EDD (edd=off to disable)... ok")');
    // The probe booted the kernel with its initramfs, under KVM.
    expect(readFileSync(join(dir, 'stalls.args'), 'utf8')).toMatch(/-accel kvm .*-initrd i /);
    const pid = Number(readFileSync(join(dir, 'stalls.pids'), 'utf8').trim().split('\n')[0]);
    expect(await waitGone(pid, 5000)).toBe(true);
  });

  it('keeps KVM when the probe guest runs its /init', async () => {
    const accel = await chooseAccelerator({ qemu: standIn('boots', 'boots'), kernel: 'k', initrd: 'i', kvmDevice: fakeKvmDevice(), deadlineMs: 10_000 });
    expect(accel.kvm).toBe(true);
    expect(accel.reason).toMatch(/^KVM: a probe guest ran its \/init after \d+ ms$/);
  });

  it('uses TCG without starting qemu when there is no KVM device', async () => {
    const accel = await chooseAccelerator({ qemu: standIn('unused', 'boots'), kernel: 'k', initrd: 'i', kvmDevice: join(dir, 'no-such-kvm') });
    expect(accel).toEqual({ kvm: false, reason: `TCG: ${join(dir, 'no-such-kvm')} is absent or not usable` });
    expect(existsSync(join(dir, 'unused.pids'))).toBe(false);
  });

  it('falls back to TCG when qemu exits before printing anything', async () => {
    const path = join(dir, 'dies');
    writeFileSync(path, '#!/bin/sh\necho "Could not access KVM kernel module: Permission denied" >&2\nexit 1\n');
    chmodSync(path, 0o755);
    const accel = await chooseAccelerator({ qemu: path, kernel: 'k', initrd: 'i', kvmDevice: fakeKvmDevice(), deadlineMs: 10_000 });
    expect(accel.kvm).toBe(false);
    expect(accel.reason).toContain('qemu exited (1) before its /init ran: Could not access KVM kernel module');
  });
});
