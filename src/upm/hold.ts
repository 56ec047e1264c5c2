// Holding back what an emitter emits while its owner is still being set up, so that listeners the
// caller attaches right after set-up still get it, in order.

/** An object with eventemitter3's `emit`. */
interface Emitting {
  emit(name: string, ...args: unknown[]): boolean;
}

/**
 * Queues every emit of `target` from now on; the function returned stops queueing and delivers the
 * queue in order, to the listeners attached by then.
 */
export function holdEmits(target: object): () => void {
  const t = target as Emitting;
  const held: [string, unknown[]][] = [];
  const emit = t.emit;
  t.emit = (name, ...args) => {
    held.push([name, args]);
    return true;
  };
  return () => {
    delete (t as { emit?: unknown }).emit;
    for (const [name, args] of held) emit.call(t, name, ...args);
  };
}
