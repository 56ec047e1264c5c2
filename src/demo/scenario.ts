// The walkthrough itself: builds the sandbox, configures MPTCP through the library, runs the
// transfer, takes ethernet down and back up, and gathers what the summary reports.

import { release } from 'node:os';
import { MptcpPm } from '../client.js';
import { MptcpEvents, type MptcpEvent } from '../events.js';
import type { Endpoint } from '../endpoint.js';
import { Proc, siblingScript } from './proc.js';
import { readCounters, run, setSysctl, type LinkCounters, type SandboxNames } from './sandbox.js';
import { mb, rateText, type Check, type DemoSummary, type PathStats, type SubflowSeen } from './summary.js';
import { runPathManager, type LocalAddress, type PathManagerStats } from './userspace-pm.js';

/** Addresses and settings of the sandbox (documentation ranges only). */
export const NET = {
  ethernet: { ifname: 'eth0', address: '192.0.2.2', gateway: '192.0.2.1', peer: 'cli-eth', rate: '40mbit', table: 100, metric: 100 },
  wifi: { ifname: 'wlan0', address: '198.51.100.2', gateway: '198.51.100.1', peer: 'cli-wlan', rate: '10mbit', table: 200, metric: 600 },
  server: { address: '203.0.113.2', gateway: '203.0.113.1', ifname: 'eth0', peer: 'srv0', port: 5201 },
} as const;

/** How long each phase lasts, and how long each wait may take. */
const TIMING = {
  bothUpMs: 3000,
  downMs: 3000,
  afterUpMs: 2000,
  sampleMs: 50,
  startMs: 8000,
  joinMs: 6000,
  failoverMs: 10_000,
  recoverMs: 8000,
  reopenMs: 6000,
  stopMs: 15_000,
};
/** Bytes over a link that count as "data flows there now" (a few dozen full-size segments). */
const FLOWING = 64 * 1024;

/** Where the demo's text goes, and what it is told about the run as it happens. */
export interface DemoIo {
  /** One line of the walkthrough (stdout, or stderr with --json). */
  say(text: string): void;
}

interface Sample {
  t: number;
  eth: LinkCounters;
  wifi: LinkCounters;
  app: number;
}

const ZERO: LinkCounters = { rxBytes: 0, txBytes: 0 };

/** One run of the walkthrough in the namespaces `names`; `run()` never throws, it reports. */
export class Scenario {
  private readonly samples: Sample[] = [];
  private readonly subflows: SubflowSeen[] = [];
  private readonly eventCounts: Record<string, number> = {};
  private readonly procs: Proc[] = [];
  private readonly pmStats: PathManagerStats = { opened: 0, reopened: 0, failures: [] };
  private pm: MptcpPm | undefined;
  private serverPm: MptcpPm | undefined;
  private events: MptcpEvents | undefined;
  private serverEvents: MptcpEvents | undefined;
  private stopPm: (() => void) | undefined;
  private sampler: NodeJS.Timeout | undefined;
  private client: Proc | undefined;
  private server: Proc | undefined;
  private t0 = Date.now();
  private tDown: number | undefined;
  private tUp: number | undefined;
  private failoverMs: number | null = null;
  private recoveredMs: number | null = null;
  private backupSeen = false;
  private transferError: string | undefined;
  private ssBytes = new Map<string, number>();

  constructor(
    private readonly names: SandboxNames,
    private readonly userspace: boolean,
    private readonly io: DemoIo,
  ) {}

  /** Pids of the processes this run started and that may still be running. */
  childPids(): number[] {
    return this.procs.filter((p) => p.exited === undefined && p.pid !== undefined).map((p) => p.pid as number);
  }

