// The walkthrough itself: runs the steps in order (the network ones from network.ts), configures
// MPTCP through the library, runs the transfer, takes ethernet down and back up, and reports.

import { MptcpPm, MptcpEvents, type Endpoint } from '../src/index.js';
import { hold, Sampler, waitUntil } from './measure.js';
import { step, sysctl, type DemoIo } from './narration.js';
import { buildSandbox, ethernetDown, ethernetUp, routePerSource, shapeLinks } from './network.js';
import { checkUp } from './doctor.js';
import { Proc, siblingScript } from './proc.js';
import { buildReport, type ScenarioResult } from './report.js';
import type { SandboxNames } from './sandbox.js';
import { FLOWING, NET, TIMING } from './settings.js';
import { readSubflowBytes, showSubflows, type SubflowBytes } from './connections.js';
import { SubflowTracker } from './subflows.js';
import { mb } from './summary.js';
import { runPathManager, type PathManagerStats } from './userspace-pm.js';
import { explainAroundRoutes, type ExplainSeen } from './explain-step.js';
import { killAndHeal, type HealSeen } from './heal.js';

export type { DemoIo } from './narration.js';
export { NET } from './settings.js';

/** One run of the walkthrough in the namespaces `names`; `run()` never throws, it reports. */
export class Scenario {
  private readonly procs: Proc[] = [];
  private readonly pmStats: PathManagerStats = { opened: 0, reopened: 0, failures: [] };
  private readonly sampler: Sampler;
  private readonly tracker: SubflowTracker;
  private pm: MptcpPm | undefined;
  private serverPm: MptcpPm | undefined;
  private events: MptcpEvents | undefined;
  private serverEvents: MptcpEvents | undefined;
  private stopPm: (() => Promise<void>) | undefined;
  private client: Proc | undefined;
  private server: Proc | undefined;
  private t0 = Date.now();
  private tDown: number | undefined;
  private tUp: number | undefined;
  private failoverMs: number | null = null;
  private recoveredMs: number | null = null;
  private endOfTransfer: SubflowBytes | undefined;
  private explained: ExplainSeen | undefined;
  private healed: HealSeen | undefined;

  constructor(
    private readonly names: SandboxNames,
    private readonly userspace: boolean,
    private readonly io: DemoIo,
  ) {
    this.sampler = new Sampler(names.client, () => this.client?.progress ?? 0);
    this.tracker = new SubflowTracker(io, () => Date.now() - this.t0);
  }

  /** Pids of the processes this run started and that may still be running. */
  childPids(): number[] {
    return this.procs.filter((p) => p.exited === undefined && p.pid !== undefined).map((p) => p.pid as number);
  }

  /** Runs every step; returns the summary without the namespace part (the caller removes them). */
  async run(): Promise<ScenarioResult> {
    let error: string | undefined;
    try {
      await buildSandbox(this.io, this.names);
      await shapeLinks(this.io, this.names);
      await this.configureMptcp();
      await this.routing();
      await this.watchEvents();
      await this.transfer();
    } catch (e) {
      error = (e as Error).message;
      this.io.say(`\n!! ${error}`);
    } finally {
      this.release();
    }
    return buildReport({
      userspace: this.userspace,
      samples: this.sampler.samples,
      tDown: this.tDown,
      tUp: this.tUp,
      failoverMs: this.failoverMs,
      recoveredMs: this.recoveredMs,
      tracker: this.tracker,
      endOfTransfer: this.endOfTransfer,
      clientProgress: this.client?.progress ?? 0,
      done: this.client?.last('done'),
      clientError: this.client?.last('error'),
      sent: this.server?.last('sent'),
      pmStats: this.pmStats,
      explained: this.explained,
      healed: this.healed,
      error,
    });
  }

  /** Stops timers, the path manager, sockets and child processes. Idempotent. */
  release(): void {
    this.sampler.stop();
    void this.stopPm?.();
    this.stopPm = undefined;
    this.events?.close();
    this.serverEvents?.close();
    this.pm?.close();
    this.serverPm?.close();
    for (const p of this.procs) p.kill();
  }

  // ------------------------------------------------------------------ steps

