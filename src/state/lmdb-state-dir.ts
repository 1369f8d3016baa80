import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { LogRecord, OutgoingRecord, TopicPartition } from '../connectors/log.js';
import { StoreError } from './errors.js';
import type { LoggedStore } from './logged-store.js';

/**
 * The parts of lmdb-js this file uses, declared here so that tributary's published declarations
 * do not import lmdb's (its `export =` fails `skipLibCheck: false` under ESM in users' projects).
 */
interface Database<V, K> {
  get(key: K): V | undefined;
  getStats(): { entryCount: number };
  getRange(): Iterable<{ key: K; value: V }>;
  putSync(key: K, value: V): void;
  put(key: K, value: V): Promise<boolean>;
  removeSync(key: K): boolean;
  remove(key: K): Promise<boolean>;
  clearSync(): void;
}
interface RootDatabase extends Database<unknown, unknown> {
  openDB<V, K>(options: { name: string; encoding?: string; keyEncoding?: string }): Database<V, K>;
  transaction<T>(action: () => T): Promise<T>;
  transactionSync<T>(action: () => T): T;
  close(): Promise<void>;
  /** Resolves when the writes so far are committed and flushed to disk. */
  readonly flushed: Promise<boolean>;
}
interface LmdbModule {
  open(options: { path: string; maxDbs?: number }): RootDatabase;
}

/** Where a store keeps its state: only in memory (the default), or in memory with a local copy on LMDB. */
export type StoreBackend = 'memory' | 'lmdb';

/**
 * What a local copy of a store corresponds to, written in the same LMDB transaction as the data:
 * Kafka Streams' `.checkpoint` file. The copy holds exactly the state a restore of the changelog
 * partition `[0, position)` for the mark `(position, owner)` yields (see {@link PartitionState}).
 */
export interface LocalCopyMeta {
  readonly version: 2;
  readonly changelog: string;
  readonly partition: number;
  /** The epoch of the owner that wrote the copy (a restore's new epoch is above it). */
  readonly epoch: number;
  readonly position: number;
  /**
   * The owner of `position`, as a commit's mark names it (`StateMark.owners`): its epoch marker
   * lies before `position`, and after that marker only its records count. Absent when no owner
   * had written the store yet.
   */
  readonly owner?: string;
}

/** One store's records and meta, in a write of several stores of a partition (one transaction). */
export interface LocalWrite {
  readonly copy: LmdbStoreCopy;
  /** Changelog records (a null value deletes), applied in order. */
  readonly records: readonly OutgoingRecord[];
  readonly meta: LocalCopyMeta;
}

/**
 * lmdb (a native addon) is loaded when a processor first opens a state directory, not when
 * tributary is imported: apps without `'lmdb'` stores never load it.
 */
let lmdbModule: LmdbModule | undefined;
function lmdb(): LmdbModule {
  lmdbModule ??= createRequire(import.meta.url)('lmdb') as LmdbModule;
  return lmdbModule;
}

/** LMDB's default maximum key size. */
const MAX_KEY_BYTES = 1978;
const META_DB = 'tributary.meta';

/**
 * The local state directory of one processor on one node: an LMDB environment at
 * `<stateDir>/<processor>`, with a database per store and changelog partition
 * (`<changelog topic>/<partition>`) and one of metas beside them. Opened on first use, closed
 * when the processor stops (after its pending writes).
 *
 * @example
 * const dir = new LmdbStateDir('/var/lib/app/state', 'totals', logger);
 * const copy = dir.copy({ topic: 'totals-sums-changelog', partition: 0 });
 * copy.meta(); // undefined: nothing written yet
 */
export class LmdbStateDir {
  private env: RootDatabase | undefined;
  private metas: Database<LocalCopyMeta, string> | undefined;
  private pending = new Set<Promise<unknown>>();

  constructor(
    stateDir: string,
    processorId: string,
    private readonly logger: Logger,
  ) {
    this.path = join(stateDir, processorId);
  }

  readonly path: string;

  private open(): { env: RootDatabase; metas: Database<LocalCopyMeta, string> } {
    if (!this.env || !this.metas) {
      mkdirSync(this.path, { recursive: true });
      this.env = lmdb().open({ path: this.path, maxDbs: 10_000 });
      this.metas = this.env.openDB<LocalCopyMeta, string>({ name: META_DB, encoding: 'json' });
    }
    return { env: this.env, metas: this.metas };
  }

  /** The local copy of a store's changelog partition. */
  copy(changelog: TopicPartition): LmdbStoreCopy {
    const { env, metas } = this.open();
    const name = `${changelog.topic}/${changelog.partition}`;
    const db = env.openDB<Buffer, Buffer>({ name, keyEncoding: 'binary', encoding: 'binary' });
    return new LmdbStoreCopy(name, changelog, env, db, metas, this);
  }

