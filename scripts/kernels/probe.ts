// Kernel test tier, guest side: a vitest global setup that writes what MptcpPm's feature probe
// reports for the running kernel to $KERNEL_OUT/features.json (the README's kernel table comes from it).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MptcpPm } from '../../src/index.js';

/** Probes in the test process's own namespace (read-only: the family description and sysctls). */
export async function setup(): Promise<void> {
  const out = process.env.KERNEL_OUT;
  if (!out) return;
  const pm = await MptcpPm.open();
  try {
    writeFileSync(join(out, 'features.json'), `${JSON.stringify(pm.features)}\n`);
  } finally {
    pm.close();
  }
}
