// Step 4's `explain`: a first connection made before the per-source routes exist, explained (the
// wi-fi subflow is missing, and why), then explained again once the routes are in and the endpoint
// re-announced, as explain's fix says: nothing missing.

import { explainConnections, MptcpPm, type ConnectionExplanation, type MissingSubflow } from '../src/index.js';
import type { DemoIo } from './narration.js';
import { Proc, siblingScript } from './proc.js';
import type { SandboxNames } from './sandbox.js';
import { NET, TIMING } from './settings.js';

/** What explain said about the first connection, before and after the routes. */
export interface ExplainSeen {
  before: Pick<MissingSubflow, 'local' | 'remote' | 'cause' | 'evidence' | 'fix'>[];
  after: Pick<MissingSubflow, 'local' | 'remote' | 'cause'>[];
}

/** The port of the first connection's server (the transfer's is NET.server.port). */
const PROBE_PORT = NET.server.port + 1;

/** Polls explain on the client until `pick` returns something, at most `timeoutMs`. */
async function explainUntil<T>(client: string, pick: (c: ConnectionExplanation) => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (let i = 0; i < 1000; i++) {
    const c = (await explainConnections({ netns: client, windowMs: 0 })).find((x) => x.remote === NET.server.address && x.have.some((h) => h.remotePort === PROBE_PORT));
    const v = c === undefined ? undefined : pick(c);
    if (v !== undefined) return v;
    if (Date.now() >= end) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for explain to show ${what}`);
}

function print(io: DemoIo, client: string, c: ConnectionExplanation): void {
  io.say(`     token ${c.token} ${c.local} -> ${c.remote} (${c.side}, ${c.pathManager} path manager)`);
  for (const s of c.have) io.say(`       has     ${s.local}:${s.localPort} -> ${s.remote}:${s.remotePort} ${s.state}`);
  for (const m of c.missing) {
    io.say(`       MISSING ${m.local} -> ${m.remote}: ${m.cause}`);
    io.say(`         because ${m.evidence}`);
    io.say(`         fix: ${m.fix}`);
  }
  if (c.missing.length === 0) io.say('       nothing missing');
}

/**
 * Opens a first connection (a second transfer server on another port), explains it, runs `addRoutes`,
 * re-announces the wi-fi endpoint, and explains it again. The processes are stopped before returning.
 */
export async function explainAroundRoutes(io: DemoIo, names: SandboxNames, spawn: (label: string, args: string[]) => Proc,
  addRoutes: () => Promise<void>): Promise<ExplainSeen> {
  const { client: c, server: s } = names;
  const node = [process.execPath, ...siblingScript('transfer')];
  io.say('   A first connection shows what that costs. `mptcp-pm explain` says, per connection, which');
  io.say('   subflows the path manager should have made and why each missing one is missing:');
  io.say(`   $ ip netns exec ${s} node transfer.js serve ${NET.server.address} ${PROBE_PORT}   # and fetch from the client`);
  const server = spawn('probe-server', ['netns', 'exec', s, ...node, 'serve', NET.server.address, String(PROBE_PORT)]);
  let fetch: Proc | undefined;
  try {
    await server.waitFor('listening', TIMING.startMs);
    fetch = spawn('probe-client', ['netns', 'exec', c, ...node, 'fetch', NET.server.address, String(PROBE_PORT)]);
    await fetch.waitFor('connected', TIMING.startMs);
    io.say(`   > await explainConnections({ netns: '${c}' })   # what \`mptcp-pm -n ${c} explain\` prints`);
    const before = await explainUntil(c, (x) => (x.missing.some((m) => m.local === NET.wifi.address && m.cause === 'no-source-route') ? x : undefined),
      TIMING.joinMs, `why the wi-fi subflow is missing`);
    print(io, c, before);
    await addRoutes();
    const pm = await MptcpPm.open({ netns: c });
    try {
      const ep = (await pm.listEndpoints()).find((e) => e.address === NET.wifi.address);
      if (ep) {
        io.say('   and, as explain\'s fix ends, the wi-fi endpoint re-announced (the kernel opens an endpoint\'s');
        io.say('   subflows when it is added, on live connections too):');
        io.say(`   $ ip -n ${c} mptcp endpoint delete id ${ep.id} && ip -n ${c} mptcp endpoint add ${ep.address} id ${ep.id} ${ep.flags.join(' ')}`);
        await pm.deleteEndpoint(ep.id);
        await pm.addEndpoint({ address: ep.address, id: ep.id, flags: ep.flags.filter((f) => f !== 'implicit') });
      }
    } finally {
      pm.close();
    }
    io.say('   explain again:');
    const after = await explainUntil(c, (x) => (x.missing.length === 0 && x.have.some((h) => h.local === NET.wifi.address && h.state === 'established') ? x : undefined),
      TIMING.joinMs, 'the wi-fi subflow and nothing missing');
    print(io, c, after);
    return {
      before: before.missing.map(({ local, remote, cause, evidence, fix }) => ({ local, remote, cause, evidence, fix })),
      after: after.missing.map(({ local, remote, cause }) => ({ local, remote, cause })),
    };
  } finally {
    fetch?.kill();
    server.kill();
  }
}
