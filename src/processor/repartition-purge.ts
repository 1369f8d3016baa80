import type { Logger } from 'pino';
import type { GroupConsumer, LogAdmin, LogConnector, PartitionOffset } from '../connectors/log.js';
import type { TributaryMetrics } from '../observability/metrics.js';
import type { SupervisorClock } from '../supervision/clock.js';
import type { ResolvedProcessor } from './define-processor.js';
import { keyOf, type PartitionEntry } from './partition-entry.js';

/** What a processor's {@link RepartitionPurge} needs from the runtime around it. */
export interface RepartitionPurgeOptions {
  readonly processor: ResolvedProcessor;
  readonly log: LogConnector;
  readonly metrics: TributaryMetrics;
  readonly logger: Logger;
  readonly clock: SupervisorClock;
  /** The partitions assigned to this node now. */
  readonly partitions: ReadonlyMap<string, PartitionEntry>;
  /** The processor's group member now (undefined while out of the group: nothing is purged). */
  readonly consumer: () => GroupConsumer | undefined;
}

/**
 * A repartition stage's purge of its repartition topic (Kafka Streams'
 * `TaskManager.maybePurgeCommittedRecords`): after a commit, at most every
 * `repartitionPurgeIntervalMs` (default 30 s), the records of each partition this node owns below
 * the offset committed for it are deleted (`LogAdmin.deleteRecords`). The topic has no time
 * retention (`retention.ms=-1`), so without this it grows forever.
 *
 * Only a stage's own repartition topic, never a user topic or a changelog: the stage's next
 * owner, a restart and a replay all start at the committed offset, so nothing below it is ever
 * read again. The offset deleted below is the lower of what this node last committed and what
 * the group holds now (one `OffsetFetch` a purge): a commit kafkajs dropped for a partition
 * revoked meanwhile (kafkajs#1046) counts as committed for the runtime, not for the group. With
 * exactly-once the runtime records a commit only once its transaction committed, and the
 * group's offsets of an open transaction are not returned. A purge that fails is logged and
 * counted (`tributary_repartition_purge_failures_total`), and the next commit's purge tries
 * again; it never fails a partition. A commit within the interval of the last purge schedules
 * the next one at its end, so an idle stage still ends purged up to its last commit.
 *
 * @example
 * const purge = new RepartitionPurge({ processor, log, metrics, logger, clock, partitions, consumer: () => member });
 * purge.committed(); // after each commit
 * await purge.stop();
 */
export class RepartitionPurge {
  private readonly topics: ReadonlySet<string>;
  private lastAt = -Infinity;
  private pending = false;
  private timer: unknown;
  private running: Promise<void> | undefined;
  private admin: LogAdmin | undefined;
  private stopped = false;
  // Per partition (`topic:partition`): the offset it was last purged below.
  private readonly purgedTo = new Map<string, number>();

  constructor(private readonly options: RepartitionPurgeOptions) {
    this.topics = ownRepartitionTopics(options.processor);
  }

  /** A commit of this processor's partitions succeeded: purge now, or at the end of the interval. */
  committed(): void {
    if (this.topics.size === 0 || this.options.processor.repartitionPurgeIntervalMs === Infinity) return;
    this.pending = true;
    this.next();
  }

  /** No more purges; waits for the one in progress and closes the admin client. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await this.admin?.close();
    this.admin = undefined;
  }

  private next(): void {
    if (!this.pending || this.stopped || this.running || this.timer !== undefined) return;
    const wait = this.lastAt + this.options.processor.repartitionPurgeIntervalMs - this.options.clock.now();
    if (wait > 0) {
      const handle = this.options.clock.setTimeout(() => {
        this.timer = undefined;
        this.next();
      }, wait);
      (handle as { unref?: () => void } | undefined)?.unref?.();
      this.timer = handle;
      return;
    }
    this.pending = false;
    this.lastAt = this.options.clock.now();
    this.running = this.purge().finally(() => {
      this.running = undefined;
      this.next();
    });
  }

  private async purge(): Promise<void> {
    // The commit that called `committed()` records its other partitions in the same loop: after it.
    await Promise.resolve();
    const consumer = this.options.consumer();
    if (!consumer) return;
    const owned = new Set(consumer.assignment().map(keyOf));
    const due = [...this.options.partitions.values()].filter(
      (e) => this.topics.has(e.topicPartition.topic) && !e.revoked && owned.has(e.key) && e.lastCommitted > (this.purgedTo.get(e.key) ?? 0),
    );
    if (due.length === 0) return;
    let inGroup: PartitionOffset[];
    try {
      inGroup = await consumer.committed(due.map((e) => e.topicPartition));
    } catch (err) {
      for (const topic of new Set(due.map((e) => e.topicPartition.topic))) this.failed(topic, err);
      return;
    }
    const byTopic = new Map<string, { partition: number; offset: number }[]>();
    for (const entry of due) {
      const { topic, partition } = entry.topicPartition;
      const group = inGroup.find((o) => o.topic === topic && o.partition === partition)?.offset ?? -1;
      const below = Math.min(entry.lastCommitted, group);
      if (below <= (this.purgedTo.get(entry.key) ?? 0)) continue;
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), { partition, offset: below }]);
    }
    for (const [topic, offsets] of byTopic) {
      try {
        this.admin ??= this.options.log.admin();
        await this.admin.deleteRecords(topic, offsets);
        for (const { partition, offset } of offsets) this.purgedTo.set(keyOf({ topic, partition }), offset);
        this.options.logger.debug({ topic, offsets }, 'purged the repartition topic below its committed offsets');
      } catch (err) {
        this.failed(topic, err);
      }
    }
  }

  private failed(topic: string, err: unknown): void {
    this.options.metrics.repartitionPurgeFailures.inc({ processor: this.options.processor.id, topic });
    this.options.logger.warn({ err, topic }, 'purging the repartition topic below its committed offsets failed; the next commit tries again');
  }
}

/**
 * The repartition topic a processor reads, if it is a repartition stage: `repartition` creates a
 * stage `<processor>-<name>` (with `upstream` set) reading `<processor>-<name>-repartition`
 * (`repartitionTopic`), i.e. `<stage id>-repartition`. Any other topic is never purged.
 */
function ownRepartitionTopics(processor: ResolvedProcessor): ReadonlySet<string> {
  if (processor.upstreamTopics === undefined) return new Set();
  return new Set(processor.topics.filter((topic) => topic === `${processor.id}-repartition`));
}
