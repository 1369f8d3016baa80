import { Subject, type Observable } from 'rxjs';
import { createActor } from 'xstate';
import type { Logger } from 'pino';
import type {
  GroupConsumer,
  LogConnector,
  LogProducer,
  OutgoingRecord,
  PartitionBatch,
  PartitionOffset,
  PartitionReader,
  TopicPartition,
} from '../connectors/log.js';
import { CHANGELOG_CONFIG } from '../state/changelog.js';
import { ConfigError } from '../errors.js';
import { ChangelogTopicError } from '../state/errors.js';
import { LmdbStateDir } from '../state/lmdb-state-dir.js';
import { PartitionState } from '../state/partition-state.js';
import { partitionActorMachine } from '../actors/partition-actor.js';
import { PartitionPipeline, type FailedAttempt } from '../actors/partition-pipeline.js';
import { decodeResumePoint, encodeResumePoint, type ResumePoint } from '../actors/resume-point.js';
import { partitionForKey } from '../connectors/partitioner.js';
import type { TributaryMetrics } from '../observability/metrics.js';
import type { Sink, SinkContext } from '../sinks/sink.js';
import { toTopicRecords } from '../sinks/topic-sink.js';
import type { BackoffOptions } from '../supervision/backoff.js';
import type { ChildExit, ChildHandle, ChildSpecOptions } from '../supervision/child-spec.js';
import { Supervisor } from '../supervision/supervisor.js';
import { resolveProcessor, type ProcessorDefinition, type ResolvedProcessor } from './define-processor.js';
import type { LifecycleEvent, PartitionLifecycleEvent } from './lifecycle-event.js';

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
  /** The directory of local store copies (stores on `'lmdb'`). */
  readonly stateDir?: string;
}


/** The runtime's view of one assigned partition. */
interface PartitionEntry {
  readonly topicPartition: TopicPartition;
  readonly key: string;
  /** Its id under the processor's supervisor. */
  readonly childId: string;
  /** The actor's state, for status pages. */
  state: string;
  pipeline: PartitionPipeline | undefined;
  /** Whether fetched batches go to the pipeline (false while starting or restarting). */
  accepting: boolean;
  lastCommitted: number;
  /** Where the next actor of this partition starts: the last commit, or where a failed one left off. */
  resume: ResumePoint;
  /** Whether an actor has run for it before (a new one then seeks back and replays). */
  started: boolean;
  restarts: number;
  readonly failedAttempts: Map<number, FailedAttempt>;
  revoked: boolean;
}

const keyOf = (tp: TopicPartition): string => `${tp.topic}:${tp.partition}`;

