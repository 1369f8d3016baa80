import type { OperatorFunction } from 'rxjs';
import type { AggregateByKeyOptions, TableUpdate } from './aggregate-by-key.js';
import { aggregateByKeyAs } from './aggregate-by-key.js';
import type { KeyOf } from './event-time-options.js';
import { requiredFunction, requiredObject } from './validate.js';

/** Options of {@link reduceByKey}. */
export interface ReduceByKeyOptions<T, V, K> extends Omit<AggregateByKeyOptions<T, V, K>, 'aggregate'> {
  /** The element's value (what is reduced). */
  readonly value: (element: T) => V;
  /** Combines the key's value so far with an element's. */
  readonly reduce: (current: V, next: V) => V;
}

/**
 * A reduction per key, kept forever in a store (Kafka Streams' `groupByKey().reduce()`): the
 * first element's value, then `reduce(current, value)` for each later one.
 *
 * @example
 * // the largest amount per card
 * tx.pipe(keyBy((r) => r.value.card), reduceByKey({ store: 'max-amount', value: (r) => r.value.amount, reduce: Math.max }));
 */
export function reduceByKey<T, V = unknown, K = KeyOf<T>>(options: ReduceByKeyOptions<T, V, K>): OperatorFunction<T, TableUpdate<K, V>> {
  requiredObject('reduceByKey', options);
  const valueOf = requiredFunction('reduceByKey', 'value', options.value);
  const reduce = requiredFunction('reduceByKey', 'reduce', options.reduce);
  const { value: _value, reduce: _reduce, ...rest } = options;
  const none = Symbol('none');
  return aggregateByKeyAs<T, V, K>('reduceByKey', {
    ...rest,
    aggregate: {
      init: () => none as unknown as V,
      add: (current, element) => (current === (none as unknown) ? valueOf(element) : reduce(current, valueOf(element))),
    },
  });
}
