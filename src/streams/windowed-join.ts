import type { Observable, OperatorFunction } from 'rxjs';
import { ConfigError } from '../errors.js';
import { resolveEventTime, resolveLate } from './event-time-options.js';
import {
  bothSides,
  dropNullKey,
  joinKey,
  joinOffset,
  joinType,
  noKey,
  otherSide,
  type JoinKeyOptions,
  type JoinResult,
  type Sided,
} from './join-inputs.js';
import { reportLate, type LateOptions } from './late-output.js';
import { MinHeap } from './min-heap.js';
import { declareKeyValueStore, operatorStoreName, storePartitioning } from './operator-stores.js';
import { nonNegativeInteger, optionalFunction, requiredFunction, requiredObject } from './validate.js';
import type { WatermarkClock } from './watermark-clock.js';
import { watermarkOperator } from './watermark-operator.js';
import { resolveGrace } from './window-options.js';

/**
 * What a windowed join emits for a pair, or for a record that joined nothing:
 * - `'inner'` (default): `join(left, right)` for every pair in the window;
 * - `'left'`: also `join(left, null)` for a left record that joined nothing, once, when its
 *   window closes;
 * - `'outer'`: also `join(null, right)` for a right record that joined nothing, likewise.
 *
 * @example
 * const type: WindowedJoinType = 'left';
 */
export type WindowedJoinType = 'inner' | 'left' | 'outer';

/**
 * The `type` and the `join` function of a {@link windowedJoin}, typed together: the side that
 * may be unmatched is `| null` in `join`'s parameters.
 *
 * @example
 * const joiner: WindowedJoiner<Bid, Auction, string> = { type: 'left', join: (bid, auction) => `${bid.price} ${auction?.id ?? '-'}` };
 */
export type WindowedJoiner<L, R, V> =
  | { readonly type?: 'inner'; readonly join: (left: L, right: R) => V }
  | { readonly type: 'left'; readonly join: (left: L, right: R | null) => V }
  | { readonly type: 'outer'; readonly join: (left: L | null, right: R | null) => V };

/**
 * Settings of {@link windowedJoin}, besides `type` and `join` ({@link WindowedJoiner}).
 *
 * @example
 * const within10s: WindowedJoinSettings<Bid, Auction, number> = { timeDifference: 10_000, key: (b) => b.auction, otherKey: (a) => a.id };
 */
export interface WindowedJoinSettings<L, R, K> extends JoinKeyOptions<L, R, K>, LateOptions<L | R> {
  /**
   * Records join when `|right time − left time| <= timeDifference` ms (Kafka Streams'
   * `JoinWindows.ofTimeDifferenceAndGrace`): sets both `before` and `after`.
   */
  readonly timeDifference?: number;
  /** How far before the left record a right record may lie, ms (`rightTime >= leftTime − before`). Default `timeDifference`. */
  readonly before?: number;
  /** How far after the left record a right record may lie, ms (`rightTime <= leftTime + after`). Default `timeDifference`. */
  readonly after?: number;
  /** Extra ms the watermark may pass a record's window before the record is late. Default 0. */
  readonly grace?: number;
  /**
   * The stores' name: the left side's records live in `<store>.left`, the right side's in
   * `<store>.right` (changelogs `<processor>-<store>.left-changelog`, ...). Default
   * `windowedJoin-<n>` in declaration order: name it so that it survives topology changes.
   */
  readonly store?: string;
  /** The left element's event time. Default: its `timestamp` field. */
  readonly timestamp?: (left: L) => number;
  /** The right element's event time. Default: its `timestamp` field. */
  readonly otherTimestamp?: (right: R) => number;
  /** The event-time clock. Default: the partition's, inside a processor; else a private one observing both sides. */
  readonly clock?: WatermarkClock;
  /** The private clock's bound, ms (only without `clock`). Default 0. */
  readonly outOfOrderness?: number;
}

/**
 * The options of {@link windowedJoin}.
 *
 * @example
 * const options: WindowedJoinOptions<Bid, Auction, number, number> = { timeDifference: 10_000, key: (b) => b.auction, otherKey: (a) => a.id, join: (b) => b.price };
 */
export type WindowedJoinOptions<L, R, V, K = unknown> = WindowedJoinSettings<L, R, K> & WindowedJoiner<L, R, V>;

