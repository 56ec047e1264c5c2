// The options of the secondary entry points (diag, tracker, counters, exporter, built-in userspace
// policies) go through one checker: a typo of a key is refused by name instead of silently reading
// the caller's own namespace, wrong types are ValidationErrors naming the field, and a namespace
// that does not exist is a NetnsError, not a set of sources that are down.

import { describe, expect, it } from 'vitest';
import { ConnectionTracker, explainConnections, MptcpDiag, policies, readMptcpCounters } from '../src/index.js';
import { collectMetrics, MptcpExporter } from '../src/exporter/index.js';
import { ValidationError } from '../src/netlink/core/errors.js';
import { NetnsError } from '../src/os/netns.js';

async function rejection(p: () => unknown): Promise<Error> {
  try {
    await p();
  } catch (e) {
    return e as Error;
  }
  throw new Error('resolved, expected a rejection');
}

const REFUSED: [string, () => unknown, string, RegExp][] = [
  ['MptcpDiag.open({ netNs })', () => MptcpDiag.open({ netNs: 'x' } as never), 'options.netNs', /not a known option/],
  ['MptcpDiag.open(null)', () => MptcpDiag.open(null as never), 'options', /must be an object/],
  ['MptcpDiag.open({ timeoutMs: NaN })', () => MptcpDiag.open({ timeoutMs: NaN }), 'timeoutMs', /got NaN/],
  ['ConnectionTracker.open({ netNs })', () => ConnectionTracker.open({ netNs: 'x' } as never), 'options.netNs', /not a known option/],
  ['ConnectionTracker.open({ netns: 5 })', () => ConnectionTracker.open({ netns: 5 as never }), 'netns', /namespace name/],
  ['readMptcpCounters({ netNs })', () => readMptcpCounters({ netNs: 'x' } as never), 'options.netNs', /not a known option/],
  ['readMptcpCounters({ netns: 5 })', () => readMptcpCounters({ netns: 5 as never }), 'netns', /namespace name/],
  ['readMptcpCounters(null)', () => readMptcpCounters(null as never), 'options', /must be an object/],
  ['MptcpExporter.open({ namespaces })', () => MptcpExporter.open({ namespaces: ['x'] } as never), 'options.namespaces', /not a known option/],
  ['MptcpExporter.open({ netns: "x" })', () => MptcpExporter.open({ netns: 'x' as never }), 'netns', /must be an array/],
  ['MptcpExporter.open({ netns: [5] })', () => MptcpExporter.open({ netns: [5 as never] }), 'netns[0]', /namespace name/],
  ['MptcpExporter.open(null)', () => MptcpExporter.open(null as never), 'options', /must be an object/],
  ['MptcpExporter.open({ timeoutMs: NaN })', () => MptcpExporter.open({ timeoutMs: NaN }), 'timeoutMs', /got NaN/],
  ['MptcpExporter.open({ timeoutMs: -1 })', () => MptcpExporter.open({ timeoutMs: -1 }), 'timeoutMs', /from 1/],
  ['MptcpExporter.open({ without: ["pms"] })', () => MptcpExporter.open({ without: ['pms'] }), 'without[0]', /counters, pm, events, connections/],
  ['explainConnections({ windowMs: -1 })', () => explainConnections({ windowMs: -1 }), 'windowMs', /-1/],
  ['explainConnections({ windowMs: 1.5 })', () => explainConnections({ windowMs: 1.5 }), 'windowMs', /1\.5/],
  ['explainConnections({ window })', () => explainConnections({ window: 5 } as never), 'options.window', /not a known option/],
  ['collectMetrics({ netNs })', () => collectMetrics({ netNs: 'x' } as never), 'options.netNs', /not a known option/],
  ['subflowPerAddress 0.0.0.0', () => policies.subflowPerAddress({ addresses: [{ address: '0.0.0.0' }] }), 'addresses[0].address', /unicast/],
  ['fullmesh id 0', () => policies.fullmesh({ addresses: [{ address: '192.0.2.1', id: 0 }] }), 'addresses[0].id', /from 1 to 255/],
  ['fullmesh unknown key', () => policies.fullmesh({ adresses: [] } as never), 'options.adresses', /not a known option/],
  ['announceAddresses backup', () => policies.announceAddresses({ backup: ['192.0.2.1'] } as never), 'options.backup', /not a known option/],
  ['subflowPerAddress backup ff02::1', () => policies.subflowPerAddress({ backup: ['ff02::1'] }), 'backup[0]', /multicast/],
  ['announceAddresses clientSide "yes"', () => policies.announceAddresses({ clientSide: 'yes' as never }), 'clientSide', /true or false/],
];

describe('secondary entry points check their options with one checker', () => {
  for (const [name, call, field, rule] of REFUSED) {
    it(`${name} → ValidationError "${field}"`, async () => {
      const e = await rejection(call);
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).field).toBe(field);
      expect(e.message).toMatch(rule);
    });
  }

  it('collectMetrics and MptcpExporter.open with a namespace that does not exist: NetnsError', async () => {
    for (const call of [() => collectMetrics({ netns: ['mptcppm-no-such-ns'] }), () => MptcpExporter.open({ netns: [undefined, 'mptcppm-no-such-ns'] })]) {
      const e = await rejection(call);
      expect(e).toBeInstanceOf(NetnsError);
      expect(e.message).toContain('mptcppm-no-such-ns');
    }
  });

  it('good options still pass: policies with unicast addresses and ids, backups', () => {
    expect(policies.fullmesh({ addresses: [{ address: '192.0.2.1', id: 3, backup: true }], backup: ['192.0.2.1'] }).name).toBe('fullmesh');
    expect(policies.announceAddresses({ clientSide: true }).name).toBe('announce-addresses');
    expect(policies.subflowPerAddress().name).toBe('subflow-per-address');
  });
});
