import { StoreError } from './errors.js';
import type { LoggedStore } from './logged-store.js';
import { PartitionState, type PartitionStateOptions, type RestoreSummary, type StateMark } from './partition-state.js';
import type { TableSource, TableView } from './source-table.js';
import type { SourceTableStore } from './source-table-store.js';

/**
 * A partition's state with tables read from topics beside its stores. The tables' positions (in
 * their own topics: each is its own changelog) go into the same {@link StateMark} as the stores'
 * changelog positions, taken at the same moment of a checkpoint, so a commit records the tables'
 * state at the committed input offset as it does the stores', and a restore reads each table's
 * topic up to its position. Tables write nothing: no changelog, no epoch marker, no claim of
 * their own. Global tables are the processor's, shared by its partitions; they are only looked
 * up here.
 *
 * @example
 * const state = new SourceTableState(options, new Map([[rates, ratesStore]]), globals);
 * state.table(rates)?.get('EUR');
 */
export class SourceTableState extends PartitionState {
  /** The tables' positions as last checkpointed (or restored). */
  private checkpointed: Record<string, number> = {};

  constructor(
    options: PartitionStateOptions,
    private readonly tables: ReadonlyMap<TableSource<unknown, unknown>, SourceTableStore<unknown, unknown>>,
    private readonly globals: ReadonlyMap<TableSource<unknown, unknown>, TableView<unknown, unknown>>,
  ) {
    super(options);
  }

  /** The table read from `source` here (this partition's, or the processor's global one), undefined when the processor does not name it. */
  table<K, V>(source: TableSource<K, V>): TableView<K, V> | undefined {
    const key = source as TableSource<unknown, unknown>;
    return (this.tables.get(key) ?? this.globals.get(key)) as TableView<K, V> | undefined;
  }

  /** Each table's updates not taken yet (see {@link SourceTableStore.lag}), by name. */
  tableLags(): Record<string, number> {
    const lags: Record<string, number> = {};
    for (const table of this.tables.values()) lags[table.name] = table.lag;
    return lags;
  }

  /** The names of the tables read from topics (they have positions, and no changelog). */
  get tableNames(): readonly string[] {
    return [...this.tables.values()].map((t) => t.name);
  }

  override get hasStores(): boolean {
    return super.hasStores || this.tables.size > 0;
  }

  override get stores(): ReadonlyMap<string, LoggedStore> {
    const stores = new Map(super.stores);
    for (const table of this.tables.values()) stores.set(table.name, table.store);
    return stores;
  }

  override async restore(mark: StateMark | undefined, claim: (mark: StateMark) => Promise<void>): Promise<RestoreSummary> {
    const declared = super.stores;
    for (const table of this.tables.values()) {
      // One position per name in a commit: a store and a table may not share one.
      if (declared.has(table.name)) throw new StoreError(`store ${table.name} is declared by an operator and is also a table of the processor (tables: { ${table.name} }): give one of them another name`, { permanent: true });
    }
    let records = 0;
    for (const table of this.tables.values()) {
      const until = mark?.positions[table.name] ?? 0;
      records += (await table.restoreTo(until)).records;
      this.checkpointed[table.name] = until;
    }
    const summary = await super.restore(mark, claim);
    let keys = 0;
    for (const table of this.tables.values()) keys += table.store.size;
    return { ...summary, stores: summary.stores + this.tables.size, records: summary.records + records, keys: summary.keys + keys };
  }

  override mark(): StateMark {
    const mark = super.mark();
    return { ...mark, positions: { ...mark.positions, ...this.checkpointed } };
  }

  override checkpoint(): Promise<StateMark> {
    // The tables' positions now: the state at the caller's current input offset, like the stores' changes.
    const positions: Record<string, number> = {};
    // The dead letters of undecodable updates before those positions: written before a commit may pass them.
    const reports: Promise<void>[] = [];
    for (const table of this.tables.values()) {
      positions[table.name] = table.position;
      reports.push(...table.takeReports());
    }
    return super.checkpoint().then(async (mark) => {
      await Promise.all(reports);
      this.checkpointed = positions;
      return { ...mark, positions: { ...mark.positions, ...positions } };
    });
  }
}
