import type { LogRecord, PartitionBatch } from '../log.js';

/**
 * One partition of a MemoryLog topic: an append-only array of records, offsets from 0.
 *
 * Readers that have caught up subscribe with {@link MemoryPartition.onAppend} instead of
 * polling: listeners are told once per microtask however many appends happened in it, so a
 * producer sending 200k records one by one wakes each fetcher a handful of times, not 200k.
 */
export class MemoryPartition {
  private readonly records: LogRecord[] = [];
  private readonly listeners = new Set<() => void>();
  private notifyScheduled = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  /** Offset of the next record to be appended (Kafka's high watermark; the log end offset). */
  get highWatermark(): number {
    return this.records.length;
  }

  /** Appends records already stamped with this partition's next offsets. */
  append(records: readonly LogRecord[]): void {
    if (records.length === 0) return;
    for (const record of records) this.records.push(record);
    if (!this.notifyScheduled && this.listeners.size > 0) {
      this.notifyScheduled = true;
      queueMicrotask(() => this.notify());
    }
  }

  /** Up to `max` records from `offset` on (a slice: O(max), whatever the partition's length). */
  batch(offset: number, max: number): PartitionBatch {
    return {
      topic: this.topic,
      partition: this.partition,
      records: this.records.slice(offset, offset + max),
      highWatermark: this.records.length,
    };
  }

  /** A copy of every record, in offset order. */
  all(): LogRecord[] {
    return this.records.slice();
  }

  /** Calls `listener` (asynchronously) after records are appended. Returns the unsubscribe. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private notify(): void {
    this.notifyScheduled = false;
    for (const listener of [...this.listeners]) listener();
  }
}
