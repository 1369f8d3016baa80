import { toTopicRecords, type LateRecord, type OutgoingRecord, type Sink, type SinkContext } from 'tributary';
import { IdentifiedResult, RESULT_ID_HEADER } from './identified-result.js';
import { LINE_HEADER } from './input-lines.js';

/** Header of a late record: where the late record was read (`topic:partition@offset`). */
export const SOURCE_HEADER = 'example.source';

/**
 * Header of a late record: the output it was late for, when an app decides lateness per output
 * (nexmark: a bid can be late for `q7` and, in another stage, for `winning-bids`). The same line
 * late for two outputs is one line of `late.jsonl`, not a duplicate.
 */
export const LATE_FOR_HEADER = 'example.late-for';

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
    // With --exactly-once: the records, written in the processor's transactions.
    encode: (items) => raw.encode!(items.map(toRecord)),
    stop: () => raw.stop!(),
  };
}

/**
 * Where the command line has an app write an output: JSON values on `topic`. Without `key`, no
 * key (outputs are read back whole, in no particular order); with it (a table's output), each
 * row keyed by it, so that the last row of a key is the table's value. An
 * {@link IdentifiedResult} is written as its value, with its id in a header.
 *
 * @example
 * const pageViews = outputSink('run-1-page-views', 4);
 * const totals = outputSink('run-1-seller-totals', 4, (row) => String((row as { seller: number }).seller));
 */
export function outputSink(topic: string, partitions: number, key?: (row: unknown) => string): Sink<unknown> {
  return sharedTopicSink<unknown>(topic, partitions, (item) => {
    const row: unknown = item instanceof IdentifiedResult ? (item.value as unknown) : item;
    const record: OutgoingRecord = { key: key ? key(row) : null, value: Buffer.from(JSON.stringify(row), 'utf8') };
    return item instanceof IdentifiedResult ? { ...record, headers: { [RESULT_ID_HEADER]: item.id } } : record;
  });
}

interface RecordLike {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly value: unknown;
  readonly headers: Record<string, unknown>;
}

function isLateRecord(item: unknown): item is LateRecord<unknown> {
  const l = item as Partial<LateRecord<unknown>> | null;
  return typeof l === 'object' && l !== null && 'element' in l && typeof l.info === 'object' && l.info !== null && typeof l.info.operator === 'string';
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
 * it was read (and the output it was late for, {@link LATE_FOR_HEADER}, when it says); given
 * anything else, the JSON of it.
 *
 * @example
 * const late = lateSink('run-1-late', 4);
 */
export function lateSink(topic: string, partitions: number): Sink<unknown> {
  return sharedTopicSink<unknown>(topic, partitions, (late) => {
    // The processor's late sink gets each late record with why ({ element, info }): the file holds the record as read.
    const item = isLateRecord(late) ? late.element : late;
    if (!isRecordLike(item)) return { key: null, value: Buffer.from(JSON.stringify(item) ?? 'null', 'utf8') };
    const headers: Record<string, string> = { [SOURCE_HEADER]: `${item.topic}:${item.partition}@${item.offset}` };
    for (const name of [LINE_HEADER, LATE_FOR_HEADER]) {
      const value = item.headers[name];
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a header: a string or a Buffer
      if (value !== undefined) headers[name] = String(value);
    }
    return { key: null, value: Buffer.from(JSON.stringify(item.value) ?? 'null', 'utf8'), headers };
  });
}
