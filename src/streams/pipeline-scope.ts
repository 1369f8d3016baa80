import type { StoreProvider } from '../state/store-provider.js';
import type { LateInfo } from './late-output.js';
import type { OffsetHolds } from './offset-holds.js';
import type { WatermarkClock } from './watermark-clock.js';

/**
 * What the partition a pipeline runs for gives the operators in it: its event-time clock, its
 * late output, its offset holds and its stores. The runtime sets it while it builds and
 * subscribes a partition's pipeline, so that `tumbling({ size, aggregate })` or
 * `countByKey()` find all of it without being handed it (as Angular's `inject()` finds what
 * the component being built needs). Operators used in plain RxJS find none and fall back to
 * a private clock, unlogged stores and an error for late records; tests can set one with
 * {@link withPipelineScope}.
 *
 * @example
 * const counts = withPipelineScope(scope, () => records$.pipe(countByKey({ store: 'counts' })));
 */
export interface PipelineScope {
  readonly clock: WatermarkClock;
  readonly holds: OffsetHolds;
  readonly late: (element: unknown, info: LateInfo) => void;
  readonly stores: StoreProvider;
  /**
   * Calls `listener` at every checkpoint (commit interval), just before the stores' changes are
   * taken: operators that emit once per interval (`emit: 'on-commit'`) emit there. Returns the
   * unsubscribe.
   */
  onCheckpoint(listener: () => void): () => void;
  /** A name for a store its operator was not given one for: `<operator>-<n>`, in declaration order. */
  storeName(operator: string): string;
  /**
   * Downstream of a repartition, while a record is in the pipeline: the watermark of the
   * upstream partition that wrote it, which decides whether it is late (undefined otherwise: the
   * operator's own watermark decides). See docs/runtime.md, "Lateness behind a repartition".
   */
  readonly lateBound?: () => number | undefined;
  /**
   * While an input record is pushed through the pipeline: its event time and offset (undefined
   * otherwise). What an operator takes for the time and offset of an element derived from it
   * (`map((r) => r.value)`) that has none of its own, as Kafka Streams' record context carries
   * the input record's timestamp and offset through `mapValues`.
   */
  readonly currentRecord?: () => CurrentRecord | undefined;
}

/** The input record in the pipeline (see {@link PipelineScope.currentRecord}). */
export interface CurrentRecord {
  readonly timestamp: number;
  readonly offset: number;
}

let current: PipelineScope | undefined;

/** The scope of the pipeline being built or subscribed right now, if any. */
export function currentPipelineScope(): PipelineScope | undefined {
  return current;
}

/**
 * Runs `build` with `scope` as the current pipeline scope (restoring the previous one after),
 * and returns what it returns.
 */
export function withPipelineScope<T>(scope: PipelineScope, build: () => T): T {
  const previous = current;
  current = scope;
  try {
    return build();
  } finally {
    current = previous;
  }
}
