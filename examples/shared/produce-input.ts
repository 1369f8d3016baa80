import type { LogProducer, OutgoingRecord } from 'tributary';
import { LINE_HEADER, type InputLine } from './input-lines.js';

/**
 * The largest input record (key + value bytes) the command line produces: Kafka's default
 * `max.message.bytes` (1,048,588) is per record batch, so a record must stay well under it.
 * A larger line is dead-lettered by the command line itself (see {@link produceInput}).
 */
export const MAX_INPUT_RECORD_BYTES = 1_000_000;

/** Bytes per `send`: several batches of this size fit under Kafka's 1 MiB batch limit. */
const SEND_BYTES = 512 * 1024;
const SEND_RECORDS = 2_000;

/** Options of {@link produceInput}. */
export interface ProduceInputOptions {
  readonly producer: LogProducer;
  /** The input topic; with {@link topicOf}, the one for lines it does not place. */
  readonly topic: string;
  /**
   * Several input topics: the topic of a line that parses as a JSON object (undefined or a
   * throw: `topic`). Each topic gets its lines in file order.
   */
  readonly topicOf?: (record: Record<string, unknown>) => string | undefined;
  readonly lines: AsyncIterable<InputLine> | Iterable<InputLine>;
  /** The app's key of a parsed record; anything but a string means no key. */
  readonly keyOf: (record: Record<string, unknown>) => unknown;
  /** A line too large to produce (over {@link MAX_INPUT_RECORD_BYTES}): dead-letter it. */
  readonly onOversized: (line: InputLine, bytes: number) => Promise<void>;
  /** Called after each send with the records produced so far. */
  readonly onProgress?: (produced: number) => void;
  /** Only these line numbers (resume: the lines missing from the topic). Default: all. */
  readonly only?: (lineNumber: number) => boolean;
}

/** What {@link produceInput} did. */
export interface ProduceInputResult {
  readonly produced: number;
  readonly oversized: number;
}

/**
 * The key of an input line: the app's key when the line parses as a JSON object whose key field
 * is a string, else `null`. Parsing here only picks the partition: validation is the
 * processor's (its `json({ schema })` source), so invalid lines become dead letters there.
 */
export function keyOfLine(text: string, keyOf: (record: Record<string, unknown>) => unknown): string | null {
  return placeLine(text, keyOf).key;
}

/** The key of a line ({@link keyOfLine}) and, with `topicOf`, its topic (undefined: the default one). */
function placeLine(
  text: string,
  keyOf: (record: Record<string, unknown>) => unknown,
  topicOf?: (record: Record<string, unknown>) => string | undefined,
): { key: string | null; topic: string | undefined } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { key: null, topic: undefined };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { key: null, topic: undefined };
  const record = parsed as Record<string, unknown>;
  let key: string | null;
  let topic: string | undefined;
  try {
    const k = keyOf(record);
    key = typeof k === 'string' ? k : null;
  } catch {
    key = null;
  }
  try {
    topic = topicOf?.(record);
  } catch {
    topic = undefined;
  }
  return { key, topic };
}

/**
 * Produces every line to `topic` (or the topic `topicOf` gives it) as it is (bytes), keyed by
 * {@link keyOfLine}, with the line number in the {@link LINE_HEADER} header, in file order, in
 * sends of at most 512 KiB.
 *
 * @example
 * await produceInput({ producer, topic: 'clicks', lines: readInputLines(file), keyOf: (r) => r.userId, onOversized });
 */
export async function produceInput(options: ProduceInputOptions): Promise<ProduceInputResult> {
  const { producer, topic, keyOf, topicOf, only } = options;
  // One batch per topic; all are sent together, in file order within each topic.
  let batches = new Map<string, OutgoingRecord[]>();
  let batchRecords = 0;
  let batchBytes = 0;
  let produced = 0;
  let oversized = 0;
  const flush = async (): Promise<void> => {
    if (batchRecords === 0) return;
    const sending = batches;
    const count = batchRecords;
    batches = new Map();
    batchRecords = 0;
    batchBytes = 0;
    await Promise.all([...sending].map(([target, records]) => producer.send(target, records)));
    produced += count;
    options.onProgress?.(produced);
  };
  for await (const line of options.lines) {
    if (only && !only(line.lineNumber)) continue;
    const placed = placeLine(line.text, keyOf, topicOf);
    const key = placed.key;
    // The text itself: the producer encodes it into its batch (a Buffer here would be one more copy).
    const value = line.text;
    const bytes = Buffer.byteLength(value, 'utf8') + (key === null ? 0 : Buffer.byteLength(key, 'utf8'));
    if (bytes > MAX_INPUT_RECORD_BYTES) {
      oversized++;
      await options.onOversized(line, bytes);
      continue;
    }
    if (batchBytes + bytes > SEND_BYTES) await flush();
    const target = placed.topic ?? topic;
    let batch = batches.get(target);
    if (batch === undefined) batches.set(target, (batch = []));
    batch.push({ key, value, headers: { [LINE_HEADER]: String(line.lineNumber) } });
    batchRecords++;
    batchBytes += bytes;
    if (batchRecords >= SEND_RECORDS) await flush();
  }
  await flush();
  return { produced, oversized };
}
