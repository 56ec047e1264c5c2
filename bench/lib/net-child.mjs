// One end of the socket benchmark, as a process of its own (built library from dist/).
// Usage: node net-child.mjs serve|bulk|conns tcp|mptcp-pm HOST PORT [AMOUNT] [CONCURRENCY]
//   serve: a sink; each connection gets back the byte count it sent (8 bytes, LE) when it ends.
//   bulk:  one connection sending AMOUNT bytes; prints {"seconds", "bytes", "mptcp"}.
//   conns: AMOUNT connections (CONCURRENCY at a time), 1 byte each way; prints {"seconds", "count"}.
// `tcp` is node:net (run it under `mptcpize run` for the LD_PRELOAD variant); `mptcp-pm` is mptcp-pm/net.
import net from 'node:net';
import { connect as mconnect, createServer as mcreateServer, isMptcp } from '../../dist/src/net/index.js';

const [role, impl, host, portText, amountText, concText] = process.argv.slice(2);
const port = Number(portText);
const amount = Number(amountText ?? 0);
const useLib = impl === 'mptcp-pm';
const connectTo = () => (useLib ? mconnect({ host, port, fallback: 'error' }) : net.connect({ host, port }));
setTimeout(() => {
  process.stderr.write('net-child: still running after 300 s\n');
  process.exit(3);
}, 300_000).unref();

function serve() {
  const onConn = (sock) => {
    let n = 0;
    sock.on('data', (d) => (n += d.length));
    sock.on('end', () => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt(n));
      sock.end(b);
    });
    sock.on('error', () => undefined);
  };
  const server = useLib ? mcreateServer({ fallback: 'error' }, onConn) : net.createServer(onConn);
  server.listen({ port, host, backlog: 4096 }, () => process.stdout.write('ready\n'));
}

/** Connects, sends `bytes`, ends, and resolves once the server's count arrives and the socket closes. */
function one(bytes, chunk) {
  return new Promise((resolve, reject) => {
    const sock = connectTo();
    let mptcp;
    let reply = Buffer.alloc(0);
    sock.on('error', reject);
    sock.on('data', (d) => (reply = Buffer.concat([reply, d])));
    sock.on('close', () => {
      if (reply.length !== 8 || reply.readBigUInt64LE(0) !== BigInt(bytes)) reject(new Error(`bad reply after ${bytes} bytes`));
      else resolve(mptcp);
    });
    sock.on('connect', async () => {
      if (useLib) mptcp = isMptcp(sock);
      let left = bytes;
      while (left > 0) {
        const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= part.length;
        if (!sock.write(part)) await new Promise((r) => sock.once('drain', r));
      }
      sock.end();
    });
  });
}

async function bulk() {
  const chunk = Buffer.alloc(256 * 1024, 0x5a);
  const t0 = performance.now();
  const mptcp = await one(amount, chunk);
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(`${JSON.stringify({ seconds, bytes: amount, mptcp })}\n`);
}

async function conns() {
  const chunk = Buffer.from('x');
  const conc = Number(concText ?? 32);
  let started = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (started < amount) {
      started++;
      await one(1, chunk);
    }
  };
  await Promise.all(Array.from({ length: conc }, worker));
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(`${JSON.stringify({ seconds, count: amount })}\n`);
}

if (role === 'serve') serve();
else if (role === 'bulk') await bulk();
else if (role === 'conns') await conns();
else {
  process.stderr.write('usage: net-child.mjs serve|bulk|conns tcp|mptcp-pm HOST PORT [AMOUNT] [CONCURRENCY]\n');
  process.exit(2);
}
if (role !== 'serve') process.exit(0);
