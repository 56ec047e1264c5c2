// Command-line words the way iproute2 reads them: keyword prefixes, numbers in C's base-0 notation,
// hex connection tokens, and ip's global options (options.ts) wherever they appear.

import { isAddress } from '../os/address.js';
import { UsageError, type Section } from './usage.js';
import { findGlobalOption, type GlobalOptions } from './options.js';
import { formatToken } from '../mptcp/input/token.js';

export type { GlobalOptions } from './options.js';

/** iproute2's `matches()`: true when `word` is a non-empty prefix of `keyword` ("del" → "delete"). */
export function matches(word: string | undefined, keyword: string): boolean {
  return word !== undefined && word.length > 0 && keyword.startsWith(word);
}

/** The first keyword (in the given order, as iproute2 tests them) that `word` is a prefix of. */
export function pickWord<K extends string>(word: string | undefined, keywords: readonly K[]): K | undefined {
  return keywords.find((k) => matches(word, k));
}

/**
 * An unsigned integer as C's strtoul(…, 0) reads it (`12`, `0x1f`, `017`), at most `max`;
 * undefined for anything else, including a sign or trailing characters.
 */
export function parseUint(text: string | undefined, max: number): number | undefined {
  if (text === undefined) return undefined;
  let value: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) value = parseInt(text.slice(2), 16);
  else if (/^0[0-7]*$/.test(text)) value = parseInt(text, 8);
  else if (/^[1-9][0-9]*$/.test(text)) value = Number(text);
  else return undefined;
  return Number.isSafeInteger(value) && value <= max ? value : undefined;
}

/** A connection token in hex, with or without `0x` (as `ip mptcp monitor` prints it: `token=1a2b3c4d`). */
export function parseToken(text: string | undefined): number | undefined {
  if (text === undefined || !/^(0[xX])?[0-9a-fA-F]{1,8}$/.test(text)) return undefined;
  return parseInt(text.replace(/^0[xX]/, ''), 16);
}

/** A token as iproute2 prints it: eight lower-case hex digits. */
export { formatToken };

/** Reads the words of one command left to right, with usage errors that name its section. */
export class Words {
  private i = 0;
  constructor(private readonly words: readonly string[], readonly section: Section) {}

  get done(): boolean {
    return this.i >= this.words.length;
  }

  peek(): string | undefined {
    return this.words[this.i];
  }

  next(): string | undefined {
    return this.words[this.i++];
  }

  /** The value after keyword `key`, or a usage error saying it is missing. */
  value(key: string): string {
    const v = this.next();
    if (v === undefined) throw this.fail(`"${key}" needs a value`);
    return v;
  }

  /** An unsigned number after `key`, within [min, max]; `expected` says the range the error names (default min–max). */
  number(key: string, min: number, max: number, expected = `${min}–${max}`): number {
    const text = this.value(key);
    const n = parseUint(text, max);
    if (n === undefined || n < min) throw this.fail(`invalid ${key} "${text}" (expected ${expected})`);
    return n;
  }

  token(): number {
    const text = this.value('token');
    const t = parseToken(text);
    if (t === undefined) throw this.fail(`invalid token "${text}" (expected up to 8 hex digits, with or without 0x)`);
    return t;
  }

  address(key: string): string {
    const text = this.value(key);
    if (!isAddress(text)) throw this.fail(`invalid ${key} address "${text}"`);
    return text;
  }

  fail(message: string): UsageError {
    return new UsageError(this.section, message);
  }
}

/** Options that belong to one command and are handed to it as words. */
const COMMAND_OPTIONS = ['--type', '--token', '--rcvbuf', '--json-format', '--listen', '--timeout', '--watch', '--count', '--config', '--policy', '--address', '--backup'];
/** A command's own options without a value (stat -z). */
const COMMAND_FLAGS = ['-z', '--zeros', '--switch'];

/**
 * Splits argv into global options and command words. Options may come before, between or after
 * the words; iproute2's single-dash long forms (`-netns`, `-json`) are accepted too.
 */
export function splitGlobals(argv: readonly string[]): { globals: GlobalOptions; words: string[] } {
  const globals: GlobalOptions = { json: false, help: false };
  const words: string[] = [];
  let human = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-' || (/^-\d/.test(a) && !['-4', '-6', '-0'].includes(a))) {
      words.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(0, eq) : a;
    if (eq < 0 && COMMAND_FLAGS.includes(a)) {
      words.push(a);
      continue;
    }
    if (COMMAND_OPTIONS.includes(name)) {
      // A command's own option (monitor --type/--token): kept, with its value, for that command.
      if (eq >= 0) words.push(name, a.slice(eq + 1));
      else {
        words.push(a);
        if (i + 1 < argv.length) words.push(argv[++i]);
      }
      continue;
    }
    const found = findGlobalOption(a);
    if (!found) throw new UsageError('top', `Option "${a}" is unknown, try "mptcp-pm --help"`, 255, false);
    const { spec } = found;
    if (spec.keywords[0] === '-human' && a === '-h') {
      // ip's -h is -human; after the command's words, or alone, it asks for help.
      if (words.length > 0) globals.help = true;
      else human = true;
      continue;
    }
    let value = '';
    if (spec.value !== undefined) {
      const v = found.inline ?? argv[++i];
      if (v === undefined) throw new UsageError('top', `Error: ${name} needs ${spec.value === 'NAME' ? 'a namespace name' : `a value (${spec.value})`}`, 255, false);
      value = v;
    }
    const problem = spec.apply?.(globals, value);
    if (problem) throw new UsageError('top', problem, 255, false);
  }
  if (human && words.length === 0 && globals.batch === undefined) globals.help = true;
  return { globals, words };
}
