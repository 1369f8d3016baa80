import type { Aggregator } from './aggregator.js';
import { requiredFunction } from './validate.js';

/**
 * The largest number taken from a window's elements (a window has at least one element, so
 * the result is never the initial `-Infinity`).
 *
 * @example
 * readings.pipe(tumbling({ size: 60_000, aggregate: maximum((r) => r.value.celsius) }));
 */
export function maximum<T>(value: (element: T) => number): Aggregator<T, number> {
  const of = requiredFunction('maximum', 'value', value);
  return { init: () => -Infinity, add: (max, element) => Math.max(max, of(element)), merge: (a, b) => Math.max(a, b) };
}
