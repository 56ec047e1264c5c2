#!/usr/bin/env node
// `npm run demo`: the MPTCP tutorial walkthrough, an example program built on the mptcp-pm library.

import { runDemo } from './index.js';

process.exitCode = await runDemo(process.argv.slice(2));
