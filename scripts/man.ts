// Writes man/mptcp-pm.8 from the command's own tables (src/cli/man.ts); `npm run man`.

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { manPage } from '../src/cli/man.js';

const target = fileURLToPath(new URL('../man/mptcp-pm.8', import.meta.url));
writeFileSync(target, manPage());
console.log(`wrote ${target}`);
