import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { EMPTY } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createTributary } from '../../../src/app/tributary.js';
import { ConfigError, isPermanent } from '../../../src/errors.js';
import { StoreError } from '../../../src/state/errors.js';
import type { StoreBudget } from '../../../src/state/store-budget.js';
import { defineProcessor } from '../../../src/processor/define-processor.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import type { OutgoingRecord, PartitionReader } from '../../../src/connectors/log.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { ChangelogHeaders, changelogTopic, isEpochMarker } from '../../../src/state/changelog.js';
import { LmdbStateDir } from '../../../src/state/lmdb-state-dir.js';
import { PartitionState, type StateMark } from '../../../src/state/partition-state.js';

const logger = createLogger({ level: 'silent' });
const topicPartition = { topic: 'orders', partition: 0 };
const changelog = changelogTopic('totals', 'sums');

const dirs: LmdbStateDir[] = [];
const paths: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await dir.close();
  for (const path of paths.splice(0)) rmSync(path, { recursive: true, force: true });
});

function stateDir(): string {
  const path = mkdtempSync(join(tmpdir(), 'tributary-lmdb-'));
  paths.push(path);
  return path;
}

/** A reader that counts the changelog records it hands out. */
function counting(reader: PartitionReader): { reader: PartitionReader; read: () => number } {
  let read = 0;
  return {
    read: () => read,
    reader: {
      read: (tp, from, until, onBatch) =>
        reader.read(tp, from, until, (batch) => {
          read += batch.length;
          return onBatch(batch);
        }),
      endOffset: (tp) => reader.endOffset(tp),
      close: () => reader.close(),
    },
  };
}

/**
 * A log and owners of its one partition, each on a node with its own state directory (or in
 * memory); `resident`: the store keeps every entry in memory (`keepsReferences`) instead of
 * reading through to its copy.
 */
function setup(options: { resident?: boolean; storeBudget?: StoreBudget } = {}) {
  const log = new MemoryLog();
  log.createTopic('orders', 1);
  log.createTopic(changelog, 1);
  /** A new owner; `dir`: its node's state directory (none: an in-memory store). */
  const owner = async (mark: StateMark | undefined, dir?: string) => {
    const lmdb = dir === undefined ? undefined : new LmdbStateDir(dir, 'totals', logger);
    if (lmdb) dirs.push(lmdb);
    const counted = counting(log.reader());
    const state = new PartitionState({
      processorId: 'totals',
      topicPartition,
      multiTopic: false,
      reader: counted.reader,
      producer: log.producer(),
      ensureChangelog: async () => {},
      logger,
      localCopy: lmdb ? (_store, tp) => lmdb.copy(tp) : undefined,
      storeBudget: options.storeBudget,
    });
    const store = state.keyValueStore<string, number>('sums', { keepsReferences: options.resident });
    const summary = await state.restore(mark, async () => {});
    return { state, store, summary, lmdb, changelogRead: counted.read };
  };
  return { log, owner };
}

/** Checkpoints, and tells the state its mark was committed (as the runtime does once the commit succeeds). */
async function commit(state: PartitionState): Promise<StateMark> {
  const mark = await state.checkpoint();
  state.committed(mark);
  return mark;
}

