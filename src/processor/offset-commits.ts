import type { Logger } from 'pino';
import type { GroupConsumer, PartitionOffset } from '../connectors/log.js';
import type { PartitionPipeline } from '../actors/partition-pipeline.js';
import type { ResumePoint } from '../actors/resume-point.js';
import type { TributaryMetrics } from '../observability/metrics.js';
import { SourceTableState } from '../state/source-table-state.js';
import type { SupervisorClock } from '../supervision/clock.js';
import type { ResolvedProcessor } from './define-processor.js';
import { movedSinceCommit, offsetToCommit, recordCommitted, type PartitionEntry } from './partition-entry.js';
import type { PartitionTransaction } from './partition-transaction.js';

/** Exactly-once: how many more checkpoints a commit takes while the partition keeps changing outside any record during each, before it is put off. */
const MAX_CHECKPOINTS_AGAIN = 3;

/** What a processor's {@link OffsetCommits} needs from the runtime around it. */
export interface OffsetCommitsOptions {
  readonly processor: ResolvedProcessor;
  readonly metrics: TributaryMetrics;
  readonly logger: Logger;
  readonly clock: SupervisorClock;
  /** The partitions assigned to this node now. */
  readonly partitions: ReadonlyMap<string, PartitionEntry>;
  /** The processor's group member now (undefined while out of the group: nothing is committed). */
  readonly consumer: () => GroupConsumer | undefined;
  /** Told after a partition's resume point is committed (its changelogs may be compacted, its repartition topic purged). */
  readonly committed?: (entry: PartitionEntry, point: ResumePoint) => void;
  /**
   * With `guarantee: 'exactly-once'`: each partition's transactions. A commit is then the
   * partition's transaction committed with its resume point ({@link commitInTransaction}), not a
   * group commit.
   */
  readonly transactions?: (entry: PartitionEntry, pipeline: PartitionPipeline) => { readonly txn: PartitionTransaction; readonly session: number };
}

/**
 * When and what one processor commits. Every `commitIntervalMs` (and on rebalance) every
 * partition's stores are checkpointed first, then the resume points that moved go in one commit
 * ({@link commitNow}); a partition's own commit ({@link commitEntry}) on revoke, stop and failure
 * waits for the one in progress; a new owner's {@link claim} commits its resume point strictly.
 * What a commit records for a partition, and when it is worth one, is `partition-entry.ts`'s.
 *
 * @example
 * const commits = new OffsetCommits({ processor, metrics, logger, clock, partitions, consumer: () => member });
 * commits.schedule(); // every commitIntervalMs until stop()
 */
export class OffsetCommits {
  private committing: Promise<void> = Promise.resolve();
  private commitTimer: unknown;
  private stopping = false;

  constructor(private readonly options: OffsetCommitsOptions) {}

  /** Resolves once the commit in progress, if any, is done (it never rejects). */
  get settled(): Promise<void> {
    return this.committing;
  }

  /** The next periodic commit, `commitIntervalMs` from now (on the system clock, a timer that never keeps the process alive). */
  schedule(): void {
    if (this.stopping) return;
    const handle = this.options.clock.setTimeout(() => {
      void this.commitNow();
      this.schedule();
    }, this.options.processor.commitIntervalMs);
    (handle as { unref?: () => void } | undefined)?.unref?.();
    this.commitTimer = handle;
  }

  /** No more periodic commits (a commit in progress goes on: see {@link settled}). */
  stop(): void {
    this.stopping = true;
    if (this.commitTimer !== undefined) this.options.clock.clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
  }

  /** Commits every partition's safe offset that moved since the last commit. */
  commitNow(): Promise<void> {
    this.committing = this.committing.then(() => this.commitOnce()).catch((err: unknown) => {
      this.options.logger.warn({ err }, 'offset commit failed; will retry at the next interval');
    });
    return this.committing;
  }

  private async commitOnce(): Promise<void> {
    if (this.options.transactions) {
      const entries = [...this.options.partitions.values()].flatMap((entry) => (entry.pipeline ? [[entry, entry.pipeline] as const] : []));
      const results = await Promise.allSettled(entries.map(([entry, pipeline]) => this.commitInTransaction(entry, pipeline)));
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      return;
    }
    // Stores first: their changes up to now are written, so the offsets below can pass them.
    await Promise.all([...this.options.partitions.values()].flatMap((entry) => (entry.pipeline ? [entry.pipeline.checkpoint()] : [])));
    const offsets: PartitionOffset[] = [];
    const entries: Array<[PartitionEntry, PartitionPipeline, ResumePoint]> = [];
    for (const entry of this.options.partitions.values()) {
      const pipeline = entry.pipeline;
      if (!pipeline) continue;
      const point = pipeline.resumePoint();
      if (movedSinceCommit(entry, point)) {
        offsets.push(offsetToCommit(entry, point));
        entries.push([entry, pipeline, point]);
      }
    }
    const consumer = this.options.consumer();
    if (offsets.length === 0 || !consumer) return;
    await consumer.commit(offsets);
    for (const [entry, pipeline] of entries) if (pipeline.hasStores) this.gaugeStores(entry, pipeline);
    for (const [entry, pipeline, point] of entries) {
      recordCommitted(entry, pipeline, point);
      this.options.committed?.(entry, point);
    }
    this.options.metrics.commits.inc({ processor: this.options.processor.id });
  }

