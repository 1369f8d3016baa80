import { ConfigError } from '../errors.js';
import type { Aggregator } from './aggregator.js';
import { requiredFunction, requiredObject } from './validate.js';

/**
 * Settings of {@link topN}.
 *
 * @example
 * const top3: TopNOptions<{ page: string; views: number }> = {
 *   n: 3, compare: (a, b) => b.views - a.views || (a.page < b.page ? -1 : a.page > b.page ? 1 : 0),
 * };
 */
export interface TopNOptions<T> {
  /** How many to keep, a positive integer. */
  readonly n: number;
  /**
   * Ranks two elements: negative when `a` ranks before (better than) `b`. Make it total (break
   * ties, e.g. by name) for results that do not depend on arrival order; elements it finds
   * equal keep their arrival order.
   */
  readonly compare: (a: T, b: T) => number;
}

/**
 * The `n` best elements of a window, best first: an array of at most `n`, shorter when the
 * window had fewer elements.
 *
 * @example
 * // clickstream top-pages: most views first, ties by page name in code-unit order
 * pageViews.pipe(
 *   tumbling({
 *     size: 60_000,
 *     key: () => 'all',
 *     aggregate: topN({
 *       n: 3,
 *       compare: (a, b) => b.value - a.value || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
 *     }),
 *   }),
 * );
 */
export function topN<T>(options: TopNOptions<T>): Aggregator<T, readonly T[]> {
  requiredObject('topN', options);
  const { n } = options;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) {
    throw new ConfigError('topN.n', `must be a positive integer, got ${String(n)}`);
  }
  const compare = requiredFunction('topN', 'compare', options.compare);
  const insert = (top: readonly T[], element: T): readonly T[] => {
    // After the last element that ranks before or equal to it: equal ones keep arrival order.
    let lo = 0;
    let hi = top.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(top[mid], element) <= 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= n) return top;
    const next = [...top.slice(0, lo), element, ...top.slice(lo, n - 1)];
    return next;
  };
  return {
    init: () => [],
    add: insert,
    merge: (a, b) => b.reduce(insert, a),
  };
}
