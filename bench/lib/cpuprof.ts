// In-process CPU profiling of one async phase through node:inspector (sampling every 25 µs), so a
// phase can be profiled without the noise of start-up and module loading.

import { Session, type Profiler } from 'node:inspector';
import { summarize, type ProfileLine } from './profile.js';

function post<T>(s: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => {
    s.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T)));
  });
}

export async function profilePhase(fn: () => Promise<void>, top = 12): Promise<{ functions: ProfileLine[]; files: ProfileLine[] }> {
  const s = new Session();
  s.connect();
  try {
    await post(s, 'Profiler.enable');
    await post(s, 'Profiler.setSamplingInterval', { interval: 25 });
    await post(s, 'Profiler.start');
    await fn();
    const { profile } = await post<{ profile: Profiler.Profile }>(s, 'Profiler.stop');
    return summarize(profile, top);
  } finally {
    s.disconnect();
  }
}
