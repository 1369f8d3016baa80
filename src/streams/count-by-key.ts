import type { OperatorFunction } from 'rxjs';
import type { TableUpdate, AggregateByKeyOptions } from './aggregate-by-key.js';
import { aggregateByKeyAs } from './aggregate-by-key.js';
import { counting } from './counting.js';
import type { KeyOf } from './event-time-options.js';

/**
 * A count per key, kept forever in a store: {@link aggregateByKey} with {@link counting}.
 *
 * @example
 * clicks.pipe(keyBy((r) => r.value.page), countByKey({ store: 'page-counts', emit: 'on-commit' }));
 */
export function countByKey<T, K = KeyOf<T>>(options: Omit<AggregateByKeyOptions<T, number, K>, 'aggregate'> = {}): OperatorFunction<T, TableUpdate<K, number>> {
  return aggregateByKeyAs('countByKey', { ...options, aggregate: counting<T>() });
}
