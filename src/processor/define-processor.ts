import type { Observable } from 'rxjs';
import { ConfigError } from '../errors.js';
import { json } from '../serdes/json.js';
import type { Serde } from '../serdes/serde.js';
import { string } from '../serdes/string.js';
import type { Sink } from '../sinks/sink.js';
import { deadLetterTopic } from '../supervision/dead-letter.js';
import type { StreamRecord } from '../streams/stream-record.js';
import type { PipelineContext, PipelineOutputs } from './pipeline-context.js';
import { isRepartitionSink } from './repartition.js';
import type { BufferOptions, DeadLetterOptions } from './stage-options.js';
import type { StoreBackend } from '../state/lmdb-state-dir.js';
import { resolveStoreBudget, type StoreBudget } from '../state/store-budget.js';
import type { TableSource } from '../state/source-table.js';
import { resolveTables } from './processor-tables.js';

export type { PipelineContext, PipelineOutputs } from './pipeline-context.js';
export type { BufferOptions, DeadLetterOptions } from './stage-options.js';

/** Event time of a processor. */
export interface EventTimeSettings {
  /** Bounded out-of-orderness: watermark = max event time seen − this. Default 0 ms. */
  readonly outOfOrdernessMs?: number;
  /**
   * After this long without records, a partition's watermark follows the wall clock (minus the
   * bound), so an idle partition does not hold every window back. Default: off (replays and
   * finite inputs must not depend on wall-clock time).
   */
  readonly idleTimeoutMs?: number;
}

/** Where a processor reads from and how records are decoded. */
export interface SourceOptions<K, V> {
  /** One topic or several (all partitions of each are spread over the group's members). */
  readonly topics: string | readonly string[];
  /** Key decoding. Default {@link string}. */
  readonly key?: Serde<K>;
  /** Value decoding (with validation). Default {@link json}. */
  readonly value?: Serde<V>;
  /**
   * Event time of a record, in epoch ms. Default: the log's timestamp. Returning `undefined`,
   * `null` or a non-finite number sends the record to the dead-letter topic.
   */
  readonly timestamp?: (record: StreamRecord<K, V>) => number | null | undefined;
  /** Larger records (key + value bytes) go to the dead-letter topic. Default 1,048,576. */
  readonly maxRecordBytes?: number;
}

/**
 * A processor: read a topic's partitions, run each through the same RxJS pipeline, write the
 * results to sinks, commit offsets when safe.
 */
