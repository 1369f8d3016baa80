import type { OperatorFunction } from 'rxjs';
import type { EventTimeOptions, HoldOptions, KeyOf, KeyOptions } from './event-time-options.js';
import { resolveHolds, resolveLate } from './event-time-options.js';
import { keyedProcessAs } from './keyed-process.js';
import { reportLate, type LateOptions } from './late-output.js';
import { optionalFunction, requiredObject } from './validate.js';

/**
 * Settings of {@link orderedByEventTime}.
 *
 * @example
 * const byTxId: OrderedByEventTimeOptions<StreamRecord<string, Tx>, string> = {
 *   tieBreak: (a, b) => (a.value.txId < b.value.txId ? -1 : a.value.txId > b.value.txId ? 1 : 0),
 * };
 */
export interface OrderedByEventTimeOptions<T, K> extends EventTimeOptions<T>, KeyOptions<T, K>, HoldOptions<T>, LateOptions<T> {
  /** The store of the buffered elements. Default `orderedByEventTime-<n>`. */
  readonly store?: string;
  /**
   * Orders elements of one key with equal timestamps: negative when `a` comes first. Default:
   * arrival order. Make it total (e.g. by a unique id) for an order independent of arrival.
   */
  readonly tieBreak?: (a: T, b: T) => number;
}

interface Buffered<T> {
  readonly element: T;
  readonly time: number;
}

/**
 * Re-orders each key's elements into event-time order: buffers them until the watermark passes
 * their timestamp (no record of that time can still come), then emits them in
 * (timestamp, `tieBreak`) order. Built on {@link keyedProcess}: one timer per key and
 * timestamp, and the buffered elements in its store (restored after a crash: a buffered element
 * never keeps the commit back). Elements are stored with V8's structured clone (`store` names
 * the store).
 *
 * An element whose timestamp the watermark has already passed (`timestamp < watermark`: its
 * turn is over) is late: it goes to the `late` output and is not emitted.
 *
 * @example
 * // fraud: each card's transactions in event-time order, ties by txId
 * transactions.pipe(
 *   orderedByEventTime({
 *     tieBreak: (a, b) => (a.value.txId < b.value.txId ? -1 : a.value.txId > b.value.txId ? 1 : 0),
 *     store: 'card-order',
 *   }),
 *   // ...per-card rules see each card's transactions in order
 * );
 */
export function orderedByEventTime<T, K = KeyOf<T>>(options: OrderedByEventTimeOptions<T, K>): OperatorFunction<T, T> {
  const operator = 'orderedByEventTime';
  requiredObject(operator, options);
  const tieBreak = optionalFunction(operator, 'tieBreak', options.tieBreak);
  const late = resolveLate(operator, options.late);
  const offsetOf = resolveHolds(operator, options).offset;
  const before = (a: Buffered<T>, b: Buffered<T>): boolean =>
    a.time < b.time || (a.time === b.time && tieBreak !== undefined && tieBreak(a.element, b.element) < 0);

  return keyedProcessAs<T, Buffered<T>[], T, K>(operator, {
    ...options,
    init: () => [],
    onRecord: (ctx, element) => {
      const time = ctx.timestamp;
      if (time < ctx.lateWatermark) {
        reportLate(late, element, { operator, timestamp: time, watermark: ctx.lateWatermark, offset: offsetOf(element) });
        return;
      }
      const item: Buffered<T> = { element, time };
      const buffer = ctx.state;
      let at = buffer.length;
      while (at > 0 && before(item, buffer[at - 1])) at--; // usually appends
      buffer.splice(at, 0, item);
      ctx.registerTimer(time);
    },
    onTimer: (ctx, time) => {
      const buffer = ctx.state;
      let n = 0;
      while (n < buffer.length && buffer[n].time <= time) n++;
      for (const item of buffer.splice(0, n)) ctx.emit(item.element);
      if (buffer.length === 0) ctx.clearState();
    },
  });
}
