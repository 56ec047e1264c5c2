// What /proc says of a process the bench started: CPU time of all its threads, resident memory.

import { readdirSync, readFileSync } from 'node:fs';

/** CPU time of every thread of `pid` so far, ms (schedstat: ns on the CPU). */
export function cpuMs(pid: number): number {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      /* thread gone */
    }
  }
  return ns / 1e6;
}

/** Resident set size of `pid`, MiB. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
