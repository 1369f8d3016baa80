import { Observable, type OperatorFunction } from 'rxjs';
import type { Serde } from '../serdes/serde.js';
import type { TableSource } from '../state/source-table.js';
import { resolveLate } from './event-time-options.js';
import { bothSides, dropNullKey, joinKey, joinType, lenientTimestamp, noKey, otherSide, tableValue, type JoinKeyOptions, type JoinResult } from './join-inputs.js';
import type { LateOptions } from './late-output.js';
import { declareKeyValueStore, operatorStoreName, storePartitioning } from './operator-stores.js';
import { currentPipelineScope } from './pipeline-scope.js';
import { isTableSource } from './table.js';
import { tableViewOf } from './table-view.js';
import { requiredFunction, requiredObject } from './validate.js';

/**
 * The `type` and the `join` function of a {@link streamTableJoin}, typed together.
 *
 * @example
 * const joiner: StreamTableJoiner<Bid, Auction, number | null> = { type: 'left', join: (bid, auction) => auction?.category ?? null };
 */
export type StreamTableJoiner<S, T, V> =
  | { readonly type?: 'inner'; readonly join: (record: S, tableValue: T) => V }
  | { readonly type: 'left'; readonly join: (record: S, tableValue: T | null) => V };

/**
 * Settings of {@link streamTableJoin}, besides `type` and `join`.
 *
 * @example
 * const byAuction: StreamTableJoinSettings<Bid, TableUpdate<number, Auction>, number, Auction> = { key: (b) => b.auction };
 */
export interface StreamTableJoinSettings<S, U, K, T> extends JoinKeyOptions<S, U, K>, LateOptions<S | U> {
  /**
   * The table value an update carries; `null` or `undefined` deletes the key. Default: its
   * `value` field (a {@link TableUpdate}'s value, a {@link StreamRecord}'s value: a tombstone deletes).
   */
  readonly otherValue?: (update: U) => T | null | undefined;
  /** The table's store: the latest value per key (changelog `<processor>-<store>-changelog`). Default `streamTableJoin-<n>`. */
  readonly store?: string;
  /** Serde of the table's values in the changelog. Default: V8's structured clone. */
  readonly valueSerde?: Serde<T>;
  /** Serde of the keys in the changelog. Default: JSON. */
  readonly keySerde?: Serde<K>;
  /** The stream element's event time, the result's. Default: its `timestamp` field; without one, inside a processor, the time of the input record it was made from (0 outside one). */
  readonly timestamp?: (record: S) => number;
}

/**
 * The options of {@link streamTableJoin}.
 *
 * @example
 * const options: StreamTableJoinOptions<Bid, TableUpdate<number, Auction>, number, number, Auction> = { key: (b) => b.auction, join: (b, a) => a.category };
 */
export type StreamTableJoinOptions<S, U, V, K = unknown, T = unknown> = StreamTableJoinSettings<S, U, K, T> & StreamTableJoiner<S, T, V>;

/**
 * A stream-table join, as Kafka Streams' `KStream.join/leftJoin(KTable)`: the piped stream is
 * the stream side; `table`, a stream of updates in the same pipeline, is the table side (its
 * latest value per key; an update whose value is null or undefined deletes the key). Each
 * stream record is joined with the table's value for its key **at that point in processing
 * order** (the source's offset order, both sides coming from one source): `join(record, value)`
 * with the record's event time. A table update emits nothing. With `type: 'inner'` (default) a
 * record whose key has no value emits nothing; with `'left'`, `join(record, null)`.
 *
 * **State.** The table, in a key-value store (logged, restored, queryable by key). A stream
 * record whose join key is null or undefined goes to the late output (`reason: 'null join key'`)
 * in an inner join, and is joined with null in a left join; a table update without a key goes
 * to the late output. Why processing order and not event-time versions: docs/joins.md.
 *
 * @example
 * const bids = records.pipe(filter(isBid));         // type guards: r is StreamRecord<K, Bid>
 * const auctions = records.pipe(filter(isAuction));
 * bids.pipe(
 *   streamTableJoin(auctions, {
 *     type: 'left', store: 'auctions',
 *     key: (b) => b.value.auction, otherKey: (a) => a.value.id,
 *     join: (bid, auction) => ({ ...bid.value, category: auction?.category ?? null }),
 *   }),
 * );
 *
 * **A table read from a topic** ({@link table}, {@link globalTable}, named in the processor's
 * `tables` option) is joined the same way: `streamTableJoin(rates, { key, join })`. Its store is
 * the table's own (`otherKey`, `otherValue`, `store` and the serdes do not apply). Before each
 * stream record the table takes its updates up to the record's `timestamp` (a global table: what
 * has been read so far); see docs/joins.md, "Tables from topics".
 *
 * @example
 * const rates = table<string, number>('rates');
 * orders.pipe(streamTableJoin(rates, { key: (o) => o.value.currency, join: (o, rate) => o.value.amount * rate }));
 */
