import { asyncScheduler, Subject, type Observable, type SchedulerLike } from 'rxjs';
import type { Logger } from 'pino';
import type { GroupConsumer, LogConnector, LogProducer, OutgoingRecord, PartitionBatch, PartitionOffset, PartitionReader, TopicPartition } from '../connectors/log.js';
import { ConfigError } from '../errors.js';
import { LmdbStateDir } from '../state/lmdb-state-dir.js';
import { PartitionState } from '../state/partition-state.js';
import { PartitionPipeline } from '../actors/partition-pipeline.js';
import type { ResumePoint } from '../actors/resume-point.js';
import { partitionForKey } from '../connectors/partitioner.js';
import type { TributaryMetrics } from '../observability/metrics.js';
import type { Sink, SinkContext } from '../sinks/sink.js';
import { toTopicRecords } from '../sinks/topic-sink.js';
import type { BackoffOptions } from '../supervision/backoff.js';
import type { ChildSpecOptions } from '../supervision/child-spec.js';
import { systemClock, type SupervisorClock } from '../supervision/clock.js';
import { Supervisor } from '../supervision/supervisor.js';
import { ChangelogTopics } from './changelog-topics.js';
import { clockScheduler } from './clock-scheduler.js';
import { PartitionWatchdog } from './partition-watchdog.js';
import type { PartitionStalledError } from '../supervision/errors.js';
import { resolveProcessor, type ProcessorDefinition, type ResolvedProcessor } from './define-processor.js';
import { finishInput } from './finish-input.js';
import { groupMemberChild } from './group-member-child.js';
import type { LifecycleEvent, PartitionEventBody } from './lifecycle-event.js';
import { keyOf, movedSinceCommit, newPartitionEntry, offsetToCommit, recordCommitted, type PartitionEntry } from './partition-entry.js';
import { startPartitionChild, type PartitionChildContext } from './partition-child.js';
import { partitionGauges, partitionStatus, type PartitionGauges, type PartitionStatus, type QueryAnswer } from './partition-views.js';

export type { PartitionGauges, PartitionStatus, QueryAnswer } from './partition-views.js';

/** What a processor runtime is given by the app that runs it. */
export interface ProcessorRuntimeOptions {
  readonly log: LogConnector;
  readonly producer: LogProducer;
  readonly metrics: TributaryMetrics;
  readonly logger: Logger;
  readonly restartBackoff?: BackoffOptions;
  /** Restart intensity of the processor's supervisor. Default: 20 restarts within 60,000 ms. */
  readonly intensity?: number;
  readonly periodMs?: number;
  /** How long draining a partition may take on revoke or stop. Default 30,000 ms. */
  readonly drainTimeoutMs?: number;
  /**
   * Time of the commit interval, lifecycle events and processing-time operators (the idle
   * watermark, `context.scheduler`). Default: the system clock (and RxJS' `asyncScheduler`).
   * The test driver gives a `SimulatedClock`.
   */
  readonly clock?: SupervisorClock;
  /**
   * The liveness watchdog: a partition with pending work (records taken whose results are not
   * acknowledged) and no progress for this long fails, and its supervisor restarts it. Default
   * 60,000 ms; `Infinity` turns it off.
   */
  readonly stallTimeoutMs?: number;
  /** The directory of local store copies (stores on `'lmdb'`). */
  readonly stateDir?: string;
}

/**
 * Runs one processor on this node: a member of the processor's consumer group, with one
 * partition actor per assigned partition. Commits the safe offsets periodically and on revoke
 * and stop (each partition's stores checkpointed first); restarts a failed partition actor
 * after a backoff, restoring its stores and replaying from its committed offset.
 *
 * A record's way through: the group member's batch ({@link onBatch}) → the partition's
 * {@link PartitionPipeline} (decode, the user's operators, sinks) → its offset tracker → the
 * periodic commit ({@link commitNow}: stores' changes to their changelogs, then the offsets).
 *
 * @example
 * const runtime = new ProcessorRuntime(definition, { log, producer, metrics, logger });
 * await runtime.start(connectors);
 * await runtime.stop();
 */
