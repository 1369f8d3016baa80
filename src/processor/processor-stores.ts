import type { Logger } from 'pino';
import type { LogConnector, LogProducer, PartitionReader, TopicPartition } from '../connectors/log.js';
import { ConfigError } from '../errors.js';
import type { TributaryMetrics } from '../observability/metrics.js';
import { LmdbStateDir, type LmdbStoreCopy } from '../state/lmdb-state-dir.js';
import { changelogTopic } from '../state/changelog.js';
import { compactChangelog } from '../state/changelog-compaction.js';
import { PartitionState, type StateMark } from '../state/partition-state.js';
import { SourceTableState } from '../state/source-table-state.js';
import { ChangelogTopics } from './changelog-topics.js';
import type { ResolvedProcessor } from './define-processor.js';
import type { PartitionEntry } from './partition-entry.js';
import type { ProcessorTables } from './processor-tables.js';

/** What a processor's {@link ProcessorStores} are given by its runtime. */
export interface ProcessorStoresOptions {
  readonly log: LogConnector;
  readonly producer: LogProducer;
  readonly metrics: TributaryMetrics;
  /** The directory of local store copies (stores on `'lmdb'`). */
  readonly stateDir?: string;
  /** The partition count of an input topic, undefined when unknown. */
  readonly partitionCount: (topic: string) => number | undefined;
  /** The processor's tables read from topics (each partition's state reads its own). */
  readonly tables?: ProcessorTables;
}

/**
 * Where one processor's stores live on this node: their changelog topics (each created or
 * checked once, see {@link ChangelogTopics}), the changelog reader every restore shares, the LMDB
 * directory of their local copies (stores on `'lmdb'`), and, from these, each partition's
 * {@link PartitionState}. A processor with a store on `'lmdb'` and no `stateDir` fails here, at
 * construction, with a `ConfigError` naming `stateDir`.
 *
 * @example
 * const stores = new ProcessorStores(processor, { log, producer, metrics, stateDir, partitionCount }, logger);
 * const state = stores.forPartition(entry, partitionLogger); // declared by the pipeline, restored by its actor
 */
export class ProcessorStores {
  private changelogReader: PartitionReader | undefined;
  private readonly changelogs: ChangelogTopics;
  private readonly stateDir: LmdbStateDir | undefined;

  constructor(
    private readonly processor: ResolvedProcessor,
    private readonly options: ProcessorStoresOptions,
    logger: Logger,
  ) {
    if (processor.usesLmdb) {
      if (!options.stateDir) throw new ConfigError('stateDir', `processor ${processor.id} keeps stores on 'lmdb': the app needs a stateDir to keep them in`);
      this.stateDir = new LmdbStateDir(options.stateDir, processor.id, logger);
    }
    this.changelogs = new ChangelogTopics(options.log, options.partitionCount);
  }

  /**
   * A partition's stores and their changelogs (none declared yet: its pipeline declares them),
   * appended through `transaction` (exactly-once: the partition's transaction), else the
   * processor's producer; its tables' dead letters too.
   */
  forPartition(entry: PartitionEntry, logger: Logger, transaction?: LogProducer): PartitionState {
    const producer = transaction ?? this.options.producer;
    const processor = this.processor;
    const { topicPartition } = entry;
    const reader = this.reader();
    const options: ConstructorParameters<typeof PartitionState>[0] = {
      processorId: processor.id,
      topicPartition,
      multiTopic: processor.topics.length > 1,
      reader,
      producer,
      ensureChangelog: (topic) => this.changelogs.ensure(topic, topicPartition.topic),
      logger,
      onProgress: (progress) => {
        entry.restoring = progress;
        this.options.metrics.restoreRecords.inc({ processor: processor.id, store: progress.store }, progress.batch);
      },
      onWritten: (store, records) => this.options.metrics.changelogRecords.inc({ processor: processor.id, store }, records),
      localCopy: (store, changelog) => (processor.storeBackend(store) === 'lmdb' ? this.stateDir?.copy(changelog) : undefined),
      storeBudget: processor.storeBudget,
    };
    const tables = this.options.tables;
    if (!tables?.any) return new PartitionState(options);
    const { tables: own, globals } = tables.forPartition(topicPartition, reader, processor.storeBudget.maxKeys, transaction);
    return new SourceTableState(options, own, globals);
  }

  /** The reader of changelogs (and of the tables' topics), shared by every partition's restore. */
  reader(): PartitionReader {
    this.changelogReader ??= this.options.log.reader();
    return this.changelogReader;
  }

  /**
   * The local copy on this node of `store` for the input partition `tp`, undefined for a store not
   * on `'lmdb'`: what a warm standby of that partition keeps up to date (see `StandbyReplica`).
   */
  standbyCopy(tp: TopicPartition, store: string): LmdbStoreCopy | undefined {
    const processor = this.processor;
    // A table from a topic has no changelog of its own (and lives in memory): nothing to stand by for.
    if (processor.tables.has(store) || processor.storeBackend(store) !== 'lmdb') return undefined;
    return this.stateDir?.copy({ topic: changelogTopic(processor.id, store, processor.topics.length > 1 ? tp.topic : undefined), partition: tp.partition });
  }

  /**
   * A commit of `mark` succeeded for `entry`'s partition: where the log compacts on its client's
   * word (MemoryLog), each store's changelog partition may be compacted below its committed
   * position, by the rule that changes no restore (`state/changelog-compaction.ts`).
   */
  committed(entry: PartitionEntry, mark: StateMark): void {
    const { log, processor } = { log: this.options.log, processor: this.processor };
    if (!log.compact) return;
    const { topic, partition } = entry.topicPartition;
    for (const [store, position] of Object.entries(mark.positions)) {
      if (processor.tables.has(store)) continue; // a table's topic is its own changelog: not ours to compact
      log.compact({ topic: changelogTopic(processor.id, store, processor.topics.length > 1 ? topic : undefined), partition }, position, compactChangelog);
    }
  }

  /** Closes the changelog reader and the LMDB directory (the processor has stopped). */
  async close(): Promise<void> {
    await this.changelogReader?.close();
    await this.stateDir?.close();
  }
}