export interface ProcessorDefinition<K = string | null, V = unknown> {
  /** Unique per app; also the default consumer group id and the prefix of internal topics. */
  readonly id: string;
  readonly source: SourceOptions<K, V>;
  /**
   * Called once per assigned partition (and again after a restart) with that partition's
   * records; returns the results. Records are delivered synchronously, so every result a
   * record causes synchronously is attributed to it.
   */
  readonly pipeline: (records: Observable<StreamRecord<K, V>>, context: PipelineContext) => PipelineOutputs;
  /**
   * One sink for a single result stream, or one per named stream of the pipeline's outputs.
   * A sink named `late` gets the records the pipeline's operators found late, each as a
   * `LateRecord` `{ element, info }` (`info`: the operator, the record's event time and
   * offset, the watermark, the window it missed); without one they are dead letters with that
   * reason.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly sinks: Sink<any> | Readonly<Record<string, Sink<any>>>;
  /** Consumer group. Default: `id`. */
  readonly groupId?: string;
  readonly deadLetters?: DeadLetterOptions;
  readonly eventTime?: EventTimeSettings;
  readonly buffer?: BufferOptions;
  /** How often completed offsets are committed. Default 1,000 ms (also on revoke and stop). */
  readonly commitIntervalMs?: number;
  /**
   * How often, at most, a repartition stage deletes the records of its repartition topic below
   * the offsets it has committed (Kafka's `DeleteRecords`, after a commit; Kafka Streams'
   * `repartition.purge.interval.ms`). Repartition topics have no time retention, so without it
   * they grow forever. Default 30,000 ms; `0` after every commit; `Infinity` never. Set on a
   * processor, it holds for each of its repartition stages. See docs/runtime.md, "Repartition".
   */
  readonly repartitionPurgeIntervalMs?: number;
  /**
   * Most records handed to the pipeline in one batch, where the log supports it (MemoryLog;
   * Kafka batches are bounded by `maxBytesPerPartition`). Default 500.
   */
  readonly maxBatchRecords?: number;
  /**
   * Set by {@link repartition} on the stages it creates: the topics whose partitions write to
   * this stage's input. The stage's watermark is their minimum; its clock does not follow its
   * own records' timestamps.
   */
  readonly upstream?: { readonly topics: readonly string[] };
  /**
   * How the processor's supervisor restarts its partition actors when one fails (OTP
   * strategies): `'one-for-one'` (default) restarts only the failed one; `'one-for-all'` all of
   * them (for pipelines whose partitions share state outside tributary); `'rest-for-one'` the
   * failed one and those started after it.
   */
  readonly restartStrategy?: 'one-for-one' | 'one-for-all' | 'rest-for-one';
  /**
   * Where the processor's stores keep their state: `'memory'` (default) or `'lmdb'` for every
   * store, or per store name (`{ totals: 'lmdb' }`; stores not named are in memory). An `'lmdb'`
   * key-value store reads through to its copy on local disk under the app's `stateDir` (one LMDB
   * environment per processor), with a bounded cache in memory, so that it may hold more than
   * memory and a node restarting on the same disk reads only the changelog past its local copy
   * (window stores and the stores of `keyedProcess`, `session` and `sliding` stay whole in
   * memory, with their copy on LMDB). Requires `stateDir`.
   */
  readonly stores?: StoreBackend | Readonly<Record<string, StoreBackend>>;
  /**
   * How much of each store (per partition) may live in memory: `maxKeys` (default 5,000,000)
   * keys of an in-memory store, beyond which its partition fails with a `StoreBudgetError`
   * (permanent: escalated, not restarted); `cacheKeys` (default 100,000) entries an `'lmdb'`
   * store keeps cached, evicting the least recently used beyond it.
   */
  readonly storeBudget?: Partial<StoreBudget>;
  /**
   * Topics read as tables, by store name: `table(topic)` (partition p read by this processor's
   * partition p: co-partitioned with the source topics, checked at start; the topic is its own
   * changelog) or `globalTable(topic)` (every partition, on every node). Join them in the pipeline
   * with `streamTableJoin(rates, ...)` or `tableTableJoin(rates, ...)`. See docs/joins.md.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly tables?: Readonly<Record<string, TableSource<any, any>>>;
  /**
   * Warm standbys: on how many other nodes each partition's state is kept up to date, so that a
   * takeover there restores only the changelog past the standby's copy. Default 0 (none); at most
   * 10. Needs stores on `'lmdb'` (the standby keeps their local copies; in-memory stores have no
   * standby) and a `cluster` (the standbys are placed from its membership view). See
   * docs/runtime.md, "Warm standbys".
   */
  readonly standbyReplicas?: number;
  /**
   * `'at-least-once'` (default): a replay after a failure may write again what was written since
   * the last commit (identical duplicates). `'exactly-once'`: every write a partition makes in a
   * commit interval (results, repartition records, changelog records, dead letters) and its input
   * offset go in one transaction of the log (Kafka's, or MemoryLog's), committed together or not
   * at all: read-committed readers see each result once. Every sink must then write to a topic of
   * the processor's log (`toTopic`, `toTopicRecords`, `repartition`): a NATS or function sink is
   * refused here, with a `ConfigError` naming it. See docs/runtime.md, "Exactly-once".
   */
  readonly guarantee?: Guarantee;
}

/** What a processor guarantees of its outputs (see {@link ProcessorDefinition.guarantee}). */
export type Guarantee = 'at-least-once' | 'exactly-once';

/** A processor definition with every default filled in, as the runtime uses it. */
export interface ResolvedProcessor<K = unknown, V = unknown> {
  readonly id: string;
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly key: Serde<K>;
  readonly value: Serde<V>;
  readonly timestamp: ((record: StreamRecord<K, V>) => number | null | undefined) | undefined;
  readonly maxRecordBytes: number;
  readonly pipeline: (records: Observable<StreamRecord<K, V>>, context: PipelineContext) => PipelineOutputs;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly sinks: Readonly<Record<string, Sink<any>>>;
  /** True when the pipeline returns a single stream (sink name `'default'`). */
  readonly singleOutput: boolean;
  readonly deadLetterTopic: string;
  readonly deadLetterPartitions: number;
  readonly maxAttempts: number;
  readonly outOfOrdernessMs: number;
  readonly idleTimeoutMs: number | undefined;
  readonly highWater: number;
  readonly lowWater: number;
  readonly commitIntervalMs: number;
  /** A repartition stage's purges of its topic: at most one every this many ms (`Infinity`: none). */
  readonly repartitionPurgeIntervalMs: number;
  readonly maxBatchRecords: number;
  readonly upstreamTopics: readonly string[] | undefined;
  readonly restartStrategy: 'one-for-one' | 'one-for-all' | 'rest-for-one';
  /** Names of the sinks that are repartitions. */
  readonly repartitionSinks: ReadonlySet<string>;
  /** The backend of the store named. */
  readonly storeBackend: (store: string) => StoreBackend;
  /** Whether any store may be on LMDB (the app then needs a `stateDir`). */
  readonly usesLmdb: boolean;
  /** How much of each store may live in memory. */
  readonly storeBudget: StoreBudget;
  /** The topics read as tables, by store name (`tables`). */
  readonly tables: ReadonlyMap<string, TableSource<unknown, unknown>>;
  /** Nodes besides the owner that keep each partition's state warm. */
  readonly standbyReplicas: number;
  readonly guarantee: Guarantee;
}

