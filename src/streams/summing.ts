import type { Aggregator } from './aggregator.js';
import { requiredFunction } from './validate.js';

/**
 * Sums a number taken from each element.
 *
 * @example
 * payments.pipe(tumbling({ size: 3_600_000, aggregate: summing((r) => r.value.amount) }));
 */
export function summing<T>(value: (element: T) => number): Aggregator<T, number> {
  const of = requiredFunction('summing', 'value', value);
  return { init: () => 0, add: (sum, element) => sum + of(element), merge: (a, b) => a + b };
}
