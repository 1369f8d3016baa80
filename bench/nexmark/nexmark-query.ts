/**
 * One nexmark query alone, embedded, in one process: the `nexmark` scenario's tributary run.
 *
 * `node --import tsx bench/nexmark/nexmark-query.ts --query q7 --events N --partitions P --seed S --label L`
 *
 * Generates N valid events (examples/nexmark/generate.ts: no malformed lines, duplicates, blank
 * lines or late events), loads them into a MemoryLog's three input topics as the command line
 * does (JSON values, keyed by id / seller / auction, event time as the timestamp), then runs the
 * example app's processors for that one output (`nexmarkQueryProcessors`: only the stages it
 * needs) to the end of the input (`finishInput`: every window fires). Window: `app.start()` →
 * `finishInput()` resolved; CPU: the process over that window. Outputs are counted by
 * function sinks.
 */
import { performance } from 'node:perf_hooks';
import { createLogger, createTributary, MemoryLog, toFunction, type Sink } from '../../src/index.js';
import { nexmark, nexmarkQueryProcessors, NEXMARK_OUTPUTS, type NexmarkOutput } from '../../examples/nexmark/app.js';
import { NEXMARK_TOPICS } from '../../examples/nexmark/events.js';
import { generateNexmarkLines } from '../../examples/nexmark/generate.js';
import { report, runChild } from '../ingest/child.js';

function parse(): Record<string, string> {
  const argv = process.argv.slice(2);
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) out[argv[i].replace(/^--/, '')] = argv[++i] ?? '';
  return out;
}

runChild(async () => {
  const a = parse();
  const query = a.query as NexmarkOutput;
  if (!NEXMARK_OUTPUTS.includes(query)) throw new Error(`--query must be one of ${NEXMARK_OUTPUTS.join(', ')}, not '${a.query}'`);
  const events = Number(a.events);
  const partitions = Number(a.partitions ?? 4);
  const label = a.label ?? query;
  const log = new MemoryLog();
  for (const topic of Object.values(NEXMARK_TOPICS)) log.createTopic(topic, partitions);
  const producer = log.producer();
  const loadStart = performance.now();
  const byTopic = new Map<string, Array<{ key: string | null; value: string; timestamp: number }>>();
  let loaded = 0;
  const flush = async (): Promise<void> => {
    for (const [topic, records] of byTopic) await producer.send(topic, records);
    byTopic.clear();
  };
  for (const line of generateNexmarkLines({ events, seed: Number(a.seed ?? 1), malformedShare: 0, duplicateShare: 0, blankShare: 0, lateShare: 0, oversized: false })) {
    const record = JSON.parse(line) as Record<string, unknown>;
    const topic = nexmark.topicOf!(record);
    let batch = byTopic.get(topic);
    if (!batch) byTopic.set(topic, (batch = []));
    batch.push({ key: nexmark.keyOf(record), value: line, timestamp: nexmark.timestampOf(record) });
    if (++loaded % 10_000 === 0) await flush();
  }
  await flush();
  process.stderr.write(`${label}: loaded ${loaded} events into the MemoryLog in ${((performance.now() - loadStart) / 1000).toFixed(1)} s\n`);

  let outputs = 0;
  let late = 0;
  const sinks: Record<string, Sink<unknown>> = { late: toFunction('late', (items) => void (late += items.length)) };
  for (const output of NEXMARK_OUTPUTS) sinks[output] = toFunction(output, (items) => void (output === query ? (outputs += items.length) : undefined));
  const app = createTributary({
    log,
    logger: createLogger({ level: 'warn' }),
    processors: nexmarkQueryProcessors({ prefix: '', inputTopic: NEXMARK_TOPICS.bid, partitions, outOfOrdernessMs: 5_000, sinks }, [query]),
  });
  let failures = 0;
  app.lifecycle.subscribe((event) => {
    if (event.type === 'partition.failed') failures++;
  });
  global.gc?.();
  const startUs = Number(process.hrtime.bigint() / 1000n);
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  await app.start();
  await app.finishInput({ timeoutMs: 600_000 });
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - started) / 1000;
  const endUs = Number(process.hrtime.bigint() / 1000n);
  if (failures > 0) throw new Error(`${label}: ${failures} partition failures`);
  const total = process.cpuUsage();
  await report(
    {
      label,
      records: loaded,
      firstBatchRecords: 0,
      seconds,
      totalSeconds: seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      cpuUserSeconds: cpu.user / 1e6,
      cpuSystemSeconds: cpu.system / 1e6,
      processCpuSeconds: (total.user + total.system) / 1e6,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      windowStartUs: startUs,
      windowEndUs: endUs,
      extra: { outputs, late },
    },
    () => app.stop(),
  );
});
