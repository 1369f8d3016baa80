import { createRequire } from 'node:module';
import { TributaryError } from '../../errors.js';
import type { LogHeaders, LogRecord, TopicPartition } from '../log.js';

/** What this file uses of kafkajs' internals (kafkajs 2.2.x): compression codecs, protocol errors. */
interface Codec {
  decompress(buffer: Buffer): Promise<Buffer>;
}
const kafkajsRequire = createRequire(import.meta.url);
const compression = kafkajsRequire('kafkajs/src/protocol/message/compression') as { lookupCodecByAttributes(attributes: number): Codec | null };
const protocolErrors = kafkajsRequire('kafkajs/src/protocol/error') as { createErrorFromCode(code: number): Error };

/** One partition of a Fetch (v11) response, decoded for a restore. */
export interface FetchedPartition {
  readonly errorCode: number;
  readonly highWatermark: number;
  /** Data records at or after the offset asked for, in offset order: no control records, no aborted transactional ones. */
  readonly records: LogRecord[];
  /** Offset of the last record of the last whole batch (control records included); -1 when there was none. */
  readonly lastOffset: number;
}

const CONTROL = 0x20;
const TRANSACTIONAL = 0x10;
const LOG_APPEND_TIME = 0x08;
const BATCH_HEADER = 61; // baseOffset .. recordCount
const NO_HEADERS: LogHeaders = Object.freeze({});

/**
 * Decodes the Fetch (v11) response of one partition straight into {@link LogRecord}s: what
 * kafkajs' own decoder does, minus its per-record costs (a `Long` and two strings per offset and
 * timestamp, a new headers object per record). Records whose headers are byte for byte those of
 * the record before share its (frozen) headers object: a changelog's records nearly all carry the
 * same owner id. `read_committed`: records of aborted transactions (the response's aborted list)
 * and control records are dropped, as the Java consumer does.
 *
 * Throws kafkajs' protocol error for a partition error code (what `broker.fetch` throws).
 */
export async function decodeFetchResponse(data: Buffer, tp: TopicPartition, fromOffset: number): Promise<FetchedPartition> {
  const r = new Reader(data);
  r.pos += 4; // throttle_time_ms
  const errorCode = r.int16();
  if (errorCode !== 0) throw protocolErrors.createErrorFromCode(errorCode);
  r.pos += 4; // session_id
  for (let topics = r.int32(); topics > 0; topics--) {
    const topic = r.string();
    for (let partitions = r.int32(); partitions > 0; partitions--) {
      const partition = r.int32();
      const partitionError = r.int16();
      const highWatermark = r.int64();
      r.pos += 16; // last_stable_offset, log_start_offset
      const aborted: Array<{ producerId: number; firstOffset: number }> = [];
      for (let n = r.int32(); n > 0; n--) aborted.push({ producerId: r.int64(), firstOffset: r.int64() });
      r.pos += 4; // preferred_read_replica
      const size = r.int32();
      const end = size > 0 ? r.pos + size : r.pos;
      if (topic !== tp.topic || partition !== tp.partition) {
        r.pos = end;
        continue;
      }
      if (partitionError !== 0) throw protocolErrors.createErrorFromCode(partitionError);
      const records: LogRecord[] = [];
      const lastOffset = await decodeBatches(data, r.pos, end, tp, fromOffset, aborted, records);
      return { errorCode: 0, highWatermark, records, lastOffset };
    }
  }
  throw new TributaryError(`fetch of ${tp.topic}-${tp.partition} returned no data for it`, { retriable: true });
}

