import { ConfigError } from '../errors.js';
import { json } from '../serdes/json.js';
import type { Serde } from '../serdes/serde.js';
import { string } from '../serdes/string.js';
import type { TableSource, TableUpdateRecord } from '../state/source-table.js';

export type { TableSource, TableUpdateRecord } from '../state/source-table.js';

/** How a table's topic is decoded. */
export interface TableOptions<K, V> {
  /** Key decoding. Default {@link string}. */
  readonly key?: Serde<K>;
  /** Value decoding (with validation); a null value is a tombstone and deletes the key. Default {@link json}. */
  readonly value?: Serde<V>;
  /**
   * An update's time in epoch ms, which a `table()`'s updates are taken by (a stream record sees the
   * updates up to its own time). Default: the log record's timestamp (also the time of an update that does not decode). Throwing, or returning a
   * non-finite number, makes the update undecodable (dead letter; its key kept).
   */
  readonly timestamp?: (update: TableUpdateRecord<K, V>) => number;
}

function source<K, V>(kind: TableSource<K, V>['kind'], operator: string, topic: string, options: TableOptions<K, V>): TableSource<K, V> {
  if (typeof topic !== 'string' || topic.length === 0) throw new ConfigError(`${operator}.topic`, 'must name a topic');
  if (typeof options !== 'object' || options === null) throw new ConfigError(`${operator}.options`, 'must be an object');
  if (options.timestamp !== undefined && typeof options.timestamp !== 'function') throw new ConfigError(`${operator}.timestamp`, 'must be a function (update) => epoch ms');
  return Object.freeze({ kind, topic, key: options.key ?? (string() as unknown as Serde<K>), value: options.value ?? json<V>(), timestamp: options.timestamp });
}

/**
 * A (compacted) topic read as a table: its latest value per key, a null value (tombstone)
 * deletes the key, an update that does not decode goes to the dead letters and never deletes
 * it. Name it in a processor's `tables` option (`tables: { rates }`, the store's name) and join
 * it with {@link streamTableJoin} or {@link tableTableJoin} in the pipeline. Partition p of the
 * topic is read by the processor's partition p: the topic must have as many partitions as the
 * processor's source topics, keyed alike (checked at start). **The topic is its own changelog**:
 * no changelog topic is created; a restore reads the topic up to the position the commit recorded.
 * See docs/joins.md, "Tables from topics".
 *
 * @example
 * const rates = table<string, Rate>('rates', { value: json({ schema: rateSchema }) });
 * defineProcessor<string, Order>({
 *   id: 'priced', source: { topics: 'orders' }, tables: { rates },
 *   pipeline: (orders) => orders.pipe(streamTableJoin(rates, { key: (o) => o.value.currency, join: (o, rate) => o.value.amount * rate.eur })),
 *   sinks: toTopic('priced-orders'),
 * });
 */
export function table<K = string, V = unknown>(topic: string, options: TableOptions<K, V> = {}): TableSource<K, V> {
  return source('table', 'table', topic, options);
}

/**
 * A topic read as a **global table**: every node reads every partition (no consumer group),
 * to the end before the processor's partitions start, then follows it. For small reference
 * data: a {@link streamTableJoin} with a key extractor needs no co-partitioning and no
 * repartition. Lookups see the table in processing order (what has been read so far), like Kafka
 * Streams' `GlobalKTable`. Name it in the processor's `tables` option.
 *
 * @example
 * const currencies = globalTable<string, Currency>('currencies');
 * defineProcessor<string, Order>({
 *   id: 'orders-eur', source: { topics: 'orders' }, tables: { currencies },
 *   pipeline: (orders) => orders.pipe(streamTableJoin(currencies, { type: 'left', key: (o) => o.value.currency, join: (o, c) => ({ ...o.value, name: c?.name ?? null }) })),
 *   sinks: toTopic('orders-eur'),
 * });
 */
export function globalTable<K = string, V = unknown>(topic: string, options: TableOptions<K, V> = {}): TableSource<K, V> {
  return source('global', 'globalTable', topic, options);
}

/** Whether `value` is a table made by {@link table} or {@link globalTable}. Internal. */
export function isTableSource<K = unknown, V = unknown>(value: unknown): value is TableSource<K, V> {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<TableSource<K, V>>;
  return (v.kind === 'table' || v.kind === 'global') && typeof v.topic === 'string' && typeof v.key === 'object' && typeof v.value === 'object';
}
