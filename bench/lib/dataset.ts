/**
 * The keyed data set of the windows, stateless, tumbling, session and latency scenarios: the
 * same records as `bench/anchors/kafka-streams/.../DataSet.java` (which loads them into Kafka),
 * computed here for the embedded runs, the plain-loop anchors and the expected result counts.
 *
 * Record i of n (0-based):
 * - event time `base + floor(i × span / n)` ms: the records cover `span` ms evenly, in order
 *   (default 100 s: ten 10 s tumbling windows);
 * - key `"k" + index`, `index = 2 × ((i × 7919) mod (keys / 2)) + (phase mod 2)` with
 *   `phase = floor(i × 10 / n)`: in each tenth of the span only the keys of one parity are
 *   active, each every keys/2 records; a key is active for one phase and quiet for the next
 *   (so a 5 s session gap closes sessions between phases);
 * - value `{"i":<i>,"pad":"xxx…"}`, exactly `valueBytes` (100) bytes.
 *
 * After the n records the loader writes one "flush" record per partition (key `~flush`, empty
 * value, event time one hour past the data): it moves every partition's event time past every
 * window and session of the data, so that tributary and Kafka Streams both emit all their final
 * results, and a run ends when all of them are acknowledged.
 */
export const PHASES = 10;
export const FLUSH_KEY = '~flush';
export const FLUSH_AFTER_MS = 3_600_000;

export interface DataSetSpec {
  readonly records: number;
  readonly keys: number;
  readonly spanMs: number;
  readonly baseMs: number;
  readonly valueBytes: number;
}

export function dataSet(records: number, keys = 10_000, options: { spanMs?: number; baseMs?: number; valueBytes?: number } = {}): DataSetSpec {
  if (keys < 2 || keys % 2 !== 0) throw new Error(`keys must be even and at least 2, got ${keys}`);
  const spanMs = options.spanMs ?? 100_000;
  // Event time in the recent past, aligned to the minute (so to every window size used here).
  const baseMs = options.baseMs ?? Math.floor((Date.now() - 2 * spanMs - 60_000) / 60_000) * 60_000;
  return { records, keys, spanMs, baseMs, valueBytes: options.valueBytes ?? 100 };
}

export function keyIndex(d: DataSetSpec, i: number): number {
  const phase = Math.floor((i * PHASES) / d.records);
  return 2 * ((i * 7919) % (d.keys / 2)) + (phase % 2);
}

export const keyOf = (d: DataSetSpec, i: number): string => `k${keyIndex(d, i)}`;

export const timestampOf = (d: DataSetSpec, i: number): number => d.baseMs + Math.floor((i * d.spanMs) / d.records);

export function valueOf(d: DataSetSpec, i: number): Buffer {
  const head = `{"i":${i},"pad":"`;
  return Buffer.from(`${head}${'x'.repeat(d.valueBytes - head.length - 2)}"}`, 'ascii');
}

/** The flush records' event time. */
export const flushTimestamp = (d: DataSetSpec): number => timestampOf(d, d.records - 1) + FLUSH_AFTER_MS;

/** The stateless filter (as Kafka Streams' `StreamsBench.keep`): the key's next-to-last character is an even digit. */
export function keep(key: string): boolean {
  const c = key.charCodeAt(key.length - 2) - 48;
  return c >= 0 && c <= 9 && c % 2 === 0;
}

/** Results of a keyed count in tumbling windows of `sizeMs`: distinct (key, window) pairs. */
export function expectedTumbling(d: DataSetSpec, sizeMs: number): number {
  const seen = new Set<number>();
  const first = Math.floor(d.baseMs / sizeMs);
  for (let i = 0; i < d.records; i++) seen.add((Math.floor(timestampOf(d, i) / sizeMs) - first) * d.keys + keyIndex(d, i));
  return seen.size;
}

/** Sessions of a keyed count with an inactivity gap of `gapMs` (events at most `gapMs` apart are one session). */
export function expectedSessions(d: DataSetSpec, gapMs: number): number {
  const last = new Float64Array(d.keys).fill(Number.NEGATIVE_INFINITY);
  let sessions = 0;
  for (let i = 0; i < d.records; i++) {
    const k = keyIndex(d, i);
    const ts = timestampOf(d, i);
    if (ts - last[k] > gapMs) sessions++;
    last[k] = ts;
  }
  return sessions;
}

/** Records the stateless filter keeps. */
export function expectedKept(d: DataSetSpec): number {
  let kept = 0;
  for (let i = 0; i < d.records; i++) if (keep(keyOf(d, i))) kept++;
  return kept;
}

/** The spec as child-process arguments, and back. */
export const dataSetArgs = (d: DataSetSpec): string[] => [
  '--records',
  String(d.records),
  '--keys',
  String(d.keys),
  '--span-ms',
  String(d.spanMs),
  '--base-ms',
  String(d.baseMs),
  '--value-bytes',
  String(d.valueBytes),
];