export function streamTableJoin<S, U, V, K = unknown, T = unknown>(
  table: Observable<U> | TableSource<K, T>,
  options: StreamTableJoinOptions<S, U, V, K, T>,
): OperatorFunction<S, JoinResult<K, V>> {
  const operator = 'streamTableJoin';
  requiredObject(operator, options);
  if (isTableSource<K, T>(table)) return joinTableView(operator, table, options);
  const updates = otherSide(operator, table);
  const type = joinType(operator, options.type, ['inner', 'left'] as const);
  const join = requiredFunction(operator, 'join', options.join as (record: S, value: T | null) => V);
  const late = resolveLate<S | U>(operator, options.late);
  const streamKey = joinKey(operator, 'key', options.key);
  const tableKey = joinKey(operator, 'otherKey', options.otherKey);
  const valueOf = tableValue(operator, 'otherValue', options.otherValue);
  const timeOf = lenientTimestamp(operator, 'timestamp', options.timestamp);
  const updateTime = lenientTimestamp<U>(operator, 'otherTimestamp', undefined);
  const scope = currentPipelineScope();
  const partitioning = storePartitioning(operator, options.partitioning);
  const tableStore = declareKeyValueStore<K, T>(operatorStoreName(operator, options.store), { key: options.keySerde, value: options.valueSerde, operator, partitioning });

  return (stream) =>
    new Observable<JoinResult<K, V>>((subscriber) => {
      const store = tableStore();
      const subscription = bothSides(stream, updates).subscribe({
        next: (sided) => {
          try {
            if (sided.side === 1) {
              const key = tableKey(sided.element);
              if (noKey(key)) return dropNullKey(operator, late, sided.element, updateTime(sided.element), scope?.clock.current ?? -Infinity);
              const value = valueOf(sided.element);
              if (value === null || value === undefined) store.delete(key);
              else store.put(key, value);
              return;
            }
            const record = sided.element;
            const key = streamKey(record);
            const timestamp = timeOf(record);
            if (noKey(key)) {
              if (type === 'left') subscriber.next({ key: null as K, value: join(record, null), timestamp });
              else dropNullKey(operator, late, record, timestamp, scope?.clock.current ?? -Infinity);
              return;
            }
            const value = store.get(key);
            if (value !== undefined) subscriber.next({ key, value: join(record, value), timestamp });
            else if (type === 'left') subscriber.next({ key, value: join(record, null), timestamp });
          } catch (err) {
            subscriber.error(err);
          }
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => subscription.unsubscribe();
    });
}

/** {@link streamTableJoin} with a table read from a topic (its store, its own position). Internal. */
function joinTableView<S, U, V, K, T>(operator: string, source: TableSource<K, T>, options: StreamTableJoinOptions<S, U, V, K, T>): OperatorFunction<S, JoinResult<K, V>> {
  const view = tableViewOf(operator, source);
  const type = joinType(operator, options.type, ['inner', 'left'] as const);
  const join = requiredFunction(operator, 'join', options.join as (record: S, value: T | null) => V);
  const late = resolveLate<S>(operator, options.late);
  const streamKey = joinKey(operator, 'key', options.key);
  const timeOf = lenientTimestamp(operator, 'timestamp', options.timestamp);
  const scope = currentPipelineScope();
  return (stream) =>
    new Observable<JoinResult<K, V>>((subscriber) =>
      stream.subscribe({
        next: (record) => {
          try {
            const key = streamKey(record);
            const timestamp = timeOf(record);
            view.advanceTo(timestamp);
            if (noKey(key)) {
              if (type === 'left') subscriber.next({ key: null as K, value: join(record, null), timestamp });
              else dropNullKey(operator, late, record, timestamp, scope?.clock.current ?? -Infinity);
              return;
            }
            const row = view.get(key);
            if (row !== undefined) subscriber.next({ key, value: join(record, row.value), timestamp });
            else if (type === 'left') subscriber.next({ key, value: join(record, null), timestamp });
          } catch (err) {
            subscriber.error(err);
          }
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      }),
    );
}
