import type { LogHeaders } from '../connectors/log.js';

/**
 * One record as a pipeline sees it: deserialized key and value, plus where it came from.
 *
 * `timestamp` is the record's event time in epoch milliseconds, as the processor's timestamp
 * extractor gave it (the log's timestamp when the processor sets none).
 *
 * @example
 * const r: StreamRecord<string, { page: string }> = {
 *   topic: 'clicks', partition: 0, offset: 42, key: 'user-1',
 *   value: { page: '/home' }, headers: {}, timestamp: 1_700_000_000_000,
 * };
 */
export interface StreamRecord<K = unknown, V = unknown> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: K;
  readonly value: V;
  readonly headers: LogHeaders;
  readonly timestamp: number;
}
