import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { isPermanent } from '../../../src/errors.js';
import { createLogger } from '../../../src/observability/logger.js';
import { changelogTopic } from '../../../src/state/changelog.js';
import { StoreBudgetError } from '../../../src/state/errors.js';
import { LmdbKeyValueStore } from '../../../src/state/lmdb-key-value-store.js';
import { LmdbStateDir } from '../../../src/state/lmdb-state-dir.js';
import type { LoggedKeyValueStore } from '../../../src/state/logged-store.js';
import { PartitionState, type StateMark } from '../../../src/state/partition-state.js';
import type { StoreBudget } from '../../../src/state/store-budget.js';

const logger = createLogger({ level: 'silent' });
const topicPartition = { topic: 'orders', partition: 0 };

const dirs: LmdbStateDir[] = [];
const paths: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await dir.close();
  for (const path of paths.splice(0)) rmSync(path, { recursive: true, force: true });
});

/** One node's state directory and a log: owners of the partition, one after another, restarting on that disk. */
function node(budget: StoreBudget) {
  const log = new MemoryLog();
  log.createTopic('orders', 1);
  log.createTopic(changelogTopic('totals', 'sums'), 1);
  const path = mkdtempSync(join(tmpdir(), 'tributary-lmdb-kv-'));
  paths.push(path);
  let lmdb: LmdbStateDir | undefined;
  return async (mark: StateMark | undefined): Promise<{ state: PartitionState; store: LoggedKeyValueStore<string, number>; localRecords: number; changelogRecords: number }> => {
    await lmdb?.close();
    lmdb = new LmdbStateDir(path, 'totals', logger);
    dirs.push(lmdb);
    const dir = lmdb;
    const state = new PartitionState({
      processorId: 'totals',
      topicPartition,
      multiTopic: false,
      reader: log.reader(),
      producer: log.producer(),
      ensureChangelog: async () => {},
      logger,
      localCopy: (_store, tp) => dir.copy(tp),
      storeBudget: budget,
    });
    const store = state.keyValueStore<string, number>('sums');
    const summary = await state.restore(mark, async () => {});
    return { state, store, localRecords: summary.localRecords, changelogRecords: summary.records };
  };
}

/** A checkpoint, its commit, and the local write that follows it. */
async function commit(state: PartitionState, store: LoggedKeyValueStore<string, number>): Promise<StateMark> {
  const mark = await state.checkpoint();
  state.committed(mark);
  await (store as LmdbKeyValueStore<string, number>).copy.dir.flushed();
  return mark;
}

type Op = { kind: 'put'; key: string; value: number } | { kind: 'delete'; key: string } | { kind: 'get'; key: string } | { kind: 'commit' } | { kind: 'restart' };

const key = fc.integer({ min: 0, max: 11 }).map((i) => `k${i}`);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('put' as const), key, value: fc.integer({ min: -5, max: 100 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('get' as const), key }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'commit' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

describe('LmdbKeyValueStore (a store reading through to its LMDB copy)', () => {
  it('answers get, has, size, all and range as a plain Map does, through evictions, commits and restarts on the same disk', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
        const open = node({ maxKeys: 1_000, cacheKeys: 2 });
        let owner = await open(undefined);
        expect(owner.store).toBeInstanceOf(LmdbKeyValueStore);
        let model = new Map<string, number>();
        let committed = new Map<string, number>();
        let mark: StateMark | undefined;
        for (const o of ops) {
          if (o.kind === 'put') {
            owner.store.put(o.key, o.value);
            model.set(o.key, o.value);
          } else if (o.kind === 'delete') {
            owner.store.delete(o.key);
            model.delete(o.key);
          } else if (o.kind === 'get') {
            expect(owner.store.get(o.key)).toBe(model.get(o.key));
            expect(owner.store.has(o.key)).toBe(model.has(o.key));
          } else if (o.kind === 'commit') {
            mark = await commit(owner.state, owner.store);
            committed = new Map(model);
          } else {
            // A restart restores the state at the last commit, and loads nothing into memory.
            owner = await open(mark);
            model = new Map(committed);
            expect((owner.store as LmdbKeyValueStore<string, number>).inMemory).toBe(0);
          }
          expect(owner.store.size).toBe(model.size);
          expect((owner.store as LmdbKeyValueStore<string, number>).inMemory).toBeLessThanOrEqual(2 + 12);
        }
        expect(new Map(owner.store.all())).toEqual(model);
        const sorted = [...model].filter(([k]) => k >= 'k2' && k <= 'k7').sort((a, b) => (a[0] < b[0] ? -1 : 1));
        expect(owner.store.range('k2', 'k7')).toEqual(sorted);
      }),
      { numRuns: 40 },
    );
  });

  it('restarts on the same disk reading only the changelog past its copy, with nothing loaded into memory', async () => {
    const open = node({ maxKeys: 100_000, cacheKeys: 100 });
    const first = await open(undefined);
    for (let i = 0; i < 5_000; i++) first.store.put(`k${i}`, i);
    await commit(first.state, first.store);
    first.store.put('k1', -1);
    const mark = await commit(first.state, first.store);
    const again = await open(mark);
    expect(again.localRecords).toBe(5_000);
    expect(again.changelogRecords).toBe(0); // the copy is at the committed position
    expect((again.store as LmdbKeyValueStore<string, number>).inMemory).toBe(0);
    expect(again.store.size).toBe(5_000);
    expect(again.store.get('k1')).toBe(-1);
    expect(again.store.get('k4999')).toBe(4_999);
    for (let i = 0; i < 5_000; i++) again.store.get(`k${i}`);
    expect((again.store as LmdbKeyValueStore<string, number>).inMemory).toBe(100); // the cache, not the store
  });

  it('spills: evicts clean entries beyond its cache, and reads them back from LMDB', async () => {
    const open = node({ maxKeys: 100_000, cacheKeys: 100 });
    const owner = await open(undefined);
    for (let i = 0; i < 1_000; i++) owner.store.put(`k${i}`, i);
    const store = owner.store as LmdbKeyValueStore<string, number>;
    expect(store.inMemory).toBe(1_000); // changed, not yet on LMDB: kept
    await commit(owner.state, owner.store);
    expect(store.inMemory).toBe(100);
    expect(owner.store.get('k0')).toBe(0);
    expect(owner.store.size).toBe(1_000);
  });

  it('fails with a permanent StoreBudgetError when more entries wait for a commit than its budget', async () => {
    const open = node({ maxKeys: 10, cacheKeys: 100 });
    const owner = await open(undefined);
    for (let i = 0; i < 10; i++) owner.store.put(`k${i}`, i);
    let error: unknown;
    try {
      owner.store.put('k10', 10);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StoreBudgetError);
    expect(isPermanent(error)).toBe(true);
    expect((error as Error).message).toMatch(/store sums: more than 10 entries changed and not yet on its local copy/);
  });
});
