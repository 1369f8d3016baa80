import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { PartitionReader } from '../../../src/connectors/log.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { ChangelogHeaders, changelogTopic } from '../../../src/state/changelog.js';
import { LmdbStateDir } from '../../../src/state/lmdb-state-dir.js';
import { PartitionState, type StateMark } from '../../../src/state/partition-state.js';
import { StandbyReplica } from '../../../src/state/standby-replica.js';

const logger = createLogger({ level: 'silent' });
const topicPartition = { topic: 'orders', partition: 0 };
const changelog = changelogTopic('totals', 'sums');
const KEYS = Array.from({ length: 40 }, (_, i) => `k${i}`);

const dirs: LmdbStateDir[] = [];
const paths: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await dir.close();
  for (const path of paths.splice(0)) rmSync(path, { recursive: true, force: true });
});

/** A node's state directory (one LMDB environment, shared by its standby and its owners, as in a process). */
function node(): LmdbStateDir {
  const path = mkdtempSync(join(tmpdir(), 'tributary-standby-'));
  paths.push(path);
  const dir = new LmdbStateDir(path, 'totals', logger);
  dirs.push(dir);
  return dir;
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

function setup() {
  const log = new MemoryLog();
  log.createTopic('orders', 1);
  log.createTopic(changelog, 1);
  /** A new owner of the partition, restored for the committed `mark`; `dir`: its node's state directory (none: in memory, the reference). */
  const owner = async (mark: StateMark | undefined, dir?: LmdbStateDir) => {
    const counted = counting(log.reader());
    const state = new PartitionState({
      processorId: 'totals',
      topicPartition,
      multiTopic: false,
      reader: counted.reader,
      producer: log.producer(),
      ensureChangelog: async () => {},
      logger,
      localCopy: dir ? (_store, tp) => dir.copy(tp) : undefined,
    });
    const store = state.keyValueStore<string, number>('sums');
    let claimed: StateMark | undefined;
    const summary = await state.restore(mark, async (m) => {
      claimed = m;
    });
    // What the claim committed: the group's mark until this owner's next commit.
    return { state, store, summary, claimed: claimed!, changelogRead: counted.read };
  };
  const standby = (dir: LmdbStateDir) => {
    const counted = counting(log.reader());
    const replica = new StandbyReplica({ topicPartition, reader: counted.reader, copyOf: () => dir.copy({ topic: changelog, partition: 0 }), logger });
    return { replica, read: counted.read };
  };
  return { log, owner, standby };
}

/** Checkpoints, and tells the state its mark was committed (as the runtime does once the commit succeeds). */
async function commit(state: PartitionState): Promise<StateMark> {
  const mark = await state.checkpoint();
  state.committed(mark);
  return mark;
}

function contents(store: { get(key: string): number | undefined }): Record<string, number | undefined> {
  return Object.fromEntries(KEYS.map((k) => [k, store.get(k)]));
}

describe('warm standbys (StandbyReplica)', () => {
  it('follows the committed marks: the first catch-up builds the copy, the next ones read only the tail', async () => {
    const { owner, standby } = setup();
    const a = await owner(undefined, node());
    for (let i = 0; i < 1_000; i++) a.store.put(`k${i}`, i);
    const m1 = await commit(a.state);
    const s = standby(node());
    const first = await s.replica.catchUp(m1);
    expect(first.stores[0].last).toBe('rebuild');
    expect(first.applied).toBe(1_000);
    expect(first.lag).toBe(0);
    for (let i = 0; i < 10; i++) a.store.put(`k${i}`, -i);
    const m2 = await commit(a.state);
    a.store.put('k500', 0);
    await a.state.checkpoint(); // written, not committed: the standby must not take it
    const before = s.read();
    const second = await s.replica.catchUp(m2);
    expect(second.stores[0].last).toBe('tail');
    expect(s.read() - before).toBe(10);
    expect(second.applied).toBe(10);
    expect(second.lag).toBe(1); // the uncommitted record past the mark
    expect((await s.replica.catchUp(m2)).stores[0].last).toBe('current');
  });

  it('makes a takeover on its node restore only the tail past its copy, to exactly the committed state', async () => {
    const { owner, standby } = setup();
    const a = await owner(undefined, node());
    for (let i = 0; i < 1_000; i++) a.store.put(`k${i % 40}`, i);
    const m1 = await commit(a.state);
    const dir = node();
    const s = standby(dir);
    await s.replica.catchUp(m1);
    // The owner goes on: 7 changes committed after the standby's last catch-up, 2 never committed; then it dies.
    for (let i = 0; i < 7; i++) a.store.put(`k${i}`, 10_000 + i);
    const m2 = await commit(a.state);
    a.store.put('k1', -1);
    a.store.put('k39', -39);
    await a.state.checkpoint();

    const takeover = await owner(m2, dir);
    expect(takeover.summary.localRecords).toBe(40);
    expect(takeover.changelogRead()).toBe(7 + 2); // [copy, committed) and the 2 past it (their keys written again), nothing else
    const reference = await owner(m2);
    expect(reference.changelogRead()).toBeGreaterThan(40 + 9);
    expect(contents(takeover.store)).toEqual(contents(reference.store));
    expect(takeover.store.get('k1')).toBe(10_001);
    expect(takeover.store.get('k39')).toBe(999);
  });

  it('follows a new owner from its marker without a rebuild, ignoring a zombie, and a takeover still restores only the tail', async () => {
    const { log, owner, standby } = setup();
    const a = await owner(undefined, node());
    for (let i = 0; i < 200; i++) a.store.put(`k${i % 40}`, i);
    const m1 = await commit(a.state);
    const dir = node();
    const s = standby(dir);
    await s.replica.catchUp(m1);
    a.store.put('k3', 3_333);
    await a.state.checkpoint(); // A's last write, never committed
    // B takes over (elsewhere), restores m1, claims it (the group's mark names A still), then works.
    const b = await owner(m1, node());
    expect((await s.replica.catchUp(b.claimed)).stores[0].last).toBe('current');
    // A, paused through the takeover, writes once more after B's marker.
    await log.producer().append(changelog, 0, [{ key: JSON.stringify('k4'), value: serialize(-4), headers: { [ChangelogHeaders.epoch]: a.state.owner } }]);
    // B's next commit covers the zombie's record (B writes k4 again only at the commit after).
    b.store.put('k5', 5_555);
    const m3 = await commit(b.state);
    expect(m3.owners?.sums).toBe(b.state.owner);
    const step = await s.replica.catchUp(m3);
    expect(step.stores[0].last).toBe('new-owner');

    const c = await owner(m3, dir);
    expect(c.summary.localRecords).toBe(40);
    expect(c.changelogRead()).toBe(0); // the copy is at the committed mark, and nothing lies past it
    const reference = await owner(m3);
    expect(contents(c.store)).toEqual(contents(reference.store));
    expect(c.store.get('k3')).toBe(163); // A's uncommitted write ignored
    expect(c.store.get('k4')).toBe(164); // the zombie's ignored
    expect(c.store.get('k5')).toBe(5_555);
  });

  it("ignores a zombie's record in the tail it follows, as the restore rule does", async () => {
    const { log, owner, standby } = setup();
    const a = await owner(undefined, node());
    for (let i = 0; i < 40; i++) a.store.put(`k${i}`, i);
    const m1 = await commit(a.state);
    const b = await owner(m1, node());
    b.store.put('k1', 1_111);
    const m2 = await commit(b.state);
    const dir = node();
    const s = standby(dir);
    await s.replica.catchUp(m2);
    // A, a zombie, writes k2; B's next commit covers that record (B writes k2 again only at the commit after).
    await log.producer().append(changelog, 0, [{ key: JSON.stringify('k2'), value: serialize(-2), headers: { [ChangelogHeaders.epoch]: a.state.owner } }]);
    b.store.put('k3', 3_333);
    const m3 = await commit(b.state);
    expect((await s.replica.catchUp(m3)).stores[0].last).toBe('tail');
    const c = await owner(m3, dir);
    expect(c.changelogRead()).toBe(0);
    const reference = await owner(m3);
    expect(contents(c.store)).toEqual(contents(reference.store));
    expect(c.store.get('k2')).toBe(2);
    expect(c.store.get('k3')).toBe(3_333);
  });

  it('rebuilds a copy of another owner it cannot follow (a marker without restoredFrom), to the same state as a restore', async () => {
    const { log, owner, standby } = setup();
    const a = await owner(undefined, node());
    for (let i = 0; i < 100; i++) a.store.put(`k${i % 40}`, i);
    const m1 = await commit(a.state);
    const dir = node();
    const s = standby(dir);
    await s.replica.catchUp(m1);
    // An owner of an older version: its marker does not say what it restored from.
    const owner2 = '2.0ld0ld00';
    await log.producer().append(changelog, 0, [
      { key: `\u0000tributary.epoch.${owner2}`, value: JSON.stringify({ owner: owner2, restoredUntil: m1.positions.sums }), headers: { [ChangelogHeaders.epoch]: owner2, [ChangelogHeaders.control]: 'epoch' } },
      { key: JSON.stringify('k1'), value: serialize(-1), headers: { [ChangelogHeaders.epoch]: owner2 } },
    ]);
    const end = await log.reader().endOffset({ topic: changelog, partition: 0 });
    const m2: StateMark = { epoch: 2, positions: { sums: end }, owners: { sums: owner2 } };
    const step = await s.replica.catchUp(m2);
    expect(step.stores[0].last).toBe('rebuild');
    const c = await owner(m2, dir);
    expect(c.summary.localRecords).toBe(40);
    expect(c.changelogRead()).toBe(0);
    const reference = await owner(m2);
    expect(contents(c.store)).toEqual(contents(reference.store));
    expect(c.store.get('k1')).toBe(-1);
  });

  it('gives a takeover from its copy exactly the state of a restore from the changelog, over random histories of owners, zombies and catch-ups', async () => {
    type Step = { kind: 'put'; key: number; value: number } | { kind: 'commit' } | { kind: 'uncommitted' } | { kind: 'takeover' } | { kind: 'zombie'; key: number } | { kind: 'catchUp' } | { kind: 'delete'; key: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), key: fc.nat(39), value: fc.integer({ min: -1000, max: 1000 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.nat(39) }) },
      { weight: 2, arbitrary: fc.constant({ kind: 'commit' as const }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'uncommitted' as const }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'takeover' as const }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('zombie' as const), key: fc.nat(39) }) },
      { weight: 2, arbitrary: fc.constant({ kind: 'catchUp' as const }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 50 }), async (steps) => {
        const { log, owner, standby } = setup();
        const standbyDir = node();
        const s = standby(standbyDir);
        let current = await owner(undefined, node());
        let previous: typeof current | undefined;
        let committed: StateMark | undefined;
        for (const st of steps) {
          if (st.kind === 'put') current.store.put(KEYS[st.key], st.value);
          else if (st.kind === 'delete') current.store.delete(KEYS[st.key]);
          else if (st.kind === 'commit') committed = await commit(current.state);
          else if (st.kind === 'uncommitted') await current.state.checkpoint();
          else if (st.kind === 'catchUp') await s.replica.catchUp(committed);
          else if (st.kind === 'zombie' && previous) {
            await log.producer().append(changelog, 0, [{ key: JSON.stringify(KEYS[st.key]), value: serialize(-7), headers: { [ChangelogHeaders.epoch]: previous.state.owner } }]);
          } else if (st.kind === 'takeover') {
            previous = current;
            current = await owner(committed, node());
            committed = current.claimed;
          }
        }
        await s.replica.catchUp(committed);
        const end = await log.reader().endOffset({ topic: changelog, partition: 0 });
        const fromCopy = await owner(committed, standbyDir);
        const reference = await owner(committed);
        expect(contents(fromCopy.store)).toEqual(contents(reference.store));
        // The copy is at the committed mark: the takeover reads only what lies past it.
        if (committed) expect(fromCopy.changelogRead()).toBe(end - committed.positions.sums);
        for (const dir of dirs.splice(0)) await dir.close();
      }),
      { numRuns: 100 },
    );
  });
});
