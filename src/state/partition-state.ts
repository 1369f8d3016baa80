import type { Logger } from 'pino';
import type { LogProducer, LogRecord, OutgoingRecord, PartitionReader, TopicPartition } from '../connectors/log.js';
import { isRetriable } from '../errors.js';
import type { Serde } from '../serdes/serde.js';
import { changelogTopic, ChangelogHeaders, epochMarker, isEpochMarker, newOwnerId, ownerReader, recordEpoch } from './changelog.js';
import { StoreError } from './errors.js';
import { LmdbKeyValueStore } from './lmdb-key-value-store.js';
import type { LoggedKeyValueStore, LoggedStore } from './logged-store.js';
import { MemoryKeyValueStore, type StoreSerdes } from './memory-key-value-store.js';
import { MemoryWindowStore } from './memory-window-store.js';
import { DEFAULT_STORE_BUDGET, type StoreBudget } from './store-budget.js';
import { jsonKeys, structuredValues } from './store-serdes.js';
import type { LmdbStoreCopy, LocalCopyMeta, LocalWrite } from './lmdb-state-dir.js';

/**
 * What a commit records of a partition's state, next to the input offset: the committing
 * owner's epoch, and for each store the changelog position (the offset after the last record
 * written, and acknowledged, for the state at that input offset) and the owner whose records
 * up to that position are the state (its epoch marker lies before the position).
 */
export interface StateMark {
  readonly epoch: number;
  readonly positions: Readonly<Record<string, number>>;
  /** Per store: the owner id of its position; absent for a store no owner has written yet. */
  readonly owners?: Readonly<Record<string, string>>;
}

/** Options of a store declared in a pipeline. */
export interface StoreOptions<K, V> {
  /** Serde of the keys in the changelog. Default: JSON. */
  readonly key?: Serde<K>;
  /** Serde of the values in the changelog. Default: V8's structured clone (`Map`, `Set`, `BigInt`... survive). */
  readonly value?: Serde<V>;
  /** What an interactive query shows of a value. Default: the value. */
  readonly view?: (value: V) => unknown;
  /**
   * The operator keeps references to the store's values across records (timers, schedules):
   * the store keeps every entry in memory, also on LMDB (loaded at restore), instead of
   * reading through to its local copy with a bounded cache. Internal to the built-in operators.
   */
  readonly keepsReferences?: boolean;
  /** The operator that declared the store, for errors that name it (`'aggregateByKey'`). Internal to the built-in operators. */
  readonly operator?: string;
  /** Whether the store's state follows its keys or is kept per input partition on purpose: see {@link StorePartitioning}. Default `'by-key'`. */
  readonly partitioning?: StorePartitioning;
}

/**
 * How a stateful operator's state is partitioned, as its `partitioning` option says:
 *
 * - `'by-key'` (default): a key's whole state is in one partition, as in Kafka Streams, where an
 *   aggregate's input is always partitioned by its key (an automatic repartition after
 *   `groupBy`/`selectKey`). So the operator's input must be partitioned by the key it keeps state
 *   under: its own record key, or a `repartition({ key })` by that key before it. A sampled write
 *   under a key of another partition fails the processor with a `KeyedUnlikeInputError`.
 * - `'per-partition'`: each input partition keeps its own state for a key on purpose (a top-N of
 *   each partition, a key `() => 'top'`, merged downstream). Never refused; queries of the store
 *   are refused (`UnpartitionedStoreError`: no one partition's answer is the key's), `app.scan`
 *   answers with each row's partition.
 *
 * See docs/runtime.md, "Stateful operators and the partitioning of their input".
 *
 * @example
 * tumbling({ size: 60_000, key: () => 'top', aggregate: topN({ n: 10, compare: (a, b) => b.value.views - a.value.views }), partitioning: 'per-partition' });
 */
export type StorePartitioning = 'by-key' | 'per-partition';

/** How a restore went, for logs, metrics and `/health`. */
export interface RestoreSummary {
  readonly stores: number;
  /** Changelog records read (applied, ignored and past the committed position). */
  readonly records: number;
  /** Entries read from the stores' local copies (LMDB) instead of the changelog. */
  readonly localRecords: number;
  /** Records ignored: written by an older epoch after a newer one began (a zombie's), or past the committed position. */
  readonly ignored: number;
  readonly keys: number;
  readonly durationMs: number;
  readonly epoch: number;
}

