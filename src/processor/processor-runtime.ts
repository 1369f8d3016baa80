import { asyncScheduler, Subject, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { Logger } from 'pino';
import { ConfigError } from '../errors.js';
import type { GroupConsumer, LogConnector, LogProducer, OutgoingRecord, TopicPartition } from '../connectors/log.js';
import { PartitionPipeline } from '../actors/partition-pipeline.js';
import type { TributaryMetrics } from '../observability/metrics.js';
import type { Sink, SinkContext } from '../sinks/sink.js';
import { toTopicRecords } from '../sinks/topic-sink.js';
import type { BackoffOptions } from '../supervision/backoff.js';
import type { ChildSpecOptions } from '../supervision/child-spec.js';
import { systemClock, type SupervisorClock } from '../supervision/clock.js';
import type { Supervisor } from '../supervision/supervisor.js';
import { AssignedPartitions } from './assigned-partitions.js';
import { clockScheduler } from './clock-scheduler.js';
import { failStalledPartition, PartitionWatchdog } from './partition-watchdog.js';
import { resolveProcessor, type ProcessorDefinition, type ResolvedProcessor } from './define-processor.js';
import { finishInput } from './finish-input.js';
import { groupMemberChild } from './group-member-child.js';
import { partitionCounts, upstreamPartitions } from './input-partitions.js';
import type { LifecycleEvent, PartitionEventBody } from './lifecycle-event.js';
import { OffsetCommits } from './offset-commits.js';
import { decodeResumePoint } from '../actors/resume-point.js';
import type { PartitionEntry } from './partition-entry.js';
import { PartitionTransactions } from './partition-transaction.js';
import type { PartitionChildContext } from './partition-child.js';
import { answerQuery, scanPartitions, partitionGauges, partitionStatus, type PartitionGauges, type PartitionStatus, type QueryAnswer } from './partition-views.js';
import { ProcessorStores } from './processor-stores.js';
import { ProcessorTables } from './processor-tables.js';
import { RepartitionPurge } from './repartition-purge.js';
import { toDeadLetterRecord } from '../supervision/dead-letter.js';
import type { PlacementView } from './standby-placement.js';
import { StandbyTasks, type StandbyStatus } from './standby-tasks.js';
import type { PartitionScans, ResolvedScan } from './store-scan.js';
import { UnpartitionedStores } from './unpartitioned-stores.js';

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
 * A record's way through: the group member's batch ({@link AssignedPartitions.onBatch}) → the partition's
 * {@link PartitionPipeline} (decode, the user's operators, sinks) → its offset tracker → the
 * periodic commit ({@link OffsetCommits}: stores' changes to their changelogs, then the offsets).
 *
 * @example
 * const runtime = new ProcessorRuntime(definition, { log, producer, metrics, logger });
 * await runtime.start(connectors);
 * await runtime.stop();
 */
export class ProcessorRuntime {
  readonly processor: ResolvedProcessor;
  private readonly events = new Subject<LifecycleEvent>();
  private readonly assigned: AssignedPartitions;
  private readonly partitions: ReadonlyMap<string, PartitionEntry>;
  /** Supervises this processor's partition actors (one-for-one); a child of the node supervisor. */
  readonly supervisor: Supervisor;
  private consumer: GroupConsumer | undefined;
  /** Supervises this processor's group member (see {@link consumerChild}); given at `start()`. */
  private connectors: Supervisor | undefined;
  private deadLetters: Sink<OutgoingRecord> | undefined;
  private readonly commits: OffsetCommits;
  /** A repartition stage's purge of its topic below the committed offsets (nothing for other processors). */
  private readonly purge: RepartitionPurge;
  private readonly clock: SupervisorClock;
  private readonly scheduler: SchedulerLike;
  private stopping = false;
  private readonly logger: Logger;
  // Downstream of a repartition: the upstream partitions feeding every partition of this stage.
  private upstreams: string[] | undefined;
  private readonly partitionCounts = new Map<string, number>();
  private paused = false;
  private readonly stores: ProcessorStores;
  /** The processor's tables read from topics (`tables`): co-partitioning checked and global tables read at start. */
  readonly tables: ProcessorTables;
  private readonly watchdog: PartitionWatchdog;
  private readonly unpartitioned: UnpartitionedStores;
  private readonly standbys: StandbyTasks;
  private placement: Subscription | undefined;
  /** With `guarantee: 'exactly-once'`: each input partition's transactions. */
  private readonly transactions: PartitionTransactions | undefined;
  /** Exactly-once: the transaction session of each partition pipeline (see `PartitionTransaction.producerFor`). */
  private readonly sessions = new WeakMap<PartitionPipeline, number>();

  constructor(
    definition: ProcessorDefinition<any, any>, // eslint-disable-line @typescript-eslint/no-explicit-any
    private readonly options: ProcessorRuntimeOptions,
  ) {
    this.processor = resolveProcessor(definition) as ResolvedProcessor;
    this.logger = options.logger.child({ processor: this.processor.id });
    this.clock = options.clock ?? systemClock;
    this.scheduler = options.clock ? clockScheduler(options.clock) : asyncScheduler;
    this.unpartitioned = new UnpartitionedStores(this.processor.id, options.metrics, this.logger);
    this.tables = new ProcessorTables({
      processorId: this.processor.id,
      tables: this.processor.tables,
      log: options.log,
      logger: this.logger,
      deadLetter: (record, reason, transaction) => this.deadLetterTableUpdate(record, reason, transaction),
      stage: this.processor.upstreamTopics !== undefined,
    });
    this.stores = new ProcessorStores(this.processor, { ...options, partitionCount: (topic) => this.partitionCounts.get(topic), tables: this.tables }, this.logger);
    this.standbys = new StandbyTasks({
      processor: this.processor,
      log: options.log,
      metrics: options.metrics,
      logger: this.logger,
      copyOf: (tp, store) => this.stores.standbyCopy(tp, store),
      committed: (tps) => this.consumer?.committed(tps),
    });
    if (this.processor.guarantee === 'exactly-once') {
      if (!options.log.transactionalProducer) throw new ConfigError(`${this.processor.id}.guarantee`, `'exactly-once' needs a log with transactions (Kafka or MemoryLog); the ${options.log.kind} log has none`);
      const processor = this.processor.id;
      this.transactions = new PartitionTransactions({
        log: options.log,
        groupId: this.processor.groupId,
        logger: this.logger,
        onEnded: (outcome, seconds) => {
          options.metrics.transactions.inc({ processor, outcome });
          if (seconds !== undefined) options.metrics.transactionCommitSeconds.observe({ processor }, seconds);
        },
      });
    }
    const childContext: PartitionChildContext = {
      processor: this.processor,
      metrics: options.metrics,
      consumer: () => this.consumer,
      paused: () => this.paused,
      newPipeline: (entry, logger, hooks) => this.newPipeline(entry, logger, hooks),
      claim: (entry, point) => this.commits.claim(entry, point),
      commitEntry: (entry, pipeline) => this.commits.commitEntry(entry, pipeline),
      emitPartition: (tp, event) => this.emitPartition(tp, event),
      beforeStart: this.transactions ? (entry) => this.fence(entry) : undefined,
    };
    this.assigned = new AssignedPartitions({ ...options, processor: this.processor, logger: this.logger, consumer: () => this.consumer, childContext, emitPartition: (tp, event) => this.emitPartition(tp, event) });
    this.partitions = this.assigned.partitions;
    this.supervisor = this.assigned.supervisor;
    this.purge = new RepartitionPurge({ processor: this.processor, log: options.log, metrics: options.metrics, logger: this.logger, clock: this.clock, partitions: this.partitions, consumer: () => this.consumer });
    this.commits = new OffsetCommits({
      processor: this.processor,
      metrics: options.metrics,
      logger: this.logger,
      clock: this.clock,
      partitions: this.partitions,
      consumer: () => this.consumer,
      committed: (entry, point) => {
        if (point.state) this.stores.committed(entry, point.state);
        this.purge.committed();
      },
      transactions: this.transactions ? (entry, pipeline) => ({ txn: this.transactions!.of(entry.topicPartition), session: this.sessions.get(pipeline) ?? -1 }) : undefined,
    });
    this.watchdog = new PartitionWatchdog({
      stallTimeoutMs: options.stallTimeoutMs ?? 60_000,
      clock: this.clock,
      entries: () => this.partitions.values(),
      onStall: (entry, pipeline, error) =>
        failStalledPartition(entry, pipeline, error, { processorId: this.processor.id, logger: this.logger, metrics: options.metrics, emitPartition: (tp, event) => this.emitPartition(tp, event) }),
    });
  }

  /** Lifecycle events of this processor and its partition actors. */
  get lifecycle(): Observable<LifecycleEvent> {
    return this.events.asObservable();
  }

  /**
   * Answers an interactive query for `key` from the partition of this node that holds it: the
   * partition is the one the key maps to (murmur2, as the source topic is partitioned). Returns
   * `owned: false` when that partition is not assigned here (ask its owner: the cluster routes).
   * Throws an `UnpartitionedStoreError` when the store was declared `partitioning: 'per-partition'`
   * by a partition here, or is known not to be partitioned by its key
   * (that partition would hold only part of the key's state).
   */
  query(name: string, key: string): QueryAnswer {
    this.unpartitioned.assertPartitioned(this.partitions, name);
    return answerQuery(this.processor.id, this.partitions, this.processor.topics, this.partitionCounts, name, key);
  }

  /**
   * Scans the store `name` in every partition this node runs ({@link scanStore}); the cluster
   * (or `app.scan`) merges the nodes' answers and checks that every partition answered.
   */
  scan(name: string, scan: ResolvedScan): PartitionScans {
    return scanPartitions(this.partitions, this.processor, this.partitionCounts, name, scan);
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

  /** Partitions this node keeps warm standbys of (`standbyReplicas`), with their lag. */
  standbyStatus(): StandbyStatus[] {
    return this.standbys.status();
  }

  /**
   * Places this processor's warm standbys from the cluster's membership view, now and at every
   * change (`standbyReplicas` > 0; see {@link standbyPlacement}). The app calls it once its
   * cluster node has started.
   */
  followStandbys(views: Observable<PlacementView>): void {
    if (this.processor.standbyReplicas === 0 || this.stopping) return;
    this.placement?.unsubscribe();
    this.placement = views.subscribe((view) => this.standbys.place(view));
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
    if (processor.upstreamTopics) this.upstreams = await upstreamPartitions(log, processor.id, processor.upstreamTopics);
    for (const [topic, count] of await partitionCounts(log, processor.topics)) this.partitionCounts.set(topic, count);
    // Co-partitioning of the tables read from topics; global tables read to their end before any partition starts.
    await this.tables.start(this.stores.reader(), this.partitionCounts);
    this.deadLetters = toTopicRecords(processor.deadLetterTopic, { partitions: processor.deadLetterPartitions });
    await this.deadLetters.start?.(context);
    for (const sink of Object.values(processor.sinks)) await sink.start?.(context);
    this.connectors = connectors;
    await connectors.startChild(this.consumerChild());
    this.commits.schedule();
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
        // A standby of a partition assigned here stops (its catch-up ended) before the actor restores from its copies.
        onAssigned: async (tps) => {
          await this.standbys.claim(tps);
          await this.assigned.onAssigned(tps);
        },
        onRevoked: async (tps) => {
          await this.assigned.onRevoked(tps);
          await this.transactions?.close(tps);
          this.standbys.unclaim(tps);
        },
        onBatch: async (batch) => this.assigned.onBatch(batch),
        // Partitions may move: commit what is safe now, so their next owner replays less.
        onRebalancing: () => void this.commitNow(),
      },
      setConsumer: (consumer) => (this.consumer = consumer),
      currentConsumer: () => this.consumer,
      retireAll: async () => {
        await this.assigned.retireAll();
        await this.transactions?.closeAll();
      },
      ...(this.processor.standbyReplicas > 0 ? { localState: () => this.standbys.lags() } : {}),
    });
  }

  /** Stops fetching, drains every partition, commits, leaves the group, flushes the sinks. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.commits.stop();
    this.watchdog.stop();
    this.placement?.unsubscribe();
    await this.standbys.stop();
    await this.connectors?.terminateChild(this.consumerChildId);
    await this.assigned.retireAll();
    await this.transactions?.closeAll();
    // The supervisor itself is stopped by its parent (the node): stopping it here would look to
    // the node like a child that ended, and be restarted.
    await this.commits.settled;
    await this.purge.stop();
    for (const sink of Object.values(this.processor.sinks)) await sink.stop?.();
    await this.deadLetters?.stop?.();
    await this.tables.stop();
    await this.stores.close();
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
      { log: this.options.log, topics: this.processor.topics, partitions: this.partitions, commit: (entry, pipeline) => this.commits.commitEntry(entry, pipeline), logger: this.logger },
      options.timeoutMs,
    );
  }

  /** Commits every partition's safe offset that moved since the last commit. */
  commitNow(): Promise<void> {
    return this.commits.commitNow();
  }

  /** A partition's pipeline, with its stores' state (not yet restored). */
  private newPipeline(entry: PartitionEntry, logger: Logger, hooks: Parameters<PartitionChildContext['newPipeline']>[2]): PartitionPipeline {
    const txn = this.transactions?.of(entry.topicPartition);
    const session = txn?.session ?? 0;
    const writes = txn?.producerFor(session);
    const pipeline = new PartitionPipeline({
      processor: this.processor,
      topicPartition: entry.topicPartition,
      resume: entry.resume,
      upstreams: this.upstreams,
      deadLetters: this.deadLetters!,
      failedAttempts: entry.failedAttempts,
      metrics: this.options.metrics,
      logger,
      scheduler: this.scheduler,
      state: this.stores.forPartition(entry, logger, writes),
      transaction: writes,
      partitionCount: () => this.partitionCounts.get(entry.topicPartition.topic),
      onKeyMismatch: (mismatch) => this.unpartitioned.record(mismatch),
      ...hooks,
    });
    if (txn) this.sessions.set(pipeline, session);
    return pipeline;
  }

  /**
   * Exactly-once, before a partition's actor starts: its transactional producer is registered
   * (a zombie's open transaction aborted, its later writes refused), and when that took a new
   * producer the committed resume point is read again, now final (a zombie may have committed
   * after the assignment's read).
   */
  private async fence(entry: PartitionEntry): Promise<void> {
    if (!(await this.transactions!.of(entry.topicPartition).fence())) return;
    const consumer = this.consumer;
    if (!consumer) return;
    const [committed] = await consumer.committed([entry.topicPartition]);
    const offset = Math.max(0, committed?.offset ?? -1);
    entry.resume = decodeResumePoint(offset, committed?.metadata);
    entry.lastCommitted = offset;
  }

  /**
   * A table update taken live that does not decode: to the dead letters (its key is kept), counted
   * once written. The checkpoint past it waits for the write; a failed write fails it (the
   * partition restarts and takes the update again). Exactly-once: written in the partition's
   * transaction, so an aborted one takes its dead letter with it and the replay writes it once.
   */
  private async deadLetterTableUpdate(record: Parameters<typeof toDeadLetterRecord>[1]['record'], reason: string, transaction?: Pick<LogProducer, 'send'>): Promise<void> {
    const sink = this.deadLetters;
    if (!sink) return;
    const letter = toDeadLetterRecord(this.processor.id, { kind: 'deserialization', reason, record, attempts: 1 });
    if (transaction) {
      const encoded = sink.encode!([letter]);
      await transaction.send(encoded.topic, encoded.records);
    } else {
      await sink.write([letter]);
    }
    this.options.metrics.deadLetters.inc({ processor: this.processor.id, reason: 'deserialization' });
  }

  private emitPartition(tp: TopicPartition, event: PartitionEventBody): void {
    this.emit({ ...event, processor: this.processor.id, topic: tp.topic, partition: tp.partition, at: this.clock.now() });
  }

  private emit(event: LifecycleEvent): void {
    this.events.next(event);
  }
}
