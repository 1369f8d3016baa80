import { map, Observable, type OperatorFunction } from 'rxjs';
import type { TableUpdate } from './aggregate-by-key.js';
import { resolveLate } from './event-time-options.js';
import { bothSides, dropNullKey, joinKey, joinType, lenientTimestamp, noKey, otherSide, tableValue, type JoinKeyOptions } from './join-inputs.js';
import type { LateOptions } from './late-output.js';
import { declareKeyValueStore, operatorStoreName, storePartitioning } from './operator-stores.js';
import { currentPipelineScope } from './pipeline-scope.js';
import { ConfigError } from '../errors.js';
import type { TableChange, TableSource } from '../state/source-table.js';
import { isTableSource } from './table.js';
import { tableViewOf } from './table-view.js';
import { requiredFunction, requiredObject } from './validate.js';

/**
 * The `type` and the `join` function of a {@link tableTableJoin}, typed together.
 *
 * @example
 * const joiner: TableTableJoiner<number, string, string> = { type: 'left', join: (total, name) => `${name ?? '?'}: ${total}` };
 */
export type TableTableJoiner<A, B, V> =
  | { readonly type?: 'inner'; readonly join: (left: A, right: B) => V }
  | { readonly type: 'left'; readonly join: (left: A, right: B | null) => V };

/**
 * Settings of {@link tableTableJoin}, besides `type` and `join`.
 *
 * @example
 * const settings: TableTableJoinSettings<TableUpdate<string, number>, TableUpdate<string, string>, string, number, string> = { store: 'totals-names' };
 */
export interface TableTableJoinSettings<L, R, K, A, B> extends JoinKeyOptions<L, R, K>, LateOptions<L | R> {
  /** The value a left update carries; null or undefined deletes the key. Default: its `value` field. */
  readonly value?: (left: L) => A | null | undefined;
  /** The value a right update carries; null or undefined deletes the key. Default: its `value` field. */
  readonly otherValue?: (right: R) => B | null | undefined;
  /** The stores' name: the left table lives in `<store>.left`, the right in `<store>.right`. Default `tableTableJoin-<n>`. */
  readonly store?: string;
  /** A left update's event time. Default: its `timestamp` field; without one, inside a processor, the time of the input record it was made from (0 outside one). */
  readonly timestamp?: (left: L) => number;
  /** A right update's event time. Default: its `timestamp` field; without one, inside a processor, the time of the input record it was made from (0 outside one). */
  readonly otherTimestamp?: (right: R) => number;
}

/**
 * The options of {@link tableTableJoin}.
 *
 * @example
 * const options: TableTableJoinOptions<TableUpdate<string, number>, TableUpdate<string, string>, string, string, number, string> = {
 *   store: 'totals-names', join: (total, name) => `${name}: ${total}`,
 * };
 */
export type TableTableJoinOptions<L, R, V, K = unknown, A = unknown, B = unknown> = TableTableJoinSettings<L, R, K, A, B> & TableTableJoiner<A, B, V>;

/** A table's value for a key, with the event time of the update that set it. */
interface Row<T> {
  readonly value: T;
  readonly ts: number;
}

/**
 * A table-table join, as Kafka Streams' `KTable.join/leftJoin(KTable)` on the same key: both
 * the piped stream and `other` are streams of table updates in the same pipeline (latest value
 * per key; a null or undefined value deletes the key), and the result is the joined table, as
 * its updates: after each update of either side, `{ key, value: join(left, right), timestamp }`
 * for the key's new joined value, or `{ key, value: null }` (a tombstone) when the key had a
 * joined value and has none any more. `timestamp` is the later of the two values' update times
 * (a tombstone: the deleting update's). An update that changes neither side (deleting a key
 * that is not there) emits nothing.
 *
 * - `type: 'inner'` (default): a key has a joined value while both tables have it;
 * - `type: 'left'`: while the left table has it, `join(left, right ?? null)`.
 *
 * **State.** Both tables in key-value stores (`<store>.left`, `<store>.right`; logged, restored,
 * queryable). An update whose key is null or undefined goes to the late output
 * (`reason: 'null join key'`): a table has no row without a key.
 *
 * **A table read from a topic** ({@link table}, named in the processor's `tables` option) may be
 * `other`: its own store is the right table (no `<store>.right`), each update it takes is a right
 * update, and it takes them as the left updates pass their times (`otherKey`, `otherValue` and
 * `otherTimestamp` do not apply). A global table is refused: see docs/joins.md.
 *
 * @example
 * // the join of two tables built in the same pipeline
 * const totals = orders.pipe(aggregateByKey({ store: 'totals', aggregate: summing((r) => r.value.amount) }));
 * const names = customers.pipe(map((r) => ({ key: r.key, value: r.value?.name, timestamp: r.timestamp })));
 * totals.pipe(tableTableJoin(names, { type: 'left', store: 'totals-names', join: (total, name) => ({ total, name }) }));
 *
 * @example
 * // with a table read from a topic (tables: { customers } in the processor)
 * const customers = table<string, Customer>('customers');
 * totals.pipe(tableTableJoin(customers, { type: 'left', store: 'totals-customers', join: (total, customer) => ({ total, name: customer?.name ?? null }) }));
 */
