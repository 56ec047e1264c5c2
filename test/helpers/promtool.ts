// Prometheus's `promtool` (Debian's `prometheus` package), run with its exit status and output kept.

import { execFile } from 'node:child_process';

/** Runs `promtool ARGS` (with `input` on its stdin); resolves with its exit status and stdout+stderr. */
export function promtool(args: string[], opts: { cwd?: string; input?: string } = {}): Promise<{ status: number; out: string }> {
  return new Promise((resolve) => {
    const p = execFile('promtool', args, { cwd: opts.cwd, timeout: 60_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: `${stdout}${stderr}` });
    });
    p.stdin?.end(opts.input ?? '');
  });
}
