// The demo's transfer: a Node server and client on mptcp-pm/net (MPTCP sockets, no LD_PRELOAD).
// The server streams a checkable byte pattern until the client says stop; both report JSON lines.

import { createInterface } from 'node:readline';
import { connect, createServer, isMptcp, mptcpInfo } from '../src/net/index.js';

/** Pattern period: byte i of the stream is i % PERIOD, so a gap or a duplicate is detected. */
const PERIOD = 251;
const CHUNK = Buffer.from(Array.from({ length: PERIOD * 256 }, (_, i) => i % PERIOD));
const MAX_LIFETIME_MS = 120_000;
const STOP_TIMEOUT_MS = 15_000;
const PROGRESS_MS = 100;

function say(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, t: Date.now(), ...fields })}\n`);
}

function fail(message: string, code = 1): never {
  say('error', { message });
  process.exit(code);
}

/** Exits when the demo goes away (its pipe on stdin closes), and after a hard lifetime. */
function tieToParent(onLine: (line: string) => void): void {
  const rl = createInterface({ input: process.stdin });
  rl.on('line', onLine);
  rl.on('close', () => fail('the demo went away (stdin closed)', 3));
  setTimeout(() => fail(`still running after ${MAX_LIFETIME_MS} ms`, 4), MAX_LIFETIME_MS).unref();
}

function serve(host: string, port: number): void {
  // The listener stays open for the whole transfer: MP_JOIN SYNs of additional subflows arrive at
  // the listening socket, and would be refused once it is closed. Later connections are refused.
  let busy = false;
  // fallback 'error': the demo is about MPTCP, so a kernel without it stops here with the reason.
  const server = createServer({ fallback: 'error' }, (sock) => {
    if (busy) {
      sock.destroy();
      return;
    }
    busy = true;
    let sent = 0;
    let stopping = false;
    const pump = (): void => {
      for (let i = 0; i < 64 && !stopping; i++) {
        sent += CHUNK.length;
        if (!sock.write(CHUNK)) return;
      }
      if (!stopping) setImmediate(pump);
    };
    sock.on('drain', pump);
    sock.on('data', () => {
      if (stopping) return;
      stopping = true;
      sock.end();
    });
    sock.on('error', (e) => fail(`server socket: ${e.message}`));
    sock.on('close', () => {
      say('sent', { bytes: sent });
      process.exit(stopping ? 0 : 1);
    });
    say('accepted', { remote: sock.remoteAddress, remotePort: sock.remotePort });
    pump();
  });
  server.on('error', (e) => fail(`listen: ${e.message}`));
  server.listen(port, host, () => say('listening', { host, port }));
  tieToParent(() => undefined);
}

function fetch(host: string, port: number): void {
  let received = 0;
  let bad = -1;
  const sock = connect({ host, port, fallback: 'error' });
  const timer = setInterval(() => say('progress', { bytes: received }), PROGRESS_MS);
  sock.on('connect', () => say('connected', {
    local: sock.localAddress, localPort: sock.localPort, mptcp: isMptcp(sock), token: mptcpInfo(sock)?.token,
  }));
  sock.on('data', (data: Buffer) => {
    if (bad < 0) {
      let at = 0;
      while (at < data.length) {
        const phase = (received + at) % PERIOD;
        const n = Math.min(data.length - at, CHUNK.length - PERIOD);
        if (data.compare(CHUNK, phase, phase + n, at, at + n) !== 0) {
          bad = received + at;
          break;
        }
        at += n;
      }
    }
    received += data.length;
  });
  sock.on('error', (e) => fail(`client socket: ${e.message} after ${received} bytes`));
  sock.on('end', () => {
    clearInterval(timer);
    say('done', { bytes: received, verified: bad < 0, firstBadByte: bad < 0 ? undefined : bad });
    sock.end();
    process.exit(bad < 0 ? 0 : 1);
  });
  tieToParent((line) => {
    if (line.trim() !== 'stop') return;
    sock.write('stop\n');
    setTimeout(() => fail(`no end of stream ${STOP_TIMEOUT_MS} ms after stop`), STOP_TIMEOUT_MS).unref();
  });
}

const [mode, host, portText] = process.argv.slice(2);
const port = Number(portText);
if (!host || !Number.isInteger(port) || port < 1 || port > 65535) fail('usage: transfer.js serve|fetch HOST PORT', 2);
if (mode === 'serve') serve(host, port);
else if (mode === 'fetch') fetch(host, port);
else fail('usage: transfer.js serve|fetch HOST PORT', 2);
