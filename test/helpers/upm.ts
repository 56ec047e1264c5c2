// The userspace path-manager framework with the kernelCompatible policy on a topology's client,
// as the kernel tests of that policy start it.

import { UserspacePathManager, policies, type BackoffOptions, type UpmError } from '../../src/index.js';
import type { Topology } from './topology.js';

/**
 * Starts the framework in `t.client` with `kernelCompatible` (its view re-read every `refreshMs`,
 * default 200) and `backoff` (default the policy's own); `cleanup` stops it and closes the policy.
 * The framework's `error` events are collected in `errors`.
 */
export async function startKernelCompatible(
  t: Topology, cleanup: (() => unknown)[], opts: { backoff?: BackoffOptions; refreshMs?: number } = {},
): Promise<{ upm: UserspacePathManager; errors: UpmError[] }> {
  const policy = policies.kernelCompatible({ netns: t.client.name, refreshMs: opts.refreshMs ?? 200 });
  const upm = await UserspacePathManager.start({ netns: t.client.name, policy, backoff: opts.backoff ?? policies.KERNEL_COMPATIBLE_BACKOFF });
  cleanup.push(async () => {
    await upm.stop();
    policy.close();
  });
  const errors: UpmError[] = [];
  upm.on('error', (e) => errors.push(e));
  return { upm, errors };
}
