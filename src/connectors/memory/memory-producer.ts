import type { LogHeaders, LogProducer, LogRecord, OutgoingRecord } from '../log.js';
import { createDefaultPartitioner } from '../partitioner.js';
import { ClientStateError, InvalidOptionError, RecordTooLargeError, UnknownPartitionError } from './errors.js';
import type { MemoryTopic, TopicRegistry } from './memory-topic.js';

/** What a {@link MemoryProducer} needs from its log. */
export interface MemoryProducerOptions {
  readonly maxMessageBytes: number;
  readonly clock: () => number;
}

interface StagedRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: LogHeaders;
  readonly partition: number | undefined;
  readonly timestamp: number;
}

/**
 * Appends records to MemoryLog topics. `send` is all-or-nothing: every record is checked
 * (size, explicit partition, timestamp) before any is appended, and the returned promise
 * resolves once all of them are in the log, i.e. acknowledged.
 *
 * Keys and values are copied into new Buffers (strings as UTF-8), as the wire would: changing a
 * Buffer after `send` does not change the log. Header values come back as Buffers, as from Kafka.
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

  /** Appends records stamped with the partition's next offsets (a transactional producer records them first). */
  protected appendTo(target: MemoryTopic, partition: number, records: readonly LogRecord[]): void {
    target.partitions[partition].append(records);
    this.topics.onAppended(target, partition, records.length);
  }

  async send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (this.closed) throw new ClientStateError(`Cannot send to "${topic}": the producer is closed`);
    const target = this.topics.require(topic);
    const partitionCount = target.partitions.length;
    const now = this.options.clock();

    const staged = records.map((record) => this.stage(topic, partitionCount, record, now));

    const perPartition = new Map<number, LogRecord[]>();
    for (let i = 0; i < staged.length; i++) {
      const record = staged[i];
      const partition = this.partitioner({ topic, partitionCount, key: records[i].key, partition: record.partition });
      let pending = perPartition.get(partition);
      if (pending === undefined) {
        pending = [];
        perPartition.set(partition, pending);
      }
      pending.push({
        topic,
        partition,
        offset: target.partitions[partition].highWatermark + pending.length,
        key: record.key,
        value: record.value,
        headers: record.headers,
        timestamp: record.timestamp,
      });
    }
    for (const [partition, appended] of perPartition) this.appendTo(target, partition, appended);
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
    const log = target.partitions[partition];
    const base = log.highWatermark;
    this.appendTo(
      target,
      partition,
      staged.map((r, i) => ({ topic, partition, offset: base + i, key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp })),
    );
    return base;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private stage(topic: string, partitionCount: number, record: OutgoingRecord, now: number): StagedRecord {
    const key = toBuffer(record.key);
    const value = toBuffer(record.value);
    let size = (key?.length ?? 0) + (value?.length ?? 0);
    const headers: Record<string, Buffer> = {};
    if (record.headers !== undefined) {
      for (const [name, headerValue] of Object.entries(record.headers)) {
        const bytes = toBuffer(headerValue) ?? Buffer.alloc(0);
        headers[name] = bytes;
        size += Buffer.byteLength(name, 'utf8') + bytes.length;
      }
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
    return { key, value, headers, partition, timestamp };
  }
}

function toBuffer(data: Buffer | string | null | undefined): Buffer | null {
  if (data === undefined || data === null) return null;
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
}