export class ProcessorRuntime {
  readonly processor: ResolvedProcessor;
  private readonly events = new Subject<LifecycleEvent>();
  private readonly partitions = new Map<string, PartitionEntry>();
  private readonly childEntries = new Map<string, PartitionEntry>();
  /** Supervises this processor's partition actors (one-for-one); a child of the node supervisor. */
  readonly supervisor: Supervisor;
  private consumer: GroupConsumer | undefined;
  /** Supervises this processor's group member (see {@link consumerChild}); given at `start()`. */
  private connectors: Supervisor | undefined;
  private deadLetters: Sink<OutgoingRecord> | undefined;
  private commitTimer: unknown;
  private readonly clock: SupervisorClock;
  private readonly scheduler: SchedulerLike;
  private committing: Promise<void> = Promise.resolve();
  private stopping = false;
  private readonly logger: Logger;
  // Downstream of a repartition: the upstream partitions feeding every partition of this stage.
  private upstreams: string[] | undefined;
  private readonly partitionCounts = new Map<string, number>();
  private paused = false;
  private changelogReader: PartitionReader | undefined;
  private readonly changelogs: ChangelogTopics;
  private readonly stateDir: LmdbStateDir | undefined;
  private readonly childContext: PartitionChildContext;
  private readonly watchdog: PartitionWatchdog;

  constructor(
    definition: ProcessorDefinition<any, any>, // eslint-disable-line @typescript-eslint/no-explicit-any
    private readonly options: ProcessorRuntimeOptions,
  ) {
    this.processor = resolveProcessor(definition) as ResolvedProcessor;
    this.logger = options.logger.child({ processor: this.processor.id });
    this.clock = options.clock ?? systemClock;
    this.scheduler = options.clock ? clockScheduler(options.clock) : asyncScheduler;
    if (this.processor.usesLmdb) {
      if (!options.stateDir) throw new ConfigError('stateDir', `processor ${this.processor.id} keeps stores on 'lmdb': the app needs a stateDir to keep them in`);
      this.stateDir = new LmdbStateDir(options.stateDir, this.processor.id, this.logger);
    }
    this.changelogs = new ChangelogTopics(options.log, (topic) => this.partitionCounts.get(topic));
    this.supervisor = new Supervisor({
      name: `processor:${this.processor.id}`,
      flags: {
        strategy: this.processor.restartStrategy,
        intensity: options.intensity ?? 20,
        periodMs: options.periodMs ?? 60_000,
        backoff: options.restartBackoff,
      },
      logger: this.logger,
      onEscalation: 'stay-down',
    });
    this.supervisor.events.subscribe((event) => {
      if (event.type !== 'supervisor.child-restarting') return;
      const entry = this.childEntries.get(event.child);
      if (entry) this.emitPartition(entry.topicPartition, { type: 'partition.restarting', delayMs: event.delayMs, attempt: event.attempt });
    });
    this.watchdog = new PartitionWatchdog({
      stallTimeoutMs: options.stallTimeoutMs ?? 60_000,
      clock: this.clock,
      entries: () => this.partitions.values(),
      onStall: (entry, pipeline, error) => this.onStall(entry, pipeline, error),
    });
    this.childContext = {
      processor: this.processor,
      metrics: options.metrics,
      consumer: () => this.consumer,
      paused: () => this.paused,
      newPipeline: (entry, logger, hooks) => this.newPipeline(entry, logger, hooks),
      claim: (entry, point) => this.claim(entry, point),
      commitEntry: (entry, pipeline) => this.commitEntry(entry, pipeline),
      emitPartition: (tp, event) => this.emitPartition(tp, event),
    };
  }

  /** Lifecycle events of this processor and its partition actors. */
  get lifecycle(): Observable<LifecycleEvent> {
    return this.events.asObservable();
  }

  /**
   * Answers an interactive query for `key` from the partition of this node that holds it: the
   * partition is the one the key maps to (murmur2, as the source topic is partitioned). Returns
   * `owned: false` when that partition is not assigned here (ask its owner: the cluster routes).
   */
  query(name: string, key: string): QueryAnswer {
    const topic = this.processor.topics[0];
    const count = this.partitionCounts.get(topic);
    if (count === undefined) return { owned: false, partition: undefined, found: false, value: undefined, stale: false };
    const partition = partitionForKey(key, count);
    const entry = this.partitions.get(keyOf({ topic, partition }));
    if (!entry?.pipeline) return { owned: false, partition, found: false, value: undefined, stale: false };
    return { owned: true, partition, ...entry.pipeline.query(name, key) };
  }

  /** Stops fetching every partition of this processor on this node (records in flight finish). Idempotent. */
  pause(): void {
    this.paused = true;
    for (const entry of this.partitions.values()) this.consumer?.pause(entry.topicPartition);
  }

