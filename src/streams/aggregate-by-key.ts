import { Observable, type OperatorFunction } from 'rxjs';
import type { Serde } from '../serdes/serde.js';
import type { Aggregator } from './aggregator.js';
import { resolveKey, type KeyOf, type KeyOptions } from './event-time-options.js';
import { currentPipelineScope } from './pipeline-scope.js';
import { lenientTimestamp } from './join-inputs.js';
import { checkAggregator } from './window-options.js';
import { positiveInteger, requiredObject } from './validate.js';
import { MinHeap } from './min-heap.js';
import type { WatermarkClock } from './watermark-clock.js';
import { ConfigError } from '../errors.js';
import { declareKeyValueStore, operatorStoreName, storePartitioning, type PartitioningOptions } from './operator-stores.js';

/** One update of a table: the key's new value, and the event time of the element that made it. */
export interface TableUpdate<K, V> {
  readonly key: K;
  readonly value: V;
  readonly timestamp: number;
}

/**
 * When a table operator emits:
 * - `'every-record'` (default): an update for every element;
 * - `'on-commit'`: at most one update per changed key per commit interval, at the commit (as
 *   Kafka Streams' record cache does), so a hot key costs one output per interval;
 * - `'final'`: only when the input ends (a finite input), one update per key.
 */
export type TableEmit = 'every-record' | 'on-commit' | 'final';

/**
 * Options of {@link aggregateByKey}.
 *
 * @example
 * const options: AggregateByKeyOptions<StreamRecord<string, Order>, number, string> = {
 *   store: 'totals', aggregate: summing((r) => r.value.amount), emit: 'on-commit',
 * };
 */
export interface AggregateByKeyOptions<T, A, K> extends KeyOptions<T, K>, PartitioningOptions {
  /** How elements fold into the key's value. */
  readonly aggregate: Aggregator<T, A>;
  /**
   * The store's name: its changelog is `<processor>-<store>-changelog`, and queries name it.
   * Default `aggregateByKey-<n>` in declaration order: name it so that it survives changes to
   * the topology.
   */
  readonly store?: string;
  /** When to emit; see {@link TableEmit}. */
  readonly emit?: TableEmit;
  /** Serde of the values in the changelog. Default: V8's structured clone. */
  readonly valueSerde?: Serde<A>;
  /** Serde of the keys in the changelog. Default: JSON. */
  readonly keySerde?: Serde<K>;
  /** The update's timestamp. Default: the element's `timestamp` field; without one, inside a processor, the time of the input record it was made from (0 outside one). */
  readonly timestamp?: (element: T) => number;
  /**
   * Event-time TTL, ms: a key not updated for this long (its last update's timestamp + `ttl` at
   * or behind the watermark) is deleted from the store (a tombstone in the changelog), and a
   * later element for it starts again from `init`. Its deletion emits nothing. The last update
   * times live in a second store, `<store>.expiry`, restored with it. Default: keys live forever.
   */
  readonly ttl?: number;
  /** The event-time clock `ttl` is judged on. Default: the partition's (inside a processor). */
  readonly clock?: WatermarkClock;
}

