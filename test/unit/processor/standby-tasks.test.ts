import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMPTY } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeResumePoint } from '../../../src/actors/resume-point.js';
import type { PartitionOffset, TopicPartition } from '../../../src/connectors/log.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { TributaryMetrics } from '../../../src/observability/metrics.js';
import { defineProcessor, resolveProcessor, type ResolvedProcessor } from '../../../src/processor/define-processor.js';
import type { PlacementView } from '../../../src/processor/standby-placement.js';
import { StandbyTasks } from '../../../src/processor/standby-tasks.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import { changelogTopic } from '../../../src/state/changelog.js';
import { LmdbStateDir } from '../../../src/state/lmdb-state-dir.js';
import { PartitionState, type StateMark } from '../../../src/state/partition-state.js';

const logger = createLogger({ level: 'silent' });
const tp: TopicPartition = { topic: 'orders', partition: 0 };
const changelog = { topic: changelogTopic('totals', 'sums'), partition: 0 };

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2_000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error(`never: ${what}`);
}

function view(owner: string | undefined): PlacementView {
  return {
    self: 'b',
    members: ['a', 'b'].map((node) => ({ node, status: 'alive', report: { processors: [{ id: 'totals' }] } })),
    partitions: owner === undefined ? [] : [{ processor: 'totals', topic: tp.topic, partition: tp.partition, node: owner }],
  };
}

async function setup() {
  const log = new MemoryLog();
  log.createTopic('orders', 1);
  log.createTopic(changelog.topic, 1);
  const path = mkdtempSync(join(tmpdir(), 'tributary-standby-tasks-'));
  const dir = new LmdbStateDir(path, 'totals', logger);
  cleanups.push(() => rmSync(path, { recursive: true, force: true }), () => dir.close());
  // The owner, on another node (in memory here: only its changelog matters).
  const owner = new PartitionState({ processorId: 'totals', topicPartition: tp, multiTopic: false, reader: log.reader(), producer: log.producer(), ensureChangelog: async () => {}, logger });
  const store = owner.keyValueStore<string, number>('sums');
  let committed: StateMark | undefined;
  await owner.restore(undefined, async (mark) => void (committed = mark));
  const commit = async (): Promise<void> => {
    committed = await owner.checkpoint();
  };
  const processor: ResolvedProcessor = resolveProcessor<unknown, unknown>(defineProcessor({ id: 'totals', source: { topics: 'orders' }, pipeline: () => EMPTY, sinks: toFunction('noop', () => {}), stores: 'lmdb', standbyReplicas: 1 }));
  const standbys = new StandbyTasks({
    processor,
    log,
    metrics: new TributaryMetrics(),
    logger,
    copyOf: (_tp, store) => dir.copy({ topic: changelogTopic('totals', store), partition: 0 }),
    committed: async (tps): Promise<PartitionOffset[]> => tps.map((t) => ({ ...t, offset: 1, metadata: encodeResumePoint({ offset: 1, time: { watermark: -Infinity }, replayUntil: 1, state: committed }) })),
    intervalMs: 10,
  });
  cleanups.push(() => standbys.stop());
  const copyPosition = (): number | undefined => dir.copy(changelog).meta()?.position;
  return { store, commit, standbys, copyPosition, committed: () => committed! };
}

describe('a processor\'s standbys (StandbyTasks)', () => {
  it('follows the partitions the view places here, keeps following one whose owner vanished, and stops when it is no longer placed here', async () => {
    const { store, commit, standbys, copyPosition, committed } = await setup();
    for (let i = 0; i < 100; i++) store.put(`k${i}`, i);
    await commit();
    standbys.place(view('a'));
    await until(() => copyPosition() === committed().positions.sums && standbys.status()[0]?.lag === 0, 'the copy at the committed position');
    expect(standbys.status()).toMatchObject([{ topic: 'orders', partition: 0, lag: 0 }]);
    expect(standbys.lags().get('orders:0')).toBe(0);
    // The owner vanished from the view (declared down): the standby stays, and follows on.
    standbys.place(view(undefined));
    store.put('k1', -1);
    await commit();
    await until(() => copyPosition() === committed().positions.sums, 'the copy at the new committed position');
    // Owned by b itself now: no standby of it.
    standbys.place({ ...view(undefined), partitions: [{ processor: 'totals', topic: 'orders', partition: 0, node: 'b' }] });
    expect(standbys.status()).toEqual([]);
  });

  it('stops following a partition claimed by this node before its actor starts, and follows it again once it left', async () => {
    const { store, commit, standbys, copyPosition, committed } = await setup();
    store.put('a', 1);
    await commit();
    standbys.place(view('a'));
    await until(() => copyPosition() === committed().positions.sums, 'the copy at the committed position');
    await standbys.claim([tp]);
    expect(standbys.status()).toEqual([]);
    standbys.place(view('a')); // a view that has not caught up: still not followed while claimed
    expect(standbys.status()).toEqual([]);
    expect(standbys.lags().get('orders:0')).toBe(0); // owned here: nothing to restore
    standbys.unclaim([tp]);
    store.put('b', 2);
    await commit();
    standbys.place(view('a'));
    await until(() => copyPosition() === committed().positions.sums, 'the copy at the new committed position');
    expect(standbys.status()).toHaveLength(1);
  });
});
