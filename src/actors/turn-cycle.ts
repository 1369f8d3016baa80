import type { Logger } from 'pino';
import type { LogRecord, TopicPartition } from '../connectors/log.js';
import type { TributaryMetrics } from '../observability/metrics.js';
import type { ResolvedProcessor } from '../processor/define-processor.js';
import type { LateInfo, LateRecord } from '../streams/late-output.js';
import type { WatermarkClock } from '../streams/watermark-clock.js';
import { Backpressure } from './backpressure.js';
import type { OffsetTracker } from './offset-tracker.js';
import type { RepartitionOutput } from './repartition-links.js';
import type { TimeState } from './resume-point.js';
import { Turn } from './turn.js';
import type { TurnWriter } from './turn-writer.js';

/** What a partition's {@link TurnCycle} works with. */
export interface TurnCycleOptions {
  readonly processor: ResolvedProcessor;
  readonly topicPartition: TopicPartition;
  readonly logger: Logger;
  readonly tracker: OffsetTracker<number | TimeState>;
  readonly writer: TurnWriter;
  readonly repartition: RepartitionOutput;
  readonly clock: WatermarkClock;
  /** Pause the fetch at this many records pending, resume at `lowWater` (see {@link Backpressure}). */
  readonly highWater: number;
  readonly lowWater: number;
  /** Fetch should pause (`true`) or resume (`false`). */
  readonly onBackpressure: (paused: boolean) => void;
  readonly metrics: TributaryMetrics;
  readonly labels: { readonly processor: string; readonly topic: string; readonly partition: string };
  /** Whether a batch is being pushed (its turn is closed at its end, not at the next microtask). */
  readonly inBatch: () => boolean;
  /** The offset of the record in the pipeline now, while a batch is pushed. */
  readonly currentOffset: () => number | undefined;
  /** Whether the pipeline has failed. */
  readonly hasFailed: () => boolean;
  /** The record the pipeline failed at (undefined when it failed outside any, or has not). */
  readonly failedAt: () => number | undefined;
  /** Whether the pipeline failed for good (`isPermanent`: a restart would fail the same way). */
  readonly failedForGood?: () => boolean;
  /** A write failed, or a turn does not match the tracker: the pipeline fails. */
  readonly fail: (err: unknown) => void;
}

/**
 * What a partition's pipeline emits, in turns, until it is acknowledged. Its results
 * ({@link emit}; repartition items identified by the record that caused them), late records
 * ({@link late}: to the `late` sink or the dead-letter topic) and released holds ({@link hold})
 * go to the turn open now ({@link open}), except while a replayed record is in the pipeline:
 * what it emits was delivered before and is dropped ({@link replaying}). A batch's turn is closed at the batch's end, any other at the next
 * microtask ({@link close}: its results written, one write per sink, after the partition's
 * watermark for its repartition outputs). When every write of a turn is acknowledged the turn
 * **settles**: its records complete in the offset tracker, the holds its operators released are
 * released, and backpressure is judged again ({@link Backpressure}: the turn's records are
 * pending until then).
 *
 * @example
 * turns.open().add('default', result); // emitted by the pipeline
 * turns.close(); // at the end of the batch: written; settled once acknowledged
 */
export class TurnCycle {
  /** True while a record before the resume point's `replayUntil` is in the pipeline: what it emits was delivered before. */
  replaying = false;
  private turn: Turn | undefined;
  private withoutRecords = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly backpressure: Backpressure;

  constructor(private readonly options: TurnCycleOptions) {
    const { tracker } = options;
    this.backpressure = new Backpressure({ ...options, pending: () => tracker.pending });
  }

  /** The writes of closed turns not yet settled (or failed). */
  get writesInFlight(): Promise<void>[] {
    return [...this.inFlight];
  }

  /**
   * How many turns that took no record have written something: results emitted outside any
   * record (the end of the input, an idle advance, a timer), which no replay drops.
   */
  get writtenWithoutRecords(): number {
    return this.withoutRecords;
  }