  /**
   * Writes records and metas of several stores in one LMDB transaction (atomically), after the
   * writes queued before it. Key sizes are checked first: a key LMDB cannot hold is a
   * {@link StoreError}, thrown before anything is written.
   */
  write(writes: readonly LocalWrite[]): Promise<void> {
    const { env, metas } = this.open();
    const prepared = writes.map((w) => ({ ...w, records: w.records.map((r) => [bytes(r.key), r.value === null ? null : bytes(r.value)] as const) }));
    for (const w of prepared) for (const [key] of w.records) checkKey(w.copy.name, key);
    const written = env.transaction(() => {
      for (const w of prepared) {
        for (const [key, value] of w.records) {
          if (value === null) w.copy.db.removeSync(key);
          else w.copy.db.putSync(key, value);
        }
        metas.putSync(w.copy.name, w.meta);
      }
    });
    return this.track(written);
  }

  track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    const done = (): void => void this.pending.delete(promise);
    promise.then(done, done);
    return promise;
  }

  /** Waits for the writes queued so far. */
  async flushed(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    if (this.env) await this.env.flushed;
  }

  async close(): Promise<void> {
    await this.flushed();
    const env = this.env;
    this.env = undefined;
    this.metas = undefined;
    if (env) {
      await env.close();
      this.logger.debug({ path: this.path }, 'state directory closed');
    }
  }
}

/**
 * The local copy of one store's changelog partition: the store's entries as changelog records
 * (changelog key bytes → value bytes), and its {@link LocalCopyMeta}.
 */
export class LmdbStoreCopy {
  constructor(
    readonly name: string,
    readonly changelog: TopicPartition,
    private readonly env: RootDatabase,
    readonly db: Database<Buffer, Buffer>,
    private readonly metas: Database<LocalCopyMeta, string>,
    readonly dir: LmdbStateDir,
  ) {}

  /** The copy's meta, if it has a well-formed one for this changelog partition. */
  meta(): LocalCopyMeta | undefined {
    let meta: unknown;
    try {
      meta = this.metas.get(this.name);
    } catch {
      return undefined;
    }
    if (typeof meta !== 'object' || meta === null) return undefined;
    const m = meta as Partial<LocalCopyMeta>;
    const natural = (n: unknown): boolean => Number.isSafeInteger(n) && (n as number) >= 0;
    if (m.version !== 2 || m.changelog !== this.changelog.topic || m.partition !== this.changelog.partition) return undefined;
    if (!natural(m.epoch) || !natural(m.position) || (m.owner !== undefined && typeof m.owner !== 'string')) return undefined;
    return m as LocalCopyMeta;
  }

  /**
   * Applies every entry of the copy to `store` (as changelog records); returns how many. Throws
   * what the store throws for an entry that does not decode.
   */
  load(store: LoggedStore): number {
    let count = 0;
    const topic = `lmdb:${this.dir.path}:${this.name}`;
    const { partition } = this.changelog;
    const headers = {};
    for (const { key, value } of this.db.getRange()) {
      const record: LogRecord = { topic, partition, offset: count, key, value, headers, timestamp: 0 };
      store.restore(record);
      count++;
    }
    return count;
  }

  /** Entries in the copy. */
  entries(): number {
    return this.db.getStats().entryCount;
  }

  /**
   * Writes changelog records (key bytes, value bytes; null deletes) to the copy, after the writes
   * queued before, and deletes its meta in the same transaction: the copy no longer holds the
   * state of its last mark until a new meta is written. What a store reading through to its copy
   * does with the records of a restore.
   */
  apply(records: ReadonlyArray<readonly [Buffer, Buffer | null]>): Promise<void> {
    for (const [key] of records) checkKey(this.name, key);
    return this.dir.track(
      this.env.transaction(() => {
        this.metas.removeSync(this.name);
        for (const [key, value] of records) {
          if (value === null) this.db.removeSync(key);
          else this.db.putSync(key, value);
        }
      }),
    );
  }

  /** Deletes the copy's entries and meta (synchronously, in one transaction). */
  wipe(): void {
    this.env.transactionSync(() => {
      this.metas.removeSync(this.name);
      this.db.clearSync();
    });
  }

  /**
   * Deletes the meta only, after the writes queued before (a synchronous delete would land
   * before them, and a queued write could bring a meta back): the entries stay, but no restore
   * will trust them.
   */
  forget(): Promise<void> {
    return this.dir.track(this.env.transaction(() => void this.metas.removeSync(this.name)));
  }
}

/** A key LMDB cannot hold is a {@link StoreError} (permanent: it never will), thrown before anything is written. */
export function checkKey(copy: string, key: Buffer | string): void {
  const length = typeof key === 'string' ? Buffer.byteLength(key) : key.length;
  if (length === 0 || length > MAX_KEY_BYTES) {
    throw new StoreError(`store copy ${copy}: a changelog key of ${length} bytes cannot be kept on LMDB (1-${MAX_KEY_BYTES} bytes): keep this store in memory, or use shorter keys`, { permanent: true });
  }
}

function bytes(data: Buffer | string | null | undefined): Buffer {
  if (data === null || data === undefined) return Buffer.alloc(0);
  return typeof data === 'string' ? Buffer.from(data) : data;
}