/** Restore progress, reported once per batch of changelog records. */
export interface RestoreProgress {
  readonly store: string;
  /** Records read so far by this restore (every store), and of this batch. */
  readonly records: number;
  readonly batch: number;
  readonly until: number;
  readonly position: number;
}

/** What a {@link PartitionState} needs around it. */
export interface PartitionStateOptions {
  readonly processorId: string;
  readonly topicPartition: TopicPartition;
  /** The processor reads several topics: changelogs are per store and topic. */
  readonly multiTopic: boolean;
  readonly reader: PartitionReader;
  readonly producer: LogProducer;
  /** Creates the changelog topic if need be, and checks it (partitions, compaction). */
  readonly ensureChangelog: (topic: string) => Promise<void>;
  readonly logger: Logger;
  readonly onProgress?: (progress: RestoreProgress) => void;
  /** A checkpoint wrote `records` changelog records of `store`. */
  readonly onWritten?: (store: string, records: number) => void;
  /**
   * The local copy (LMDB) of a store, for a store whose backend is `'lmdb'`; undefined for an
   * in-memory one. Asked once per store, when it is declared.
   */
  readonly localCopy?: (store: string, changelog: TopicPartition) => LmdbStoreCopy | undefined;
  /** How much of each store may live in memory. Default {@link DEFAULT_STORE_BUDGET}. */
  readonly storeBudget?: StoreBudget;
}

interface Entry {
  readonly store: LoggedStore;
  readonly kind: 'key-value' | 'window';
  readonly changelog: TopicPartition;
  /** The position a commit may record: the offset after our last acknowledged changelog write. */
  position: number;
  /** Whose state `position` is: ours once it passed our marker, before that the owner we restored from. */
  owner: string | undefined;
  /** Where our next append should land; a gap before it is someone else's write. */
  expected: number;
  /** The store's local copy (LMDB), if it has one. */
  readonly local: LmdbStoreCopy | undefined;
}

/** A checkpoint's changes, kept until a commit covers them, then written to the local copies. */
interface PendingCheckpoint {
  readonly mark: StateMark;
  /** Its number, given to the stores' `takeChanges`. */
  readonly seq: number;
  readonly changes: ReadonlyMap<Entry, readonly OutgoingRecord[]>;
  readonly records: number;
}

/** Most changelog records kept for the local copies while commits lag behind checkpoints. */
const MAX_PENDING_LOCAL = 500_000;

/** Most records and bytes in one changelog append (under Kafka's 1 MiB default `max.message.bytes`). */
const MAX_RECORDS = 1_000;
const MAX_BYTES = 900_000;

/**
 * The state of one partition: its stores, their changelog partitions, the owner's epoch, and
 * the two moments state meets the log — restore (at start) and checkpoint (at every commit).
 * Kafka Streams' `ProcessorStateManager` and `StoreChangelogReader` in one, for one partition.
 *
 * **Restore yields exactly the state at the committed input offset.** Each store's changelog is
 * read up to the position the commit recorded; after the marker of the owner the commit names
 * for that store, only that owner's records count (anyone else's there is a zombie's, or a
 * member's that briefly believed it owned the partition during a rebalance); everything past the
 * position (written after the commit by an owner that then died, or by a zombie) is ignored too.
 * Every key whose last record was ignored is written again at the first checkpoint, before the
 * position passes this owner's marker, so that neither a later restore nor compaction (which
 * keeps a key's *last* record) can take those records for the state.
 *
 * **An owner** has an id `<epoch>.<token>`, the epoch one more than any before it. Before
 * writing anything it *claims* the partition: a strict commit of the unchanged offset, which the
 * group consumer refuses to a member that does not own the partition by its latest assignment.
 * Only then does it append its epoch marker, and every record it writes carries its id in a
 * header.
 *
 * **A checkpoint** takes every store's changes at one moment (between two batches) and appends
 * them; the positions it resolves with belong to the input offset the caller read at that same
 * moment. See docs/runtime.md, "Durable state".
 *
 * @example
 * const state = new PartitionState({ processorId: 'totals', topicPartition, multiTopic: false, reader, producer, ensureChangelog, logger });
 * const totals = state.keyValueStore<string, number>('totals');
 * await state.restore(committedMark, (epoch) => claim(epoch));
 * totals.put('c-1', 10);
 * const mark = await state.checkpoint(); // { epoch, positions: { totals: 2 } }
 */