  /** Checkpoints one partition's stores and commits its resume point, if it moved (after the commit in progress). */
  async commitEntry(entry: PartitionEntry, pipeline: PartitionPipeline): Promise<void> {
    await this.committing;
    if (this.options.transactions) return this.commitInTransaction(entry, pipeline);
    await pipeline.checkpoint();
    const point = pipeline.resumePoint();
    const consumer = this.options.consumer();
    if (movedSinceCommit(entry, point) && consumer) {
      await consumer.commit([offsetToCommit(entry, point)]);
      if (pipeline.hasStores) this.gaugeStores(entry, pipeline);
      recordCommitted(entry, pipeline, point);
      this.options.committed?.(entry, point);
      this.options.metrics.commits.inc({ processor: this.options.processor.id });
    }
  }

  /**
   * Exactly-once: checkpoints the stores (their appends go in the partition's open transaction),
   * then commits that transaction with the resume point. The transaction holds every write issued
   * before the commit was asked for, the records before `sealedAt` (the next input offset then)
   * are all in it or in earlier ones, and none after: so the resume point's `replayUntil` is at
   * least `sealedAt`, and a replay from it drops what those records emit. A failed pipeline's
   * transaction is aborted instead (it restarts from the last commit); a transaction that fails
   * fails the pipeline.
   */
  private async commitInTransaction(entry: PartitionEntry, pipeline: PartitionPipeline): Promise<void> {
    const { txn, session } = this.options.transactions!(entry, pipeline);
    if (pipeline.hasFailed) return txn.abort(session);
    await pipeline.checkpoint();
    if (pipeline.hasFailed) return txn.abort(session);
    // Every result in the transaction must be covered by the state and offsets committed with it.
    // A record's are (the replay from the checkpoint rebuilds its state and drops what it emits,
    // `replayUntil`); a change outside any record is not (the end of the input, an idle advance,
    // a timer: it moves the time or emits with no record to replay), so if one happened while the
    // checkpoint was written, its results go in this transaction and the checkpoint is taken
    // again, after it. From the last check to the commit below nothing runs in between: later
    // writes go in the next transaction.
    for (let again = 0; pipeline.changedOutsideRecordsSinceCheckpoint; again++) {
      if (again === MAX_CHECKPOINTS_AGAIN) {
        this.options.logger.warn({ partition: entry.key, checkpoints: again + 1 }, 'exactly-once commit put off: the partition changed outside any record during each checkpoint (idle advances or timers faster than a checkpoint?); the transaction stays open until the next commit');
        return;
      }
      await pipeline.checkpoint();
      if (pipeline.hasFailed) return txn.abort(session);
    }
    const sealedAt = pipeline.tracker.nextOffset;
    let point: ResumePoint | undefined;
    let committed: boolean;
    try {
      committed = await txn.commit(
        session,
        () => {
          // Failed since: its transaction is aborted by its failure's handling, not committed.
          if (pipeline.hasFailed) throw new Error(`${entry.key}: the pipeline failed before its commit`);
          const safe = pipeline.resumePoint();
          point = { ...safe, replayUntil: Math.max(safe.replayUntil, sealedAt) };
          return movedSinceCommit(entry, point) ? offsetToCommit(entry, point) : undefined;
        },
        () => pipeline.state.transactionEnded(),
      );
    } catch (err) {
      pipeline.failFromOutside(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    if (!committed || !point || !movedSinceCommit(entry, point)) return;
    if (pipeline.hasStores) this.gaugeStores(entry, pipeline);
    recordCommitted(entry, pipeline, point);
    this.options.committed?.(entry, point);
    this.options.metrics.commits.inc({ processor: this.options.processor.id });
  }

  /**
   * A new owner's claim on a partition's state (see `PartitionState.restore`): the resume
   * point committed again, with the new epoch, strictly — it fails when this member does not
   * own the partition (any more), and the owner then writes nothing to the changelogs.
   */
  async claim(entry: PartitionEntry, point: ResumePoint): Promise<void> {
    const consumer = this.options.consumer();
    if (!consumer) throw new Error(`${this.options.processor.id}: no group member to claim ${entry.key} with`);
    await consumer.commit([offsetToCommit(entry, point)], { strict: true });
    entry.lastCommitted = point.offset;
    entry.resume = point;
  }

  private gaugeStores(entry: PartitionEntry, pipeline: PartitionPipeline): void {
    const { topic, partition } = entry.topicPartition;
    for (const [store, keys] of Object.entries(pipeline.storeSizes())) {
      this.options.metrics.storeKeys.set({ processor: this.options.processor.id, topic, partition: String(partition), store }, keys);
    }
    if (pipeline.state instanceof SourceTableState) {
      for (const [table, lag] of Object.entries(pipeline.state.tableLags())) {
        this.options.metrics.tableLag.set({ processor: this.options.processor.id, topic, partition: String(partition), table }, lag);
      }
    }
  }
}