/** {@link aggregateByKey} under another operator's name, for the operators built on it. Internal. */
export function aggregateByKeyAs<T, A, K>(operator: string, options: AggregateByKeyOptions<T, A, K>): OperatorFunction<T, TableUpdate<K, A>> {
  requiredObject(operator, options);
  checkAggregator(operator, options.aggregate);
  const { aggregate } = options;
  const emit = options.emit ?? 'every-record';
  if (emit !== 'every-record' && emit !== 'on-commit' && emit !== 'final') {
    throw new ConfigError(`${operator}.emit`, `must be 'every-record', 'on-commit' or 'final', got ${String(emit)}`);
  }
  const keyOf = resolveKey(operator, options);
  const timeOf = lenientTimestamp(operator, 'timestamp', options.timestamp);
  const scope = currentPipelineScope();
  const partitioning = storePartitioning(operator, options.partitioning);
  const name = operatorStoreName(operator, options.store);
  const tableStore = declareKeyValueStore<K, A>(name, { key: options.keySerde, value: options.valueSerde, operator, partitioning });
  const ttl = options.ttl === undefined ? undefined : positiveInteger(operator, 'ttl', options.ttl);
  const clock = options.clock ?? scope?.clock;
  if (ttl !== undefined && clock === undefined) {
    throw new ConfigError(`${operator}.ttl`, 'needs an event-time clock: use the operator inside a processor, or pass clock');
  }
  const expiryStore = ttl === undefined ? undefined : declareKeyValueStore<K, number>(`${name}.expiry`, { key: options.keySerde, operator, partitioning });

  return (source) =>
    new Observable<TableUpdate<K, A>>((subscriber) => {
      const store = tableStore();
      const expiry = expiryStore?.();
      // Keys by when they expire (lazily: an entry whose key was updated since is skipped).
      const expiring = new MinHeap<{ at: number; key: K; last: number }>((a, b) => a.at - b.at);
      expiry?.onRestored(() => {
        for (const [key, last] of expiry.all()) expiring.push({ at: last + ttl!, key, last });
      });
      const expireUpTo = (watermark: number): void => {
        for (let next = expiring.peek(); next !== undefined && next.at <= watermark; next = expiring.peek()) {
          expiring.pop();
          if (expiry!.get(next.key) !== next.last) continue;
          expiry!.delete(next.key);
          store.delete(next.key);
          changed.delete(next.key);
        }
      };
      const advances = expiry === undefined ? undefined : clock!.advances.subscribe(expireUpTo);
      // 'on-commit': keys changed since the last emission, with their last update's timestamp.
      const changed = new Map<K, number>();
      const flush = (): void => {
        for (const [key, timestamp] of changed) {
          const value = store.get(key);
          if (value !== undefined) subscriber.next({ key, value, timestamp });
        }
        changed.clear();
      };
      const stopCheckpoints = emit === 'on-commit' ? scope?.onCheckpoint(flush) : undefined;
      const subscription = source.subscribe({
        next: (element) => {
          let update: TableUpdate<K, A>;
          try {
            const key = keyOf(element);
            const previous = store.get(key);
            const value = aggregate.add(previous === undefined ? aggregate.init() : previous, element);
            store.put(key, value);
            update = { key, value, timestamp: timeOf(element) };
            if (expiry !== undefined) {
              const previousLast = expiry.get(key);
              const last = previousLast === undefined || update.timestamp > previousLast ? update.timestamp : previousLast;
              expiry.put(key, last);
              expiring.push({ at: last + ttl!, key, last });
            }
          } catch (err) {
            subscriber.error(err);
            return;
          }
          if (emit === 'every-record') subscriber.next(update);
          else if (emit === 'on-commit') {
            changed.delete(update.key); // re-inserted: keys emit in the order of their last change
            changed.set(update.key, update.timestamp);
          }
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          if (emit === 'on-commit') flush();
          if (emit === 'final') for (const [key, value] of store.all()) subscriber.next({ key, value, timestamp: 0 });
          subscriber.complete();
        },
      });
      return () => {
        advances?.unsubscribe();
        stopCheckpoints?.();
        subscription.unsubscribe();
      };
    });
}

/**
 * An unwindowed aggregate per key: a table, as Kafka Streams' `groupByKey().aggregate()`. Each
 * key's value is kept in a store for as long as the processor runs (logged to the store's
 * changelog, restored after a crash or on a new owner, queryable by key), and updated by every
 * element; what is emitted is chosen by `emit`. The commit never waits for this state: it is
 * in the changelog.
 *
 * @example
 * // a running total per customer, one update per customer per commit interval
 * orders.pipe(
 *   keyBy((r) => r.value.customerId),
 *   aggregateByKey({ store: 'totals', aggregate: summing((r) => r.value.amount), emit: 'on-commit' }),
 * );
 */
export function aggregateByKey<T, A = unknown, K = KeyOf<T>>(options: AggregateByKeyOptions<T, A, K>): OperatorFunction<T, TableUpdate<K, A>> {
  return aggregateByKeyAs('aggregateByKey', options);
}
