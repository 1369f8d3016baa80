import type { LogRecord } from '../connectors/log.js';
import { TributaryError } from '../errors.js';
import type { Serde } from '../serdes/serde.js';

/**
 * A topic read as a table (latest value per key, a null value deletes): what `table()` and
 * `globalTable()` make, and what a processor's `tables` option names. `'table'`: partition p of
 * the topic is read by the processor's partition p (the topics must be co-partitioned);
 * `'global'`: every node reads every partition. See docs/joins.md, "Tables from topics".
 */
export interface TableSource<K, V> {
  readonly kind: 'table' | 'global';
  readonly topic: string;
  readonly key: Serde<K>;
  readonly value: Serde<V>;
}

/** One change a table took: the key's new value (null: deleted), its previous one, the update's time. */
export interface TableChange<K, V> {
  readonly key: K;
  readonly value: V | null;
  readonly previous: V | undefined;
  readonly timestamp: number;
}

/** A table's latest value per key, with the event time of the update that set it. */
export interface TableRow<V> {
  readonly value: V;
  readonly ts: number;
}

/**
 * A table read from a topic, as the join operators see it: lookups, and `advanceTo(t)`, which
 * takes the table's pending updates whose timestamps are at most `t` (in the topic's offset
 * order, stopping at the first later one). A global table takes its updates as they are read:
 * its `advanceTo` does nothing. Internal.
 */
export interface TableView<K, V> {
  readonly name: string;
  readonly kind: TableSource<K, V>['kind'];
  get(key: K): TableRow<V> | undefined;
  advanceTo(timestamp: number): void;
  /** Calls `listener` after each change the table takes; returns its removal. */
  onChange(listener: (change: TableChange<K, V>) => void): () => void;
}

/** An update of a table's topic that cannot be taken: it never deletes its key. */
export interface UndecodableUpdate {
  readonly table: string;
  readonly record: LogRecord;
  readonly reason: string;
  /** Read while restoring (it was reported when it was first taken). */
  readonly restoring: boolean;
}

/** Decodes a table update: the key and value (null: a tombstone), or the reason it cannot be taken. Internal. */
export function decodeUpdate<K, V>(source: TableSource<K, V>, record: LogRecord): { key: K; value: V | null } | { reason: string } {
  if (record.key === null) return { reason: 'table update without a key' };
  let key: K;
  try {
    key = source.key.deserialize(record.key);
  } catch (err) {
    return { reason: `key: ${(err as Error).message}` };
  }
  if (key === null || key === undefined) return { reason: 'table update without a key' };
  if (record.value === null) return { key, value: null };
  try {
    const value = source.value.deserialize(record.value);
    return { key, value: value === undefined ? null : value };
  } catch (err) {
    return { reason: (err as Error).message };
  }
}

/**
 * A join looked up a key in partition p of a table from a topic that the table topic's
 * partitioner puts in another partition: the stream is not keyed (partitioned) by the join key,
 * so the lookup can never find the key's row. Permanent: the same input fails the same way.
 *
 * @example
 * // TableKeyingError: table rates (topic rates) in partition 1: join key "EUR" belongs to partition 0 of 3 ...
 */
export class TableKeyingError extends TributaryError {
  constructor(
    readonly table: string,
    readonly topic: string,
    readonly key: unknown,
    readonly partition: number,
    readonly keyPartition: number,
    readonly partitions: number,
  ) {
    super(
      `table ${table} (topic ${topic}) in partition ${partition}: join key ${JSON.stringify(key)} belongs to partition ${keyPartition} of ${partitions} ` +
        `(the default partitioner, which every record of the table read here follows): the stream is not keyed by the join key, so its lookups miss. ` +
        `Repartition the stream by the join key (sinks: repartition({ key, partitions: ${partitions}, tables: { ${table} }, pipeline })), or read the topic as a globalTable()`,
      { permanent: true },
    );
  }
}