/** A record kept for the other side to find; `matched` once it joined anything. */
interface Buffered<T> {
  readonly ts: number;
  readonly seq: number;
  readonly element: T;
  matched: boolean;
}

interface Expiry<K> {
  readonly at: number;
  readonly seq: number;
  readonly side: 0 | 1;
  readonly key: K;
}

/**
 * A windowed stream-stream join, as Kafka Streams' `KStream.join/leftJoin/outerJoin` with
 * `JoinWindows`: a left record at `tl` and a right record at `tr` with the same join key join
 * when `tl − before <= tr <= tl + after`, and the result, `join(left, right)`, has event time
 * `max(tl, tr)`. Pairs are emitted as soon as the second record arrives, in arrival order.
 *
 * **Late records.** A left record is late when `tl + after + 1 + grace <= watermark` (no right
 * record it could join is still expected), a right record when `tr + before + 1 + grace <=
 * watermark`; a late record goes to the late output and joins nothing, so the results equal a
 * batch join of the records that were not late.
 *
 * **Unmatched records** (`type: 'left' | 'outer'`): emitted once, `join(left, null)` or
 * `join(null, right)` with the record's own event time, when no on-time record of the other
 * side can join it any more: when the watermark reaches `t + before + after + 1 + grace`. Never
 * early, never as well as a pair.
 *
 * **State.** Each side's records, per join key, in a key-value store (`<store>.left`,
 * `<store>.right`; logged, restored, queryable), each until that same watermark. A record whose
 * join key is null or undefined joins nothing: a left one is emitted at once as `join(left, null)`
 * in a left or outer join, a right one as `join(null, right)` in an outer join; otherwise it goes
 * to the late output with `reason: 'null join key'`. See docs/joins.md.
 *
 * @example
 * const bids = records.pipe(filter(isBid));         // type guards: r is StreamRecord<K, Bid>
 * const auctions = records.pipe(filter(isAuction));
 * bids.pipe(
 *   windowedJoin(auctions, {
 *     timeDifference: 10_000, grace: 1_000, type: 'left', store: 'bids-auctions',
 *     key: (b) => b.value.auction, otherKey: (a) => a.value.id,
 *     join: (bid, auction) => ({ bid: bid.value, category: auction?.value.category ?? null }),
 *   }),
 * );
 */
