import type { LogProducer, OutgoingRecord } from '../log.js';
import { createDefaultPartitioner } from '../partitioner.js';
import { ClientStateError, InvalidOptionError, RecordTooLargeError, UnknownPartitionError } from './errors.js';
import type { MemoryTopic, TopicRegistry } from './memory-topic.js';
import { encodeSegments, type RecordSegment, type SegmentEntry } from './record-segment.js';

/** What a {@link MemoryProducer} needs from its log. */
export interface MemoryProducerOptions {
  readonly maxMessageBytes: number;
  readonly clock: () => number;
}

/** A record checked and stamped, not yet serialized: its key, value and headers are the caller's until it is. */
interface StagedRecord extends SegmentEntry {
  offset: number;
  readonly key: Buffer | string | null | undefined;
  readonly headers: Readonly<Record<string, Buffer | string>> | undefined;
}

/**
 * Appends records to MemoryLog topics. `send` is all-or-nothing: every record is checked
 * (size, explicit partition, timestamp) before any is appended, and the returned promise
 * resolves once all of them are in the log, i.e. acknowledged.
 *
 * Keys, values and headers are copied into the partition's segments (strings as UTF-8), as the
 * wire would: changing a Buffer after `send` does not change the log. Header values come back as
 * Buffers, as from Kafka.
 *
 * Partitioning is Kafka's default (see `createDefaultPartitioner`): explicit partition, else
 * murmur2 of the key, else round-robin per topic starting at partition 0.
 *
 * @example
 * const producer = log.producer();
 * await producer.send('clicks', [{ key: 'user-1', value: JSON.stringify({ page: '/' }) }]);
 */
export class MemoryProducer implements LogProducer {
  private readonly partitioner = createDefaultPartitioner();
  protected closed = false;

  constructor(
    protected readonly topics: TopicRegistry,
    private readonly options: MemoryProducerOptions,
  ) {}

  /** Appends segments of records stamped with the partition's next offsets (a transactional producer records them first). */
  protected appendTo(target: MemoryTopic, partition: number, segments: readonly RecordSegment[], count: number): void {
    target.partitions[partition].appendSegments(segments);
    this.topics.onAppended(target, partition, count);
  }

  async send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (this.closed) throw new ClientStateError(`Cannot send to "${topic}": the producer is closed`);
    const target = this.topics.require(topic);
    const partitionCount = target.partitions.length;
    const now = this.options.clock();

    const staged = records.map((record) => this.stage(topic, partitionCount, record, now));

    const perPartition = new Map<number, StagedRecord[]>();
    for (let i = 0; i < staged.length; i++) {
      const record = staged[i];
      const partition = this.partitioner({ topic, partitionCount, key: records[i].key, partition: records[i].partition });
      let pending = perPartition.get(partition);
      if (pending === undefined) {
        pending = [];
        perPartition.set(partition, pending);
      }
      record.offset = target.partitions[partition].highWatermark + pending.length;
      pending.push(record);
    }
    for (const [partition, appended] of perPartition) this.appendTo(target, partition, encodeSegments(appended, ENCODE), appended.length);
  }

  async append(topic: string, partition: number, records: readonly OutgoingRecord[]): Promise<number> {
    if (this.closed) throw new ClientStateError(`Cannot append to "${topic}": the producer is closed`);
    const target = this.topics.require(topic);
    const partitionCount = target.partitions.length;
    if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
      throw new UnknownPartitionError(topic, partition, partitionCount);
    }
    const now = this.options.clock();
    const staged = records.map((record) => this.stage(topic, partitionCount, { ...record, partition }, now));
    const base = target.partitions[partition].highWatermark;
    for (let i = 0; i < staged.length; i++) staged[i].offset = base + i;
    this.appendTo(target, partition, encodeSegments(staged, ENCODE), staged.length);
    return base;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private stage(topic: string, partitionCount: number, record: OutgoingRecord, now: number): StagedRecord {
    const { key, value, headers } = record;
    let size = byteLength(key) + byteLength(value);
    if (headers !== undefined) {
      for (const name in headers) size += Buffer.byteLength(name, 'utf8') + byteLength(headers[name]);
    }
    if (size > this.options.maxMessageBytes) {
      throw new RecordTooLargeError(topic, size, this.options.maxMessageBytes);
    }
    const { partition } = record;
    if (partition !== undefined && (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount)) {
      throw new UnknownPartitionError(topic, partition, partitionCount);
    }
    const timestamp = record.timestamp ?? now;
    if (!Number.isFinite(timestamp)) {
      throw new InvalidOptionError('timestamp', `expected epoch milliseconds, got ${String(timestamp)}`);
    }
    return { offset: -1, key, value, headers, timestamp };
  }
}

// Header values come back as Buffers, as from Kafka (a header sent without a value: empty).
const ENCODE = { headersAsBytes: true } as const;

function byteLength(data: Buffer | string | null | undefined): number {
  if (data === undefined || data === null) return 0;
  return typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.length;
}
