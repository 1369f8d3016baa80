import type { LogHeaders, LogRecord } from '../log.js';

/** What a segment is encoded from: a record to store, with its offset and timestamp (a `LogRecord` is one). */
export interface SegmentEntry {
  readonly offset: number;
  readonly timestamp: number;
  readonly key?: Buffer | Uint8Array | string | null;
  readonly value: Buffer | Uint8Array | string | null;
  readonly headers?: Readonly<Record<string, Buffer | Uint8Array | string | null | undefined>>;
}

/**
 * Most bytes of one segment's buffer (a larger record gets a segment of its own): what a
 * Buffer read from it can pin once the rest of the segment is trimmed, as a slab of Buffer's
 * pool (64 KiB on Node 24) pins today.
 */
export const SEGMENT_BYTES = 64 * 1024;

// A header in a record's bytes: name index (uint16), kind (uint8), value length (uint32), value.
const HEADER_PREFIX = 7;
const KIND_BYTES = 0;
const KIND_STRING = 1;
const KIND_UNDEFINED = 2;
// The most header names one segment's table holds (a uint16 each).
const MAX_NAMES = 65_536;

/**
 * Records of one MemoryLog partition, appended together, in the form a Kafka segment file keeps
 * them: their keys, values and headers serialized back to back in one Buffer, with an index of
 * offsets, timestamps and positions in typed arrays. So a record held by the log costs its bytes
 * plus 28 bytes of index, not a `LogRecord` object, a headers object and a Buffer view for its
 * key, its value and each header value (about 0.5-0.8 KB of V8 heap a record, all of which lived
 * until the groups reading it committed, were promoted, and filled the old space).
 *
 * Records are materialised when read ({@link RecordSegment.record}): a new `LogRecord` whose
 * key, value and Buffer header values are views of the segment's buffer (read-only to readers,
 * as the log's records always were), which live as long as the reader keeps them.
 *
 * Header names are kept once per segment, in a table; a header value keeps its kind (bytes, a
 * string, or undefined) and comes back as it was stored.
 *
 * @example
 * const [segment] = encodeSegments([{ offset: 0, timestamp: 1_000, key: 'user-1', value: '{"page":"/"}' }]);
 * segment.record(0, 'clicks', 0).value?.toString(); // '{"page":"/"}'
 */
export class RecordSegment {
  /** Records in the segment. */
  readonly count: number;

  constructor(
    private readonly data: Buffer,
    /** count + 1 positions in `data`: record i is `data[starts[i], starts[i + 1])`. */
    private readonly starts: Uint32Array,
    /** Per record: key length in bytes, -1 for a null key; likewise the value. */
    private readonly keyLengths: Int32Array,
    private readonly valueLengths: Int32Array,
    private readonly offsets: Float64Array,
    private readonly timestamps: Float64Array,
    private readonly names: readonly string[],
    /** Bytes of its records as retention counts them (see {@link recordBytes}). */
    readonly bytes: number,
  ) {
    this.count = offsets.length;
  }

  /** The offset of record `i`. */
  offsetAt(i: number): number {
    return this.offsets[i];
  }

  get firstOffset(): number {
    return this.offsets[0];
  }

  get lastOffset(): number {
    return this.offsets[this.count - 1];
  }

  /** The timestamp of record `i`. */
  timestampAt(i: number): number {
    return this.timestamps[i];
  }

