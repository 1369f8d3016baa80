import type { Logger } from 'pino';
import type { GroupConsumer, PartitionBatch, TopicPartition } from '../connectors/log.js';
import type { BackoffOptions } from '../supervision/backoff.js';
import { Supervisor } from '../supervision/supervisor.js';
import type { ResolvedProcessor } from './define-processor.js';
import type { PartitionEventBody } from './lifecycle-event.js';
import { startPartitionChild, type PartitionChildContext } from './partition-child.js';
import { keyOf, newPartitionEntry, type PartitionEntry } from './partition-entry.js';

/** What a processor's {@link AssignedPartitions} are given by its runtime. */
export interface AssignedPartitionsOptions {
  readonly processor: ResolvedProcessor;
  readonly logger: Logger;
  readonly restartBackoff?: BackoffOptions;
  /** Restart intensity of the processor's supervisor. Default: 20 restarts within 60,000 ms. */
  readonly intensity?: number;
  readonly periodMs?: number;
  /** How long draining a partition may take on revoke or stop. Default 30,000 ms. */
  readonly drainTimeoutMs?: number;
  /** The processor's group member now (it is one while partitions are assigned). */
  readonly consumer: () => GroupConsumer | undefined;
  /** What each partition's actor is given (see {@link startPartitionChild}). */
  readonly childContext: PartitionChildContext;
  readonly emitPartition: (tp: TopicPartition, event: PartitionEventBody) => void;
}

/**
 * The partitions of one processor assigned to this node (Kafka Streams' `TaskManager`): each has
 * an entry, what outlives its actors, and an actor under the processor's supervisor (transient:
 * restarted after a failure, with backoff). An assigned partition starts where its group
 * committed; a revoked one is retired (drained, committed, stopped, forgotten); a fetched batch
 * goes to its partition's pipeline, or nowhere while the partition is starting or restarting.
 *
 * @example
 * const assigned = new AssignedPartitions({ processor, logger, consumer: () => member, childContext, emitPartition });
 * await assigned.onAssigned([{ topic: 'clicks', partition: 0 }]);
 * assigned.onBatch(batch); // into clicks-0's pipeline
 */
export class AssignedPartitions {
  /** The entries by `topic:partition`. */
  readonly partitions = new Map<string, PartitionEntry>();
  private readonly childEntries = new Map<string, PartitionEntry>();
  /** Supervises this processor's partition actors (one-for-one); a child of the node supervisor. */
  readonly supervisor: Supervisor;

  constructor(private readonly options: AssignedPartitionsOptions) {
    this.supervisor = new Supervisor({
      name: `processor:${options.processor.id}`,
      flags: {
        strategy: options.processor.restartStrategy,
        intensity: options.intensity ?? 20,
        periodMs: options.periodMs ?? 60_000,
        backoff: options.restartBackoff,
      },
      logger: options.logger,
      onEscalation: 'stay-down',
    });
    this.supervisor.events.subscribe((event) => {
      if (event.type !== 'supervisor.child-restarting') return;
      const entry = this.childEntries.get(event.child);
      if (entry) options.emitPartition(entry.topicPartition, { type: 'partition.restarting', delayMs: event.delayMs, attempt: event.attempt });
    });
  }

  async onAssigned(tps: readonly TopicPartition[]): Promise<void> {
    const committed = await this.options.consumer()!.committed(tps);
    for (const tp of tps) {
      if (this.partitions.has(keyOf(tp))) continue;
      const entry = newPartitionEntry(tp, committed.find((c) => c.topic === tp.topic && c.partition === tp.partition));
      this.partitions.set(entry.key, entry);
      this.childEntries.set(entry.childId, entry);
      await this.supervisor.startChild({
        id: entry.childId,
        restart: 'transient',
        shutdownTimeoutMs: this.options.drainTimeoutMs ?? 30_000,
        start: () => startPartitionChild(entry, this.options.childContext, this.options.logger),
      });
    }
  }

  async onRevoked(tps: readonly TopicPartition[]): Promise<void> {
    for (const tp of tps) {
      const entry = this.partitions.get(keyOf(tp));
      if (entry) await this.retire(entry);
    }
  }

  onBatch(batch: PartitionBatch): void {
    const entry = this.partitions.get(keyOf(batch));
    if (!entry || !entry.accepting || !entry.pipeline) return; // refetched after the restart's seek
    entry.pipeline.deliver(batch);
  }

  /** Retires every partition left (the group member left, or the processor stops). */
  async retireAll(): Promise<void> {
    for (const entry of [...this.partitions.values()]) await this.retire(entry);
  }

  /** Drains and stops a partition's actor (its supervisor terminates it), commits, forgets the partition. */
  private async retire(entry: PartitionEntry): Promise<void> {
    entry.revoked = true;
    entry.accepting = false;
    await this.supervisor.terminateChild(entry.childId);
    this.partitions.delete(entry.key);
    this.childEntries.delete(entry.childId);
  }
}
