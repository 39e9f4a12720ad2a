// The names of a topic's counts, written once: the snapshot carries the cumulative ones across a
// restart, and the stats add every count of every topic into the totals. A new count is one more
// name here (and a field on TopicState and TopicStats, which the types then demand).

/** Cumulative counts, kept across restarts in the queue's snapshot. */
export const PERSISTED_COUNTS = ['published', 'delivered', 'acknowledged', 'redelivered', 'deadLettered', 'rejected'] as const;
/** Every count of a topic's stats: the cumulative ones and the current pending and in-flight. */
export const STAT_COUNTS = [...PERSISTED_COUNTS, 'pending', 'inFlight'] as const;

/** Adds `from`'s value of each of `names` to `into`'s. */
export function addCounts<K extends string>(into: Record<K, number>, from: Readonly<Record<K, number>>, names: readonly K[]): void {
  for (const n of names) into[n] += from[n];
}

/** A new object holding `from`'s value of each of `names`. */
export function pickCounts<K extends string>(from: Readonly<Record<K, number>>, names: readonly K[]): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const n of names) out[n] = from[n];
  return out;
}
