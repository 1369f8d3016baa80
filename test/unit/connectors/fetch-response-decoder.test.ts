import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { outsideOwnFetchDecoding, withOwnFetchDecoding } from '../../../src/connectors/kafka/consumer-fetch-decoding.js';
import { decodeConsumerFetchResponse, decodeFetchResponse } from '../../../src/connectors/kafka/fetch-response-decoder.js';

// Real record batches, encoded by kafkajs' own producer-side encoders (not a mock of the client).
const require = createRequire(import.meta.url);
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (o: object) => Promise<{ buffer: Buffer }> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (o: object) => unknown;
const Encoder = require('kafkajs/src/protocol/encoder') as new () => EncoderLike;
const kafkajsV11 = require('kafkajs/src/protocol/requests/fetch/v11/response') as { decode(data: Buffer): Promise<{ responses: Array<{ partitions: Array<{ messages: Array<{ offset: string; key: Buffer | null; value: Buffer | null; timestamp: string }> }> }> }> };
const Long = require('kafkajs/src/utils/long') as { fromNumber(n: number): unknown };
const Batch = require('kafkajs/src/consumer/batch') as new (topic: string, fetchedOffset: string, partitionData: object) => KafkajsBatch;

interface KafkajsBatch {
  readonly messages: Array<{ offset: string | number; key: Buffer | null }>;
  isEmptyDueToFiltering(): boolean;
  lastOffset(): string | number;
}

interface EncoderLike {
  writeInt16(n: number): EncoderLike;
  writeInt32(n: number): EncoderLike;
  writeInt64(n: number | string): EncoderLike;
  writeString(s: string): EncoderLike;
  writeBuffer(b: Buffer): EncoderLike;
  readonly buffer: Buffer;
}

const tp = { topic: 'app-counts-changelog', partition: 0 };
const owner = { 'tributary.epoch': '3.ab12cd34' };

async function batch(firstOffset: number, records: Array<{ key: string | null; value: string | null; headers?: Record<string, string> }>, options: { transactional?: boolean; producerId?: number; compression?: number; control?: boolean; lastOffsetDelta?: number } = {}): Promise<Buffer> {
  const encoded = await RecordBatch({
    firstOffset: Long.fromNumber(firstOffset),
    firstTimestamp: 1_700_000_000_000,
    maxTimestamp: 1_700_000_000_000 + records.length,
    lastOffsetDelta: options.lastOffsetDelta ?? records.length - 1,
    transactional: options.transactional ?? false,
    producerId: Long.fromNumber(options.producerId ?? -1),
    compression: options.compression ?? 0,
    records: records.map((r, i) => Record({ offsetDelta: i, timestampDelta: i, key: r.key === null ? null : Buffer.from(r.key), value: r.value === null ? null : Buffer.from(r.value), headers: r.headers ?? {} })),
  });
  const bytes = Buffer.from(encoded.buffer);
  if (options.control) bytes.writeInt16BE(bytes.readInt16BE(21) | 0x20, 21); // the attributes: a control batch
  return bytes;
}

function response(recordSet: Buffer, aborted: Array<[producerId: number, firstOffset: number]> = [], highWatermark = 100): Buffer {
  const e = new Encoder().writeInt32(0).writeInt16(0).writeInt32(0).writeInt32(1).writeString(tp.topic).writeInt32(1);
  e.writeInt32(tp.partition).writeInt16(0).writeInt64(highWatermark).writeInt64(highWatermark).writeInt64(0).writeInt32(aborted.length);
  for (const [producerId, firstOffset] of aborted) e.writeInt64(producerId).writeInt64(firstOffset);
  e.writeInt32(-1).writeInt32(recordSet.length).writeBuffer(recordSet);
  return e.buffer;
}

