// MPTCP for http: the Agent and HttpsAgent of mptcp-pm/net in this process, and unmodified http
// programs started with `node --import mptcp-pm/register` in two namespaces, checked with `ss -M`.

import { afterAll, beforeAll, describe, expect } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';
import { Agent, HttpsAgent, createServer, isMptcp } from '../src/net/index.js';
import { kernelIt, scaled } from './helpers/netns.js';
import { makeTopology, type Topology } from './helpers/topology.js';
import { listening } from './helpers/net.js';

const it = kernelIt();
const ROOT = fileURLToPath(new URL('..', import.meta.url));
let t: Topology;
let dir: string;

beforeAll(async () => {
  t = await makeTopology('netreg');
  dir = mkdtempSync(join(tmpdir(), 'mptcppm-net-'));
}, scaled(30_000));
afterAll(async () => {
  await t?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** GET; resolves with the body and whether the response's socket was MPTCP while it carried it. */
function get(mod: typeof http | typeof https, opts: https.RequestOptions): Promise<{ body: string; mptcp: boolean }> {
  return new Promise((resolve, reject) => {
    const req = mod.get(opts, (res) => {
      let body = '';
      const mptcp = isMptcp(res.socket as Socket);
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ body, mptcp }));
    });
    req.setTimeout(scaled(5000), () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
  });
}

/** A child node process in `ns`; resolves with the first stdout line matching `re`. */
function nodeIn(ns: string, args: string[]): { line(re: RegExp): Promise<RegExpMatchArray>; kill(): void } {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return {
    kill: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
    line: async (re) => {
      const deadline = Date.now() + scaled(15_000);
      for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
        const m = re.exec(out);
        if (m) return m;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`node ${args.join(' ')} printed no ${re}: ${out} ${err}`);
    },
  };
}

describe('http over MPTCP', () => {
  it('Agent and HttpsAgent carry http and https over MPTCP connections', async () => {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-subj', '/CN=mptcp.test', '-addext', 'subjectAltName=IP:192.0.2.2', '-days', '1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const handler: http.RequestListener = (_q, r) => r.end('over mptcp');
    const plain = http.createServer(handler);
    const tls = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, handler);
    // An MPTCP listener hands its connections to the http and https servers.
    const s1 = createServer({ netns: t.server.name }, (c) => plain.emit('connection', c));
    const s2 = createServer({ netns: t.server.name }, (c) => tls.emit('connection', c));
    const agent = new Agent({ netns: t.client.name, keepAlive: true });
    const sagent = new HttpsAgent({ netns: t.client.name, ca: readFileSync(cert) });
    try {
      const p1 = await listening(s1, t.paths[0].server);
      const p2 = await listening(s2, t.paths[0].server);
      const a = await get(http, { host: t.paths[0].server, port: p1, agent });
      expect(a.body).toBe('over mptcp');
      expect(a.mptcp).toBe(true);
      const b = await get(https, { host: t.paths[0].server, port: p2, agent: sagent });
      expect(b.body).toBe('over mptcp');
      expect(b.mptcp).toBe(true);
    } finally {
      agent.destroy();
      sagent.destroy();
      s1.close();
      s2.close();
      plain.close();
      tls.close();
    }
  });

  it('unmodified http server and client programs under --import mptcp-pm/register are MPTCP (ss -M)', async () => {
    const server = join(dir, 'server.mjs');
    const client = join(dir, 'client.mjs');
    writeFileSync(server, `import http from 'node:http';
const s = http.createServer((q, r) => r.end('hello ' + q.url));
s.listen(0, () => console.log('READY', s.address().port));
setTimeout(() => process.exit(0), ${scaled(20_000)});
`);
    // The client keeps both connections busy (a request each every 100 ms), so neither idles out
    // (http's 5 s, undici's 4 s) while ss looks, however slow the machine.
    writeFileSync(client, `import http from 'node:http';
const [host, port] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const get = () => new Promise((resolve, reject) => http.get({ host, port, path: '/http', agent }, (res) => {
  let body = '';
  const localPort = res.socket.localPort;
  res.on('data', (d) => (body += d));
  res.on('end', () => resolve([body, localPort]));
}).on('error', reject));
setTimeout(() => process.exit(0), ${scaled(20_000)});
for (let i = 0; i < 100_000; i++) {
  const [body, localPort] = await get();
  const f = await fetch('http://' + host + ':' + port + '/fetch');
  if (i === 0) console.log('GOT', body, '|', await f.text(), '|', localPort);
  else await f.text();
  await new Promise((r) => setTimeout(r, 100));
}
`);
    const srv = nodeIn(t.server.name, ['--import', 'mptcp-pm/register', server]);
    const cli: { kill(): void }[] = [];
    try {
      const port = (await srv.line(/READY (\d+)/))[1];
      const c = nodeIn(t.client.name, ['--import', 'mptcp-pm/register', client, t.paths[0].server, port]);
      cli.push(c);
      const m = await c.line(/GOT (.*) \| (.*) \| (\d+)/);
      expect([m[1], m[2]]).toEqual(['hello /http', 'hello /fetch']);
      // Both keep-alive connections (http.Agent's and fetch's) are MPTCP at both ends.
      const clientSs = await t.client.exec('ss', ['-MnH', 'state', 'established']);
      const serverSs = await t.server.exec('ss', ['-MnH', 'state', 'established']);
      expect(clientSs).toContain(`${t.paths[0].client}:${m[3]}`);
      // The server listens on :: (dual stack), so it sees the client as ::ffff:192.0.2.1.
      const to = new RegExp(`${t.paths[0].server.replace(/\./g, '\\.')}\\]?:${port}(?:\\s|$)`);
      expect(clientSs.split('\n').filter((l) => to.test(l)).length).toBeGreaterThanOrEqual(2);
      expect(serverSs.split('\n').filter((l) => to.test(l)).length).toBeGreaterThanOrEqual(2);
      // The listener too: the unmodified server listens on an MPTCP socket.
      expect(await t.server.exec('ss', ['-MlnH'])).toContain(`:${port}`);
    } finally {
      srv.kill();
      for (const c of cli) c.kill();
    }
  });
});