  /** Resolves when every write so far is acknowledged (or failed). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** A result of the pipeline for the sink `sink`. */
  emit(sink: string, item: unknown): void {
    if (this.replaying) return;
    const { repartition, tracker, clock } = this.options;
    if (repartition.has(sink)) {
      // Identify the item by the record that caused it, so a downstream stage can drop it when a replay writes it again.
      this.open().add(sink, repartition.data(item, this.options.currentOffset() ?? tracker.nextOffset - 1, clock.settled));
      return;
    }
    (this.turn ?? this.open()).add(sink, item);
  }

  /** A record an operator found late: counted, logged, and written to the `late` sink with why ({@link LateRecord}), else dead-lettered. */
  late(element: unknown, info: LateInfo): void {
    if (this.replaying) return;
    const { processor, topicPartition, metrics, logger } = this.options;
    metrics.lateRecords.inc({ processor: processor.id, operator: info.operator });
    logger.debug({ offset: info.offset, timestamp: info.timestamp, watermark: info.watermark, operator: info.operator }, 'late record');
    if (processor.sinks.late) {
      this.open().add('late', { element, info } satisfies LateRecord<unknown>);
      return;
    }
    const record: LogRecord = {
      topic: topicPartition.topic,
      partition: topicPartition.partition,
      offset: info.offset ?? -1,
      key: null,
      value: Buffer.from(JSON.stringify(element) ?? 'null', 'utf8'),
      headers: {},
      timestamp: info.timestamp,
    };
    this.open().deadLetters.push({
      kind: 'late',
      reason: info.reason !== undefined ? `${info.reason} (${info.operator})` : `late: event time ${info.timestamp} is behind the watermark ${info.watermark} of ${info.operator}${info.window ? ` (its window [${info.window.start}, ${info.window.end}${info.operator === 'session' ? ']' : ')'} had fired)` : ''}`,
      record,
      attempts: 1,
    });
  }

  /** Holds the commit at `offset`; the returned release takes effect when the turn it is called in settles. */
  hold(offset: number): () => void {
    const release = this.options.tracker.hold(offset);
    // A release waits for the results emitted in the same turn: the window that released its
    // hold has just emitted its result, which must be acknowledged before the commit passes.
    return () => this.open().releases.push(release);
  }

  /** The turn open now, opened if none is (outside a batch, to be closed at the next microtask). */
  open(): Turn {
    if (!this.turn) {
      this.turn = new Turn();
      if (!this.options.inBatch()) queueMicrotask(() => this.close());
    }
    return this.turn;
  }

  /** Writes the open turn, if any; it settles once its writes are acknowledged. */
  close(): void {
    const turn = this.turn;
    if (!turn) return;
    this.turn = undefined;
    const tookNone = turn.records === 0;
    const failed = this.options.hasFailed();
    // Failed for good (a stateful operator keyed unlike its input, a store over its budget): nothing
    // of the turn leaves, not even what the failing record emitted before its failure; its records
    // stay incomplete, so uncommitted, for a fixed topology to take again.
    if (failed && this.options.failedForGood?.()) return;
    const failedAt = this.options.failedAt();
    if (failed && failedAt !== undefined && failedAt >= turn.first && failedAt <= turn.last && !turn.dropLast(failedAt)) {
      // The record the pipeline failed at is always the last the turn took; were it not, none of
      // the turn's records would complete (they are replayed: at-least-once, never a gap).
      turn.records = 0;
    }
    if (!failed) this.options.repartition.forwardWatermark(turn, this.options.clock.current);
    const writes = this.options.writer.write(turn);
    if (writes.length > 0 && tookNone) this.withoutRecords++;
    if (writes.length === 0) {
      this.settle(turn);
      return;
    }
    const started = performance.now();
    const done = Promise.all(writes).then(
      () => {
        this.options.metrics.latency.observe({ processor: this.options.labels.processor }, (performance.now() - started) / 1000);
        this.settle(turn);
      },
      (err: unknown) => this.options.fail(err),
    );
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
    this.backpressure.afterWrites(turn.records);
  }

  private settle(turn: Turn): void {
    const { tracker } = this.options;
    try {
      tracker.completeRun(turn.first, turn.until, turn.records);
    } catch (err) {
      // The turn's records do not match the tracker's (a bug): fail, and let the restart replay them.
      this.options.fail(err);
      return;
    }
    for (const release of turn.releases) release();
    this.options.metrics.buffered.set(this.options.labels, tracker.pending);
    this.backpressure.check();
  }
}