export class PartitionState {
  private readonly entries = new Map<string, Entry>();
  private sealed = false;
  private epochValue = 0;
  private ownerValue = '';
  private chain: Promise<unknown> = Promise.resolve();
  private pendingLocal: PendingCheckpoint[] = [];
  private pendingLocalRecords = 0;
  /** The local copies are no longer kept up to date (a write failed, or commits lagged too far behind). */
  private localStopped = false;
  private localChain: Promise<void> = Promise.resolve();
  private checkpoints = 0;
  /** Changelogs appended to in the transaction open now (exactly-once). */
  private readonly inTransaction = new Set<Entry>();

  private declareListener: ((name: string, store: LoggedStore, options: Pick<StoreOptions<unknown, unknown>, 'operator' | 'partitioning'>) => void) | undefined;

  constructor(private readonly options: PartitionStateOptions) {}

  /** Calls `listener` with each store declared from now on, and the options it was declared with (the partition pipeline checks their writes). */
  onDeclare(listener: (name: string, store: LoggedStore, options: Pick<StoreOptions<unknown, unknown>, 'operator' | 'partitioning'>) => void): void {
    this.declareListener = listener;
  }

  /**
   * With exactly-once, the transaction the changelog appends were in has committed: the log put
   * a control record after them on each changelog partition they went to (as Kafka does), so the
   * next append there lands one further on, and that gap is nobody's write.
   */
  transactionEnded(): void {
    for (const entry of this.inTransaction) entry.expected += 1;
    this.inTransaction.clear();
  }

  /** Whether any store was declared. */
  get hasStores(): boolean {
    return this.entries.size > 0;
  }

  /** The owner's epoch (0 until restored). */
  get epoch(): number {
    return this.epochValue;
  }

  /** This owner's id, `<epoch>.<token>`, on every record it writes (`''` until restored). */
  get owner(): string {
    return this.ownerValue;
  }

  /** The stores, by name. */
  get stores(): ReadonlyMap<string, LoggedStore> {
    return new Map([...this.entries].map(([name, e]) => [name, e.store]));
  }

  /**
   * The key-value store `name` of this partition, created on first call. Stores must be
   * declared while the pipeline is built, before it is restored.
   */
  keyValueStore<K, V>(name: string, options: StoreOptions<K, V> = {}): LoggedKeyValueStore<K, V> {
    const budget = this.options.storeBudget ?? DEFAULT_STORE_BUDGET;
    return this.register<LoggedKeyValueStore<K, V>>(name, 'key-value', options, (local) =>
      local && !options.keepsReferences ? new LmdbKeyValueStore<K, V>(name, serdesOf(options), local, budget) : new MemoryKeyValueStore<K, V>(name, serdesOf(options), true, budget.maxKeys),
    );
  }

  /** The window store `name` of this partition (keys in JSON), created on first call; see {@link keyValueStore}. Always in memory (with an LMDB copy loaded at restore, if any). */
  windowStore<K, V>(name: string, options: Omit<StoreOptions<K, V>, 'key'> = {}): MemoryWindowStore<K, V> {
    const budget = this.options.storeBudget ?? DEFAULT_STORE_BUDGET;
    return this.register<MemoryWindowStore<K, V>>(name, 'window', options, () => new MemoryWindowStore<K, V>(name, serdesOf<K, V>(options), true, budget.maxKeys));
  }

