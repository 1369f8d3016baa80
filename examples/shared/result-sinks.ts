import { toTopicRecords, type OutgoingRecord, type Sink, type SinkContext } from 'tributary';
import { LINE_HEADER } from './input-lines.js';

/** Header of a late record: where the late record was read (`topic:partition@offset`). */
export const SOURCE_HEADER = 'example.source';

/**
 * A topic sink that several processors may share (an app's repartition stages all write late
 * records to the same one): the topic is set up on the first `start`, every `stop` waits for
 * the writes so far.
 */
function sharedTopicSink<T>(topic: string, partitions: number, toRecord: (item: T) => OutgoingRecord): Sink<T> {
  const raw = toTopicRecords(topic, { partitions });
  let started: Promise<void> | undefined;
  return {
    name: raw.name,
    start(context: SinkContext) {
      started ??= raw.start!(context);
      return started;
    },
    write: (items) => raw.write(items.map(toRecord)),
    stop: () => raw.stop!(),
  };
}

/**
 * Where the command line has an app write an output: JSON values on `topic` (no key: outputs are
 * read back whole, in no particular order).
 *
 * @example
 * const pageViews = outputSink('run-1-page-views', 4);
 */
export function outputSink(topic: string, partitions: number): Sink<unknown> {
  return sharedTopicSink<unknown>(topic, partitions, (item) => ({ key: null, value: Buffer.from(JSON.stringify(item), 'utf8') }));
}

interface RecordLike {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly value: unknown;
  readonly headers: Record<string, unknown>;
}

function isRecordLike(item: unknown): item is RecordLike {
  const r = item as Partial<RecordLike> | null;
  return (
    typeof r === 'object' && r !== null && 'value' in r && typeof r.topic === 'string' && typeof r.offset === 'number' && typeof r.headers === 'object' && r.headers !== null
  );
}

/**
 * Where the command line has an app write late input records: given the late `StreamRecord`,
 * it keeps the record's line-number header (so `late.jsonl` can show the line as read) and where
 * it was read; given anything else, the JSON of it.
 *
 * @example
 * const late = lateSink('run-1-late', 4);
 */
export function lateSink(topic: string, partitions: number): Sink<unknown> {
  return sharedTopicSink<unknown>(topic, partitions, (item) => {
    if (!isRecordLike(item)) return { key: null, value: Buffer.from(JSON.stringify(item) ?? 'null', 'utf8') };
    const headers: Record<string, string> = { [SOURCE_HEADER]: `${item.topic}:${item.partition}@${item.offset}` };
    const line = item.headers[LINE_HEADER];
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a header: a string or a Buffer
    if (line !== undefined) headers[LINE_HEADER] = String(line);
    return { key: null, value: Buffer.from(JSON.stringify(item.value) ?? 'null', 'utf8'), headers };
  });
}
