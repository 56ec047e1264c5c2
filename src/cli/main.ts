#!/usr/bin/env node
// Entry point of the `mptcp-pm` command: runs the command line, then exits with its status once
// everything written has left the process.

import { runCommandLine } from './dispatch.js';
import { processContext } from './context.js';

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) resolve();
    else stream.write('', () => resolve());
  });
}

async function main(): Promise<void> {
  // A reader that went away (`mptcp-pm monitor | head -1`) is a normal end, not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
  }
  let close = (): void => undefined;
  const status = await runCommandLine(process.argv.slice(2), (g) => {
    const ctx = processContext(g.netns, g.json, g.namespaces, g.pretty);
    close = ctx.close;
    return ctx;
  });
  close();
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(status);
}

void main();
