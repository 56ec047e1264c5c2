// Kernel test tier, host side: which accelerator a guest can use. A /dev/kvm that opens is not proof
// that KVM can boot an ordinary guest: a paravirtual host (kvm-pvm, for one) starts the guest, lets
// its real-mode setup code print "Probing EDD ... ok", and then never runs the kernel proper. So the
// kernel is booted once under KVM with a probe initramfs whose /init prints a marker and powers off,
// and KVM is trusted only when that marker arrives in time; otherwise the tier runs under TCG and
// says why.

import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

/** The accelerator chosen for the tier's boots, and why. */
export interface Accelerator {
  kvm: boolean;
  /** One line for the log: what was tried and what it showed. */
  reason: string;
}

/** Options of {@link chooseAccelerator}. */
export interface ProbeOptions {
  /** The qemu binary. */
  qemu: string;
  /** A kernel image to boot for the probe. */
  kernel: string;
  /** An initramfs whose /init prints {@link PROBE_MARKER} on the console and powers off. */
  initrd: string;
  /** The KVM device (a test points this at a file of its own). */
  kvmDevice?: string;
  /** How long a KVM guest gets to reach its /init. */
  deadlineMs?: number;
}

/**
 * Default bound of the probe: an ordinary guest under KVM reaches its /init in a second or two; a
 * TCG boot of the same kernel takes a few seconds, so the bound costs little when KVM cannot boot.
 */
export const PROBE_DEADLINE_MS = 30_000;

/** What the probe's /init prints: only a guest whose kernel ran to userspace can print it. */
export const PROBE_MARKER = 'mptcp-pm-probe: userspace reached';

/** The probe's /init (busybox sh), for {@link buildInitramfs}. */
export const PROBE_INIT = `#!/bin/busybox sh\n/bin/busybox echo "${PROBE_MARKER}"\n/bin/busybox poweroff -f\n`;

function deviceUsable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Boots `kernel` with `initrd` under KVM and resolves with the milliseconds until the probe's marker
 * line, or `undefined` when it did not come before `deadlineMs` (or qemu ended first); `detail` says
 * what was seen instead (the last console line, when there was one). The qemu is killed by its pid
 * either way.
 */
export function probeGuest(qemu: string, kernel: string, initrd: string, deadlineMs: number): Promise<{ ms?: number; detail: string }> {
  const args = [
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-accel', 'kvm', '-cpu', 'host', '-smp', '1', '-m', '256M',
    '-serial', 'stdio', '-kernel', kernel, '-initrd', initrd,
    '-append', 'console=ttyS0 earlyprintk=serial,ttyS0 panic=-1 quiet',
  ];
  const t0 = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    let stderr = '';
    let out = '';
    let last = '';
    const child = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const seen = (): string => (last ? `; last console line: ${JSON.stringify(last.slice(0, 120))}` : '; no console output');
    const finish = (ms: number | undefined, detail: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      resolve({ ms, detail });
    };
    const timer = setTimeout(() => finish(undefined, `its /init did not run within ${deadlineMs} ms${seen()}`), deadlineMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out = (out + chunk).slice(-4096);
      const lines = out.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
      if (lines.length) last = lines[lines.length - 1];
      if (out.includes(PROBE_MARKER)) finish(Math.round(performance.now() - t0), 'marker');
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => {
      stderr += c;
    });
    child.on('error', (e) => finish(undefined, `qemu did not start (${e.message})`));
    child.on('close', (code) => {
      const said = stderr.trim().split('\n')[0];
      finish(undefined, `qemu exited (${code}) before its /init ran${said ? `: ${said}` : seen()}`);
    });
  });
}

/**
 * KVM when the device opens and a guest booted with it runs its /init within the deadline; TCG
 * otherwise. Never throws: a probe that cannot run means TCG.
 */
export async function chooseAccelerator(o: ProbeOptions): Promise<Accelerator> {
  const device = o.kvmDevice ?? '/dev/kvm';
  if (!deviceUsable(device)) return { kvm: false, reason: `TCG: ${device} is absent or not usable` };
  const deadline = o.deadlineMs ?? PROBE_DEADLINE_MS;
  const r = await probeGuest(o.qemu, o.kernel, o.initrd, deadline);
  if (r.ms !== undefined) return { kvm: true, reason: `KVM: a probe guest ran its /init after ${r.ms} ms` };
  return { kvm: false, reason: `TCG: ${device} exists but a KVM guest cannot boot here (${r.detail})` };
}
