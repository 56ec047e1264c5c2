// Results of a kernel selftest run, read from the TAP lines its mptcp_lib prints at the end
// (`ok 3 - mptcp_join: single subflow # time=1234ms`), and the per-test comparison of two runs.

/** How one test ended. */
export type Outcome = 'pass' | 'fail' | 'skip';

/** One test of a run, by the name the script gives it. */
export interface TestResult {
  name: string;
  outcome: Outcome;
}

const TAP_LINE = /^(not ok|ok) \d+ - (.*)$/;

/**
 * The tests of a run, in order, from the script's output. A test the script marks as flaky and
 * ignored (`# IGNORE Flaky`) counts as failed: the comparison decides, not the script's leniency.
 * A name seen twice gets ` (2)`, ` (3)`… so every test keeps its own entry.
 */
export function parseTap(output: string): TestResult[] {
  const results: TestResult[] = [];
  const seen = new Map<string, number>();
  for (const line of output.split('\n')) {
    const m = TAP_LINE.exec(line.trimEnd());
    if (!m) continue;
    let rest = m[2].replace(/\s*(# )?time=\d+ms$/, '');
    let outcome: Outcome = m[1] === 'ok' ? 'pass' : 'fail';
    if (/ # SKIP$/.test(rest)) {
      outcome = 'skip';
      rest = rest.replace(/ # SKIP$/, '');
    } else if (/ # IGNORE Flaky$/.test(rest)) {
      outcome = 'fail';
      rest = rest.replace(/ # IGNORE Flaky$/, '');
    }
    const name = rest.trim();
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    results.push({ name: n === 1 ? name : `${name} (${n})`, outcome });
  }
  return results;
}

/** Counts of one run. */
export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

/** How many tests passed, failed and were skipped. */
export function count(results: readonly TestResult[]): Counts {
  return {
    passed: results.filter((r) => r.outcome === 'pass').length,
    failed: results.filter((r) => r.outcome === 'fail').length,
    skipped: results.filter((r) => r.outcome === 'skip').length,
  };
}

/** The per-test comparison of the reference run (real ip) with the run under test (the command). */
export interface Comparison {
  /** Passed with ip, did not pass with the command (failed, skipped or missing). */
  regressions: string[];
  /** Failed with ip too: not held against the command. */
  failedWithIp: string[];
  /** Did not pass with ip but passed with the command. */
  onlyCommand: string[];
}

/** Compares two runs test by test. */
export function compare(ip: readonly TestResult[], command: readonly TestResult[]): Comparison {
  const byName = new Map(command.map((r) => [r.name, r.outcome]));
  const ipByName = new Map(ip.map((r) => [r.name, r.outcome]));
  return {
    regressions: ip.filter((r) => r.outcome === 'pass' && byName.get(r.name) !== 'pass').map((r) => r.name),
    failedWithIp: ip.filter((r) => r.outcome === 'fail').map((r) => r.name),
    onlyCommand: command.filter((r) => r.outcome === 'pass' && ipByName.get(r.name) !== 'pass').map((r) => r.name),
  };
}
