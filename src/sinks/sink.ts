import type { Logger } from 'pino';
import type { LogConnector, LogProducer, OutgoingRecord } from '../connectors/log.js';
import type { TributaryMetrics } from '../observability/metrics.js';

/** What a sink gets when its processor starts. */
export interface SinkContext {
  readonly processorId: string;
  readonly log: LogConnector;
  /** The processor's shared producer on `log`. */
  readonly producer: LogProducer;
  readonly logger: Logger;
  /** The app's metrics, for a sink's own counters (e.g. items an at-most-once sink dropped). */
  readonly metrics?: TributaryMetrics;
}

/**
 * Where a pipeline's results go. A result counts as delivered when `write` resolves: only then
 * may the offsets of the records that caused it be committed.
 *
 * Writes to one sink may be called again before the previous one resolved; a sink that cares
 * about order (a topic) keeps it.
 *
 * @example
 * const printed: Sink<string> = { name: 'stdout', write: async (items) => { for (const i of items) console.log(i); } };
 */
export interface Sink<T> {
  // `this: void`: a sink's functions never depend on `this`, so `{ start: other.start }` is safe.
  /** For logs and metrics. */
  readonly name: string;
  /** Prepare (create topics, connect). Called once before the first write. */
  start?(this: void, context: SinkContext): Promise<void>;
  /**
   * `origin` names the writer (a partition pipeline instance): a sink that keeps order must
   * not apply a write of an origin after a failed one of the same origin (see OrderedWriter).
   */
  write(this: void, items: readonly T[], origin?: string): Promise<void | readonly RejectedOutput[]>;
  /**
   * The records a write of `items` would append, and to which topic of the processor's log,
   * without writing them: how a processor with `guarantee: 'exactly-once'` writes them in its
   * partition's transaction instead. Only sinks that write to the log have it (a processor with
   * exactly-once refuses the others). Called after `start`.
   */
  encode?(this: void, items: readonly T[]): EncodedWrite;
  /** Flush and release what `start` took. */
  stop?(this: void): Promise<void>;
}

/** What {@link Sink.encode} returns: the records for `topic`, and the items refused for good (as `write` returns them). */
export interface EncodedWrite {
  readonly topic: string;
  readonly records: readonly OutgoingRecord[];
  readonly rejected?: readonly RejectedOutput[];
}

/**
 * An item a sink refused for good before sending it (e.g. a record larger than the topic takes):
 * retrying would fail the same way on every replay, so the partition dead-letters it (reason
 * `output-rejected`) and goes on instead of failing. `index` is its place in the written items.
 *
 * @example
 * return [{ index: 3, record, reason: 'record of 2,000,120 bytes exceeds maxRecordBytes (1,000,000)' }];
 */
export interface RejectedOutput {
  readonly index: number;
  /** The item as it would have been written (key, value, headers). */
  readonly record: OutgoingRecord;
  readonly reason: string;
}
