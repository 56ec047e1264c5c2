// Doctor capability: checks of the namespace's MPTCP settings — enabled, the path manager and who
// listens to its events, and limits against the endpoints.

import { GenlSocket } from '../netlink/genl/socket.js';
import { findSubscribers } from './events-listeners.js';
import type { Check, Finding } from './types.js';

export const mptcpEnabled: Check = {
  name: 'mptcp-enabled',
  run: (ctx) => (ctx.enabled ? [] : [{
    severity: 'error',
    code: 'mptcp-disabled',
    message: 'MPTCP is disabled in this namespace (net.mptcp.enabled = 0): every MPTCP socket falls back to plain TCP',
    fix: `${ctx.exec}sysctl -w net.mptcp.enabled=1`,
  }]),
};

export const userspaceListener: Check = {
  name: 'userspace-pm-listener',
  async run(ctx) {
    if (ctx.pathManager !== 'userspace') return [];
    const genl = await GenlSocket.open('mptcp_pm', { netns: ctx.ns });
    const group = genl.groups.get('mptcp_pm_events');
    genl.close();
    if (group === undefined) return [];
    const subs = findSubscribers(group);
    if (!subs.known) return [];
    const here = subs.byNamespace.get(ctx.ns.id) ?? 0;
    const total = [...subs.byNamespace.values()].reduce((a, b) => a + b, 0);
    const fix = `${ctx.exec}sysctl -w net.mptcp.path_manager=kernel   # or run a userspace path manager here: ${ctx.self} userspace-pm --policy kernel-compatible`;
    if (total === 0) {
      return [{
        severity: 'error',
        code: 'userspace-pm-no-listener',
        message: 'the userspace path manager is selected but no program listens to mptcp_pm_events anywhere on this host: the kernel refuses every MP_JOIN and drops ADD_ADDRs (MIB AddAddrDrop), so connections stay single-path',
        fix,
      }];
    }
    if (here === 0) {
      return [{
        severity: 'warning',
        code: 'userspace-pm-listener-elsewhere',
        message: `the userspace path manager is selected but no program in this namespace listens to mptcp_pm_events; ${total} subscriber(s) in other namespaces make the kernel accept joins here, yet nobody receives this namespace's events to create subflows`,
        fix,
      }];
    }
    return [];
  },
};

export const limits: Check = {
  name: 'limits',
  run(ctx) {
    if (ctx.pathManager !== 'kernel') return [];
    const out: Finding[] = [];
    const subflowEps = ctx.endpoints.filter((e) => e.flags.includes('subflow')).length;
    const lowSubflows = subflowEps > ctx.limits.subflows;
    const noAddAddr = ctx.limits.addAddrAccepted === 0;
    // One command for every limit finding: pasted once or twice, it leaves both limits right.
    const subflows = Math.max(ctx.limits.subflows, Math.min(8, subflowEps), noAddAddr ? 1 : 0);
    const fix = `${ctx.ip} mptcp limits set subflows ${subflows} add_addr_accepted ${noAddAddr ? 2 : ctx.limits.addAddrAccepted}`;
    if (lowSubflows) {
      out.push({
        severity: 'warning',
        code: 'limits-subflows',
        message: `${subflowEps} subflow endpoint(s) but the subflows limit is ${ctx.limits.subflows}: at most ${ctx.limits.subflows} additional subflow(s) per connection will be created`,
        fix,
      });
    }
    if (noAddAddr) {
      out.push({
        severity: 'warning',
        code: 'add-addr-accepted-zero',
        message: 'add_addr_accepted is 0: addresses the peer announces (ADD_ADDR) are ignored, so no subflow goes to a second server address',
        fix,
      });
    }
    return out;
  },
};
