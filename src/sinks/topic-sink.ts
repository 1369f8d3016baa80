import type { OutgoingRecord, TopicSpec } from '../connectors/log.js';
import { sendRetrying } from './send-retrying.js';
import { json } from '../serdes/json.js';
import type { Serde } from '../serdes/serde.js';
import { OrderedWriter } from './ordered-writer.js';
import type { RejectedOutput, Sink, SinkContext } from './sink.js';
import { ConfigError } from '../errors.js';

/** Options of {@link toTopic}. */
export interface TopicSinkOptions<T> {
  /** The record key (picks the partition, murmur2). Default: no key. */
  readonly key?: (item: T) => string | Buffer | null;
  /** How values are written. Default: {@link json}. */
  readonly value?: Serde<T>;
  /** Record headers for each item. */
  readonly headers?: (item: T) => Record<string, string | Buffer>;
  /** When set, the topic is created at start with this many partitions if it does not exist. */
  readonly partitions?: number;
  readonly replicationFactor?: number;
  /**
   * A record larger than this (key + value + headers + 64 bytes of overhead) is not sent: it is
   * returned as rejected, and the partition dead-letters it (reason `output-rejected`) rather than
   * failing on it at every replay. Default 1,000,000 bytes, under Kafka's default limit of a
   * record batch (`message.max.bytes`, 1,048,588); set it to the topic's `max.message.bytes`.
   */
  readonly maxRecordBytes?: number;
}

/** Default of {@link TopicSinkOptions.maxRecordBytes}. */
export const DEFAULT_MAX_RECORD_BYTES = 1_000_000;

/**
 * Writes results to a topic of the processor's log (Kafka, or the embedded MemoryLog), keyed,
 * in order; on Kafka through an idempotent producer. A write counts as delivered when the log
 * acknowledges it.
 *
 * @example
 * const pageViews = toTopic<PageView>('page-views', { key: (v) => v.page, partitions: 4 });
 */
export function toTopic<T>(topic: string, options: TopicSinkOptions<T> = {}): Sink<T> {
  const serde = options.value ?? json<T>();
  const toRecord = (item: T): OutgoingRecord => ({
    key: options.key ? options.key(item) : null,
    value: serde.serialize(item),
    headers: options.headers?.(item),
  });
  const raw = toTopicRecords(topic, options);
  return {
    name: raw.name,
    start: raw.start,
    write: (items, origin) => raw.write(items.map(toRecord), origin),
    encode: (items) => raw.encode!(items.map(toRecord)),
    stop: raw.stop,
  };
}

/**
 * Writes records already in their wire form (bytes, headers, partition) to a topic: what
 * dead letters and repartition stages use.
 *
 * @example
 * const dlq = toTopicRecords('clickstream.dlq', { partitions: 1 });
 */
export function toTopicRecords(
  topic: string,
  options: Pick<TopicSinkOptions<unknown>, 'partitions' | 'replicationFactor' | 'maxRecordBytes'> = {},
): Sink<OutgoingRecord> {
  let writer: OrderedWriter<OutgoingRecord> | undefined;
  let stopped = false;
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  if (!Number.isSafeInteger(maxRecordBytes) || maxRecordBytes <= 0) {
    throw new ConfigError('sink.maxRecordBytes', `topic ${topic}: must be a positive integer number of bytes, got ${String(maxRecordBytes)}`);
  }
  const oversized = (items: readonly OutgoingRecord[]): RejectedOutput[] | undefined => {
    let rejected: RejectedOutput[] | undefined;
    for (let index = 0; index < items.length; index++) {
      const size = outgoingRecordSize(items[index]);
      if (size > maxRecordBytes) {
        rejected ??= [];
        rejected.push({ index, record: items[index], reason: `record of ${size} bytes for topic ${topic} exceeds maxRecordBytes (${maxRecordBytes})` });
      }
    }
    return rejected;
  };
  return {
    name: `topic:${topic}`,
    async start(context: SinkContext) {
      if (options.partitions !== undefined) {
        const spec: TopicSpec = { name: topic, partitions: options.partitions, replicationFactor: options.replicationFactor };
        const admin = context.log.admin();
        try {
          await admin.ensureTopics([spec]);
        } finally {
          await admin.close();
        }
      }
      stopped = false;
      writer = new OrderedWriter(
        (batch) =>
          sendRetrying(() => context.producer.send(topic, batch), {
            stopped: () => stopped,
            onRetry: (err, attempt, delayMs) =>
              context.logger.warn({ err, topic, attempt, delayMs }, 'writing to the topic failed; retrying (the partition stays paused meanwhile)'),
          }),
        { sizeOf: outgoingRecordSize },
      );
    },
    encode(items) {
      const rejected = oversized(items);
      if (!rejected) return { topic, records: items };
      const refused = new Set(rejected.map((r) => r.index));
      return { topic, records: items.filter((_, i) => !refused.has(i)), rejected };
    },
    async write(items, origin) {
      if (!writer) throw new Error(`sink topic:${topic} written before start`);
      const rejected = oversized(items);
      if (!rejected) {
        await writer.write(items, origin);
        return;
      }
      const refused = new Set(rejected.map((r) => r.index));
      await writer.write(items.filter((_, i) => !refused.has(i)), origin);
      return rejected;
    },
    async stop() {
      await writer?.idle();
      stopped = true;
    },
  };
}

/** About the bytes a record takes in a request (key, value, headers, and per-record overhead). */
export function outgoingRecordSize(record: OutgoingRecord): number {
  let size = 64 + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  if (record.headers) for (const name in record.headers) size += name.length + record.headers[name].length + 8;
  return size;
}
