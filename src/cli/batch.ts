// `mptcp-pm -b FILE` / `-batch FILE` [-force]: many commands in one process over one client, read the
// way `ip -batch` reads its file (same lines, same output, same failure lines and exit status).

import type { GlobalOptions } from './args.js';
import type { Context } from './context.js';
import { InputTooLargeError, MAX_BATCH_LINE, readLines } from './input.js';

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
 * its status (255, or 1 for a bad address), as `ip` exits there. Lines are read one at a time; a
 * line longer than {@link MAX_BATCH_LINE} bytes ends the batch with status 1 and says so.
 */
export async function runBatch(globals: GlobalOptions, words: readonly string[], ctx: Context, runWords: RunWords): Promise<number> {
  const file = globals.batch as string;
  if (words.length) {
    ctx.err(`Error: a batch takes its commands from ${file}, not from the command line ("${words[0]}").\n`);
    return 255;
  }
  const name = file;
  const lineGlobals: GlobalOptions = { ...globals, batch: undefined, force: undefined };
  let failed = 0;
  let index = 0;
  try {
    for await (const line of readLines(file, MAX_BATCH_LINE)) {
      index++;
      const argv = splitLine(line);
      if (argv.length === 0) continue;
      let status: number;
      if (isMptcpObject(argv[0]) || argv[0] === 'mptcp-pm') {
        status = await runWords(lineGlobals, argv.slice(1), ctx);
      } else {
        ctx.err(`Object "${argv[0]}" is unknown, try "ip help".\n`);
        status = 2;
      }
      if (status === 0) continue;
      if (status !== 2) return status;
      ctx.err(`Command failed ${name}:${index}\n`);
      failed++;
      if (!globals.force) break;
    }
  } catch (e) {
    if (e instanceof InputTooLargeError) {
      ctx.err(`Error: ${e.message}.\n`);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    ctx.err(index === 0
      ? `Cannot open file "${file}" for reading: ${err.code ?? err.message}\n`
      : `Error: reading ${file} after line ${index}: ${err.code ?? err.message}\n`);
    return 1;
  }
  return failed ? 1 : 0;
}
