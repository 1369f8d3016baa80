import type { LogRecord, PartitionReader, TopicPartition } from '../connectors/log.js';
import { partitionForKey } from '../connectors/partitioner.js';
import type { Serde } from '../serdes/serde.js';
import { MemoryKeyValueStore } from './memory-key-value-store.js';
import { decodeUpdate, TableKeyingError, type DecodedUpdate, type TableChange, type TableRow, type TableSource, type TableView, type UndecodableUpdate } from './source-table.js';
import { jsonKeys, structuredValues } from './store-serdes.js';

/** Most updates read ahead of what the table has taken; a read for more starts below half of it. */
export const READ_AHEAD = 10_000;

/** What a {@link SourceTableStore} is given. */
export interface SourceTableStoreOptions<K, V> {
  readonly name: string;
  readonly source: TableSource<K, V>;
  /** The partition of the table's topic this store holds (the stream partition's number). */
  readonly partition: TopicPartition;
  readonly reader: PartitionReader;
  /** An update that does not decode: reported (live: a dead letter, whose write a checkpoint waits for). */
  readonly onUndecodable: (update: UndecodableUpdate) => Promise<void> | void;
  /** Most keys held, as a store's memory budget. */
  readonly maxKeys: number;
  /** The partition count of the table's topic (for the keying check of lookups). */
  readonly partitions: number;
}

/** After a read that found nothing new, the next waits this long (a caught-up table does not ask the broker on every record). */
const IDLE_READ_MS = 100;

/** An update read ahead, decoded (at read time, off the stream's path). */
interface Pending<K, V> {
  readonly record: LogRecord;
  readonly update: DecodedUpdate<K, V>;
}

/** Lookups checked against the table's partitioning: every one of the first ones, then one in {@link CHECK_EVERY}. */
const CHECK_FIRST = 1_000;
const CHECK_EVERY = 64;

/**
 * One partition of a table read from its topic, inside the stream partition of the same number:
 * **the topic is its own changelog**. A restore reads the topic from its start up to the position
 * the commit recorded (the offset after the last update the table had taken at the committed
 * input offset); from there the table follows the topic as a second input: updates are read ahead
 * (at most {@link READ_AHEAD}) and taken by {@link advanceTo} as the stream's records pass their
 * timestamps, so each stream record sees the updates up to its own time, as Kafka Streams
 * synchronises a task's partitions by timestamp. Nothing is ever written: no changelog topic.
 *
 * An update that does not decode (or has no key) is skipped, never deleting its key; when taken
 * live it is reported (the dead letters), while restoring only counted.
 *
 * @example
 * const rates = new SourceTableStore({ name: 'rates', source, partition: { topic: 'rates', partition: 0 }, reader, onUndecodable, maxKeys });
 * await rates.restoreTo(committed);   // 0..committed, then reads ahead
 * rates.advanceTo(record.timestamp); rates.get('EUR');
 */
export class SourceTableStore<K, V> implements TableView<K, V> {
  readonly kind = 'table' as const;
  /** The rows, as a store (queries, scans, key checks see it); never logged. */
  readonly store: MemoryKeyValueStore<K, TableRow<V>>;
  private positionValue = 0;
  private readPosition = 0;
  private ahead: Pending<K, V>[] = [];
  private head = 0;
  private reading: Promise<void> | undefined;
  private failure: Error | undefined;
  private readonly listeners = new Set<(change: TableChange<K, V>) => void>();
  private reports: Promise<void>[] = [];
  /** Whether every table record read here follows the default partitioner (undefined: none read yet). */
  private defaultPartitioned: boolean | undefined;
  private lookups = 0;
  /** No read before this time (`performance.now()`): the last one found nothing new. */
  private idleUntil = 0;
  /** The highest end offset of the topic's partition seen by a read (a lower bound of the end now). */
  private endSeen = 0;

  constructor(private readonly options: SourceTableStoreOptions<K, V>) {
    const serdes = { key: jsonKeys as Serde<K>, value: structuredValues as Serde<TableRow<V>>, view: (row: TableRow<V>) => row.value };
    this.store = new MemoryKeyValueStore<K, TableRow<V>>(options.name, serdes, false, options.maxKeys);
  }

  get name(): string {
    return this.options.name;
  }

  /** The offset after the last update taken: what a checkpoint records. */
  get position(): number {
    return this.positionValue;
  }

  /**
   * Updates of the topic's partition not taken yet, as of the last read: read ahead and waiting
   * for the stream's time to pass theirs, or not read yet (a consumer's lag, for the table).
   */
  get lag(): number {
    return Math.max(0, this.endSeen - this.positionValue);
  }

  /** Reads the topic's partition from its start up to `until` (the committed position), then reads ahead. */
  async restoreTo(until: number): Promise<{ records: number }> {
    let records = 0;
    if (until > 0) {
      await this.options.reader.read(this.options.partition, 0, until, (batch) => {
        for (const record of batch) {
          records++;
          this.take({ record, update: decodeUpdate(this.options.source, record) }, true);
        }
      });
    }
    this.positionValue = until;
    this.readPosition = until;
    this.endSeen = Math.max(this.endSeen, until);
    await this.readAhead();
    return { records };
  }

