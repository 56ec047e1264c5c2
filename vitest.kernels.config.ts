// The kernel test tier: the real-kernel test files run once inside each guest kernel by
// `npm run test:kernels` (scripts/kernels/). Small enough for a guest without KVM (TCG).

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * The files of the tier. The diag tests are not in it: they check counters and mptcp_info fields
 * that 6.1 lacks (MPJoinSynTx, bytes_sent) and would need adapting first.
 */
export const KERNEL_TIER = [
  'test/socket.kernel.test.ts',
  'test/client.kernel.test.ts',
  'test/iproute2.kernel.test.ts',
  'test/events.kernel.test.ts',
  'test/events.v6.kernel.test.ts',
  'test/userspace.kernel.test.ts',
  'test/concurrency.kernel.test.ts',
  'test/net.kernel.test.ts',
  'test/net.errors.kernel.test.ts',
  'test/net.events.kernel.test.ts',
  'test/net.register.kernel.test.ts',
];

const scale = Math.max(1, Number(process.env.MPTCPPM_TIME_SCALE) || 1);

export default defineConfig({
  // The checkout is shared read-only with the guest: vite's cache goes to the guest's /tmp.
  cacheDir: join(tmpdir(), 'mptcp-pm-kernels-vite'),
  test: {
    include: KERNEL_TIER,
    globalSetup: ['scripts/kernels/probe.ts'],
    fileParallelism: false,
    // One worker process for the whole tier: each node start costs seconds under emulation.
    maxWorkers: 1,
    // Waits inside the tests grow by MPTCPPM_TIME_SCALE (test/helpers/netns.ts); so does this bound.
    testTimeout: 30_000 * scale,
    hookTimeout: 30_000 * scale,
  },
});
