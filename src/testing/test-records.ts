import type { LogRecord } from '../connectors/log.js';
import type { Serde } from '../serdes/serde.js';
import { DeadLetterHeaders, type DeadLetterKind } from '../supervision/dead-letter.js';

/**
 * A record to pipe into an input topic. `key` and `value` are encoded with the topic's serdes
 * (by default those of the processor reading it); `timestamp` is the log's timestamp (default:
 * the driver's wall clock), which is the event time unless the processor extracts its own.
 *
 * @example
 * await clicks.pipe({ key: 'u1', value: { userId: 'u1', page: '/', ts: 1_000 }, headers: { line: '1' } });
 */
export interface TestRecord<K, V> {
  readonly key?: K | null;
  readonly value: V;
  readonly timestamp?: number;
  readonly headers?: Readonly<Record<string, string | Buffer>>;
  /** Default: by key (murmur2, as Kafka's producer), round-robin without a key. */
  readonly partition?: number;
}

/** A record read back from a topic, decoded. Header values are strings. */
export interface OutputRecord<K, V> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: K;
  readonly value: V;
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** A dead letter read back from a processor's dead-letter topic: why, and the original record. */
export interface DeadLetterRecord {
  readonly processor: string;
  readonly kind: DeadLetterKind;
  readonly reason: string;
  /** Where the original record was. */
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly attempts: number;
  /** The original key and value bytes, as UTF-8. */
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Readonly<Record<string, string>>;
}

export function headerStrings(headers: LogRecord['headers']): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) result[name] = value.toString();
  return result;
}

export function decodeRecord<K, V>(record: LogRecord, key: Serde<K>, value: Serde<V>): OutputRecord<K, V> {
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: key.deserialize(record.key),
    value: value.deserialize(record.value),
    timestamp: record.timestamp,
    headers: headerStrings(record.headers),
  };
}

export function decodeDeadLetter(record: LogRecord): DeadLetterRecord {
  const headers = headerStrings(record.headers);
  return {
    processor: headers[DeadLetterHeaders.processor],
    kind: headers[DeadLetterHeaders.reason] as DeadLetterKind,
    reason: headers[DeadLetterHeaders.error],
    topic: headers[DeadLetterHeaders.topic],
    partition: Number(headers[DeadLetterHeaders.partition]),
    offset: Number(headers[DeadLetterHeaders.offset]),
    attempts: Number(headers[DeadLetterHeaders.attempts]),
    key: record.key?.toString('utf8') ?? null,
    value: record.value?.toString('utf8') ?? null,
    headers,
  };
}
