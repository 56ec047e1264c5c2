// `node --import mptcp-pm/register app.js`: every TCP socket the program opens (net, http, https,
// tls, fetch) is IPPROTO_MPTCP, falling back to TCP with one process warning when the kernel has no
// MPTCP. MPTCP_PM_NETNS (a namespace name or path) and MPTCP_PM_FALLBACK=error are read once.

import { setGlobalConfig } from './hook.js';
import { checkSocketOptions, type Fallback } from './open.js';

const netns = process.env.MPTCP_PM_NETNS || undefined;
const fallback = (process.env.MPTCP_PM_FALLBACK || undefined) as Fallback | undefined;
checkSocketOptions({ netns, fallback }, 'environment (MPTCP_PM_NETNS, MPTCP_PM_FALLBACK)');
setGlobalConfig({ netns, fallback });
