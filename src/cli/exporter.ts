// `mptcp-pm exporter --listen HOST:PORT [--netns NAME]…`: serves the MPTCP state of namespaces as
// Prometheus metrics over HTTP (/metrics) until SIGINT/SIGTERM.

import { Words } from './args.js';
import { UsageError } from './usage.js';
import type { Context } from './context.js';

export interface ExporterAction {
  cmd: 'exporter';
  host: string;
  port: number;
  timeoutMs?: number;
}

/** `HOST:PORT`, `[V6]:PORT` or `:PORT` (every address). */
export function parseListen(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) return undefined;
  return { host: m[1] ?? m[2] ?? '', port };
}

export function parse(words: readonly string[]): ExporterAction {
  const w = new Words(words, 'exporter');
  let listen: { host: string; port: number } | undefined;
  let timeoutMs: number | undefined;
  while (!w.done) {
    const word = w.next() as string;
    if (word === '--listen' || word === 'listen') {
      const text = w.value('--listen');
      listen = parseListen(text);
      if (!listen) throw w.fail(`invalid --listen "${text}" (expected HOST:PORT, [IPV6]:PORT or :PORT)`);
    } else if (word === '--timeout' || word === 'timeout') {
      timeoutMs = w.number('--timeout', 1, 600_000);
    } else {
      throw w.fail(`unknown argument "${word}"`);
    }
  }
  if (!listen) throw new UsageError('exporter', '--listen HOST:PORT is missing');
  return { cmd: 'exporter', ...listen, ...(timeoutMs !== undefined && { timeoutMs }) };
}

/** Serves until SIGINT or SIGTERM (exit 0). Prints one line with the URL once listening. */
export async function run(a: ExporterAction, ctx: Context): Promise<number> {
  const [{ createServer }, { MptcpExporter }] = await Promise.all([import('node:http'), import('../exporter/index.js')]);
  const namespaces: (string | undefined)[] = ctx.namespaces.length ? [...ctx.namespaces] : [undefined];
  const exporter = await MptcpExporter.open({ netns: namespaces, ...(a.timeoutMs !== undefined && { timeoutMs: a.timeoutMs }) });
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      exporter.metrics().then(
        (text) => res.writeHead(200, { 'content-type': exporter.registry.contentType }).end(text),
        (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e.message}\n`),
      );
    } else if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body><h1>mptcp-pm exporter</h1><a href="/metrics">/metrics</a></body></html>\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(a.port, a.host || undefined, () => resolve());
    });
  } catch (e) {
    exporter.close();
    throw e;
  }
  const addr = server.address();
  const where = typeof addr === 'object' && addr ? (addr.family === 'IPv6' ? `[${addr.address}]:${addr.port}` : `${addr.address}:${addr.port}`) : String(addr);
  const which = namespaces.map((n) => n ?? '(own)').join(', ');
  ctx.out(`mptcp-pm exporter: serving http://${where}/metrics for network namespace ${which}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  exporter.close();
  return 0;
}
