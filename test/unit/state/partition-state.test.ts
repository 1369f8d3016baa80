import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import type { OutgoingRecord } from '../../../src/connectors/log.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { ChangelogHeaders, changelogTopic, epochMarker, isEpochMarker, recordEpoch } from '../../../src/state/changelog.js';
import { RestoreError } from '../../../src/state/errors.js';
import { PartitionState, type StateMark } from '../../../src/state/partition-state.js';

const logger = createLogger({ level: 'silent' });
const topicPartition = { topic: 'orders', partition: 0 };
const changelog = changelogTopic('totals', 'sums');

function setup(): { log: MemoryLog; state: () => PartitionState } {
  const log = new MemoryLog();
  log.createTopic('orders', 1);
  log.createTopic(changelog, 1);
  const state = () =>
    new PartitionState({
      processorId: 'totals',
      topicPartition,
      multiTopic: false,
      reader: log.reader(),
      producer: log.producer(),
      ensureChangelog: async () => {},
      logger,
    });
  return { log, state };
}

const record = (key: string, value: number | null, owner: string): OutgoingRecord => ({
  key: JSON.stringify(key),
  value: value === null ? null : serialize(value),
  headers: { [ChangelogHeaders.epoch]: owner },
});

async function append(log: MemoryLog, records: OutgoingRecord[]): Promise<number> {
  return log.producer().append(changelog, 0, records);
}

/** A new owner restoring from `mark`, its claim accepted; returns its store and state. */
async function restore(make: () => PartitionState, mark: StateMark | undefined, claims: number[] = []) {
  const state = make();
  const store = state.keyValueStore<string, number>('sums');
  await state.restore(mark, async (claimed) => void claims.push(claimed.epoch));
  return { state, store };
}

