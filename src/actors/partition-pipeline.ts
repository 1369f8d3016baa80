import type { SchedulerLike, Subscription } from 'rxjs';
import type { Logger } from 'pino';
import type { LogProducer, OutgoingRecord, PartitionBatch, TopicPartition } from '../connectors/log.js';
import type { TributaryMetrics } from '../observability/metrics.js';
import type { ResolvedProcessor } from '../processor/define-processor.js';
import type { Sink } from '../sinks/sink.js';
import { isPermanent } from '../errors.js';
import type { StreamRecord } from '../streams/stream-record.js';
import { Multicast } from '../streams/multicast.js';
import type { WatermarkClock } from '../streams/watermark-clock.js';
import { PartitionTime } from './partition-time.js';
import { OffsetTracker } from './offset-tracker.js';
import { PipelineStores, type PartitionQueryAnswer } from './pipeline-stores.js';
import { StoreKeyPartitioning, type KeyMismatch } from './store-key-partitioning.js';
import type { ResumePoint, TimeState } from './resume-point.js';
import { RecordDecoder } from './record-decoder.js';
import { TurnCycle } from './turn-cycle.js';
import { TurnWriter } from './turn-writer.js';
import { RepartitionOutput, takeFromUpstream, withoutRepartitionHeaders } from './repartition-links.js';
import { RepartitionHeaders } from '../processor/repartition.js';
import type { PartitionState, RestoreSummary } from '../state/partition-state.js';
import { subscribeUserPipeline } from './user-pipeline.js';
import type { FailedAttempt } from './failed-attempt.js';
import type { ResolvedScan, ScanRow } from '../processor/store-scan.js';

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
  /** The partition count of the partition's topic, undefined when unknown (its stores' keys are then not checked). */
  readonly partitionCount?: () => number | undefined;
  /** A store was found holding a key that does not map to this partition (see {@link StoreKeyPartitioning}). */
  readonly onKeyMismatch?: (mismatch: KeyMismatch) => void;
  /** With `guarantee: 'exactly-once'`: the partition's transaction, which every result and dead letter is written in (see `TurnWriter`). */
  readonly transaction?: Pick<LogProducer, 'send'>;
}

// Numbers pipeline instances, so each names itself uniquely to the sinks.
let pipelineInstances = 0;

