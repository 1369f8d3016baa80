import type { Aggregator } from './aggregator.js';

/**
 * Counts a window's elements.
 *
 * @example
 * clicks.pipe(tumbling({ size: 60_000, key: (r) => r.value.page, aggregate: counting() }));
 * // { key: '/home', windowStart: 0, windowEnd: 60000, value: 42, ... }
 */
export function counting<T = unknown>(): Aggregator<T, number> {
  return { init: () => 0, add: (n) => n + 1, merge: (a, b) => a + b };
}
