// The walkthrough's check-ups: `mptcp-pm doctor` run through the library on the client namespace,
// its findings printed the way the command prints them.

import { runDoctor } from '../src/index.js';
import type { DemoIo } from './narration.js';

/** Runs the doctor in `netns` and prints each finding with its fix; returns the finding codes. */
export async function checkUp(io: DemoIo, netns: string): Promise<string[]> {
  io.say(`   > await runDoctor({ netns: '${netns}' })   # what \`mptcp-pm -n ${netns} doctor\` prints`);
  const found = await runDoctor({ netns });
  if (found.length === 0) io.say('     no problem found');
  for (const f of found) {
    io.say(`     ${f.severity.toUpperCase()} ${f.code}: ${f.message}`);
    if (f.fix) io.say(`       fix: ${f.fix}`);
  }
  return found.map((f) => f.code);
}
