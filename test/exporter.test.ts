// The exporter without a kernel: counter names, /proc/net/netstat parsing, --listen parsing, and
// the registry with fake sources (one collection shared by concurrent scrapes, late sources bounded).

import { describe, expect, it } from 'vitest';
import { MptcpExporter } from '../src/exporter/exporter.js';
import { counterFamilies, counterMetricName, parseMptcpExt } from '../src/exporter/netstat.js';
import { snakeCase, type MetricFamily, type Source } from '../src/exporter/source.js';
import { promtool } from './helpers/promtool.js';
import { parse as parseExporter, parseListen } from '../src/cli/exporter.js';

describe('names', () => {
  it('turns kernel counter names into Prometheus names', () => {
    expect(snakeCase('MPCapableSYNRX')).toBe('mp_capable_synrx');
    expect(snakeCase('MPJoinSynAckHMacFailure')).toBe('mp_join_syn_ack_hmac_failure');
    expect(snakeCase('MD5SigFallback')).toBe('md5_sig_fallback');
    expect(counterMetricName('MPTCPRetrans')).toBe('mptcp_ext_mptcp_retrans_total');
    expect(counterMetricName('OFOQueueTail')).toBe('mptcp_ext_ofo_queue_tail_total');
    expect(counterMetricName('MPCurrEstab')).toBe('mptcp_ext_curr_estab');
  });

  it('reads the MPTcpExt lines of /proc/net/netstat', () => {
    const text = 'TcpExt: SyncookiesSent\nTcpExt: 4\nMPTcpExt: MPCapableSYNRX MPCurrEstab\nMPTcpExt: 12 3\n';
    expect([...parseMptcpExt(text)]).toEqual([['MPCapableSYNRX', 12], ['MPCurrEstab', 3]]);
    expect(parseMptcpExt('TcpExt: A\nTcpExt: 1\n').size).toBe(0);
  });

  it('reads --listen as HOST:PORT, [V6]:PORT or :PORT', () => {
    expect(parseListen('127.0.0.1:9100')).toEqual({ host: '127.0.0.1', port: 9100 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListen(':9100')).toEqual({ host: '', port: 9100 });
    for (const bad of ['9100', '::1:9100', 'host:99999', 'host:', '']) expect(parseListen(bad)).toBeUndefined();
    expect(parseExporter(['--listen', ':1', '--timeout', '50'])).toEqual({ cmd: 'exporter', host: '', port: 1, timeoutMs: 50 });
    expect(() => parseExporter([])).toThrow(/--listen/);
  });
});

/** Every MPTcpExt counter of Linux 6.18's /proc/net/netstat, in its order. */
const MPTCPEXT_6_18 = 'MPCapableSYNRX MPCapableSYNTX MPCapableSYNACKRX MPCapableACKRX MPCapableFallbackACK MPCapableFallbackSYNACK ' +
  'MPCapableSYNTXDrop MPCapableSYNTXDisabled MPCapableEndpAttempt MPFallbackTokenInit MPTCPRetrans MPJoinNoTokenFound MPJoinSynRx ' +
  'MPJoinSynBackupRx MPJoinSynAckRx MPJoinSynAckBackupRx MPJoinSynAckHMacFailure MPJoinAckRx MPJoinAckHMacFailure MPJoinRejected ' +
  'MPJoinSynTx MPJoinSynTxCreatSkErr MPJoinSynTxBindErr MPJoinSynTxConnectErr DSSNotMatching DSSCorruptionFallback DSSCorruptionReset ' +
  'InfiniteMapTx InfiniteMapRx DSSNoMatchTCP DataCsumErr OFOQueueTail OFOQueue OFOMerge NoDSSInWindow DuplicateData AddAddr AddAddrTx ' +
  'AddAddrTxDrop EchoAdd EchoAddTx EchoAddTxDrop PortAdd AddAddrDrop MPJoinPortSynRx MPJoinPortSynAckRx MPJoinPortAckRx ' +
  'MismatchPortSynRx MismatchPortAckRx RmAddr RmAddrDrop RmAddrTx RmAddrTxDrop RmSubflow MPPrioTx MPPrioRx MPFailTx MPFailRx ' +
  'MPFastcloseTx MPFastcloseRx MPRstTx MPRstRx SubflowStale SubflowRecover SndWndShared RcvWndShared RcvWndConflictUpdate ' +
  'RcvWndConflict MPCurrEstab Blackhole MPCapableDataFallback MD5SigFallback DssFallback SimultConnectFallback FallbackFailed WinProbe';

describe('exposition linted by promtool', () => {
  it('every MPTcpExt counter of Linux 6.18 and the exporter\'s own metrics pass `promtool check metrics` with no finding', async () => {
    const names = MPTCPEXT_6_18.split(' ');
    const values = parseMptcpExt(`MPTcpExt: ${names.join(' ')}\nMPTcpExt: ${names.map((_, i) => i).join(' ')}\n`);
    const counters = (): Source => ({ name: 'counters', collect: async () => counterFamilies(values), close: () => undefined });
    const ex = await MptcpExporter.open({ netns: ['a', 'b'], without: ['counters', 'pm', 'events', 'connections'], sources: [counters], processMetrics: true });
    try {
      const text = await ex.metrics();
      expect(text).toContain('mptcp_ext_mp_join_ack_hmac_failure_total{netns="a"} 18');
      expect(await promtool(['check', 'metrics'], { input: text })).toEqual({ status: 0, out: '' });
    } finally {
      ex.close();
    }
  });
});

function family(name: string, value: number, type: 'counter' | 'gauge' = 'gauge'): MetricFamily {
  return { name, help: `test ${name}`, type, labelNames: ['k'], samples: [{ labels: { k: 'v' }, value }] };
}

describe('MptcpExporter with fake sources', () => {
  it('collects once for concurrent scrapes, labels namespaces, bounds a late source and keeps its last values', async () => {
    let calls = 0;
    let slow = false;
    const fast = (): Source => ({ name: 'fast', collect: async () => [family('t_fast_total', ++calls, 'counter')], close: () => undefined });
    const late = (): Source => ({
      name: 'late',
      collect: () => (slow ? new Promise(() => undefined) : Promise.resolve([family('t_late', 7)])),
      close: () => undefined,
    });
    const ex = await MptcpExporter.open({ netns: ['a', 'b'], without: ['counters', 'pm', 'events', 'connections'], sources: [fast, late], timeoutMs: 100, processMetrics: false });
    try {
      const texts = await Promise.all(Array.from({ length: 20 }, () => ex.metrics()));
      expect(calls).toBe(2); // one per namespace, shared by the 20 scrapes
      for (const t of texts) {
        expect(t).toContain('t_fast_total{netns="a",k="v"}');
        expect(t).toContain('t_late{netns="b",k="v"} 7');
        expect(t).toContain('mptcp_exporter_source_up{netns="a",source="late"} 1');
      }
      slow = true;
      const text = await ex.metrics(); // resolves although the source never answers
      expect(text).toContain('mptcp_exporter_source_up{netns="a",source="late"} 0');
      expect(text).toContain('mptcp_exporter_source_errors_total{netns="a",source="late",reason="timeout"} 1');
      expect(text).toContain('t_late{netns="a",k="v"} 7');
      expect(text).toContain('mptcp_exporter_scrapes_total 21');
    } finally {
      ex.close();
    }
  });
});

describe('connections source', () => {
  it('counts connections by state and path manager, fallbacks, and subflows by state', async () => {
    const { connectionFamilies } = await import('../src/exporter/connections-source.js');
    const conns = [
      { state: 'established', fallback: false, subflows: [{ state: 'established' }, { state: 'established' }] },
      { state: 'established', fallback: true, subflows: [{ state: 'established' }] },
      { state: 'closeWait', fallback: false, subflows: [{ state: 'finWait1' }] },
    ];
    const f = Object.fromEntries(connectionFamilies(conns, 'kernel').map((x) => [x.name, x.samples]));
    expect(f.mptcp_connections).toEqual([
      { labels: { state: 'established', path_manager: 'kernel' }, value: 2 },
      { labels: { state: 'close_wait', path_manager: 'kernel' }, value: 1 },
    ]);
    expect(f.mptcp_connections_fallback).toEqual([{ labels: {}, value: 1 }]);
    expect(f.mptcp_subflows).toEqual([{ labels: { state: 'established' }, value: 3 }, { labels: { state: 'fin_wait1' }, value: 1 }]);
    expect(connectionFamilies([], 'userspace')[0].samples).toEqual([{ labels: { state: 'established', path_manager: 'userspace' }, value: 0 }]);
  });
});
