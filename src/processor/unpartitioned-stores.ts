import type { Logger } from 'pino';
import type { KeyMismatch } from '../actors/store-key-partitioning.js';
import type { TributaryMetrics } from '../observability/metrics.js';
import type { PartitionEntry } from './partition-entry.js';
import { UnpartitionedStoreError } from './unpartitioned-store-error.js';

/**
 * A processor's stores found not partitioned by their key on this node, each with its first
 * evidence (a key in a partition it does not map to; see `actors/store-key-partitioning.ts`).
 * Processor-wide: one partition's evidence is enough, since the partition a query is routed to
 * may hold the key legitimately and still miss the rest of its state (a key `() => 'top'`).
 * Kept for the runtime's life, across partition restarts. Each store is warned about once and
 * counted in `tributary_state_store_unpartitioned`; the pipeline never fails for it (a store keyed
 * per partition on purpose is right for its pipeline, only queries of it are not).
 */
export class UnpartitionedStores {
  private readonly found = new Map<string, KeyMismatch>();

  constructor(
    private readonly processor: string,
    private readonly metrics: TributaryMetrics,
    private readonly logger: Logger,
  ) {}

  /** A partition's store was found holding a key that maps elsewhere. */
  record(mismatch: KeyMismatch): void {
    if (this.found.has(mismatch.store)) return;
    this.found.set(mismatch.store, mismatch);
    this.metrics.storeUnpartitioned.set({ processor: this.processor, store: mismatch.store }, 1);
    this.logger.warn({ ...mismatch }, new UnpartitionedStoreError(this.processor, mismatch).message);
  }

  /**
   * Before a query of store `name`: checks a few more of its keys in each local partition, and
   * throws an {@link UnpartitionedStoreError} when it is known not to be partitioned by its key.
   */
  assertPartitioned(partitions: ReadonlyMap<string, PartitionEntry>, name: string): void {
    for (const entry of partitions.values()) {
      const mismatch = entry.pipeline?.keyMismatch(name);
      if (mismatch) this.record(mismatch);
    }
    const mismatch = this.found.get(name);
    if (mismatch) throw new UnpartitionedStoreError(this.processor, mismatch);
  }
}