describe('PartitionState', () => {
  it('writes one changelog record per changed key per checkpoint, the last value, with the epoch', async () => {
    const { log, state: make } = setup();
    const { state, store } = await restore(make, undefined);
    for (let i = 1; i <= 1_000; i++) store.put('hot', i);
    store.put('cold', 7);
    store.put('gone', 1);
    store.delete('gone');
    const mark = await state.checkpoint();
    const written = log.read(changelog).filter((r) => !isEpochMarker(r));
    expect(written.map((r) => [JSON.parse(r.key!.toString()), r.value === null ? null : r.value.length > 0])).toEqual([
      ['hot', true],
      ['cold', true],
      ['gone', null],
    ]);
    expect(written.every((r) => recordEpoch(r) === state.epoch)).toBe(true);
    expect(mark).toEqual({ epoch: 1, positions: { sums: 4 }, owners: { sums: state.owner } }); // marker at 0, then 3 records
    expect(state.owner).toMatch(/^1\.[0-9a-f]{8}$/);
    expect(await state.checkpoint()).toEqual(mark); // nothing changed: nothing written
  });

  it('restores up to the committed position and ignores what was written after it, writing those keys again', async () => {
    const { log, state: make } = setup();
    const first = await restore(make, undefined);
    first.store.put('a', 1);
    first.store.put('b', 2);
    const committed = await first.state.checkpoint();
    // Written and acknowledged, but the owner died before committing it.
    first.store.put('a', 100);
    first.store.put('c', 3);
    await first.state.checkpoint();
    const claims: number[] = [];
    const second = await restore(make, committed, claims);
    expect([...second.store.all()]).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect(claims).toEqual([2]);
    // The keys past the position are written again with the restored values (c: a tombstone).
    const mark = await second.state.checkpoint();
    const tail = log.read(changelog).slice(-2);
    expect(tail.map((r) => [JSON.parse(r.key!.toString()), r.value === null])).toEqual([
      ['a', false],
      ['c', true],
    ]);
    const third = await restore(make, mark);
    expect(new Map(third.store.all())).toEqual(new Map([['a', 1], ['b', 2]]));
  });

  it("ignores an older owner's records written after the committing owner's marker (a zombie's)", async () => {
    const { log, state: make } = setup();
    await append(log, [epochMarker('1.aa', 0), record('k', 1, '1.aa'), record('j', 5, '1.aa')]);
    await append(log, [epochMarker('2.bb', 3), record('k', 2, '2.bb')]);
    await append(log, [record('k', 99, '1.aa'), record('j', null, '1.aa')]); // the zombie of epoch 1
    const end = await append(log, [record('x', 3, '2.bb')]);
    const { store, state } = await restore(make, { epoch: 2, positions: { sums: end + 1 }, owners: { sums: '2.bb' } });
    expect(new Map(store.all())).toEqual(new Map([['k', 2], ['j', 5], ['x', 3]]));
    expect(state.epoch).toBe(3);
  });

  it("counts the committing owner's records after another member's newer marker (a member that briefly believed it owned the partition)", async () => {
    const { log, state: make } = setup();
    await append(log, [epochMarker('1.aa', 0), record('k', 1, '1.aa')]);
    // During a rebalance another member restored from the same commit, claimed a newer epoch, wrote, and lost the partition.
    await append(log, [epochMarker('2.bb', 0), record('k', 50, '2.bb'), record('z', 1, '2.bb')]);
    const end = await append(log, [record('k', 2, '1.aa'), record('j', 7, '1.aa')]);
    const { store, state } = await restore(make, { epoch: 1, positions: { sums: end + 2 }, owners: { sums: '1.aa' } });
    expect(new Map(store.all())).toEqual(new Map([['k', 2], ['j', 7]]));
    expect(state.epoch).toBe(3);
  });

  it('two members restoring from one commit at once (a split during a rebalance): a restore from either one\'s commit is that one\'s state', async () => {
    const { state: make } = setup();
    const first = await restore(make, undefined);
    first.store.put('a', 1);
    const base = await first.state.checkpoint();
    const x = await restore(make, base);
    const y = await restore(make, base);
    expect(y.state.epoch).toBeGreaterThan(x.state.epoch); // y's marker is the newer: x's records after it still count for x's commits
    x.store.put('a', 10);
    y.store.put('a', 20);
    y.store.put('b', 2);
    await x.state.checkpoint();
    const ofY = await y.state.checkpoint();
    x.store.put('c', 3);
    const ofX = await x.state.checkpoint();
    expect(new Map((await restore(make, ofX)).store.all())).toEqual(new Map([['a', 10], ['c', 3]]));
    expect(new Map((await restore(make, ofY)).store.all())).toEqual(new Map([['a', 20], ['b', 2]]));
    // The one restored from base again, after both: base's state exactly.
    expect(new Map((await restore(make, base)).store.all())).toEqual(new Map([['a', 1]]));
  });

  it('writes nothing when its claim is refused', async () => {
    const { log, state: make } = setup();
    await append(log, [epochMarker('1.aa', 0), record('k', 1, '1.aa')]);
    const state = make();
    state.keyValueStore<string, number>('sums');
    const before = log.read(changelog).length;
    await expect(state.restore({ epoch: 1, positions: { sums: 2 }, owners: { sums: '1.aa' } }, async () => Promise.reject(new Error('not the owner')))).rejects.toThrow('not the owner');
    expect(log.read(changelog)).toHaveLength(before);
  });

  it('notices records someone else wrote between two of its appends and writes their keys again', async () => {
    const { log, state: make } = setup();
    const { state, store } = await restore(make, undefined);
    store.put('k', 1);
    await state.checkpoint();
    await append(log, [record('k', 666, '0'), record('z', 1, '0')]);
    store.put('other', 1);
    await state.checkpoint(); // lands after the foreign records: k and z are queued again
    const mark = await state.checkpoint();
    const last = log.read(changelog).slice(-2);
    expect(last.map((r) => JSON.parse(r.key!.toString()))).toEqual(['k', 'z']);
    const next = await restore(make, mark);
    expect(new Map(next.store.all())).toEqual(new Map([['k', 1], ['other', 1]]));
  });

  it('fails the restore loudly, naming the record, when a changelog record does not decode', async () => {
    const { log, state: make } = setup();
    await append(log, [epochMarker('1.aa', 0), { key: '{not json', value: serialize(1), headers: { [ChangelogHeaders.epoch]: '1.aa' } }]);
    const state = make();
    state.keyValueStore('sums');
    const failure = await state.restore({ epoch: 1, positions: { sums: 2 } }, async () => {}).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(RestoreError);
    expect((failure as RestoreError).message).toContain(`${changelog}[0]@1`);
  });

  it('refuses a store declared after the restore began', async () => {
    const { state: make } = setup();
    const { state } = await restore(make, undefined);
    expect(() => state.keyValueStore('late')).toThrow(/declared after the pipeline was built/);
  });
});