  private async configureMptcp(): Promise<void> {
    const { client: c, server: s } = this.names;
    step(this.io, '3. MPTCP on, and the path managers configured through mptcp-pm (generic netlink "mptcp_pm")');
    for (const ns of [c, s]) sysctl(this.io, ns, 'net/mptcp/enabled', '1');
    this.pm = await MptcpPm.open({ netns: c });
    this.serverPm = await MptcpPm.open({ netns: s });
    this.io.say('   server: accept up to 2 additional subflows (joins) per connection');
    this.io.say(`   > (await MptcpPm.open({ netns: '${s}' })).setLimits({ subflows: 2 })`);
    await this.serverPm.setLimits({ subflows: 2 });
    this.io.say(this.userspace
      ? '   client: the same endpoints and limits as for the in-kernel path manager; a program of ours reads them'
      : '   client: the in-kernel path manager opens a subflow from each "subflow" endpoint; the');
    this.io.say(this.userspace
      ? '   and does what the kernel would (step 5), the wi-fi subflow a backup used only when nothing else works:'
      : '   wi-fi one is a backup, used only when no other subflow can carry data. Without a device, their');
    if (!this.userspace) this.io.say('   subflows leave by whatever link routing picks:');
    this.io.say(`   > pm.setLimits({ subflows: 2, addAddrAccepted: 2 })`);
    await this.pm.setLimits({ subflows: 2, addAddrAccepted: 2 });
    this.io.say(`   > pm.addEndpoint({ address: '${NET.ethernet.address}', flags: ['subflow'] })`);
    await this.pm.addEndpoint({ address: NET.ethernet.address, flags: ['subflow'] });
    this.io.say(`   > pm.addEndpoint({ address: '${NET.wifi.address}', flags: ['subflow', 'backup'] })`);
    await this.pm.addEndpoint({ address: NET.wifi.address, flags: ['subflow', 'backup'] });
    this.io.say('   what `ip mptcp endpoint show` and `ip mptcp limits show` would print, read back with');
    this.io.say('   pm.listEndpoints() and pm.getLimits():');
    for (const ep of await this.pm.listEndpoints()) this.io.say(`     ${endpointLine(ep)}`);
    const limits = await this.pm.getLimits();
    this.io.say(`     add_addr_accepted ${limits.addAddrAccepted} subflows ${limits.subflows}`);
    if (!this.userspace) return;
    this.io.say('   and the kernel only carries out the commands of a userspace path manager:');
    this.io.say(`   > pm.setPathManager('userspace')   # sysctl net.mptcp.path_manager=userspace`);
    this.io.say(`   = ${await this.pm.setPathManager('userspace')}`);
  }

  /** Step 4: the doctor finds the tutorial's routing problem, SourceRouting fixes it, the doctor agrees. */
  private async routing(): Promise<void> {
    const c = this.names.client;
    step(this.io, '4. One routing table per source address',
      'The kernel picks a route by destination. Both subflows go to the same server, so without more',
      'the main table sends both out of the preferred default route, ethernet: the wi-fi subflow would',
      `leave through eth0 with source ${NET.wifi.address}, and the router (like any provider) drops it.`,
      'mptcp-pm doctor (the MPTCP troubleshooting list, run by the tool) sees it:');
    const before = await checkUp(this.io, c);
    if (!before.includes('missing-source-routing')) throw new Error(`the doctor did not report the missing source routing (found: ${before.join(', ') || 'nothing'})`);
    const add = async (): Promise<void> => {
      this.io.say('   A rule per source address sends each subflow out of the link its address belongs to (an');
      this.io.say('   endpoint added with a device would bind its subflows to it instead):');
      await routePerSource(this.io, this.names);
    };
    if (this.userspace) await add();
    else this.explained = await explainAroundRoutes(this.io, this.names, (label, args) => this.spawn(label, args), add);
    this.io.say('   and the doctor again:');
    const after = await checkUp(this.io, c);
    if (after.includes('missing-source-routing')) throw new Error('the doctor still reports missing source routing after SourceRouting.add');
    if (this.userspace) this.io.say('   (the userspace path manager\'s listener starts with step 5)');
  }

  private async watchEvents(): Promise<void> {
    const c = this.names.client;
    step(this.io, '5. Watching the client\'s MPTCP events live (what `ip mptcp monitor` shows)',
      `> const events = await MptcpEvents.open({ netns: '${c}' })`);
    this.events = await MptcpEvents.open({ netns: c });
    this.events.on('event', (e) => this.tracker.onClientEvent(e));
    this.io.say('   and the server\'s subflow events, where the backup request arrives:');
    this.io.say(`   > await MptcpEvents.open({ netns: '${this.names.server}', types: ['subEstablished', 'subPriority', 'subClosed'] })`);
    this.serverEvents = await MptcpEvents.open({ netns: this.names.server, types: ['subEstablished', 'subPriority', 'subClosed'] });
    this.serverEvents.on('event', (e) => this.tracker.onServerEvent(e));
    this.events.on('overrun', (o) => this.io.say(`   [event] overrun: ${o.lost ?? 'some'} event(s) lost`));
    if (!this.userspace || !this.pm) return;
    this.io.say('   and the path manager (demo/userspace-pm.ts: mptcp-pm\'s framework with a built-in policy) runs:');
    this.io.say(`   > UserspacePathManager.start({ netns: '${c}', policy: policies.kernelCompatible({ netns: '${c}' }),`);
    this.io.say('       backoff: policies.KERNEL_COMPATIBLE_BACKOFF })   # mptcp-pm userspace-pm --policy kernel-compatible');
    this.stopPm = await runPathManager(c, this.pmStats);
  }