/**
 * The data path of one partition: decode each fetched record (or dead-letter it), push it
 * through the user's RxJS pipeline (subscribed by {@link subscribeUserPipeline}), hand the
 * results to the sinks, and mark the record complete in the {@link OffsetTracker} when the sinks
 * have acknowledged what it caused.
 *
 * Records of a batch are pushed synchronously ({@link deliver}), one after another, in offset
 * order. Everything the pipeline emits meanwhile belongs to that batch's turn
 * ({@link TurnCycle}); the turn's results are written when the batch is done, and its records
 * complete (and its operators' holds are released) when every write is acknowledged. Results
 * emitted later, outside any batch (a timer, an asynchronous operator), form a turn of their own
 * that closes at the next microtask. Its stores are restored, checkpointed and named in commits
 * by {@link PipelineStores}.
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
  private readonly labels: { processor: string; topic: string; partition: string };
  /** The open turn, and those written whose acknowledgements are awaited. */
  private readonly turns: TurnCycle;
  private inBatch = false;
  private currentOffset: number | undefined;
  // The record in the pipeline now: what a store's sampled write is checked against, and the
  // time and offset of the elements made from it (PipelineScope.currentRecord).
  private currentRecord: StreamRecord | undefined;
  private failed = false;
  private failedForGood = false;
  private failedNow!: () => void;
  /** Resolves when the pipeline fails. */
  private readonly failure = new Promise<void>((resolve) => (this.failedNow = resolve));
  private currentFailedOffset: number | undefined;
  // Downstream of a repartition, while a record is in the pipeline: its upstream partition's watermark.
  private lateBound: number | undefined;
  // Names this pipeline instance to the sinks: after one of its writes failed, none of its later ones is applied.
  private readonly origin: string;
  private readonly repartition: RepartitionOutput;
  private readonly decoder: RecordDecoder;
  private readonly writer: TurnWriter;
  private readonly stores: PipelineStores;
  // The partition's time after the last batch, and how often it has moved between batches since.
  private timeAfterBatch: TimeState;
  private timeMovedOutside = 0;
  private readonly keys: StoreKeyPartitioning;

  /** The partition's stores and their changelogs. */
  get state(): PartitionState {
    return this.options.state;
  }

  constructor(private readonly options: PartitionPipelineOptions) {
    this.tracker = new OffsetTracker<number | TimeState>(options.resume.offset);
    const { processor, topicPartition } = options;
    this.time = new PartitionTime({ outOfOrdernessMs: processor.outOfOrdernessMs, resume: options.resume.time, upstreams: options.upstreams });
    this.timeAfterBatch = this.time.snapshot();
    const upstreamId = `${topicPartition.topic}:${topicPartition.partition}`;
    this.origin = `${processor.id}/${upstreamId}#${++pipelineInstances}`;
    this.repartition = new RepartitionOutput(processor.repartitionSinks, upstreamId);
    this.labels = { processor: processor.id, topic: topicPartition.topic, partition: String(topicPartition.partition) };
    this.decoder = new RecordDecoder(processor, options.failedAttempts, options.logger);
    this.writer = new TurnWriter({ ...options, decoder: this.decoder, origin: this.origin });
    this.turns = new TurnCycle({
      ...options,
      tracker: this.tracker,
      writer: this.writer,
      repartition: this.repartition,
      clock: this.time.clock,
      highWater: processor.highWater,
      lowWater: processor.lowWater,
      labels: this.labels,
      inBatch: () => this.inBatch,
      currentOffset: () => this.currentOffset,
      hasFailed: () => this.failed,
      failedAt: () => this.currentFailedOffset,
      failedForGood: () => this.failedForGood,
      fail: (err) => this.fail(err),
    });
    this.keys = new StoreKeyPartitioning(topicPartition, options.partitionCount ?? (() => undefined), options.onKeyMismatch ?? (() => undefined), {
      processor: processor.id,
      current: () => this.currentRecord,
    });
    // Each store the pipeline declares has its sampled writes checked against the input's partitioning.
    options.state.onDeclare((name, store, declared) => {
      const check = this.keys.declare(name, declared.operator, declared.partitioning);
      if (check) store.sampleWrites?.(check);
    });
    this.stores = new PipelineStores({
      state: options.state,
      resume: options.resume,
      tracker: this.tracker,
      time: this.time,
      turns: this.turns,
      inBatch: () => this.inBatch,
      hasFailed: () => this.failed,
      failure: this.failure,
      fail: (err) => this.fail(err),
      keys: this.keys,
      changesOutsideRecords: () => this.changesOutsideRecords,
    });
  }

  /**
   * A count that grows whenever the partition changes outside any record: its time moves between
   * batches (the end of the input, an idle advance, a timer's `advanceTo`), or a turn without a
   * record writes results (a timer's). A replay re-derives time from the records and drops only
   * what records emit, so it reproduces none of these: an exactly-once commit names a checkpoint
   * taken after every such change whose results it holds (`OffsetCommits.commitInTransaction`).
   */
  get changesOutsideRecords(): number {
    this.noticeTimeMoved();
    return this.timeMovedOutside + this.turns.writtenWithoutRecords;
  }

  /**
   * Whether the partition changed outside any record since its last checkpoint took the state
   * (see {@link changesOutsideRecords}, {@link PipelineStores.changedOutsideRecordsSinceCheckpoint}).
   */
  get changedOutsideRecordsSinceCheckpoint(): boolean {
    return this.stores.changedOutsideRecordsSinceCheckpoint;
  }

  private noticeTimeMoved(): void {
    if (this.inBatch) return;
    const now = this.time.snapshot();
    if (now === this.timeAfterBatch) return;
    this.timeMovedOutside++;
    this.timeAfterBatch = now;
  }

  /** True once the pipeline has failed; it takes no more records. */
  get hasFailed(): boolean {
    return this.failed;
  }

  /** The partition's event-time clock. */
  get clock(): WatermarkClock {
    return this.time.clock;
  }

  /**
   * Answers an interactive query from the store (or `ctx.queryable` state) named `name` (see
   * {@link PipelineStores.query}); `stale` while the partition has not yet replayed up to where
   * its last run had got (its state is being rebuilt).
   */
  query(name: string, key: string): PartitionQueryAnswer {
    return this.stores.query(name, key, this.replaying);
  }

  /** Not yet replayed up to where the last run had got: what queries answer may lag behind. */
  private get replaying(): boolean {
    return this.tracker.nextOffset < this.options.resume.replayUntil;
  }

  /** Whether the store `name` holds a key that does not map to this partition ({@link PipelineStores.keyMismatch}). */
  keyMismatch(name: string): KeyMismatch | undefined {
    return this.stores.keyMismatch(name);
  }

  /** Whether the store `name` was declared `partitioning: 'per-partition'` ({@link PipelineStores.isPerPartition}). */
  isPerPartition(name: string): boolean {
    return this.stores.isPerPartition(name);
  }

  /** Whether the pipeline has a store (or `ctx.queryable` state) named `name`. */
  hasStore(name: string): boolean {
    return this.stores.queryables.has(name) || this.options.state.stores.has(name);
  }

  /** The names of its stores and `ctx.queryable` states, for errors that name them. */
  storeNames(): string[] {
    return [...new Set([...this.stores.queryables.keys(), ...this.options.state.stores.keys()])];
  }

  /** Whether the pipeline declared any store. */
  get hasStores(): boolean {
    return this.options.state.hasStores;
  }

  /** Keys in each store now. */
  storeSizes(): Record<string, number> {
    return this.stores.sizes();
  }

  /** A range or full scan of the store `name` (see {@link PipelineStores.scan}), and whether the partition is still replaying. */
  scan(name: string, scan: ResolvedScan): { rows: ScanRow[] | undefined; stale: boolean } {
    return { rows: this.stores.scan(name, scan), stale: this.replaying };
  }

  /**
   * Where a restart should resume, and in which state: the safe commit point, the watermark
   * just before it, and the offset up to which every record was complete.
   */
  resumePoint(): ResumePoint {
    return this.stores.resumePoint();
  }

  /**
   * Restores the stores the pipeline declared to the state at the resume point, claiming the
   * partition for a new epoch first (see {@link PipelineStores.restore}). Undefined when the
   * pipeline has no stores.
   */
  restore(claim: (point: ResumePoint) => Promise<void>): Promise<RestoreSummary | undefined> {
    return this.stores.restore(claim);
  }

  /**
   * Writes a checkpoint of the stores between batches (see {@link PipelineStores.checkpoint});
   * {@link resumePoint} may name it once it is acknowledged. Nothing to do without stores.
   */
  checkpoint(): Promise<void> {
    return this.stores.checkpoint();
  }

  /** Subscribes the user's pipeline (see {@link subscribeUserPipeline}). Throws a `ConfigError` when its outputs do not match the sinks. */
  start(): void {
    subscribeUserPipeline(
      {
        ...this.options,
        clock: this.clock,
        records: this.records.observable,
        emit: (sink, item) => this.turns.emit(sink, item),
        late: (element, info) => this.turns.late(element, info),
        hold: (offset) => this.turns.hold(offset),
        fail: (err) => this.fail(err),
        lateBound: () => this.lateBound,
        currentRecord: () => this.currentRecord,
        onCheckpoint: (listener) => this.stores.onCheckpoint(listener),
        queryable: (name, lookup) => void this.stores.queryables.set(name, lookup),
      },
      this.subscriptions,
    );
  }

  /** Takes a fetched batch through the pipeline, synchronously. Records before the start offset are skipped. */
  deliver(batch: PartitionBatch): void {
    if (this.failed) return;
    const { metrics } = this.options;
    const { tracker, time, clock, turns } = this;
    // Before the batch: did the time move since the last one?
    this.noticeTimeMoved();
    const turn = turns.open();
    const replayUntil = this.options.resume.replayUntil;
    const followsUpstreams = time.followsUpstreams;
    const records = batch.records;
    // Kafka's records are the batch's own: decoded in place, one object per record.
    const inPlace = batch.exclusive === true;
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
        turns.replaying = offset < replayUntil;
        if (followsUpstreams) {
          if (takeFromUpstream(record, time) !== 'data') continue;
          const upstream = record.headers[RepartitionHeaders.upstream];
          bound = upstream === undefined ? undefined : time.upstreamWatermarkOf(String(upstream));
        }
        const letter = this.decoder.poison(record);
        if (letter) {
          if (!turns.replaying) turn.deadLetters.push(letter);
          continue;
        }
        const decoded = this.decoder.decode(record, inPlace);
        if ('kind' in decoded) {
          if (!turns.replaying) turn.deadLetters.push(decoded);
          continue;
        }
        // Downstream of a repartition: the internal headers stay internal.
        this.lateBound = bound;
        this.currentRecord = decoded;
        if (this.keys.learning > 0) this.keys.sawRecord(decoded.key);
        this.records.next(followsUpstreams ? withoutRepartitionHeaders(decoded) : decoded);
        this.currentRecord = undefined;
        this.lateBound = undefined;
        if (!this.failed && !followsUpstreams) clock.observe(decoded.timestamp);
      }
    } finally {
      tracker.endRun();
      this.currentOffset = undefined;
      this.currentRecord = undefined;
      this.lateBound = undefined;
      turns.replaying = false;
      this.inBatch = false;
      this.timeAfterBatch = time.snapshot();
      if (taken > 0) {
        metrics.recordsIn.inc(this.labels, taken);
        const last = records[records.length - 1];
        metrics.lag.set(this.labels, Math.max(0, batch.highWatermark - (last.offset + 1)));
      }
      this.turns.close();
    }
  }

  /** The input ended (a finite source): completes the pipeline's records so every window fires. */
  end(): void {
    if (this.failed) return;
    this.turns.open();
    this.clock.close();
    this.records.complete();
    this.turns.close();
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
  drain(): Promise<void> {
    return this.turns.drain();
  }

  /** Unsubscribes the pipeline; its operators release their state. */
  stop(): void {
    for (const s of this.subscriptions) s.unsubscribe();
    this.subscriptions.length = 0;
  }

  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.failedNow();
    const error = err instanceof Error ? err : new Error(String(err));
    this.failedForGood = isPermanent(error);
    const offset = this.currentOffset;
    this.currentFailedOffset = offset;
    if (offset !== undefined) {
      const previous = this.options.failedAttempts.get(offset);
      this.options.failedAttempts.set(offset, { count: (previous?.count ?? 0) + 1, lastError: error.message });
    }
    this.options.onFailure(error, offset);
  }
}
