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
  /** An update's time, in epoch ms (what a stream record's time is compared with). Default: its log timestamp. */
  readonly timestamp?: (update: TableUpdateRecord<K, V>) => number;
}

/** A table update as a timestamp extractor sees it: decoded, with its log record's timestamp. */
export interface TableUpdateRecord<K, V> {
  readonly key: K;
  /** Null: a tombstone. */
  readonly value: V | null;
  /** The log record's timestamp. */
  readonly timestamp: number;
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

/** A table update decoded: its key, its value (null: a tombstone), its time; or the reason it cannot be taken. Internal. */
export type DecodedUpdate<K, V> = { readonly key: K; readonly value: V | null; readonly ts: number } | { readonly reason: string; readonly ts: number };

/** Decodes a table update and finds its time (`source.timestamp`, else the log timestamp). Internal. */
export function decodeUpdate<K, V>(source: TableSource<K, V>, record: LogRecord): DecodedUpdate<K, V> {
  const fail = (reason: string) => ({ reason, ts: record.timestamp });
  if (record.key === null) return fail('table update without a key');
  let key: K;
  try {
    key = source.key.deserialize(record.key);
  } catch (err) {
    return fail(`key: ${(err as Error).message}`);
  }
  if (key === null || key === undefined) return fail('table update without a key');
  let value: V | null = null;
  if (record.value !== null) {
    try {
      const decoded = source.value.deserialize(record.value);
      value = decoded === undefined ? null : decoded;
    } catch (err) {
      return fail((err as Error).message);
    }
  }
  if (!source.timestamp) return { key, value, ts: record.timestamp };
  let ts: number;
  try {
    ts = source.timestamp({ key, value, timestamp: record.timestamp });
  } catch (err) {
    return fail(`timestamp extractor threw: ${(err as Error).message}`);
  }
  if (typeof ts !== 'number' || !Number.isFinite(ts)) return fail(`missing or invalid timestamp: ${String(ts)}`);
  return { key, value, ts };
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
