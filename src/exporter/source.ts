// Exporter layer: what a metrics source gives (metric families of one namespace) and the names the
// exporter uses; sources for the kernel's state plug in through this one interface.

import { Netns, netnsName } from '../os/netns.js';

/** One sample: label values (without `netns`, which the exporter adds) and a value. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** A metric family as a source reports it; `name` follows Prometheus conventions (counters end in _total). */
export interface MetricFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  /** Every label the samples may carry (fixed per family). */
  labelNames: readonly string[];
  samples: Sample[];
}

/** The namespace a source reads. */
export interface Target {
  /** Its name (the `netns` label); undefined for the exporter's own namespace. */
  netns: string | undefined;
  /**
   * The namespace itself, opened by the first call that finds it and held from then on: every
   * source of the target acts on that namespace, even when its name is later given to another.
   * @throws NetnsError while it does not exist (the source fails this scrape and tries again).
   */
  handle(): Netns;
}

/** A target for `netns` (a name, a path, a borrowed handle, or undefined for the caller's own); `close` releases it. */
export function openTarget(netns: string | Netns | undefined): Target & { close(): void } {
  let ns: Netns | undefined;
  return {
    netns: netnsName(netns),
    handle: () => (ns ??= Netns.open(netns)),
    close: () => ns?.close(),
  };
}

/**
 * A source of metrics for one namespace. `collect` is called once per scrape and raced against the
 * scrape timeout (`signal` aborts then); a source that fails or is late is reported by the exporter.
 */
export interface Source {
  /** Short name, used in the exporter's own health metrics (`source` label). */
  readonly name: string;
  collect(signal: AbortSignal): Promise<MetricFamily[]>;
  /** Releases sockets and the like. */
  close(): void;
}

/** Makes the sources of one namespace; the exporter calls one factory per watched namespace. */
export type SourceFactory = (target: Target) => Source | Promise<Source>;

/**
 * `MPCapableSYNRX` → `mp_capable_synrx`: a kernel counter name in snake_case. `HMac` is one word
 * (`MPJoinAckHMacFailure` → `mp_join_ack_hmac_failure`): split, its `mac` would read as a unit.
 */
export function snakeCase(name: string): string {
  return name
    .replace(/HMac/g, 'Hmac')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}
