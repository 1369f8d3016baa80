import type { Logger } from 'pino';
import type { LogConnector, LogProducer, LogRecord, PartitionReader, TopicPartition } from '../connectors/log.js';
import { ConfigError } from '../errors.js';
import { GlobalTableStore } from '../state/global-table-store.js';
import type { TableSource, TableView, UndecodableUpdate } from '../state/source-table.js';
import { SourceTableStore } from '../state/source-table-store.js';
import { isTableSource } from '../streams/table.js';
import { CoPartitioningError } from './co-partitioning-error.js';

const NAME_PATTERN = /^[A-Za-z0-9._-]{1,100}$/;

/** Checks a processor's `tables` option: store names, tables made by `table()`/`globalTable()`, none read twice. */
export function resolveTables(id: string, tables: unknown, topics: readonly string[]): ReadonlyMap<string, TableSource<unknown, unknown>> {
  const resolved = new Map<string, TableSource<unknown, unknown>>();
  if (tables === undefined) return resolved;
  if (typeof tables !== 'object' || tables === null) throw new ConfigError(`${id}.tables`, 'must be an object of tables by store name: { rates: table(topic) }');
  const seen = new Set<TableSource<unknown, unknown>>();
  for (const [name, source] of Object.entries(tables)) {
    if (!NAME_PATTERN.test(name)) throw new ConfigError(`${id}.tables.${name}`, 'the store name must be 1-100 of [A-Za-z0-9._-]');
    if (!isTableSource(source)) throw new ConfigError(`${id}.tables.${name}`, 'must be made by table(topic) or globalTable(topic)');
    if (seen.has(source)) throw new ConfigError(`${id}.tables.${name}`, 'the same table is named twice');
    if (source.kind === 'table' && topics.includes(source.topic)) {
      throw new ConfigError(`${id}.tables.${name}`, `topic ${source.topic} is both a source topic and a table of the processor: read it one way`);
    }
    seen.add(source);
    resolved.set(name, source);
  }
  return resolved;
}

/** What a processor's {@link ProcessorTables} are given. */
export interface ProcessorTablesOptions {
  readonly processorId: string;
  readonly tables: ReadonlyMap<string, TableSource<unknown, unknown>>;
  readonly log: LogConnector;
  readonly logger: Logger;
  /**
   * An update taken live that does not decode: to the dead letters (resolves once written),
   * through `transaction` when the partition writes in transactions (exactly-once).
   */
  readonly deadLetter: (record: LogRecord, reason: string, transaction?: Pick<LogProducer, 'send'>) => Promise<void>;
  /** An update that does not decode (counted, whether taken live or while restoring). */
  readonly onUndecodable?: (update: UndecodableUpdate) => void;
  /** The processor is a repartition stage (for the co-partitioning error's advice). */
  readonly stage?: boolean;
}

/**
 * A processor's tables read from topics, on this node: at start the co-partitioning check
 * (each `table()` topic has as many partitions as every source topic: a
 * {@link CoPartitioningError} otherwise) and the global tables read to their end (before any
 * partition starts); then each partition's tables ({@link forPartition}), the global ones shared.
 *
 * @example
 * const tables = new ProcessorTables({ processorId, tables, log, logger, deadLetter });
 * await tables.start(reader, partitionCounts); // throws CoPartitioningError on a mismatch
 * tables.forPartition({ topic: 'orders', partition: 2 }, reader, maxKeys); // table partition 2
 */
export class ProcessorTables {
  private readonly globals = new Map<TableSource<unknown, unknown>, GlobalTableStore<unknown, unknown>>();
  private readonly counts = new Map<string, number | undefined>();

  constructor(private readonly options: ProcessorTablesOptions) {}

  /** Whether the processor reads any table. */
  get any(): boolean {
    return this.options.tables.size > 0;
  }

  /**
   * Checks co-partitioning against the source topics' partition counts, then reads every global
   * table to its end. Rejects with a {@link CoPartitioningError} naming both topics and counts.
   */
  async start(reader: PartitionReader, sourceCounts: ReadonlyMap<string, number>): Promise<void> {
    const { tables, processorId, log } = this.options;
    if (tables.size === 0) return;
    const admin = log.admin();
    const counts = this.counts;
    try {
      for (const [name, source] of tables) {
        const count = await admin.partitionCount(source.topic);
        counts.set(source.topic, count);
        if (count === undefined) continue;
        // Its topic is the table's changelog: under delete retention, a restore would miss what expired.
        const policy = (await admin.topicConfig(source.topic))?.['cleanup.policy'] ?? 'delete';
        if (!policy.split(',').includes('compact')) {
          this.options.logger.warn({ table: name, topic: source.topic, policy }, 'the topic of a table is not compacted (cleanup.policy=compact): values that expire are lost to a restore');
        }
      }
    } finally {
      await admin.close();
    }
    for (const [name, source] of tables) {
      const count = counts.get(source.topic);
      if (source.kind === 'global') {
        if (count === undefined) throw new CoPartitioningError(processorId, '', 0, source.topic, undefined, name);
        continue;
      }
      for (const [topic, partitions] of sourceCounts) {
        if (count !== partitions) throw new CoPartitioningError(processorId, topic, partitions, source.topic, count, name, this.options.stage);
      }
    }
    for (const [name, source] of tables) {
      if (source.kind !== 'global') continue;
      const store = new GlobalTableStore({ name, source, partitions: counts.get(source.topic)!, reader, logger: this.options.logger, onUndecodable: (u) => void this.undecodable(u, false) });
      const { records } = await store.start();
      this.options.logger.info({ table: name, topic: source.topic, records, keys: store.store.size }, 'global table read to its end');
      this.globals.set(source, store);
    }
  }

  /** The tables of the processor's partition `tp` (each `table()` reads its topic's partition of that number), and the global ones. */
  forPartition(tp: TopicPartition, reader: PartitionReader, maxKeys: number, transaction?: Pick<LogProducer, 'send'>): {
    tables: Map<TableSource<unknown, unknown>, SourceTableStore<unknown, unknown>>;
    globals: ReadonlyMap<TableSource<unknown, unknown>, TableView<unknown, unknown>>;
  } {
    const tables = new Map<TableSource<unknown, unknown>, SourceTableStore<unknown, unknown>>();
    for (const [name, source] of this.options.tables) {
      if (source.kind !== 'table') continue;
      const partition = { topic: source.topic, partition: tp.partition };
      const partitions = this.counts.get(source.topic) ?? tp.partition + 1;
      tables.set(source, new SourceTableStore({ name, source, partition, partitions, reader, maxKeys, onUndecodable: (u) => this.undecodable(u, true, transaction) }));
    }
    return { tables, globals: this.globals };
  }

  /** The global table named `name` on this node, if any (tests, console). */
  global(name: string): GlobalTableStore<unknown, unknown> | undefined {
    return [...this.globals.values()].find((g) => g.name === name);
  }

  /** Stops following the global tables. */
  async stop(): Promise<void> {
    await Promise.all([...this.globals.values()].map((g) => g.stop()));
  }

  private undecodable(update: UndecodableUpdate, deadLetter: boolean, transaction?: Pick<LogProducer, 'send'>): Promise<void> | undefined {
    this.options.onUndecodable?.(update);
    const { record, reason, table, restoring } = update;
    if (deadLetter && !restoring) return this.options.deadLetter(record, `table ${table}: ${reason}`, transaction);
    this.options.logger.warn({ table, topic: record.topic, partition: record.partition, offset: record.offset, reason, restoring }, 'table update does not decode: skipped, its key kept');
    return undefined;
  }
}
