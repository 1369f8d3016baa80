import type { Logger } from 'pino';
import type { KeyMismatch } from '../actors/key-mismatch.js';
import type { TributaryMetrics } from '../observability/metrics.js';
import type { PartitionEntry } from './partition-entry.js';
import { UnpartitionedStoreError } from './unpartitioned-store-error.js';

/**
 * A processor's stores whose queries are refused on this node: those found not partitioned by
 * their key, each with its first evidence (a key in a partition it does not map to; see
 * `actors/store-key-partitioning.ts`), and those declared `partitioning: 'per-partition'`.
 * Evidence is processor-wide: one partition's is enough, since the partition a query is routed
 * to may hold the key legitimately and still miss the rest of its state (a key `() => 'top'`).
 * Kept for the runtime's life, across partition restarts. Each store with evidence is logged once
 * (a warning, or at info for a store declared per partition: expected) and counted in
 * `tributary_state_store_unpartitioned`. The pipeline never fails here: a store `'by-key'`
 * written under a key of another partition fails its pipeline where it is written
 * (`KeyedUnlikeInputError`); evidence found otherwise (at a checkpoint, in a store declared per
 * partition, or a store keyed by the input's own keys whose producer does not partition by
 * murmur2) only refuses queries.
 */
export class UnpartitionedStores {
  private readonly found = new Map<string, KeyMismatch>();

  constructor(
    private readonly processor: string,
    private readonly metrics: TributaryMetrics,
    private readonly logger: Logger,
  ) {}

  /** A partition's store was found holding a key that maps elsewhere. */
  record(mismatch: KeyMismatch, perPartition = false): void {
    if (this.found.has(mismatch.store)) return;
    this.found.set(mismatch.store, mismatch);
    this.metrics.storeUnpartitioned.set({ processor: this.processor, store: mismatch.store }, 1);
    const message = new UnpartitionedStoreError(this.processor, { store: mismatch.store, perPartition, mismatch }).message;
    if (perPartition) this.logger.info({ ...mismatch }, message);
    else this.logger.warn({ ...mismatch }, message);
  }

  /**
   * Before a query of store `name`: checks a few more of its keys in each local partition, and
   * throws an {@link UnpartitionedStoreError} when it is known not to be partitioned by its key,
   * or a local partition declared it `partitioning: 'per-partition'`.
   */
  assertPartitioned(partitions: ReadonlyMap<string, PartitionEntry>, name: string): void {
    let perPartition = false;
    for (const entry of partitions.values()) {
      const pipeline = entry.pipeline;
      if (!pipeline) continue;
      const declared = pipeline.isPerPartition(name);
      perPartition ||= declared;
      const mismatch = pipeline.keyMismatch(name);
      if (mismatch) this.record(mismatch, declared);
    }
    const mismatch = this.found.get(name);
    if (mismatch || perPartition) throw new UnpartitionedStoreError(this.processor, { store: name, perPartition, mismatch });
  }
}
