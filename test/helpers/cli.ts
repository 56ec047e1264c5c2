// Running the built command line from tests: `mptcp-pm …` (node dist/src/cli/main.js) or any other
// program as one bounded child process, with its exit status and output; and a shell that finds
// `mptcp-pm` on PATH, for pasting the fixes doctor and explain print.

import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built command line's entry. */
export const MAIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

export interface Result {
  /** Exit status; -1 when the process ended by a signal (its timeout included). */
  status: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Killed after this long (default 30 s). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Runs `cmd args` to its end; never rejects (a failure is in `status` and `stderr`). */
export function exec(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: opts.timeoutMs ?? 30_000, encoding: 'utf8', env: opts.env, cwd: opts.cwd }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** Runs `mptcp-pm args` (the built CLI) to its end. */
export function cli(args: readonly string[], opts: ExecOptions = {}): Promise<Result> {
  return exec(process.execPath, [MAIN, ...args], opts);
}

/**
 * A shell in which `mptcp-pm` is the built CLI, as a user has it on PATH: `sh(command)` runs one
 * pasted line and rejects with its stderr when it fails. Call `remove()` when done.
 */
export function pasteShell(): { sh: (command: string) => Promise<void>; remove: () => void } {
  const bin = mkdtempSync(join(tmpdir(), 'mptcppm-bin-'));
  writeFileSync(join(bin, 'mptcp-pm'), `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" "$@"\n`);
  chmodSync(join(bin, 'mptcp-pm'), 0o755);
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  return {
    sh: async (command) => {
      const r = await exec('sh', ['-c', command], { env });
      if (r.status !== 0) throw new Error(`pasted fix failed: ${command}\n${r.stderr}`);
    },
    remove: () => rmSync(bin, { recursive: true, force: true }),
  };
}
