/**
 * The embedded half of the `windows` scenario, in one process: fill a MemoryLog with the keyed
 * data set (bench/lib/dataset.ts, plus one flush record per partition), then measure a keyed
 * count in tumbling windows over it.
 *
 * `node --import tsx bench/keyed/embedded.ts --variant tributary|loop --label L --records N
 *  --keys K --span-ms S --base-ms B --value-bytes 100 --partitions P --window-ms 10000 --outputs M`
 *
 * - `tributary`: createTributary on the MemoryLog, the `windows` job of bench/keyed/topology.ts
 *   (tumbling count per key → toFunction); window: first record in the pipeline → all M results
 *   acknowledged.
 * - `loop`: the plain-JS count (bench/keyed/loop-count.ts) over the same records as the log
 *   hands them over (`log.read`: Buffers, timestamps), partition after partition, decoding each
 *   key from UTF-8 as tributary's string() serde does; window: the loop.
 */
import { performance } from 'node:perf_hooks';
import { createLogger, createTributary, MemoryLog } from '../../src/index.js';
import { IngestMeter, report, runChild, type ChildResult } from '../ingest/child.js';
import { FLUSH_KEY, flushTimestamp, keyOf, timestampOf, valueOf, type DataSetSpec } from '../lib/dataset.js';
import { LoopTumblingCount, type LoopResult } from './loop-count.js';
import { keyedProcessor } from './topology.js';

const TOPIC = 'events';

function parse(): Record<string, string> {
  const argv = process.argv.slice(2);
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) out[argv[i].replace(/^--/, '')] = argv[++i] ?? '';
  return out;
}

runChild(async () => {
  const a = parse();
  const data: DataSetSpec = { records: Number(a.records), keys: Number(a.keys), spanMs: Number(a['span-ms']), baseMs: Number(a['base-ms']), valueBytes: Number(a['value-bytes'] ?? 100) };
  const partitions = Number(a.partitions ?? 4);
  const windowMs = Number(a['window-ms'] ?? 10_000);
  const outputs = Number(a.outputs);
  const label = a.label ?? a.variant;
  const log = new MemoryLog();
  log.createTopic(TOPIC, partitions);
  const producer = log.producer();
  const loadStart = performance.now();
  for (let from = 0; from < data.records; from += 10_000) {
    const chunk = [];
    for (let i = from; i < Math.min(data.records, from + 10_000); i++) chunk.push({ key: keyOf(data, i), value: valueOf(data, i), timestamp: timestampOf(data, i) });
    await producer.send(TOPIC, chunk);
  }
  const flushTs = flushTimestamp(data);
  await producer.send(
    TOPIC,
    Array.from({ length: partitions }, (_, p) => ({ key: FLUSH_KEY, value: Buffer.alloc(0), partition: p, timestamp: flushTs })),
  );
  const inputs = data.records + partitions;
  process.stderr.write(`${label}: loaded ${inputs} records into the MemoryLog in ${((performance.now() - loadStart) / 1000).toFixed(1)} s\n`);

  if (a.variant === 'loop') {
    const perPartition = Array.from({ length: partitions }, (_, p) => log.read(TOPIC, p));
    global.gc?.();
    const startedAt = performance.now();
    const cpu0 = process.cpuUsage();
    let results = 0;
    let late = 0;
    for (const records of perPartition) {
      const counter = new LoopTumblingCount(windowMs);
      const out: LoopResult[] = [];
      for (const r of records) counter.add(r.key === null ? '' : r.key.toString('utf8'), r.timestamp, out);
      results += out.length;
      late += counter.late;
    }
    const cpu = process.cpuUsage(cpu0);
    const seconds = (performance.now() - startedAt) / 1000;
    if (results !== outputs) throw new Error(`${label}: ${results} results, expected ${outputs}`);
    const total = process.cpuUsage();
    const result: ChildResult = {
      label,
      records: inputs,
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
      extra: { outputs: results, late },
    };
    await report(result, async () => {});
    return;
  }

  const meter = new IngestMeter(label, inputs, outputs);
  const logger = createLogger({ level: 'warn' });
  const app = createTributary({
    processors: [
      keyedProcessor('windows', {
        id: 'bench-windows',
        groupId: 'bench-windows',
        topic: TOPIC,
        windowMs,
        gapMs: 5000,
        onInput: () => meter.batch(1),
        onOutput: (items) => meter.output(items.length),
      }),
    ],
    log,
    logger,
  });
  let pauses = 0;
  app.lifecycle.subscribe((event) => {
    if (event.type === 'partition.paused') pauses++;
    if (event.type === 'partition.failed') meter.fail(new Error(`partition ${event.partition} failed: ${event.error.message}`));
  });
  meter.start();
  await app.start();
  const result = await meter.done;
  await report({ ...result, extra: { ...result.extra, backpressurePauses: pauses } }, () => app.stop());
});
