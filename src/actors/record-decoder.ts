import type { Logger } from 'pino';
import type { LogRecord } from '../connectors/log.js';
import type { ResolvedProcessor } from '../processor/define-processor.js';
import type { StreamRecord } from '../streams/stream-record.js';
import type { DeadLetter, DeadLetterKind } from '../supervision/dead-letter.js';
import type { FailedAttempt } from './failed-attempt.js';

type Writable<T> = { -readonly [P in keyof T]: T[P] };

/**
 * Turns a partition's log records into stream records, or into dead letters with the reason:
 * too large, a key or value that does not deserialize, a missing or invalid event time, or a
 * record processing failed at `maxAttempts` times already (poison). Each dead letter is logged.
 */
export class RecordDecoder {
  constructor(
    private readonly processor: ResolvedProcessor,
    /** Failed attempts per offset of the partition (kept across restarts). */
    private readonly failedAttempts: ReadonlyMap<number, FailedAttempt>,
    private readonly logger: Logger,
  ) {}

  /** A dead letter for a record that failed `maxAttempts` times already; undefined otherwise. */
  poison(record: LogRecord): DeadLetter | undefined {
    if (this.failedAttempts.size === 0) return undefined;
    const attempt = this.failedAttempts.get(record.offset);
    if (!attempt || attempt.count < this.processor.maxAttempts) return undefined;
    return this.deadLetter(record, 'poison', `processing failed ${attempt.count} times: ${attempt.lastError}`, attempt.count);
  }

  /**
   * The stream record of `record`, or its dead letter. With `inPlace` (the batch's records are
   * its own: `PartitionBatch.exclusive`) the deserialized key and value are written into
   * `record` itself, which becomes the stream record: one object per record from the fetch to
   * the pipeline. A record that becomes a dead letter keeps its bytes.
   */
  decode(record: LogRecord, inPlace = false): StreamRecord | DeadLetter {
    const { processor } = this;
    const size = (record.key?.length ?? 0) + (record.value?.length ?? 0);
    if (size > processor.maxRecordBytes) {
      return this.deadLetter(record, 'oversized', `record of ${size} bytes exceeds maxRecordBytes ${processor.maxRecordBytes}`);
    }
    let key: unknown;
    let value: unknown;
    try {
      key = processor.key.deserialize(record.key);
    } catch (err) {
      return this.deadLetter(record, 'deserialization', `key: ${(err as Error).message}`);
    }
    try {
      value = processor.value.deserialize(record.value);
    } catch (err) {
      return this.deadLetter(record, 'deserialization', (err as Error).message);
    }
    // Deserializing changed nothing (bytes() values, null keys) and the log's timestamp is the
    // event time: the log record already is the stream record, no copy needed. It is shared with
    // the log as its key, value and headers always were: records are read-only to the pipeline.
    if (key === record.key && value === record.value && !processor.timestamp) return record;
    // The batch's own record (in place), or a copy: the log's records are shared with the log.
    const decoded: Writable<StreamRecord> = inPlace
      ? record
      : {
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
          key,
          value,
          headers: record.headers,
          timestamp: record.timestamp,
        };
    const rawKey = record.key;
    const rawValue = record.value;
    decoded.key = key;
    decoded.value = value;
    if (!processor.timestamp) return decoded;
    let timestamp: number | null | undefined;
    let error: string | undefined;
    try {
      timestamp = processor.timestamp(decoded);
      if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) error = `missing or invalid timestamp: ${String(timestamp)}`;
    } catch (err) {
      error = `timestamp extractor threw: ${(err as Error).message}`;
    }
    if (error !== undefined) {
      // Decoded in place: the dead letter carries the bytes, as every other one.
      decoded.key = rawKey;
      decoded.value = rawValue;
      return this.deadLetter(record, 'timestamp', error);
    }
    // Not yet handed to the pipeline: set the event time in place rather than copy the record.
    decoded.timestamp = timestamp!;
    return decoded;
  }

  /** A dead letter for `record`, logged. */
  deadLetter(record: LogRecord, kind: DeadLetterKind, reason: string, attempts = 1): DeadLetter {
    this.logger.warn({ topic: record.topic, partition: record.partition, offset: record.offset, kind, reason }, 'record sent to the dead-letter topic');
    return { kind, reason, record, attempts };
  }
}
