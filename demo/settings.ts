// Fixed settings of the demo: the sandbox's addresses and link rates, how long each phase lasts,
// and which client path an address belongs to.

/** Addresses and settings of the sandbox (documentation ranges only). */
export const NET = {
  ethernet: { ifname: 'eth0', address: '192.0.2.2', gateway: '192.0.2.1', peer: 'cli-eth', rate: '40mbit', table: 100, metric: 100 },
  wifi: { ifname: 'wlan0', address: '198.51.100.2', gateway: '198.51.100.1', peer: 'cli-wlan', rate: '10mbit', table: 200, metric: 600 },
  server: { address: '203.0.113.2', gateway: '203.0.113.1', ifname: 'eth0', peer: 'srv0', port: 5201 },
} as const;

/** How long each phase lasts, and how long each wait may take. */
export const TIMING = {
  bothUpMs: 3000,
  downMs: 3000,
  afterUpMs: 2000,
  sampleMs: 50,
  startMs: 8000,
  joinMs: 6000,
  failoverMs: 10_000,
  recoverMs: 8000,
  reopenMs: 6000,
  stopMs: 15_000,
};

/** Bytes over a link that count as "data flows there now" (a few dozen full-size segments). */
export const FLOWING = 64 * 1024;

/** The client path an address of the sandbox belongs to. */
export function pathOf(address: string): 'ethernet' | 'wi-fi' | 'other' {
  if (address === NET.ethernet.address) return 'ethernet';
  if (address === NET.wifi.address) return 'wi-fi';
  return 'other';
}
