import type { LogRecord, OutgoingRecord } from '../connectors/log.js';

/** Header names on every dead-letter record. */
export const DeadLetterHeaders = {
  error: 'tributary.error',
  reason: 'tributary.reason',
  topic: 'tributary.topic',
  partition: 'tributary.partition',
  offset: 'tributary.offset',
  timestamp: 'tributary.timestamp',
  attempts: 'tributary.attempts',
  processor: 'tributary.processor',
} as const;

/** Why a record became a dead letter; the `reason` metric label. */
export type DeadLetterKind = 'deserialization' | 'oversized' | 'timestamp' | 'poison' | 'late' | 'output-rejected';

/** A record on its way to the dead-letter topic. */
export interface DeadLetter {
  readonly kind: DeadLetterKind;
  /** The human-readable reason, e.g. `malformed JSON: Unexpected token } in JSON at position 7`. */
  readonly reason: string;
  readonly record: LogRecord;
  readonly attempts: number;
}

/** The default dead-letter topic of a processor. */
export function deadLetterTopic(processorId: string): string {
  return `${processorId}.dlq`;
}

/**
 * The dead-letter record for `letter`: the original key and value bytes untouched, and headers
 * that say why and where from (error, reason kind, topic, partition, offset, timestamp,
 * attempts, processor). The original headers are kept too.
 *
 * @example
 * toDeadLetterRecord('clickstream', { kind: 'deserialization', reason: 'malformed JSON: ...', record, attempts: 1 });
 */
export function toDeadLetterRecord(processorId: string, letter: DeadLetter): OutgoingRecord {
  const { record } = letter;
  const headers: Record<string, Buffer | string> = {};
  for (const [name, value] of Object.entries(record.headers)) if (value !== undefined) headers[name] = value;
  headers[DeadLetterHeaders.error] = letter.reason;
  headers[DeadLetterHeaders.reason] = letter.kind;
  headers[DeadLetterHeaders.topic] = record.topic;
  headers[DeadLetterHeaders.partition] = String(record.partition);
  headers[DeadLetterHeaders.offset] = String(record.offset);
  headers[DeadLetterHeaders.timestamp] = String(record.timestamp);
  headers[DeadLetterHeaders.attempts] = String(letter.attempts);
  headers[DeadLetterHeaders.processor] = processorId;
  return { key: record.key, value: record.value, headers, timestamp: record.timestamp };
}
