// `mptcp-pm doctor`: runs the troubleshooting checks and prints each finding with its meaning and
// fix (`-j`: a JSON array). Exit status 0 when nothing is wrong (info findings alone), 1 otherwise.

import type { Finding } from '../index.js';
import { pickWord, Words } from './args.js';
import type { Context } from './context.js';
import { jsonText } from './format.js';

export type DoctorAction = { cmd: 'doctor'; windowMs?: number };

/** `doctor [window MS]`: MS is how long the counters are watched (default 1000). */
export function parseDoctor(words: readonly string[]): DoctorAction {
  const w = new Words(words, 'doctor');
  const a: DoctorAction = { cmd: 'doctor' };
  while (!w.done) {
    const word = w.next() as string;
    if (pickWord(word, ['window'] as const) === 'window') a.windowMs = w.number('window', 0, 3_600_000);
    else throw w.fail(`unexpected argument "${word}"`);
  }
  return a;
}

function text(f: Finding): string {
  return `${f.severity.toUpperCase()} ${f.code}: ${f.message}\n${f.fix ? `  fix: ${f.fix}\n` : ''}`;
}

export async function runDoctorCommand(a: DoctorAction, ctx: Context): Promise<number> {
  const { doctorFailed, runDoctor } = await import('../index.js');
  const found = await runDoctor({ netns: ctx.netns, ...(a.windowMs === undefined ? {} : { windowMs: a.windowMs }) });
  if (ctx.json) ctx.out(jsonText(found, ctx.pretty));
  else ctx.out(found.length === 0 ? 'no problem found\n' : found.map(text).join(''));
  return doctorFailed(found) ? 1 : 0;
}
