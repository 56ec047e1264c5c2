// `mptcp-pm -b FILE` / `-batch FILE` [-force]: many commands in one process over one client, read the
// way `ip -batch` reads its file (same lines, same output, same failure lines and exit status).

import { readFileSync } from 'node:fs';
import type { GlobalOptions } from './args.js';
import type { Context } from './context.js';

/**
 * Splits one batch line into words as iproute2's makeargs does: blanks separate, "…" or '…' quote,
 * a `#` at the start of a word ends the line.
 */
export function splitLine(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i])) i++;
    if (i >= line.length || line[i] === '#') break;
    let word = '';
    const quote = line[i] === '"' || line[i] === "'" ? line[i++] : undefined;
    if (quote) {
      const end = line.indexOf(quote, i);
      word = end < 0 ? line.slice(i) : line.slice(i, end);
      i = end < 0 ? line.length : end + 1;
    } else {
      while (i < line.length && !/\s/.test(line[i])) word += line[i++];
    }
    words.push(word);
  }
  return words;
}

/** True when `word` names the `mptcp` object of `ip` ("mp" and longer prefixes; "m" is maddress there). */
function isMptcpObject(word: string): boolean {
  return word.length >= 2 && 'mptcp'.startsWith(word);
}

/** Runs one command's words and resolves with its exit status (the dispatcher's `runWords`). */
export type RunWords = (globals: GlobalOptions, words: readonly string[], ctx: Context) => Promise<number>;

/**
 * Runs every command of the batch, each through `runWords`. Lines are `ip -batch` lines (`mptcp limits show`; any other
 * object word is refused as `ip` refuses it). A refused command prints `Command failed FILE:LINE` and stops the
 * batch unless -force; the status is then 1. A wrong command line ends the batch at once with
 * its status (255, or 1 for a bad address), as `ip` exits there.
 */
export async function runBatch(globals: GlobalOptions, words: readonly string[], ctx: Context, runWords: RunWords): Promise<number> {
  const file = globals.batch as string;
  if (words.length) {
    ctx.err(`Error: a batch takes its commands from ${file}, not from the command line ("${words[0]}").\n`);
    return 255;
  }
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    ctx.err(`Cannot open file "${file}" for reading: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return 1;
  }
  const name = file;
  const lineGlobals: GlobalOptions = { ...globals, batch: undefined, force: undefined };
  let failed = 0;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const [index, line] of lines.entries()) {
    const argv = splitLine(line);
    if (argv.length === 0) continue;
    let status: number;
    if (isMptcpObject(argv[0])) {
      status = await runWords(lineGlobals, argv.slice(1), ctx);
    } else if (argv[0] === 'mptcp-pm') {
      status = await runWords(lineGlobals, argv.slice(1), ctx);
    } else {
      ctx.err(`Object "${argv[0]}" is unknown, try "ip help".\n`);
      status = 2;
    }
    if (status === 0) continue;
    if (status !== 2) return status;
    ctx.err(`Command failed ${name}:${index + 1}\n`);
    failed++;
    if (!globals.force) break;
  }
  return failed ? 1 : 0;
}