  /** Runs every step; returns the summary without the namespace part (the caller removes them). */
  async run(): Promise<Omit<DemoSummary, 'namespaces' | 'result' | 'exitCode' | 'durationMs'>> {
    let error: string | undefined;
    try {
      await this.buildSandbox();
      await this.shapeLinks();
      await this.configureMptcp();
      await this.routePerSource();
      await this.watchEvents();
      await this.transfer();
    } catch (e) {
      error = (e as Error).message;
      this.io.say(`\n!! ${error}`);
    } finally {
      this.release();
    }
    return this.report(error);
  }

  /** Stops timers, the path manager, sockets and child processes. Idempotent. */
  release(): void {
    clearInterval(this.sampler);
    this.sampler = undefined;
    this.stopPm?.();
    this.stopPm = undefined;
    this.events?.close();
    this.serverEvents?.close();
    this.pm?.close();
    this.serverPm?.close();
    for (const p of this.procs) p.kill();
  }

  // ------------------------------------------------------------------ steps

  private step(title: string, ...why: string[]): void {
    this.io.say(`\n== ${title}`);
    for (const line of why) this.io.say(`   ${line}`);
  }

  private async ip(args: string[], show = true): Promise<string> {
    if (show) this.io.say(`   $ ip ${args.join(' ')}`);
    return run('ip', args);
  }

  private sysctl(ns: string, key: string, value: string): void {
    this.io.say(`   $ ip netns exec ${ns} sysctl -w ${key.replaceAll('/', '.')}=${value}`);
    setSysctl(ns, key, value);
  }

  private async buildSandbox(): Promise<void> {
    const { client: c, router: r, server: s } = this.names;
    this.step('1. A sandbox: three network namespaces (this machine\'s own network is not touched)',
      `client ${c}: "ethernet" ${NET.ethernet.ifname} ${NET.ethernet.address} and "wi-fi" ${NET.wifi.ifname} ${NET.wifi.address}`,
      `router ${r}: forwards between the two client links and the server link`,
      `server ${s}: one address, ${NET.server.address}, like most servers on the Internet`);
    for (const ns of [c, r, s]) await this.ip(['netns', 'add', ns]);
    await this.ip(['-n', c, 'link', 'add', NET.ethernet.ifname, 'type', 'veth', 'peer', 'name', NET.ethernet.peer, 'netns', r]);
    await this.ip(['-n', c, 'link', 'add', NET.wifi.ifname, 'type', 'veth', 'peer', 'name', NET.wifi.peer, 'netns', r]);
    await this.ip(['-n', r, 'link', 'add', NET.server.peer, 'type', 'veth', 'peer', 'name', NET.server.ifname, 'netns', s]);
    await this.ip(['-n', c, 'addr', 'add', `${NET.ethernet.address}/24`, 'dev', NET.ethernet.ifname]);
    await this.ip(['-n', c, 'addr', 'add', `${NET.wifi.address}/24`, 'dev', NET.wifi.ifname]);
    await this.ip(['-n', r, 'addr', 'add', `${NET.ethernet.gateway}/24`, 'dev', NET.ethernet.peer]);
    await this.ip(['-n', r, 'addr', 'add', `${NET.wifi.gateway}/24`, 'dev', NET.wifi.peer]);
    await this.ip(['-n', r, 'addr', 'add', `${NET.server.gateway}/24`, 'dev', NET.server.peer]);
    await this.ip(['-n', s, 'addr', 'add', `${NET.server.address}/24`, 'dev', NET.server.ifname]);
    const links: [string, string[]][] = [
      [c, ['lo', NET.ethernet.ifname, NET.wifi.ifname]],
      [r, ['lo', NET.ethernet.peer, NET.wifi.peer, NET.server.peer]],
      [s, ['lo', NET.server.ifname]],
    ];
    for (const [ns, devs] of links) for (const d of devs) await this.ip(['-n', ns, 'link', 'set', d, 'up'], false);
    this.io.say('   (every link and lo set up)');
    this.sysctl(r, 'net/ipv4/ip_forward', '1');
    this.io.say('   The router drops packets whose source address does not belong to the link they come in on,');
    this.io.say('   as access networks do (reverse-path filtering):');
    this.sysctl(r, 'net/ipv4/conf/all/rp_filter', '1');
    await this.ip(['-n', s, 'route', 'add', 'default', 'via', NET.server.gateway]);
    this.io.say('   The client has a default route on each link; ethernet is preferred (lower metric), as');
    this.io.say('   NetworkManager would set them up:');
    for (const l of [NET.ethernet, NET.wifi]) {
      await this.ip(['-n', c, 'route', 'add', 'default', 'via', l.gateway, 'dev', l.ifname, 'metric', String(l.metric)]);
    }
  }

