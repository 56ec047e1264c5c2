// Event handling for the walkthrough: prints the client's and the server's MPTCP events as they
// arrive, counts them, and keeps the record of subflows and of where the backup flag was seen.

import type { MptcpEvent } from '../src/index.js';
import type { DemoIo } from './narration.js';
import { NET, pathOf } from './settings.js';
import type { SubflowSeen } from './summary.js';

/** The subflows and event counts of one run, fed by the client's and the server's event streams. */
export class SubflowTracker {
  readonly subflows: SubflowSeen[] = [];
  readonly eventCounts: Record<string, number> = {};
  /** Sides whose events showed the wi-fi subflow as a backup. */
  readonly backupSeenBy = new Set<'client' | 'server'>();
  backupSeen = false;
  /** Token of the client's connection, once established. */
  token: number | undefined;

  /** @param elapsedMs milliseconds since the transfer started (event times are relative to it). */
  constructor(private readonly io: DemoIo, private readonly elapsedMs: () => number) {}

  /** One event of the client namespace. */
  onClientEvent(e: MptcpEvent): void {
    this.eventCounts[e.type] = (this.eventCounts[e.type] ?? 0) + 1;
    const at = `${(this.elapsedMs() / 1000).toFixed(2).padStart(6)} s`;
    if (e.type === 'invalid') {
      this.io.say(`   [event ${at}] invalid event ${e.eventType}: ${e.reason}`);
      return;
    }
    const ends = e.localAddress !== undefined
      ? `  ${e.localAddress}:${e.localPort ?? '?'} -> ${e.remoteAddress ?? '?'}:${e.remotePort ?? '?'}`
      : e.remoteAddress !== undefined ? `  remote ${e.remoteAddress}:${e.remotePort ?? '?'}` : '';
    const extra = [
      e.backup ? 'backup' : '',
      e.error ? `error ${e.error.code}` : '',
      e.localAddress !== undefined ? pathOf(e.localAddress) : '',
    ].filter(Boolean).join(', ');
    const token = e.token !== undefined ? `  token ${e.token.toString(16).padStart(8, '0')}` : '';
    this.io.say(`   [event ${at}] ${e.type.padEnd(15)}${token}${ends}${extra ? `  (${extra})` : ''}`);
    if (e.token === undefined || e.localAddress === undefined || e.remoteAddress === undefined) return;
    const key = (f: { localAddress?: string; localPort?: number; remotePort?: number }): string =>
      `${f.localAddress}:${f.localPort} ${f.remotePort}`;
    if (e.type === 'established' && !e.serverSide) {
      this.token = e.token;
      this.addSubflow(e, true);
    } else if (e.type === 'subEstablished') {
      this.addSubflow(e, false);
    } else if (e.type === 'subClosed') {
      const f = this.subflows.find((s) => key(s) === key(e) && s.closedAtMs === undefined);
      if (f) f.closedAtMs = this.elapsedMs();
    } else if (e.type === 'subPriority') {
      const f = this.subflows.find((s) => key(s) === key(e) && s.closedAtMs === undefined);
      if (f) f.backup = e.backup === true;
    }
    if ((e.type === 'subEstablished' || e.type === 'subPriority') && e.backup && e.localAddress === NET.wifi.address) {
      this.backupSeen = true;
      this.backupSeenBy.add('client');
    }
  }

  /** One subflow event of the server namespace (where the client's backup request arrives). */
  onServerEvent(e: MptcpEvent): void {
    if (e.type === 'invalid' || e.type === 'unknown') return;
    const key = `server ${e.type}`;
    this.eventCounts[key] = (this.eventCounts[key] ?? 0) + 1;
    const at = `${(this.elapsedMs() / 1000).toFixed(2).padStart(6)} s`;
    const extra = [e.backup ? 'backup' : '', e.error ? `error ${e.error.code}` : ''].filter(Boolean).join(', ');
    this.io.say(`   [server ${at}] ${e.type.padEnd(15)}  ${e.localAddress}:${e.localPort ?? '?'} <- ${e.remoteAddress}:${e.remotePort ?? '?'}` +
      `${e.remoteAddress ? ` (from ${pathOf(e.remoteAddress)}${extra ? `, ${extra}` : ''})` : ''}`);
    if ((e.type === 'subEstablished' || e.type === 'subPriority') && e.backup && e.remoteAddress === NET.wifi.address) {
      this.backupSeen = true;
      this.backupSeenBy.add('server');
      const f = this.subflows.find((x) => x.path === 'wi-fi' && x.localPort === e.remotePort);
      if (f) f.backup = true;
    }
  }

  /** The latest wi-fi subflow that is still open. */
  openWifiSubflow(): SubflowSeen | undefined {
    return [...this.subflows].reverse().find((f) => f.path === 'wi-fi' && f.closedAtMs === undefined);
  }

  private addSubflow(e: MptcpEvent & { localAddress?: string; remoteAddress?: string }, initial: boolean): void {
    if (e.type === 'invalid' || e.localAddress === undefined || e.remoteAddress === undefined) return;
    this.subflows.push({
      path: pathOf(e.localAddress),
      localAddress: e.localAddress,
      localPort: e.localPort,
      remoteAddress: e.remoteAddress,
      remotePort: e.remotePort,
      initial,
      backup: e.backup === true,
      establishedAtMs: this.elapsedMs(),
    });
  }
}