export function windowedJoin<L, R, V, K = unknown>(other: Observable<R>, options: WindowedJoinOptions<L, R, V, K>): OperatorFunction<L, JoinResult<K, V>> {
  const operator = 'windowedJoin';
  requiredObject(operator, options);
  const right = otherSide(operator, other);
  const type = joinType<WindowedJoinType>(operator, options.type, ['inner', 'left', 'outer']);
  const join = requiredFunction(operator, 'join', options.join as (left: L | null, right: R | null) => V);
  const { before, after } = joinWindow(operator, options);
  const grace = resolveGrace(operator, options);
  const late = resolveLate<L | R>(operator, options.late);
  const leftKey = joinKey(operator, 'key', options.key);
  const rightKey = joinKey(operator, 'otherKey', options.otherKey);
  const leftTime = optionalFunction(operator, 'timestamp', options.timestamp) ?? fieldTime;
  const rightTime = optionalFunction(operator, 'otherTimestamp', options.otherTimestamp) ?? fieldTime;
  const eventTime = resolveEventTime<Sided<L, R>>(operator, {
    clock: options.clock,
    outOfOrderness: options.outOfOrderness,
    timestamp: (s) => (s.side === 0 ? leftTime(s.element) : rightTime(s.element)),
  });
  const partitioning = storePartitioning(operator, options.partitioning);
  const name = operatorStoreName(operator, options.store);
  const view = (list: Buffered<unknown>[]) => list.map((b) => b.element);
  // One element type for both (the side is known from the store): fewer casts below.
  const leftStore = declareKeyValueStore<K, Buffered<L | R>[]>(`${name}.left`, { view, keepsReferences: true, operator, partitioning });
  const rightStore = declareKeyValueStore<K, Buffered<L | R>[]>(`${name}.right`, { view, keepsReferences: true, operator, partitioning });
  // A record is kept, and its being unmatched decided, until no on-time record can join it.
  const retention = before + after + 1 + grace;
  const emitsUnmatched = [type !== 'inner', type === 'outer'] as const;

  return (left) =>
    bothSides(left, right).pipe(
      watermarkOperator<Sided<L, R>, JoinResult<K, V>>(eventTime, ({ emit, lateWatermark, closed }) => {
        const stores = [leftStore(), rightStore()] as const;
        const expiring = new MinHeap<Expiry<K>>((a, b) => a.at - b.at || a.seq - b.seq);
        let seq = 0;
        for (const side of [0, 1] as const) {
          const store = stores[side];
          store.onRestored(() => {
            for (const [key, list] of store.all()) {
              for (const b of list) {
                expiring.push({ at: b.ts + retention, seq: b.seq, side, key });
                if (b.seq >= seq) seq = b.seq + 1;
              }
            }
          });
        }
        const pair = (side: 0 | 1, element: L | R, otherElement: L | R | null): V =>
          side === 0 ? join(element as L, otherElement as R | null) : join(otherElement as L | null, element as R);

        return {
          next({ side, element }, ts) {
            // How far after this record the other side's records may lie: after it, a record is late.
            const reach = side === 0 ? after : before;
            const wm = lateWatermark();
            if (ts + reach + 1 + grace <= wm) {
              const window = side === 0 ? { start: ts - before, end: ts + after + 1 } : { start: ts - after, end: ts + before + 1 };
              reportLate(late, element, { operator, timestamp: ts, watermark: wm, offset: joinOffset(element), window });
              return;
            }
            const key = side === 0 ? leftKey(element) : rightKey(element);
            if (noKey(key)) {
              if (emitsUnmatched[side]) emit({ key: null as K, value: pair(side, element, null), timestamp: ts });
              else dropNullKey(operator, late, element, ts, wm);
              return;
            }
            const entry: Buffered<L | R> = { ts, seq: seq++, element, matched: false };
            const otherStore = stores[side === 0 ? 1 : 0];
            const others = otherStore.get(key);
            if (others !== undefined) {
              // The other record's time minus this one's, for a pair in the window.
              const lo = side === 0 ? -before : -after;
              const hi = side === 0 ? after : before;
              let touched = false;
              for (const o of others) {
                const d = o.ts - ts;
                if (d < lo || d > hi) continue;
                entry.matched = true;
                if (!o.matched) {
                  o.matched = true;
                  touched = true;
                }
                emit({ key, value: pair(side, element, o.element), timestamp: Math.max(ts, o.ts) });
              }
              if (touched) otherStore.touch(key);
            }
            const own = stores[side];
            const list = own.get(key);
            if (list === undefined) own.put(key, [entry]);
            else {
              list.push(entry);
              own.touch(key);
            }
            expiring.push({ at: ts + retention, seq: entry.seq, side, key });
          },

          advance(wm) {
            while (!closed()) {
              const next = expiring.peek();
              if (next === undefined || next.at > wm) return;
              expiring.pop();
              const store = stores[next.side];
              const list = store.get(next.key);
              const at = list === undefined ? -1 : list.findIndex((b) => b.seq === next.seq);
              if (list === undefined || at < 0) continue;
              const [b] = list.splice(at, 1);
              if (list.length === 0) store.delete(next.key);
              else store.touch(next.key);
              if (!b.matched && emitsUnmatched[next.side]) emit({ key: next.key, value: pair(next.side, b.element, null), timestamp: b.ts });
            }
          },

          teardown() {
            // The stores are the partition's (restored by the next pipeline), not this subscription's.
            expiring.clear();
          },
        };
      }),
    );
}

const fieldTime = (element: unknown): number => (element as { timestamp: number }).timestamp;

/** `before` and `after` from `timeDifference` and the overrides, checked. */
function joinWindow(operator: string, options: { readonly timeDifference?: number; readonly before?: number; readonly after?: number }): { before: number; after: number } {
  const difference = nonNegativeInteger(operator, 'timeDifference', options.timeDifference, -1);
  const before = nonNegativeInteger(operator, 'before', options.before, difference);
  const after = nonNegativeInteger(operator, 'after', options.after, difference);
  if (before < 0 || after < 0) {
    throw new ConfigError(`${operator}.timeDifference`, 'is required (or both before and after): the join window, in ms');
  }
  return { before, after };
}
