// Public entry point of the exporter (`mptcp-pm/exporter`): re-exports only. Kept apart from the
// main entry so that programs that do not export metrics never load prom-client.
/// <reference types="node" preserve="true" />

export { MptcpExporter, collectMetrics } from './exporter.js';
export type { MptcpExporterOptions } from './exporter.js';
export { counterMetricName, parseMptcpExt, readMptcpExt } from './netstat.js';
export type { MetricFamily, Sample, Source, SourceFactory, Target } from './source.js';
