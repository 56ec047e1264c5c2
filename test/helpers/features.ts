// Test-only: what the running kernel offers, as MptcpPm's feature probe reports it, for kernel tests
// that adapt to older kernels (npm run test:kernels): what a kernel lacks must fail UnsupportedError.

import { expect } from 'vitest';
import { MptcpPm } from '../../src/client.js';
import { UnsupportedError } from '../../src/errors.js';
import type { Features } from '../../src/features.js';

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