  /** Undoes {@link pause}. Idempotent. */
  resume(): void {
    this.paused = false;
    for (const entry of this.partitions.values()) this.consumer?.resume(entry.topicPartition);
  }

  /** Whether {@link pause} is in force. */
  get isPaused(): boolean {
    return this.paused;
  }

  /** Partitions currently assigned to this node, with their actor state. */
  status(): PartitionStatus[] {
    return [...this.partitions.values()].map(partitionStatus);
  }

  /**
   * Live figures of every assigned partition, for the web console (read-only): the next offset to
   * take (`position`), the watermark and the records in flight. Cheap: no I/O, O(partitions).
   */
  gauges(): PartitionGauges[] {
    return [...this.partitions.values()].map(partitionGauges);
  }

  /**
   * Prepares the processor (topics' partition counts, sinks, the dead-letter topic), then joins
   * its consumer group through `connectors`: the group member is a child of that supervisor
   * (`consumer:<processor id>`, see {@link consumerChild}), restarted with backoff when its client
   * crashes. Rejects when the topics cannot be read or a sink cannot start.
   */
  async start(connectors: Supervisor): Promise<void> {
    const { log } = this.options;
    const processor = this.processor;
    const context: SinkContext = { processorId: processor.id, log, producer: this.options.producer, logger: this.logger, metrics: this.options.metrics };
    if (processor.upstreamTopics) this.upstreams = await this.upstreamPartitions(processor.upstreamTopics);
    const admin = log.admin();
    try {
      for (const topic of processor.topics) {
        const count = await admin.partitionCount(topic);
        if (count !== undefined) this.partitionCounts.set(topic, count);
      }
    } finally {
      await admin.close();
    }
    this.deadLetters = toTopicRecords(processor.deadLetterTopic, { partitions: processor.deadLetterPartitions });
    await this.deadLetters.start?.(context);
    for (const sink of Object.values(processor.sinks)) await sink.start?.(context);
    this.connectors = connectors;
    await connectors.startChild(this.consumerChild());
    this.scheduleCommit();
    this.watchdog.start();
    this.emit({ type: 'processor.started', processor: processor.id, at: this.clock.now() });
  }

  /**
   * This processor's member of its consumer group now (the log's member id), undefined while it
   * is not in the group. The cluster heartbeat reports it, so that when this node is declared
   * down a survivor removes it from the group at once (see `MemberEviction`).
   */
  get groupMember(): { readonly groupId: string; readonly memberId: string } | undefined {
    const memberId = this.consumer?.memberId?.();
    return memberId === undefined ? undefined : { groupId: this.processor.groupId, memberId };
  }

  /** The id of this processor's group member under the connectors supervisor. */
  get consumerChildId(): string {
    return `consumer:${this.processor.id}`;
  }

  /** This processor's consumer-group member as a child of the connectors supervisor (see {@link groupMemberChild}). */
  consumerChild(): ChildSpecOptions {
    return groupMemberChild(this.consumerChildId, {
      processor: this.processor,
      log: this.options.log,
      logger: this.logger,
      drainTimeoutMs: this.options.drainTimeoutMs ?? 30_000,
      handlers: {
        onAssigned: (tps) => this.onAssigned(tps),
        onRevoked: (tps) => this.onRevoked(tps),
        onBatch: async (batch) => this.onBatch(batch),
        // Partitions may move: commit what is safe now, so their next owner replays less.
        onRebalancing: () => void this.commitNow(),
      },
      setConsumer: (consumer) => (this.consumer = consumer),
      currentConsumer: () => this.consumer,
      retireAll: async () => {
        for (const entry of [...this.partitions.values()]) await this.retire(entry);
      },
    });
  }

  private async upstreamPartitions(topics: readonly string[]): Promise<string[]> {
    const admin = this.options.log.admin();
    try {
      const ids: string[] = [];
      for (const topic of topics) {
        const count = await admin.partitionCount(topic);
        if (count === undefined) throw new Error(`upstream topic ${topic} of ${this.processor.id} does not exist`);
        for (let p = 0; p < count; p++) ids.push(`${topic}:${p}`);
      }
      return ids;
    } finally {
      await admin.close();
    }
  }

  /** The next periodic commit, `commitIntervalMs` from now (on the system clock, a timer that never keeps the process alive). */
  private scheduleCommit(): void {
    if (this.stopping) return;
    const handle = this.clock.setTimeout(() => {
      void this.commitNow();
      this.scheduleCommit();
    }, this.processor.commitIntervalMs);
    (handle as { unref?: () => void } | undefined)?.unref?.();
    this.commitTimer = handle;
  }

