import { asyncScheduler, isObservable, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { Logger } from 'pino';
import type { LogRecord, OutgoingRecord, PartitionBatch, TopicPartition } from '../connectors/log.js';
import { ConfigError } from '../errors.js';
import type { TributaryMetrics } from '../observability/metrics.js';
import type { PipelineContext, ResolvedProcessor } from '../processor/define-processor.js';
import type { Sink } from '../sinks/sink.js';
import { advanceOnIdle } from '../streams/advance-on-idle.js';
import type { LateInfo } from '../streams/late-output.js';
import type { OffsetHolds } from '../streams/offset-holds.js';
import type { StreamRecord } from '../streams/stream-record.js';
import { Multicast } from '../streams/multicast.js';
import type { WatermarkClock } from '../streams/watermark-clock.js';
import { PartitionTime } from './partition-time.js';
import { OffsetTracker } from './offset-tracker.js';
import type { ResumePoint, TimeState } from './resume-point.js';
import { RecordDecoder } from './record-decoder.js';
import { StateCheckpoints } from './state-checkpoints.js';
import { TurnWriter } from './turn-writer.js';
import { RepartitionOutput, takeFromUpstream } from './repartition-links.js';
import { RepartitionHeaders } from '../processor/repartition.js';
import { Turn } from './turn.js';
import type { PartitionState, RestoreSummary, StateMark } from '../state/partition-state.js';
import { MemoryKeyValueStore } from '../state/memory-key-value-store.js';
import { LmdbKeyValueStore } from '../state/lmdb-key-value-store.js';
import { MemoryWindowStore } from '../state/memory-window-store.js';
import { withPipelineScope, type PipelineScope } from '../streams/pipeline-scope.js';
import type { FailedAttempt } from './failed-attempt.js';

export type { FailedAttempt } from './failed-attempt.js';

/** Everything a {@link PartitionPipeline} needs from the processor runtime around it. */
export interface PartitionPipelineOptions {
  readonly processor: ResolvedProcessor;
  readonly topicPartition: TopicPartition;
  /** The committed offset this pipeline starts at, with the event-time state there. */
  readonly resume: ResumePoint;
  readonly deadLetters: Sink<OutgoingRecord>;
  /** Downstream of a repartition: the upstream partitions (`topic:partition`) that feed this one. */
  readonly upstreams?: readonly string[];
  /** Failed attempts per offset of this partition; survives restarts. */
  readonly failedAttempts: Map<number, FailedAttempt>;
  readonly metrics: TributaryMetrics;
  readonly logger: Logger;
  /** The pipeline failed (an operator threw, a sink write failed); called once. */
  readonly onFailure: (error: Error, offset: number | undefined) => void;
  /** Fetch should pause (`true`) or resume (`false`) for backpressure. */
  readonly onBackpressure: (paused: boolean) => void;
  /** The partition's stores and their changelogs (it may have none). */
  readonly state: PartitionState;
  /** Processing time (the idle watermark, `context.scheduler`). Default RxJS' `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

// Numbers pipeline instances, so each names itself uniquely to the sinks.
let pipelineInstances = 0;

/**
 * The data path of one partition: decode each fetched record (or dead-letter it), push it
 * through the user's RxJS pipeline, hand the results to the sinks, and mark the record
 * complete in the {@link OffsetTracker} when the sinks have acknowledged what it caused.
 *
 * Records of a batch are pushed synchronously, one after another, in offset order. Everything
 * the pipeline emits meanwhile belongs to that batch's {@link Turn}; the turn's results are
 * written when the batch is done, and its records complete (and its operators' holds are
 * released) when every write is acknowledged. Results emitted later, outside any batch (a timer,
 * an asynchronous operator), form a turn of their own that closes at the next microtask.
 *
 * Not an actor: the partition's {@link partitionActorMachine} owns one and drives its
 * lifecycle; records never go through `send()`.
 */
export class PartitionPipeline {
  /**
   * The partition's offsets. Its event-time states are the watermark (a number) for a source
   * partition, a {@link TimeState} downstream of a repartition.
   */
  readonly tracker: OffsetTracker<number | TimeState>;
  readonly time: PartitionTime;
  // Not an RxJS Subject: next() runs once per record, and Subject.next allocates on every call.
  private readonly records = new Multicast<StreamRecord>();
  private readonly subscriptions: Subscription[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly labels: { processor: string; topic: string; partition: string };
  private turn: Turn | undefined;
  private inBatch = false;
  private currentOffset: number | undefined;
  private failed = false;
  private failedNow!: () => void;
  /** Resolves when the pipeline fails. */
  private readonly failure = new Promise<void>((resolve) => (this.failedNow = resolve));
  private currentFailedOffset: number | undefined;
  private paused = false;
  private backpressureCheckScheduled = false;
  // True while a record before `resume.replayUntil` is in the pipeline: what it emits was delivered before.
  private replaying = false;
  // Downstream of a repartition, while a record is in the pipeline: its upstream partition's watermark.
  private lateBound: number | undefined;
  private suppressed = 0;
  private duplicates = 0;
  // Names this pipeline instance to the sinks: after one of its writes failed, none of its later ones is applied.
  private readonly origin: string;
  private readonly repartition: RepartitionOutput;
  private readonly queryables = new Map<string, (key: string) => unknown>();
  // With stores: the checkpoints written since the restore.
  private checkpoints: StateCheckpoints | undefined;
  private readonly decoder: RecordDecoder;
  private readonly writer: TurnWriter;
  private readonly checkpointListeners = new Set<() => void>();
  private readonly storeNames = new Map<string, number>();

  /** The partition's stores and their changelogs. */
  get state(): PartitionState {
    return this.options.state;
  }

  constructor(private readonly options: PartitionPipelineOptions) {
    this.tracker = new OffsetTracker<number | TimeState>(options.resume.offset);
    const { processor, topicPartition } = options;
    this.time = new PartitionTime({ outOfOrdernessMs: processor.outOfOrdernessMs, resume: options.resume.time, upstreams: options.upstreams });
    const upstreamId = `${topicPartition.topic}:${topicPartition.partition}`;
    this.origin = `${processor.id}/${upstreamId}#${++pipelineInstances}`;
    this.repartition = new RepartitionOutput(processor.repartitionSinks, upstreamId);
    this.labels = { processor: processor.id, topic: topicPartition.topic, partition: String(topicPartition.partition) };
    this.decoder = new RecordDecoder(processor, options.failedAttempts, options.logger);
    this.writer = new TurnWriter({ ...options, decoder: this.decoder, origin: this.origin });
  }

  /** True once the pipeline has failed; it takes no more records. */
  get hasFailed(): boolean {
    return this.failed;
  }

  /** The partition's event-time clock. */
  get clock(): WatermarkClock {
    return this.time.clock;
  }

  /** Results dropped because a replayed record had already delivered them. */
  get suppressedResults(): number {
    return this.suppressed;
  }

  /**
   * Answers an interactive query from the store (or `ctx.queryable` state) named `name`: `found`
   * says the key was found there. A window store answers with the key's open windows,
   * `[{ windowStart, value }]` by start. `stale` while the partition has not yet replayed up to
   * where its last run had got (its state is being rebuilt).
   */
  query(name: string, key: string): { found: boolean; value: unknown; stale: boolean } {
    const stale = this.tracker.nextOffset < this.options.resume.replayUntil;
    const lookup = this.queryables.get(name);
    if (lookup) {
      const value = lookup(key);
      return { found: value !== undefined, value, stale };
    }
    const store = this.options.state.stores.get(name);
    if (store instanceof MemoryKeyValueStore || store instanceof LmdbKeyValueStore) {
      const value: unknown = store.get(key);
      return { found: value !== undefined, value: value === undefined ? undefined : store.queryView(value), stale };
    }
    if (store instanceof MemoryWindowStore) {
      // Every window of the key, by start: [{ windowStart, value }].
      const windows: Array<{ windowStart: number; value: unknown }> = [];
      for (const start of [...store.starts()].sort((a, b) => a - b)) {
        const value: unknown = store.get(start, key);
        if (value !== undefined) windows.push({ windowStart: start, value: store.queryView(value) });
      }
      return { found: windows.length > 0, value: windows.length > 0 ? windows : undefined, stale };
    }
    return { found: false, value: undefined, stale };
  }

  /** Whether the pipeline declared any store. */
  get hasStores(): boolean {
    return this.options.state.hasStores;
  }

  /** Keys in each store now. */
  storeSizes(): Record<string, number> {
    const sizes: Record<string, number> = {};
    for (const [name, store] of this.options.state.stores) sizes[name] = store.size;
    return sizes;
  }

  /** Records from a repartition topic dropped as duplicates an upstream partition wrote again. */
  get duplicateRecords(): number {
    return this.duplicates;
  }

  /**
   * Where a restart should resume, and in which state: the safe commit point, the watermark
   * just before it, and the offset up to which every record was complete.
   */
  resumePoint(): ResumePoint {
    if (this.options.state.hasStores) return this.checkpointedResumePoint();
    const offset = this.tracker.commitPoint();
    const before = offset >= this.tracker.nextOffset ? undefined : this.tracker.stateBefore(offset);
    const time = before === undefined ? this.time.snapshot() : typeof before === 'number' ? { watermark: before } : before;
    return { offset, time, replayUntil: Math.max(offset, this.tracker.firstIncomplete(), this.options.resume.replayUntil) };
  }

  /**
   * With stores: the latest checkpoint whose records are all complete and that no hold keeps
   * back (see {@link StateCheckpoints}); before the restore, the point it started from.
   */
  private checkpointedResumePoint(): ResumePoint {
    const replayUntil = Math.max(this.tracker.firstIncomplete(), this.options.resume.replayUntil);
    if (!this.checkpoints) return this.options.resume;
    return this.checkpoints.resumePoint(Math.min(this.tracker.commitPoint(), this.tracker.firstIncomplete()), replayUntil);
  }

  /**
   * Restores the stores the pipeline declared to the state at the resume point, claiming the
   * partition for a new epoch first (`claim` commits the resume point with it, strictly).
   * Undefined when the pipeline has no stores.
   */
  async restore(claim: (point: ResumePoint) => Promise<void>): Promise<RestoreSummary | undefined> {
    const { state, resume } = this.options;
    if (!state.hasStores) return undefined;
    // Stores the topology no longer declares keep their committed marks.
    const summary = await state.restore(resume.state, (mark) =>
      claim({ ...resume, state: { epoch: mark.epoch, positions: { ...resume.state?.positions, ...mark.positions }, owners: { ...resume.state?.owners, ...mark.owners } } }),
    );
    this.checkpoints = new StateCheckpoints(resume, state.mark());
    return summary;
  }

  /**
   * Writes a checkpoint of the stores: lets `on-commit` operators emit, writes what they
   * emitted, takes every store's changes at the current input offset and appends them to the
   * changelogs. Resolves when the changes and every result written before them are
   * acknowledged; {@link resumePoint} may then name it. Nothing to do without stores.
   */
  async checkpoint(): Promise<void> {
    const { state } = this.options;
    if (!state.hasStores || this.failed || this.inBatch) return;
    for (const listener of this.checkpointListeners) listener();
    this.closeTurn();
    const offset = this.tracker.nextOffset;
    const time = this.time.snapshot();
    // User code holding an offset (`hold()`) keeps an earlier record: its state is
    // not in the changelogs, so the stores' state at this offset cannot be resumed from.
    const hold = this.tracker.lowestHold();
    const usable = hold === undefined || hold >= offset;
    const results = [...this.inFlight];
    let mark: StateMark;
    try {
      mark = await state.checkpoint();
    } catch (err) {
      // A changelog write failed for good: the state past the last checkpoint is not durable. Fail; the restart restores and replays.
      this.fail(err);
      return;
    }
    // A write that never settles must not hold every later commit of the processor: once the
    // pipeline has failed (the watchdog fails a stalled one), stop waiting.
    await Promise.race([Promise.allSettled(results), this.failure]);
    if (this.failed) return;
    if (usable) this.checkpoints?.add({ offset, time, mark });
  }

  /** Subscribes the user's pipeline. Throws a {@link ConfigError} when its outputs do not match the sinks. */
  start(): void {
    const holds: OffsetHolds = { hold: (offset) => this.hold(offset) };
    const scope: PipelineScope = {
      clock: this.clock,
      holds,
      late: (element, info) => this.late(element, info),
      stores: this.options.state,
      onCheckpoint: (listener) => {
        this.checkpointListeners.add(listener);
        return () => this.checkpointListeners.delete(listener);
      },
      lateBound: () => this.lateBound,
      storeName: (operator) => {
        const n = (this.storeNames.get(operator) ?? 0) + 1;
        this.storeNames.set(operator, n);
        return `${operator}-${n}`;
      },
    };
    withPipelineScope(scope, () => this.build(holds));
  }

  private build(holds: OffsetHolds): void {
    const { processor, topicPartition, logger } = this.options;
    const context: PipelineContext = {
      processorId: processor.id,
      topic: topicPartition.topic,
      partition: topicPartition.partition,
      holds,
      clock: this.clock,
      late: (element: unknown, info: LateInfo) => this.late(element, info),
      queryable: (name, lookup) => void this.queryables.set(name, lookup),
      scheduler: this.options.scheduler ?? asyncScheduler,
      logger,
    };
    const outputs = processor.pipeline(this.records.observable, context);
    const streams: Array<[string, Observable<unknown>]> = isObservable(outputs)
      ? [['default', outputs]]
      : Object.entries(outputs as Record<string, Observable<unknown>>);
    for (const [name, stream] of streams) {
      if (!processor.sinks[name]) {
        throw new ConfigError(`${processor.id}.sinks`, `the pipeline returns a stream '${name}' but no sink has that name`);
      }
      if (!isObservable(stream)) throw new ConfigError(`${processor.id}.pipeline`, `output '${name}' is not an Observable`);
    }
    for (const [name, stream] of streams) {
      this.subscriptions.push(
        stream.subscribe({
          next: (item) => this.emit(name, item),
          error: (err: unknown) => this.fail(err),
        }),
      );
    }
    if (processor.idleTimeoutMs !== undefined) {
      this.subscriptions.push(
        advanceOnIdle({ clock: this.clock, idleTimeout: processor.idleTimeoutMs, scheduler: this.options.scheduler }).subscribe({ error: (err: unknown) => this.fail(err) }),
      );
    }
  }

  private emit(sink: string, item: unknown): void {
    if (this.replaying) {
      this.suppressed++;
      return;
    }
    if (this.repartition.has(sink)) {
      // Identify the item by the record that caused it, so a downstream stage can drop it when a replay writes it again.
      this.openTurn().add(sink, this.repartition.data(item, this.currentOffset ?? this.tracker.nextOffset - 1, this.clock.settled));
      return;
    }
    this.openTurn().add(sink, item);
  }

  private late(element: unknown, info: LateInfo): void {
    if (this.replaying) return;
    const { processor, topicPartition, metrics, logger } = this.options;
    metrics.lateRecords.inc({ processor: processor.id, operator: info.operator });
    logger.debug({ offset: info.offset, timestamp: info.timestamp, watermark: info.watermark, operator: info.operator }, 'late record');
    if (processor.sinks.late) {
      this.openTurn().add('late', element);
      return;
    }
    const record: LogRecord = {
      topic: topicPartition.topic,
      partition: topicPartition.partition,
      offset: info.offset ?? -1,
      key: null,
      value: Buffer.from(JSON.stringify(element) ?? 'null', 'utf8'),
      headers: {},
      timestamp: info.timestamp,
    };
    this.openTurn().deadLetters.push({
      kind: 'late',
      reason: `late: event time ${info.timestamp} is behind the watermark ${info.watermark} of ${info.operator}${info.window ? ` (its window [${info.window.start}, ${info.window.end}${info.operator === 'session' ? ']' : ')'} had fired)` : ''}`,
      record,
      attempts: 1,
    });
  }

  /** Takes a fetched batch through the pipeline, synchronously. Records before the start offset are skipped. */
  deliver(batch: PartitionBatch): void {
    if (this.failed) return;
    const { metrics } = this.options;
    const { tracker, time, clock } = this;
    const turn = this.openTurn();
    const replayUntil = this.options.resume.replayUntil;
    const followsUpstreams = time.followsUpstreams;
    const records = batch.records;
    this.inBatch = true;
    // The batch's records are one run of the tracker: they complete together with the turn.
    tracker.beginRun();
    let taken = 0;
    try {
      for (let i = 0; i < records.length; i++) {
        const record = records[i];
        const offset = record.offset;
        if (offset < tracker.nextOffset || this.failed) continue;
        let bound: number | undefined;
        // The event-time state before the record: a source partition's is its watermark.
        tracker.take(offset, followsUpstreams ? time.snapshot() : clock.current);
        turn.take(offset);
        taken++;
        this.currentOffset = offset;
        this.replaying = offset < replayUntil;
        if (followsUpstreams) {
          const kind = takeFromUpstream(record, time);
          if (kind === 'duplicate') this.duplicates++;
          if (kind !== 'data') continue;
          const upstream = record.headers[RepartitionHeaders.upstream];
          bound = upstream === undefined ? undefined : time.upstreamWatermarkOf(String(upstream));
        }
        const letter = this.decoder.poison(record);
        if (letter) {
          if (!this.replaying) turn.deadLetters.push(letter);
          continue;
        }
        const decoded = this.decoder.decode(record);
        if ('kind' in decoded) {
          if (!this.replaying) turn.deadLetters.push(decoded);
          continue;
        }
        // Downstream of a repartition: the internal headers stay internal.
        this.lateBound = bound;
        this.records.next(followsUpstreams ? withoutRepartitionHeaders(decoded) : decoded);
        this.lateBound = undefined;
        if (!this.failed && !followsUpstreams) clock.observe(decoded.timestamp);
      }
    } finally {
      tracker.endRun();
      this.currentOffset = undefined;
      this.lateBound = undefined;
      this.replaying = false;
      this.inBatch = false;
      if (taken > 0) {
        metrics.recordsIn.inc(this.labels, taken);
        const last = records[records.length - 1];
        metrics.lag.set(this.labels, Math.max(0, batch.highWatermark - (last.offset + 1)));
      }
      this.closeTurn();
    }
  }

  /** The input ended (a finite source): completes the pipeline's records so every window fires. */
  end(): void {
    if (this.failed) return;
    this.openTurn();
    this.clock.close();
    this.records.complete();
    this.closeTurn();
  }

  /** The sinks with writes not yet acknowledged (what a stalled partition waits on). */
  get waitingOn(): string[] {
    return this.writer.waitingOn;
  }

  /**
   * Fails the pipeline from outside (the watchdog, when it has stalled): it takes no more
   * records, and its actor fails with `error`. Writes still in flight are abandoned.
   */
  failFromOutside(error: Error): void {
    this.fail(error);
  }

  /** Resolves when every write so far is acknowledged (or failed). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Unsubscribes the pipeline; its operators release their state. */
  stop(): void {
    for (const s of this.subscriptions) s.unsubscribe();
    this.subscriptions.length = 0;
  }

  private hold(offset: number): () => void {
    const release = this.tracker.hold(offset);
    // A release waits for the results emitted in the same turn: the window that released its
    // hold has just emitted its result, which must be acknowledged before the commit passes.
    return () => this.openTurn().releases.push(release);
  }

  private openTurn(): Turn {
    if (!this.turn) {
      this.turn = new Turn();
      if (!this.inBatch) queueMicrotask(() => this.closeTurn());
    }
    return this.turn;
  }

  private closeTurn(): void {
    const turn = this.turn;
    if (!turn) return;
    this.turn = undefined;
    const failedAt = this.currentFailedOffset;
    if (this.failed && failedAt !== undefined && failedAt >= turn.first && failedAt <= turn.last && !turn.dropLast(failedAt)) {
      // The record the pipeline failed at is always the last the turn took; were it not, none of
      // the turn's records would complete (they are replayed: at-least-once, never a gap).
      turn.records = 0;
    }
    if (!this.failed) this.repartition.forwardWatermark(turn, this.clock.current);
    const writes = this.writer.write(turn);
    if (writes.length === 0) {
      this.settle(turn);
      return;
    }
    const started = performance.now();
    const done = Promise.all(writes).then(
      () => {
        this.options.metrics.latency.observe({ processor: this.labels.processor }, (performance.now() - started) / 1000);
        this.settle(turn);
      },
      (err: unknown) => this.fail(err),
    );
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
    // Records of earlier turns still unacknowledged mean the sinks are behind: pause now. The
    // turn just written is judged once its writes have had a chance to be acknowledged: a sink
    // that acks at once must not make every large batch pause and resume the fetch.
    if (this.tracker.pending - turn.records >= this.options.processor.highWater) this.checkBackpressure();
    if (!this.backpressureCheckScheduled) {
      this.backpressureCheckScheduled = true;
      setImmediate(() => {
        this.backpressureCheckScheduled = false;
        if (!this.failed) this.checkBackpressure();
      });
    }
  }

  private settle(turn: Turn): void {
    try {
      this.tracker.completeRun(turn.first, turn.until, turn.records);
    } catch (err) {
      // The turn's records do not match the tracker's (a bug): fail, and let the restart replay them.
      this.fail(err);
      return;
    }
    for (const release of turn.releases) release();
    this.options.metrics.buffered.set(this.labels, this.tracker.pending);
    this.checkBackpressure();
  }

  private checkBackpressure(): void {
    const pending = this.tracker.pending;
    if (!this.paused && pending >= this.options.processor.highWater) {
      this.paused = true;
      this.options.metrics.pauses.inc(this.labels);
      this.options.onBackpressure(true);
    } else if (this.paused && pending <= this.options.processor.lowWater) {
      this.paused = false;
      this.options.onBackpressure(false);
    }
  }

  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.failedNow();
    const error = err instanceof Error ? err : new Error(String(err));
    const offset = this.currentOffset;
    this.currentFailedOffset = offset;
    if (offset !== undefined) {
      const previous = this.options.failedAttempts.get(offset);
      this.options.failedAttempts.set(offset, { count: (previous?.count ?? 0) + 1, lastError: error.message });
    }
    this.options.onFailure(error, offset);
  }
}

const REPARTITION_HEADERS: ReadonlySet<string> = new Set(Object.values(RepartitionHeaders));

/** `record` without the headers a repartition adds (a copy; records are shared with the log). */
function withoutRepartitionHeaders(record: StreamRecord): StreamRecord {
  const { headers } = record;
  if (headers[RepartitionHeaders.upstream] === undefined) return record;
  const kept: Record<string, unknown> = {};
  for (const name in headers) if (!REPARTITION_HEADERS.has(name)) kept[name] = headers[name];
  return { ...record, headers: kept as StreamRecord['headers'] };
}
