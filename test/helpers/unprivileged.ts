// Running library code without privilege: a TypeScript child as `nobody` with no capabilities,
// inside a test namespace (ip netns exec, then setpriv). It cannot setns itself, so it acts on the
// namespace it runs in.

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { exec, type Result } from './cli.js';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Runs `source` (an ES module in TypeScript; the text `@ENTRY@` stands for the quoted path of the
 * library's entry, src/index.ts) as uid 65534 in namespace `netns`, from the repository root.
 */
export async function runAsNobody(netns: string, source: string, timeoutMs = 30_000): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'mptcppm-unpriv-'));
  try {
    chmodSync(dir, 0o755);
    const child = join(dir, 'child.mts');
    writeFileSync(child, source.replace('@ENTRY@', JSON.stringify(join(ROOT, 'src/index.ts'))), { mode: 0o644 });
    return await exec('ip', ['netns', 'exec', netns, 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups',
      'env', 'HOME=/tmp', 'node', '--import', 'tsx', child], { cwd: ROOT, timeoutMs });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