/**
 * Runs one processor on this node: a member of the processor's consumer group, with one
 * partition actor per assigned partition. Commits the safe offsets periodically and on revoke
 * and stop; restarts a failed partition actor after a backoff, replaying from its committed
 * offset.
 *
 * @example
 * const runtime = new ProcessorRuntime(definition, { log, producer, metrics, logger });
 * await runtime.start();
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
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();
  private stopping = false;
  private readonly logger: Logger;
  // Downstream of a repartition: the upstream partitions feeding every partition of this stage.
  private upstreams: string[] | undefined;
  private readonly partitionCounts = new Map<string, number>();
  private paused = false;
  private changelogReader: PartitionReader | undefined;
  private readonly changelogs = new Map<string, Promise<void>>();
  private readonly stateDir: LmdbStateDir | undefined;

  constructor(
    definition: ProcessorDefinition<any, any>, // eslint-disable-line @typescript-eslint/no-explicit-any
    private readonly options: ProcessorRuntimeOptions,
  ) {
    this.processor = resolveProcessor(definition) as ResolvedProcessor;
    this.logger = options.logger.child({ processor: this.processor.id });
    if (this.processor.usesLmdb) {
      if (!options.stateDir) throw new ConfigError('stateDir', `processor ${this.processor.id} keeps stores on 'lmdb': the app needs a stateDir to keep them in`);
      this.stateDir = new LmdbStateDir(options.stateDir, this.processor.id, this.logger);
    }
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
  status(): Array<{ topic: string; partition: number; state: string; committed: number; pending: number; restarts: number }> {
    return [...this.partitions.values()].map((e) => ({
      topic: e.topicPartition.topic,
      partition: e.topicPartition.partition,
      state: e.state,
      committed: e.lastCommitted,
      pending: e.pipeline?.tracker.pending ?? 0,
      restarts: e.restarts,
    }));
  }

  /**
   * Live figures of every assigned partition, for the web console (read-only): the next offset to
   * take (`position`), the watermark and the records in flight. Cheap: no I/O, O(partitions).
   */
  gauges(): PartitionGauges[] {
    return [...this.partitions.values()].map((e) => ({
      topic: e.topicPartition.topic,
      partition: e.topicPartition.partition,
      state: e.state,
      committed: e.lastCommitted,
      position: e.pipeline?.tracker.nextOffset,
      watermark: e.pipeline?.clock.current,
      pending: e.pipeline?.tracker.pending ?? 0,
      restarts: e.restarts,
    }));
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
    this.commitTimer = setInterval(() => void this.commitNow(), processor.commitIntervalMs);
    this.commitTimer.unref();
    this.emit({ type: 'processor.started', processor: processor.id, at: Date.now() });
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

  /**
   * This processor's consumer-group member as a child of the connectors supervisor (permanent):
   * starting it joins the group; when its client crashes in a way it does not recover from by
   * itself (kafkajs gave up retrying: broker unreachable for long, coordinator lost), the child
   * retires its partitions' actors (drain, commit what is safe; their uncommitted records are
   * replayed by the next owner) and ends as failed, and the supervisor joins again after its
   * backoff. Stopping it drains and commits every partition, then leaves the group.
   */
  consumerChild(): ChildSpecOptions {
    return {
      id: this.consumerChildId,
      restart: 'permanent',
      shutdownTimeoutMs: (this.options.drainTimeoutMs ?? 30_000) + 10_000,
      start: () => this.joinGroup(),
    };
  }

  private async joinGroup(): Promise<ChildHandle> {
    const processor = this.processor;
    const consumer = this.options.log.groupConsumer({ groupId: processor.groupId, topics: processor.topics, maxBatchRecords: processor.maxBatchRecords });
    this.consumer = consumer;
    let end!: (exit: ChildExit) => void;
    const done = new Promise<ChildExit>((resolve) => (end = resolve));
    let leaving: Promise<void> | undefined;
    const leave = (): Promise<void> => (leaving ??= this.leaveGroup(consumer));
    try {
      await consumer.start({
        onAssigned: (tps) => this.onAssigned(tps),
        onRevoked: (tps) => this.onRevoked(tps),
        onBatch: async (batch) => this.onBatch(batch),
        onCrash: (error) => {
          if (leaving) return;
          this.logger.error({ err: error }, 'consumer crashed; its partitions are retired and the group joined again after a backoff');
          void leave().then(() => end({ reason: 'failed', error }));
        },
        // Partitions may move: commit what is safe now, so their next owner replays less.
        onRebalancing: () => void this.commitNow(),
      });
    } catch (err) {
      await leave();
      throw err;
    }
    return {
      done,
      stop: async () => {
        await leave();
        end({ reason: 'shutdown' });
      },
    };
  }

  /**
   * Leaves the group (draining and committing every partition while still a member, if the
   * client still can, within 10 s), then retires whatever partition actors are left.
   */
  private async leaveGroup(consumer: GroupConsumer): Promise<void> {
    await Promise.race([
      consumer.stop().catch((err: unknown) => this.logger.warn({ err }, 'leaving the consumer group failed')),
      new Promise((resolve) => setTimeout(resolve, 10_000).unref()),
    ]);
    if (this.consumer === consumer) this.consumer = undefined;
    for (const entry of [...this.partitions.values()]) await this.retire(entry);
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

  /** Stops fetching, drains every partition, commits, leaves the group, flushes the sinks. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.commitTimer) clearInterval(this.commitTimer);
    await this.connectors?.terminateChild(this.consumerChildId);
    for (const entry of [...this.partitions.values()]) await this.retire(entry);
    // The supervisor itself is stopped by its parent (the node): stopping it here would look to
    // the node like a child that ended, and be restarted.
    await this.committing;
    for (const sink of Object.values(this.processor.sinks)) await sink.stop?.();
    await this.deadLetters?.stop?.();
    await this.changelogReader?.close();
    await this.stateDir?.close();
    this.emit({ type: 'processor.stopped', processor: this.processor.id, at: Date.now() });
    this.events.complete();
  }

  /**
   * For a finite input: waits until this node has taken and completed every record that is in
   * its source topics now, then ends each partition's input (watermark +∞, so every open window
   * fires), waits for the results to be acknowledged, and commits. The processor takes no more
   * records afterwards; stop it next. Every partition must be assigned to this node.
   *
   * @example
   * await app.start();
   * await app.processor('clickstream').finishInput();
   * await app.stop();
   */
  async finishInput(options: { timeoutMs?: number } = {}): Promise<void> {
    const admin = this.options.log.admin();
    const ends = new Map<string, number>();
    try {
      for (const topic of this.processor.topics) {
        for (const end of await admin.endOffsets(topic)) ends.set(keyOf(end), end.offset);
      }
    } finally {
      await admin.close();
    }
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    const caughtUp = (): boolean =>
      [...ends].every(([key, end]) => {
        const pipeline = this.partitions.get(key)?.pipeline;
        if (end === 0) return this.partitions.get(key) !== undefined;
        return pipeline !== undefined && this.partitions.get(key)!.accepting && pipeline.tracker.nextOffset >= end && pipeline.tracker.pending === 0;
      });
    while (!caughtUp()) {
      if (Date.now() > deadline) throw new Error(`finishInput: not caught up with ${this.processor.topics.join(', ')} within the timeout`);
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const entry of this.partitions.values()) {
      entry.accepting = false;
      entry.pipeline?.end();
    }
    for (const entry of this.partitions.values()) {
      if (entry.pipeline) {
        await entry.pipeline.drain();
        await this.commitEntry(entry, entry.pipeline);
      }
    }
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
    await Promise.all([...this.partitions.values()].map((entry) => entry.pipeline?.checkpoint()));
    const offsets: PartitionOffset[] = [];
    const entries: Array<[PartitionEntry, PartitionPipeline, ResumePoint]> = [];
    for (const entry of this.partitions.values()) {
      const pipeline = entry.pipeline;
      if (!pipeline) continue;
      const point = pipeline.resumePoint();
      if (movedSinceCommit(entry, point)) {
        offsets.push(this.offsetToCommit(entry, point));
        entries.push([entry, pipeline, point]);
      }
    }
    if (offsets.length === 0 || !this.consumer) return;
    await this.consumer.commit(offsets);
    for (const [entry, pipeline, point] of entries) this.committed(entry, pipeline, point);
    this.options.metrics.commits.inc({ processor: this.processor.id });
  }

  private async commitEntry(entry: PartitionEntry, pipeline: PartitionPipeline): Promise<void> {
    await this.committing;
    await pipeline.checkpoint();
    const point = pipeline.resumePoint();
    if (movedSinceCommit(entry, point) && this.consumer) {
      await this.consumer.commit([this.offsetToCommit(entry, point)]);
      this.committed(entry, pipeline, point);
      this.options.metrics.commits.inc({ processor: this.processor.id });
    }
  }

  private offsetToCommit(entry: PartitionEntry, point: ResumePoint): PartitionOffset {
    return { ...entry.topicPartition, offset: point.offset, metadata: encodeResumePoint(point) };
  }

  /**
   * A new owner's claim on a partition's state (see {@link PartitionState.restore}): the resume
   * point committed again, with the new epoch, strictly — it fails when this member does not
   * own the partition (any more), and the owner then writes nothing to the changelogs.
   */
  private async claim(entry: PartitionEntry, point: ResumePoint): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) throw new Error(`${this.processor.id}: no group member to claim ${entry.key} with`);
    await consumer.commit([this.offsetToCommit(entry, point)], { strict: true });
    entry.lastCommitted = point.offset;
    entry.resume = point;
  }

  /** One reader of changelog ranges for this processor's restores, opened on first use. */
  private reader(): PartitionReader {
    this.changelogReader ??= this.options.log.reader();
    return this.changelogReader;
  }

  /**
   * Creates a store's changelog topic when it does not exist (compacted, as many partitions as
   * the input topic), and checks one that does: another partition count, or no compaction, is
   * a {@link ChangelogTopicError} naming it. Once per topic.
   */
  private ensureChangelog(topic: string, inputTopic: string): Promise<void> {
    let ensured = this.changelogs.get(topic);
    if (!ensured) {
      ensured = (async () => {
        const partitions = this.partitionCounts.get(inputTopic);
        if (partitions === undefined) throw new ChangelogTopicError(topic, `the partition count of its input topic ${inputTopic} is unknown`);
        const admin = this.options.log.admin();
        try {
          await admin.ensureTopics([{ name: topic, partitions, config: CHANGELOG_CONFIG }]);
          const count = await admin.partitionCount(topic);
          if (count !== partitions) {
            throw new ChangelogTopicError(topic, `has ${String(count)} partitions, but its input topic ${inputTopic} has ${partitions}: a store's changelog must have as many as its input`);
          }
          const policy = (await admin.topicConfig(topic))?.['cleanup.policy'] ?? '';
          if (!policy.split(',').includes('compact')) {
            throw new ChangelogTopicError(topic, `cleanup.policy is '${policy || 'delete'}': a changelog must be compacted (cleanup.policy=compact), or its state is lost to retention`);
          }
        } finally {
          await admin.close();
        }
      })();
      ensured.catch(() => this.changelogs.delete(topic));
      this.changelogs.set(topic, ensured);
    }
    return ensured;
  }

  private committed(entry: PartitionEntry, pipeline: PartitionPipeline, point: ResumePoint): void {
    if (point.offset > entry.lastCommitted || (point.offset === entry.lastCommitted && point.replayUntil > entry.resume.replayUntil) || stateMoved(entry.resume, point)) {
      entry.lastCommitted = point.offset;
      entry.resume = point;
    }
    pipeline.tracker.forgetStatesBefore(point.offset);
    if (point.state) pipeline.state.committed(point.state);
  }

  private async onAssigned(tps: readonly TopicPartition[]): Promise<void> {
    const consumer = this.consumer!;
    const committed = await consumer.committed(tps);
    for (const tp of tps) {
      const key = keyOf(tp);
      if (this.partitions.has(key)) continue;
      const found = committed.find((c) => c.topic === tp.topic && c.partition === tp.partition);
      const offset = Math.max(0, found?.offset ?? -1);
      const entry: PartitionEntry = {
        topicPartition: { topic: tp.topic, partition: tp.partition },
        key,
        childId: `partition:${tp.topic}-${tp.partition}`,
        state: 'starting',
        pipeline: undefined,
        accepting: false,
        lastCommitted: offset,
        resume: decodeResumePoint(offset, found?.metadata),
        started: false,
        restarts: 0,
        failedAttempts: new Map(),
        revoked: false,
      };
      this.partitions.set(key, entry);
      this.childEntries.set(entry.childId, entry);
      await this.supervisor.startChild({
        id: entry.childId,
        restart: 'transient',
        shutdownTimeoutMs: this.options.drainTimeoutMs ?? 30_000,
        start: () => this.startPartition(entry),
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

  /**
   * Starts a partition actor (the supervisor's child start): its pipeline begins at the
   * partition's resume point; after a restart the consumer is sought back there first, so the
   * new actor replays. The handle's `done` says how the actor ended; a failed actor has drained
   * and committed what was safe before it reports the failure.
   */
  private async startPartition(entry: PartitionEntry): Promise<ChildHandle> {
    const resume = entry.resume;
    const seek = entry.started;
    if (entry.started) entry.restarts++;
    entry.started = true;
    const { topicPartition } = entry;
    const processor = this.processor;
    const logger = this.logger.child({ topic: topicPartition.topic, partition: topicPartition.partition });
    const actor = createActor(partitionActorMachine, {
      input: {
        topicPartition,
        startPipeline: async () => {
          const pipeline = new PartitionPipeline({
            processor,
            topicPartition,
            resume,
            upstreams: this.upstreams,
            deadLetters: this.deadLetters!,
            failedAttempts: entry.failedAttempts,
            metrics: this.options.metrics,
            logger,
            state: new PartitionState({
              processorId: processor.id,
              topicPartition,
              multiTopic: processor.topics.length > 1,
              reader: this.reader(),
              producer: this.options.producer,
              ensureChangelog: (topic) => this.ensureChangelog(topic, topicPartition.topic),
              logger,
              localCopy: (store, changelog) => (this.processor.storeBackend(store) === 'lmdb' ? this.stateDir?.copy(changelog) : undefined),
            }),
            onFailure: (error, failedOffset) => actor.send({ type: 'partition.failed', error, offset: failedOffset }),
            onBackpressure: (paused) => {
              if (paused) this.consumer?.pause(topicPartition);
              else if (!this.paused) this.consumer?.resume(topicPartition);
              actor.send({ type: paused ? 'partition.paused' : 'partition.resumed' });
              this.emitPartition(topicPartition, paused ? { type: 'partition.paused' } : { type: 'partition.resumed' });
            },
          });
          pipeline.start();
          const restored = await pipeline.restore((point) => this.claim(entry, point));
          if (restored) {
            logger.info({ ...restored }, 'partition state restored');
            this.emitPartition(topicPartition, { type: 'partition.restored', ...restored });
          }
          return pipeline;
        },
        drainPipeline: async (pipeline) => {
          entry.accepting = false;
          await pipeline.drain();
          await this.commitEntry(entry, pipeline);
        },
      },
    });
    let resolveRunning!: () => void;
    const running = new Promise<void>((resolve) => (resolveRunning = resolve));
    const done = new Promise<ChildExit>((resolveDone) => {
      let last = '';
      actor.subscribe({
        next: (snapshot) => {
          const state = stateName(snapshot.value);
          if (state === last) return;
          this.options.metrics.actors.inc({ processor: processor.id, state }, 1);
          if (last) this.options.metrics.actors.dec({ processor: processor.id, state: last }, 1);
          last = state;
          entry.state = state;
          if (state.startsWith('running') && !entry.pipeline) {
            entry.pipeline = snapshot.context.pipeline;
            if (seek) {
              this.consumer?.seek(topicPartition, resume.offset);
              if (!this.paused) this.consumer?.resume(topicPartition);
            }
            if (this.paused) this.consumer?.pause(topicPartition);
            entry.accepting = !entry.revoked;
            logger.info({ offset: resume.offset, restarts: entry.restarts }, 'partition actor running');
            this.emitPartition(topicPartition, { type: 'partition.started', offset: resume.offset });
            resolveRunning();
          }
          if (snapshot.status === 'done') {
            this.options.metrics.actors.dec({ processor: processor.id, state }, 1);
            resolveRunning();
            if (state === 'failed') {
              const error = snapshot.context.error ?? new Error('partition actor failed');
              void this.afterFailure(entry, error, snapshot.context.failedOffset).then(() => resolveDone({ reason: 'failed', error }));
            } else {
              entry.pipeline = undefined;
              this.emitPartition(topicPartition, { type: 'partition.stopped', committed: entry.lastCommitted });
              resolveDone({ reason: 'shutdown' });
            }
          }
        },
      });
    });
    actor.start();
    await running;
    return {
      done,
      stop: async () => {
        entry.accepting = false;
        actor.send({ type: 'partition.stop' });
        await done;
      },
    };
  }

  /** A partition actor failed: drain what was in flight, commit what is safe, and remember where to resume. */
  private async afterFailure(entry: PartitionEntry, error: Error, offset: number | undefined): Promise<void> {
    entry.accepting = false;
    const { topicPartition } = entry;
    this.logger.error({ err: error, topic: topicPartition.topic, partition: topicPartition.partition, offset }, 'partition actor failed');
    this.emitPartition(topicPartition, { type: 'partition.failed', error, offset });
    const pipeline = entry.pipeline;
    entry.pipeline = undefined;
    // The failure may have been raised in the middle of a batch: let that batch's turn register
    // its writes first, so that draining waits for them and the records before the failure count.
    await new Promise((resolve) => setImmediate(resolve));
    if (!pipeline) return;
    await pipeline.drain();
    await this.commitEntry(entry, pipeline).catch((err: unknown) => this.logger.warn({ err }, 'commit after failure failed'));
    entry.resume = pipeline.resumePoint();
  }

  private emitPartition(tp: TopicPartition, event: DistributiveOmit<PartitionLifecycleEvent, 'processor' | 'topic' | 'partition' | 'at'>): void {
    this.emit({ ...event, processor: this.processor.id, topic: tp.topic, partition: tp.partition, at: Date.now() } as LifecycleEvent);
  }

  private emit(event: LifecycleEvent): void {
    this.events.next(event);
  }
}

/** One partition's live figures, as {@link ProcessorRuntime.gauges} gives them. */
export interface PartitionGauges {
  readonly topic: string;
  readonly partition: number;
  readonly state: string;
  readonly committed: number;
  /** The next offset the pipeline takes; undefined while no actor runs. */
  readonly position: number | undefined;
  /** The partition's watermark (event time, ms); undefined while no actor runs. */
  readonly watermark: number | undefined;
  readonly pending: number;
  readonly restarts: number;
}

/** The answer to an interactive query on one node. */
export interface QueryAnswer {
  /** Whether the key's partition is assigned to this node. */
  readonly owned: boolean;
  readonly partition: number | undefined;
  /** Whether state is registered under the queried name. */
  readonly found: boolean;
  readonly value: unknown;
  /** The partition is still replaying: the value may lag behind its last run. */
  readonly stale: boolean;
}

/**
 * Whether a partition's resume point is worth committing: its offset moved, or only its
 * `replayUntil` did (an operator's hold pins the offset while results past it are delivered).
 */
function movedSinceCommit(entry: PartitionEntry, point: ResumePoint): boolean {
  return point.offset > entry.lastCommitted || point.replayUntil > entry.resume.replayUntil || stateMoved(entry.resume, point);
}

/** Whether the state positions (or the epoch) of `point` differ from those last committed. */
function stateMoved(committed: ResumePoint, point: ResumePoint): boolean {
  if (!point.state) return false;
  if (!committed.state || committed.state.epoch !== point.state.epoch) return true;
  for (const [name, position] of Object.entries(point.state.positions)) if (committed.state.positions[name] !== position) return true;
  return false;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function stateName(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const [parent, child] = Object.entries(value)[0] ?? [];
    return child === undefined ? String(parent) : `${parent}.${stateName(child)}`;
  }
  return String(value);
}
