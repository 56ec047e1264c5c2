// What the command reads from files it is given: a batch line and a policy file are bounded (so
// /dev/zero ends in an error, not in exhausted memory), YAML that cannot be used (an alias bomb) is a
// located refusal like any YAML error, and a policy naming another namespace than -n is refused.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exec, MAIN, type Result } from './helpers/cli.js';
import { InputTooLargeError, readBounded, readLines } from '../src/cli/input.js';

const dir = mkdtempSync(join(tmpdir(), 'mptcppm-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The command in a child process whose data segment is capped, so an unbounded read fails fast instead of eating the machine. */
function cli(args: string[]): Promise<Result> {
  return exec('prlimit', ['--data=1000000000', process.execPath, MAIN, ...args], { timeoutMs: 60_000 });
}

/** Reads all lines it can; the lines read and the error that stopped it, if one did. */
async function readAll(path: string, maxLine: number): Promise<{ lines: string[]; err?: Error }> {
  const lines: string[] = [];
  try {
    for await (const l of readLines(path, maxLine)) lines.push(l);
  } catch (e) {
    return { lines, err: e as Error };
  }
  return { lines };
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Nine levels of nine aliases each: 9^9 strings once expanded. */
function aliasBomb(): string {
  let text = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n';
  let prev = 'a';
  for (const n of 'bcdefghi') {
    text += `${n}: &${n} [${Array(9).fill(`*${prev}`).join(',')}]\n`;
    prev = n;
  }
  return text;
}

describe('bounded reads', () => {
  it('-batch /dev/zero: status 1 and the bound said, not a crash', async () => {
    const r = await cli(['-batch', '/dev/zero']);
    expect(r.stderr).toMatch(/^Error: line 1 of \/dev\/zero is longer than 65536 bytes/);
    expect(r.status).toBe(1);
  }, 70_000);

  it('auto --config /dev/zero: status 2 and the bound said', async () => {
    const r = await cli(['auto', '--config', '/dev/zero']);
    expect(r.stderr).toMatch(/^Error: config file \/dev\/zero is larger than 1048576 bytes/);
    expect(r.status).toBe(2);
  }, 70_000);

  it('readLines yields each line (the last one without newline too) and names the line that is too long', async () => {
    const path = file('lines', `one\n\ntwo words\n${'x'.repeat(200)}\nlast`);
    const { lines, err } = await readAll(path, 100);
    expect(lines).toEqual(['one', '', 'two words']);
    expect(err?.message).toMatch(/^line 4 of .* is longer than 100 bytes/);
    expect(await readAll(file('short', 'one\nlast'), 100)).toEqual({ lines: ['one', 'last'] });
  });

  it('readLines: lines up to the bound pass, split over many chunks', async () => {
    const long = 'y'.repeat(70_000);
    const path = file('chunks', `a\n${long}\nb`);
    expect(await readAll(path, 70_000)).toEqual({ lines: ['a', long, 'b'] });
    const { lines, err } = await readAll(path, 69_999);
    expect(lines).toEqual(['a']);
    expect(err).toBeInstanceOf(InputTooLargeError);
    expect(err?.message).toMatch(/^line 2 of .* is longer than 69999 bytes/);
  });

  it('readBounded: a file of exactly the bound is read, one byte more is refused', async () => {
    const path = file('bound', 'z'.repeat(1000));
    expect(await readBounded(path, 1000, 'config file')).toHaveLength(1000);
    await expect(readBounded(path, 999, 'config file')).rejects.toThrow(/larger than 999 bytes/);
  });
});

describe('auto --config refusals: located message, status 2, nothing started', () => {
  it('a YAML alias bomb', async () => {
    const path = file('bomb.yaml', aliasBomb());
    const r = await cli(['auto', '--config', path]);
    expect(r.stderr).toMatch(new RegExp(`^Error: ${path}: .*alias.* at line 2, column 8`));
    expect(r.stderr).not.toMatch(/unexpected error/);
    expect(r.status).toBe(2);
  });

  it('a YAML syntax error names file, line and column', async () => {
    const path = file('bad.yaml', 'netns: x\n  bad: [\n');
    const r = await cli(['auto', '--config', path]);
    expect(r.stderr).toMatch(new RegExp(`^Error: ${path}: .* at line 1, column 8`));
    expect(r.status).toBe(2);
  });

  it('netns in the file and another one with -n: refused naming both', async () => {
    const path = file('nsb.yaml', 'netns: mptcppm-no-such-b\nrules: [{ interface: eth0, flags: [subflow] }]\n');
    const r = await cli(['-n', 'mptcppm-no-such-a', 'auto', '--config', path]);
    expect(r.stderr).toMatch(/netns "mptcppm-no-such-b" but the command line says -n mptcppm-no-such-a/);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
  });

  it('the same namespace in both is no conflict (it goes on to open it)', async () => {
    const path = file('nsa.yaml', 'netns: mptcppm-no-such-a\nrules: [{ interface: eth0, flags: [subflow] }]\n');
    const r = await cli(['-n', 'mptcppm-no-such-a', 'auto', '--config', path]);
    expect(r.stderr).not.toMatch(/command line says/);
    expect(r.stderr).toMatch(/mptcppm-no-such-a/);
    expect(r.status).toBe(255);
  });
});
