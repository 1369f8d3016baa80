import type { Aggregator } from './aggregator.js';
import { requiredFunction } from './validate.js';

/**
 * The smallest number taken from a window's elements (a window has at least one element, so
 * the result is never the initial `Infinity`).
 *
 * @example
 * readings.pipe(tumbling({ size: 60_000, aggregate: minimum((r) => r.value.celsius) }));
 */
export function minimum<T>(value: (element: T) => number): Aggregator<T, number> {
  const of = requiredFunction('minimum', 'value', value);
  return { init: () => Infinity, add: (min, element) => Math.min(min, of(element)), merge: (a, b) => Math.min(a, b) };
}