describe('decodeFetchResponse', () => {
  it('decodes what kafkajs decodes: offsets, keys, values, tombstones and timestamps', async () => {
    const set = Buffer.concat([
      await batch(0, [{ key: '"a"', value: '1', headers: owner }, { key: '"b"', value: null, headers: owner }, { key: '"c"', value: '3', headers: owner }]),
      await batch(3, [{ key: '"d"', value: '4' }]),
    ]);
    const data = response(set);
    const ours = await decodeFetchResponse(data, tp, 0);
    const theirs = (await kafkajsV11.decode(data)).responses[0].partitions[0].messages;
    expect(ours.records.map((r) => [r.offset, r.key?.toString(), r.value?.toString() ?? null, r.timestamp])).toEqual(
      theirs.map((m) => [Number(m.offset), m.key?.toString(), m.value?.toString() ?? null, Number(m.timestamp)]),
    );
    expect(ours.highWatermark).toBe(100);
    expect(ours.lastOffset).toBe(3);
    expect(String(ours.records[0].headers['tributary.epoch'])).toBe('3.ab12cd34');
    expect(ours.records[3].headers).toEqual({});
  });

  it('gives records whose headers repeat byte for byte the same headers object', async () => {
    const other = { 'tributary.epoch': '4.ffffffff' };
    const data = response(await batch(0, [{ key: 'a', value: '1', headers: owner }, { key: 'b', value: '2', headers: owner }, { key: 'c', value: '3', headers: other }, { key: 'd', value: '4', headers: other }]));
    const { records } = await decodeFetchResponse(data, tp, 0);
    expect(records[1].headers).toBe(records[0].headers);
    expect(records[2].headers).not.toBe(records[1].headers);
    expect(String(records[2].headers['tributary.epoch'])).toBe('4.ffffffff');
    expect(records[3].headers).toBe(records[2].headers);
  });

  it('drops records before the offset asked for, control records and aborted transactions, and a partial batch at the end', async () => {
    const set = Buffer.concat([
      await batch(0, [{ key: 'a', value: '1' }, { key: 'b', value: '2' }, { key: 'c', value: '3' }]),
      await batch(3, [{ key: 'x', value: 'aborted' }, { key: 'y', value: 'aborted' }], { transactional: true, producerId: 7 }),
      await batch(5, [{ key: null, value: null }], { transactional: true, producerId: 7, control: true }),
      await batch(6, [{ key: 'z', value: 'committed' }], { transactional: true, producerId: 8 }),
      await batch(7, [{ key: 'e', value: '5' }, { key: 'f', value: '6' }], { compression: 1 }),
    ]);
    const partial = (await batch(9, [{ key: 'g', value: '7' }])).subarray(0, 30);
    const { records, lastOffset } = await decodeFetchResponse(response(Buffer.concat([set, partial]), [[7, 3]]), tp, 1);
    expect(records.map((r) => [r.offset, r.key?.toString()])).toEqual([
      [1, 'b'],
      [2, 'c'],
      [6, 'z'],
      [7, 'e'],
      [8, 'f'],
    ]);
    expect(lastOffset).toBe(8);
  });

  it('throws the partition error kafkajs throws', async () => {
    const data = response(Buffer.alloc(0));
    data.writeInt16BE(1, 4 + 2 + 4 + 4 + 2 + tp.topic.length + 4 + 4); // OFFSET_OUT_OF_RANGE
    await expect(decodeFetchResponse(data, tp, 0)).rejects.toThrow(/not within the range of offsets/);
  });
});

