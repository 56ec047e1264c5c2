// Child processes of the demo (the transfer programs run through `ip netns exec`):
// JSON lines read from stdout, bounded waits for a given line, and kill by pid.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/** One JSON line of the transfer program. */
export interface ProcLine {
  event: string;
  t: number;
  [key: string]: unknown;
}

/** `node` arguments that run the sibling module `name` (compiled .js, or .ts through tsx). */
export function siblingScript(name: string): string[] {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return ['--import', 'tsx', here.replace(/proc\.ts$/, `${name}.ts`)];
  return [here.replace(/proc\.js$/, `${name}.js`)];
}

/** A child process whose stdout carries JSON lines. */
export class Proc {
  readonly child: ChildProcess;
  /** Lines received, except `progress` ones. */
  readonly lines: ProcLine[] = [];
  /** `bytes` of the latest `progress` line. */
  progress = 0;
  private stderrText = '';
  private exitCode: number | null | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(readonly label: string, cmd: string, args: string[]) {
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.on('error', (e) => {
      this.stderrText += `${e.message}\n`;
      this.exitCode = null;
      this.notify();
    });
    this.child.stdin?.on('error', () => undefined);
    this.child.stderr?.on('data', (d: Buffer) => {
      if (this.stderrText.length < 4000) this.stderrText += d.toString();
    });
    if (this.child.stdout) {
      createInterface({ input: this.child.stdout }).on('line', (line) => {
        try {
          const v = JSON.parse(line) as ProcLine;
          if (v && typeof v.event === 'string') {
            if (v.event === 'progress') this.progress = Number(v.bytes) || 0;
            else if (this.lines.length < 1000) this.lines.push(v);
          }
        } catch {
          this.stderrText += `${line}\n`;
        }
        this.notify();
      });
    }
    this.child.on('exit', (code) => {
      this.exitCode = code;
      this.notify();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Exit status once exited (null: killed by a signal or never started), undefined while running. */
  get exited(): number | null | undefined {
    return this.exitCode;
  }

  /** What the program wrote on stderr (and stdout lines that were not JSON), trimmed. */
  get stderr(): string {
    return this.stderrText.trim();
  }

  /** The last line with `event`, if any. */
  last(event: string): ProcLine | undefined {
    for (let i = this.lines.length - 1; i >= 0; i--) if (this.lines[i].event === event) return this.lines[i];
    return undefined;
  }

  /** Sends one line to the program's stdin. */
  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /**
   * Resolves with the first line with `event` (also one already received); rejects when the
   * program exits first or after `timeoutMs`.
   */
  waitFor(event: string, timeoutMs: number): Promise<ProcLine> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.lines.find((l) => l.event === event);
        if (hit) {
          done();
          resolve(hit);
          return true;
        }
        const err = this.last('error');
        if (err || this.exitCode !== undefined) {
          done();
          reject(new Error(`${this.label} ${err ? `failed: ${String(err.message)}` : `exited (${this.exitCode})`} before "${event}"${this.stderr ? `: ${this.stderr}` : ''}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.label}: no "${event}" within ${timeoutMs} ms${this.stderr ? ` (${this.stderr})` : ''}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = (): void => void check();
      if (!check()) this.listeners.add(listener);
    });
  }

  /** SIGKILL by pid if still running. */
  kill(): void {
    if (this.exitCode !== undefined || this.child.pid === undefined) return;
    try {
      process.kill(this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}
