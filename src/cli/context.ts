// What a command runs with: the global options, the output streams, and a lazily opened client in
// the chosen namespace (closed by the dispatcher when the command ends).

import type { MptcpPm } from '../index.js';

export interface Context {
  readonly netns: string | undefined;
  /** Every -n/--netns given, in order (the exporter watches them all; netns is the last). */
  readonly namespaces: readonly string[];
  readonly json: boolean;
  /** -p: JSON indented as `ip -j -p` indents it. */
  readonly pretty?: boolean;
  /** Writes to stdout. */
  out(text: string): void;
  /** Writes to stderr. */
  err(text: string): void;
  /** The client for this namespace, opened on first use. */
  pm(): Promise<MptcpPm>;
}

/** A context over process.stdout/stderr; `close()` releases the client if one was opened. */
export function processContext(netns: string | undefined, json: boolean, namespaces: readonly string[] = netns === undefined ? [] : [netns], pretty = false): Context & { close(): void } {
  let client: Promise<MptcpPm> | undefined;
  return {
    netns,
    namespaces,
    json,
    pretty,
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    pm: () => (client ??= import('../mptcp/pm/pm.js').then(({ MptcpPm }) => MptcpPm.open({ netns, lazyFeatures: true }))),
    close: () => {
      client?.then((c) => c.close(), () => undefined);
    },
  };
}