describe('stores on LMDB (local copies)', () => {
  it('restarts on the same disk reading only the changelog past its local copy', async () => {
    const { owner } = setup();
    const dir = stateDir();
    const first = await owner(undefined, dir);
    for (let i = 0; i < 1_000; i++) first.store.put(`k${i}`, i);
    await commit(first.state);
    for (let i = 0; i < 10; i++) first.store.put(`k${i}`, -i);
    first.store.put('new', 1);
    // Committed, but the node died before its local copy took this checkpoint.
    const mark = await first.state.checkpoint();
    await first.lmdb!.close();

    const second = await owner(mark, dir);
    expect(second.summary.localRecords).toBe(1_000);
    expect(second.changelogRead()).toBe(11); // the 11 changes past the local copy, and nothing else
    expect(second.store.size).toBe(1_001);
    expect(second.store.get('k3')).toBe(-3);
    expect(second.store.get('k999')).toBe(999);
    expect(second.store.get('new')).toBe(1);

    // The same restore from the changelog alone reads all of it.
    const inMemory = await owner(mark);
    expect(inMemory.changelogRead()).toBeGreaterThan(1_000);
    expect(new Map(inMemory.store.all())).toEqual(new Map(second.store.all()));
  });

  it('discards a local copy ahead of the committed mark and restores exactly the committed state', async () => {
    const { owner } = setup();
    const dir = stateDir();
    const first = await owner(undefined, dir);
    first.store.put('a', 1);
    first.store.put('b', 2);
    const committed = await commit(first.state);
    first.store.put('a', 100);
    first.store.put('c', 3);
    first.store.delete('b');
    await commit(first.state); // the local copy takes it ...
    await first.lmdb!.close(); // ... but the commit is lost: the group's mark is still `committed`

    const second = await owner(committed, dir);
    expect(second.summary.localRecords).toBe(0);
    expect(new Map(second.store.all())).toEqual(new Map([['a', 1], ['b', 2]]));
    // And the wiped copy now holds the restored state: the next restart loads it.
    const mark = await commit(second.state);
    await second.lmdb!.close();
    const third = await owner(mark, dir);
    expect(third.summary.localRecords).toBe(2);
    expect(new Map(third.store.all())).toEqual(new Map([['a', 1], ['b', 2]]));
  });

  it('restores a resident store in full when its local copy does not decode', async () => {
    const { owner } = setup({ resident: true });
    const dir = stateDir();
    const first = await owner(undefined, dir);
    first.store.put('a', 1);
    const mark = await commit(first.state);
    await first.lmdb!.flushed();
    const copy = first.lmdb!.copy({ topic: changelog, partition: 0 });
    await copy.db.put(Buffer.from('{broken'), Buffer.from([1, 2, 3]));
    await first.lmdb!.close();
    const second = await owner(mark, dir);
    expect(second.summary.localRecords).toBe(0);
    expect(new Map(second.store.all())).toEqual(new Map([['a', 1]]));
  });

  it('fails clearly when an entry of its local copy does not decode as it is read, and restores in full the next time', async () => {
    const { owner } = setup();
    const dir = stateDir();
    const first = await owner(undefined, dir);
    first.store.put('a', 1);
    const mark = await commit(first.state);
    await first.lmdb!.flushed();
    const copy = first.lmdb!.copy({ topic: changelog, partition: 0 });
    await copy.db.put(Buffer.from('{broken'), Buffer.from([1, 2, 3]));
    await first.lmdb!.close();
    const second = await owner(mark, dir);
    expect(second.summary.localRecords).toBe(2); // read through: nothing decoded at the restart
    expect(() => [...second.store.all()]).toThrow(StoreError);
    expect(() => [...second.store.all()]).toThrow(/does not decode.*the next restore reads the changelog/);
    await second.lmdb!.close();
    const third = await owner(mark, dir);
    expect(third.summary.localRecords).toBe(0);
    expect(new Map(third.store.all())).toEqual(new Map([['a', 1]]));
  });

  it('restores in full, to the same state, when another owner committed since its local copy (and a zombie wrote)', async () => {
    const { log, owner } = setup();
    const dir = stateDir();
    const a = await owner(undefined, dir);
    for (let i = 0; i < 50; i++) a.store.put(`k${i % 7}`, i);
    const aMark = await commit(a.state);
    a.store.put('k1', 1_000);
    await a.state.checkpoint(); // written to the changelog, never committed
    await a.lmdb!.close();
    // Another node takes over, restores from the changelog, works and commits.
    const b = await owner(aMark, stateDir());
    b.store.put('k2', 2_000);
    b.store.put('k9', 9);
    const bMark = await commit(b.state);
    // The first owner, paused through the takeover, writes once more (epoch 1).
    const zombie: OutgoingRecord = { key: JSON.stringify('k2'), value: serialize(-1), headers: { [ChangelogHeaders.epoch]: String(a.state.epoch) } };
    await log.producer().append(changelog, 0, [zombie]);
    b.store.put('k3', 3_000);
    const last = await commit(b.state);
    expect(last.positions.sums).toBeGreaterThan(bMark.positions.sums);
    // The first node gets the partition back and restarts on its disk.
    const again = await owner(last, dir);
    // The committed position is b's, the copy's a's: the copy cannot say which of a's records b's restore ignored.
    expect(again.summary.localRecords).toBe(0);
    const full = await owner(last);
    expect(new Map(again.store.all())).toEqual(new Map(full.store.all()));
    expect(again.store.get('k2')).toBe(2_000);
    expect(again.store.get('k1')).not.toBe(1_000);
    expect(log.read(changelog).filter(isEpochMarker).length).toBeGreaterThanOrEqual(4);
  });

  it("resumes the owner rule where its local copy ends: a zombie's write just past it stays ignored", async () => {
    const { log, owner } = setup();
    const a = await owner(undefined);
    a.store.put('k', 1);
    const aMark = await commit(a.state);
    const dir = stateDir();
    const b = await owner(aMark, dir); // epoch 2, on a disk
    b.store.put('k', 2);
    await commit(b.state);
    // The first owner (epoch 1) wakes up and writes, right past b's local copy.
    await log.producer().append(changelog, 0, [{ key: JSON.stringify('k'), value: serialize(-1), headers: { [ChangelogHeaders.epoch]: String(a.state.epoch) } }]);
    b.store.put('j', 3);
    const mark = await b.state.checkpoint(); // committed; b dies before its local copy takes it
    await b.lmdb!.close();
    const again = await owner(mark, dir);
    expect(again.summary.localRecords).toBe(1);
    expect(new Map(again.store.all())).toEqual(new Map([['k', 2], ['j', 3]]));
    expect(new Map((await owner(mark)).store.all())).toEqual(new Map([['k', 2], ['j', 3]]));
  });

  it('stops trusting the local copy of a resident store when a write to it fails (a key LMDB cannot hold), and restores in full', async () => {
    const { owner } = setup({ resident: true });
    const dir = stateDir();
    const first = await owner(undefined, dir);
    first.store.put('a', 1);
    await commit(first.state);
    first.store.put('x'.repeat(3_000), 2); // over LMDB's 1,978-byte keys
    first.store.put('a', 3);
    const mark = await commit(first.state);
    await first.lmdb!.close();
    const second = await owner(mark, dir);
    expect(second.summary.localRecords).toBe(0);
    expect(new Map(second.store.all())).toEqual(new Map([['a', 3], ['x'.repeat(3_000), 2]]));
  });

  it('fails a checkpoint with a permanent error for a key its local copy cannot hold, before anything is written', async () => {
    const { owner } = setup();
    const first = await owner(undefined, stateDir());
    first.store.put('x'.repeat(3_000), 2); // over LMDB's 1,978-byte keys
    const error = await Promise.resolve().then(() => first.state.checkpoint()).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(StoreError);
    expect(isPermanent(error)).toBe(true);
    expect((error as Error).message).toMatch(/3002 bytes cannot be kept on LMDB/);
  });

  it('keeps window stores too, their keys in first-seen order', async () => {
    const log = new MemoryLog();
    log.createTopic(changelogTopic('totals', 'views'), 1);
    const dir = stateDir();
    const make = async (mark: StateMark | undefined) => {
      const lmdb = new LmdbStateDir(dir, 'totals', logger);
      dirs.push(lmdb);
      const state = new PartitionState({
        processorId: 'totals',
        topicPartition,
        multiTopic: false,
        reader: log.reader(),
        producer: log.producer(),
        ensureChangelog: async () => {},
        logger,
        localCopy: (_store, tp) => lmdb.copy(tp),
      });
      const store = state.windowStore<string, number>('views');
      const summary = await state.restore(mark, async () => {});
      return { state, store, summary, lmdb };
    };
    const first = await make(undefined);
    first.store.put(0, 'b', 1);
    first.store.put(0, 'a', 2);
    first.store.put(60, 'c', 3);
    await commit(first.state);
    first.store.put(0, 'b', 5);
    first.store.deleteWindow(60);
    const mark = await commit(first.state);
    await first.lmdb.close();
    const second = await make(mark);
    expect(second.summary.localRecords).toBe(2);
    expect([...second.store.window(0)!]).toEqual([
      ['b', 5],
      ['a', 2],
    ]);
    expect(second.store.window(60)).toBeUndefined();
    expect(second.store.size).toBe(2);
  });
});

describe('the stateDir setting', () => {
  it("fails the start, naming stateDir, when a processor keeps stores on 'lmdb' and the app has none", async () => {
    const app = createTributary({
      logger,
      processors: [defineProcessor({ id: 'p', source: { topics: 'in' }, pipeline: () => EMPTY, sinks: toFunction('noop', () => {}), stores: 'lmdb' })],
    });
    const failure = await app.start().catch((err: unknown) => err);
    await app.stop().catch(() => {});
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as Error).message).toMatch(/stateDir/);
  });
});