  private register<S extends LoggedStore>(name: string, kind: Entry['kind'], options: Pick<StoreOptions<unknown, unknown>, 'operator' | 'partitioning'>, create: (local: LmdbStoreCopy | undefined) => S): S {
    const existing = this.entries.get(name);
    if (existing) {
      if (existing.kind !== kind) throw new StoreError(`store ${name} is declared twice, as different kinds of store`);
      return existing.store as S;
    }
    if (this.sealed) {
      throw new StoreError(`store ${name} was declared after the pipeline was built: declare stores while pipeline() runs (call the operator there)`);
    }
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) throw new StoreError(`store name ${JSON.stringify(name)} must be 1-100 of [A-Za-z0-9._-]`);
    const { processorId, topicPartition, multiTopic } = this.options;
    const changelog = { topic: changelogTopic(processorId, name, multiTopic ? topicPartition.topic : undefined), partition: topicPartition.partition };
    const local = this.options.localCopy?.(name, changelog);
    const store = create(local);
    this.entries.set(name, { store, kind, changelog, position: 0, owner: undefined, expected: 0, local });
    this.declareListener?.(name, store, options);
    return store;
  }

  /**
   * Restores every store to the state at the committed input offset (`mark`: what the commit
   * recorded; undefined when nothing was committed with state), claims the partition for a new
   * owner through `claim` (with the mark to commit: the restored positions, this owner's
   * epoch; it rejects when this member is not the owner), and writes the epoch markers. No
   * store may be declared afterwards.
   *
   * Each store's changelog is read up to its committed position. Up to the marker of the owner
   * the mark names for it, every record counts (the last write of a key wins); after that
   * marker, only that owner's records do: anyone else's there (a zombie's, or a member that
   * briefly believed it owned the partition during a rebalance) is ignored. That is exact,
   * because every owner, once restored, writes again each key whose last record it ignored,
   * before its position passes its own marker. Records past the position are ignored too.
   */
  async restore(mark: StateMark | undefined, claim: (mark: StateMark) => Promise<void>): Promise<RestoreSummary> {
    this.sealed = true;
    const started = performance.now();
    let records = 0;
    let localRecords = 0;
    let ignored = 0;
    let maxEpoch = mark?.epoch ?? 0;
    const junk = new Map<Entry, Buffer[]>();
    const ends = new Map<Entry, number>();
    // Per store with a local copy: the changelog records applied past it, written to it after the claim.
    const tails = new Map<Entry, OutgoingRecord[]>();
    const { reader, onProgress } = this.options;
    for (const [name, entry] of this.entries) {
      await this.options.ensureChangelog(entry.changelog.topic);
      const until = mark?.positions[name] ?? 0;
      const owner = mark?.owners?.[name];
      const stale: Buffer[] = [];
      // Once the owner's marker is read: whose records still count.
      let only: string | undefined;
      // Where the changelog read starts: past the local copy, when it may be trusted.
      let from = 0;
      if (entry.local) {
        const loaded = await this.loadLocalCopy(name, entry, mark, until);
        if (loaded) {
          localRecords += loaded.records;
          from = loaded.meta.position;
          // The copy's owner is the mark's, and its marker lies before the copy's position.
          only = loaded.meta.owner;
          if (loaded.meta.epoch > maxEpoch) maxEpoch = loaded.meta.epoch;
        }
        // A store reading through to its copy writes what it restores there itself.
        if (!(entry.store instanceof LmdbKeyValueStore)) tails.set(entry, []);
      }
      const tail = tails.get(entry);
      const owners = ownerReader();
      await reader.read(entry.changelog, from, until, (batch) => {
        for (const record of batch) {
          records++;
          owners.read(record);
          if (owners.epoch > maxEpoch) maxEpoch = owners.epoch;
          if (isEpochMarker(record)) {
            if (owner !== undefined && owners.owner === owner) only = owner;
            continue;
          }
          if (only !== undefined && owners.owner !== only) {
            ignored++;
            if (record.key) stale.push(record.key);
            continue;
          }
          entry.store.restore(record);
          tail?.push({ key: record.key, value: record.value });
        }
        onProgress?.({ store: name, records, batch: batch.length, until, position: batch.length > 0 ? batch[batch.length - 1].offset + 1 : until });
      });
      if (entry.store instanceof LmdbKeyValueStore) await entry.store.settle();
      // Past the committed position: records of an owner that did not get to commit them (or a zombie's).
      const end = await reader.endOffset(entry.changelog);
      await reader.read(entry.changelog, until, end, (batch) => {
        for (const record of batch) {
          records++;
          const epoch = recordEpoch(record);
          if (epoch > maxEpoch) maxEpoch = epoch;
          if (isEpochMarker(record)) continue;
          ignored++;
          if (record.key) stale.push(record.key);
        }
      });
      entry.position = until;
      entry.owner = owner;
      ends.set(entry, end);
      junk.set(entry, stale);
    }
    const epoch = maxEpoch + 1;
    this.epochValue = epoch;
    this.ownerValue = newOwnerId(epoch);
    if (this.entries.size > 0) await claim(this.mark());
    for (const [name, entry] of this.entries) {
      const end = ends.get(entry)!;
      const restoredAt = entry.position;
      const restoredOwner = entry.owner;
      const marker = await this.append(entry, [epochMarker(this.ownerValue, entry.position, entry.owner)]);
      const stale = junk.get(entry)!;
      // Written between our read of the end and our marker: someone else's, too late to be ours.
      if (marker > end) await this.collectKeys(entry, end, marker, stale);
      entry.expected = marker + 1;
      // The position may pass the marker only once the stale keys are written again (the next checkpoint).
      if (stale.length === 0) {
        entry.position = marker + 1;
        entry.owner = this.ownerValue;
      }
      for (const key of stale) entry.store.rewrite(key);
      entry.store.restored();
      const tail = tails.get(entry) ?? (entry.store instanceof LmdbKeyValueStore ? [] : undefined);
      // The claim committed the restored position: the local copy may now say it holds it.
      if (tail) this.writeLocal([{ copy: entry.local!, records: tail, meta: this.localMeta(entry, restoredAt, restoredOwner) }]);
      this.options.logger.debug({ store: name, changelog: entry.changelog, position: entry.position, rewrites: stale.length }, 'store restored');
    }
    let keys = 0;
    for (const entry of this.entries.values()) keys += entry.store.size;
    return { stores: this.entries.size, records, localRecords, ignored, keys, durationMs: performance.now() - started, epoch };
  }

  /**
   * Loads a store's local copy when it may be trusted for the committed `mark` (see
   * docs/runtime.md, "Local copies on LMDB"): its position at or below the committed one, and
   * its position's owner the one the mark names. Otherwise, or when an entry does not decode,
   * the copy is wiped and the store restores in full from the changelog.
   */
  private async loadLocalCopy(name: string, entry: Entry, mark: StateMark | undefined, until: number): Promise<{ meta: LocalCopyMeta; records: number } | undefined> {
    const local = entry.local!;
    await local.dir.flushed(); // a previous owner's writes in this process (a restarted actor)
    const meta = local.meta();
    const owner = mark?.owners?.[name];
    const reason =
      meta === undefined
        ? 'no meta'
        : mark === undefined
          ? 'nothing committed with state'
          : meta.position > until
            ? `ahead of the committed position (${meta.position} > ${until}): written after the last commit`
            : meta.owner !== owner
              ? `its position is owner ${meta.owner ?? 'none'}'s, the committed one ${owner ?? 'none'}'s`
              : undefined;
    if (meta !== undefined && reason === undefined && entry.store instanceof LmdbKeyValueStore) {
      // Read through: nothing is loaded; its entries are read when the pipeline asks for them.
      const records = local.entries();
      this.options.logger.debug({ store: name, position: meta.position, until, records }, 'store reads through to its local copy');
      return { meta, records };
    }
    if (meta !== undefined && reason === undefined) {
      try {
        const records = local.load(entry.store);
        this.options.logger.debug({ store: name, position: meta.position, until, records }, 'store loaded from its local copy');
        return { meta, records };
      } catch (err) {
        this.options.logger.warn({ err, store: name }, 'the local copy of the store does not decode: it is wiped and the store restored from its changelog');
        entry.store.clear();
      }
    } else if (meta !== undefined) {
      this.options.logger.info({ store: name, reason }, 'the local copy of the store is not usable: it is wiped and the store restored from its changelog');
    }
    local.wipe();
    return undefined;
  }

  /** The meta of a store's local copy holding the state at `position`, whose owner is `owner` (one of its checkpointed or restored marks). */
  private localMeta(entry: Entry, position: number, owner: string | undefined): LocalCopyMeta {
    return {
      version: 2,
      changelog: entry.changelog.topic,
      partition: entry.changelog.partition,
      epoch: this.epochValue,
      position,
      ...(owner !== undefined ? { owner } : {}),
    };
  }

  /**
   * A commit of `mark` succeeded: the checkpoints it covers are written to the stores' local
   * copies (one LMDB transaction, data and metas together). Local copies thus never get ahead
   * of a commit, and a restart on the same disk reads only the changelog past them.
   */
  committed(mark: StateMark): void {
    if (mark.epoch !== this.epochValue || this.localStopped || this.pendingLocal.length === 0) return;
    let last: PendingCheckpoint | undefined;
    const merged = new Map<Entry, OutgoingRecord[]>();
    while (this.pendingLocal.length > 0 && covers(mark, this.pendingLocal[0].mark)) {
      const checkpoint = this.pendingLocal.shift()!;
      this.pendingLocalRecords -= checkpoint.records;
      last = checkpoint;
      for (const [entry, records] of checkpoint.changes) {
        let into = merged.get(entry);
        if (!into) merged.set(entry, (into = []));
        for (const record of records) into.push(record);
      }
    }
    if (!last) return;
    const writes: LocalWrite[] = [];
    for (const [name, entry] of this.entries) {
      if (entry.local) writes.push({ copy: entry.local, records: merged.get(entry) ?? [], meta: this.localMeta(entry, last.mark.positions[name] ?? entry.position, last.mark.owners?.[name]) });
    }
    const seq = last.seq;
    // Stores reading through to their copies may now let go of what the write holds.
    this.writeLocal(writes, () => {
      for (const entry of this.entries.values()) if (entry.local) entry.store.persisted?.(seq);
    });
  }

  /**
   * Queues a write to the local copies. Each starts once the previous one is committed: after a
   * failed write no later one may land (it would carry a meta over data the failed one lacked).
   */
  private writeLocal(writes: readonly LocalWrite[], onWritten?: () => void): void {
    if (this.localStopped || writes.length === 0) return;
    const dir = writes[0].copy.dir;
    this.localChain = this.localChain
      .then(async () => {
        if (this.localStopped) return;
        await dir.write(writes);
        onWritten?.();
      })
      .catch((err: unknown) => this.stopLocal(err, true));
    void dir.track(this.localChain);
  }

  /** Stops keeping the local copies; `forget`: they may be wrong, so no restore may trust them. */
  private stopLocal(err: unknown, forget: boolean): void {
    if (this.localStopped) return;
    this.localStopped = true;
    this.pendingLocal = [];
    this.pendingLocalRecords = 0;
    if (forget) {
      for (const entry of this.entries.values()) {
        entry.local?.forget().catch((err: unknown) => this.options.logger.warn({ err, store: entry.store.name }, 'the meta of a local store copy could not be deleted'));
      }
    }
    this.options.logger.warn({ err, forget }, 'local store copies are no longer updated; a restart restores from their last good state or from the changelog');
  }

  /** The positions of the state as it was last checkpointed (or restored). */
  mark(): StateMark {
    const positions: Record<string, number> = {};
    const owners: Record<string, string> = {};
    for (const [name, entry] of this.entries) {
      positions[name] = entry.position;
      if (entry.owner !== undefined) owners[name] = entry.owner;
    }
    return { epoch: this.epochValue, positions, owners };
  }

  /**
   * Takes every store's changes now (synchronously: they are the state at the caller's current
   * input offset) and appends them to the changelogs; resolves with the mark of that state once
   * every append is acknowledged. Checkpoints are written one after another, in order.
   */
  checkpoint(): Promise<StateMark> {
    const changes: Array<[Entry, OutgoingRecord[]]> = [];
    const seq = ++this.checkpoints;
    for (const entry of this.entries.values()) {
      const taken = entry.store.takeChanges(seq);
      if (taken.length > 0) changes.push([entry, taken]);
    }
    const written = this.chain.then(async () => {
      for (const [entry, records] of changes) {
        let end = entry.position;
        for (const chunk of chunks(records)) end = (await this.append(entry, chunk)) + chunk.length;
        // Every change of this checkpoint (and every rewrite due) is written: the position is ours.
        entry.position = end;
        entry.owner = this.ownerValue;
        this.options.onWritten?.(entry.store.name, records.length);
      }
      const mark = this.mark();
      this.keepForLocalCopies(mark, seq, changes);
      return mark;
    });
    this.chain = written.catch(() => undefined);
    return written;
  }

  private keepForLocalCopies(mark: StateMark, seq: number, changes: ReadonlyArray<[Entry, OutgoingRecord[]]>): void {
    if (this.localStopped) return;
    const local = new Map<Entry, OutgoingRecord[]>();
    let records = 0;
    for (const [entry, taken] of changes) {
      if (!entry.local) continue;
      local.set(entry, taken);
      records += taken.length;
    }
    if (local.size === 0) return;
    this.pendingLocal.push({ mark, seq, changes: local, records });
    this.pendingLocalRecords += records;
    if (this.pendingLocalRecords > MAX_PENDING_LOCAL) {
      this.stopLocal(new StoreError(`more than ${MAX_PENDING_LOCAL} changes checkpointed and not yet committed`), false);
    }
  }

  /** Appends to a store's changelog partition with our epoch, retrying what may succeed later; returns the first offset. */
  private async append(entry: Entry, records: readonly OutgoingRecord[]): Promise<number> {
    const owner = this.ownerValue;
    const stamped = records.map((r) => (r.headers ? r : { ...r, headers: { [ChangelogHeaders.epoch]: owner } }));
    const { topic, partition } = entry.changelog;
    for (let attempt = 0; ; attempt++) {
      try {
        const base = await this.options.producer.append(topic, partition, stamped);
        if (entry.expected > 0 && base > entry.expected) {
          // Someone else wrote between our appends (a zombie owner): ours must stay the last word on those keys.
          const foreign: Buffer[] = [];
          await this.collectKeys(entry, entry.expected, base, foreign);
          for (const key of foreign) entry.store.rewrite(key);
          this.options.logger.warn({ changelog: entry.changelog, from: entry.expected, until: base, keys: foreign.length }, 'foreign writes in the changelog: their keys are written again');
        }
        entry.expected = base + stamped.length;
        this.inTransaction.add(entry);
        return base;
      } catch (err) {
        if (!isRetriable(err)) throw err;
        const delayMs = Math.min(5_000, 100 * 2 ** Math.min(attempt, 6));
        this.options.logger.warn({ err, changelog: entry.changelog, attempt: attempt + 1, delayMs }, 'changelog write failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  private async collectKeys(entry: Entry, from: number, until: number, into: Buffer[]): Promise<void> {
    await this.options.reader.read(entry.changelog, from, until, (batch: readonly LogRecord[]) => {
      for (const record of batch) if (record.key && !isEpochMarker(record)) into.push(record.key);
    });
  }
}

/** Whether the committed `mark` includes the checkpoint `checkpoint` (every position at or past it). */
function covers(mark: StateMark, checkpoint: StateMark): boolean {
  for (const [name, position] of Object.entries(checkpoint.positions)) if ((mark.positions[name] ?? -1) < position) return false;
  return true;
}

function serdesOf<K, V>(options: StoreOptions<K, V>): StoreSerdes<K, V> {
  return { key: options.key ?? (jsonKeys as Serde<K>), value: options.value ?? (structuredValues as Serde<V>), view: options.view };
}

function* chunks(records: readonly OutgoingRecord[]): Generator<OutgoingRecord[]> {
  let chunk: OutgoingRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = sizeOf(record.key) + sizeOf(record.value) + 64;
    if (chunk.length > 0 && (chunk.length >= MAX_RECORDS || bytes + size > MAX_BYTES)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(record);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

function sizeOf(data: Buffer | string | null | undefined): number {
  if (data === null || data === undefined) return 0;
  return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}
