import { Observable, type OperatorFunction } from 'rxjs';
import { ConfigError } from '../errors.js';
import { resolveLate } from './event-time-options.js';
import { bothSides, dropNullKey, joinKey, lenientTimestamp, noKey, otherSide, type JoinKeyOptions, type JoinResult } from './join-inputs.js';
import type { LateOptions } from './late-output.js';
import { MinHeap } from './min-heap.js';
import { declareKeyValueStore, operatorStoreName, storePartitioning } from './operator-stores.js';
import { currentPipelineScope } from './pipeline-scope.js';
import { positiveInteger, requiredFunction, requiredObject } from './validate.js';
import type { WatermarkClock } from './watermark-clock.js';

/**
 * Options of {@link regularJoin}.
 *
 * @example
 * const q3: RegularJoinOptions<Auction, Person, Row, number> = {
 *   key: (a) => a.seller, otherKey: (p) => p.id, store: 'sellers', join: (a, p) => ({ name: p.name, auctionId: a.id }),
 * };
 */
export interface RegularJoinOptions<L, R, V, K = unknown> extends JoinKeyOptions<L, R, K>, LateOptions<L | R> {
  /** Makes a result of a left and a right record with the same join key. */
  readonly join: (left: L, right: R) => V;
  /**
   * The stores' name: the left side's records live in `<store>.left`, the right side's in
   * `<store>.right`. Default `regularJoin-<n>` in declaration order.
   */
  readonly store?: string;
  /**
   * Event-time TTL of the kept records, ms: a record at `t` is forgotten (deleted from its
   * side's store, a tombstone in the changelog) once the watermark reaches `t + ttl`, and a
   * record arriving later joins only the records still kept. One number for both sides, or per
   * side (`{ left, right }`; a side without one keeps its records forever). Default: forever.
   */
  readonly ttl?: number | { readonly left?: number; readonly right?: number };
  /** The left element's event time (the result's is the later of the pair's). Default: its `timestamp` field; without one, inside a processor, the time of the input record it was made from (0 outside one). */
  readonly timestamp?: (left: L) => number;
  /** The right element's event time. Default: its `timestamp` field; without one, inside a processor, the time of the input record it was made from (0 outside one). */
  readonly otherTimestamp?: (right: R) => number;
  /** The event-time clock `ttl` is judged on. Default: the partition's (inside a processor). */
  readonly clock?: WatermarkClock;
}

interface Kept<T> {
  readonly ts: number;
  readonly seq: number;
  readonly element: T;
}

interface Expiry<K> {
  readonly at: number;
  readonly seq: number;
  readonly side: 0 | 1;
  readonly key: K;
}

/**
 * A regular (unwindowed) inner join of two streams, as Flink SQL's `JOIN` without a time
 * condition: every left record joins every right record with the same join key, whichever
 * arrived first; a pair is emitted once, when its second record arrives, as
 * `{ key, value: join(left, right), timestamp: max(tl, tr) }`, in arrival order.
 *
 * **State.** Both sides' records, per join key, in key-value stores (`<store>.left`,
 * `<store>.right`; logged, restored, queryable), forever or until their `ttl` has passed in
 * event time. Nothing is ever late (there is no window); a record whose join key is null or
 * undefined joins nothing and goes to the late output with `reason: 'null join key'`.
 *
 * @example
 * // Nexmark q3: auctions in category 10 by sellers in OR, ID or CA, whichever came first
 * const persons = records.pipe(filter(isPerson), filter((p) => ['OR', 'ID', 'CA'].includes(p.value.state)));
 * records.pipe(
 *   filter(isAuction),                     // type guards: r is StreamRecord<K, Auction>
 *   filter((a) => a.value.category === 10),
 *   regularJoin(persons, {
 *     store: 'q3', key: (a) => a.value.seller, otherKey: (p) => p.value.id,
 *     join: (a, p) => ({ name: p.value.name, city: p.value.city, state: p.value.state, auctionId: a.value.id }),
 *   }),
 *   map((r) => r.value),
 * );
 */
