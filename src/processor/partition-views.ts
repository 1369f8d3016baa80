import { partitionForKey } from '../connectors/partitioner.js';
import type { RestoreProgress } from '../state/partition-state.js';
import { TributaryError } from '../errors.js';
import { NoSuchStoreError } from './no-such-store-error.js';
import { keyOf, type PartitionEntry } from './partition-entry.js';
import type { PartitionScans, ResolvedScan } from './store-scan.js';

/** One partition's status, as `status()` of a processor gives it. */
export interface PartitionStatus {
  readonly topic: string;
  readonly partition: number;
  readonly state: string;
  readonly committed: number;
  readonly pending: number;
  readonly restarts: number;
  /** Times the watchdog found it stalled (and failed it, for its supervisor to restart). */
  readonly stalls: number;
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
  /** The input topic whose partition holds the store (see {@link answerQuery}). */
  readonly topic: string;
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
    stalls: e.stalls,
    ...(e.restoring ? { restoring: e.restoring } : {}),
    ...(e.pipeline?.hasStores ? { stores: e.pipeline.storeSizes() } : {}),
  };
}

export function partitionGauges(e: PartitionEntry): PartitionGauges {
  return { ...partitionStatus(e), position: e.pipeline?.tracker.nextOffset, watermark: e.pipeline?.clock.current };
}

/**
 * The answer to an interactive query for `key` from the partition of this node that holds it:
 * the partition `key` maps to (murmur2, as the topic is partitioned) of the input topic whose
 * pipelines have the store `name` (a processor reading several topics may build a different
 * pipeline for each: the nexmark source stage keeps person ids only in the persons partitions'),
 * as far as this node's partitions tell, else the first topic; `owned: false` when that
 * partition is not assigned here, or its count unknown. A partition whose pipeline has no store
 * of that name is an error naming the ones it has, never a confident "not found".
 */
export function answerQuery(
  processor: string,
  partitions: ReadonlyMap<string, PartitionEntry>,
  topics: readonly string[],
  counts: ReadonlyMap<string, number>,
  name: string,
  key: string,
): QueryAnswer {
  const topic = topicOfStore(partitions, topics, name);
  const count = counts.get(topic);
  if (count === undefined) return { owned: false, topic, partition: undefined, found: false, value: undefined, stale: false };
  const partition = partitionForKey(key, count);
  const entry = partitions.get(keyOf({ topic, partition }));
  if (!entry?.pipeline) return { owned: false, topic, partition, found: false, value: undefined, stale: false };
  if (!entry.pipeline.hasStore(name)) throw new NoSuchStoreError(processor, { store: name, topic, partition, known: entry.pipeline.storeNames() });
  return { owned: true, topic, partition, ...entry.pipeline.query(name, key) };
}

/** The first of `topics` with a partition here whose pipeline has the store `name`, else the first topic. */
function topicOfStore(partitions: ReadonlyMap<string, PartitionEntry>, topics: readonly string[], name: string): string {
  if (topics.length > 1) {
    for (const topic of topics) {
      for (const entry of partitions.values()) if (entry.topicPartition.topic === topic && entry.pipeline?.hasStore(name)) return topic;
    }
  }
  return topics[0];
}

/**
 * Scans the store `name` in every partition this node runs (see `store-scan.ts`), with the
 * source topics' partition counts as this node knows them, so that the merge can tell which
 * partitions nobody answered for. A store the pipeline does not declare is an error naming the
 * ones it does.
 */
export function scanPartitions(
  partitions: ReadonlyMap<string, PartitionEntry>,
  processor: { readonly id: string; readonly topics: readonly string[] },
  counts: ReadonlyMap<string, number>,
  name: string,
  scan: ResolvedScan,
): PartitionScans {
  const scanned: PartitionScans['partitions'][number][] = [];
  for (const entry of partitions.values()) {
    if (!entry.pipeline) continue;
    const { rows, stale } = entry.pipeline.scan(name, scan);
    if (rows === undefined) {
      const known = [...entry.pipeline.state.stores.keys()];
      throw new TributaryError(`processor '${processor.id}' has no store '${name}'${known.length > 0 ? ` (its stores: ${known.join(', ')})` : ' (it has no stores)'}`);
    }
    scanned.push({ ...entry.topicPartition, stale, rows });
  }
  const partitionCounts: Record<string, number> = {};
  for (const topic of processor.topics) {
    const count = counts.get(topic);
    if (count !== undefined) partitionCounts[topic] = count;
  }
  return { partitions: scanned, partitionCounts };
}
