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
  readonly topic: string;
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
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  try {
    const key = keyOf(parsed as Record<string, unknown>);
    return typeof key === 'string' ? key : null;
  } catch {
    return null;
  }
}

/**
 * Produces every line to `topic` as it is (bytes), keyed by {@link keyOfLine}, with the line
 * number in the {@link LINE_HEADER} header, in file order, in sends of at most 512 KiB.
 *
 * @example
 * await produceInput({ producer, topic: 'clicks', lines: readInputLines(file), keyOf: (r) => r.userId, onOversized });
 */
export async function produceInput(options: ProduceInputOptions): Promise<ProduceInputResult> {
  const { producer, topic, keyOf, only } = options;
  let batch: OutgoingRecord[] = [];
  let batchBytes = 0;
  let produced = 0;
  let oversized = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const records = batch;
    batch = [];
    batchBytes = 0;
    await producer.send(topic, records);
    produced += records.length;
    options.onProgress?.(produced);
  };
  for await (const line of options.lines) {
    if (only && !only(line.lineNumber)) continue;
    const key = keyOfLine(line.text, keyOf);
    const value = Buffer.from(line.text, 'utf8');
    const bytes = value.length + (key === null ? 0 : Buffer.byteLength(key, 'utf8'));
    if (bytes > MAX_INPUT_RECORD_BYTES) {
      oversized++;
      await options.onOversized(line, bytes);
      continue;
    }
    if (batchBytes + bytes > SEND_BYTES) await flush();
    batch.push({ key, value, headers: { [LINE_HEADER]: String(line.lineNumber) } });
    batchBytes += bytes;
    if (batch.length >= SEND_RECORDS) await flush();
  }
  await flush();
  return { produced, oversized };
}