  private async shapeLinks(): Promise<void> {
    const { client: c, router: r } = this.names;
    this.step(`2. Different bandwidths: ethernet ${rateText(NET.ethernet.rate)}, wi-fi ${rateText(NET.wifi.rate)} (tbf qdisc, both directions)`);
    for (const l of [NET.ethernet, NET.wifi]) {
      for (const [ns, dev] of [[r, l.peer], [c, l.ifname]]) {
        const args = ['-n', ns, 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', l.rate, 'burst', '32kb', 'latency', '50ms'];
        this.io.say(`   $ tc ${args.join(' ')}`);
        await run('tc', args);
      }
    }
  }

  private async configureMptcp(): Promise<void> {
    const { client: c, server: s } = this.names;
    this.step('3. MPTCP on, and the path managers configured through mptcp-pm (generic netlink "mptcp_pm")');
    for (const ns of [c, s]) this.sysctl(ns, 'net/mptcp/enabled', '1');
    this.pm = await MptcpPm.open({ netns: c });
    this.serverPm = await MptcpPm.open({ netns: s });
    this.io.say('   server: accept up to 2 additional subflows (joins) per connection');
    this.io.say(`   > (await MptcpPm.open({ netns: '${s}' })).setLimits({ subflows: 2 })`);
    await this.serverPm.setLimits({ subflows: 2 });
    if (this.userspace) {
      this.io.say('   client: the userspace path manager decides which subflows to open; the kernel only');
      this.io.say('   carries out its commands (a program of ours, written with mptcp-pm, is that manager):');
      this.io.say(`   > pm.setPathManager('userspace')   # sysctl net.mptcp.path_manager=userspace`);
      const now = await this.pm.setPathManager('userspace');
      this.io.say(`   = ${now}`);
      return;
    }
    this.io.say('   client: the in-kernel path manager opens a subflow from each "subflow" endpoint; the');
    this.io.say('   wi-fi one is a backup, used only when no other subflow can carry data:');
    this.io.say(`   > pm.setLimits({ subflows: 2, addAddrAccepted: 2 })`);
    const limits = await this.pm.setLimits({ subflows: 2, addAddrAccepted: 2 });
    this.io.say(`   > pm.addEndpoint({ address: '${NET.ethernet.address}', ifname: '${NET.ethernet.ifname}', flags: ['subflow'] })`);
    await this.pm.addEndpoint({ address: NET.ethernet.address, ifname: NET.ethernet.ifname, flags: ['subflow'] });
    this.io.say(`   > pm.addEndpoint({ address: '${NET.wifi.address}', ifname: '${NET.wifi.ifname}', flags: ['subflow', 'backup'] })`);
    await this.pm.addEndpoint({ address: NET.wifi.address, ifname: NET.wifi.ifname, flags: ['subflow', 'backup'] });
    this.io.say('   what `ip mptcp endpoint show` and `ip mptcp limits show` would print, read back with');
    this.io.say('   pm.listEndpoints() and pm.getLimits():');
    for (const ep of await this.pm.listEndpoints()) this.io.say(`     ${endpointLine(ep)}`);
    this.io.say(`     add_addr_accepted ${limits.addAddrAccepted} subflows ${limits.subflows}`);
  }

  private async routePerSource(): Promise<void> {
    const c = this.names.client;
    this.step('4. One routing table per source address',
      'The kernel picks a route by destination. Both subflows go to the same server, so without more',
      'the main table sends both out of the preferred default route, ethernet: the wi-fi subflow would',
      `leave through eth0 with source ${NET.wifi.address}, and the router (like any provider) drops it.`,
      'A rule per source address sends each subflow out of the link its address belongs to (an',
      'endpoint added with a device also binds its subflows to it; subflows opened without one, like',
      'those of the userspace path manager, depend on these rules alone):');
    for (const l of [NET.ethernet, NET.wifi]) {
      await this.ip(['-n', c, 'rule', 'add', 'from', l.address, 'table', String(l.table)]);
      await this.ip(['-n', c, 'route', 'add', 'default', 'via', l.gateway, 'dev', l.ifname, 'table', String(l.table)]);
    }
  }

  private async watchEvents(): Promise<void> {
    const c = this.names.client;
    this.step('5. Watching the client\'s MPTCP events live (what `ip mptcp monitor` shows)',
      `> const events = await MptcpEvents.open({ netns: '${c}' })`);
    this.events = await MptcpEvents.open({ netns: c });
    this.events.on('event', (e) => this.onEvent(e));
    this.io.say('   and the server\'s subflow events, where the backup request arrives:');
    this.io.say(`   > await MptcpEvents.open({ netns: '${this.names.server}', types: ['subEstablished', 'subPriority', 'subClosed'] })`);
    this.serverEvents = await MptcpEvents.open({ netns: this.names.server, types: ['subEstablished', 'subPriority', 'subClosed'] });
    this.serverEvents.on('event', (e) => this.onServerEvent(e));
    this.events.on('overrun', (o) => this.io.say(`   [event] overrun: ${o.lost ?? 'some'} event(s) lost`));
    if (!this.userspace || !this.pm) return;
    const locals: LocalAddress[] = [
      { address: NET.ethernet.address, id: 1, backup: false },
      { address: NET.wifi.address, id: 2, backup: true },
    ];
    this.io.say('   and the path manager (src/demo/userspace-pm.ts) runs on the same events:');
    this.io.say(`   > runPathManager(pm, events, [{ address: '${NET.ethernet.address}', id: 1 }, { address: '${NET.wifi.address}', id: 2, backup: true }])`);
    this.stopPm = runPathManager(this.pm, this.events, locals, this.pmStats);
  }

  private async transfer(): Promise<void> {
    const { client: c, server: s } = this.names;
    const node = [process.execPath, ...siblingScript('transfer')];
    this.step('6. A real MPTCP transfer: an ordinary TCP program (Node) run through mptcpize',
      '`mptcpize run` preloads a library that turns socket(AF_INET, SOCK_STREAM, 0) into an',
      'IPPROTO_MPTCP socket; the program itself knows nothing about MPTCP. The server streams a',
      'byte pattern; the client checks every byte and reports progress.');
    const serveArgs = ['netns', 'exec', s, 'mptcpize', 'run', ...node, 'serve', NET.server.address, String(NET.server.port)];
    this.io.say(`   $ ip netns exec ${s} mptcpize run node transfer.js serve ${NET.server.address} ${NET.server.port}`);
    this.server = this.spawn('server', serveArgs);
    await this.server.waitFor('listening', TIMING.startMs);
    this.io.say(`   $ ip netns exec ${c} mptcpize run node transfer.js fetch ${NET.server.address} ${NET.server.port}`);
    this.t0 = Date.now();
    this.startSampler();
    this.client = this.spawn('client', ['netns', 'exec', c, 'mptcpize', 'run', ...node, 'fetch', NET.server.address, String(NET.server.port)]);
    await this.client.waitFor('connected', TIMING.startMs);
    await this.waitUntil(() => this.subflows.some((f) => f.path === 'wi-fi' && f.closedAtMs === undefined), TIMING.joinMs,
      'the wi-fi subflow to be established');
    await this.showSubflows();
    await this.hold(TIMING.bothUpMs);

    this.step('7. The ethernet link goes down in the middle of the transfer',
      'What the server sends on the initial subflow is no longer acknowledged. After a few',
      'retransmission timeouts it marks that subflow stale (net.mptcp.stale_loss_cnt, default 4) and',
      'sends the data, the unacknowledged part included, over the backup subflow.');
    await this.ip(['-n', c, 'link', 'set', NET.ethernet.ifname, 'down']);
    const down = this.sampleNow();
    this.tDown = down.t;
    const moved = await this.waitUntil(() => {
      const last = this.samples[this.samples.length - 1];
      return last && last.t > down.t && last.wifi.rxBytes - down.wifi.rxBytes >= FLOWING ? last : undefined;
    }, TIMING.failoverMs, 'data to flow over wi-fi after ethernet went down');
    this.failoverMs = moved.t - down.t;
    this.io.say(`   -> the transfer goes on over wi-fi, ${this.failoverMs} ms after ethernet went down`);
    await this.hold(TIMING.downMs);

    this.step('8. Ethernet comes back',
      'Taking a link down removes its routes; a network manager puts them back when it comes up:');
    await this.ip(['-n', c, 'link', 'set', NET.ethernet.ifname, 'up']);
    await this.ip(['-n', c, 'route', 'add', 'default', 'via', NET.ethernet.gateway, 'dev', NET.ethernet.ifname, 'metric', String(NET.ethernet.metric)]);
    await this.ip(['-n', c, 'route', 'add', 'default', 'via', NET.ethernet.gateway, 'dev', NET.ethernet.ifname, 'table', String(NET.ethernet.table)]);
    const up = this.sampleNow();
    this.tUp = up.t;
    this.io.say('   The initial subflow\'s next retransmission gets through, it is no longer stale, and the');
    this.io.say('   data moves back to ethernet, the backup idles again:');
    const back = await this.waitUntil(() => {
      const last = this.samples[this.samples.length - 1];
      return last && last.t > up.t && last.eth.rxBytes - up.eth.rxBytes >= FLOWING ? last : undefined;
    }, TIMING.recoverMs, 'data to flow over ethernet again').catch(() => undefined);
    this.recoveredMs = back ? back.t - up.t : null;
    this.io.say(back ? `   -> back on ethernet ${this.recoveredMs} ms after it came up` : `   -> not back on ethernet within ${TIMING.recoverMs} ms`);
    await this.hold(TIMING.afterUpMs);
    if (this.userspace) await this.dropWifiSubflow();

    this.step('9. End of the transfer');
    await this.readSubflowBytes();
    this.stopPm?.();
    this.stopPm = undefined;
    this.client.send('stop');
    const done = await this.client.waitFor('done', TIMING.stopMs);
    await this.server.waitFor('sent', TIMING.stopMs).catch(() => undefined);
    this.sampleNow();
    this.io.say(`   client: ${mb(Number(done.bytes))} received, byte pattern ${done.verified ? 'verified' : 'WRONG'}`);
  }

  /** Userspace mode only: closes the wi-fi subflow, as a radio dropping out would, and waits for the re-open. */
  private async dropWifiSubflow(): Promise<void> {
    const wifi = [...this.subflows].reverse().find((f) => f.path === 'wi-fi' && f.closedAtMs === undefined);
    const token = this.token;
    if (!wifi || token === undefined || !this.pm || wifi.localPort === undefined || wifi.remotePort === undefined) {
      throw new Error('no open wi-fi subflow to close');
    }
    this.step('8b. The wi-fi subflow drops (the demo closes it), and the path manager re-opens it',
      `> pm.destroySubflow({ token, local: { address: '${wifi.localAddress}', port: ${wifi.localPort} }, remote: { address: '${wifi.remoteAddress}', port: ${wifi.remotePort} } })`);
    const before = this.subflows.length;
    await this.pm.destroySubflow({
      token,
      local: { address: wifi.localAddress, port: wifi.localPort },
      remote: { address: wifi.remoteAddress, port: wifi.remotePort },
    });
    await this.waitUntil(() => this.subflows.slice(before).some((f) => f.path === 'wi-fi'), TIMING.reopenMs,
      'the path manager to re-open the wi-fi subflow');
    this.io.say('   -> re-opened, as a backup again');
  }

  // ------------------------------------------------------------------ events and measurements

  private token: number | undefined;

  private onEvent(e: MptcpEvent): void {
    this.eventCounts[e.type] = (this.eventCounts[e.type] ?? 0) + 1;
    const at = `${((Date.now() - this.t0) / 1000).toFixed(2).padStart(6)} s`;
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
      if (f) f.closedAtMs = Date.now() - this.t0;
    } else if (e.type === 'subPriority') {
      const f = this.subflows.find((s) => key(s) === key(e) && s.closedAtMs === undefined);
      if (f) f.backup = e.backup === true;
    }
    if ((e.type === 'subEstablished' || e.type === 'subPriority') && e.backup && e.localAddress === NET.wifi.address) {
      this.backupSeen = true;
      this.backupSeenBy.add('client');
    }
  }

