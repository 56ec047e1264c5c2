// Exporter layer: the MPTCP state of one or more namespaces as a prom-client Registry. Each scrape
// asks every source once, bounded by a timeout; a late or failing source keeps its last values.

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { netstatSource } from './netstat.js';
import { pmSource } from './pm-source.js';
import { eventsSource } from './events-source.js';
import { connectionsSource } from './connections-source.js';
import { MptcpDiag } from '../mptcp/diag/diag.js';
import { getPathManager } from '../mptcp/pm/pathmanager.js';
import type { Netns } from '../os/netns.js';
import { ValidationError } from '../netlink/core/errors.js';
import { checkArray, checkOptions, OPTION, show } from '../mptcp/input/validate.js';
import { openTarget, type MetricFamily, type Source, type SourceFactory, type Target } from './source.js';

export interface MptcpExporterOptions {
  /**
   * Namespaces to watch (names under /run/netns, paths, or open Netns handles, borrowed); default:
   * the caller's own. Each is opened once, when first found, and held until close.
   */
  netns?: (string | Netns | undefined)[];
  /** How long one scrape waits for the kernel, in ms (default 2000). */
  timeoutMs?: number;
  /** Built-in sources to leave out ('counters', 'pm', 'events', 'connections'). */
  without?: string[];
  /** Extra sources, one factory called per namespace (connections, subflows, …). */
  sources?: SourceFactory[];
  /** Also export prom-client's process and Node.js metrics (default true). */
  processMetrics?: boolean;
}

interface Slot {
  target: Target;
  source: Source;
  last: MetricFamily[];
}

type Metric = Counter<string> | Gauge<string>;

/**
 * Watches MPTCP in some namespaces and serves it as Prometheus metrics through {@link registry}
 * (`await exporter.metrics()` gives the text exposition). Opening subscribes to events (needs
 * CAP_NET_ADMIN); endpoints, limits and counters need no privilege beyond entering the namespace.
 */
export class MptcpExporter {
  readonly registry = new Registry();
  private readonly metricsByName = new Map<string, Metric>();
  private readonly slots: Slot[] = [];
  private readonly labelNetns: boolean;
  private readonly up: Gauge<string>;
  private readonly errors: Counter<string>;
  private readonly scrapes: Counter<string>;
  private readonly duration: Gauge<string>;
  private scraping: Promise<void> | undefined;
  private closed = false;

