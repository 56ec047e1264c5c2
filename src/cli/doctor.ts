// `mptcp-pm doctor`: runs the troubleshooting checks and prints each finding with its meaning and
// fix (`-j`: a JSON array). Exit status 0 when nothing is wrong (info findings alone), 1 otherwise.

import type { Finding } from '../index.js';
import { UsageError } from './usage.js';
import type { Context } from './context.js';

export type DoctorAction = { cmd: 'doctor' };

export function parseDoctor(words: readonly string[]): DoctorAction {
  if (words.length > 0) throw new UsageError('doctor', `unexpected argument "${words[0]}"`);
  return { cmd: 'doctor' };
}

function text(f: Finding): string {
  return `${f.severity.toUpperCase()} ${f.code}: ${f.message}\n${f.fix ? `  fix: ${f.fix}\n` : ''}`;
}

export async function runDoctorCommand(_a: DoctorAction, ctx: Context): Promise<number> {
  const { doctorFailed, runDoctor } = await import('../index.js');
  const found = await runDoctor({ netns: ctx.netns });
  if (ctx.json) ctx.out(`${JSON.stringify(found)}\n`);
  else ctx.out(found.length === 0 ? 'no problem found\n' : found.map(text).join(''));
  return doctorFailed(found) ? 1 : 0;
}
