import { map, type OperatorFunction } from 'rxjs';
import { requiredFunction } from './validate.js';

/**
 * `T` with its `key` replaced by a `K`: what {@link keyBy} emits.
 *
 * @example
 * type ByPage = Rekeyed<StreamRecord<string, Click>, string>; // key: the page
 */
export type Rekeyed<T, K> = Omit<T, 'key'> & { readonly key: K };

/**
 * Re-keys each element: a shallow copy with `key` set to `keyOf(element)`, every other field
 * (value, timestamp, offset...) unchanged. Keyed operators downstream (windows,
 * {@link keyedProcess}) then group by the new key without a `key` option.
 *
 * Within one partition's pipeline only: records of one new key may sit in several partitions
 * until the runtime repartitions by it.
 *
 * @example
 * clicks.pipe(
 *   keyBy((r) => r.value.page),                       // StreamRecord<string, Click> keyed by page
 *   tumbling({ size: 60_000, aggregate: counting() }), // views per page per minute
 * );
 */
export function keyBy<T extends object, K>(keyOf: (element: T) => K): OperatorFunction<T, Rekeyed<T, K>> {
  const fn = requiredFunction('keyBy', 'keyOf', keyOf);
  return map((element) => ({ ...element, key: fn(element) }));
}
