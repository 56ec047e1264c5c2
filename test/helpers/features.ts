// Test-only: what the running kernel offers, as MptcpPm's feature probe reports it, for kernel tests
// that adapt to older kernels (npm run test:kernels): what a kernel lacks must fail UnsupportedError.

import { expect } from 'vitest';
import { MptcpPm } from '../../src/mptcp/pm/pm.js';
import { UnsupportedError } from '../../src/netlink/core/errors.js';
import type { Features } from '../../src/mptcp/pm/features.js';

let probed: Promise<Features> | undefined;

/** The features of this kernel (probed once, read-only, from the test process's namespace). */
export function kernelFeatures(): Promise<Features> {
  probed ??= MptcpPm.open().then((pm) => {
    pm.close();
    return pm.features;
  });
  return probed;
}

/** Asserts that `p` rejects with UnsupportedError naming the kernel release `since`. */
export async function expectUnsupported(p: Promise<unknown>, since: string): Promise<UnsupportedError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(UnsupportedError);
  expect((err as UnsupportedError).sinceKernel).toBe(since);
  expect((err as Error).message).toContain(`(added in Linux ${since})`);
  return err as UnsupportedError;
}

/**
 * The `sysctl -w` setting that selects path manager `pm` on this kernel: `net.mptcp.path_manager`
 * by name (6.15+) or `net.mptcp.pm_type` by number (0 kernel, 1 userspace) before.
 */
export async function pathManagerSetting(pm: 'kernel' | 'userspace'): Promise<{ key: string; value: string }> {
  const sysctl = (await kernelFeatures()).pathManagerSysctl;
  if (sysctl === null) throw new Error('this kernel has no path-manager sysctl (before 5.19)');
  return sysctl === 'path_manager'
    ? { key: 'net.mptcp.path_manager', value: pm }
    : { key: 'net.mptcp.pm_type', value: pm === 'kernel' ? '0' : '1' };
}
