import type { Logger } from 'pino';
import { createTributary, type Tributary } from '../app/tributary.js';
import type { LogProducer, LogRecord, OutgoingRecord } from '../connectors/log.js';
import { MemoryLog, UnknownTopicError } from '../connectors/memory/index.js';
import { TributaryError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { TributaryMetrics } from '../observability/metrics.js';
import { resolveProcessor, type ProcessorDefinition, type ResolvedProcessor } from '../processor/define-processor.js';
import type { LifecycleEvent } from '../processor/lifecycle-event.js';
import type { QueryAnswer } from '../processor/partition-views.js';
import { expandStages } from '../processor/expand-stages.js';
import { json } from '../serdes/json.js';
import type { Serde } from '../serdes/serde.js';
import { string } from '../serdes/string.js';
import type { LateRecord } from '../streams/late-output.js';
import type { BackoffOptions } from '../supervision/backoff.js';
import { SimulatedClock } from '../supervision/simulated-clock.js';
import type { SupervisorEvent } from '../supervision/supervisor-event.js';
import { Instrumentation, type FailureOptions, type InjectedFailures } from './instrument.js';
import { decodeDeadLetter, decodeRecord, type DeadLetterRecord, type OutputRecord, type TestRecord } from './test-records.js';

/** Options of {@link createTestDriver}. */
export interface TestDriverOptions {
  /** The processors under test: the same definitions the app runs. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly processors: readonly ProcessorDefinition<any, any>[];
  /**
   * Partitions of the topics the driver creates (every source topic, and any other topic named
   * here); a source topic not named has 1. Other topics (a `toTopic` sink without `partitions`)
   * are created on first write with 1 partition, as a broker with `auto.create.topics.enable`.
   */
  readonly partitions?: Readonly<Record<string, number>>;
  /** The simulated wall clock's start, epoch ms. Default 0. */
  readonly startTime?: number;
  /** Default: silent. */
  readonly logger?: Logger;
  /** Restart backoff of failed partition actors. Default the app's: 100 ms doubling to 10 s, without jitter here. */
  readonly restartBackoff?: BackoffOptions;
  /** Supervision intensity and the liveness watchdog's `stallTimeoutMs`, as `createTributary`'s. */
  readonly supervision?: { readonly intensity?: number; readonly periodMs?: number; readonly stallTimeoutMs?: number };
}

/** Encoding of records piped into an input topic. */
export interface TestInputOptions<K, V> {
  /** Default: the key serde of the first processor reading the topic, else `string()`. */
  readonly key?: Serde<K>;
  /** Default: the value serde of the first processor reading the topic, else `json()`. */
  readonly value?: Serde<V>;
}

/**
 * An input topic of a {@link TestDriver}: each `pipe` appends to the log and waits until the app
 * has taken everything it can without wall-clock time passing.
 *
 * @example
 * const clicks = driver.input<string, Click>('clicks');
 * await clicks.pipe({ key: 'u1', value: { userId: 'u1', page: '/', ts: 1_000 } });
 */
export interface TestInputTopic<K, V> {
  readonly topic: string;
  /** Encodes and appends `records` (one or many) in order, then lets the app process them. */
  pipe(records: TestRecord<K, V> | readonly TestRecord<K, V>[]): Promise<void>;
  /** Appends records as they are on the wire (bytes or text: malformed input, for the dead letters). */
  pipeRaw(records: OutgoingRecord | readonly OutgoingRecord[]): Promise<void>;
}

/**
 * An output topic of a {@link TestDriver}, read from the log: partition 0 first, each in offset
 * order (Kafka's order: per partition).
 *
 * @example
 * driver.output<PageView>('page-views').values(); // every value so far
 */
export interface TestOutputTopic<K, V> {
  readonly topic: string;
  /** Every record so far, decoded. */
  records(): OutputRecord<K, V>[];
  /** Every value so far. */
  values(): V[];
  /** The values not yet read through this reader (Kafka Streams' `readValuesToList`). */
  readValues(): V[];
}

/**
 * Runs processors on the embedded MemoryLog under a simulated clock, for unit tests of a
 * topology: pipe records in, move event time and wall-clock time explicitly, read the outputs,
 * dead letters, late records and stores, and make a partition fail at a given record to see its
 * restart and replay. What runs is the app itself (`createTributary` over a `MemoryLog`, with
 * the driver's clock): the same group member, partition actors, pipelines, offset tracking,
 * commits, changelogs and supervision as in production. See `docs/runtime.md`, "The test driver".
 *
 * Deterministic: every wait is for the app to be at rest (no record in flight that can move
 * without wall-clock time), never a real delay; backoff has no jitter; the same calls give the
 * same outputs in the same order. Sinks run for real: topic sinks write to the driver's log,
 * others as they are (a sink that waits on real time or I/O is not waited for).
 *
 * @example
 * const driver = await createTestDriver({ processors: [pageViews] });
 * await driver.input('clicks').pipe({ key: 'u1', value: { userId: 'u1', page: '/', ts: 1_000 } });
 * await driver.advanceEventTime(120_000);
 * expect(driver.output('page-views').values()).toEqual([{ page: '/', windowStart: 0, views: 1 }]);
 * await driver.close();
 */
export class TestDriver {
  /** The app under test. */
  readonly app: Tributary;
  readonly log: MemoryLog;
  /** The wall clock of everything in the app (supervision, commits, processing time). */
  readonly clock: SimulatedClock;
  readonly metrics: TributaryMetrics;
  private readonly instrumentation = new Instrumentation();
  private readonly stages: ResolvedProcessor[];
  private readonly producer: LogProducer;
  private readonly events: LifecycleEvent[] = [];
  private readonly supervisorEvents: SupervisorEvent[] = [];
  private readonly readPositions = new Map<string, number>();
  private closed = false;

  /** Use {@link createTestDriver}. */
  constructor(private readonly options: TestDriverOptions) {
    this.clock = new SimulatedClock(options.startTime ?? 0);
    this.log = new MemoryLog({ autoCreateTopics: true, clock: () => this.clock.now() });
    this.metrics = new TributaryMetrics();
    const processors = options.processors.map((p) => this.instrumentation.definition(p));
    this.stages = processors.flatMap((p) => expandStages(p)).map((p) => resolveProcessor(p) as ResolvedProcessor);
    for (const stage of this.stages) {
      if (stage.upstreamTopics) continue;
      for (const topic of stage.topics) this.log.createTopic(topic, options.partitions?.[topic] ?? 1);
    }
    // Tables' topics: as many partitions as the source topic they are co-partitioned with, unless given.
    for (const stage of this.stages) {
      for (const table of stage.tables.values()) {
        const partitions = options.partitions?.[table.topic] ?? (table.kind === 'table' && !stage.upstreamTopics ? (options.partitions?.[stage.topics[0]] ?? 1) : 1);
        this.log.createTopic(table.topic, partitions);
      }
    }
    for (const [topic, partitions] of Object.entries(options.partitions ?? {})) this.log.createTopic(topic, partitions);
    this.producer = this.log.producer();
    this.app = createTributary({
      log: this.log,
      processors,
      logger: options.logger ?? createLogger({ level: 'silent' }),
      metrics: this.metrics,
      clock: this.clock,
      // No jitter: restarts after exactly 100 ms, 200 ms, 400 ms, ...
      random: () => 0.5,
      restartBackoff: options.restartBackoff,
      supervision: options.supervision,
    });
    this.app.lifecycle.subscribe((event) => void this.events.push(event));
    this.app.supervision.subscribe((event) => void this.supervisorEvents.push(event));
  }

  /** Starts the app (joins the groups, starts every partition actor) and waits until it is at rest. */
  async start(): Promise<void> {
    await this.app.start();
    await this.settle();
  }

  /** The simulated wall-clock time now, epoch ms. */
  get now(): number {
    return this.clock.now();
  }

  /** Every lifecycle event so far (`partition.started`, `partition.failed`, `partition.restarting`, ...). */
  get lifecycle(): readonly LifecycleEvent[] {
    return this.events;
  }

  /** Every supervisor event so far, in the whole tree. */
  get supervision(): readonly SupervisorEvent[] {
    return this.supervisorEvents;
  }

  /** Timers pending on the simulated clock (commit intervals, restart backoffs, idle timeouts); 0 after {@link close}. */
  get pendingTimers(): number {
    return this.clock.pendingTimers;
  }

  /** An input topic, with its serdes. */
  input<K = string | null, V = unknown>(topic: string, options: TestInputOptions<K, V> = {}): TestInputTopic<K, V> {
    const reader = this.stages.find((s) => s.topics.includes(topic));
    const key = options.key ?? ((reader?.key ?? string()) as Serde<K>);
    const value = options.value ?? ((reader?.value ?? json()) as Serde<V>);
    const send = async (records: readonly OutgoingRecord[]): Promise<void> => {
      this.checkOpen();
      await this.producer.send(topic, records);
      await this.settle();
    };
    return {
      topic,
      pipe: (records) => {
        const list = (Array.isArray(records) ? records : [records]) as readonly TestRecord<K, V>[];
        return send(
          list.map((r) => ({
            key: r.key === undefined || r.key === null ? null : key.serialize(r.key),
            value: value.serialize(r.value),
            timestamp: r.timestamp,
            headers: r.headers,
            partition: r.partition,
          })),
        );
      },
      pipeRaw: (records) => send(Array.isArray(records) ? (records as readonly OutgoingRecord[]) : [records as OutgoingRecord]),
    };
  }

  /** An output topic (a `toTopic` sink's, or any topic of the log), decoded with `options` (default `string()` keys, `json()` values). */
  output<V = unknown, K = string | null>(topic: string, options: { readonly key?: Serde<K>; readonly value?: Serde<V> } = {}): TestOutputTopic<K, V> {
    const key = options.key ?? (string() as unknown as Serde<K>);
    const value = options.value ?? json<V>();
    const records = (): OutputRecord<K, V>[] => this.readTopic(topic).map((r) => decodeRecord(r, key, value));
    return {
      topic,
      records,
      values: () => records().map((r) => r.value),
      readValues: () => {
        // Per partition, where this topic was last read up to.
        const fresh: V[] = [];
        for (const r of records()) {
          const id = `${topic}:${r.partition}`;
          if (r.offset < (this.readPositions.get(id) ?? 0)) continue;
          this.readPositions.set(id, r.offset + 1);
          fresh.push(r.value);
        }
        return fresh;
      },
    };
  }

  /**
   * What a processor's (or stage's) sink acknowledged, whatever its kind (topic, function, NATS),
   * in acknowledgement order: the items as the pipeline emitted them, before any encoding.
   * `sink` is the name in the definition's `sinks` (`'default'` for a single sink).
   */
  results<T = unknown>(processorId: string, sink = 'default'): T[] {
    const written = this.instrumentation.written.get(`${processorId}/${sink}`);
    if (!written) {
      const known = [...this.instrumentation.written.keys()].join(', ');
      throw new TributaryError(`no sink '${sink}' of processor '${processorId}' (have: ${known})`);
    }
    return [...written] as T[];
  }

  /**
   * The dead letters of one processor (or stage), or of all of them, in the order of their
   * dead-letter topics: malformed records, poison records, results refused, late records of a
   * processor without a `late` sink.
   */
  deadLetters(processorId?: string): DeadLetterRecord[] {
    const stages = processorId === undefined ? this.stages : [this.stage(processorId)];
    const topics = [...new Set(stages.map((s) => s.deadLetterTopic))];
    return topics.flatMap((topic) => this.readTopic(topic).map(decodeDeadLetter)).filter((d) => processorId === undefined || d.processor === processorId);
  }

  /**
   * The records a processor's (or stage's) window operators found late: the elements its `late`
   * sink acknowledged (it gets each as a {@link LateRecord}, with why), or without one, the late
   * dead letters' values (JSON-decoded).
   */
  lateRecords<T = unknown>(processorId: string): T[] {
    const stage = this.stage(processorId);
    if (stage.sinks.late) return this.results<LateRecord<T>>(processorId, 'late').map((l) => l.element);
    return this.deadLetters(processorId)
      .filter((d) => d.kind === 'late')
      .map((d) => JSON.parse(d.value ?? 'null') as T);
  }

  /**
   * A store of one partition of a processor (or stage), live: a `KeyValueStore` (tables,
   * `keyedProcess`) or a `WindowStore` (`tumbling`, `hopping`). `partition` may be left out when
   * the input has one partition.
   */
  store<S = unknown>(processorId: string, name: string, partition?: number): S {
    const candidates = [...this.instrumentation.partitions.values()].filter(
      (p) => p.processorId === processorId && (partition === undefined || p.context.partition === partition),
    );
    if (candidates.length === 0) throw new TributaryError(`no partition ${partition ?? ''} of processor '${processorId}' has been built`);
    if (candidates.length > 1) {
      throw new TributaryError(`processor '${processorId}' has ${candidates.length} partitions: say which (store('${processorId}', '${name}', partition))`);
    }
    const stores = (candidates[0].scope?.stores as { readonly stores?: ReadonlyMap<string, unknown> } | undefined)?.stores;
    const store = stores?.get(name);
    if (store === undefined) {
      throw new TributaryError(`processor '${processorId}' has no store '${name}' (have: ${[...(stores?.keys() ?? [])].join(', ') || 'none'})`);
    }
    return store as S;
  }

  /** An interactive query, answered as in production from the partition that holds the key (`app.processor(id).query`). */
  query(processorId: string, name: string, key: string): QueryAnswer {
    return this.app.processor(processorId).query(name, key);
  }

  /**
   * Makes the pipeline throw when a matching record reaches it (as a user operator's throw):
   * the partition actor fails, commits what was acknowledged, and its supervisor restarts it
   * after the backoff (advance the wall clock by it: 100 ms for a first restart), restoring its
   * stores and replaying from the committed offset. A record that fails `maxAttempts` (3) times
   * goes to the dead letters as poison.
   */
  failAt(options: FailureOptions): InjectedFailures {
    return this.instrumentation.addFailure(options);
  }

  /**
   * Moves every source partition's watermark (of `processor`, or of all) to `watermark` if it is
   * behind, as an idle timeout does: windows ending at or before it fire, and repartition stages
   * downstream follow. Then waits until the app is at rest.
   */
  async advanceEventTime(watermark: number, options: { readonly processor?: string } = {}): Promise<void> {
    this.checkOpen();
    await this.settle();
    for (const p of this.instrumentation.partitions.values()) {
      if (!p.source || (options.processor !== undefined && p.processorId !== options.processor)) continue;
      if (!this.isRunning(p.processorId, p.context.topic, p.context.partition)) continue;
      p.context.clock.advanceTo(watermark);
    }
    await this.settle();
  }

  /**
   * Moves the simulated wall clock forward by `ms`, firing what falls due on the way in time
   * order (commits every `commitIntervalMs`, restart backoffs, idle timeouts, the pipeline's
   * `context.scheduler`), and waits until the app is at rest after each.
   */
  async advanceWallClock(ms: number): Promise<void> {
    this.checkOpen();
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new TributaryError(`advanceWallClock: ms must be a finite number >= 0, got ${String(ms)}`);
    const target = this.clock.now() + ms;
    await this.settle();
    for (let next = this.clock.nextTimerAt; next !== undefined && next <= target; next = this.clock.nextTimerAt) {
      await this.clock.advance(next - this.clock.now());
      await this.settle();
    }
    await this.clock.advance(target - this.clock.now());
    await this.settle();
  }

  /**
   * Ends the input as a finite source ends (watermark +∞ on every partition and stage, in
   * order): every open window fires; results are acknowledged and committed. Nothing more can
   * be piped afterwards. Every partition must be running (advance the wall clock past a pending
   * restart first).
   */
  async endInput(): Promise<void> {
    this.checkOpen();
    await this.settle();
    const waiting = this.app
      .status()
      .processors.flatMap((p) => p.partitions.filter((s) => !s.state.startsWith('running')).map((s) => `${p.id} ${s.topic}[${s.partition}] is ${s.state}`));
    const gaveUp = this.supervisorEvents.find((e) => e.type === 'supervisor.gave-up');
    // A permanent failure (a processor keyed unlike its input, a store over its budget) stopped it for good: nothing will finish.
    if (gaveUp) throw new TributaryError(`endInput: the app gave up: ${gaveUp.error.message}`, { cause: gaveUp.error });
    if (waiting.length > 0) throw new TributaryError(`endInput: not every partition is running (${waiting.join('; ')}): advance the wall clock first`);
    await this.app.finishInput();
    await this.settle();
  }

  /**
   * Stops the app (drains, commits, leaves the groups); no timer is left on the simulated clock.
   * While it stops, simulated time moves on to each timer it waits for, so that a sink that never
   * settles ends the drain at its shutdown timeout (30 s of simulated time), as in production.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.settle();
    let stopped = false;
    const stopping = this.app.stop().finally(() => (stopped = true));
    for (;;) {
      await this.settle();
      if (stopped || this.clock.nextTimerAt === undefined) break;
      await this.clock.advance(this.clock.nextTimerAt - this.clock.now());
    }
    await stopping;
    await this.settle();
  }

  /**
   * Waits until the app is at rest: nothing has moved for a few event-loop turns (positions,
   * pending records, commits, states, sink writes, lifecycle and supervisor events, timers) and
   * no partition is starting or draining. Never a real delay: each turn is one `setImmediate`.
   */
  async settle(): Promise<void> {
    let last = '';
    let stable = 0;
    for (let turn = 0; turn < 1_000_000; turn++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const signature = this.signature();
      if (signature !== last) {
        last = signature;
        stable = 0;
        continue;
      }
      if (++stable >= 3 && this.atRest()) return;
    }
    throw new TributaryError('the test driver: the app never came to rest (something keeps changing without wall-clock time)');
  }

  private signature(): string {
    let signature = `${this.events.length}|${this.supervisorEvents.length}|${this.instrumentation.activity}|${this.clock.pendingTimers}|${this.clock.nextTimerAt}`;
    for (const p of this.app.status().processors) {
      const gauges = this.app.processor(p.id).gauges();
      for (const g of gauges) signature += `|${g.topic}:${g.partition}:${g.state}:${g.committed}:${g.position}:${g.pending}:${g.watermark}:${g.restarts}`;
    }
    return signature;
  }

  private atRest(): boolean {
    if (this.app.status().state !== 'running') return true;
    return this.app.status().processors.every((p) => p.partitions.every((s) => s.state !== 'starting' && s.state !== 'draining'));
  }

  private isRunning(processorId: string, topic: string, partition: number): boolean {
    const found = this.app
      .processor(processorId)
      .status()
      .find((s) => s.topic === topic && s.partition === partition);
    return found?.state.startsWith('running') ?? false;
  }

  private stage(processorId: string): ResolvedProcessor {
    const stage = this.stages.find((s) => s.id === processorId);
    if (!stage) throw new TributaryError(`no processor '${processorId}' (have: ${this.stages.map((s) => s.id).join(', ')})`);
    return stage;
  }

  private readTopic(topic: string): LogRecord[] {
    try {
      return this.log.read(topic);
    } catch (err) {
      if (err instanceof UnknownTopicError) return []; // not created yet: nothing written to it
      throw err;
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new TributaryError('the test driver is closed');
  }
}

/**
 * Starts a {@link TestDriver} for `processors`: creates their input topics, starts the app on
 * the driver's MemoryLog and simulated clock, and resolves once every partition actor runs.
 *
 * @example
 * import { createTestDriver } from 'tributary/testing';
 * const driver = await createTestDriver({ processors: [pageViews], partitions: { clicks: 2 } });
 */
export async function createTestDriver(options: TestDriverOptions): Promise<TestDriver> {
  const driver = new TestDriver(options);
  await driver.start();
  return driver;
}