async function decodeBatches(data: Buffer, start: number, end: number, tp: TopicPartition, fromOffset: number, aborted: Array<{ producerId: number; firstOffset: number }>, into: LogRecord[]): Promise<number> {
  aborted.sort((a, b) => a.firstOffset - b.firstOffset);
  const abortedProducers = new Set<number>();
  let lastOffset = -1;
  // The headers of the record before, where they sit in `headersIn` (shared while the bytes repeat).
  let lastHeaders = NO_HEADERS;
  let lastHeadersAt = -1;
  let lastHeadersLength = 0;
  let headersIn: Buffer | undefined;
  const r = new Reader(data);
  r.pos = start;
  while (end - r.pos >= BATCH_HEADER) {
    const baseOffset = r.int64();
    const length = r.int32();
    const batchEnd = r.pos + length;
    if (batchEnd > end) break; // a partial batch at the end of the response (maxBytes)
    r.pos += 4; // partition_leader_epoch
    const magic = data.readInt8(r.pos);
    r.pos += 5; // magic, crc
    if (magic !== 2) throw new Error(`${tp.topic}-${tp.partition}@${baseOffset}: message format v${magic} is not supported (Kafka 0.11+ writes v2)`);
    const attributes = r.int16();
    const lastOffsetDelta = r.int32();
    const firstTimestamp = r.int64();
    const maxTimestamp = r.int64();
    const producerId = r.int64();
    r.pos += 6; // producer_epoch, base_sequence
    const count = r.int32();
    lastOffset = baseOffset + lastOffsetDelta;
    while (aborted.length > 0 && aborted[0].firstOffset <= lastOffset) abortedProducers.add(aborted.shift()!.producerId);
    if ((attributes & CONTROL) !== 0) {
      // An abort or commit marker ends the producer's transaction.
      abortedProducers.delete(producerId);
      r.pos = batchEnd;
      continue;
    }
    if ((attributes & TRANSACTIONAL) !== 0 && abortedProducers.has(producerId)) {
      r.pos = batchEnd;
      continue;
    }
    let records = r;
    let recordsEnd = batchEnd;
    const codec = compression.lookupCodecByAttributes(attributes);
    if (codec) {
      const inflated = await codec.decompress(data.subarray(r.pos, batchEnd));
      records = new Reader(inflated);
      recordsEnd = inflated.length;
    }
    const appendTime = (attributes & LOG_APPEND_TIME) !== 0 ? maxTimestamp : -1;
    const buffer = records.data;
    if (buffer !== headersIn) {
      headersIn = buffer;
      lastHeadersAt = -1;
    }
    for (let i = 0; i < count && records.pos < recordsEnd; i++) {
      const recordLength = records.varint();
      const recordEnd = records.pos + recordLength;
      records.pos += 1; // attributes
      const timestampDelta = records.varint();
      const offset = baseOffset + records.varint();
      const key = records.bytes();
      const value = records.bytes();
      const headersAt = records.pos;
      let headers = NO_HEADERS;
      const headerCount = records.varint();
      if (headerCount > 0) {
        const headersLength = recordEnd - headersAt;
        if (lastHeadersAt >= 0 && headersLength === lastHeadersLength && buffer.compare(buffer, lastHeadersAt, lastHeadersAt + headersLength, headersAt, recordEnd) === 0) {
          headers = lastHeaders;
        } else {
          const decoded: LogHeaders = {};
          for (let h = 0; h < headerCount; h++) {
            const name = records.bytes();
            decoded[name === null ? '' : name.toString()] = records.bytes() ?? undefined;
          }
          headers = Object.freeze(decoded);
          lastHeaders = headers;
          lastHeadersAt = headersAt;
          lastHeadersLength = headersLength;
        }
      }
      records.pos = recordEnd;
      if (offset < fromOffset) continue;
      into.push({ topic: tp.topic, partition: tp.partition, offset, key, value, headers, timestamp: appendTime >= 0 ? appendTime : firstTimestamp + timestampDelta });
    }
    r.pos = batchEnd;
  }
  return lastOffset;
}

/** A cursor over a Kafka protocol buffer (big-endian integers, zigzag varints). */
class Reader {
  pos = 0;
  constructor(readonly data: Buffer) {}

  int16(): number {
    const v = this.data.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    const v = this.data.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** An int64 as a number: offsets, timestamps and producer ids stay below 2^53. */
  int64(): number {
    const v = this.data.readInt32BE(this.pos) * 4_294_967_296 + this.data.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return v;
  }

  string(): string {
    const length = this.int16();
    const s = this.data.toString('utf8', this.pos, this.pos + length);
    this.pos += length;
    return s;
  }

  /** A zigzag varint (or varlong: exact up to 2^53). */
  varint(): number {
    let result = 0;
    let shift = 1;
    const { data } = this;
    for (;;) {
      const byte = data[this.pos++];
      result += (byte & 0x7f) * shift;
      if (byte < 0x80) break;
      shift *= 128;
    }
    return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
  }

  /** varint length, then that many bytes (-1: null). */
  bytes(): Buffer | null {
    const length = this.varint();
    if (length < 0) return null;
    const b = this.data.subarray(this.pos, this.pos + length);
    this.pos += length;
    return b;
  }
}
