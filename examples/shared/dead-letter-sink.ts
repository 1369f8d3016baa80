import { DeadLetterHeaders, toTopicRecords, type OutgoingRecord, type Sink, type SinkContext } from 'tributary';
import { LINE_HEADER } from './input-lines.js';

/** A record a pipeline rejects itself (nexmark: a duplicate id), with why. */
export interface RejectedRecord {
  /** The record as read: its headers carry the input line number. */
  readonly record: {
    readonly topic: string;
    readonly partition: number;
    readonly offset: number;
    readonly timestamp: number;
    readonly value: unknown;
    readonly headers: Readonly<Record<string, unknown>>;
  };
  /** Short and stable, e.g. `duplicate id`: `dead-letter.jsonl`'s `reason`. */
  readonly reason: string;
}

/**
 * Where a pipeline sends the records it rejects after decoding (validity the schema cannot see,
 * like a duplicate id): the processor's own dead-letter topic, with the headers the runtime's
 * dead letters carry (reason, origin, the input line), so the command line reads them back with
 * the others into `dead-letter.jsonl`.
 *
 * @example
 * sinks: { duplicates: deadLetterSink(`${id}.dlq`), ... }
 */
export function deadLetterSink(topic: string): Sink<RejectedRecord> {
  const raw = toTopicRecords(topic, { partitions: 1 });
  const toRecord = ({ record, reason }: RejectedRecord): OutgoingRecord => {
    const headers: Record<string, string> = {
      [DeadLetterHeaders.error]: reason,
      [DeadLetterHeaders.reason]: 'rejected',
      [DeadLetterHeaders.topic]: record.topic,
      [DeadLetterHeaders.partition]: String(record.partition),
      [DeadLetterHeaders.offset]: String(record.offset),
      [DeadLetterHeaders.timestamp]: String(record.timestamp),
      [DeadLetterHeaders.attempts]: '1',
    };
    const line = record.headers[LINE_HEADER];
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a header: a string or a Buffer
    if (line !== undefined) headers[LINE_HEADER] = String(line);
    return { key: null, value: Buffer.from(JSON.stringify(record.value) ?? 'null', 'utf8'), headers };
  };
  return {
    name: raw.name,
    start: (context: SinkContext) => raw.start!(context),
    write: (items) => raw.write(items.map(toRecord)),
    encode: (items) => raw.encode!(items.map(toRecord)),
    stop: () => raw.stop!(),
  };
}