  /** Index of the first record at or after `offset` (`count` when none is). */
  indexOf(offset: number): number {
    const { offsets } = this;
    let low = 0;
    let high = offsets.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (offsets[mid] < offset) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Record `i`, materialised: key, value and Buffer header values are views of the segment's bytes. */
  record(i: number, topic: string, partition: number): LogRecord {
    const { data } = this;
    let p = this.starts[i];
    const keyLength = this.keyLengths[i];
    const valueLength = this.valueLengths[i];
    let key: Buffer | null = null;
    let value: Buffer | null = null;
    if (keyLength >= 0) key = data.subarray(p, (p += keyLength));
    if (valueLength >= 0) value = data.subarray(p, (p += valueLength));
    const end = this.starts[i + 1];
    const headers: LogHeaders = {};
    while (p < end) {
      const name = this.names[data[p] | (data[p + 1] << 8)];
      const kind = data[p + 2];
      const length = readUint32(data, p + 3);
      p += HEADER_PREFIX;
      headers[name] = kind === KIND_BYTES ? data.subarray(p, p + length) : kind === KIND_STRING ? data.toString('utf8', p, p + length) : undefined;
      p += length;
    }
    return { topic, partition, offset: this.offsets[i], key, value, headers, timestamp: this.timestamps[i] };
  }

  /** Bytes of record `i` as retention counts them (see {@link recordBytes}), without materialising it. */
  recordBytes(i: number): number {
    const { data } = this;
    let p = this.starts[i] + Math.max(0, this.keyLengths[i]) + Math.max(0, this.valueLengths[i]);
    let bytes = p - this.starts[i];
    const end = this.starts[i + 1];
    while (p < end) {
      const length = readUint32(data, p + 3);
      bytes += this.names[data[p] | (data[p + 1] << 8)].length + (data[p + 2] === KIND_UNDEFINED ? 0 : length);
      p += HEADER_PREFIX + length;
    }
    return bytes;
  }

  /** Records [from, to) as a segment of their own, sharing this one's bytes. */
  slice(from: number, to: number): RecordSegment {
    let bytes = 0;
    for (let i = from; i < to; i++) bytes += this.recordBytes(i);
    return new RecordSegment(
      this.data,
      this.starts.subarray(from, to + 1),
      this.keyLengths.subarray(from, to),
      this.valueLengths.subarray(from, to),
      this.offsets.subarray(from, to),
      this.timestamps.subarray(from, to),
      this.names,
      bytes,
    );
  }
}

/** A segment of no records: what a partition leaves in the slot of a segment it trimmed, so that its bytes are freed at once. */
export const EMPTY_SEGMENT = new RecordSegment(Buffer.alloc(0), new Uint32Array(1), new Int32Array(0), new Int32Array(0), new Float64Array(0), new Float64Array(0), [], 0);

/** Options of {@link encodeSegments}. */
export interface EncodeOptions {
  /**
   * Every header value is stored as bytes (what a producer sends, as Kafka's wire): a string as
   * UTF-8, null or undefined as empty bytes. Default false: each comes back as it was given.
   */
  readonly headersAsBytes?: boolean;
}

/**
 * Serializes `entries` (offsets ascending) into segments of at most {@link SEGMENT_BYTES} each
 * (a larger record: a segment of its own). Keys, values and header values are copied: changing
 * a Buffer afterwards does not change the segments.
 */
export function encodeSegments(entries: readonly SegmentEntry[], options: EncodeOptions = {}): RecordSegment[] {
  const segments: RecordSegment[] = [];
  const sizes = new Float64Array(entries.length);
  for (let i = 0; i < entries.length; i++) sizes[i] = encodedSize(entries[i]);
  let from = 0;
  while (from < entries.length) {
    let to = from + 1;
    let total = sizes[from];
    while (to < entries.length && total + sizes[to] <= SEGMENT_BYTES) total += sizes[to++];
    segments.push(encodeRange(entries, from, to, total, options.headersAsBytes === true));
    from = to;
  }
  return segments;
}

/** A record's size as retention counts it: key, value and headers (names and values). */
export function recordBytes(record: SegmentEntry): number {
  let bytes = byteLength(record.key) + byteLength(record.value);
  for (const name in record.headers) bytes += name.length + byteLength(record.headers[name]);
  return bytes;
}

function encodedSize(entry: SegmentEntry): number {
  let size = byteLength(entry.key) + byteLength(entry.value);
  for (const name in entry.headers) size += HEADER_PREFIX + byteLength(entry.headers[name]);
  return size;
}

function byteLength(data: Buffer | Uint8Array | string | null | undefined): number {
  if (data === null || data === undefined) return 0;
  return typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.length;
}

function encodeRange(entries: readonly SegmentEntry[], from: number, to: number, total: number, asBytes: boolean): RecordSegment {
  const count = to - from;
  // One allocation of its own for the index and the bytes (28 bytes a record + 4, then the data):
  // not Buffer's pool, whose 64 KiB slabs a long-lived segment (a changelog's) would pin, nor six
  // mallocs. Float64 arrays first (8-byte aligned), then the 4-byte ones, then the bytes.
  const indexBytes = 28 * count + 4;
  const memory = new ArrayBuffer(indexBytes + total);
  const offsets = new Float64Array(memory, 0, count);
  const timestamps = new Float64Array(memory, 8 * count, count);
  const starts = new Uint32Array(memory, 16 * count, count + 1);
  const keyLengths = new Int32Array(memory, 20 * count + 4, count);
  const valueLengths = new Int32Array(memory, 24 * count + 4, count);
  const data = Buffer.from(memory, indexBytes, total);
  const names: string[] = [];
  const nameIndex = new Map<string, number>();
  let bytes = 0;
  let p = 0;
  for (let i = 0; i < count; i++) {
    const entry = entries[from + i];
    starts[i] = p;
    offsets[i] = entry.offset;
    timestamps[i] = entry.timestamp;
    const start = p;
    keyLengths[i] = entry.key === null || entry.key === undefined ? -1 : (p = write(data, p, entry.key)) - start;
    const valueStart = p;
    valueLengths[i] = entry.value === null || entry.value === undefined ? -1 : (p = write(data, p, entry.value)) - valueStart;
    bytes += p - start;
    for (const name in entry.headers) {
      let index = nameIndex.get(name);
      if (index === undefined) {
        index = names.length;
        if (index >= MAX_NAMES) throw new RangeError(`more than ${MAX_NAMES} distinct header names in ${SEGMENT_BYTES} bytes of records`);
        names.push(name);
        nameIndex.set(name, index);
      }
      const raw = entry.headers[name];
      const headerValue = raw === null || raw === undefined ? (asBytes ? EMPTY : undefined) : raw;
      data[p] = index & 0xff;
      data[p + 1] = index >>> 8;
      data[p + 2] = headerValue === undefined ? KIND_UNDEFINED : typeof headerValue === 'string' && !asBytes ? KIND_STRING : KIND_BYTES;
      const end = headerValue === undefined ? p + HEADER_PREFIX : write(data, p + HEADER_PREFIX, headerValue);
      const length = end - p - HEADER_PREFIX;
      data.writeUInt32LE(length, p + 3);
      bytes += name.length + length;
      p = end;
    }
  }
  starts[count] = p;
  return new RecordSegment(data, starts, keyLengths, valueLengths, offsets, timestamps, names, bytes);
}

const EMPTY = new Uint8Array(0);

/** Writes `source` at `p`; returns the position after it. */
function write(data: Buffer, p: number, source: Buffer | Uint8Array | string): number {
  if (typeof source === 'string') return p + data.write(source, p, 'utf8');
  data.set(source, p);
  return p + source.length;
}

function readUint32(data: Buffer, p: number): number {
  return (data[p] | (data[p + 1] << 8) | (data[p + 2] << 16)) + data[p + 3] * 0x1000000;
}