function nonNegativeInteger(setting: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ConfigError(setting, `must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

function positiveInteger(setting: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(setting, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/**
 * Defines a processor, checking its configuration now: a bad setting throws a
 * {@link ConfigError} that names it, before anything connects.
 *
 * @example
 * const pageViews = defineProcessor<string, Click>({
 *   id: 'page-views',
 *   source: { topics: 'clicks', value: json({ schema: clickSchema }), timestamp: (r) => r.value.ts },
 *   pipeline: (records) => records.pipe(map((r) => ({ page: r.value.page, ts: r.timestamp }))),
 *   sinks: toTopic('page-view-events', { key: (v) => v.page }),
 * });
 */
export function defineProcessor<K = string | null, V = unknown>(
  definition: ProcessorDefinition<K, V>,
): ProcessorDefinition<K, V> {
  resolveProcessor(definition);
  return definition;
}

/** Fills in defaults and validates; what {@link defineProcessor} checks. */
export function resolveProcessor<K, V>(definition: ProcessorDefinition<K, V>): ResolvedProcessor<K, V> {
  if (typeof definition !== 'object' || definition === null) throw new ConfigError('processor', 'must be an object');
  const { id } = definition;
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new ConfigError('id', `must match ${ID_PATTERN} (letters, digits, '.', '_', '-'), got ${JSON.stringify(id)}`);
  }
  const topicsValue = definition.source?.topics;
  const topics = typeof topicsValue === 'string' ? [topicsValue] : topicsValue ? [...topicsValue] : [];
  if (topics.length === 0 || topics.some((t) => typeof t !== 'string' || t.length === 0)) {
    throw new ConfigError(`${id}.source.topics`, 'must name at least one topic');
  }
  if (typeof definition.pipeline !== 'function') {
    throw new ConfigError(`${id}.pipeline`, 'must be a function (records, context) => Observable');
  }
  const sinksValue = definition.sinks;
  if (!sinksValue || typeof sinksValue !== 'object') throw new ConfigError(`${id}.sinks`, 'must be a sink or a record of sinks');
  const singleOutput = typeof (sinksValue as Sink<unknown>).write === 'function';
  const sinks = singleOutput ? { default: sinksValue as Sink<unknown> } : (sinksValue as Record<string, Sink<unknown>>);
  for (const [name, sink] of Object.entries(sinks)) {
    if (!sink || typeof sink.write !== 'function') throw new ConfigError(`${id}.sinks.${name}`, 'must have a write(items) function');
  }
  if (Object.keys(sinks).length === 0) throw new ConfigError(`${id}.sinks`, 'must name at least one sink');
  const highWater = positiveInteger(`${id}.buffer.highWater`, definition.buffer?.highWater, 10_000);
  const lowWater = positiveInteger(`${id}.buffer.lowWater`, definition.buffer?.lowWater, Math.max(1, Math.floor(highWater / 2)));
  if (lowWater > highWater) throw new ConfigError(`${id}.buffer.lowWater`, `must not exceed highWater (${highWater}), got ${lowWater}`);
  const maxRecordBytes = positiveInteger(`${id}.source.maxRecordBytes`, definition.source.maxRecordBytes, 1_048_576);
  if (definition.source.timestamp !== undefined && typeof definition.source.timestamp !== 'function') {
    throw new ConfigError(`${id}.source.timestamp`, 'must be a function (record) => epoch ms');
  }
  const stores = resolveStores(id, definition.stores);
  const guarantee = definition.guarantee ?? 'at-least-once';
  if (guarantee !== 'at-least-once' && guarantee !== 'exactly-once') {
    throw new ConfigError(`${id}.guarantee`, `must be 'at-least-once' or 'exactly-once', got ${JSON.stringify(guarantee)}`);
  }
  if (guarantee === 'exactly-once') {
    for (const [name, sink] of Object.entries(sinks)) {
      if (typeof sink.encode !== 'function') {
        throw new ConfigError(
          `${id}.sinks.${name}`,
          `sink ${sink.name ?? name} cannot write in a transaction: with guarantee 'exactly-once' every sink must write to a topic of the processor's log (toTopic, toTopicRecords, repartition); publish to NATS or call functions from a processor reading the output topic instead`,
        );
      }
    }
  }
  return {
    id,
    guarantee,
    groupId: definition.groupId ?? id,
    topics,
    key: definition.source.key ?? (string() as unknown as Serde<K>),
    value: definition.source.value ?? json<V>(),
    timestamp: definition.source.timestamp,
    maxRecordBytes,
    pipeline: definition.pipeline,
    sinks,
    singleOutput,
    deadLetterTopic: definition.deadLetters?.topic ?? deadLetterTopic(id),
    deadLetterPartitions: positiveInteger(`${id}.deadLetters.partitions`, definition.deadLetters?.partitions, 1),
    maxAttempts: positiveInteger(`${id}.deadLetters.maxAttempts`, definition.deadLetters?.maxAttempts, 3),
    outOfOrdernessMs: nonNegativeInteger(`${id}.eventTime.outOfOrdernessMs`, definition.eventTime?.outOfOrdernessMs, 0),
    idleTimeoutMs:
      definition.eventTime?.idleTimeoutMs === undefined
        ? undefined
        : positiveInteger(`${id}.eventTime.idleTimeoutMs`, definition.eventTime.idleTimeoutMs, 0),
    highWater,
    lowWater,
    commitIntervalMs: positiveInteger(`${id}.commitIntervalMs`, definition.commitIntervalMs, 1_000),
    repartitionPurgeIntervalMs: purgeInterval(`${id}.repartitionPurgeIntervalMs`, definition.repartitionPurgeIntervalMs),
    maxBatchRecords: positiveInteger(`${id}.maxBatchRecords`, definition.maxBatchRecords, 500),
    upstreamTopics: definition.upstream ? [...definition.upstream.topics] : undefined,
    restartStrategy: definition.restartStrategy ?? 'one-for-one',
    repartitionSinks: new Set(Object.entries(sinks).filter(([, sink]) => isRepartitionSink(sink)).map(([name]) => name)),
    ...stores,
    storeBudget: resolveStoreBudget(`${id}.storeBudget`, definition.storeBudget),
    tables: resolveTables(id, definition.tables, topics),
    standbyReplicas: resolveStandbyReplicas(id, definition.standbyReplicas, stores.usesLmdb),
  };
}