  private async transfer(): Promise<void> {
    const { client: c, server: s } = this.names;
    const node = [process.execPath, ...siblingScript('transfer')];
    step(this.io, '6. A real MPTCP transfer: a Node server and client on mptcp-pm/net',
      'createServer() and connect() of mptcp-pm/net open IPPROTO_MPTCP sockets and hand them to Node as',
      'ordinary streams (no LD_PRELOAD shim). The server streams a byte pattern; the client checks',
      'every byte and reports progress.');
    const serveArgs = ['netns', 'exec', s, ...node, 'serve', NET.server.address, String(NET.server.port)];
    this.io.say(`   $ ip netns exec ${s} node transfer.js serve ${NET.server.address} ${NET.server.port}`);
    this.server = this.spawn('server', serveArgs);
    await this.server.waitFor('listening', TIMING.startMs);
    this.io.say(`   $ ip netns exec ${c} node transfer.js fetch ${NET.server.address} ${NET.server.port}`);
    this.t0 = Date.now();
    this.sampler.start();
    const client = this.spawn('client', ['netns', 'exec', c, ...node, 'fetch', NET.server.address, String(NET.server.port)]);
    this.client = client;
    await client.waitFor('connected', TIMING.startMs);
    await waitUntil(() => this.tracker.subflows.some((f) => f.path === 'wi-fi' && f.closedAtMs === undefined), TIMING.joinMs,
      'the wi-fi subflow to be established', client);
    await showSubflows(this.io, c);
    await hold(this.io, this.sampler, TIMING.bothUpMs, this.t0, client);

    step(this.io, '7. The ethernet link goes down in the middle of the transfer',
      'What the server sends on the initial subflow is no longer acknowledged. After a few',
      'retransmission timeouts it marks that subflow stale (net.mptcp.stale_loss_cnt, default 4) and',
      'sends the data, the unacknowledged part included, over the backup subflow.');
    await ethernetDown(this.io, c);
    const down = this.sampler.now();
    this.tDown = down.t;
    const moved = await waitUntil(() => {
      const last = this.sampler.last;
      return last && last.t > down.t && last.wifi.rxBytes - down.wifi.rxBytes >= FLOWING ? last : undefined;
    }, TIMING.failoverMs, 'data to flow over wi-fi after ethernet went down', client);
    this.failoverMs = moved.t - down.t;
    this.io.say(`   -> the transfer goes on over wi-fi, ${this.failoverMs} ms after ethernet went down`);
    await hold(this.io, this.sampler, TIMING.downMs, this.t0, client);

    step(this.io, '8. Ethernet comes back',
      'Taking a link down removes its routes; a network manager puts them back when it comes up:');
    await ethernetUp(this.io, c);
    const up = this.sampler.now();
    this.tUp = up.t;
    this.io.say('   The initial subflow\'s next retransmission gets through, it is no longer stale, and the');
    this.io.say('   data moves back to ethernet, the backup idles again:');
    const back = await waitUntil(() => {
      const last = this.sampler.last;
      return last && last.t > up.t && last.eth.rxBytes - up.eth.rxBytes >= FLOWING ? last : undefined;
    }, TIMING.recoverMs, 'data to flow over ethernet again', client).catch(() => undefined);
    this.recoveredMs = back ? back.t - up.t : null;
    this.io.say(back ? `   -> back on ethernet ${this.recoveredMs} ms after it came up` : `   -> not back on ethernet within ${TIMING.recoverMs} ms`);
    await hold(this.io, this.sampler, TIMING.afterUpMs, this.t0, client);
    if (this.userspace) this.healed = await killAndHeal(this.io, c, this.tracker, client);

    step(this.io, '9. End of the transfer');
    this.endOfTransfer = await readSubflowBytes(c);
    await this.stopPm?.();
    this.stopPm = undefined;
    client.send('stop');
    const done = await client.waitFor('done', TIMING.stopMs);
    await this.server.waitFor('sent', TIMING.stopMs).catch(() => undefined);
    this.sampler.now();
    this.io.say(`   client: ${mb(Number(done.bytes))} received, byte pattern ${done.verified ? 'verified' : 'WRONG'}`);
  }

  private spawn(label: string, args: string[]): Proc {
    const p = new Proc(label, 'ip', args);
    this.procs.push(p);
    return p;
  }
}

/** One endpoint as `ip mptcp endpoint show` prints it. */
function endpointLine(ep: Endpoint): string {
  return [ep.address, ep.port ? `port ${ep.port}` : '', `id ${ep.id}`, ...ep.flags, ep.ifname ? `dev ${ep.ifname}` : '']
    .filter(Boolean).join(' ');
}
