import { createRequire } from 'node:module';
import type { LogHeaders, LogRecord, TopicPartition } from '../log.js';

/** What this file uses of kafkajs' internals (kafkajs 2.2.x): its compression codecs. */
interface Codec {
  decompress(buffer: Buffer): Promise<Buffer>;
}
const kafkajsRequire = createRequire(import.meta.url);
const compression = kafkajsRequire('kafkajs/src/protocol/message/compression') as { lookupCodecByAttributes(attributes: number): Codec | null };

/** A record batch in a message format before v2 (Kafka 0.10's message sets), which this decoder does not read. */
export class LegacyMessageFormatError extends Error {
  constructor(
    readonly topicPartition: TopicPartition,
    readonly offset: number,
    readonly magic: number,
  ) {
    super(`${topicPartition.topic}-${topicPartition.partition}@${offset}: message format v${magic} is not supported (Kafka 0.11+ writes v2)`);
    this.name = 'LegacyMessageFormatError';
  }
}

/** An aborted transaction of a Fetch response: its producer and the offset it began at. */
export interface AbortedTransaction {
  readonly producerId: number;
  readonly firstOffset: number;
}

/**
 * Where a record batch that delivers nothing ends (a commit or abort marker, an aborted
 * transaction's records, a batch emptied by compaction): kafkajs' consumer needs an entry at that
 * offset to move its position past the batch, and drops it as a control record.
 */
export interface SkippedBatch {
  readonly offset: number;
  readonly isControlRecord: true;
}

const CONTROL = 0x20;
const TRANSACTIONAL = 0x10;
const LOG_APPEND_TIME = 0x08;
const BATCH_HEADER = 61; // baseOffset .. recordCount
export const NO_HEADERS: LogHeaders = Object.freeze({});

/**
 * Decodes the record batches (message format v2) of one partition of a Fetch response, bytes
 * `start` to `end` of `data`, straight into {@link LogRecord}s: what kafkajs' own decoder does,
 * minus its per-record costs (a `Long` and two strings per offset and timestamp, a new headers
 * object per record). Records whose headers are byte for byte those of the record before share
 * its (frozen) headers object: a changelog's records nearly all carry the same owner id.
 * `read_committed`: records of aborted transactions (`aborted`, sorted here by first offset, as
 * the Java consumer keeps them) and control records are dropped, as the Java consumer does; with
 * `markSkipped`, each batch that delivers nothing leaves a {@link SkippedBatch} at its last offset.
 * Records before `fromOffset` are dropped; a partial batch at the end (`maxBytes`) is left out.
 *
 * Returns the offset of the last record of the last whole batch (control records included), -1
 * when there was none.
 */
export async function decodeRecordBatches(
  data: Buffer,
  start: number,
  end: number,
  tp: TopicPartition,
  fromOffset: number,
  aborted: AbortedTransaction[],
  into: Array<LogRecord | SkippedBatch>,
  markSkipped = false,
): Promise<number> {
  if (aborted.length > 1) aborted.sort((a, b) => a.firstOffset - b.firstOffset);
  let nextAborted = 0;
  const abortedProducers = new Set<number>();
  let lastOffset = -1;
  // The headers of the record before, where they sit in `headersIn` (shared while the bytes repeat).
  let lastHeaders = NO_HEADERS;
  let lastHeadersAt = -1;
  let lastHeadersLength = 0;
  let headersIn: Buffer | undefined;
  const { topic, partition } = tp;
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
    if (magic !== 2) throw new LegacyMessageFormatError(tp, baseOffset, magic);
    const attributes = r.int16();
    const lastOffsetDelta = r.int32();
    const firstTimestamp = r.int64();
    const maxTimestamp = r.int64();
    const producerId = r.int64();
    r.pos += 6; // producer_epoch, base_sequence
    const count = r.int32();
    lastOffset = baseOffset + lastOffsetDelta;
    while (nextAborted < aborted.length && aborted[nextAborted].firstOffset <= lastOffset) abortedProducers.add(aborted[nextAborted++].producerId);
    if ((attributes & CONTROL) !== 0 || ((attributes & TRANSACTIONAL) !== 0 && abortedProducers.has(producerId))) {
      // An abort or commit marker ends the producer's transaction.
      if ((attributes & CONTROL) !== 0) abortedProducers.delete(producerId);
      if (markSkipped && lastOffset >= fromOffset) into.push({ offset: lastOffset, isControlRecord: true });
      r.pos = batchEnd;
      continue;
    }
    const delivered = into.length;
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
      into.push({ topic, partition, offset, key, value, headers, timestamp: appendTime >= 0 ? appendTime : firstTimestamp + timestampDelta });
    }
    // A batch whose last records compaction removed (or that delivered none) leaves an entry at
    // its last offset, so that kafkajs' position moves past the whole batch, as the Java consumer's does.
    if (markSkipped && lastOffset >= fromOffset && (into.length === delivered || into[into.length - 1].offset < lastOffset)) into.push({ offset: lastOffset, isControlRecord: true });
    r.pos = batchEnd;
  }
  return lastOffset;
}

/** A cursor over a Kafka protocol buffer (big-endian integers, zigzag varints). */
export class Reader {
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
