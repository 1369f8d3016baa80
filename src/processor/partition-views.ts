import type { RestoreProgress } from '../state/partition-state.js';
import type { PartitionEntry } from './partition-entry.js';

/** One partition's status, as `status()` of a processor gives it. */
export interface PartitionStatus {
  readonly topic: string;
  readonly partition: number;
  readonly state: string;
  readonly committed: number;
  readonly pending: number;
  readonly restarts: number;
  /** While the partition's stores are restored: the store being read, records read so far, and its position of `until`. */
  readonly restoring?: RestoreProgress;
  /** Keys in each of its stores (window stores: window and key pairs). */
  readonly stores?: Readonly<Record<string, number>>;
}

/** One partition's live figures, for the web console. */
export interface PartitionGauges extends PartitionStatus {
  /** The next offset the pipeline takes; undefined while no actor runs. */
  readonly position: number | undefined;
  /** The partition's watermark (event time, ms); undefined while no actor runs. */
  readonly watermark: number | undefined;
}

/** The answer to an interactive query on one node. */
export interface QueryAnswer {
  /** Whether the key's partition is assigned to this node. */
  readonly owned: boolean;
  readonly partition: number | undefined;
  /** Whether the key was found in the named store (or `ctx.queryable` state). */
  readonly found: boolean;
  readonly value: unknown;
  /** The partition is still replaying: the value may lag behind its last run. */
  readonly stale: boolean;
}

export function partitionStatus(e: PartitionEntry): PartitionStatus {
  return {
    topic: e.topicPartition.topic,
    partition: e.topicPartition.partition,
    state: e.state,
    committed: e.lastCommitted,
    pending: e.pipeline?.tracker.pending ?? 0,
    restarts: e.restarts,
    ...(e.restoring ? { restoring: e.restoring } : {}),
    ...(e.pipeline?.hasStores ? { stores: e.pipeline.storeSizes() } : {}),
  };
}

export function partitionGauges(e: PartitionEntry): PartitionGauges {
  return { ...partitionStatus(e), position: e.pipeline?.tracker.nextOffset, watermark: e.pipeline?.clock.current };
}
