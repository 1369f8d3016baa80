import { createRequire } from 'node:module';
import { TributaryError } from '../../errors.js';
import type { LogRecord, TopicPartition } from '../log.js';
import { decodeRecordBatches, Reader, type AbortedTransaction, type SkippedBatch } from './record-batch-decoder.js';

const kafkajsRequire = createRequire(import.meta.url);
const protocolErrors = kafkajsRequire('kafkajs/src/protocol/error') as { createErrorFromCode(code: number): Error };

const OFFSET_OUT_OF_RANGE = 1;

/**
 * A read asked for an offset the partition does not hold: below its log start (retention or
 * `deleteRecords` removed it) or past its end. Not retried as is: the reader moves to the log
 * start, or fails.
 */
export class OffsetOutOfRangeError extends TributaryError {
  constructor(
    readonly topicPartition: TopicPartition,
    readonly offset: number,
  ) {
    super(`${topicPartition.topic}-${topicPartition.partition}: offset ${offset} is not within the range of offsets the broker holds`);
  }
}

/** One partition of a Fetch (v11) response, decoded for a restore. */
export interface FetchedPartition {
  readonly errorCode: number;
  readonly highWatermark: number;
  /** Data records at or after the offset asked for, in offset order: no control records, no aborted transactional ones. */
  readonly records: LogRecord[];
  /** Offset of the last record of the last whole batch (control records included); -1 when there was none. */
  readonly lastOffset: number;
}

/**
 * Decodes the Fetch (v11) response of one partition straight into {@link LogRecord}s, for a
 * restore or a read (see {@link decodeRecordBatches}): records before `fromOffset`, control
 * records and those of aborted transactions dropped.
 *
 * Throws an {@link OffsetOutOfRangeError} for an offset out of the partition's range, kafkajs'
 * protocol error for another partition error code (what `broker.fetch` throws).
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
      const { partition, errorCode: partitionError, highWatermark, aborted, start, end } = partitionHeader(r);
      if (topic !== tp.topic || partition !== tp.partition) {
        r.pos = end;
        continue;
      }
      if (partitionError === OFFSET_OUT_OF_RANGE) throw new OffsetOutOfRangeError(tp, fromOffset);
      if (partitionError !== 0) throw protocolErrors.createErrorFromCode(partitionError);
      const records: LogRecord[] = [];
      const lastOffset = await decodeRecordBatches(data, start, end, tp, fromOffset, aborted, records);
      return { errorCode: 0, highWatermark, records, lastOffset };
    }
  }
  throw new TributaryError(`fetch of ${tp.topic}-${tp.partition} returned no data for it`, { retriable: true });
}

/** A Fetch (v11) response in the shape kafkajs' consumer reads (`broker.fetch`'s result), its messages already {@link LogRecord}s. */
export interface ConsumerFetchResponse {
  readonly throttleTime: 0;
  readonly clientSideThrottleTime: number;
  readonly errorCode: number;
  readonly sessionId: number;
  readonly responses: Array<{
    readonly topicName: string;
    readonly partitions: Array<{
      readonly partition: number;
      readonly errorCode: number;
      readonly highWatermark: string;
      readonly lastStableOffset: string;
      readonly lastStartOffset: string;
      readonly abortedTransactions: [];
      readonly preferredReadReplica: number;
      readonly messages: Array<LogRecord | SkippedBatch>;
    }>;
  }>;
}

/**
 * Decodes a whole Fetch (v11) response for kafkajs' consumer, in place of kafkajs' own decoder
 * (`protocol/requests/fetch/v11/response`'s `decode`, whose result kafkajs then `parse`s for
 * errors and makes `Batch`es of). The messages are {@link LogRecord}s with numeric offsets, which
 * kafkajs' `Batch` and offset manager take as they take its decimal strings (`Long.fromValue`),
 * so tributary's consumer hands them to the pipeline as they are: one object per record from the
 * response to the pipeline. Aborted transactions are filtered here (the Java consumer's way, see
 * {@link decodeRecordBatches}), so kafkajs gets an empty aborted list; each batch that delivers
 * nothing (a transaction marker, aborted records) leaves a control-record entry at its last
 * offset, so that kafkajs' position moves past it as with its own decoder.
 */
export async function decodeConsumerFetchResponse(data: Buffer): Promise<ConsumerFetchResponse> {
  const r = new Reader(data);
  const clientSideThrottleTime = r.int32();
  const errorCode = r.int16();
  const sessionId = r.int32();
  const responses: Array<ConsumerFetchResponse['responses'][number]> = [];
  for (let topics = r.int32(); topics > 0; topics--) {
    const topicName = r.string();
    const partitions: Array<ConsumerFetchResponse['responses'][number]['partitions'][number]> = [];
    for (let n = r.int32(); n > 0; n--) {
      const header = partitionHeader(r);
      const messages: Array<LogRecord | SkippedBatch> = [];
      if (header.errorCode === 0) await decodeRecordBatches(data, header.start, header.end, { topic: topicName, partition: header.partition }, 0, header.aborted, messages, true);
      r.pos = header.end;
      partitions.push({
        partition: header.partition,
        errorCode: header.errorCode,
        highWatermark: String(header.highWatermark),
        lastStableOffset: String(header.lastStableOffset),
        lastStartOffset: String(header.logStartOffset),
        abortedTransactions: [],
        preferredReadReplica: header.preferredReadReplica,
        messages,
      });
    }
    responses.push({ topicName, partitions });
  }
  return { throttleTime: 0, clientSideThrottleTime, errorCode, sessionId, responses };
}

/** A partition's header in a Fetch (v11) response, and where its record set lies; leaves `r` at the record set. */
function partitionHeader(r: Reader): {
  partition: number;
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  aborted: AbortedTransaction[];
  preferredReadReplica: number;
  start: number;
  end: number;
} {
  const partition = r.int32();
  const errorCode = r.int16();
  const highWatermark = r.int64();
  const lastStableOffset = r.int64();
  const logStartOffset = r.int64();
  const aborted: AbortedTransaction[] = [];
  for (let n = r.int32(); n > 0; n--) aborted.push({ producerId: r.int64(), firstOffset: r.int64() });
  const preferredReadReplica = r.int32();
  const size = r.int32();
  const start = r.pos;
  return { partition, errorCode, highWatermark, lastStableOffset, logStartOffset, aborted, preferredReadReplica, start, end: size > 0 ? start + size : start };
}
