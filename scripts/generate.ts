// `npm run generate`: renders the YAML specs (genetlink, netlink-raw) into TypeScript modules of tables and types.
// Usage: tsx scripts/generate.ts [spec.yaml out.ts]   (default: every scripts/spec/NAME.yaml to generated/NAME.ts)

import { allSpecs, generate, sourceName } from './generator/index.js';

const [spec, out] = process.argv.slice(2);
const jobs = spec === undefined ? allSpecs() : [{ spec, out: out ?? spec.replace(/\.yaml$/, '.ts') }];
try {
  for (const job of jobs) {
    generate(job.spec, job.out);
    process.stdout.write(`generated ${sourceName(job.out)} from ${sourceName(job.spec)}\n`);
  }
} catch (err) {
  process.stderr.write(`generate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
