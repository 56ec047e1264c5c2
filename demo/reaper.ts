// Cleanup watcher of the demo, run detached: `node reaper.js <demo-pid> <netns>…`. When the demo's
// pipe on stdin closes without "done" (the demo died, even by SIGKILL) it removes the namespaces.

import { removeNamespacesSync } from './sandbox.js';

const MAX_LIFETIME_MS = 15 * 60_000;
const POLL_MS = 1000;

const [pidText, ...names] = process.argv.slice(2);
const parent = Number(pidText);
let released = false;
let finished = false;

function parentAlive(): boolean {
  try {
    process.kill(parent, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function finish(clean: boolean): void {
  if (finished) return;
  finished = true;
  if (clean && !released) removeNamespacesSync(names);
  process.exit(0);
}

if (!Number.isInteger(parent) || parent <= 1 || names.length === 0) process.exit(2);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => undefined);

process.stdin.on('data', (chunk: Buffer) => {
  if (chunk.toString().includes('done')) released = true;
});
process.stdin.on('end', () => finish(true));
process.stdin.on('error', () => finish(true));

// A second, slower way to notice the demo is gone, and a bound on how long this process lives.
const started = Date.now();
const timer = setInterval(() => {
  if (!parentAlive()) finish(true);
  else if (Date.now() - started > MAX_LIFETIME_MS) finish(false);
}, POLL_MS);
timer.unref();
