// Kernel test tier, host side: one qemu-system-x86_64 boot, the host's root shared read-only over
// virtio 9p, the serial console streamed line by line, bounded by a timeout (the qemu is then killed).

import { spawn } from 'node:child_process';

/** The qemu binary; KERNELS_QEMU names another (a test uses a stand-in). */
export const QEMU = process.env.KERNELS_QEMU || 'qemu-system-x86_64';

/** Options of {@link boot}. */
export interface BootOptions {
  kernel: string;
  initrd: string;
  /** Shared read-only with the guest as mount tag `checkout`. */
  checkout: string;
  /** Shared writable with the guest as mount tag `out`. */
  outDir: string;
  timeoutMs: number;
  /** Called with each line the guest prints on its serial console. */
  onLine: (line: string) => void;
  memory?: string;
  cpus?: number;
  /** Boot with KVM (decided by accel.ts's probe), else TCG. */
  kvm: boolean;
  /** The qemu binary; {@link QEMU} by default. */
  qemu?: string;
}

/** How a boot ended. */
export interface BootResult {
  /** qemu's exit code (null when killed). */
  code: number | null;
  timedOut: boolean;
  ms: number;
  /** Whether KVM was used (else TCG). */
  kvm: boolean;
}

/** The qemu command line for one boot. */
export function qemuArgs(o: BootOptions, kvm: boolean): string[] {
  const share = (path: string, tag: string, readonly: boolean): string[] => [
    '-virtfs', `local,path=${path},mount_tag=${tag},security_model=none,multidevs=remap${readonly ? ',readonly=on' : ''}`,
  ];
  return [
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    ...(kvm ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=multi', '-cpu', 'max']),
    '-smp', String(o.cpus ?? 2), '-m', o.memory ?? '2G',
    '-serial', 'stdio',
    '-kernel', o.kernel, '-initrd', o.initrd,
    '-append', 'console=ttyS0 quiet panic=-1 oops=panic tsc=reliable no_timer_check',
    ...share('/', 'hostroot', true),
    ...share(o.checkout, 'checkout', true),
    ...share(o.outDir, 'out', false),
  ];
}

/**
 * Boots the guest and resolves when qemu exits, or kills that qemu (by its pid) once `timeoutMs`
 * has passed. Rejects only when qemu cannot be started.
 */
export function boot(o: BootOptions): Promise<BootResult> {
  const kvm = o.kvm;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const qemu = o.qemu ?? QEMU;
    const child = spawn(qemu, qemuArgs(o, kvm), { stdio: ['ignore', 'pipe', 'pipe'] });
    let timedOut = false;
    let buf = '';
    const flush = (chunk: string): void => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        o.onLine(buf.slice(0, nl).replace(/\r/g, ''));
        buf = buf.slice(nl + 1);
      }
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', flush);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => flush(c.split('\n').map((l) => (l ? `qemu: ${l}` : l)).join('\n')));
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }, o.timeoutMs);
    const killOnExit = (): void => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    };
    process.once('exit', killOnExit);
    child.on('error', (e) => {
      clearTimeout(timer);
      process.off('exit', killOnExit);
      reject(new Error(`cannot start ${qemu} (${e.message}): install qemu-system-x86 (scripts/debian-packages.txt)`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      process.off('exit', killOnExit);
      if (buf) o.onLine(buf);
      resolve({ code, timedOut, ms: performance.now() - t0, kvm });
    });
  });
}
