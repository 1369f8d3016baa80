/**
 * The evidence that a store is not partitioned by its key: `key` sits in `partition` of `topic`,
 * but murmur2 over the topic's `partitionCount` partitions maps it to `mapsTo`, the partition a
 * query for it is routed to.
 */
export interface KeyMismatch {
  readonly store: string;
  readonly key: string;
  readonly topic: string;
  readonly partition: number;
  readonly mapsTo: number;
  readonly partitionCount: number;
}