  /** Stops fetching, drains every partition, commits, leaves the group, flushes the sinks. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.commitTimer !== undefined) this.clock.clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    this.watchdog.stop();
    await this.connectors?.terminateChild(this.consumerChildId);
    for (const entry of [...this.partitions.values()]) await this.retire(entry);
    // The supervisor itself is stopped by its parent (the node): stopping it here would look to
    // the node like a child that ended, and be restarted.
    await this.committing;
    for (const sink of Object.values(this.processor.sinks)) await sink.stop?.();
    await this.deadLetters?.stop?.();
    await this.changelogReader?.close();
    await this.stateDir?.close();
    this.emit({ type: 'processor.stopped', processor: this.processor.id, at: this.clock.now() });
    this.events.complete();
  }

  /**
   * For a finite input: waits until this node has taken and completed every record that is in
   * its source topics now, then ends each partition's input (watermark +∞, so every open window
   * fires), waits for the results to be acknowledged, and commits. The processor takes no more
   * records afterwards; stop it next. Every partition must be assigned to this node. A long wait
   * logs what it waits for every 10 s (see {@link finishInput}).
   *
   * @example
   * await app.start();
   * await app.processor('clickstream').finishInput();
   * await app.stop();
   */
  finishInput(options: { timeoutMs?: number } = {}): Promise<void> {
    return finishInput(
      { log: this.options.log, topics: this.processor.topics, partitions: this.partitions, commit: (entry, pipeline) => this.commitEntry(entry, pipeline), logger: this.logger },
      options.timeoutMs,
    );
  }

  /** Commits every partition's safe offset that moved since the last commit. */
  commitNow(): Promise<void> {
    this.committing = this.committing.then(() => this.commitOnce()).catch((err: unknown) => {
      this.logger.warn({ err }, 'offset commit failed; will retry at the next interval');
    });
    return this.committing;
  }

  private async commitOnce(): Promise<void> {
    // Stores first: their changes up to now are written, so the offsets below can pass them.
    await Promise.all([...this.partitions.values()].flatMap((entry) => (entry.pipeline ? [entry.pipeline.checkpoint()] : [])));
    const offsets: PartitionOffset[] = [];
    const entries: Array<[PartitionEntry, PartitionPipeline, ResumePoint]> = [];
    for (const entry of this.partitions.values()) {
      const pipeline = entry.pipeline;
      if (!pipeline) continue;
      const point = pipeline.resumePoint();
      if (movedSinceCommit(entry, point)) {
        offsets.push(offsetToCommit(entry, point));
        entries.push([entry, pipeline, point]);
      }
    }
    if (offsets.length === 0 || !this.consumer) return;
    await this.consumer.commit(offsets);
    for (const [entry, pipeline] of entries) if (pipeline.hasStores) this.gaugeStores(entry, pipeline);
    for (const [entry, pipeline, point] of entries) recordCommitted(entry, pipeline, point);
    this.options.metrics.commits.inc({ processor: this.processor.id });
  }

  private async commitEntry(entry: PartitionEntry, pipeline: PartitionPipeline): Promise<void> {
    await this.committing;
    await pipeline.checkpoint();
    const point = pipeline.resumePoint();
    if (movedSinceCommit(entry, point) && this.consumer) {
      await this.consumer.commit([offsetToCommit(entry, point)]);
      recordCommitted(entry, pipeline, point);
      this.options.metrics.commits.inc({ processor: this.processor.id });
    }
  }

