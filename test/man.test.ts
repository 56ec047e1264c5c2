// The man page and --help come from one source: man/mptcp-pm.8 is what `npm run man` writes from the
// command's tables, every command of the command table has its usage lines and meaning in both, and
// groff reads the page without a warning.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMANDS, runWords } from '../src/cli/dispatch.js';
import { manPage } from '../src/cli/man.js';
import { GLOBAL_OPTIONS } from '../src/cli/options.js';
import { LINES, MEANING, sectionsOf } from '../src/cli/usage.js';
import type { Context } from '../src/cli/context.js';

const MAN = fileURLToPath(new URL('../man/mptcp-pm.8', import.meta.url));

/** What `mptcp-pm WORDS --help` prints on stdout. */
async function help(words: string[]): Promise<string> {
  let out = '';
  const ctx: Context = { netns: undefined, namespaces: [], json: false, out: (t) => void (out += t), err: () => undefined, pm: () => Promise.reject(new Error('no client')) };
  expect(await runWords({ json: false, help: true }, words, ctx)).toBe(0);
  return out;
}

/** The man page as a reader sees it: roff escapes and font changes removed. */
function plain(roff: string): string {
  return roff.replace(/\\f[BIR]/g, '').replace(/\\-/g, '-').replace(/\\e/g, '\\').replace(/\\&/g, '');
}

describe('man page', () => {
  it('is what `npm run man` writes from the command tables (run it after changing a command)', () => {
    expect(readFileSync(MAN, 'utf8')).toBe(manPage());
  });

  it('has every command of the command table, with the usage lines and meanings --help prints', async () => {
    const page = plain(manPage());
    const words = COMMANDS.map((c) => c.word).filter((w) => w !== 'help');
    for (const word of ['connections', 'stat', 'doctor', 'route', 'auto', 'userspace-pm', 'exporter', 'monitor', 'endpoint', 'limits']) expect(words).toContain(word);
    for (const word of words) {
      expect(sectionsOf(word).length, `usage lines of ${word}`).toBeGreaterThan(0);
      expect(page).toContain(`.SS ${word}\n`);
      const text = await help([word]);
      for (const section of sectionsOf(word)) {
        const line = LINES[section];
        expect(text).toContain(line);
        expect(page).toContain(line.replace(/^mptcp-pm /, ''));
      }
      // What the words mean: the same sentences in both (the page's lines are unindented).
      for (const key of [word, ...sectionsOf(word)]) {
        for (const sentence of (MEANING[key] ?? '').split('\n').map((l) => l.trim()).filter(Boolean)) {
          if (key === word) expect(text).toContain(sentence);
          expect(page).toContain(sentence);
        }
      }
    }
    // Every usage line belongs to a command of the table: nothing documented that cannot be run.
    for (const section of Object.keys(LINES)) expect(words).toContain(section.split('.')[0]);
  });

  it('lists every global option with what it does, as --help does', async () => {
    const page = plain(manPage());
    const text = await help([]);
    for (const o of GLOBAL_OPTIONS) {
      expect(page).toContain(o.display);
      expect(text).toContain(o.display);
    }
  });

  it('docs/cli.md\'s global options table has a row for every global option', () => {
    const doc = readFileSync(fileURLToPath(new URL('../docs/cli.md', import.meta.url)), 'utf8');
    const firstCells = doc.slice(doc.indexOf('## Global options')).split('\n').filter((l) => l.startsWith('| `')).map((l) => l.split(' | ')[0]);
    for (const o of GLOBAL_OPTIONS) {
      const spelling = o.display.split(/[, []/)[0];
      expect(firstCells.some((c) => c.includes(`\`${spelling}\``) || c.includes(`\`${spelling} `)), spelling).toBe(true);
    }
  });

  it('groff reads it without a warning', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      execFile('groff', ['-t', '-man', '-ww', '-z', MAN], { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(err) : resolve(stdout + stderr)));
    });
    expect(out).toBe('');
  });
});
