import type { LogRecord, PartitionReader, TopicPartition } from '../log.js';
import { ClientStateError, UnknownPartitionError, UnknownTopicError } from './errors.js';
import type { TopicRegistry } from './memory-topic.js';

/** Most records handed to `onRecords` at once. */
const BATCH = 10_000;

/**
 * Reads ranges of MemoryLog partitions: the embedded counterpart of the Kafka reader that
 * restores stores from their changelogs. Batches are taken one macrotask apart, so a restore
 * of a large changelog does not starve timers and I/O.
 *
 * @example
 * const reader = log.reader();
 * await reader.read({ topic: 'app-counts-changelog', partition: 0 }, 0, Infinity, (records) => apply(records));
 */
export class MemoryPartitionReader implements PartitionReader {
  private closed = false;

  constructor(private readonly topics: TopicRegistry) {}

  async read(tp: TopicPartition, from: number, until: number, onRecords: (records: readonly LogRecord[]) => void): Promise<void> {
    let offset = Math.max(0, from);
    for (;;) {
      if (this.closed) throw new ClientStateError('Cannot read: the reader is closed');
      const partition = this.partition(tp);
      const end = Math.min(until, partition.lastStableOffset);
      if (offset >= end) return;
      const batch = partition.committedBatch(offset, BATCH, end);
      if (batch.records.length > 0) onRecords(batch.records);
      offset = batch.next;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  readNow(tp: TopicPartition, from: number, until: number, max: number): { readonly records: readonly LogRecord[]; readonly next: number } {
    if (this.closed) throw new ClientStateError('Cannot read: the reader is closed');
    const partition = this.partition(tp);
    const offset = Math.max(0, from);
    if (offset >= Math.min(until, partition.highWatermark) || max <= 0) return { records: [], next: offset };
    const batch = partition.batch(offset, max, until);
    return { records: batch.records, next: batch.next };
  }

  async endOffset(tp: TopicPartition): Promise<number> {
    return this.partition(tp).highWatermark;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private partition(tp: TopicPartition) {
    const topic = this.topics.get(tp.topic);
    if (topic === undefined) throw new UnknownTopicError(tp.topic);
    const partition = topic.partitions[tp.partition];
    if (partition === undefined) throw new UnknownPartitionError(tp.topic, tp.partition, topic.partitions.length);
    return partition;
  }
}
