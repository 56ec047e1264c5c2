// Test-only helpers for mptcp-pm/net: waiting for a socket or server, small python3 peers (plain TCP,
// optionally under `mptcpize run`) that print READY/CONNECTED lines, and counting this process's fds.

import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { once } from 'node:events';
import type { Server, Socket } from 'node:net';
import { scaled, type TestNetns } from './netns.js';

/** Resolves when `sock` connects; rejects with its error or after `ms` (scaled). */
export function connected(sock: Socket, ms = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connection within ${scaled(ms)} ms`)), scaled(ms));
    sock.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** listen() on `server` and resolve with the port. */
export async function listening(server: Server, host: string, port = 0): Promise<number> {
  server.listen(port, host);
  await once(server, 'listening');
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('server has no TCP address');
  return a.port;
}

/** Writes `text` and resolves with the first `text.length` bytes echoed back. */
export async function echo(sock: Socket, text: string, ms = 5000): Promise<string> {
  let got = '';
  const done = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`echo of ${text.length} bytes incomplete after ${scaled(ms)} ms: ${got.length}`)), scaled(ms));
    const onData = (d: Buffer): void => {
      got += d.toString();
      if (got.length >= text.length) {
        clearTimeout(timer);
        sock.off('data', onData);
        resolve(got);
      }
    };
    sock.on('data', onData);
    sock.once('error', reject);
  });
  sock.write(text);
  return done;
}

/** Number of open fds of this process. */
export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** A python3 process in a namespace, its stdout lines, and a bounded wait for one. */
export interface PyPeer {
  waitLine(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  kill(): void;
}

const PLAIN_SERVER = `
import socket, sys
fam = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 0)); s.listen(16)
print('READY', s.getsockname()[1], flush=True)
s.settimeout(float(sys.argv[2]))
c, _ = s.accept()
c.settimeout(float(sys.argv[2]))
while True:
    d = c.recv(65536)
    if not d: break
    c.sendall(d)
`;

const PLAIN_CLIENT = `
import socket, sys
fam = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
c = socket.socket(fam, socket.SOCK_STREAM)
c.settimeout(float(sys.argv[3]))
c.connect((sys.argv[1], int(sys.argv[2])))
print('CONNECTED', c.getsockname()[1], flush=True)
c.sendall(b'ping')
print('GOT', c.recv(4).decode(), flush=True)
sys.stdin.readline()
`;

/**
 * Starts a plain-TCP python3 echo server (`server`, bound to `addr`) or client (`client`, to
 * `addr`:`port`, sends "ping", holds until killed) in `ns`; with `mptcpize` it runs under `mptcpize run`.
 */
export function pythonPeer(ns: TestNetns, mode: 'server' | 'client', addr: string, opts: { port?: number; mptcpize?: boolean; timeoutS?: number } = {}): PyPeer {
  const t = String(scaled(opts.timeoutS ?? 20));
  const args = mode === 'server' ? ['-c', PLAIN_SERVER, addr, t] : ['-c', PLAIN_CLIENT, addr, String(opts.port), t];
  const cmd = opts.mptcpize ? ['mptcpize', 'run', 'python3', ...args] : ['python3', ...args];
  const child = spawn('ip', ['netns', 'exec', ns.name, ...cmd], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let err = '';
  let buf = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c: string) => {
    buf += c;
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  let exited = false;
  child.on('close', () => (exited = true));
  return {
    kill: () => {
      if (!exited && child.pid !== undefined) child.kill('SIGKILL');
    },
    waitLine: async (re, ms = 10_000) => {
      const deadline = Date.now() + scaled(ms);
      for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
        for (const l of lines) {
          const m = re.exec(l);
          if (m) return m;
        }
        if (exited) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`python3 ${mode} printed no ${re}: ${lines.join(' | ')} ${err}`);
    },
  };
}
