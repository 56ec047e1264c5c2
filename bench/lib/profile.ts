// CPU-profile summary: self time per function (name + file:line) of a V8 .cpuprofile, as shares of
// the sampled time, and total time by file, so the bench can say where the time of a phase goes.

import type { Profiler } from 'node:inspector';

export interface ProfileLine { fn: string; where: string; selfPct: number }

export function summarize(profile: Profiler.Profile, top = 15): { functions: ProfileLine[]; files: ProfileLine[] } {
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    const dt = deltas[i] ?? 0;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + dt);
    total += dt;
  }
  const byFn = new Map<string, ProfileLine>();
  const byFile = new Map<string, ProfileLine>();
  for (const node of profile.nodes) {
    const t = self.get(node.id) ?? 0;
    if (!t) continue;
    const cf = node.callFrame;
    const special = /^\((idle|garbage collector|program|root)\)$/.test(cf.functionName);
    // V8 names every native callback frame after one registered function; without a URL and not
    // one of V8's pseudo-frames, it is time inside a native call (koffi → libc syscalls, the addon).
    const file = cf.url ? cf.url.replace(/^file:\/\//, '').replace(/.*\/(node_modules\/|src\/|bench\/|generated\/)/, '$1') : special ? '(vm)' : '(native calls)';
    const name = cf.url || special ? cf.functionName || '(anonymous)' : 'native call: syscalls via koffi / netlink addon';
    const where = cf.url ? `${file}:${cf.lineNumber + 1}` : file;
    const key = `${name} ${where}`;
    const f = byFn.get(key) ?? { fn: name, where, selfPct: 0 };
    f.selfPct += (100 * t) / total;
    byFn.set(key, f);
    const g = byFile.get(file) ?? { fn: '', where: file, selfPct: 0 };
    g.selfPct += (100 * t) / total;
    byFile.set(file, g);
  }
  const sort = (m: Map<string, ProfileLine>): ProfileLine[] => [...m.values()].sort((a, b) => b.selfPct - a.selfPct).slice(0, top);
  return { functions: sort(byFn), files: sort(byFile) };
}