  private constructor(private readonly opts: Required<Pick<MptcpExporterOptions, 'timeoutMs'>> & MptcpExporterOptions, private readonly targets: (Target & { close(): void })[]) {
    this.labelNetns = targets.length > 1;
    const ns = this.labelNetns ? ['netns'] : [];
    this.up = new Gauge({ name: 'mptcp_exporter_source_up', help: 'Whether the last scrape of a source succeeded in time (1) or not (0).', labelNames: [...ns, 'source'], registers: [this.registry] });
    this.errors = new Counter({ name: 'mptcp_exporter_source_errors_total', help: 'Scrapes of a source that failed or timed out.', labelNames: [...ns, 'source', 'reason'], registers: [this.registry] });
    this.scrapes = new Counter({ name: 'mptcp_exporter_scrapes_total', help: 'Scrapes served.', registers: [this.registry] });
    this.duration = new Gauge({ name: 'mptcp_exporter_scrape_duration_seconds', help: 'How long the last scrape took to collect.', registers: [this.registry] });
    if (opts.processMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges named like counters (promtool's lint refuses them); their sums by type stay as nodejs_active_*.
      for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    }
  }

  /**
   * Opens the sources of every namespace.
   * @throws ValidationError for bad options (unknown keys among them); NetnsError for a namespace that
   *   cannot be opened, before any source is; what a source's opening throws.
   */
  static async open(options: MptcpExporterOptions = {}): Promise<MptcpExporter> {
    checkExporterOptions(options);
    const without = new Set(options.without ?? []);
    // Every namespace the built-in sources read must exist: a missing one is an error, not a set of
    // sources that are down. (Sources of the caller's own interpret the targets as they like.)
    // Each target's namespace is opened once and held: every source then reads that namespace.
    const targets = (options.netns?.length ? options.netns : [undefined]).map((netns) => openTarget(netns));
    if (BUILT_IN_SOURCES.some((s) => !without.has(s))) {
      try {
        for (const t of targets) t.handle();
      } catch (e) {
        for (const t of targets) t.close();
        throw e;
      }
    }
    const timeoutMs = options.timeoutMs ?? 2000;
    const exporter = new MptcpExporter({ ...options, timeoutMs }, targets);
    const factories: SourceFactory[] = [
      ...(without.has('counters') ? [] : [netstatSource]),
      ...(without.has('pm') ? [] : [(t: Target) => pmSource(t, timeoutMs)]),
      ...(without.has('events') ? [] : [eventsSource]),
      ...(without.has('connections') ? [] : [(t: Target) => connectionsSource(t, (ns) => MptcpDiag.open({ netns: ns, timeoutMs }), pathManagerOf)]),
      ...(options.sources ?? []),
    ];
    try {
      for (const target of targets) {
        for (const make of factories) exporter.slots.push({ target, source: await make(target), last: [] });
      }
    } catch (e) {
      exporter.close();
      throw e;
    }
    return exporter;
  }

  /** Collects from every source (once, however many scrapes arrive meanwhile) and updates the registry. */
  async update(): Promise<void> {
    this.scraping ??= this.collectAll().finally(() => (this.scraping = undefined));
    return this.scraping;
  }

  /** The Prometheus text exposition of a fresh collection. */
  async metrics(): Promise<string> {
    await this.update();
    this.scrapes.inc();
    return this.registry.metrics();
  }

  /** Closes every source. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.slots) s.source.close();
    for (const t of this.targets) t.close();
  }

  private async collectAll(): Promise<void> {
    const t0 = process.hrtime.bigint();
    await Promise.all(this.slots.map((slot) => this.collectOne(slot)));
    for (const m of this.metricsByName.values()) m.reset();
    for (const slot of this.slots) for (const family of slot.last) this.apply(slot.target, family);
    this.duration.set(Number(process.hrtime.bigint() - t0) / 1e9);
  }

  private async collectOne(slot: Slot): Promise<void> {
    const labels = { ...this.netnsLabel(slot.target), source: slot.source.name };
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(Object.assign(new Error('timeout'), { reason: 'timeout' }));
      }, this.opts.timeoutMs);
    });
    try {
      slot.last = await Promise.race([slot.source.collect(abort.signal), late]);
      this.up.set(labels, 1);
    } catch (e) {
      this.up.set(labels, 0);
      this.errors.inc({ ...labels, reason: (e as { reason?: string }).reason ?? 'error' });
    } finally {
      clearTimeout(timer);
    }
  }

  private netnsLabel(t: Target): Record<string, string> {
    return this.labelNetns ? { netns: t.netns ?? '' } : {};
  }

  private apply(target: Target, family: MetricFamily): void {
    let metric = this.metricsByName.get(family.name);
    if (!metric) {
      const labelNames = [...(this.labelNetns ? ['netns'] : []), ...family.labelNames];
      const config = { name: family.name, help: family.help, labelNames, registers: [this.registry] };
      metric = family.type === 'counter' ? new Counter(config) : new Gauge(config);
      this.metricsByName.set(family.name, metric);
    }
    for (const s of family.samples) {
      const labels = { ...this.netnsLabel(target), ...s.labels };
      if (metric instanceof Counter) metric.inc(labels, s.value);
      else metric.set(labels, s.value);
    }
  }
}

/** The path manager new connections of `ns` get (the pm_type / path_manager sysctl). */
async function pathManagerOf(ns: Netns): Promise<string> {
  return getPathManager(ns);
}

const BUILT_IN_SOURCES = ['counters', 'pm', 'events', 'connections'];

/** The exporter's options, checked before anything is opened. */
function checkExporterOptions(options: MptcpExporterOptions): void {
  checkOptions(options, {
    netns: (f, v) => checkArray(f, v, (g, item) => OPTION.netns(g, item)),
    timeoutMs: OPTION.timeoutMs,
    without: (f, v) => checkArray(f, v, (g, item) => {
      if (typeof item !== 'string' || !BUILT_IN_SOURCES.includes(item)) {
        throw new ValidationError(g, `must be one of ${BUILT_IN_SOURCES.join(', ')}, got ${show(item)}`);
      }
    }),
    sources: (f, v) => checkArray(f, v, (g, item) => {
      if (typeof item !== 'function') throw new ValidationError(g, `must be a source factory (a function), got ${show(item)}`);
    }),
    processMetrics: OPTION.boolean,
  });
}

/**
 * One collection in Prometheus text format, for a program that serves HTTP itself: opens an
 * exporter for `options`, collects once and closes it. (Event counts need a long-lived
 * {@link MptcpExporter}; this one-shot form leaves them out.)
 */
export async function collectMetrics(options: MptcpExporterOptions = {}): Promise<string> {
  checkExporterOptions(options);
  const exporter = await MptcpExporter.open({ ...options, without: [...(options.without ?? []), 'events'], processMetrics: options.processMetrics ?? false });
  try {
    return await exporter.metrics();
  } finally {
    exporter.close();
  }
}
