import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../../src/connectors/log.js';
import { MemoryPartition } from '../../../src/connectors/memory/memory-partition.js';
import { encodeSegments, recordBytes, SEGMENT_BYTES, type SegmentEntry } from '../../../src/connectors/memory/record-segment.js';

const bytesOrNull = fc.option(fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)), { nil: null });
const headerValue = fc.oneof(
  fc.uint8Array({ maxLength: 20 }).map((a): Buffer | string | undefined => Buffer.from(a)),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.constant(undefined),
);
const entries = fc.array(
  fc.record({
    gap: fc.integer({ min: 1, max: 3 }),
    timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
    key: bytesOrNull,
    value: bytesOrNull,
    headers: fc.dictionary(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }), headerValue, { maxKeys: 4 }),
  }),
  { maxLength: 60 },
);

/** Log records with ascending offsets (gaps included) from the generated entries. */
function logRecords(generated: ReadonlyArray<{ gap: number; timestamp: number; key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer | string | undefined> }>): LogRecord[] {
  let offset = -1;
  return generated.map(({ gap, timestamp, key, value, headers }) => ({ topic: 't', partition: 2, offset: (offset += gap), key, value, headers, timestamp }));
}

describe('RecordSegment: records serialized as a log segment keeps them', () => {
  it('gives back every record as it was stored: offsets, timestamps, null or bytes keys and values, header values of each kind (fast-check)', () => {
    fc.assert(
      fc.property(entries, (generated) => {
        const records = logRecords(generated);
        const segments = encodeSegments(records);
        const read = segments.flatMap((segment) => Array.from({ length: segment.count }, (_, i) => segment.record(i, 't', 2)));
        expect(read).toEqual(records);
        for (const segment of segments) {
          let sum = 0;
          for (let i = 0; i < segment.count; i++) sum += segment.recordBytes(i);
          expect(segment.bytes).toBe(sum);
        }
        expect(segments.reduce((sum, s) => sum + s.bytes, 0)).toBe(records.reduce((sum, r) => sum + recordBytes(r), 0));
      }),
    );
  });

  it('copies what it stores: changing a Buffer after encoding changes nothing', () => {
    const key = Buffer.from('k');
    const [segment] = encodeSegments([{ offset: 0, timestamp: 5, key, value: 'héllo', headers: { h: Buffer.from('x') } }]);
    key[0] = 0;
    const record = segment.record(0, 't', 0);
    expect(record.key!.toString()).toBe('k');
    expect(record.value!.toString()).toBe('héllo');
    expect(record.headers.h).toEqual(Buffer.from('x'));
  });

  it('stores header values as bytes with headersAsBytes, as a producer sends them: strings as UTF-8, missing ones empty', () => {
    const entry: SegmentEntry = { offset: 0, timestamp: 0, value: null, headers: { s: 'é', u: undefined, n: null } };
    const record = encodeSegments([entry], { headersAsBytes: true })[0].record(0, 't', 0);
    expect(record.headers).toEqual({ s: Buffer.from('é'), u: Buffer.alloc(0), n: Buffer.alloc(0) });
  });

  it(`splits records into segments of at most ${SEGMENT_BYTES} bytes, a larger record on its own`, () => {
    const value = Buffer.alloc(1_000, 1);
    const records: SegmentEntry[] = Array.from({ length: 200 }, (_, offset) => ({ offset, timestamp: 0, value }));
    records.push({ offset: 200, timestamp: 0, value: Buffer.alloc(SEGMENT_BYTES * 2, 2) });
    const segments = encodeSegments(records);
    expect(segments.map((s) => s.count)).toEqual([65, 65, 65, 5, 1]);
    expect(segments.at(-1)!.record(0, 't', 0).value!.length).toBe(SEGMENT_BYTES * 2);
  });
});

describe('MemoryPartition over segments', () => {
  it('compacts, trims by size and by time, and reads by offset as over one array of records (fast-check)', () => {
    fc.assert(
      fc.property(
        entries,
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 2_000 }),
        fc.integer({ min: 0, max: 2 ** 45 }),
        (generated, trim, below, bytes, olderThan) => {
          const records = logRecords(generated);
          const partition = new MemoryPartition('t', 2);
          // Appended in several sends, as producers do.
          for (let i = 0; i < records.length; i += 7) partition.append(records.slice(i, i + 7));
          let model = records;
          partition.trimBefore(trim);
          model = model.filter((r) => r.offset >= trim);
          // Compaction keeps every other record below `below`.
          const kept = partition.replaceBelow(below, (held) => held.filter((_, i) => i % 2 === 0));
          const lower = model.filter((r) => r.offset < below).filter((_, i) => i % 2 === 0);
          model = [...lower, ...model.filter((r) => r.offset >= below)];
          expect(kept).toBe(lower.length);
          expect(partition.all()).toEqual(model);
          partition.trimToBytes(bytes);
          let held = 0;
          let cut = model.length;
          while (cut > 0 && held + recordBytes(model[cut - 1]) <= bytes) held += recordBytes(model[--cut]);
          model = model.slice(cut);
          expect(partition.all()).toEqual(model);
          partition.trimOlderThan(olderThan);
          const firstNew = model.findIndex((r) => r.timestamp >= olderThan);
          model = firstNew < 0 ? [] : model.slice(firstNew);
          expect(partition.all()).toEqual(model);
          expect(partition.size).toBe(model.length);
          const from = model.length > 0 ? model[0].offset : 0;
          expect(partition.batch(from, 1_000).records).toEqual(model);
        },
      ),
    );
  });
});
