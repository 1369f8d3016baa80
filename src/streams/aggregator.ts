import { requiredFunction, optionalFunction, requiredObject } from './validate.js';

/**
 * How a window folds its elements into one value, like Kafka Streams' initializer, aggregator
 * and session merger. `add` and `merge` may mutate and return the accumulator they are given.
 *
 * For exact results under out-of-order input (records are added in arrival order, not event
 * time order), `add` should not depend on order: counts, sums, sets, maxima.
 *
 * @example
 * const distinctPages: Aggregator<StreamRecord<string, Click>, Set<string>> = {
 *   init: () => new Set(),
 *   add: (pages, r) => pages.add(r.value.page),
 *   merge: (a, b) => new Set([...a, ...b]),
 * };
 */
export interface Aggregator<T, A> {
  /** A fresh accumulator for a new window. */
  readonly init: () => A;
  /** Adds one element. */
  readonly add: (accumulator: A, element: T) => A;
  /**
   * Combines two windows' accumulators (the earlier window's first). Required by
   * {@link session}: sessions merge when a record bridges them.
   */
  readonly merge?: (earlier: A, later: A) => A;
}

/**
 * An aggregator from its parts, checked now.
 *
 * @example
 * tumbling({
 *   size: 60_000,
 *   aggregate: aggregating({
 *     init: () => ({ events: 0, pages: new Set<string>() }),
 *     add: (acc, r: StreamRecord<string, Click>) => ({ events: acc.events + 1, pages: acc.pages.add(r.value.page) }),
 *     merge: (a, b) => ({ events: a.events + b.events, pages: new Set([...a.pages, ...b.pages]) }),
 *   }),
 * });
 */
export function aggregating<T, A>(parts: { init: () => A; add: (accumulator: A, element: T) => A; merge?: (earlier: A, later: A) => A }): Aggregator<T, A> {
  requiredObject('aggregating', parts);
  const init = requiredFunction('aggregating', 'init', parts.init);
  const add = requiredFunction('aggregating', 'add', parts.add);
  const merge = optionalFunction('aggregating', 'merge', parts.merge);
  return merge ? { init, add, merge } : { init, add };
}
