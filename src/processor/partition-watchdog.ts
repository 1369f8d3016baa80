import type { Logger } from 'pino';
import type { TopicPartition } from '../connectors/log.js';
import type { PartitionPipeline } from '../actors/partition-pipeline.js';
import type { TributaryMetrics } from '../observability/metrics.js';
import type { SupervisorClock } from '../supervision/clock.js';
import { PartitionStalledError } from '../supervision/errors.js';
import { StallDetector } from '../supervision/stall-detector.js';
import type { PartitionEventBody } from './lifecycle-event.js';
import type { PartitionEntry } from './partition-entry.js';

/** Options of a {@link PartitionWatchdog}. */
export interface PartitionWatchdogOptions {
  /** Pending work without progress for this long is a stall. `Infinity`: no watchdog. */
  readonly stallTimeoutMs: number;
  readonly clock: SupervisorClock;
  /** The partitions to watch now. */
  readonly entries: () => Iterable<PartitionEntry>;
  /** A running partition stalled: report it and fail its actor. */
  readonly onStall: (entry: PartitionEntry, pipeline: PartitionPipeline, error: PartitionStalledError) => void;
}

/**
 * The liveness watchdog of one processor's partitions: every `stallTimeoutMs / 4` (at most 1 s)
 * it samples each running partition's progress (records pending, first incomplete offset,
 * committed offset) into a {@link StallDetector}; a partition whose pending work made no
 * progress for `stallTimeoutMs` is reported as stalled. A stall is therefore noticed between
 * `stallTimeoutMs` and `stallTimeoutMs` + 2 check intervals after the last progress. Costs
 * nothing per record: a few reads per partition per check.
 *
 * @example
 * const watchdog = new PartitionWatchdog({ stallTimeoutMs: 60_000, clock, entries: () => partitions.values(), onStall });
 * watchdog.start();
 */
export class PartitionWatchdog {
  private readonly detectors = new WeakMap<PartitionPipeline, StallDetector>();
  private timer: unknown;
  private stopped = false;
  readonly intervalMs: number;

  constructor(private readonly options: PartitionWatchdogOptions) {
    new StallDetector(options.stallTimeoutMs); // validates
    this.intervalMs = Math.max(1, Math.min(1_000, options.stallTimeoutMs / 4));
  }

  start(): void {
    if (!Number.isFinite(this.options.stallTimeoutMs) || this.stopped) return;
    const handle = this.options.clock.setTimeout(() => {
      this.check();
      this.start();
    }, this.intervalMs);
    (handle as { unref?: () => void } | undefined)?.unref?.();
    this.timer = handle;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Samples every running partition once. */
  check(): void {
    const now = this.options.clock.now();
    for (const entry of this.options.entries()) {
      const pipeline = entry.pipeline;
      if (!pipeline || pipeline.hasFailed || !entry.state.startsWith('running')) continue;
      let detector = this.detectors.get(pipeline);
      if (!detector) {
        // A new pipeline (a start or a restart): its work is judged from now on.
        detector = new StallDetector(this.options.stallTimeoutMs);
        this.detectors.set(pipeline, detector);
      }
      const { tracker } = pipeline;
      const sample = { pending: tracker.pending, firstIncomplete: tracker.firstIncomplete(), committed: entry.lastCommitted, lowestHold: tracker.lowestHold() };
      const verdict = detector.observe(sample, now);
      if (!verdict.stalled) continue;
      const { topic, partition } = entry.topicPartition;
      this.options.onStall(
        entry,
        pipeline,
        new PartitionStalledError(topic, partition, sample.pending, sample.firstIncomplete, sample.committed, verdict.stuckForMs, pipeline.waitingOn, sample.lowestHold),
      );
    }
  }
}

/**
 * What a processor does with a partition its watchdog found stalled: says what it waits on (an
 * error log), counts it (`entry.stalls`, `tributary_partition_stalls_total`), emits
 * `partition.stalled`, and fails its actor, which its supervisor restarts.
 */
export function failStalledPartition(
  entry: PartitionEntry,
  pipeline: PartitionPipeline,
  error: PartitionStalledError,
  context: { readonly processorId: string; readonly logger: Logger; readonly metrics: TributaryMetrics; readonly emitPartition: (tp: TopicPartition, event: PartitionEventBody) => void },
): void {
  const { topic, partition } = entry.topicPartition;
  entry.stalls++;
  context.logger.error(
    { topic, partition, pending: error.pending, firstIncomplete: error.firstIncomplete, committed: error.committed, stuckForMs: error.stuckForMs, waitingOn: error.waitingOn, heldOffset: error.heldOffset },
    'partition stalled: pending work without progress; failing it for its supervisor to restart',
  );
  context.metrics.stalls.inc({ processor: context.processorId, topic, partition: String(partition) });
  context.emitPartition(entry.topicPartition, {
    type: 'partition.stalled',
    pending: error.pending,
    firstIncomplete: error.firstIncomplete,
    committed: error.committed,
    stuckForMs: error.stuckForMs,
    waitingOn: error.waitingOn,
    ...(error.heldOffset === undefined ? {} : { heldOffset: error.heldOffset }),
  });
  pipeline.failFromOutside(error);
}
