// Exporter layer: MPTCP events of one namespace counted by type, and the events lost (socket or
// queue overruns), over one MptcpEvents subscription held for the exporter's life.

import { MptcpEvents } from '../mptcp/events/events.js';
import type { MetricFamily, Source, Target } from './source.js';

/** Counts kept by an events source. */
export interface EventCounts {
  byType: Map<string, number>;
  lost: number;
  /** Overruns whose size the kernel did not say. */
  overrunsUnknown: number;
}

/** The metric families of the counts. */
export function eventFamilies(c: EventCounts): MetricFamily[] {
  return [
    {
      name: 'mptcp_events_total', type: 'counter',
      help: 'MPTCP events received from the kernel (mptcp_pm_events), by type, since the exporter started.',
      labelNames: ['type'], samples: [...c.byType].map(([type, value]) => ({ labels: { type }, value })),
    },
    {
      name: 'mptcp_events_lost_total', type: 'counter',
      help: 'MPTCP events the exporter lost (receive-buffer overruns), counted from the socket drop counter.',
      labelNames: [], samples: [{ labels: {}, value: c.lost }],
    },
    {
      name: 'mptcp_event_overruns_unknown_total', type: 'counter',
      help: 'Overruns of the event socket whose number of lost events is unknown.',
      labelNames: [], samples: [{ labels: {}, value: c.overrunsUnknown }],
    },
  ];
}

/** Snake-case event type names, as the `type` label carries them. */
const TYPE_LABEL: Record<string, string> = {
  created: 'created', established: 'established', closed: 'closed', announced: 'announced', removed: 'removed',
  subEstablished: 'sub_established', subClosed: 'sub_closed', subPriority: 'sub_priority',
  listenerCreated: 'listener_created', listenerClosed: 'listener_closed', unknown: 'unknown', invalid: 'invalid',
};

/**
 * Subscribes to the events of `target` at once (so counts start with the exporter) and counts them.
 * Needs CAP_NET_ADMIN. While it is open the kernel accepts userspace-PM joins in that namespace.
 */
export async function eventsSource(target: Target): Promise<Source> {
  const counts: EventCounts = { byType: new Map(Object.values(TYPE_LABEL).map((t) => [t, 0])), lost: 0, overrunsUnknown: 0 };
  const events = await MptcpEvents.open({ netns: target.handle() });
  const count = (type: string): void => {
    const label = TYPE_LABEL[type] ?? type;
    counts.byType.set(label, (counts.byType.get(label) ?? 0) + 1);
  };
  events.on('event', (e) => count(e.type));
  events.on('overrun', (o) => {
    if (o.lost === undefined) counts.overrunsUnknown++;
    else counts.lost += o.lost;
  });
  events.on('error', () => undefined); // reported as an overrun as well
  return {
    name: 'events',
    collect: async () => eventFamilies(counts),
    close: () => events.close(),
  };
}