export function regularJoin<L, R, V, K = unknown>(other: Observable<R>, options: RegularJoinOptions<L, R, V, K>): OperatorFunction<L, JoinResult<K, V>> {
  const operator = 'regularJoin';
  requiredObject(operator, options);
  const right = otherSide(operator, other);
  const join = requiredFunction(operator, 'join', options.join);
  const late = resolveLate<L | R>(operator, options.late);
  const keys = [joinKey(operator, 'key', options.key), joinKey(operator, 'otherKey', options.otherKey)] as const;
  const times = [lenientTimestamp(operator, 'timestamp', options.timestamp), lenientTimestamp(operator, 'otherTimestamp', options.otherTimestamp)] as const;
  const ttls = resolveTtls(operator, options.ttl);
  const clock = options.clock ?? currentPipelineScope()?.clock;
  if ((ttls[0] !== undefined || ttls[1] !== undefined) && clock === undefined) {
    throw new ConfigError(`${operator}.ttl`, 'needs an event-time clock: use the operator inside a processor, or pass clock');
  }
  const partitioning = storePartitioning(operator, options.partitioning);
  const name = operatorStoreName(operator, options.store);
  const view = (list: Kept<unknown>[]) => list.map((k) => k.element);
  const leftStore = declareKeyValueStore<K, Kept<L | R>[]>(`${name}.left`, { view, keepsReferences: true, operator, partitioning });
  const rightStore = declareKeyValueStore<K, Kept<L | R>[]>(`${name}.right`, { view, keepsReferences: true, operator, partitioning });

  return (left) =>
    new Observable<JoinResult<K, V>>((subscriber) => {
      const stores = [leftStore(), rightStore()] as const;
      const expiring = new MinHeap<Expiry<K>>((a, b) => a.at - b.at || a.seq - b.seq);
      let seq = 0;
      for (const side of [0, 1] as const) {
        const store = stores[side];
        const ttl = ttls[side];
        store.onRestored(() => {
          for (const [key, list] of store.all()) {
            for (const k of list) {
              if (ttl !== undefined) expiring.push({ at: k.ts + ttl, seq: k.seq, side, key });
              if (k.seq >= seq) seq = k.seq + 1;
            }
          }
        });
      }
      const expireUpTo = (wm: number): void => {
        for (let next = expiring.peek(); next !== undefined && next.at <= wm; next = expiring.peek()) {
          expiring.pop();
          const store = stores[next.side];
          const list = store.get(next.key);
          const at = list === undefined ? -1 : list.findIndex((k) => k.seq === next.seq);
          if (list === undefined || at < 0) continue;
          list.splice(at, 1);
          if (list.length === 0) store.delete(next.key);
          else store.touch(next.key);
        }
      };
      const onElement = (side: 0 | 1, element: L | R): void => {
        const ts = times[side](element as L & R);
        const key = keys[side](element as L & R);
        const wm = clock?.current ?? -Infinity;
        if (noKey(key)) return dropNullKey(operator, late, element, ts, wm);
        const otherTtl = ttls[side === 0 ? 1 : 0];
        const others = stores[side === 0 ? 1 : 0].get(key);
        if (others !== undefined) {
          for (const o of others) {
            // Expired but not yet taken out (its advance has not been applied here yet): gone all the same.
            if (otherTtl !== undefined && o.ts + otherTtl <= wm) continue;
            const value = side === 0 ? join(element as L, o.element as R) : join(o.element as L, element as R);
            subscriber.next({ key, value, timestamp: Math.max(ts, o.ts) });
          }
        }
        const ttl = ttls[side];
        if (ttl !== undefined && ts + ttl <= wm) return; // expired on arrival: joined, not kept
        const kept: Kept<L | R> = { ts, seq: seq++, element };
        const own = stores[side];
        const list = own.get(key);
        if (list === undefined) own.put(key, [kept]);
        else {
          list.push(kept);
          own.touch(key);
        }
        if (ttl !== undefined) expiring.push({ at: ts + ttl, seq: kept.seq, side, key });
      };
      const subscription = bothSides(left, right).subscribe({
        next: ({ side, element }) => {
          try {
            onElement(side, element);
          } catch (err) {
            subscriber.error(err);
          }
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      const advances = ttls[0] === undefined && ttls[1] === undefined ? undefined : clock!.advances.subscribe(expireUpTo);
      return () => {
        advances?.unsubscribe();
        subscription.unsubscribe();
        expiring.clear();
      };
    });
}

function resolveTtls(operator: string, ttl: RegularJoinOptions<unknown, unknown, unknown, unknown>['ttl']): readonly [number | undefined, number | undefined] {
  if (ttl === undefined) return [undefined, undefined];
  if (typeof ttl === 'number') {
    const both = positiveInteger(operator, 'ttl', ttl);
    return [both, both];
  }
  if (typeof ttl !== 'object' || ttl === null) throw new ConfigError(`${operator}.ttl`, 'must be a number of ms or { left?, right? }');
  return [
    ttl.left === undefined ? undefined : positiveInteger(operator, 'ttl.left', ttl.left),
    ttl.right === undefined ? undefined : positiveInteger(operator, 'ttl.right', ttl.right),
  ];
}