/** Kafka Streams' default `repartition.purge.interval.ms`. */
const DEFAULT_PURGE_INTERVAL_MS = 30_000;

function purgeInterval(setting: string, value: number | undefined): number {
  if (value === Infinity) return Infinity;
  return nonNegativeInteger(setting, value, DEFAULT_PURGE_INTERVAL_MS);
}

function resolveStandbyReplicas(id: string, value: number | undefined, usesLmdb: boolean): number {
  const replicas = nonNegativeInteger(`${id}.standbyReplicas`, value, 0);
  if (replicas > 10) throw new ConfigError(`${id}.standbyReplicas`, `must be at most 10, got ${replicas}`);
  if (replicas > 0 && !usesLmdb) throw new ConfigError(`${id}.standbyReplicas`, `a standby keeps the local copies of stores on 'lmdb': give the processor stores: 'lmdb' (or set standbyReplicas to 0)`);
  return replicas;
}

function resolveStores(id: string, stores: ProcessorDefinition['stores']): { storeBackend: (store: string) => StoreBackend; usesLmdb: boolean } {
  const backend = (setting: string, value: unknown): StoreBackend => {
    if (value !== 'memory' && value !== 'lmdb') throw new ConfigError(setting, `must be 'memory' or 'lmdb', got ${JSON.stringify(value)}`);
    return value;
  };
  if (stores === undefined || typeof stores === 'string') {
    const all = stores === undefined ? 'memory' : backend(`${id}.stores`, stores);
    return { storeBackend: () => all, usesLmdb: all === 'lmdb' };
  }
  if (typeof stores !== 'object' || stores === null) throw new ConfigError(`${id}.stores`, `must be 'memory', 'lmdb' or an object of them by store name`);
  const byName = new Map(Object.entries(stores).map(([name, value]) => [name, backend(`${id}.stores.${name}`, value)]));
  return { storeBackend: (store) => byName.get(store) ?? 'memory', usesLmdb: [...byName.values()].includes('lmdb') };
}
