// The network steps of the walkthrough: namespaces, veth links and addresses (step 1), tbf shaping
// (step 2), per-source routing through SourceRouting (step 4), and taking ethernet down and back up
// (steps 7 and 8).

import { SourceRouting } from '../src/index.js';
import { ip, step, sysctl, type DemoIo } from './narration.js';
import { run, type SandboxNames } from './sandbox.js';
import { NET } from './settings.js';
import { rateText } from './summary.js';

/** Step 1: the three namespaces, their links and addresses, forwarding and default routes. */
export async function buildSandbox(io: DemoIo, names: SandboxNames): Promise<void> {
  const { client: c, router: r, server: s } = names;
  step(io, '1. A sandbox: three network namespaces (this machine\'s own network is not touched)',
    `client ${c}: "ethernet" ${NET.ethernet.ifname} ${NET.ethernet.address} and "wi-fi" ${NET.wifi.ifname} ${NET.wifi.address}`,
    `router ${r}: forwards between the two client links and the server link`,
    `server ${s}: one address, ${NET.server.address}, like most servers on the Internet`);
  for (const ns of [c, r, s]) await ip(io, ['netns', 'add', ns]);
  await ip(io, ['-n', c, 'link', 'add', NET.ethernet.ifname, 'type', 'veth', 'peer', 'name', NET.ethernet.peer, 'netns', r]);
  await ip(io, ['-n', c, 'link', 'add', NET.wifi.ifname, 'type', 'veth', 'peer', 'name', NET.wifi.peer, 'netns', r]);
  await ip(io, ['-n', r, 'link', 'add', NET.server.peer, 'type', 'veth', 'peer', 'name', NET.server.ifname, 'netns', s]);
  await ip(io, ['-n', c, 'addr', 'add', `${NET.ethernet.address}/24`, 'dev', NET.ethernet.ifname]);
  await ip(io, ['-n', c, 'addr', 'add', `${NET.wifi.address}/24`, 'dev', NET.wifi.ifname]);
  await ip(io, ['-n', r, 'addr', 'add', `${NET.ethernet.gateway}/24`, 'dev', NET.ethernet.peer]);
  await ip(io, ['-n', r, 'addr', 'add', `${NET.wifi.gateway}/24`, 'dev', NET.wifi.peer]);
  await ip(io, ['-n', r, 'addr', 'add', `${NET.server.gateway}/24`, 'dev', NET.server.peer]);
  await ip(io, ['-n', s, 'addr', 'add', `${NET.server.address}/24`, 'dev', NET.server.ifname]);
  const links: [string, string[]][] = [
    [c, ['lo', NET.ethernet.ifname, NET.wifi.ifname]],
    [r, ['lo', NET.ethernet.peer, NET.wifi.peer, NET.server.peer]],
    [s, ['lo', NET.server.ifname]],
  ];
  for (const [ns, devs] of links) for (const d of devs) await ip(io, ['-n', ns, 'link', 'set', d, 'up'], false);
  io.say('   (every link and lo set up)');
  sysctl(io, r, 'net/ipv4/ip_forward', '1');
  io.say('   The router drops packets whose source address does not belong to the link they come in on,');
  io.say('   as access networks do (reverse-path filtering):');
  sysctl(io, r, 'net/ipv4/conf/all/rp_filter', '1');
  await ip(io, ['-n', s, 'route', 'add', 'default', 'via', NET.server.gateway]);
  io.say('   The client has a default route on each link; ethernet is preferred (lower metric), as');
  io.say('   NetworkManager would set them up:');
  for (const l of [NET.ethernet, NET.wifi]) {
    await ip(io, ['-n', c, 'route', 'add', 'default', 'via', l.gateway, 'dev', l.ifname, 'metric', String(l.metric)]);
  }
}

/** Step 2: a tbf qdisc at each end of both client links. */
export async function shapeLinks(io: DemoIo, names: SandboxNames): Promise<void> {
  const { client: c, router: r } = names;
  step(io, `2. Different bandwidths: ethernet ${rateText(NET.ethernet.rate)}, wi-fi ${rateText(NET.wifi.rate)} (tbf qdisc, both directions)`);
  for (const l of [NET.ethernet, NET.wifi]) {
    for (const [ns, dev] of [[r, l.peer], [c, l.ifname]]) {
      const args = ['-n', ns, 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', l.rate, 'burst', '32kb', 'latency', '50ms'];
      io.say(`   $ tc ${args.join(' ')}`);
      await run('tc', args);
    }
  }
}

/** Step 4 (the heading and the doctor's check-up are the scenario's): a rule and a table per client address. */
export async function routePerSource(io: DemoIo, names: SandboxNames): Promise<void> {
  const c = names.client;
  io.say(`   > const rt = await SourceRouting.open({ netns: '${c}' })`);
  const rt = await SourceRouting.open({ netns: c });
  try {
    for (const l of [NET.ethernet, NET.wifi]) {
      io.say(`   > await rt.add({ address: '${l.address}', ifname: '${l.ifname}', gateway: '${l.gateway}', table: ${l.table} })`);
      await rt.add({ address: l.address, ifname: l.ifname, gateway: l.gateway, table: l.table });
    }
    io.say('   what it made, as `ip rule` would say it (rule "from ADDRESS lookup TABLE", pref 10000, proto 77),');
    io.say('   each table holding the subnet on its link and a default route via its gateway:');
    for (const e of await rt.list()) io.say(`     from ${e.address} lookup ${e.table}: dev ${e.ifname} via ${e.gateway}`);
  } finally {
    rt.close();
  }
}

/** Step 7: the client's ethernet link goes down (its routes go with it). */
export async function ethernetDown(io: DemoIo, client: string): Promise<void> {
  await ip(io, ['-n', client, 'link', 'set', NET.ethernet.ifname, 'down']);
}

/**
 * Step 8: the client's ethernet link comes back up; the main default route comes back as a network
 * manager would restore it, and the ethernet table's routes (gone with the link) through SourceRouting.
 */
export async function ethernetUp(io: DemoIo, client: string): Promise<void> {
  await ip(io, ['-n', client, 'link', 'set', NET.ethernet.ifname, 'up']);
  await ip(io, ['-n', client, 'route', 'add', 'default', 'via', NET.ethernet.gateway, 'dev', NET.ethernet.ifname, 'metric', String(NET.ethernet.metric)]);
  const l = NET.ethernet;
  io.say(`   > await rt.add({ address: '${l.address}', ifname: '${l.ifname}', gateway: '${l.gateway}', table: ${l.table} })   # same entry, routes put back`);
  const rt = await SourceRouting.open({ netns: client });
  try {
    await rt.add({ address: l.address, ifname: l.ifname, gateway: l.gateway, table: l.table });
  } finally {
    rt.close();
  }
}