  private onServerEvent(e: MptcpEvent): void {
    if (e.type === 'invalid' || e.type === 'unknown') return;
    const key = `server ${e.type}`;
    this.eventCounts[key] = (this.eventCounts[key] ?? 0) + 1;
    const at = `${((Date.now() - this.t0) / 1000).toFixed(2).padStart(6)} s`;
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

  private readonly backupSeenBy = new Set<'client' | 'server'>();

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
      establishedAtMs: Date.now() - this.t0,
    });
  }

  private startSampler(): void {
    this.sampleNow();
    this.sampler = setInterval(() => {
      try {
        this.sampleNow();
      } catch {
        // the namespace is going away; the last samples stand
      }
    }, TIMING.sampleMs);
  }

  private sampleNow(): Sample {
    const m = readCounters(this.names.client);
    const s: Sample = {
      t: Date.now(),
      eth: m.get(NET.ethernet.ifname) ?? ZERO,
      wifi: m.get(NET.wifi.ifname) ?? ZERO,
      app: this.client?.progress ?? 0,
    };
    if (this.samples.length >= 5000) this.samples.splice(1, 1);
    this.samples.push(s);
    return s;
  }

  /** Waits `ms`, printing one progress line per second. */
  private async hold(ms: number): Promise<void> {
    const end = Date.now() + ms;
    for (let i = 0; i < 1000 && Date.now() < end; i++) {
      const from = this.samples[this.samples.length - 1];
      await sleep(Math.min(1000, end - Date.now()));
      const to = this.samples[this.samples.length - 1];
      if (!from || !to || to.t <= from.t) continue;
      const secs = (to.t - from.t) / 1000;
      const rate = (a: number, b: number): string => `${((b - a) / secs / 1e6).toFixed(2)} MB/s`;
      this.io.say(`   ${((to.t - this.t0) / 1000).toFixed(1).padStart(5)} s  received ${mb(to.app).padStart(8)}` +
        `   ethernet ${rate(from.eth.rxBytes, to.eth.rxBytes).padStart(10)}   wi-fi ${rate(from.wifi.rxBytes, to.wifi.rxBytes).padStart(10)}`);
      if (this.client?.exited !== undefined) throw new Error(`the transfer client exited early: ${this.client.last('error')?.message ?? this.client.stderr}`);
    }
  }

  private async waitUntil<T>(pred: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (let i = 0; i < 10_000; i++) {
      const v = pred();
      if (v) return v;
      if (this.client?.exited !== undefined) {
        throw new Error(`the transfer client exited while waiting for ${what}: ${this.client.last('error')?.message ?? this.client.stderr}`);
      }
      if (Date.now() >= end) break;
      await sleep(20);
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }

  private spawn(label: string, args: string[]): Proc {
    const p = new Proc(label, 'ip', args);
    this.procs.push(p);
    return p;
  }

  private async ss(): Promise<SsSocket[]> {
    const out = await run('ss', ['-N', this.names.client, '-MtniH']);
    return parseSs(out).filter((x) => x.peer.endsWith(`:${NET.server.port}`));
  }

  private async showSubflows(): Promise<void> {
    this.io.say(`   $ ss -N ${this.names.client} -Mtni   (-M: MPTCP sockets too)`);
    for (const x of await this.ss()) {
      const extraSubflows = /subflows:(\d+)/.exec(x.info)?.[1] ?? '0';
      const what = x.netid === 'mptcp' ? `the MPTCP connection (subflows:${extraSubflows} counts those beyond the first)`
        : `subflow over ${pathOf(x.local.replace(/%.*$|:\d+$/g, ''))}${x.flags ? `, flags:${x.flags}` : ''}`;
      this.io.say(`     ${x.netid.padEnd(5)} ${x.local.padEnd(26)} ${x.peer.padEnd(18)} ${what}`);
    }
    this.io.say('   (flags: M/m MP_CAPABLE, J/j MP_JOIN, b backup asked by this side, B by the peer, e fully established)');
  }

  private async readSubflowBytes(): Promise<void> {
    try {
      for (const x of await this.ss()) {
        if (x.netid !== 'tcp') continue;
        const m = /bytes_received:(\d+)/.exec(x.info);
        const local = x.local.replace(/%[^:]*/, '');
        this.ssBytes.set(local, m ? Number(m[1]) : 0);
        if (x.flags?.includes('b') && local.startsWith(`${NET.wifi.address}:`)) this.backupFlagInSs = true;
      }
    } catch {
      // informational only
    }
  }

  private backupFlagInSs = false;

  // ------------------------------------------------------------------ report

  private report(error: string | undefined): Omit<DemoSummary, 'namespaces' | 'result' | 'exitCode' | 'durationMs'> {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const at = (t: number | undefined): Sample | undefined =>
      t === undefined ? undefined : this.samples.find((s) => s.t >= t) ?? last;
    const down = at(this.tDown);
    const up = at(this.tUp);
    const path = (l: typeof NET.ethernet | typeof NET.wifi, pick: (s: Sample) => LinkCounters): PathStats => {
      const a = first ? pick(first) : ZERO;
      const b = last ? pick(last) : ZERO;
      const d = down ? pick(down) : undefined;
      const u = up ? pick(up) : undefined;
      return {
        interface: l.ifname,
        address: l.address,
        rate: l.rate,
        bytes: b.rxBytes - a.rxBytes + b.txBytes - a.txBytes,
        rxBytes: b.rxBytes - a.rxBytes,
        txBytes: b.txBytes - a.txBytes,
        rxBeforeDown: d ? d.rxBytes - a.rxBytes : b.rxBytes - a.rxBytes,
        rxWhileDown: d && u ? u.rxBytes - d.rxBytes : 0,
        rxAfterUp: u ? b.rxBytes - u.rxBytes : 0,
      };
    };
    const ethernet = path(NET.ethernet, (s) => s.eth);
    const wifi = path(NET.wifi, (s) => s.wifi);
    for (const f of this.subflows) {
      const b = this.ssBytes.get(`${f.localAddress}:${f.localPort}`);
      if (b !== undefined) f.bytesReceived = b;
    }
    const done = this.client?.last('done');
    const sent = this.server?.last('sent');
    const clientErr = this.client?.last('error');
    if (clientErr) this.transferError = String(clientErr.message);
    const appDown = down?.app ?? 0;
    const appUp = up?.app ?? 0;
    const verified = done?.verified === true;
    const bytes = done ? Number(done.bytes) : this.client?.progress ?? 0;
    const survived = verified && this.failoverMs !== null && appUp - appDown >= FLOWING && !this.transferError &&
      (sent === undefined || Number(sent.bytes) === bytes);
    const wifiSubflows = this.subflows.filter((f) => f.path === 'wi-fi');
    const checks: Check[] = [
      { name: 'ethernet carried data', ok: ethernet.rxBeforeDown >= 1e6, detail: `${mb(ethernet.rxBeforeDown)} received over ${NET.ethernet.ifname} before it went down` },
      { name: 'wi-fi carried data', ok: wifi.rxWhileDown >= 256 * 1024, detail: `${mb(wifi.rxWhileDown)} received over ${NET.wifi.ifname} while ethernet was down` },
      {
        name: 'backup flag on the wi-fi subflow', ok: this.backupSeen,
        detail: this.backupSeen ? `seen in the ${[...this.backupSeenBy].join(' and ')} events${this.backupFlagInSs ? ' and in ss (flag b)' : ''}`
          : `no event for ${NET.wifi.address} had backup set (${wifiSubflows.length} wi-fi subflow(s) seen)`,
      },
      {
        name: 'transfer survived ethernet going down', ok: survived,
        detail: survived ? `one connection, ${mb(appUp - appDown)} delivered while ethernet was down, every byte verified`
          : `failover ${this.failoverMs === null ? 'never happened' : `${this.failoverMs} ms`}, ${mb(appUp - appDown)} delivered while down, ` +
            `${verified ? 'verified' : 'not verified'}${this.transferError ? `, ${this.transferError}` : ''}`,
      },
    ];
    if (this.userspace) {
      const ok = this.pmStats.opened >= 2 && this.pmStats.reopened >= 1;
      checks.push({ name: 'path manager opened and re-opened the wi-fi subflow', ok, detail: `${this.pmStats.opened} opened, ${this.pmStats.reopened} re-opened` });
    }
    return {
      mode: this.userspace ? 'userspace' : 'kernel',
      kernelRelease: release(),
      paths: { ethernet, wifi },
      transfer: {
        bytes,
        verified,
        serverSentBytes: sent ? Number(sent.bytes) : undefined,
        survivedLinkDown: survived,
        ...(this.transferError ? { error: this.transferError } : {}),
      },
      subflows: this.subflows,
      backupSeenOnWifi: this.backupSeen,
      failoverMs: this.failoverMs,
      recoveredMs: this.recoveredMs,
      ...(this.userspace ? { pathManager: { ...this.pmStats, failures: this.pmStats.failures.slice(0, 20) } } : {}),
      events: this.eventCounts,
      checks,
      ...(error ? { error } : {}),
    };
  }
}

/** One socket of `ss -MtniH`: its line and the info line under it. */
interface SsSocket {
  netid: string;
  local: string;
  peer: string;
  info: string;
  flags?: string;
}

function parseSs(text: string): SsSocket[] {
  const out: SsSocket[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    if (/^\s/.test(line) && out.length) {
      const cur = out[out.length - 1];
      cur.info += ` ${line.trim()}`;
      cur.flags = /\bflags:(\S+)/.exec(cur.info)?.[1];
      continue;
    }
    const f = line.trim().split(/\s+/);
    if (f.length >= 6) out.push({ netid: f[0], local: f[4], peer: f[5], info: '' });
  }
  return out;
}

function pathOf(address: string): 'ethernet' | 'wi-fi' | 'other' {
  if (address === NET.ethernet.address) return 'ethernet';
  if (address === NET.wifi.address) return 'wi-fi';
  return 'other';
}

function endpointLine(ep: Endpoint): string {
  return [ep.address, ep.port ? `port ${ep.port}` : '', `id ${ep.id}`, ...ep.flags, ep.ifname ? `dev ${ep.ifname}` : '']
    .filter(Boolean).join(' ');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
