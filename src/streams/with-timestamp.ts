import { map, type OperatorFunction } from 'rxjs';
import { EventTimeError } from './errors.js';
import { requiredFunction } from './validate.js';

/**
 * `T` with its `timestamp` replaced by a number: what {@link withTimestamp} emits.
 *
 * @example
 * type Stamped = Restamped<{ placedAt: string }>; // { placedAt: string; timestamp: number }
 */
export type Restamped<T> = Omit<T, 'timestamp'> & { readonly timestamp: number };

/**
 * Re-stamps each element's event time: a shallow copy with `timestamp` set to
 * `timestampOf(element)` (epoch ms). A non-finite result fails the stream with an
 * {@link EventTimeError}.
 *
 * Prefer the processor's `source.timestamp` extractor for the partition's own records: the
 * runtime feeds that time to the partition clock, and an invalid one dead-letters the record.
 * Use `withTimestamp` for elements built inside the pipeline, or when operators keep their own
 * clock (no `clock` option); for processing time, stamp with the scheduler's clock.
 *
 * @example
 * orders.pipe(
 *   withTimestamp((o) => Date.parse(o.value.placedAt)),
 *   tumbling({ size: 3_600_000, aggregate: counting(), outOfOrderness: 60_000, late }),
 * );
 * // processing time: withTimestamp(() => asyncScheduler.now())
 */
export function withTimestamp<T extends object>(timestampOf: (element: T) => number): OperatorFunction<T, Restamped<T>> {
  const fn = requiredFunction('withTimestamp', 'timestampOf', timestampOf);
  return map((element) => {
    const timestamp = fn(element);
    if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) throw new EventTimeError('withTimestamp', timestamp);
    return { ...element, timestamp };
  });
}
