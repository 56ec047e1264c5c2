// How the walkthrough talks: where its lines go (DemoIo), step headings, and the `ip` / `sysctl`
// commands it shows before running them.

import { run, setSysctl } from './sandbox.js';

/** Where the demo's text goes, and what it is told about the run as it happens. */
export interface DemoIo {
  /** One line of the walkthrough (stdout, or stderr with --json). */
  say(text: string): void;
}

/** A step heading, and the lines that explain it. */
export function step(io: DemoIo, title: string, ...why: string[]): void {
  io.say(`\n== ${title}`);
  for (const line of why) io.say(`   ${line}`);
}

/** Runs `ip args`, shown as a `$ ip …` line unless `show` is false. */
export async function ip(io: DemoIo, args: string[], show = true): Promise<string> {
  if (show) io.say(`   $ ip ${args.join(' ')}`);
  return run('ip', args);
}

/** Sets a sysctl in namespace `ns`, shown as the `ip netns exec … sysctl -w` that would do it. */
export function sysctl(io: DemoIo, ns: string, key: string, value: string): void {
  io.say(`   $ ip netns exec ${ns} sysctl -w ${key.replaceAll('/', '.')}=${value}`);
  setSysctl(ns, key, value);
}