describe('decodeConsumerFetchResponse', () => {
  it('gives kafkajs\' consumer batches of log records with the messages, the last offset and the emptiness its own decoder gives', async () => {
    const set = Buffer.concat([
      await batch(0, [{ key: 'a', value: '1' }, { key: 'b', value: '2' }, { key: 'c', value: '3', headers: owner }]),
      await batch(3, [{ key: 'x', value: 'aborted' }, { key: 'y', value: 'aborted' }], { transactional: true, producerId: 7 }),
      await batch(5, [{ key: null, value: null }], { transactional: true, producerId: 7, control: true }),
      await batch(6, [{ key: 'z', value: 'committed' }], { transactional: true, producerId: 8 }),
      await batch(7, [{ key: null, value: null }], { transactional: true, producerId: 8, control: true }),
      await batch(8, [{ key: 'e', value: '5' }, { key: 'f', value: '6' }], { compression: 1 }),
    ]);
    const data = response(set, [[7, 3]]);
    const ours = await decodeConsumerFetchResponse(data);
    const theirs = (await kafkajsV11.decode(data)) as unknown as { responses: Array<{ topicName: string; partitions: Array<{ partition: number; highWatermark: string; abortedTransactions: unknown[] }> }> };
    expect(ours.responses[0].topicName).toBe(theirs.responses[0].topicName);
    expect(ours.responses[0].partitions[0].highWatermark).toBe(theirs.responses[0].partitions[0].highWatermark);
    for (const fetchedOffset of ['0', '1', '3', '4', '5', '6', '7', '8', '9']) {
      const mine = new Batch(tp.topic, fetchedOffset, ours.responses[0].partitions[0]);
      const kafkajs = new Batch(tp.topic, fetchedOffset, theirs.responses[0].partitions[0]);
      expect(mine.messages.map((m) => [Number(m.offset), m.key?.toString()]), `from ${fetchedOffset}`).toEqual(kafkajs.messages.map((m) => [Number(m.offset), m.key?.toString()]));
      expect(Number(mine.lastOffset()), `from ${fetchedOffset}`).toBe(Number(kafkajs.lastOffset()));
      expect(mine.isEmptyDueToFiltering(), `from ${fetchedOffset}`).toBe(kafkajs.isEmptyDueToFiltering());
    }
    const records = new Batch(tp.topic, '0', ours.responses[0].partitions[0]).messages as unknown as Array<{ topic: string; partition: number; offset: number; timestamp: number; headers: object }>;
    expect(records[0]).toMatchObject({ topic: tp.topic, partition: 0, offset: 0, timestamp: 1_700_000_000_000, headers: {} });
    expect(String((records[2].headers as Record<string, Buffer>)['tributary.epoch'])).toBe('3.ab12cd34');
  });

  it('moves past a fetch of nothing but an aborted transaction and its marker, as kafkajs does', async () => {
    const set = Buffer.concat([
      await batch(10, [{ key: 'x', value: 'aborted' }], { transactional: true, producerId: 7 }),
      await batch(11, [{ key: null, value: null }], { transactional: true, producerId: 7, control: true }),
    ]);
    const data = response(set, [[7, 10]]);
    const mine = new Batch(tp.topic, '10', (await decodeConsumerFetchResponse(data)).responses[0].partitions[0]);
    expect(mine.messages).toEqual([]);
    expect(mine.isEmptyDueToFiltering()).toBe(true);
    expect(Number(mine.lastOffset())).toBe(11);
  });

  it('leaves a partition error for kafkajs to throw, with no messages', async () => {
    const data = response(Buffer.alloc(0));
    data.writeInt16BE(1, 4 + 2 + 4 + 4 + 2 + tp.topic.length + 4 + 4); // OFFSET_OUT_OF_RANGE
    const { partitions } = (await decodeConsumerFetchResponse(data)).responses[0];
    expect(partitions[0]).toMatchObject({ partition: 0, errorCode: 1, messages: [] });
  });

  it('moves past a batch whose last records compaction removed, to its last offset, as the Java consumer does', async () => {
    // Offsets 10 and 11 remain of a batch that ran to 14.
    const data = response(await batch(10, [{ key: 'a', value: '1' }, { key: 'b', value: '2' }], { lastOffsetDelta: 4 }));
    const mine = new Batch(tp.topic, '10', (await decodeConsumerFetchResponse(data)).responses[0].partitions[0]);
    expect(mine.messages.map((m) => Number(m.offset))).toEqual([10, 11]);
    expect(Number(mine.lastOffset())).toBe(14);
  });

  it("is switched on for tributary's fetch loops only: kafkajs' decoder outside them and in what their handlers start", async () => {
    const data = response(await batch(0, [{ key: 'a', value: '1' }]));
    const offsetType = async (): Promise<string> => typeof ((await kafkajsV11.decode(data)).responses[0].partitions[0].messages[0].offset as unknown);
    expect(await offsetType()).toBe('string');
    expect(await withOwnFetchDecoding(() => offsetType())).toBe('number');
    expect(await withOwnFetchDecoding(() => outsideOwnFetchDecoding(() => offsetType()))).toBe('string');
  });

  it("falls back to kafkajs' decoder for a topic in a message format before v2 (Kafka 0.10's message sets)", async () => {
    const MessageSet = require('kafkajs/src/protocol/messageSet') as (o: object) => { buffer: Buffer };
    const legacy = MessageSet({ messageVersion: 1, compression: 0, entries: [{ key: 'a', value: 'old', timestamp: 1_700_000_000_000 }] }).buffer;
    // kafkajs writes offset -1 for a producer's set: as a broker would hand it out, at offset 5.
    legacy.writeInt32BE(0, 0);
    legacy.writeInt32BE(5, 4);
    // Padding past kafkajs' 49-byte record batch overhead check, as a second whole message would.
    const data = response(Buffer.concat([legacy, MessageSet({ messageVersion: 1, compression: 0, entries: [{ key: 'b', value: 'older', timestamp: 1_700_000_000_001 }] }).buffer]));
    const decoded = await withOwnFetchDecoding(() => kafkajsV11.decode(data));
    const messages = decoded.responses[0].partitions[0].messages;
    expect(messages.map((m) => [typeof m.offset, m.value?.toString()])).toEqual([
      ['string', 'old'],
      ['string', 'older'],
    ]);
  });
});
