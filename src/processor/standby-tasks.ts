import type { Logger } from 'pino';
import type { LogConnector, PartitionOffset, PartitionReader, TopicPartition } from '../connectors/log.js';
import { decodeResumePoint } from '../actors/resume-point.js';
import type { TributaryMetrics } from '../observability/metrics.js';
import type { LmdbStoreCopy } from '../state/lmdb-state-dir.js';
import { StandbyReplica, type StandbyStoreStatus } from '../state/standby-replica.js';
import type { ResolvedProcessor } from './define-processor.js';
import { keyOf } from './partition-entry.js';
import { standbyPlacement, type PlacementView } from './standby-placement.js';

/** A partition this node stands by for, as `status()` and `/health` show it. */
export interface StandbyStatus {
  readonly topic: string;
  readonly partition: number;
  /** Changelog records past its copies, summed over the stores (what a takeover here reads); null before the first catch-up. */
  readonly lag: number | null;
  readonly stores: readonly StandbyStoreStatus[];
  /** Catch-ups done, and the last one's error if it failed. */
  readonly catchUps: number;
  readonly lastError?: string;
}

/** What a processor's {@link StandbyTasks} are given by its runtime. */
export interface StandbyTasksOptions {
  readonly processor: ResolvedProcessor;
  readonly log: LogConnector;
  readonly metrics: TributaryMetrics;
  readonly logger: Logger;
  /** The local copy of a store for an input partition (`ProcessorStores.standbyCopy`). */
  readonly copyOf: (tp: TopicPartition, store: string) => LmdbStoreCopy | undefined;
  /** The group's committed offsets, undefined while the processor has no group member. */
  readonly committed: (tps: readonly TopicPartition[]) => Promise<PartitionOffset[]> | undefined;
  /** Time between two catch-up rounds. Default 500 ms. */
  readonly intervalMs?: number;
}

interface Task {
  readonly replica: StandbyReplica;
  catchUps: number;
  lastError: string | undefined;
}

/**
 * The warm standbys of one processor on this node: which partitions it follows (from the
 * cluster's view, {@link standbyPlacement}), and a loop that brings each one's local copies to
 * the group's last committed mark every `intervalMs` (one `committed` request for all of them,
 * then each {@link StandbyReplica} in turn). A partition assigned here is never followed: the
 * runtime calls {@link claim} before it starts (which waits for a catch-up in progress) and
 * {@link unclaim} once it has left (its last local write queued).
 *
 * @example
 * const standbys = new StandbyTasks({ processor, log, metrics, logger, copyOf, committed });
 * cluster.membership.subscribe((view) => standbys.place(view));
 * await standbys.claim(assigned); // before the actors restore
 */
