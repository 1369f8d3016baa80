import type { Observable, SchedulerLike } from 'rxjs';
import type { Logger } from 'pino';
import type { LateInfo } from '../streams/late-output.js';
import type { OffsetHolds } from '../streams/offset-holds.js';
import type { WatermarkClock } from '../streams/watermark-clock.js';

/** What a pipeline returns: one stream of results, or named streams, one per sink. */
export type PipelineOutputs = Observable<unknown> | Readonly<Record<string, Observable<unknown>>>;

/** What a pipeline function gets besides its records: the partition it runs for and its runtime hooks. */
export interface PipelineContext {
  readonly processorId: string;
  readonly topic: string;
  readonly partition: number;
  /** Keep the commit point from passing records an open window still needs. */
  readonly holds: OffsetHolds;
  /**
   * The partition's event-time clock: the runtime observes each record's timestamp after the
   * pipeline has taken it, and closes the clock (watermark +∞) when a finite input ends.
   */
  readonly clock: WatermarkClock;
  /**
   * Where window operators send late records: counted (`tributary_late_records_total`), and
   * written to the sink named `late` when the processor has one, else to the dead-letter topic
   * with reason `late`.
   */
  readonly late: <T>(element: T, info: LateInfo) => void;
  /**
   * Makes live state of this partition answerable to interactive queries: `lookup(key)` is
   * called (synchronously, between records) when someone asks `app.query(processor, name, key)`
   * on any node; the answer says whether the partition was still replaying (stale).
   */
  readonly queryable: (name: string, lookup: (key: string) => unknown) => void;
  /**
   * Processing time for this partition's operators (`bufferTime(1_000, undefined, Infinity,
   * context.scheduler)`, `withTimestamp(() => context.scheduler.now())`): RxJS' `asyncScheduler`
   * in production, the simulated clock under `tributary/testing`, so tests move it explicitly.
   */
  readonly scheduler: SchedulerLike;
  readonly logger: Logger;
}