export function tableTableJoin<L, R, V, K = unknown, A = unknown, B = unknown>(
  other: Observable<R> | TableSource<K, B>,
  options: TableTableJoinOptions<L, R, V, K, A, B>,
): OperatorFunction<L, TableUpdate<K, V | null>> {
  const operator = 'tableTableJoin';
  requiredObject(operator, options);
  // A table read from a topic: its own store is the right table, its changes the right updates.
  const view = isTableSource<K, B>(other) ? tableViewOf(operator, other) : undefined;
  if (view?.kind === 'global') {
    throw new ConfigError(`${operator}.other`, 'a global table takes its updates as they are read, outside any record: join it with streamTableJoin, or read the topic as a table()');
  }
  const right = view ? undefined : otherSide(operator, other as Observable<R>);
  const type = joinType(operator, options.type, ['inner', 'left'] as const);
  const join = requiredFunction(operator, 'join', options.join as (left: A, right: B | null) => V);
  const late = resolveLate<L | R>(operator, options.late);
  const keys = [joinKey(operator, 'key', options.key), joinKey(operator, 'otherKey', options.otherKey)] as const;
  const values = [tableValue<L, A>(operator, 'value', options.value), tableValue<R, B>(operator, 'otherValue', options.otherValue)] as const;
  const times = [lenientTimestamp(operator, 'timestamp', options.timestamp), lenientTimestamp(operator, 'otherTimestamp', options.otherTimestamp)] as const;
  const scope = currentPipelineScope();
  const partitioning = storePartitioning(operator, options.partitioning);
  const name = operatorStoreName(operator, options.store);
  const leftStore = declareKeyValueStore<K, Row<A>>(`${name}.left`, { view: (row: Row<unknown>) => row.value, operator, partitioning });
  const rightStore = view ? () => undefined : declareKeyValueStore<K, Row<B>>(`${name}.right`, { view: (row: Row<unknown>) => row.value, operator, partitioning });
  const joined = (l: Row<A> | undefined, r: Row<B> | undefined): boolean => l !== undefined && (type === 'left' || r !== undefined);

  return (left) =>
    new Observable<TableUpdate<K, V | null>>((subscriber) => {
      const lefts = leftStore();
      const rights = rightStore() ?? { get: (key: K): Row<B> | undefined => view!.get(key), put: () => undefined, delete: () => undefined };
      const emit = (key: K, l: Row<A> | undefined, r: Row<B> | undefined, had: boolean, timestamp: number): void => {
        if (joined(l, r)) subscriber.next({ key, value: join(l!.value, r === undefined ? null : r.value), timestamp: Math.max(l!.ts, r?.ts ?? -Infinity) });
        else if (had) subscriber.next({ key, value: null, timestamp });
      };
      // A change the table from a topic took (its store already holds it).
      const onTableChange = (change: TableChange<K, B>): void => {
        if (change.previous === undefined && change.value === null) return;
        const l = lefts.get(change.key);
        const had = joined(l, change.previous === undefined ? undefined : { value: change.previous, ts: change.timestamp });
        emit(change.key, l, change.value === null ? undefined : { value: change.value, ts: change.timestamp }, had, change.timestamp);
      };
      const removeListener = view?.onChange((change) => {
        try {
          onTableChange(change);
        } catch (err) {
          subscriber.error(err);
        }
      });
      const onUpdate = (side: 0 | 1, update: L | R): void => {
        const key = keys[side](update as L & R);
        const timestamp = times[side](update as L & R);
        view?.advanceTo(timestamp);
        if (noKey(key)) return dropNullKey(operator, late, update, timestamp, scope?.clock.current ?? -Infinity);
        const value = values[side](update as L & R);
        const row = value === null || value === undefined ? undefined : { value, ts: timestamp };
        const own = side === 0 ? lefts : rights;
        const old = own.get(key);
        if (old === undefined && row === undefined) return; // nothing changed
        const l = side === 0 ? (row as Row<A> | undefined) : lefts.get(key);
        const r = side === 1 ? (row as Row<B> | undefined) : rights.get(key);
        const had = side === 0 ? joined(old as Row<A> | undefined, r) : joined(l, old as Row<B> | undefined);
        if (row === undefined) own.delete(key);
        else if (side === 0) lefts.put(key, row as Row<A>);
        else rights.put(key, row as Row<B>);
        emit(key, l, r, had, timestamp);
      };
      const sided = right ? bothSides(left, right) : left.pipe(map((element) => ({ side: 0 as const, element })));
      const subscription = sided.subscribe({
        next: ({ side, element }) => {
          try {
            onUpdate(side, element);
          } catch (err) {
            subscriber.error(err);
          }
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        removeListener?.();
        subscription.unsubscribe();
      };
    });
}
