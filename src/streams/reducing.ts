import type { Aggregator } from './aggregator.js';
import { requiredFunction } from './validate.js';

const EMPTY: unique symbol = Symbol('reducing.empty');

/**
 * Combines a window's elements pairwise with `combine`, in arrival order (sessions: the
 * earlier session's value first); the value of a one-element window is that element.
 *
 * @example
 * // the latest reading of each window (by event time)
 * readings.pipe(tumbling({ size: 60_000, aggregate: reducing((a, b) => (b.timestamp >= a.timestamp ? b : a)) }));
 */
export function reducing<T>(combine: (accumulated: T, element: T) => T): Aggregator<T, T> {
  const fn = requiredFunction('reducing', 'combine', combine);
  // A window always has an element before it is read, so EMPTY never escapes.
  const empty = EMPTY as unknown as T;
  return {
    init: () => empty,
    add: (acc, element) => (acc === empty ? element : fn(acc, element)),
    merge: (a, b) => (a === empty ? b : b === empty ? a : fn(a, b)),
  };
}