export class StandbyTasks {
  private readonly tasks = new Map<string, Task>();
  private readonly claimed = new Set<string>();
  private reader: PartitionReader | undefined;
  private running: Promise<void> | undefined;
  private current: { key: string; done: Promise<void> } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: StandbyTasksOptions) {}

  /** Follows the placement of a new membership view (partitions without an owner in it keep their standby). */
  place(view: PlacementView): void {
    const { processor } = this.options;
    if (this.stopped || processor.standbyReplicas === 0) return;
    const placement = standbyPlacement(view, processor.id, processor.standbyReplicas);
    const wanted = new Map(placement.standbys.map((tp) => [keyOf(tp), tp]));
    for (const [key, task] of this.tasks) {
      if (!wanted.has(key) && placement.owned(task.replica.topicPartition)) this.drop(key);
    }
    for (const [key, tp] of wanted) {
      // Assigned here already (the view has not caught up): its actor has the copies.
      if (this.tasks.has(key) || this.claimed.has(key)) continue;
      this.reader ??= this.options.log.reader();
      const replica = new StandbyReplica({ topicPartition: tp, reader: this.reader, copyOf: (store) => this.options.copyOf(tp, store), logger: this.options.logger.child({ standby: `${tp.topic}-${tp.partition}` }) });
      this.tasks.set(key, { replica, catchUps: 0, lastError: undefined });
      this.options.logger.info({ topic: tp.topic, partition: tp.partition }, 'standby started');
    }
    if (this.tasks.size > 0 && !this.running && !this.timer) this.schedule(0);
  }

  /** Partitions assigned here: their standbys stop, after a catch-up in progress ends. */
  async claim(tps: readonly TopicPartition[]): Promise<void> {
    for (const tp of tps) {
      const key = keyOf(tp);
      this.claimed.add(key);
      if (this.tasks.has(key)) this.drop(key);
    }
    for (const tp of tps) if (this.current?.key === keyOf(tp)) await this.current.done.catch(() => undefined);
  }

  /** Partitions that left this node (their actors stopped): they may be followed again. */
  unclaim(tps: readonly TopicPartition[]): void {
    for (const tp of tps) this.claimed.delete(keyOf(tp));
  }

  /** The partitions followed, with their lag. */
  status(): StandbyStatus[] {
    return [...this.tasks.values()].map((t) => ({
      ...t.replica.topicPartition,
      lag: Number.isFinite(t.replica.lag) ? t.replica.lag : null,
      stores: t.replica.stores,
      catchUps: t.catchUps,
      ...(t.lastError !== undefined ? { lastError: t.lastError } : {}),
    }));
  }

  /**
   * Per partition (`topic:partition`), the records a takeover on this node would read: 0 for a
   * partition assigned here, a standby's lag for one followed. What the state-aware assignor
   * reads from each member.
   */
  lags(): ReadonlyMap<string, number> {
    const lags = new Map<string, number>();
    for (const [key, task] of this.tasks) if (Number.isFinite(task.replica.lag)) lags.set(key, task.replica.lag);
    for (const key of this.claimed) lags.set(key, 0);
    return lags;
  }

  /** Stops following; resolves once a catch-up in progress ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const key of [...this.tasks.keys()]) this.drop(key);
    await this.running;
    await this.reader?.close();
  }

  private drop(key: string): void {
    const task = this.tasks.get(key);
    if (!task) return;
    this.tasks.delete(key);
    const { topic, partition } = task.replica.topicPartition;
    this.options.metrics.standbyLag.remove({ processor: this.options.processor.id, topic, partition: String(partition) });
    this.options.logger.info({ topic, partition }, 'standby stopped');
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.round().finally(() => {
        this.running = undefined;
        if (this.tasks.size > 0) this.schedule(this.options.intervalMs ?? 500);
      });
    }, delayMs);
    this.timer.unref?.();
  }

  /** One catch-up of every standby to the marks committed now. */
  private async round(): Promise<void> {
    const due = [...this.tasks].filter(([key]) => !this.claimed.has(key));
    if (due.length === 0) return;
    let offsets: PartitionOffset[] | undefined;
    try {
      offsets = await this.options.committed(due.map(([, t]) => t.replica.topicPartition));
    } catch (err) {
      this.options.logger.warn({ err }, 'standbys: the committed offsets could not be read; next round');
      return;
    }
    if (!offsets) return;
    const byKey = new Map(offsets.map((o) => [keyOf(o), o]));
    for (const [key, task] of due) {
      // Claimed or dropped meanwhile: the partition's actor (or nobody) has its copies now.
      if (this.stopped || this.claimed.has(key) || this.tasks.get(key) !== task) continue;
      const committed = byKey.get(key);
      const mark = committed && committed.offset >= 0 ? decodeResumePoint(committed.offset, committed.metadata).state : undefined;
      const done = task.replica.catchUp(mark).then(
        (step) => {
          task.catchUps++;
          task.lastError = undefined;
          const { topic, partition } = task.replica.topicPartition;
          if (this.tasks.get(key) === task) this.options.metrics.standbyLag.set({ processor: this.options.processor.id, topic, partition: String(partition) }, step.lag);
        },
        (err: unknown) => {
          task.lastError = err instanceof Error ? err.message : String(err);
          this.options.logger.warn({ err, standby: key }, 'standby catch-up failed; next round');
        },
      );
      this.current = { key, done };
      await done;
      this.current = undefined;
    }
  }
}
