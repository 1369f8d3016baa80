import type { TributaryMetrics } from '../observability/metrics.js';

/** What a partition's {@link Backpressure} watches and whom it tells. */
export interface BackpressureOptions {
  /** Pause at this many records pending (taken, results not yet acknowledged). */
  readonly highWater: number;
  /** Resume at this many or fewer. */
  readonly lowWater: number;
  /** The records pending now (the partition's offset tracker). */
  readonly pending: () => number;
  /** Whether the pipeline has failed (a deferred check then does nothing). */
  readonly hasFailed: () => boolean;
  readonly metrics: TributaryMetrics;
  readonly labels: { readonly processor: string; readonly topic: string; readonly partition: string };
  /** Fetch should pause (`true`) or resume (`false`). */
  readonly onBackpressure: (paused: boolean) => void;
}

/**
 * A partition's bounded buffer: at `highWater` records pending (taken, their results not yet
 * acknowledged) its fetch pauses, at `lowWater` or fewer it resumes, so memory stays bounded
 * whatever the input rate. Judged when a turn settles, and after a turn's writes are issued
 * ({@link afterWrites}). Each pause is counted (`tributary_partition_pauses_total`).
 *
 * @example
 * const backpressure = new Backpressure({ highWater: 10_000, lowWater: 5_000, pending: () => tracker.pending, hasFailed, metrics, labels, onBackpressure });
 * backpressure.check(); // after a turn settled
 */
export class Backpressure {
  private paused = false;
  private checkScheduled = false;

  constructor(private readonly options: BackpressureOptions) {}

  /**
   * A turn of `records` records was just written. Records of earlier turns still unacknowledged
   * mean the sinks are behind: pause now. The turn just written is judged once its writes have
   * had a chance to be acknowledged: a sink that acks at once must not make every large batch
   * pause and resume the fetch.
   */
  afterWrites(records: number): void {
    if (this.options.pending() - records >= this.options.highWater) this.check();
    if (!this.checkScheduled) {
      this.checkScheduled = true;
      setImmediate(() => {
        this.checkScheduled = false;
        if (!this.options.hasFailed()) this.check();
      });
    }
  }

  /** Pauses above the high-water mark, resumes at or below the low-water mark. */
  check(): void {
    const pending = this.options.pending();
    if (!this.paused && pending >= this.options.highWater) {
      this.paused = true;
      this.options.metrics.pauses.inc(this.options.labels);
      this.options.onBackpressure(true);
    } else if (this.paused && pending <= this.options.lowWater) {
      this.paused = false;
      this.options.onBackpressure(false);
    }
  }
}
