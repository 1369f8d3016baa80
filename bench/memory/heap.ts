/**
 * The `memory` scenario's child (run under `node --expose-gc`): heap bytes per key of a keyed
 * tumbling count's window state, at N distinct keys (default 1,000,000) all in one open window.
 *
 * `node --expose-gc --import tsx bench/memory/heap.ts --variant tributary|kv-store|js-map --keys N --partitions P --label L`
 *
 * 1. A MemoryLog topic of P partitions; `tributary`: the app (tumbling 10 s count per record key
 *    → toFunction) is started on it and paused once its partitions have started.
 * 2. gc; heap₀. N records (key `u<i>`, 100 B value, event times inside one 10 s window, so no
 *    window closes) are written to the log; gc; heap₁. The log's own heap is heap₁ − heap₀.
 * 3. `tributary`: resume, and wait until every record was taken and completed; `js-map`: a
 *    plain `Map<string, number>` count over the log's records (keys decoded from UTF-8, as
 *    tributary's string() serde does); `kv-store`: the same count in tributary's in-memory
 *    key-value store (`MemoryKeyValueStore`, logged: what `countByKey` keeps), whose changes are
 *    then taken once as a checkpoint would (the records dropped, as once acknowledged).
 *    gc; heap₂. State = heap₂ − heap₁; per key ÷ N.
 *
 * heapUsed only (process.memoryUsage()): the state is JS objects; Buffers live outside the heap.
 */
import { performance } from 'node:perf_hooks';
import { counting, createLogger, createTributary, defineProcessor, MemoryLog, toFunction, tumbling, bytes } from '../../src/index.js';
import { report, runChild, type ChildResult } from '../ingest/child.js';
import { MemoryKeyValueStore } from '../../src/state/memory-key-value-store.js';
import { jsonKeys, structuredValues } from '../../src/state/store-serdes.js';
import type { Serde } from '../../src/serdes/serde.js';

const TOPIC = 'keys';
const WINDOW_MS = 10_000;

function parse(): Record<string, string> {
  const argv = process.argv.slice(2);
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) out[argv[i].replace(/^--/, '')] = argv[++i] ?? '';
  return out;
}

const gc = (): void => {
  if (!global.gc) throw new Error('run under node --expose-gc');
  for (let i = 0; i < 4; i++) global.gc();
};
const heap = (): number => {
  gc();
  return process.memoryUsage().heapUsed;
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** What must stay reachable until the last heap reading (V8 may drop dead locals earlier). */
const keepAlive: unknown[] = [];

runChild(async () => {
  const a = parse();
  const keys = Number(a.keys ?? 1_000_000);
  const partitions = Number(a.partitions ?? 4);
  const label = a.label ?? a.variant;
  const base = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 60_000;
  const log = new MemoryLog();
  log.createTopic(TOPIC, partitions);
  keepAlive.push(log);
  let taken = 0;
  let started = 0;
  const app =
    a.variant === 'tributary'
      ? createTributary({
          log,
          logger: createLogger({ level: 'warn' }),
          processors: [
            defineProcessor<string | null, Buffer | null>({
              id: 'bench-memory',
              source: { topics: TOPIC, value: bytes() },
              pipeline: (records, ctx) =>
                records.pipe(
                  tumbling({
                    size: WINDOW_MS,
                    key: (r) => (taken++, r.key),
                    aggregate: counting(),
                    clock: ctx.clock,
                    holds: ctx.holds,
                    late: ctx.late,
                  }),
                ),
              sinks: toFunction('results', () => {}),
            }),
          ],
        })
      : undefined;
  if (app) {
    app.lifecycle.subscribe((e) => e.type === 'partition.started' && started++);
    await app.start();
    while (started < partitions) await sleep(10);
    app.processor('bench-memory').pause();
  }
  const heap0 = heap();
  const producer = log.producer();
  const value = Buffer.alloc(100, 'x');
  for (let from = 0; from < keys; from += 10_000) {
    const chunk = [];
    for (let i = from; i < Math.min(keys, from + 10_000); i++) chunk.push({ key: `u${i}`, value, timestamp: base + (i % WINDOW_MS) });
    await producer.send(TOPIC, chunk);
  }
  const heap1 = heap();
  const startedAt = performance.now();
  const cpu0 = process.cpuUsage();
  if (app) {
    app.processor('bench-memory').resume();
    const done = (): boolean => taken >= keys && app.processor('bench-memory').status().every((p) => p.pending === 0);
    while (!done()) await sleep(5);
  } else if (a.variant === 'kv-store') {
    const store = new MemoryKeyValueStore<string, number>('counts', { key: jsonKeys as Serde<string>, value: structuredValues as Serde<number> });
    for (let p = 0; p < partitions; p++) {
      for (const r of log.read(TOPIC, p)) {
        const key = r.key!.toString('utf8');
        store.put(key, (store.get(key) ?? 0) + 1);
      }
    }
    if (store.takeChanges().length !== keys || store.size !== keys) throw new Error(`${store.size} keys, expected ${keys}`);
    taken = keys;
    keepAlive.push(store);
  } else {
    const counts = new Map<string, number>();
    for (let p = 0; p < partitions; p++) {
      for (const r of log.read(TOPIC, p)) {
        const key = r.key!.toString('utf8');
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    if (counts.size !== keys) throw new Error(`${counts.size} keys, expected ${keys}`);
    taken = keys;
    keepAlive.push(counts);
  }
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - startedAt) / 1000;
  await sleep(50);
  const heap2 = heap();
  const total = process.cpuUsage();
  const result: ChildResult = {
    label,
    records: keys,
    firstBatchRecords: 0,
    seconds,
    totalSeconds: seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    cpuUserSeconds: cpu.user / 1e6,
    cpuSystemSeconds: cpu.system / 1e6,
    processCpuSeconds: (total.user + total.system) / 1e6,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    windowStartUs: 0,
    windowEndUs: 0,
    extra: {
      keys,
      heapBytesPerKey: (heap2 - heap1) / keys,
      stateHeapMiB: (heap2 - heap1) / 2 ** 20,
      logHeapMiB: (heap1 - heap0) / 2 ** 20,
      heapUsedMiB: heap2 / 2 ** 20,
    },
  };
  if (keepAlive.length < 1) process.stderr.write('unreachable\n');
  await report(result, async () => {
    await app?.stop();
  });
});