  /**
   * A new owner's claim on a partition's state (see {@link PartitionState.restore}): the resume
   * point committed again, with the new epoch, strictly — it fails when this member does not
   * own the partition (any more), and the owner then writes nothing to the changelogs.
   */
  private async claim(entry: PartitionEntry, point: ResumePoint): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) throw new Error(`${this.processor.id}: no group member to claim ${entry.key} with`);
    await consumer.commit([offsetToCommit(entry, point)], { strict: true });
    entry.lastCommitted = point.offset;
    entry.resume = point;
  }

  /** A partition's pipeline, with its stores' state (not yet restored). */
  private newPipeline(entry: PartitionEntry, logger: Logger, hooks: Parameters<PartitionChildContext['newPipeline']>[2]): PartitionPipeline {
    const processor = this.processor;
    const { topicPartition } = entry;
    this.changelogReader ??= this.options.log.reader();
    return new PartitionPipeline({
      processor,
      topicPartition,
      resume: entry.resume,
      upstreams: this.upstreams,
      deadLetters: this.deadLetters!,
      failedAttempts: entry.failedAttempts,
      metrics: this.options.metrics,
      logger,
      scheduler: this.scheduler,
      state: new PartitionState({
        processorId: processor.id,
        topicPartition,
        multiTopic: processor.topics.length > 1,
        reader: this.changelogReader,
        producer: this.options.producer,
        ensureChangelog: (topic) => this.changelogs.ensure(topic, topicPartition.topic),
        logger,
        onProgress: (progress) => {
          entry.restoring = progress;
          this.options.metrics.restoreRecords.inc({ processor: processor.id, store: progress.store }, progress.batch);
        },
        onWritten: (store, records) => this.options.metrics.changelogRecords.inc({ processor: processor.id, store }, records),
        localCopy: (store, changelog) => (processor.storeBackend(store) === 'lmdb' ? this.stateDir?.copy(changelog) : undefined),
        storeBudget: processor.storeBudget,
      }),
      ...hooks,
    });
  }

  private async onAssigned(tps: readonly TopicPartition[]): Promise<void> {
    const committed = await this.consumer!.committed(tps);
    for (const tp of tps) {
      if (this.partitions.has(keyOf(tp))) continue;
      const entry = newPartitionEntry(tp, committed.find((c) => c.topic === tp.topic && c.partition === tp.partition));
      this.partitions.set(entry.key, entry);
      this.childEntries.set(entry.childId, entry);
      await this.supervisor.startChild({
        id: entry.childId,
        restart: 'transient',
        shutdownTimeoutMs: this.options.drainTimeoutMs ?? 30_000,
        start: () => startPartitionChild(entry, this.childContext, this.logger),
      });
    }
  }

  private async onRevoked(tps: readonly TopicPartition[]): Promise<void> {
    for (const tp of tps) {
      const entry = this.partitions.get(keyOf(tp));
      if (entry) await this.retire(entry);
    }
  }

  private onBatch(batch: PartitionBatch): void {
    const entry = this.partitions.get(keyOf(batch));
    if (!entry || !entry.accepting || !entry.pipeline) return; // refetched after the restart's seek
    entry.pipeline.deliver(batch);
  }

  /** Drains and stops a partition's actor (its supervisor terminates it), commits, forgets the partition. */
  private async retire(entry: PartitionEntry): Promise<void> {
    entry.revoked = true;
    entry.accepting = false;
    await this.supervisor.terminateChild(entry.childId);
    this.partitions.delete(entry.key);
    this.childEntries.delete(entry.childId);
  }

  /** The watchdog found `entry` stalled: say what it waits on, count it, and fail its actor (its supervisor restarts it). */
  private onStall(entry: PartitionEntry, pipeline: PartitionPipeline, error: PartitionStalledError): void {
    const { topic, partition } = entry.topicPartition;
    entry.stalls++;
    this.logger.error(
      { topic, partition, pending: error.pending, firstIncomplete: error.firstIncomplete, committed: error.committed, stuckForMs: error.stuckForMs, waitingOn: error.waitingOn, heldOffset: error.heldOffset },
      'partition stalled: pending work without progress; failing it for its supervisor to restart',
    );
    this.options.metrics.stalls.inc({ processor: this.processor.id, topic, partition: String(partition) });
    this.emitPartition(entry.topicPartition, {
      type: 'partition.stalled',
      pending: error.pending,
      firstIncomplete: error.firstIncomplete,
      committed: error.committed,
      stuckForMs: error.stuckForMs,
      waitingOn: error.waitingOn,
      ...(error.heldOffset === undefined ? {} : { heldOffset: error.heldOffset }),
    });
    pipeline.failFromOutside(error);
  }

  private gaugeStores(entry: PartitionEntry, pipeline: PartitionPipeline): void {
    const { topic, partition } = entry.topicPartition;
    for (const [store, keys] of Object.entries(pipeline.storeSizes())) {
      this.options.metrics.storeKeys.set({ processor: this.processor.id, topic, partition: String(partition), store }, keys);
    }
  }

  private emitPartition(tp: TopicPartition, event: PartitionEventBody): void {
    this.emit({ ...event, processor: this.processor.id, topic: tp.topic, partition: tp.partition, at: this.clock.now() });
  }

  private emit(event: LifecycleEvent): void {
    this.events.next(event);
  }
}
