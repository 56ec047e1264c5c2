// --userspace step 8b: the wi-fi subflow is killed mid-transfer with `ss -K` (as a radio dropping out,
// or a middlebox's reset, would end it) and the kernelCompatible path manager opens it again while
// the transfer goes on.

import { waitUntil } from './measure.js';
import { step, type DemoIo } from './narration.js';
import type { Proc } from './proc.js';
import { run } from './sandbox.js';
import { TIMING } from './settings.js';
import type { SubflowTracker } from './subflows.js';
import { mb } from './summary.js';

/** What the heal step saw, for the summary. */
export interface HealSeen {
  /** The command that killed the subflow. */
  killed: string;
  /** The killed subflow's close event arrived. */
  closed: boolean;
  /** From the kill to the new wi-fi subflow's establishment (ms); null when it never came. */
  reopenedAfterMs: number | null;
  /** Bytes the transfer delivered from the kill until the new subflow was there. */
  bytesMeanwhile: number;
}

export async function killAndHeal(io: DemoIo, client: string, tracker: SubflowTracker, transfer: Proc): Promise<HealSeen> {
  const wifi = tracker.openWifiSubflow();
  if (!wifi || wifi.localPort === undefined || wifi.remotePort === undefined) throw new Error('no open wi-fi subflow to kill');
  const args = ['-K', '-tn', 'src', `${wifi.localAddress}:${wifi.localPort}`, 'dst', `${wifi.remoteAddress}:${wifi.remotePort}`];
  const killed = `ip netns exec ${client} ss ${args.join(' ')}`;
  step(io, '8b. The wi-fi subflow is killed in the middle of the transfer, and the path manager heals it',
    'ss -K destroys one TCP socket, here the wi-fi subflow only (the connection keeps its others). The',
    'kernelCompatible policy opens a subflow again when one closes while its address and route remain,',
    'after a back-off (0.5 s, doubling up to 30 s):');
  io.say(`   $ ${killed}`);
  const before = tracker.subflows.length;
  const start = Date.now();
  const progress = transfer.progress;
  await run('ip', ['netns', 'exec', client, 'ss', ...args]);
  const again = await waitUntil(() => tracker.subflows.slice(before).find((f) => f.path === 'wi-fi'), TIMING.reopenMs,
    'the path manager to open the wi-fi subflow again', transfer);
  const reopenedAfterMs = Date.now() - start;
  const closed = wifi.closedAtMs !== undefined;
  io.say(`   -> the killed subflow ${closed ? 'closed' : 'closed (no event seen)'}; a new one from ${again.localAddress}:${again.localPort} ${reopenedAfterMs} ms after the kill${again.backup ? ', a backup again' : ''}`);
  io.say(`      and the transfer went on meanwhile: ${mb(transfer.progress - progress)} delivered`);
  return { killed, closed, reopenedAfterMs, bytesMeanwhile: transfer.progress - progress };
}
