// `npm run generate`: renders a genetlink YAML spec into a TypeScript module of tables and types.
// Usage: tsx scripts/generate.ts [spec.yaml] [out.ts]   (defaults: scripts/spec/mptcp_pm.yaml, generated/mptcp_pm.ts)

import { DEFAULT_OUT, DEFAULT_SPEC, generate, sourceName } from './generator/index.js';

const [spec = DEFAULT_SPEC, out = DEFAULT_OUT] = process.argv.slice(2);
try {
  generate(spec, out);
  process.stdout.write(`generated ${sourceName(out)} from ${sourceName(spec)}\n`);
} catch (err) {
  process.stderr.write(`generate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
