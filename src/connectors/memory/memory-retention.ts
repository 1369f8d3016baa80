import type { TopicPartition } from '../log.js';
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
 * - `compact` topics (changelogs) are not trimmed by commits: their records are the state. (A
 *   compaction that keeps a key's last record only must not cross the position a restore reads
 *   to, which the log does not know: not done; a changelog holds one record per changed key per
 *   commit interval.)
 */
export class MemoryRetention {
  private readonly appendedSinceCheck = new Map<string, number>();

  constructor(
    private readonly topics: TopicRegistry,
    private readonly groups: ReadonlyMap<string, MemoryGroup>,
    private readonly options: { readonly trimCommitted: boolean; readonly clock: () => number },
  ) {}

  /** After a group committed `tp`: trims what every group reading the topic has committed. */
  committed(tp: TopicPartition): void {
    if (!this.options.trimCommitted) return;
    const topic = this.topics.get(tp.topic);
    if (topic === undefined || isCompacted(topic)) return;
    let lowest = Infinity;
    for (const group of this.groups.values()) {
      if (!group.reads(tp.topic)) continue;
      lowest = Math.min(lowest, Math.max(0, group.committed(tp)));
    }
    if (lowest !== Infinity && lowest > 0) topic.partitions[tp.partition]?.trimBefore(lowest);
  }

  /** After `count` records were appended to `tp`: applies the topic's retention now and then. */
  appended(topic: MemoryTopic, partition: number, count: number): void {
    const retentionMs = numberConfig(topic, 'retention.ms');
    const retentionBytes = numberConfig(topic, 'retention.bytes');
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
}

const CHECK_EVERY = 1_000;

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
