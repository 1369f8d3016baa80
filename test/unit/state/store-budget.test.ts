import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTributary } from '../../../src/app/tributary.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { ConfigError, isPermanent } from '../../../src/errors.js';
import { createLogger } from '../../../src/observability/logger.js';
import { defineProcessor, resolveProcessor } from '../../../src/processor/define-processor.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import { StoreBudgetError } from '../../../src/state/errors.js';
import { MemoryKeyValueStore } from '../../../src/state/memory-key-value-store.js';
import { MemoryWindowStore } from '../../../src/state/memory-window-store.js';
import { PartitionState } from '../../../src/state/partition-state.js';
import { jsonKeys, structuredValues } from '../../../src/state/store-serdes.js';
import { countByKey } from '../../../src/streams/count-by-key.js';
import type { SupervisorEvent } from '../../../src/supervision/supervisor-event.js';
import type { Serde } from '../../../src/serdes/serde.js';
import { eventually } from '../../contract/read-topic.js';

const logger = createLogger({ level: 'silent' });
const serdes = { key: jsonKeys as Serde<string>, value: structuredValues as Serde<number> };

const paths: string[] = [];
afterEach(() => {
  for (const path of paths.splice(0)) rmSync(path, { recursive: true, force: true });
});

/** A table on one partition, under a budget of 20 keys per store; the records come in chunks of 5 distinct keys. */
function tableApp(stores: 'memory' | 'lmdb') {
  const log = new MemoryLog();
  log.createTopic('clicks', 1);
  const updates: string[] = [];
  let stateDir: string | undefined;
  if (stores === 'lmdb') paths.push((stateDir = mkdtempSync(join(tmpdir(), 'tributary-budget-'))));
  const app = createTributary({
    log,
    logger,
    stateDir,
    restartBackoff: { minMs: 1, maxMs: 2 },
    supervision: { intensity: 20, periodMs: 60_000, onEscalation: 'stay-down' },
    processors: [
      defineProcessor<string | null, unknown>({
        id: 'clicks-per-user',
        source: { topics: 'clicks' },
        stores,
        storeBudget: { maxKeys: 20, cacheKeys: 100 },
        commitIntervalMs: 200,
        pipeline: (clicks) => clicks.pipe(countByKey({ store: 'per-user', key: (r: { key: string | null }) => String(r.key) })),
        sinks: toFunction('updates', (batch: ReadonlyArray<{ key: string }>) => void updates.push(...batch.map((u) => u.key))),
      }),
    ],
  });
  /** Sends the keys `u<from>`… `u<from + 4>`. */
  const send = (from: number) => log.producer().send('clicks', Array.from({ length: 5 }, (_, i) => ({ key: `u${from + i}`, value: '{}' })));
  /** Keys of the store in its changelog. */
  const logged = () => new Set(log.read('clicks-per-user-per-user-changelog').flatMap((r) => (String(r.key).startsWith('"u') ? [String(r.key)] : []))).size;
  return { app, updates, send, logged };
}

describe('store memory budgets', () => {
  it('fails the partition of an in-memory store over its budget once, naming the store, the budget and the way out, and escalates without restarting it', async () => {
    const { app, send } = tableApp('memory');
    const events: SupervisorEvent[] = [];
    app.supervision.subscribe((e) => events.push(e));
    await app.start();
    for (let from = 0; from < 30; from += 5) await send(from);
    await eventually(() => expect(events.some((e) => e.type === 'supervisor.gave-up')).toBe(true), 20_000);
    const failed = events.filter((e) => e.type === 'supervisor.child-failed');
    const error = failed.map((e) => ('error' in e ? e.error : undefined)).find((e) => e instanceof StoreBudgetError);
    expect(error).toBeInstanceOf(StoreBudgetError);
    expect(error?.message).toMatch(/store per-user: more than 20 keys, its memory budget: raise the processor's storeBudget.maxKeys, or keep the store on LMDB \(stores: 'lmdb'/);
    // Permanent: not one restart, at any level.
    expect(events.filter((e) => e.type === 'supervisor.child-restarting')).toEqual([]);
    expect(JSON.stringify(app.health())).toMatch(/permanent failure/);
    await app.stop().catch(() => {});
  }, 30_000);

  it("spills an 'lmdb' store over the same budget instead: every key is counted", async () => {
    const { app, updates, send, logged } = tableApp('lmdb');
    const events: SupervisorEvent[] = [];
    app.supervision.subscribe((e) => events.push(e));
    await app.start();
    for (let from = 0; from < 50; from += 5) {
      await send(from);
      // Checkpointed and committed; LMDB takes them a moment later (20 keys would be 4 intervals behind).
      await eventually(() => expect(logged()).toBe(from + 5), 20_000);
    }
    expect(new Set(updates).size).toBe(50);
    expect(events.filter((e) => e.type === 'supervisor.child-failed')).toEqual([]);
    await app.stop();
  }, 30_000);

  it('holds an in-memory key-value store at its budget: the key over it is refused, the others kept', () => {
    const store = new MemoryKeyValueStore<string, number>('kv', serdes, true, 2);
    store.put('a', 1);
    store.put('b', 2);
    store.put('a', 3); // an existing key: no new key
    expect(() => store.put('c', 3)).toThrow(StoreBudgetError);
    expect(isPermanent(new StoreBudgetError('kv', 2))).toBe(true);
    expect(new Map(store.all())).toEqual(new Map([['a', 3], ['b', 2]]));
    store.delete('b');
    store.put('c', 3);
    expect(store.size).toBe(2);
  });

  it('fails a restore whose committed state is over the budget (a budget lowered since), with the same permanent error', async () => {
    const log = new MemoryLog();
    log.createTopic('totals-sums-changelog', 1);
    const partitionState = (maxKeys: number) =>
      new PartitionState({ processorId: 'totals', topicPartition: { topic: 'orders', partition: 0 }, multiTopic: false, reader: log.reader(), producer: log.producer(), ensureChangelog: async () => {}, logger, storeBudget: { maxKeys, cacheKeys: 100 } });
    const first = partitionState(10);
    const store = first.keyValueStore<string, number>('sums');
    await first.restore(undefined, async () => {});
    for (const key of ['a', 'b', 'c']) store.put(key, 1);
    const mark = await first.checkpoint();
    const second = partitionState(2);
    second.keyValueStore<string, number>('sums');
    const error = await second.restore(mark, async () => {}).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(StoreBudgetError);
    expect(isPermanent(error)).toBe(true);
  });

  it('counts a window store by its entries (window × key)', () => {
    const store = new MemoryWindowStore<string, number>('windows', serdes, true, 2);
    store.put(0, 'a', 1);
    store.put(60, 'a', 1);
    expect(() => store.put(120, 'a', 1)).toThrow(/store windows: more than 2 entries, its memory budget/);
  });

  it('validates storeBudget at definition, naming the setting', () => {
    const define = (storeBudget: object) => defineProcessor({ id: 'p', source: { topics: 't' }, storeBudget, pipeline: (r) => r, sinks: toFunction('none', () => {}) });
    expect(() => define({ maxKeys: 0 })).toThrow(ConfigError);
    expect(() => define({ maxKeys: 0 })).toThrow(/p.storeBudget.maxKeys/);
    expect(() => define({ cacheKeys: 10 })).toThrow(/p.storeBudget.cacheKeys.*at least 100/);
    expect(() => define({ maxkeys: 10 })).toThrow(/p.storeBudget.maxkeys.*unknown/);
    expect(resolveProcessor(define({})).storeBudget).toEqual({ maxKeys: 5_000_000, cacheKeys: 100_000 });
  });
});