  /**
   * The key's row. Sampled lookups are checked against the table's partitioning: when every table
   * record read here follows the default partitioner, a key it would put in another partition
   * throws a {@link TableKeyingError} (the stream is not keyed by the join key: the lookup could
   * never find the row).
   */
  get(key: K): TableRow<V> | undefined {
    const n = this.lookups++;
    if (this.defaultPartitioned === true && (n < CHECK_FIRST || n % CHECK_EVERY === 0)) this.checkKey(key);
    return this.store.get(key);
  }

  private checkKey(key: K): void {
    let bytes: Buffer | string | null;
    try {
      bytes = this.options.source.key.serialize(key);
    } catch {
      return; // not a key of the table's serde: no evidence either way
    }
    if (bytes === null) return;
    const { partition, partitions } = { partition: this.options.partition.partition, partitions: this.options.partitions };
    const keyPartition = partitionForKey(bytes, partitions);
    if (keyPartition !== partition) throw new TableKeyingError(this.options.name, this.options.source.topic, key, partition, keyPartition, partitions);
  }

  /** The reports (dead letters) of undecodable updates taken since the last call: a checkpoint past them waits for them. */
  takeReports(): Promise<void>[] {
    const reports = this.reports;
    this.reports = [];
    return reports;
  }

  onChange(listener: (change: TableChange<K, V>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Takes the updates read ahead whose timestamps are at most `timestamp`, in offset order. Throws when reading the topic failed. */
  advanceTo(timestamp: number): void {
    if (this.failure !== undefined) throw this.failure;
    for (;;) {
      while (this.head < this.ahead.length && this.ahead[this.head].update.ts <= timestamp) {
        const pending = this.ahead[this.head++];
        this.take(pending, false);
        this.positionValue = pending.record.offset + 1;
      }
      // Read ahead to the end, or to the first later update: what the topic holds now, when the reader can say at once (MemoryLog).
      if (this.head < this.ahead.length) break;
      this.ahead = [];
      this.head = 0;
      if (!this.readNow()) break;
    }
    if (this.head === this.ahead.length && this.head > 0) {
      this.ahead = [];
      this.head = 0;
    }
    if (!this.options.reader.readNow && this.ahead.length - this.head < READ_AHEAD / 2 && this.reading === undefined && (this.idleUntil === 0 || performance.now() >= this.idleUntil)) {
      void this.readAhead().catch((err: unknown) => (this.failure = err instanceof Error ? err : new Error(String(err))));
    }
  }

  /** Reads what the topic's partition holds now past the last read, at once, where the reader can (MemoryLog); whether it read any. */
  private readNow(): boolean {
    const { reader, partition } = this.options;
    if (!reader.readNow || this.reading !== undefined) return false;
    const { records, next } = reader.readNow(partition, this.readPosition, Infinity, READ_AHEAD - (this.ahead.length - this.head));
    for (const record of records) this.ahead.push({ record, update: decodeUpdate(this.options.source, record) });
    this.readPosition = next;
    this.endSeen = Math.max(this.endSeen, next);
    return records.length > 0;
  }

  /** Reads more of the topic (up to {@link READ_AHEAD} offsets past the last read), one read at a time. */
  private readAhead(): Promise<void> {
    this.reading ??= (async () => {
      try {
        const end = await this.options.reader.endOffset(this.options.partition);
        this.endSeen = Math.max(this.endSeen, end);
        const until = Math.min(end, this.readPosition + READ_AHEAD);
        this.idleUntil = until <= this.readPosition ? performance.now() + IDLE_READ_MS : 0;
        if (until <= this.readPosition) return;
        await this.options.reader.read(this.options.partition, this.readPosition, until, (batch) => {
          for (const record of batch) this.ahead.push({ record, update: decodeUpdate(this.options.source, record) });
        });
        this.readPosition = until;
      } finally {
        this.reading = undefined;
      }
    })();
    return this.reading;
  }

  private take({ record, update }: Pending<K, V>, restoring: boolean): void {
    if (record.key !== null && this.defaultPartitioned !== false) {
      this.defaultPartitioned = partitionForKey(record.key, this.options.partitions) === this.options.partition.partition;
    }
    if ('reason' in update) {
      const report = this.options.onUndecodable({ table: this.options.name, record, reason: update.reason, restoring });
      if (report) {
        report.catch(() => undefined); // failed, it fails the checkpoint that waits for it
        this.reports.push(report);
      }
      return;
    }
    const { key, value, ts } = update;
    const previous = this.store.get(key)?.value;
    if (value === null) this.store.delete(key);
    else this.store.put(key, { value, ts });
    if (restoring || this.listeners.size === 0) return;
    const change: TableChange<K, V> = { key, value, previous, timestamp: ts };
    for (const listener of this.listeners) listener(change);
  }
}
