// `npm run bench:cold`: the command's cold start alone (see lib/cold-start.ts), in a scratch namespace.
// Option: --runs N (default 21).

import { createNetns, deleteNetns } from './lib/netns.js';
import { formatColdStart, measureColdStart } from './lib/cold-start.js';

const i = process.argv.indexOf('--runs');
const runs = i >= 0 ? Number(process.argv[i + 1]) : 21;
const ns = createNetns('cold');
try {
  const r = measureColdStart(ns, runs);
  process.stdout.write(`${formatColdStart(r)}\n`);
} finally {
  deleteNetns(ns);
}
