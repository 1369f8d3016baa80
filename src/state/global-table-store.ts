import type { Logger } from 'pino';
import type { LogRecord, PartitionReader, TopicPartition } from '../connectors/log.js';
import type { Serde } from '../serdes/serde.js';
import { MemoryKeyValueStore } from './memory-key-value-store.js';
import { decodeUpdate, type TableChange, type TableRow, type TableSource, type TableView, type UndecodableUpdate } from './source-table.js';
import { jsonKeys, structuredValues } from './store-serdes.js';

/** What a {@link GlobalTableStore} is given. */
export interface GlobalTableStoreOptions<K, V> {
  readonly name: string;
  readonly source: TableSource<K, V>;
  readonly partitions: number;
  readonly reader: PartitionReader;
  readonly onUndecodable: (update: UndecodableUpdate) => void;
  readonly logger: Logger;
  /** How long the follower waits after a read that found nothing new. Default 100 ms. */
  readonly pollMs?: number;
}

/**
 * A global table: every partition of its topic, read in full by every node (no consumer group,
 * no offsets committed, nothing written). {@link start} reads each partition to the end it has at
 * that moment (the processor starts its partitions only afterwards); then a follower reads what
 * is appended, every `pollMs` when idle, and the table takes each update as it is read. Lookups
 * therefore see the table **in processing order**: whatever has been read when the stream record
 * is processed, as Kafka Streams' `GlobalKTable` (not synchronised with the stream by time, and
 * not the same on every node at the same instant). Held in memory; a restart reads it again.
 *
 * @example
 * const currencies = new GlobalTableStore({ name: 'currencies', source, partitions: 3, reader, onUndecodable, logger });
 * await currencies.start();
 * currencies.get('EUR');
 * await currencies.stop();
 */
export class GlobalTableStore<K, V> implements TableView<K, V> {
  readonly kind = 'global' as const;
  readonly store: MemoryKeyValueStore<K, TableRow<V>>;
  private readonly positions: number[];
  private readonly listeners = new Set<(change: TableChange<K, V>) => void>();
  private stopped = false;
  private started = false;
  private following: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: GlobalTableStoreOptions<K, V>) {
    const serdes = { key: jsonKeys as Serde<K>, value: structuredValues as Serde<TableRow<V>>, view: (row: TableRow<V>) => row.value };
    this.store = new MemoryKeyValueStore<K, TableRow<V>>(options.name, serdes, false);
    this.positions = new Array<number>(options.partitions).fill(0);
  }

  get name(): string {
    return this.options.name;
  }

  /** Updates taken so far, per partition: the offset after the last one read. */
  get readPositions(): readonly number[] {
    return this.positions;
  }

  /** Reads every partition to its current end, then follows the topic in the background. */
  async start(): Promise<{ records: number }> {
    let records = 0;
    for (let p = 0; p < this.options.partitions; p++) {
      const partition = { topic: this.options.source.topic, partition: p };
      const end = await this.options.reader.endOffset(partition);
      records += await this.readPartition(partition, end);
    }
    // A reader that can say at once what a partition holds (MemoryLog) needs no follower: lookups catch up first.
    if (!this.options.reader.readNow) this.following = this.follow();
    this.started = true;
    return { records };
  }

  /** Stops following. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await this.following;
  }

  get(key: K): TableRow<V> | undefined {
    if (this.started && !this.stopped) this.catchUpNow();
    return this.store.get(key);
  }

  /** Takes what every partition holds now, at once, where the reader can (MemoryLog). */
  private catchUpNow(): void {
    const { reader, source } = this.options;
    if (!reader.readNow) return;
    for (let p = 0; p < this.options.partitions; p++) {
      const partition = { topic: source.topic, partition: p };
      for (;;) {
        const { records, next } = reader.readNow(partition, this.positions[p], Infinity, 10_000);
        this.apply(partition, records);
        this.positions[p] = Math.max(this.positions[p], next);
        if (records.length === 0) break;
      }
    }
  }

  advanceTo(): void {
    // Updates are taken as they are read.
  }

  onChange(listener: (change: TableChange<K, V>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async follow(): Promise<void> {
    while (!this.stopped) {
      let read = 0;
      try {
        for (let p = 0; p < this.options.partitions && !this.stopped; p++) {
          read += await this.readPartition({ topic: this.options.source.topic, partition: p }, Infinity);
        }
      } catch (err) {
        this.options.logger.warn({ err, table: this.options.name }, 'reading the global table failed; retrying');
      }
      if (read === 0 && !this.stopped) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = setTimeout(resolve, this.options.pollMs ?? 100);
          this.timer.unref?.();
        });
      }
    }
  }

  private async readPartition(partition: TopicPartition, until: number): Promise<number> {
    let records = 0;
    const from = this.positions[partition.partition];
    if (until !== Infinity && until <= from) return 0;
    await this.options.reader.read(partition, from, until, (batch) => {
      records += batch.length;
      this.apply(partition, batch);
    });
    if (until !== Infinity && this.positions[partition.partition] < until) this.positions[partition.partition] = until;
    return records;
  }

  private apply(partition: TopicPartition, batch: readonly LogRecord[]): void {
    for (const record of batch) {
      this.positions[partition.partition] = record.offset + 1;
      const decoded = decodeUpdate(this.options.source, record);
      if ('reason' in decoded) {
        this.options.onUndecodable({ table: this.options.name, record, reason: decoded.reason, restoring: false });
        continue;
      }
      const { key, value, ts } = decoded;
      const previous = this.store.get(key)?.value;
      if (value === null) this.store.delete(key);
      else this.store.put(key, { value, ts });
      for (const listener of this.listeners) listener({ key, value, previous, timestamp: ts });
    }
  }
}
