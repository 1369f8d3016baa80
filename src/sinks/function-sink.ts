import type { Sink } from './sink.js';

/**
 * Hands results to a function. The results count as delivered when it returns (or its promise
 * resolves); a throw fails the partition, which then replays from its committed offset.
 *
 * @example
 * const results: Array<{ page: string; views: number }> = [];
 * const sink = toFunction<{ page: string; views: number }>('collect', (items) => { results.push(...items); });
 */
export function toFunction<T>(name: string, fn: (items: readonly T[]) => void | Promise<void>): Sink<T> {
  return {
    name: `function:${name}`,
    async write(items) {
      await fn(items);
    },
  };
}
