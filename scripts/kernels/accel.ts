// Kernel test tier, host side: which accelerator a guest can use. A /dev/kvm that opens is not proof
// that KVM can boot a guest (a paravirtual host may offer one whose guests never print a line), so
// the kernel is booted once with KVM for a few seconds and KVM is trusted only when the guest's first
// serial line arrives in time; otherwise the tier runs under TCG and says why.

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
  /** The KVM device (a test points this at a file of its own). */
  kvmDevice?: string;
  /** How long KVM gets to print its first serial line. */
  deadlineMs?: number;
}

/** Default bound of the probe: an ordinary guest under KVM prints its first line well within a second. */
export const PROBE_DEADLINE_MS = 15_000;

function deviceUsable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Boots `kernel` under KVM with early serial output and no root file system, and resolves with the
 * milliseconds until the first non-empty line on the serial console, or `undefined` when none came
 * before `deadlineMs` (or qemu ended first). The qemu is killed by its pid either way.
 */
export function firstSerialLine(qemu: string, kernel: string, deadlineMs: number): Promise<{ ms?: number; detail: string }> {
  const args = [
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-accel', 'kvm', '-cpu', 'host', '-smp', '1', '-m', '256M',
    '-serial', 'stdio', '-kernel', kernel,
    '-append', 'console=ttyS0 earlyprintk=serial,ttyS0 panic=-1',
  ];
  const t0 = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    let stderr = '';
    const child = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
    const timer = setTimeout(() => finish(undefined, `no serial line within ${deadlineMs} ms`), deadlineMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (chunk.trim()) finish(Math.round(performance.now() - t0), 'first serial line');
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => {
      stderr += c;
    });
    child.on('error', (e) => finish(undefined, `qemu did not start (${e.message})`));
    child.on('close', (code) => {
      const said = stderr.trim().split('\n')[0];
      finish(undefined, `qemu exited (${code}) before printing${said ? `: ${said}` : ''}`);
    });
  });
}

/**
 * KVM when the device opens and a guest booted with it prints within the deadline; TCG otherwise.
 * Never throws: a probe that cannot run means TCG.
 */
export async function chooseAccelerator(o: ProbeOptions): Promise<Accelerator> {
  const device = o.kvmDevice ?? '/dev/kvm';
  if (!deviceUsable(device)) return { kvm: false, reason: `TCG: ${device} is absent or not usable` };
  const deadline = o.deadlineMs ?? PROBE_DEADLINE_MS;
  const r = await firstSerialLine(o.qemu, o.kernel, deadline);
  if (r.ms !== undefined) return { kvm: true, reason: `KVM: a probe guest printed its first serial line after ${r.ms} ms` };
  return { kvm: false, reason: `TCG: ${device} exists but a KVM guest cannot boot here (${r.detail})` };
}
