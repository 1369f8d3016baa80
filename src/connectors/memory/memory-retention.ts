import type { LogRecord, TopicPartition } from '../log.js';
import type { MemoryGroup } from './memory-group.js';
import type { MemoryTopic, TopicRegistry } from './memory-topic.js';

/**
 * What a MemoryLog keeps, so that memory stays bounded however long it runs:
 *
 * - **Consumed records** (`trimCommitted`, default on): a partition of a `delete` topic (the
 *   default policy: inputs, repartition topics, outputs) drops the records below the lowest
 *   offset committed by every consumer group that reads its topic, as Kafka Streams purges
 *   repartition topics with `deleteRecords`. A topic no group reads (an output, a dead-letter
 *   topic) keeps everything, unless its retention says otherwise; so does a partition on which a
 *   group that reads the topic has not committed yet. A group created later starts at the log
 *   start, as a Kafka consumer after retention.
 * - **Retention** by the topic's `retention.ms` (record timestamps against the log's clock) and
 *   `retention.bytes` (per partition: key, value and headers), as Kafka's, whoever has read the
 *   records; checked every 1,000 records appended to a partition.
 * - `compact` topics (changelogs) are not trimmed by commits: their records are the state. They
 *   are compacted on their client's word ({@link MemoryRetention.compact}): the runtime knows
 *   below which offset (a store's committed position) and by which rule (`state/changelog-compaction.ts`:
 *   a key's last record is not enough when a restore ignores some writers).
 */
export class MemoryRetention {
  private readonly appendedSinceCheck = new Map<string, number>();
  // Per compacted partition: the records kept below the bound by its last compaction.
  private readonly cleanBelow = new Map<string, number>();
  // Each topic's retention settings, read from its config once (a topic's config never changes).
  private readonly limits = new WeakMap<MemoryTopic, RetentionLimits>();

  constructor(
    private readonly topics: TopicRegistry,
    private readonly groups: ReadonlyMap<string, MemoryGroup>,
    private readonly options: { readonly trimCommitted: boolean; readonly clock: () => number },
  ) {}

  /** After a group committed `tp`: trims what every group reading the topic has committed. */
  committed(tp: TopicPartition): void {
    if (!this.options.trimCommitted) return;
    const topic = this.topics.get(tp.topic);
    if (topic === undefined || this.limitsOf(topic).compacted) return;
    let lowest = Infinity;
    for (const group of this.groups.values()) {
      if (!group.reads(tp.topic)) continue;
      lowest = Math.min(lowest, Math.max(0, group.committed(tp)));
    }
    if (lowest !== Infinity && lowest > 0) topic.partitions[tp.partition]?.trimBefore(lowest);
  }

  /**
   * Compacts a compacted topic's partition below `below` with `select` (see
   * `LogConnector.compact`), once at least half of what lies there is new since the last time
   * (Kafka's `min.cleanable.dirty.ratio` 0.5) and there are at least 1,000 records.
   */
  compact(tp: TopicPartition, below: number, select: (records: readonly LogRecord[]) => readonly LogRecord[]): void {
    const topic = this.topics.get(tp.topic);
    const partition = topic?.partitions[tp.partition];
    if (topic === undefined || partition === undefined || !this.limitsOf(topic).compacted) return;
    const id = `${tp.topic}\0${tp.partition}`;
    const clean = this.cleanBelow.get(id) ?? 0;
    const held = partition.countBelow(below);
    if (held < COMPACT_AT_LEAST || held < 2 * clean) return;
    this.cleanBelow.set(id, partition.replaceBelow(below, select));
  }

  /** After `count` records were appended to `tp`: applies the topic's retention now and then. */
  appended(topic: MemoryTopic, partition: number, count: number): void {
    const { retentionMs, retentionBytes } = this.limitsOf(topic);
    if (retentionMs === undefined && retentionBytes === undefined) return;
    const id = `${topic.name}\0${partition}`;
    const since = (this.appendedSinceCheck.get(id) ?? 0) + count;
    if (since < CHECK_EVERY) {
      this.appendedSinceCheck.set(id, since);
      return;
    }
    this.appendedSinceCheck.set(id, 0);
    const target = topic.partitions[partition];
    if (retentionMs !== undefined) target.trimOlderThan(this.options.clock() - retentionMs);
    if (retentionBytes !== undefined) target.trimToBytes(retentionBytes);
  }

  /** The retention settings of `topic`, parsed once (every send calls {@link appended}, every commit {@link committed}). */
  private limitsOf(topic: MemoryTopic): RetentionLimits {
    let limits = this.limits.get(topic);
    if (limits === undefined) {
      limits = { retentionMs: numberConfig(topic, 'retention.ms'), retentionBytes: numberConfig(topic, 'retention.bytes'), compacted: isCompacted(topic) };
      this.limits.set(topic, limits);
    }
    return limits;
  }
}

interface RetentionLimits {
  readonly retentionMs: number | undefined;
  readonly retentionBytes: number | undefined;
  readonly compacted: boolean;
}

const CHECK_EVERY = 1_000;
const COMPACT_AT_LEAST = 1_000;

function isCompacted(topic: MemoryTopic): boolean {
  return (topic.config['cleanup.policy'] ?? 'delete').split(',').some((p) => p.trim() === 'compact');
}

/** A non-negative numeric topic config, or undefined when absent or negative (Kafka's -1: unlimited). */
function numberConfig(topic: MemoryTopic, name: string): number | undefined {
  const raw = topic.config[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}
